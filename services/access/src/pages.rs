//! Signing in and out, one's own password, the home page of each role, and the administrator's accounts pages.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casetrack_proto::{Role, StaffName, UserId};
use casetrack_web::Context;
use casetrack_web::access::{self, PASSWORD_PATH, SIGN_IN_PATH, csrf_field, current};
use casetrack_web::accounts::{
    self, ACCOUNT_ROLES, Account, AccountError, AccountFailure, MIN_PASSWORD_CHARS, NewAccount, parse_role, role_code,
    role_label,
};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{
    FormData, FormErrors, failure_page, password_input, public_page, radios, respond, see_other, staff_nav, staff_page,
    text_input,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::session::{SignInState, local_path, with_session};

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
}

fn sign_in_form(username: &str, next: &str, errors: &FormErrors, provider: bool) -> Markup {
    public_page(
        "Sign in",
        html! {
            (errors.summary())
            h1.govuk-heading-l { "Sign in to Casetrack" }
            form method="post" action=(SIGN_IN_PATH) novalidate {
                input type="hidden" name="next" value=(next);
                (text_input("username", "User name", None, username, errors))
                (password_input("password", "Password", None, "current-password", errors))
                button.govuk-button type="submit" { "Sign in" }
            }
            @if provider {
                p.govuk-body {
                    a.govuk-button.govuk-button--secondary href={ "/oidc/start?" (serde_urlencoded::to_string([("next", next)]).unwrap_or_default()) } {
                        "Sign in with your organisation's account"
                    }
                }
            }
        },
    )
}

/// `GET /sign-in`.
pub async fn sign_in_page(State(state): State<SignInState>, Query(query): Query<SignInQuery>) -> Response {
    if current().is_some() {
        return see_other(local_path(&query.next));
    }
    respond(StatusCode::OK, sign_in_form("", local_path(&query.next), &FormErrors::new(), state.oidc.is_some()))
}

