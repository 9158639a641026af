//! Access, sessions and the audit trail, against the real binary:
//!
//! - every declared route, called as every role and signed out, answers as the permission table says (and every
//!   path of the API document is a declared route);
//! - sessions: signed-out callers are refused or sent to sign in; sign-out, a disabled account and an idle
//!   session end access; repeated wrong passwords lock the account for a while; commands need the session's CSRF
//!   token and are refused from another site; security headers;
//! - the audit trail (on JetStream and PostgreSQL, in its own stream): a hub officer's view, a commissioner's
//!   refusal, a caseworker's break-glass with its reason, found by the auditor by person and by user, and exported.

mod support;

use std::collections::BTreeMap;

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::allocate::AllocationRequest;
use casetrack_hub::commands::contact::{ContactAttemptRequest, ReasonRequest};
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::safe_contact::SafeContactRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_people::RegisterPersonRequest;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, SafeContact, Safety};
use casetrack_proto::hub::ReferralSource;
use casetrack_specialist::commands::casework::{NoteRequest, TextRequest};
use casetrack_specialist::commands::decision::Accept;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use support::{
    ADMIN_PASSWORD, Server, Session, api, create_account, get, post, request, session, sign_in, split_backends,
};

/// The roles the walk signs in as. Paths name the IDVA service, so `caseworker:isva` is a caseworker of another
/// service.
const ROLES: &[&str] = &[
    "hub_officer",
    "hub_manager",
    "caseworker:idva",
    "caseworker:isva",
    "service_manager:idva",
    "commissioner",
    "auditor",
    "administrator",
];

/// Who each permission lets in, for paths of the IDVA service: the one table the walk checks against. A change to
/// who may do what must change this table too.
fn allowed(permission: &str) -> &'static [&'static str] {
    match permission {
        "public" | "signed_in" => ROLES,
        "casework" => &["hub_officer", "hub_manager", "caseworker:idva", "caseworker:isva", "service_manager:idva"],
        "hub_work" => &["hub_officer", "hub_manager"],
        "hub_management" => &["hub_manager"],
        "service_work" => &["caseworker:idva", "service_manager:idva"],
        "service_management" => &["service_manager:idva"],
        "figures" => &["commissioner", "hub_manager", "service_manager:idva"],
        "audit" => &["auditor"],
        "accounts" => &["administrator"],
        other => panic!("permission {other} is not in the walk's table: add who it lets in"),
    }
}

/// A concrete path for a declared one: placeholders filled with the IDVA service, a queue, an action and ids of
/// records that do not exist (the walk is about who may ask, not what is there).
fn concrete(path: &str) -> String {
    let mut out = path.to_owned();
    for (placeholder, value) in [
        ("{service}", "idva"),
        ("{queue}", "new-referrals"),
        ("{action}", "accept"),
        ("{referral_id}", "0193a1b2-c3d4-7e5f-8a9b-000000000001"),
        ("{case_id}", "0193a1b2-c3d4-7e5f-8a9b-000000000002"),
        ("{person_id}", "0193a1b2-c3d4-7e5f-8a9b-000000000003"),
        ("{other_person_id}", "0193a1b2-c3d4-7e5f-8a9b-000000000004"),
        ("{account_id}", "0193a1b2-c3d4-7e5f-8a9b-000000000005"),
        ("{file}", "govuk-frontend.min.css"),
    ] {
        out = out.replace(placeholder, value);
    }
    assert!(!out.contains('{'), "the walk does not know a placeholder of {path}");
    out
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// A raw answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: String,
    headers: reqwest::header::HeaderMap,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let location = headers.get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    Answer { status, location, body: response.text().await.unwrap(), headers }
}

/// A page as someone signed in (or not).
async fn page(base: &str, path: &str, session: Option<&Session>) -> Answer {
    let mut request = client().get(format!("{base}{path}"));
    if let Some(session) = session {
        request = request.header("cookie", &session.cookie);
    }
    send(request).await
}

/// A form posted as someone signed in, with their CSRF token.
async fn form(base: &str, path: &str, session: &Session, fields: &[(&str, &str)]) -> Answer {
    let mut fields = fields.to_vec();
    fields.push(("csrf", &session.csrf));
    send(client().post(format!("{base}{path}")).header("cookie", &session.cookie).form(&fields)).await
}

