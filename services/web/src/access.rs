//! Access: what every route needs ([`Permission`]), who is asking ([`Principal`]), and the guard that checks one
//! against the other on every request, keeps forms safe from cross-site forgery and writes the audit trail.
//!
//! Routes are declared through [`Routes`], which keeps each path's permission beside it. The guard looks the
//! matched path up in the table of every declared route: a path missing from it is refused (fail closed), and
//! `tests/access.rs` walks the whole table as every role. See `docs/adr/0007-access-and-audit.md`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use axum::Json;
use casetrack_eventstore::command::stages::{self, Stage};
use casetrack_proto::audit::{AccessDecision, AccessRecorded, AuditEvent, LateEntry};
use casetrack_proto::{Actor, CommandId, EventId, PersonId, Role, StreamId};
use maud::{Markup, html};

use crate::accounts::{self, SessionPolicy};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
pub use crate::principal::{
    CSRF_FIELD, CSRF_HEADER, PASSWORD_PATH, Principal, SESSION_COOKIE, SIGN_IN_PATH, acting, as_account, csrf_field,
    current,
};
pub use crate::routes::{Permission, PersonLookup, RecordArea, RouteRule, Routes};
use crate::service::Context;
use casetrack_eventstore::log::{AppendRequest, ExpectedVersion, NewEvent};

tokio::task_local! {
    /// Whom the record the request works on is about, as its handler read it from the record ([`concerns`]).
    static CONCERNING: Arc<std::sync::Mutex<Option<PersonId>>>;
}

/// Tells the audit trail whom the record this request works on is about, as the handler read it from the record
/// itself (a referral's or a case's events): exact, and with no look-up in a read model that may be a batch behind
/// the log (a command on a referral received a moment ago waited up to half a second for it). Outside a request
/// (an import, a reactor) it does nothing.
pub fn concerns(person: PersonId) {
    let _ = CONCERNING.try_with(|slot| *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(person));
}

/// How long a break-glass grant lasts.
pub const BREAK_GLASS_TTL: Duration = Duration::from_secs(30 * 60);