/// `POST /sign-in`.
pub async fn sign_in(
    State(SignInState { ctx, oidc }): State<SignInState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let (username, password, next) = (form.get("username"), form.get("password"), local_path(form.get("next")));
    match accounts::authenticate(&ctx.db, username, password, &peer.ip().to_string()).await {
        Ok(account) => match casetrack_web::sessions::start_session(&ctx.db, account.account_id).await {
            Ok(session) => {
                let target = if account.must_change_password { PASSWORD_PATH } else { next };
                with_session(see_other(target), &session.token, &headers)
            }
            Err(error) => failure_page(&ApiError::unavailable(error)),
        },
        Err(AccountFailure::Refused(refused)) => {
            let mut errors = FormErrors::new();
            errors.add("username", refused.to_string());
            let status = if refused == AccountError::TooManyAttempts {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            respond(status, sign_in_form(username, next, &errors, oidc.is_some()))
        }
        Err(AccountFailure::Database(error)) => failure_page(&ApiError::unavailable(error)),
    }
}

/// `POST /sign-out`.
pub async fn sign_out(State(ctx): State<Context>, headers: HeaderMap) -> Response {
    if let Some(token) = access::session_token(&headers)
        && let Err(error) = casetrack_web::sessions::end_session(&ctx.db, &token).await
    {
        return failure_page(&ApiError::unavailable(error));
    }
    let mut response = see_other(SIGN_IN_PATH);
    if let Ok(cookie) = HeaderValue::from_str(&access::clear_session_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /`: each role's home. People who work cases go straight to their work; the others see their menu.
pub async fn home() -> Response {
    let Some(principal) = current() else { return see_other(SIGN_IN_PATH) };
    let role = &principal.account.role;
    match role {
        Role::HubOfficer | Role::HubManager => return see_other("/hub"),
        Role::Caseworker(service) => return see_other(&format!("/services/{service}")),
        Role::Commissioner => return see_other("/figures"),
        _ => {}
    }
    let nav = staff_nav(role);
    respond(
        StatusCode::OK,
        staff_page(
            "Home",
            html! {
                h1.govuk-heading-l { "Signed in as " (principal.account.display_name) }
                p.govuk-body { "You are " (role_label(role)) "." }
                ul.govuk-list {
                    @for (label, href) in &nav {
                        li { a.govuk-link href=(href) { (label) } }
                    }
                }
            },
        ),
    )
}

fn password_form(account: &Account, errors: &FormErrors) -> Markup {
    let hint = format!("At least {MIN_PASSWORD_CHARS} characters. A few unrelated words make a good one.");
    staff_page(
        "Change your password",
        html! {
            (errors.summary())
            h1.govuk-heading-l { "Change your password" }
            @if account.must_change_password {
                p.govuk-body { "You signed in with a one-time password. Choose your own before you go on." }
            }
            form method="post" action=(PASSWORD_PATH) novalidate {
                (csrf_field())
                (password_input("current", "Current password", None, "current-password", errors))
                (password_input("new", "New password", Some(&hint), "new-password", errors))
                (password_input("again", "New password again", None, "new-password", errors))
                button.govuk-button type="submit" { "Change password" }
            }
        },
    )
}

/// `GET /account/password`.
pub async fn password_page() -> Response {
    let Some(principal) = current() else { return see_other(SIGN_IN_PATH) };
    respond(StatusCode::OK, password_form(&principal.account, &FormErrors::new()))
}

/// `POST /account/password`.
pub async fn change_password(State(ctx): State<Context>, headers: HeaderMap, form: FormData) -> Response {
    let Some(principal) = current() else { return see_other(SIGN_IN_PATH) };
    let mut errors = FormErrors::new();
    if form.get("new") != form.get("again") {
        errors.add("again", "The two new passwords are not the same.");
    } else {
        let token = access::session_token(&headers).unwrap_or_default();
        match accounts::change_own_password(&ctx.db, &principal.account, form.get("current"), form.get("new"), &token)
            .await
        {
            Ok(()) => return see_other("/"),
            Err(AccountFailure::Refused(refused)) => {
                let field = if refused.to_string().contains("current") { "current" } else { "new" };
                errors.add(field, refused.to_string());
            }
            Err(AccountFailure::Database(error)) => return failure_page(&ApiError::unavailable(error)),
        }
    }
    respond(StatusCode::UNPROCESSABLE_ENTITY, password_form(&principal.account, &errors))
}

/// What the new-account form holds.
#[derive(Debug, Default)]
struct AccountForm {
    username: String,
    display_name: String,
    role: String,
    service: String,
}

fn accounts_page(
    ctx: &Context,
    list: &[Account],
    form: &AccountForm,
    errors: &FormErrors,
    created: Option<(&str, &str)>,
) -> Markup {
    let services: Vec<(String, String)> =
        ctx.catalogue.all().iter().map(|s| (s.code.as_str().to_owned(), s.name.clone())).collect();
    let service_options: Vec<(&str, &str)> = services.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
    staff_page(
        "Accounts",
        html! {
            (errors.summary())
            h1.govuk-heading-l { "Accounts" }
            @if let Some((username, password)) = created {
                div.govuk-notification-banner.govuk-notification-banner--success role="alert"
                    aria-labelledby="account-created-title" data-module="govuk-notification-banner" {
                    div.govuk-notification-banner__header {
                        h2.govuk-notification-banner__title #account-created-title { "Account created" }
                    }
                    div.govuk-notification-banner__content {
                        p.govuk-body { "One-time password for " strong { (username) } ": " code.app-secret { (password) } }
                        p.govuk-body { "Give it to them in person or by phone. It is shown only now; they choose their own "
                            "at first sign-in." }
                    }
                }
            }
            table.govuk-table {
                caption.govuk-table__caption.govuk-table__caption--m { "Every account (" (list.len()) ")" }
                thead.govuk-table__head { tr.govuk-table__row {
                    th.govuk-table__header scope="col" { "User name" }
                    th.govuk-table__header scope="col" { "Name" }
                    th.govuk-table__header scope="col" { "Role" }
                    th.govuk-table__header scope="col" { "State" }
                    th.govuk-table__header scope="col" { "Actions" }
                } }
                tbody.govuk-table__body {
                    @for account in list {
                        @let whose = format!(" the account of {} ({})", account.display_name, account.username.as_str());
                        tr.govuk-table__row {
                            th.govuk-table__header scope="row" { (account.username.as_str()) }
                            td.govuk-table__cell { (account.display_name) }
                            td.govuk-table__cell { (role_label(&account.role)) }
                            td.govuk-table__cell { @if account.disabled { "Disabled" } @else if account.must_change_password { "One-time password" } @else { "Active" } }
                            td.govuk-table__cell {
                                form.app-inline-form method="post" action={ "/admin/accounts/" (account.account_id) "/" (if account.disabled { "enable" } else { "disable" }) } {
                                    (csrf_field())
                                    button.govuk-button.govuk-button--secondary type="submit" {
                                        @if account.disabled { "Enable" } @else { "Disable" }
                                        span.govuk-visually-hidden { (whose) }
                                    }
                                }
                                form.app-inline-form method="post" action={ "/admin/accounts/" (account.account_id) "/reset-password" } {
                                    (csrf_field())
                                    button.govuk-button.govuk-button--secondary type="submit" {
                                        "Reset password" span.govuk-visually-hidden { " of" (whose) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2.govuk-heading-m { "New account" }
            form method="post" action="/admin/accounts" novalidate {
                (csrf_field())
                (text_input("username", "User name", Some("Lower case, as in the allocation lists: a.khan"), &form.username, errors))
                (text_input("display_name", "Name", None, &form.display_name, errors))
                (radios("role", "Role", ACCOUNT_ROLES, Some(form.role.as_str()).filter(|r| !r.is_empty()), errors))
                (radios("service", "Service (caseworkers and service managers only)", &service_options, Some(form.service.as_str()).filter(|s| !s.is_empty()), errors))
                button.govuk-button type="submit" { "Create account with a one-time password" }
            }
        },
    )
}

async fn render_accounts(
    ctx: &Context,
    form: &AccountForm,
    errors: &FormErrors,
    created: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    match accounts::list_accounts(&ctx.db).await {
        Ok(list) => respond(status, accounts_page(ctx, &list, form, errors, created)),
        Err(error) => failure_page(&ApiError::unavailable(error)),
    }
}

/// `GET /admin/accounts`.
pub async fn accounts_list(State(ctx): State<Context>) -> Response {
    render_accounts(&ctx, &AccountForm::default(), &FormErrors::new(), None, StatusCode::OK).await
}

/// Reads a new account from its fields; the problems are tied to their fields.
fn read_new_account(
    ctx: &Context,
    username: &str,
    display_name: &str,
    role: &str,
    service: &str,
    password: Option<String>,
) -> Result<NewAccount, FormErrors> {
    let mut errors = FormErrors::new();
    let username = StaffName::parse(username).map_err(|problem| errors.add("username", problem)).ok();
    let service = Some(service).filter(|s| !s.is_empty());
    let role = parse_role(role, service).map_err(|problem| errors.add("role", problem)).ok();
    if let Some(Role::Caseworker(code) | Role::ServiceManager(code)) = &role
        && ctx.catalogue.get(code.as_str()).is_none()
    {
        errors.add("service", format!("There is no service called {code}."));
    }
    if display_name.trim().is_empty() {
        errors.add("display_name", "Give the person's name as colleagues know it.");
    }
    match (username, role, errors.is_empty()) {
        (Some(username), Some(role), true) => Ok(NewAccount {
            username,
            display_name: display_name.to_owned(),
            must_change_password: password.is_none(),
            password: Some(password.unwrap_or_else(accounts::one_time_password)),
            role,
        }),
        _ => Err(errors),
    }
}

/// `POST /admin/accounts`: a new account with a one-time password, shown once.
pub async fn create_account(State(ctx): State<Context>, form: FormData) -> Response {
    let fields = AccountForm {
        username: form.get("username").to_owned(),
        display_name: form.get("display_name").to_owned(),
        role: form.get("role").to_owned(),
        service: form.get("service").to_owned(),
    };
    let new = match read_new_account(&ctx, &fields.username, &fields.display_name, &fields.role, &fields.service, None)
    {
        Ok(new) => new,
        Err(errors) => return render_accounts(&ctx, &fields, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let password = new.password.clone().unwrap_or_default();
    match accounts::create_account(&ctx.db, new).await {
        Ok(account) => {
            render_accounts(
                &ctx,
                &AccountForm::default(),
                &FormErrors::new(),
                Some((account.username.as_str(), &password)),
                StatusCode::CREATED,
            )
            .await
        }
        Err(AccountFailure::Refused(refused)) => {
            let mut errors = FormErrors::new();
            errors.add("username", refused.to_string());
            render_accounts(&ctx, &fields, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AccountFailure::Database(error)) => failure_page(&ApiError::unavailable(error)),
    }
}

/// `POST /admin/accounts/{account_id}/{action}`: disable, enable, or reset the password to a one-time one.
pub async fn account_action(
    State(ctx): State<Context>,
    Path((account_id, action)): Path<(String, String)>,
) -> Response {
    let Some(account_id) = uuid::Uuid::parse_str(&account_id).ok().map(UserId) else {
        return failure_page(&ApiError::not_found("There is no such account."));
    };
    let own = current().is_some_and(|p| p.account.account_id == account_id);
    let result = match action.as_str() {
        "disable" if own => {
            Err(AccountFailure::Refused(AccountError::Invalid("You cannot disable your own account.".into())))
        }
        "disable" => accounts::set_disabled(&ctx.db, account_id, true).await,
        "enable" => accounts::set_disabled(&ctx.db, account_id, false).await,
        "reset-password" => {
            let password = accounts::one_time_password();
            return match accounts::set_password(&ctx.db, account_id, &password, true).await {
                Ok(()) => match accounts::find_account(&ctx.db, account_id).await {
                    Ok(Some(account)) => {
                        render_accounts(
                            &ctx,
                            &AccountForm::default(),
                            &FormErrors::new(),
                            Some((account.username.as_str(), &password)),
                            StatusCode::OK,
                        )
                        .await
                    }
                    Ok(None) => failure_page(&ApiError::not_found("There is no such account.")),
                    Err(error) => failure_page(&ApiError::unavailable(error)),
                },
                Err(AccountFailure::Refused(refused)) => failure_page(&ApiError::not_found(refused.to_string())),
                Err(AccountFailure::Database(error)) => failure_page(&ApiError::unavailable(error)),
            };
        }
        _ => return failure_page(&ApiError::not_found("There is no such action.")),
    };
    match result {
        Ok(()) => see_other("/admin/accounts"),
        Err(AccountFailure::Refused(refused)) => {
            let mut errors = FormErrors::new();
            errors.add("username", refused.to_string());
            render_accounts(&ctx, &AccountForm::default(), &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AccountFailure::Database(error)) => failure_page(&ApiError::unavailable(error)),
    }
}

/// The JSON API's sign-in: `{"username", "password"}` → the session cookie and `{"csrf_token", "role"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    /// Send it as the `x-csrf-token` header of every command.
    pub csrf_token: String,
    pub username: String,
    /// The role's code (hub_officer, caseworker, ...).
    pub role: String,
    /// The service of a caseworker or service manager.
    pub service: Option<String>,
}

/// Signs in (programs): sets the session cookie and answers with the session's CSRF token.
#[utoipa::path(post, path = "/api/session", request_body = SignInRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = casetrack_web::http::ErrorBody),
        (status = 429, body = casetrack_web::http::ErrorBody)))]