fn refused(answer: &Answer, signed_in: bool, api: bool) -> bool {
    match (signed_in, api) {
        (true, _) => answer.status == 403,
        (false, true) => answer.status == 401,
        (false, false) => answer.status == 303 && answer.location.starts_with("/sign-in"),
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_permission_table_says() {
    let data = TempDir::new();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(["admin", "routes", "--data-dir"])
        .arg(data.path().join("routes"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let routes: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(routes.len() > 60, "every service's routes are declared: {}", routes.len());
    let server = Server::start("all", data.path(), &[]).await;
    let base = &server.base;

    // Every path of the API document is a declared route (a route added beside the declarations is refused to
    // everyone by the guard, and named here).
    let (_, openapi) = request(reqwest::Method::GET, &format!("{base}/api/openapi.json"), None, None).await;
    let declared: Vec<&str> = routes.iter().map(|r| r["path"].as_str().unwrap()).collect();
    for path in openapi["paths"].as_object().unwrap().keys() {
        assert!(declared.contains(&path.as_str()), "{path} is in the API document but declares no permission");
    }

    // What no declaration may get wrong: a page or API answer that shows a person is never open to a
    // commissioner, an auditor or an administrator, and a path naming a record shows a person.
    for route in &routes {
        let path = route["path"].as_str().unwrap();
        let permission = route["permission"].as_str().unwrap();
        let names_record = ["{referral_id}", "{case_id}", "{person_id}"].iter().any(|p| path.contains(p));
        if path.ends_with("{referral_id}") || path.ends_with("{case_id}") {
            assert!(
                route["person_level"].as_bool().unwrap(),
                "{path} shows a person's record: declare it person-level"
            );
        }
        if route["person_level"].as_bool().unwrap() || names_record {
            for role in ["commissioner", "auditor", "administrator"] {
                assert!(!allowed(permission).contains(&role), "{path} ({permission}) would show a person to {role}");
            }
        }
    }
    assert_eq!(
        routes.iter().find(|r| r["path"] == "/api/reporting/summary").unwrap()["permission"],
        "figures",
        "the figures are the commissioner's"
    );

    let mut sessions = BTreeMap::new();
    for role in ROLES {
        sessions.insert(*role, session(base, role).await);
    }
    let mut mismatches = Vec::new();
    let mut calls = 0;
    for route in &routes {
        let path = route["path"].as_str().unwrap();
        let permission = route["permission"].as_str().unwrap();
        let url = format!("{base}{}", concrete(path));
        let api = path.starts_with("/api/");
        // Signing out would end the walk's own sessions.
        let methods: &[reqwest::Method] = if path == "/sign-out" || path == "/api/session/end" {
            &[reqwest::Method::GET]
        } else {
            &[reqwest::Method::GET, reqwest::Method::POST]
        };
        for method in methods {
            for role in ROLES.iter().map(Some).chain([None]) {
                let mut request = client().request(method.clone(), &url);
                if let Some(role) = role {
                    let session = &sessions[role];
                    request = request.header("cookie", &session.cookie).header("x-csrf-token", &session.csrf);
                }
                if *method == reqwest::Method::POST {
                    // One body for every route, on purpose untyped: the walk asks who may call a route, not whether
                    // a request is good, so no route's own request type would do for all of them.
                    request = request.json(&json!({}));
                }
                let answer = send(request).await;
                calls += 1;
                let expected_allowed = match role {
                    Some(role) => allowed(permission).contains(role),
                    None => permission == "public",
                };
                let was_refused = refused(&answer, role.is_some(), api);
                if expected_allowed == was_refused || (expected_allowed && answer.status == 401) {
                    mismatches.push(format!(
                        "{method} {path} ({permission}) as {}: {} {}",
                        role.unwrap_or(&"signed out"),
                        answer.status,
                        answer.location
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {calls} calls answered against the table:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    server.stop();
}

#[tokio::test]
async fn sessions_sign_in_limits_csrf_and_headers() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = &server.base;

    // Signed out: the API answers 401, a page sends the visitor to sign in and back.
    let (status, body) =
        request(reqwest::Method::GET, &format!("{base}/api/hub/queues/new-referrals"), None, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("signed_out")));
    let hub = page(base, "/hub/queues/new-referrals", None).await;
    assert_eq!((hub.status, hub.location.as_str()), (303, "/sign-in?next=%2Fhub%2Fqueues%2Fnew-referrals"));

    // The sign-in page signs in and goes back where the visitor was going; the cookie is HttpOnly and SameSite.
    create_account(base, "r.patel", "Ruth Patel", "hub_officer", Some("a long enough password")).await;
    let signed = send(client().post(format!("{base}/sign-in")).form(&[
        ("username", "r.patel"),
        ("password", "a long enough password"),
        ("next", "/hub/queues/new-referrals"),
    ]))
    .await;
    assert_eq!((signed.status, signed.location.as_str()), (303, "/hub/queues/new-referrals"));
    let cookie = signed.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let officer = Session {
        cookie: cookie.split(';').next().unwrap().to_owned(),
        csrf: String::new(), // read from the page below
    };
    let queue = page(base, "/hub/queues/new-referrals", Some(&officer)).await;
    assert_eq!(queue.status, 200);
    let csrf = queue.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let officer = Session { csrf, ..officer };
    // An open redirect is not followed: only this site's paths.
    let elsewhere = send(client().post(format!("{base}/sign-in")).form(&[
        ("username", "r.patel"),
        ("password", "a long enough password"),
        ("next", "//evil.example/"),
    ]))
    .await;
    assert_eq!((elsewhere.status, elsewhere.location.as_str()), (303, "/"));

    // Commands need the session's CSRF token, and are refused from another site even with it.
    let person = api::person("Ann", "Other", "1990-01-01");
    let url = format!("{base}/api/people");
    let no_token = send(client().post(&url).header("cookie", &officer.cookie).json(&person)).await;
    assert_eq!(no_token.status, 403);
    assert!(no_token.body.contains("\"csrf\""), "{}", no_token.body);
    let wrong =
        send(client().post(&url).header("cookie", &officer.cookie).header("x-csrf-token", "forged").json(&person))
            .await;
    assert_eq!(wrong.status, 403);
    let cross_site = send(
        client()
            .post(&url)
            .header("cookie", &officer.cookie)
            .header("x-csrf-token", &officer.csrf)
            .header("origin", "https://evil.example")
            .json(&person),
    )
    .await;
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.body.contains("cross_site"), "{}", cross_site.body);
    let forged_form = send(
        client()
            .post(format!("{base}/hub/intake/call"))
            .header("cookie", &officer.cookie)
            .form(&[("first-name", "Ann")]),
    )
    .await;
    assert_eq!(forged_form.status, 403, "a page form without the token");
    let with_token =
        send(client().post(&url).header("cookie", &officer.cookie).header("x-csrf-token", &officer.csrf).json(&person))
            .await;
    assert_eq!(with_token.status, 201, "{}", with_token.body);

    // Security headers on every answer; HSTS only when the proxy says the request came over TLS.
    let headers = &queue.headers;
    let csp = headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(headers.get("strict-transport-security").is_none());
    let over_tls = send(client().get(format!("{base}/sign-in")).header("x-forwarded-proto", "https")).await;
    assert!(over_tls.headers.get("strict-transport-security").is_some());
    assert!(over_tls.headers.get("set-cookie").is_none(), "no session before signing in");

    // Five wrong passwords lock the account for the window, even against the right one.
    for _ in 0..5 {
        assert_eq!(sign_in(base, "r.patel", "not the password at all").await.unwrap_err().0, 401);
    }
    let (status, body) = sign_in(base, "r.patel", "a long enough password").await.unwrap_err();
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_attempts")));
    // Sessions already open stay open.
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&officer)).await.status, 200);

    // Signing out ends the session; disabling an account ends its sessions.
    let again = sign_in(base, "admin", ADMIN_PASSWORD).await.unwrap();
    let out = send(
        client()
            .post(format!("{base}/sign-out"))
            .header("cookie", &again.cookie)
            .form(&[("csrf", again.csrf.as_str())]),
    )
    .await;
    assert_eq!((out.status, out.location.as_str()), (303, "/sign-in"));
    assert_eq!(page(base, "/admin/accounts", Some(&again)).await.status, 303);
    let admin = sign_in(base, "admin", ADMIN_PASSWORD).await.unwrap();
    let worker = {
        let created =
            create_account(base, "s.leaver", "Sam Leaver", "commissioner", Some("another long password")).await;
        (
            created["account_id"].as_str().unwrap().to_owned(),
            sign_in(base, "s.leaver", "another long password").await.unwrap(),
        )
    };
    assert_eq!(page(base, "/figures", Some(&worker.1)).await.status, 200);
    let disabled = form(base, &format!("/admin/accounts/{}/disable", worker.0), &admin, &[]).await;
    assert_eq!(disabled.status, 303);
    let ended = page(base, "/figures", Some(&worker.1)).await;
    assert_eq!(
        (ended.status, ended.location.as_str()),
        (303, "/sign-in?next=%2Ffigures"),
        "a disabled account's session ended"
    );
    assert_eq!(sign_in(base, "s.leaver", "another long password").await.unwrap_err().0, 401);
    // An idle session ends: its last request an hour ago.
    let idle = session(base, "auditor").await;
    assert_eq!(page(base, "/audit", Some(&idle)).await.status, 200);
    let db =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", data.path().join("casetrack.db").display())).await.unwrap();
    sqlx::query("UPDATE sessions SET last_seen = last_seen - 3600").execute(&db).await.unwrap();
    // A session checked within the last second is answered from the process's cache (sessions::CACHE_FOR): the
    // hour made up above must be seen by the database's check.
    tokio::time::sleep(casetrack_web::sessions::CACHE_FOR).await;
    let expired = page(base, "/audit", Some(&idle)).await;
    assert_eq!((expired.status, expired.location.starts_with("/sign-in")), (303, true));
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&officer)).await.status, 303, "every idle session ended");

    // However busy, a session ends ten hours after signing in.
    let busy = sign_in(base, "admin", ADMIN_PASSWORD).await.unwrap();
    assert_eq!(page(base, "/admin/accounts", Some(&busy)).await.status, 200);
    sqlx::query("UPDATE sessions SET created_at = created_at - 11 * 3600").execute(&db).await.unwrap();
    tokio::time::sleep(casetrack_web::sessions::CACHE_FOR).await;
    assert_eq!(page(base, "/admin/accounts", Some(&busy)).await.status, 303, "ended after ten hours");

    // Twenty failures from one address, whatever the accounts, refuse that address for the window.
    for attempt in 0..20 {
        let _ = sign_in(base, &format!("guess{attempt}"), "not a password at all").await;
    }
    let (status, _) = sign_in(base, "admin", ADMIN_PASSWORD).await.unwrap_err();
    assert_eq!(status, 429, "the address is refused, even with the right password");
    server.stop();
}

#[tokio::test]
async fn the_audit_trail_records_views_refusals_and_break_glass() {
    let (stream, env) = split_backends().await;
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &env).await;
    let base = server.base.clone();

    let (status, person) = api::register_person(&base, &api::person("Dee", "Audit", "1985-03-04")).await;
    assert_eq!(status, 201, "{person}");
    let person_id = person["person_id"].as_str().unwrap().to_owned();
    let (status, referral) =
        api::receive_referral(&base, &api::referral(&person_id, ReferralSource::PoliceFeed, true)).await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_owned();
    let (status, _) = get(format!("{base}/api/hub/referrals/{referral_id}?wait_for={}", referral["position"])).await;
    assert_eq!(status, 200);
    let path = format!("/hub/referrals/{referral_id}");

    // A commissioner never sees a person, and cannot break the glass.
    let commissioner = session(&base, "commissioner").await;
    let refused = page(&base, &path, Some(&commissioner)).await;
    assert_eq!(refused.status, 403);
    assert!(!refused.body.contains("Dee") && !refused.body.contains("/break-glass"), "{}", refused.body);

    // A caseworker of a service may open the hub's record only by giving a reason.
    let caseworker = session(&base, "caseworker:idva").await;
    let offer = page(&base, &path, Some(&caseworker)).await;
    assert_eq!(offer.status, 403);
    assert!(offer.body.contains("action=\"/break-glass\""), "{}", offer.body);
    // The form's area is not believed: an IDVA caseworker naming their own service still opens the hub's record,
    // and the grant is listed for the hub's manager.
    let fields = |reason: &'static str| {
        vec![("area", "idva"), ("record", referral_id.as_str()), ("return_to", path.as_str()), ("reason", reason)]
    };
    // Only a path of this site is followed afterwards.
    let elsewhere = format!("/\\evil.example/{referral_id}");
    let mut to_elsewhere = fields("Joint safety planning with the hub for tonight");
    to_elsewhere[2] = ("return_to", elsewhere.as_str());
    let redirected = form(&base, "/break-glass", &caseworker, &to_elsewhere).await;
    assert_eq!(redirected.status, 403, "no grant that sends someone to another site: {}", redirected.location);
    let short = form(&base, "/break-glass", &caseworker, &fields("need it")).await;
    assert_eq!(short.status, 422, "a reason of a few words is required");
    assert_eq!(page(&base, &path, Some(&caseworker)).await.status, 403, "nothing granted without a reason");
    // A reason typed as a spreadsheet formula stays text in the auditor's export.
    let reason = "=HYPERLINK(\"https://evil.example\",\"Joint safety planning with the hub tonight\")";
    let granted = form(&base, "/break-glass", &caseworker, &fields(reason)).await;
    assert_eq!((granted.status, granted.location.as_str()), (303, path.as_str()));
    let opened = page(&base, &path, Some(&caseworker)).await;
    assert_eq!(opened.status, 200);
    assert!(opened.body.contains("Dee"), "the record is open under the grant");
    // Commands are not part of a break-glass grant.
    let (status, _) = api::send_as(
        reqwest::Method::POST,
        &api::allocation_url(&base, &referral_id),
        Some("caseworker:idva"),
        &AllocationRequest { officer: "x.y".into() },
    )
    .await;
    assert_eq!(status, 403);

    // The hub manager sees who broke the glass, and why.
    let manager = session(&base, "hub_manager").await;
    let list = page(&base, "/hub/break-glass", Some(&manager)).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("test.caseworker.idva") && list.body.contains("Joint safety planning"), "{}", list.body);
    let idva_manager = session(&base, "service_manager:idva").await;
    let idva_list = page(&base, "/services/idva/break-glass", Some(&idva_manager)).await;
    assert_eq!(idva_list.status, 200);
    assert!(!idva_list.body.contains("Joint safety planning"), "a hub record's grant is the hub's: {}", idva_list.body);

    // The auditor finds all three by the person: the officer's view, the refusal, the break-glass with its reason.
    let auditor = session(&base, "auditor").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let trail = loop {
        let trail = page(&base, &format!("/audit?person={person_id}"), Some(&auditor)).await;
        assert_eq!(trail.status, 200);
        if trail.body.contains("Break-glass") {
            break trail;
        }
        assert!(std::time::Instant::now() < deadline, "the trail never showed the break-glass view");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for expected in ["test.hub_officer", "test.commissioner", "Refused (403)", "test.caseworker.idva", "Joint safety"] {
        assert!(trail.body.contains(expected), "the trail lacks {expected}");
    }
    assert!(!trail.body.contains("Dee"), "the trail holds ids, never a person's details");
    let by_user = page(&base, "/audit?user=test.commissioner", Some(&auditor)).await;
    assert!(by_user.body.contains(&referral_id) && !by_user.body.contains("test.hub_officer"));
    let export = page(&base, &format!("/audit/export.csv?person={person_id}"), Some(&auditor)).await;
    assert_eq!(export.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(export.body.starts_with("at,username,role,method,route") && export.body.contains("break_glass"));
    assert!(export.body.contains("'=HYPERLINK(") && !export.body.contains(",=HYPERLINK("), "{}", export.body);
    // Nobody else reads the trail.
    assert_eq!(page(&base, "/audit", Some(&manager)).await.status, 403);

    // The trail is its own stream beside the case history.
    let js = async_nats::jetstream::new(async_nats::connect(&stream.config.url).await.unwrap());
    let mut audit = js.get_stream(format!("{}_AUDIT", stream.config.stream)).await.unwrap();
    assert!(audit.info().await.unwrap().state.messages >= 4);
    server.stop();
}

/// Every text of every row of every table of the embedded read-model database.
async fn read_model_text(data: &std::path::Path) -> String {
    use sqlx::{Column as _, Row as _};
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("casetrack.db").display())).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&db).await.unwrap();
    let mut text = String::new();
    for table in tables {
        for row in sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM \"{table}\""))).fetch_all(&db).await.unwrap()
        {
            for column in row.columns() {
                if let Ok(Some(value)) = row.try_get::<Option<String>, _>(column.ordinal()) {
                    text.push_str(&value);
                    text.push('\n');
                }
            }
        }
    }
    db.close().await;
    text
}