/// The area of `record`, from the first lookup that knows it.
async fn area_of(ctx: &Context, areas: &[RecordArea], record: &str) -> sqlx::Result<Option<String>> {
    for area in areas {
        let found: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(area.sql)).bind(record).fetch_optional(ctx.db.pool()).await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// What the guard needs: the declared routes, how to find a record's person, and the session policy.
pub struct Guard {
    ctx: Context,
    rules: HashMap<String, RouteRule>,
    lookups: Vec<PersonLookup>,
    policy: SessionPolicy,
    /// The person behind each record id already looked up: a referral's or a case's person never changes, and a
    /// look-up per audited request was a database round trip on every command (issue 27).
    people: std::sync::Mutex<HashMap<(String, String), PersonId>>,
}

/// Past this many remembered records, the guard forgets them all and starts again (a bound, not an LRU: looking a
/// record up again costs one query).
const PEOPLE_REMEMBERED: usize = 100_000;

impl Guard {
    pub fn new(ctx: Context, rules: Vec<RouteRule>, lookups: Vec<PersonLookup>, policy: SessionPolicy) -> Self {
        let rules = rules.into_iter().map(|rule| (rule.path.clone(), rule)).collect();
        Self { ctx, rules, lookups, policy, people: Default::default() }
    }

    /// [`Guard::person_of`], asked again for up to about two seconds while the read models catch up with the log
    /// (for a record known to exist: one a command has just succeeded on).
    async fn person_of_soon(&self, params: &[(String, String)]) -> Option<PersonId> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut pause = std::time::Duration::from_millis(10);
        loop {
            if let Some(person) = self.person_of(params).await {
                return Some(person);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
    }

    async fn person_of(&self, params: &[(String, String)]) -> Option<PersonId> {
        for (name, value) in params {
            let key = (name.clone(), value.clone());
            if let Some(person) = self.people.lock().expect("not poisoned").get(&key) {
                return Some(*person);
            }
            if let Some(lookup) = self.lookups.iter().find(|l| l.param == name) {
                let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(lookup.sql))
                    .bind(value)
                    .fetch_optional(self.ctx.db.pool())
                    .await
                    .ok()
                    .flatten();
                if let Some(id) = found.and_then(|id| id.parse().ok()) {
                    // Only what was found is remembered: a record not in the read model yet is looked up again.
                    let mut people = self.people.lock().expect("not poisoned");
                    if people.len() >= PEOPLE_REMEMBERED {
                        people.clear();
                    }
                    people.insert(key, PersonId(id));
                    return Some(PersonId(id));
                }
            }
        }
        None
    }
}

/// The session token from the request's cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The `Set-Cookie` value for a new session. Secure unless the request reached a loopback name over plain HTTP
/// (a small office's machine, where browsers treat http://localhost as secure anyway).
pub fn session_cookie(token: &str, headers: &HeaderMap) -> String {
    let secure = if served_over_tls(headers) || !loopback_host(headers) { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request came over TLS, as the reverse proxy in front says (`X-Forwarded-Proto: https`).
pub fn served_over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn loopback_host(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(name, port)| if port.contains(']') { host } else { name });
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// A request a browser says came from another site: `Sec-Fetch-Site` other than same-origin (or none, a typed
/// address), or an `Origin` naming another host. An `Origin` of "null" proves nothing: browsers send it for our own
/// forms, because pages are served with `Referrer-Policy: no-referrer`.
fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    let Some(origin) = header(header::ORIGIN.as_str()).filter(|o| *o != "null") else { return false };
    let host = header(header::HOST.as_str()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin_host != host
}

fn is_command(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A page or an API refusal, in the form the caller reads.
fn refusal(api: bool, status: StatusCode, code: &'static str, message: &str, page: Option<Markup>) -> Response {
    if api {
        let body = ErrorBody { error: ErrorDetail { code: code.into(), message: message.into() } };
        return (status, Json(body)).into_response();
    }
    let content = page.unwrap_or_else(|| html! { p.govuk-body { (message) } });
    crate::pages::respond(
        status,
        crate::pages::staff_page(
            "You cannot open this",
            html! {
                h1.govuk-heading-l { "You cannot open this" }
                (content)
                p.govuk-body { a.govuk-link href="/" { "Go to your home page" } }
            },
        ),
    )
}

fn break_glass_offer(area: &str, record: &str, return_to: &str) -> Markup {
    html! {
        p.govuk-body { "This record belongs to a service outside your role. Open it only if a person's safety or "
            "their support depends on it now." }
        form method="post" action="/break-glass" novalidate {
            (csrf_field())
            input type="hidden" name="area" value=(area);
            input type="hidden" name="record" value=(record);
            input type="hidden" name="return_to" value=(return_to);
            div.govuk-form-group {
                label.govuk-label for="reason" { "Why do you need to open it?" }
                div.govuk-hint { "Your reason, your name and every page you open are recorded and shown to the "
                    "service's manager. Access lasts 30 minutes." }
                textarea.govuk-textarea #reason name="reason" rows="3" {}
            }
            button.govuk-button.govuk-button--warning type="submit" { "Open the record and record my reason" }
        }
    }
}

/// The guard, run on every request after routing (so the matched path is known).
pub async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(route) = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        // No route matched: the 404 fallback.
        return next.run(request).await;
    };
    let api = route.starts_with("/api/");
    let Some(rule) = guard.rules.get(&route) else {
        tracing::error!(route, "refused a request to a route that declares no permission");
        return refusal(
            api,
            StatusCode::FORBIDDEN,
            "no_permission_declared",
            "This address is not open to anyone.",
            None,
        );
    };
    let method = request.method().clone();
    let command = is_command(&method);
    let (mut parts, body) = request.into_parts();
    let params: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map(|raw| raw.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect())
        .unwrap_or_default();
    let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
    if command && cross_site(&parts.headers) {
        return refusal(api, StatusCode::FORBIDDEN, "cross_site", "A form from another site was refused.", None);
    }
    let session_started = std::time::Instant::now();
    let principal = match session_token(&parts.headers) {
        Some(token) => match crate::sessions::resume_session(&guard.ctx.db, &token, guard.policy).await {
            Ok(found) => found.map(|(account, csrf)| Arc::new(Principal { account, csrf })),
            Err(error) => return ApiError::unavailable(error).into_response(),
        },
        None => None,
    };
    stages::since(Stage::Session, session_started);
    if rule.permission == Permission::Public {
        let request = Request::from_parts(parts, body);
        return crate::principal::CURRENT.scope(principal, next.run(request)).await;
    }
    let Some(principal) = principal else {
        if api {
            return refusal(api, StatusCode::UNAUTHORIZED, "signed_out", "Sign in first.", None);
        }
        let next_path = if method == Method::GET { parts.uri.path() } else { "/" };
        let target =
            format!("{SIGN_IN_PATH}?{}", serde_urlencoded::to_string([("next", next_path)]).unwrap_or_default());
        return crate::pages::see_other(&target);
    };
    if principal.account.must_change_password && route != PASSWORD_PATH && route != "/sign-out" {
        if api {
            return refusal(
                api,
                StatusCode::FORBIDDEN,
                "password_change_required",
                "Choose your own password first.",
                None,
            );
        }
        return crate::pages::see_other(PASSWORD_PATH);
    }
    let service = params.iter().find(|(name, _)| name == "service").map(|(_, value)| value.as_str());
    let record = params.iter().find(|(name, _)| name == "referral_id" || name == "case_id").map(|(_, v)| v.clone());
    let mut decision = AccessDecision::Allowed;
    let mut reason = None;
    let breakable =
        !command && rule.person_level && record.is_some() && rule.permission.breakable(&principal.account.role);
    if !rule.permission.allows(&principal.account.role, service) {
        decision = AccessDecision::Refused;
        if breakable && let Some(record) = &record {
            match crate::grants::live_grant(&guard.ctx.db, principal.account.account_id, record).await {
                Ok(Some(given)) => {
                    decision = AccessDecision::BreakGlass;
                    reason = Some(given);
                }
                Ok(None) => {}
                Err(error) => return ApiError::unavailable(error).into_response(),
            }
        }
    }
    let audited = command || rule.person_level;
    let entry = |status: u16, decision: AccessDecision, person_id: Option<PersonId>, late_entry| AccessRecorded {
        user_id: Some(principal.account.account_id),
        username: Some(principal.account.username.as_str().to_owned()),
        role: Some(principal.account.role.clone()),
        method: method.as_str().to_owned(),
        route: route.clone(),
        records: params.iter().cloned().collect::<BTreeMap<_, _>>(),
        person_id,
        address: address.clone(),
        decision,
        status,
        break_glass_reason: reason.clone(),
        late_entry,
    };
    if decision == AccessDecision::Refused {
        let person_id = if audited { guard.person_of(&params).await } else { None };
        if audited && let Err(error) = record_access(&guard.ctx, entry(403, decision, person_id, None)).await {
            tracing::error!(error = %format!("{error:#}"), route, "could not write a refusal to the audit trail");
        }
        let message = if rule.permission == Permission::ServiceWork || rule.permission == Permission::ServiceManagement
        {
            "This belongs to a service your account does not work in."
        } else {
            "Your role does not include this."
        };
        // Rendered as the signed-in user, so that the page's forms carry their CSRF token.
        let page = || {
            let offer = (breakable && !api).then(|| {
                let area = service.unwrap_or("hub");
                break_glass_offer(area, record.as_deref().unwrap_or_default(), parts.uri.path())
            });
            refusal(api, StatusCode::FORBIDDEN, "not_permitted", message, offer)
        };
        return crate::principal::CURRENT.sync_scope(Some(principal.clone()), page);
    }
    let body = if command {
        match check_csrf(&parts.headers, body, &principal.csrf).await {
            Ok(body) => body,
            Err(response) => return response,
        }
    } else {
        body
    };
    let request = Request::from_parts(parts, body);
    // A command sent with an `Idempotency-Key` runs under it: sent again after a lost answer, it writes nothing
    // twice. Keys are the user's own: the same key from two users names two requests.
    // (A view has nothing to repeat: its key, if any, is not read.)
    let key = match command.then(|| idempotency_key(&request, principal.account.account_id)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(key))) => Some(key),
        Some(Err(message)) => {
            return refusal(api, StatusCode::BAD_REQUEST, "idempotency_key_invalid", message, None);
        }
    };
    let concerning = Arc::new(std::sync::Mutex::new(None));
    let handled = CONCERNING
        .scope(concerning.clone(), crate::principal::CURRENT.scope(Some(principal.clone()), next.run(request)));
    let handled = async {
        match key {
            Some(key) => casetrack_eventstore::command::idempotent(key, handled).await,
            None => handled.await,
        }
    };
    // The person of a record that exists already is looked up while the handler works (a record's person never
    // changes), so that the audit entry waits for no look-up of its own; one just made is looked up after.
    let early = async { if audited && record.is_some() { guard.person_of(&params).await } else { None } };
    let (response, early) = tokio::join!(handled, early);
    if audited {
        let audit_started = std::time::Instant::now();
        let status = response.status().as_u16();
        let decision = if status == 403 { AccessDecision::Refused } else { decision };
        // Looked up after the handler, which waited for its read model when asked to. A record the handler has just
        // worked on (it succeeded, so the record is in the log) that the read model does not hold yet (a referral
        // received a moment ago, its projection a batch behind) is waited for, a little: an entry without its
        // person could not be found by an auditor searching for that person.
        // The handler's own word first: it read the record itself ([`concerns`]).
        let concerned = *concerning.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let person_id = match concerned.or(early) {
            Some(person) => Some(person),
            None if record.is_some() && response.status().is_success() => guard.person_of_soon(&params).await,
            None => guard.person_of(&params).await,
        };
        stages::since(Stage::AuditLookup, audit_started);
        let audit_started = std::time::Instant::now();
        // A command that dated its fact beyond the back-dating window says so on its response ([`late_entry`]).
        let late_entry = response.extensions().get::<LateEntry>().cloned();
        if let Err(error) = record_access(&guard.ctx, entry(status, decision, person_id, late_entry)).await {
            tracing::error!(error = %format!("{error:#}"), route, "could not write to the audit trail");
            if !command {
                // A view that cannot be recorded is not shown. (A command is already in the case history, with
                // its actor, in the event it wrote.)
                return ApiError::unavailable(error).into_response();
            }
        }
        stages::since(Stage::Audit, audit_started);
    }
    if command {
        stages::since(Stage::Request, session_started);
    }
    response
}

