//! Sign-in through an OpenID Connect provider (the production option): the authorisation code flow with PKCE, a
//! nonce, and the state kept server-side in the shared database, so that the callback may reach any process.
//! The provider's user is matched to a Casetrack account by the subject linked at their first sign-in, or else by
//! their `preferred_username`; roles stay Casetrack's (an administrator gives them), never the provider's.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use casetrack_web::Context;
use casetrack_web::accounts::{self, AccountError, AccountFailure};
use casetrack_web::config::Secret;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{failure_page, see_other};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse as _,
};
use serde::Deserialize;
use sqlx::Row as _;

pub use crate::session::OidcConfig;
use crate::session::{SignInState, local_path, with_session};

/// How long a sign-in at the provider may take.
const LOGIN_TTL_SECONDS: i64 = 10 * 60;

fn refused(message: &str) -> Response {
    failure_page(&ApiError { status: StatusCode::FORBIDDEN, code: "sign_in_refused", message: message.into() })
}

fn not_set_up() -> Response {
    failure_page(&ApiError::not_found("Sign-in through an identity provider is not set up here."))
}

fn redirect_url(config: &OidcConfig, headers: &HeaderMap) -> Result<RedirectUrl, ApiError> {
    let url = match &config.redirect_url {
        Some(url) => url.clone(),
        None => {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            let scheme = if casetrack_web::access::served_over_tls(headers) { "https" } else { "http" };
            format!("{scheme}://{host}/oidc/callback")
        }
    };
    RedirectUrl::new(url).map_err(|_| ApiError::bad_request("The sign-in address is not valid."))
}

fn http_client() -> Result<openidconnect::reqwest::Client, ApiError> {
    openidconnect::reqwest::ClientBuilder::new()
        // Following redirects would let the provider's answers send Casetrack elsewhere.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(ApiError::unavailable)
}

async fn metadata(
    config: &OidcConfig,
    http: &openidconnect::reqwest::Client,
) -> Result<CoreProviderMetadata, ApiError> {
    let issuer = IssuerUrl::new(config.issuer.clone()).map_err(ApiError::unavailable)?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|error| ApiError::unavailable(anyhow::anyhow!("identity provider discovery failed: {error}")))
}

#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /oidc/start`: off to the provider.
pub async fn start(State(state): State<SignInState>, headers: HeaderMap, Query(query): Query<StartQuery>) -> Response {
    let Some(config) = state.oidc.as_deref() else {
        return not_set_up();
    };
    match start_inner(&state.ctx, config, &headers, local_path(&query.next)).await {
        // The one redirect that leaves the site: to the configured provider's own authorisation address, built by
        // the client from its discovery document (never from the request). `see_other` follows only paths of
        // this site, so it would send the person to `/` instead.
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => failure_page(&error),
    }
}