pub async fn api_sign_in(
    State(ctx): State<Context>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(request): axum::Json<SignInRequest>,
) -> Response {
    match accounts::authenticate(&ctx.db, &request.username, &request.password, &peer.ip().to_string()).await {
        Ok(account) if account.must_change_password => ApiError {
            status: StatusCode::FORBIDDEN,
            code: "password_change_required",
            message: "Sign in on the web page and choose your own password first.".into(),
        }
        .into_response(),
        Ok(account) => match casetrack_web::sessions::start_session(&ctx.db, account.account_id).await {
            Ok(session) => {
                let (role, service) = role_code(&account.role);
                let body = SessionResponse {
                    csrf_token: session.csrf,
                    username: account.username.as_str().to_owned(),
                    role: role.to_owned(),
                    service: service.map(str::to_owned),
                };
                with_session(axum::Json(body).into_response(), &session.token, &headers)
            }
            Err(error) => ApiError::unavailable(error).into_response(),
        },
        Err(AccountFailure::Refused(refused)) => {
            let (status, code) = match refused {
                AccountError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
                _ => (StatusCode::UNAUTHORIZED, "wrong_credentials"),
            };
            ApiError { status, code, message: refused.to_string() }.into_response()
        }
        Err(AccountFailure::Database(error)) => ApiError::unavailable(error).into_response(),
    }
}