/// The header a client sends with a command it may send again: any text of up to 255 visible characters (a UUID
/// is usual), unique per command to the client.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The request's idempotency key, made the user's own (a UUIDv5 of the key under the user's id).
fn idempotency_key(request: &Request, user: casetrack_proto::UserId) -> Result<Option<uuid::Uuid>, &'static str> {
    let Some(value) = request.headers().get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let text = value.to_str().map_err(|_| "The Idempotency-Key header must be visible ASCII text.")?;
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("The Idempotency-Key header must be 1 to 255 visible characters, such as a UUID.");
    }
    Ok(Some(uuid::Uuid::new_v5(&user.0, text.as_bytes())))
}

/// `POST /break-glass`: a user who works cases opens a record outside their scope, giving a reason. The grant
/// lasts [`BREAK_GLASS_TTL`], is listed for the record's manager, and every view under it is flagged in the trail.
pub async fn break_glass(ctx: Context, areas: Arc<[RecordArea]>, form: crate::pages::FormData) -> Response {
    let Some(principal) = current() else { return crate::pages::see_other(SIGN_IN_PATH) };
    let (record, return_to, reason) = (form.get("record"), form.get("return_to"), form.get("reason"));
    let valid_return = crate::pages::local_path(return_to).is_some() && return_to.contains(record);
    let refused =
        || refusal(false, StatusCode::FORBIDDEN, "not_permitted", "Your role cannot open records outside it.", None);
    if !Permission::Casework.allows(&principal.account.role, None)
        || record.is_empty()
        || uuid::Uuid::parse_str(record).is_err()
        || !valid_return
    {
        return refused();
    }
    // The area is the record's own (a form's `area` field is not read): the grant is listed for that manager.
    let area = match area_of(&ctx, &areas, record).await {
        Ok(Some(area)) => area,
        Ok(None) => return refused(),
        Err(error) => return crate::pages::failure_page(&ApiError::unavailable(error)),
    };
    let area = area.as_str();
    match crate::grants::grant_break_glass(&ctx.db, &principal.account, area, record, reason, BREAK_GLASS_TTL).await {
        Ok(()) => crate::pages::see_other(return_to),
        Err(accounts::AccountFailure::Refused(refused)) => {
            let page = html! {
                div.app-error-summary role="alert" { p { (refused.to_string()) } }
                (break_glass_offer(area, record, return_to))
            };
            refusal(false, StatusCode::UNPROCESSABLE_ENTITY, "reason_needed", "", Some(page))
        }
        Err(accounts::AccountFailure::Database(error)) => crate::pages::failure_page(&ApiError::unavailable(error)),
    }
}