async fn start_inner(ctx: &Context, config: &OidcConfig, headers: &HeaderMap, next: &str) -> Result<String, ApiError> {
    let http = http_client()?;
    let client = CoreClient::from_provider_metadata(
        metadata(config, &http).await?,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect_url(config, headers)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let now = chrono::Utc::now().timestamp();
    sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
        .bind(now - LOGIN_TTL_SECONDS)
        .execute(ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    sqlx::query(
        "INSERT INTO oidc_logins (state, nonce, pkce_verifier, next_path, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(state.secret())
    .bind(nonce.secret())
    .bind(verifier.secret())
    .bind(next)
    .bind(now)
    .execute(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(url.to_string())
}

#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// `GET /oidc/callback`: back from the provider with a code; exchanged, the ID token checked, the account found.
pub async fn callback(
    State(state): State<SignInState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(config) = state.oidc.clone() else {
        return not_set_up();
    };
    if !callback.error.is_empty() {
        return refused("The identity provider did not sign you in. Try again, or ask an administrator.");
    }
    // One use only: the row goes whether or not what follows succeeds.
    let row = sqlx::query(
        "DELETE FROM oidc_logins WHERE state = $1 AND created_at >= $2 RETURNING nonce, pkce_verifier, next_path",
    )
    .bind(&callback.state)
    .bind(chrono::Utc::now().timestamp() - LOGIN_TTL_SECONDS)
    .fetch_optional(state.ctx.db.pool())
    .await;
    let (nonce, verifier, next) = match row {
        Ok(Some(row)) => {
            (row.get::<String, _>("nonce"), row.get::<String, _>("pkce_verifier"), row.get::<String, _>("next_path"))
        }
        Ok(None) => {
            return failure_page(&ApiError::bad_request(
                "This sign-in has expired or was not started here. Start again from the sign-in page.",
            ));
        }
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    let identity =
        match verify(&config, &headers, callback.code, Nonce::new(nonce), PkceCodeVerifier::new(verifier)).await {
            Ok(identity) => identity,
            Err(error) => {
                tracing::warn!(error = %error, "an identity provider sign-in was refused");
                return refused("The identity provider's answer could not be trusted, so you are not signed in.");
            }
        };
    match accounts::account_for_subject(&state.ctx.db, &identity.0, identity.1.as_deref()).await {
        Ok(account) => match casetrack_web::sessions::start_session(&state.ctx.db, account.account_id).await {
            Ok(session) => with_session(see_other(local_path(&next)), &session.token, &headers),
            Err(error) => failure_page(&ApiError::unavailable(error)),
        },
        Err(AccountFailure::Refused(AccountError::NoSuchAccount)) => {
            refused("There is no Casetrack account for you, or it is disabled. Ask an administrator.")
        }
        Err(AccountFailure::Refused(other)) => refused(&other.to_string()),
        Err(AccountFailure::Database(error)) => failure_page(&ApiError::unavailable(error)),
    }
}

/// Exchanges the code and verifies the ID token (signature by the provider's published keys, issuer, audience,
/// expiry, nonce); the subject and preferred user name it vouches for.
async fn verify(
    config: &OidcConfig,
    headers: &HeaderMap,
    code: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
) -> anyhow::Result<(String, Option<String>)> {
    let http = http_client().map_err(|e| anyhow::anyhow!(e.message))?;
    let metadata = metadata(config, &http).await.map_err(|e| anyhow::anyhow!(e.message))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect_url(config, headers).map_err(|e| anyhow::anyhow!(e.message))?);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|error| anyhow::anyhow!("the code exchange failed: {error}"))?;
    let id_token = tokens.id_token().ok_or_else(|| anyhow::anyhow!("the provider returned no ID token"))?;
    let claims = id_token.claims(&client.id_token_verifier(), &nonce)?;
    let username = claims.preferred_username().map(|name| name.as_str().to_owned());
    Ok((claims.subject().as_str().to_owned(), username))
}

/// Signing in through the organisation's OpenID Connect provider: flags the binary flattens into its settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OidcSettings {
    /// OpenID Connect provider (issuer URL) for signing in with the organisation's accounts.
    #[arg(long, env = "CASETRACK_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Casetrack's client id at the provider.
    #[arg(long, env = "CASETRACK_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// Casetrack's client secret at the provider.
    #[arg(long, env = "CASETRACK_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<Secret>,
    /// The redirect address registered with the provider (https://casetrack.example/oidc/callback); without it,
    /// the address the request came to.
    #[arg(long, env = "CASETRACK_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,
}

/// The configuration from settings, when sign-in through a provider is set up.
pub fn config_from(settings: &OidcSettings) -> anyhow::Result<Option<Arc<OidcConfig>>> {
    match (&settings.oidc_issuer, &settings.oidc_client_id, &settings.oidc_client_secret) {
        (None, None, None) => Ok(None),
        (Some(issuer), Some(client_id), Some(secret)) => Ok(Some(Arc::new(OidcConfig {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: secret.clone(),
            redirect_url: settings.oidc_redirect_url.clone(),
        }))),
        _ => anyhow::bail!(
            "sign-in through a provider needs all of --oidc-issuer, --oidc-client-id and --oidc-client-secret"
        ),
    }
}