#[tokio::test]
async fn erasure_leaves_nothing_of_the_person_and_the_figures_unchanged() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let secrets = [
        "Zephyrine",
        "Quillfeather",
        "07700 900457",
        "zq@example.org",
        "ZZ9 9ZZ",
        "Partner reads her texts",
        "Refuge place from Friday",
        "Disclosed to the IDVA only",
    ];
    let details = RegisterPersonRequest {
        phone: Some("07700 900457".into()),
        email: Some("zq@example.org".into()),
        postcode: Some("ZZ9 9ZZ".into()),
        ..api::person("Zephyrine", "Quillfeather", "1979-02-03")
    };
    let (status, person) = api::register_person(&base, &details).await;
    assert_eq!(status, 201, "{person}");
    let person_id = person["person_id"].as_str().unwrap().to_owned();
    let (status, referral) = api::receive_referral(
        &base,
        &ReceiveReferralRequest {
            crime_reference: Some("CR/ERASE/77".into()),
            ..api::referral(&person_id, ReferralSource::PoliceFeed, true)
        },
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_owned();
    let rules = SafeContactRequest {
        safe_contact: SafeContact { phone: Safety::Safe, ..Default::default() },
        safe_times: Vec::new(),
        caution: Some("Partner reads her texts".into()),
    };
    let (status, body) = api::update_safe_contact(&base, &referral_id, &rules).await;
    assert_eq!(status, 200, "{body}");
    let (status, opened) = api::refer_directly(&base, "idva", &api::direct_referral(&person_id, "police")).await;
    assert_eq!(status, 201, "{opened}");
    let case = format!("{base}/api/specialist/idva/cases/{}", opened["case_id"].as_str().unwrap());
    for (action, body) in [
        api::routed(&Accept::default()),
        api::routed(&TextRequest {
            text: "Refuge place from Friday".into(),
            review_on: None,
            when: Default::default(),
        }),
        api::routed(&NoteRequest {
            text: "Disclosed to the IDVA only".into(),
            restricted: true,
            when: Default::default(),
        }),
    ] {
        let (status, answer) = post(format!("{case}/{action}"), body).await;
        assert_eq!(status, 200, "{action}: {answer}");
    }

    // Before: the export holds everything, the restricted note marked for review.
    let manager = session(&base, "hub_manager").await;
    let export_path = format!("/people/{person_id}/export.json");
    let before = page(&base, &export_path, Some(&manager)).await;
    assert_eq!(before.status, 200);
    for secret in secrets {
        assert!(before.body.contains(secret), "the export lacks {secret}");
    }
    let export: Value = serde_json::from_str(&before.body).unwrap();
    assert_eq!(export["for_review"].as_array().unwrap().len(), 1, "{}", export["for_review"]);
    let note = export["cases"][0]["events"].as_array().unwrap().iter().find(|e| e["type"] == "CaseNoteAdded").unwrap();
    assert_eq!(
        (note["restricted"].as_bool(), note["opened"].as_str()),
        (Some(true), Some("Disclosed to the IDVA only"))
    );
    assert!(read_model_text(data.path()).await.contains("CR/ERASE/77"));
    let figures = format!("{base}/api/reporting/summary?from=2000-01-01&to=2100-12-31");
    let (_, figures_before) = get(figures.clone()).await;
    // A commissioner sees the same figures with the small counts suppressed.
    let (status, suppressed) = request(reqwest::Method::GET, &figures, Some("commissioner"), None).await;
    assert_eq!(status, 200);
    let hub = |summary: &Value| {
        summary["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").cloned().unwrap()
    };
    assert_eq!(
        (hub(&figures_before)["referrals_received"].clone(), hub(&suppressed)["referrals_received"].clone()),
        (json!(1), json!("<5"))
    );

    // Erasure is confirmed by typing ERASE; then the person page says erased.
    let person_page = format!("/people/{person_id}");
    let unconfirmed =
        form(&base, &format!("{person_page}/erasure"), &manager, &[("reason", "request"), ("confirm", "yes")]).await;
    assert_eq!(unconfirmed.status, 422);
    let erased =
        form(&base, &format!("{person_page}/erasure"), &manager, &[("reason", "request"), ("confirm", "ERASE")]).await;
    assert_eq!((erased.status, erased.location.as_str()), (303, person_page.as_str()));
    assert!(page(&base, &person_page, Some(&manager)).await.body.contains("erased"));

    // After: nothing of the person in the export, the pages, the read models or the log; the figures unchanged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while read_model_text(data.path()).await.contains("CR/ERASE/77") {
        assert!(std::time::Instant::now() < deadline, "the hub's read model never dropped the crime reference");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = page(&base, &export_path, Some(&manager)).await;
    assert_eq!(after.status, 200);
    assert!(serde_json::from_str::<Value>(&after.body).unwrap()["erased"].as_bool().unwrap());
    let officer = session(&base, "hub_officer").await;
    let referral_page = page(&base, &format!("/hub/referrals/{referral_id}"), Some(&officer)).await;
    assert!(referral_page.body.contains("Erased person"));
    let caseworker = session(&base, "caseworker:idva").await;
    let case_page =
        page(&base, &format!("/services/idva/cases/{}", opened["case_id"].as_str().unwrap()), Some(&caseworker)).await;
    assert_eq!(case_page.status, 200);
    // The crime reference is not sealed in the log (the police need it to match), but no page or export shows it
    // once the person is erased, nor a reason typed in about them.
    for (place, text) in [("export", after.body.as_str()), ("referral page", &referral_page.body)] {
        assert!(!text.contains("CR/ERASE/77"), "the crime reference is still in the {place}");
    }
    let models = read_model_text(data.path()).await;
    // The embedded log's files, write-ahead logs included.
    let log: Vec<u8> = ["events.db", "events.db-wal", "audit.db", "audit.db-wal"]
        .iter()
        .flat_map(|file| std::fs::read(data.path().join(file)).unwrap_or_default())
        .collect();
    assert!(String::from_utf8_lossy(&log).contains(&person_id), "the log files were read");
    let log = String::from_utf8_lossy(&log);
    for secret in secrets {
        for (place, text) in [
            ("export", after.body.as_str()),
            ("referral page", &referral_page.body),
            ("case page", &case_page.body),
            ("read models", &models),
            ("log", &log),
        ] {
            assert!(!text.contains(secret), "{secret} is still in the {place}");
        }
    }
    let (_, figures_after) = get(figures).await;
    assert_eq!(figures_before, figures_after, "erasure changes no figure");
    server.stop();
}