/// Creates an account (administrators): `{"username", "display_name", "role", "service", "password"}`. Without a
/// password, a one-time password is generated and returned once.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAccountRequest {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub service: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AccountCreated {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: UserId,
    /// The generated one-time password, when none was given.
    pub one_time_password: Option<String>,
}

#[utoipa::path(post, path = "/api/admin/accounts", request_body = NewAccountRequest,
    responses((status = 201, body = AccountCreated), (status = 409, body = casetrack_web::http::ErrorBody),
        (status = 422, body = casetrack_web::http::ErrorBody)))]
pub async fn api_create_account(
    State(ctx): State<Context>,
    axum::Json(request): axum::Json<NewAccountRequest>,
) -> Response {
    let generated = request.password.is_none();
    let new = match read_new_account(
        &ctx,
        &request.username,
        &request.display_name,
        &request.role,
        request.service.as_deref().unwrap_or_default(),
        request.password,
    ) {
        Ok(new) => new,
        Err(errors) => {
            let message = ["username", "role", "service", "display_name"]
                .iter()
                .find_map(|field| errors.message(field))
                .unwrap_or("The account is not valid.")
                .to_owned();
            return ApiError::rejected("invalid_account", message).into_response();
        }
    };
    let password = new.password.clone();
    match accounts::create_account(&ctx.db, new).await {
        Ok(account) => (
            StatusCode::CREATED,
            axum::Json(AccountCreated {
                account_id: account.account_id,
                one_time_password: password.filter(|_| generated),
            }),
        )
            .into_response(),
        Err(AccountFailure::Refused(refused @ AccountError::UsernameTaken(_))) => {
            ApiError::conflict("username_taken", refused.to_string()).into_response()
        }
        Err(AccountFailure::Refused(refused)) => {
            ApiError::rejected("invalid_account", refused.to_string()).into_response()
        }
        Err(AccountFailure::Database(error)) => ApiError::unavailable(error).into_response(),
    }
}

/// Signs out (programs): ends the session.
#[utoipa::path(post, path = "/api/session/end", responses((status = 204)))]
pub async fn api_sign_out(State(ctx): State<Context>, headers: HeaderMap) -> Response {
    if let Some(token) = access::session_token(&headers)
        && let Err(error) = casetrack_web::sessions::end_session(&ctx.db, &token).await
    {
        return ApiError::unavailable(error).into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}