/// Checks a command's CSRF token: the `x-csrf-token` header (API calls), or the `csrf` field of a form (the body is
/// read, checked and handed on unchanged).
async fn check_csrf(headers: &HeaderMap, body: Body, expected: &str) -> Result<Body, Response> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let refused = |api_call: bool| {
        refusal(
            api_call,
            StatusCode::FORBIDDEN,
            "csrf",
            "This form has expired or did not come from Casetrack. Go back, refresh the page and try again; nothing \
             was saved.",
            None,
        )
    };
    if let Some(token) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(token, expected) { Ok(body) } else { Err(refused(true)) };
    }
    // Only an upload (multipart) may be large; any other form is held to the ordinary limit.
    let limit = if content_type.starts_with("multipart/form-data") {
        crate::error::UPLOAD_LIMIT
    } else {
        crate::error::BODY_LIMIT
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| refusal(false, StatusCode::PAYLOAD_TOO_LARGE, "too_large", "What was sent is too large.", None))?;
    let token = if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(name, _)| name == CSRF_FIELD).map(|(_, value)| value))
    } else if content_type.starts_with("multipart/form-data") {
        multipart_field(&content_type, bytes.clone(), CSRF_FIELD).await
    } else {
        None
    };
    let form = !content_type.starts_with("application/json");
    match token {
        Some(token) if constant_time_eq(&token, expected) => Ok(Body::from(bytes)),
        _ => Err(refused(!form)),
    }
}