/// `casetrack admin retention` on the test's installation, as of a day; its JSON report.
fn retention(data: &std::path::Path, as_of: &str, dry_run: bool) -> Value {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"));
    command.args(["admin", "retention", "--as-of", as_of, "--data-dir"]).arg(data).env("RUST_LOG", "warn");
    if dry_run {
        command.arg("--dry-run");
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn retention_erases_people_whose_records_ended_long_ago_after_a_dry_run() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let register = |forename: &'static str| {
        let base = base.clone();
        async move {
            let (status, person) = api::register_person(&base, &api::person(forename, "Kept", "1970-01-01")).await;
            assert_eq!(status, 201, "{person}");
            person["person_id"].as_str().unwrap().to_owned()
        }
    };
    let referral = |person: String| {
        let base = base.clone();
        async move {
            let (status, referral) = api::receive_referral(
                &base,
                // Received at the start of yesterday, before the attempt made yesterday.
                &ReceiveReferralRequest {
                    when: WhenRequest {
                        occurred_at: Some(format!("{}T00:00:00Z", support::day_offset(-1))),
                        late_reason: None,
                    },
                    ..api::referral(&person, ReferralSource::PoliceFeed, false)
                },
            )
            .await;
            assert_eq!(status, 201, "{referral}");
            referral["referral_id"].as_str().unwrap().to_owned()
        }
    };
    // Ended: contacted and declined support. Open: never contacted. Never referred at all.
    let ended = register("Ended").await;
    let ended_referral = referral(ended.clone()).await;
    let url = format!("{base}/api/hub/referrals/{ended_referral}");
    let yesterday = support::day_offset(-1);
    let reached = ContactAttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at(&format!("{yesterday}T10:00:00Z")),
        outcome: AttemptOutcome::Reached,
        late_reason: None,
    };
    let (status, body) = api::record_attempt(&base, &ended_referral, &reached).await;
    assert_eq!(status, 200, "{body}");
    let has_family = ReasonRequest { reason: "Has family support".into(), when: WhenRequest::default() };
    let (status, declined) = api::decline_support(&base, &ended_referral, &has_family).await;
    assert_eq!(status, 200, "{declined}");
    let open = register("Open").await;
    referral(open.clone()).await;
    let never = register("Never").await;
    // Let the read models catch up with the last write.
    let (status, _) = get(format!("{url}?wait_for={}", declined["position"])).await;
    assert_eq!(status, 200);

    let due = |report: &Value| -> Vec<String> {
        report["due"].as_array().unwrap().iter().map(|d| d["person_id"].as_str().unwrap().to_owned()).collect()
    };
    let in_five_years = support::day_offset(5 * 365);
    let in_seven_years = support::day_offset(7 * 365);
    assert!(due(&retention(data.path(), &in_five_years, true)).is_empty(), "nobody is due within six years");
    let dry = retention(data.path(), &in_seven_years, true);
    let mut expected = vec![ended.clone(), never.clone()];
    expected.sort();
    assert_eq!(due(&dry), expected, "the ended and the never referred, not the open");
    assert_eq!(dry["erased"], 0);
    // The dry run erased nobody.
    let manager = session(&base, "hub_manager").await;
    assert!(!page(&base, &format!("/people/{ended}"), Some(&manager)).await.body.contains("erased"));

    let done = retention(data.path(), &in_seven_years, false);
    assert_eq!(done["erased"], 2, "{done}");
    for (person, erased) in [(&ended, true), (&never, true), (&open, false)] {
        let answer = page(&base, &format!("/people/{person}/export.json"), Some(&manager)).await;
        let export: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(export["erased"].as_bool(), Some(erased), "{person}");
        if erased {
            let actor = &export["events"].as_array().unwrap().last().unwrap()["actor"];
            assert_eq!(actor["role"]["role"], "system", "retention erases as Casetrack itself");
        }
    }
    // The erasures are in the audit trail, as Casetrack's own.
    let auditor = session(&base, "auditor").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !page(&base, &format!("/audit?person={ended}"), Some(&auditor)).await.body.contains("RUN") {
        assert!(std::time::Instant::now() < deadline, "the retention run never reached the audit trail");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A second run finds nobody left.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !due(&retention(data.path(), &in_seven_years, true)).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the erased were still listed as due");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server.stop();
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_and_a_change_ends_the_other_sessions() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = &server.base;
    // An administrator creates the account; the one-time password is shown once.
    let created = create_account(base, "n.new", "Nia New", "hub_officer", None).await;
    let one_time = created["one_time_password"].as_str().unwrap().to_owned();
    // The API will not sign in with it; the page does, and sends them to choose their own.
    let (status, body) = sign_in(base, "n.new", &one_time).await.unwrap_err();
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("password_change_required")));
    let signed = send(client().post(format!("{base}/sign-in")).form(&[
        ("username", "n.new"),
        ("password", one_time.as_str()),
        ("next", "/hub/queues/new-referrals"),
    ]))
    .await;
    assert_eq!((signed.status, signed.location.as_str()), (303, "/account/password"));
    let first = Session {
        cookie: signed.headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned(),
        csrf: String::new(),
    };
    let elsewhere = page(base, "/hub/queues/new-referrals", Some(&first)).await;
    assert_eq!((elsewhere.status, elsewhere.location.as_str()), (303, "/account/password"), "nothing else until then");
    let form_page = page(base, "/account/password", Some(&first)).await;
    let csrf = form_page.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let first = Session { csrf, ..first };
    let short =
        form(base, "/account/password", &first, &[("current", &one_time), ("new", "short"), ("again", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("at least 12 characters"));
    let new_password = "the tide comes in twice daily";
    let fields = [("current", one_time.as_str()), ("new", new_password), ("again", new_password)];
    let changed = form(base, "/account/password", &first, &fields).await;
    assert_eq!((changed.status, changed.location.as_str()), (303, "/"));
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&first)).await.status, 200);

    // A second session; changing the password in the first ends the second, not the first.
    let second = sign_in(base, "n.new", new_password).await.unwrap();
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&second)).await.status, 200);
    let newer = "a second long enough password";
    let changed =
        form(base, "/account/password", &first, &[("current", new_password), ("new", newer), ("again", newer)]).await;
    assert_eq!(changed.status, 303);
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&first)).await.status, 200);
    assert_eq!(page(base, "/hub/queues/new-referrals", Some(&second)).await.status, 303, "the other session ended");
    server.stop();
}
