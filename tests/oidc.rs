//! Sign-in through an OpenID Connect provider, against a stub provider the test starts on loopback: discovery,
//! the authorisation code flow with PKCE, an ID token signed with the provider's published RSA key. An account is
//! linked by user name at first sign-in and by subject after; a replayed callback, an unknown user and a forged
//! token are all refused.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use casetrack_eventstore::testkit::TempDir;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserUsername, IssuerUrl, Nonce, PrivateSigningKey as _, StandardClaims,
    SubjectIdentifier,
};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::Digest as _;
use support::{Server, create_account};

const CLIENT_ID: &str = "casetrack";
const CLIENT_SECRET: &str = "stub client secret";

/// A code the stub issued: the nonce and PKCE challenge it came with, and who it signs in.
struct Issued {
    nonce: String,
    challenge: String,
    subject: String,
    username: String,
    forge: bool,
}

/// Who the stub signs in next, and whether it forges the token's signature.
#[derive(Default)]
struct Next {
    subject: String,
    username: String,
    forge: bool,
}

#[derive(Clone)]
struct Stub {
    base: String,
    key: Arc<CoreRsaPrivateSigningKey>,
    next: Arc<Mutex<Next>>,
    codes: Arc<Mutex<HashMap<String, Issued>>>,
}

async fn discovery(State(stub): State<Stub>) -> Json<Value> {
    Json(json!({
        "issuer": stub.base,
        "authorization_endpoint": format!("{}/authorize", stub.base),
        "token_endpoint": format!("{}/token", stub.base),
        "jwks_uri": format!("{}/jwks", stub.base),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(stub): State<Stub>) -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![stub.key.as_verification_key()]))
}

/// Signs the next user in at once and sends them back with a code.
async fn authorize(State(stub): State<Stub>, Query(query): Query<HashMap<String, String>>) -> impl IntoResponse {
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["code_challenge_method"], "S256", "PKCE is used");
    let code = uuid::Uuid::new_v4().to_string();
    let next = stub.next.lock().unwrap();
    let issued = Issued {
        nonce: query["nonce"].clone(),
        challenge: query["code_challenge"].clone(),
        subject: next.subject.clone(),
        username: next.username.clone(),
        forge: next.forge,
    };
    stub.codes.lock().unwrap().insert(code.clone(), issued);
    let state = &query["state"];
    Redirect::to(&format!("{}?code={code}&state={state}", query["redirect_uri"]))
}

async fn token(State(stub): State<Stub>, Form(form): Form<HashMap<String, String>>) -> impl IntoResponse {
    let issued = stub.codes.lock().unwrap().remove(&form["code"]);
    let Some(Issued { nonce, challenge, subject, username, forge }) = issued else {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verified =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(form["code_verifier"].as_bytes()));
    assert_eq!(verified, challenge, "the PKCE verifier matches the challenge");
    let now = chrono::Utc::now();
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(stub.base.clone()).unwrap(),
        vec![Audience::new(CLIENT_ID.into())],
        now + chrono::Duration::minutes(5),
        now,
        StandardClaims::new(SubjectIdentifier::new(subject))
            .set_preferred_username(Some(EndUserUsername::new(username))),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let id_token =
        CoreIdToken::new(claims, stub.key.as_ref(), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap();
    let mut id_token = serde_json::to_value(&id_token).unwrap().as_str().unwrap().to_owned();
    if forge {
        // Another payload under the same signature.
        let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
        let mut payload: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1]).unwrap())
                .unwrap();
        payload["preferred_username"] = json!("admin");
        payload["sub"] = json!("forged-subject");
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
        id_token = parts.join(".");
    }
    Json(json!({"access_token": "stub-access-token", "token_type": "bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

async fn start_stub() -> Stub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let pem = include_str!("fixtures/oidc-stub-key.pem");
    let stub = Stub {
        base,
        key: Arc::new(CoreRsaPrivateSigningKey::from_pem(pem, None).unwrap()),
        next: Arc::default(),
        codes: Arc::default(),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(stub.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    stub
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The provider's answer at Casetrack's callback, after the round trip from `/oidc/start`.
async fn round_trip(
    base: &str,
    stub: &Stub,
    subject: &str,
    username: &str,
    forge: bool,
) -> (String, reqwest::Response) {
    *stub.next.lock().unwrap() = Next { subject: subject.into(), username: username.into(), forge };
    let start = client().get(format!("{base}/oidc/start?next=%2Fhub%2Fqueues%2Fnew-referrals")).send().await.unwrap();
    assert_eq!(start.status().as_u16(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.starts_with(&format!("{}/authorize?", stub.base)), "{authorize}");
    let back = client().get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("{base}/oidc/callback?")), "{callback}");
    let answer = client().get(&callback).send().await.unwrap();
    (callback, answer)
}

fn cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_through_an_openid_connect_provider() {
    let stub = start_stub().await;
    let data = TempDir::new();
    let env = [
        ("CASETRACK_OIDC_ISSUER", stub.base.clone()),
        ("CASETRACK_OIDC_CLIENT_ID", CLIENT_ID.to_owned()),
        ("CASETRACK_OIDC_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
    ];
    let server = Server::start("all", data.path(), &env).await;
    let base = server.base.clone();
    let sign_in_page = client().get(format!("{base}/sign-in")).send().await.unwrap().text().await.unwrap();
    assert!(sign_in_page.contains("/oidc/start"), "the sign-in page offers the provider");
    create_account(&base, "o.officer", "Olu Officer", "hub_officer", Some("a password nobody will use")).await;

    // First sign-in: linked by user name, then sent where they were going, signed in.
    let (callback, answer) = round_trip(&base, &stub, "subject-1", "o.officer", false).await;
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(answer.headers()["location"], "/hub/queues/new-referrals");
    let session = cookie(&answer);
    let queue =
        client().get(format!("{base}/hub/queues/new-referrals")).header("cookie", &session).send().await.unwrap();
    assert_eq!(queue.status().as_u16(), 200);
    assert!(queue.text().await.unwrap().contains("Olu Officer"));

    // A callback works once.
    let replay = client().get(&callback).send().await.unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    assert!(replay.headers().get("set-cookie").is_none());

    // Linked by subject from now on, whatever user name the provider gives.
    let (_, again) = round_trip(&base, &stub, "subject-1", "olu.renamed", false).await;
    assert_eq!(again.status().as_u16(), 303, "{}", again.text().await.unwrap());

    // Nobody without an account gets in, nor a token that was tampered with.
    let (_, stranger) = round_trip(&base, &stub, "subject-2", "nobody", false).await;
    assert_eq!(stranger.status().as_u16(), 403);
    assert!(stranger.text().await.unwrap().contains("no Casetrack account"));
    let (_, forged) = round_trip(&base, &stub, "subject-1", "o.officer", true).await;
    assert_eq!(forged.status().as_u16(), 403);
    assert!(forged.headers().get("set-cookie").is_none());
    assert!(forged.text().await.unwrap().contains("could not be trusted"));
    server.stop();
}