async fn multipart_field(content_type: &str, bytes: bytes::Bytes, wanted: &str) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(wanted) {
            return field.text().await.ok();
        }
    }
    None
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Records something done outside a request (a `casetrack admin` command, the retention job) in the audit trail:
/// `what` names it (`casetrack admin erase-person`), `records` the ids it touched. The operator at the command line
/// is known only as the machine's, so the role is Casetrack itself.
pub async fn record_offline(
    ctx: &Context,
    what: &str,
    records: BTreeMap<String, String>,
    person_id: Option<PersonId>,
    succeeded: bool,
) -> anyhow::Result<()> {
    record_access(
        ctx,
        AccessRecorded {
            user_id: None,
            username: None,
            role: Some(Role::System),
            method: "RUN".into(),
            route: what.to_owned(),
            records,
            person_id,
            address: None,
            decision: AccessDecision::Allowed,
            status: if succeeded { 200 } else { 500 },
            break_glass_reason: None,
            late_entry: None,
        },
    )
    .await
}

/// Marks a command's response as a late entry (its fact dated further back than the back-dating window, with the
/// reason given), so that the guard flags it in the audit trail.
pub fn late_entry<R: IntoResponse>(response: R, days: i64, reason: &str) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(LateEntry { days, reason: reason.to_owned() });
    response
}

/// Appends one entry to the audit trail, on a stream of its own (`audit.entry.<entry id>`).
///
/// Entries need no ordering check against each other: each is a fact on its own, and the trail is ordered by log
/// position. So no two appends ever contend for one stream (an earlier design kept a user's day on one stream, and
/// under 32 concurrent requests a tenth of the entries lost their races and were never written). The entry's id is
/// also the command id, so an append retried after a lost acknowledgement is stored once.
pub async fn record_access(ctx: &Context, entry: AccessRecorded) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let actor = match (&entry.user_id, &entry.role) {
        (Some(user_id), Some(role)) => Actor::user(*user_id, role.clone()),
        _ => Actor { user_id: None, role: Role::Public },
    };
    let event = AuditEvent::AccessRecorded(entry);
    let id = uuid::Uuid::now_v7();
    let request = AppendRequest {
        stream: StreamId::new("audit", "entry", id)?,
        expected: ExpectedVersion::Exact(0),
        command_id: CommandId(id),
        actor,
        correlation_id: id,
        causation_id: id,
        events: vec![NewEvent::from_contract(EventId(id), now, &event)],
    };
    // A server that is briefly away (a cluster electing a leader) is waited for: an entry is never given up on the
    // first failure.
    let mut waited = std::time::Duration::from_millis(50);
    for _ in 0..AUDIT_RETRIES {
        match ctx.audit.append(request.clone()).await {
            Ok(_) => return Ok(()),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "retrying an audit entry"),
        }
        tokio::time::sleep(waited).await;
        waited *= 2;
    }
    ctx.audit.append(request).await?;
    Ok(())
}

/// How many times an audit entry is retried before its request fails (about 1.5 s of waiting in all).
const AUDIT_RETRIES: usize = 5;

#[cfg(test)]
mod tests {
    use casetrack_proto::ServiceCode;

    use super::*;

    #[test]
    fn a_caseworker_reaches_their_own_service_only() {
        let idva = Role::Caseworker(ServiceCode::parse("idva").unwrap());
        assert!(Permission::ServiceWork.allows(&idva, Some("idva")));
        assert!(!Permission::ServiceWork.allows(&idva, Some("isva")));
        assert!(!Permission::ServiceManagement.allows(&idva, Some("idva")));
        assert!(!Permission::HubWork.allows(&idva, None));
        assert!(Permission::Casework.allows(&idva, None));
    }

    #[test]
    fn a_commissioner_sees_figures_and_nothing_of_a_person() {
        let role = Role::Commissioner;
        assert!(Permission::Figures.allows(&role, None));
        for permission in [
            Permission::Casework,
            Permission::HubWork,
            Permission::ServiceWork,
            Permission::Audit,
            Permission::Accounts,
        ] {
            assert!(!permission.allows(&role, Some("idva")), "{permission:?}");
        }
        assert!(!Permission::HubWork.breakable(&role));
    }

    #[test]
    fn forged_origins_are_cross_site() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "casetrack.example:443".parse().unwrap());
        assert!(!cross_site(&headers), "no Origin: a same-site navigation or a program");
        headers.insert(header::ORIGIN, "https://casetrack.example:443".parse().unwrap());
        assert!(!cross_site(&headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_site(&headers));
        headers.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!cross_site(&headers), "our own forms, sent under no-referrer");
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(!cross_site(&headers));
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(cross_site(&headers));
    }

    #[test]
    fn cookies_are_secure_except_on_a_loopback_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(!session_cookie("t", &headers).contains("Secure"));
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(session_cookie("t", &headers).contains("Secure"));
        let mut remote = HeaderMap::new();
        remote.insert(header::HOST, "casetrack.example".parse().unwrap());
        let cookie = session_cookie("t", &remote);
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    }
}
