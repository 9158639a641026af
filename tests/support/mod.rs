//! What the end-to-end test binaries share: a running `casetrack serve`, JSON request helpers, polling, dates, and
//! the environment of the split topology. Each test binary uses part of it.
#![allow(dead_code)]

pub mod api;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use casetrack_eventstore::testkit::{TestStream, fresh_postgres_url};
use casetrack_vault::MasterKey;
use serde_json::Value;

/// A running `casetrack serve`, stopped (gracefully) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(services: &str, data_dir: &std::path::Path, extra: &[(&str, String)]) -> Self {
        // Port 0: the server picks a free port and prints it, so parallel tests never race for one.
        let mut command = Command::new(env!("CARGO_BIN_EXE_casetrack"));
        command
            .args(["serve", "--services", services, "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .env("CASETRACK_INITIAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start casetrack");
        let stdout = child.stdout.take().expect("piped stdout");
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
        })
        .await
        .unwrap()
        .unwrap();
        let base = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("casetrack serve --services {services} did not start: {first_line:?}"))
            .to_owned();
        // Processes sharing a database share accounts and sessions: one realm, signed in through the process
        // that serves the access service.
        let realm = extra
            .iter()
            .find(|(name, _)| *name == "CASETRACK_DATABASE_URL")
            .map_or_else(|| data_dir.display().to_string(), |(_, url)| url.clone());
        BASE_REALM.lock().unwrap().insert(base.clone(), realm.clone());
        if services.split(',').any(|s| s == "all" || s == "access") {
            REALM_ACCESS.lock().unwrap().insert(realm, base.clone());
        }
        let server = Self { child, base };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/healthz", server.base)).await
                && response.status().is_success()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "casetrack serve --services {services} did not come up in 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks the process to stop (SIGTERM) and checks that it shuts down cleanly.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "casetrack exited with {status} after SIGTERM");
                return;
            }
            assert!(Instant::now() < deadline, "casetrack did not stop within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first administrator's password in every test installation.
pub const ADMIN_PASSWORD: &str = "test administrator password";

static BASE_REALM: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
static REALM_ACCESS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
static SESSIONS: LazyLock<tokio::sync::Mutex<HashMap<(String, String), Session>>> = LazyLock::new(Default::default);

/// A signed-in user: the session cookie and the CSRF token every command carries.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Signs in through the JSON API.
pub async fn sign_in(access: &str, username: &str, password: &str) -> Result<Session, (u16, Value)> {
    let response = reqwest::Client::new()
        .post(format!("{access}/api/session"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let cookie =
        response.headers().get("set-cookie").map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match (status, cookie) {
        (200, Some(cookie)) => Ok(Session { cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned() }),
        _ => Err((status, body)),
    }
}

/// The base (`http://127.0.0.1:port`) and the path of a URL.
fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    (&url[..path_start], &url[path_start..])
}

/// A session in `role` (`hub_officer`, `caseworker:idva`, `commissioner`, ...) on the installation `base` belongs
/// to: the account `test.<role>` is created by the first administrator the first time, then reused.
pub async fn session(base: &str, role: &str) -> Session {
    let realm = BASE_REALM.lock().unwrap().get(base).cloned().unwrap_or_else(|| panic!("no server at {base}"));
    let access = REALM_ACCESS
        .lock()
        .unwrap()
        .get(&realm)
        .cloned()
        .unwrap_or_else(|| panic!("no process serves the access service for {base}: start one with access or all"));
    let mut sessions = SESSIONS.lock().await;
    if let Some(session) = sessions.get(&(access.clone(), role.to_owned())) {
        return session.clone();
    }
    let admin = match sessions.get(&(access.clone(), "administrator".to_owned())) {
        Some(admin) => admin.clone(),
        None => sign_in(&access, "admin", ADMIN_PASSWORD).await.expect("the first administrator signs in"),
    };
    sessions.insert((access.clone(), "administrator".to_owned()), admin.clone());
    if role == "administrator" {
        return admin;
    }
    let (code, service) = role.split_once(':').map_or((role, None), |(c, s)| (c, Some(s)));
    let username = format!("test.{}", role.replace(':', "."));
    let password = format!("password of {username}");
    let response = reqwest::Client::new()
        .post(format!("{access}/api/admin/accounts"))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .json(&serde_json::json!({"username": username, "display_name": format!("Test {role}"), "role": code,
            "service": service, "password": password}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 201, "creating {username}: {}", response.text().await.unwrap());
    let session = sign_in(&access, &username, &password).await.expect("the new account signs in");
    sessions.insert((access, role.to_owned()), session.clone());
    session
}

/// The role whose work a path is: what the plain [`get`] and [`post`] sign in as.
pub fn role_for(path: &str) -> String {
    let service = |rest: &str| rest.split(['/', '?']).next().unwrap_or_default().to_owned();
    if let Some(rest) = path.strip_prefix("/api/specialist/") {
        format!("caseworker:{}", service(rest))
    } else if let Some(rest) = path.strip_prefix("/services/") {
        format!("caseworker:{}", service(rest))
    } else if path.starts_with("/api/reporting") {
        // Exact figures: a manager's view (a commissioner's has small counts suppressed).
        "hub_manager".into()
    } else if path.starts_with("/audit") {
        "auditor".into()
    } else if path.starts_with("/admin") || path.starts_with("/api/admin") {
        "administrator".into()
    } else {
        "hub_officer".into()
    }
}

/// Sends a JSON request as `role` (or signed out), with the CSRF header on commands.
pub async fn request(method: reqwest::Method, url: &str, role: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let (base, _) = split_url(url);
    let mut builder = reqwest::Client::new().request(method.clone(), url);
    if let Some(role) = role {
        let session = session(base, role).await;
        builder = builder.header("cookie", session.cookie);
        if method != reqwest::Method::GET {
            builder = builder.header("x-csrf-token", session.csrf);
        }
    }
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let response = builder.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates an account as the first administrator (`role` as `hub_officer` or `caseworker:idva`); the answer (its id,
/// and the one-time password when no password is given).
pub async fn create_account(base: &str, username: &str, name: &str, role: &str, password: Option<&str>) -> Value {
    let (code, service) = role.split_once(':').map_or((role, None), |(c, s)| (c, Some(s)));
    let body = serde_json::json!({"username": username, "display_name": name, "role": code, "service": service,
        "password": password});
    let (status, created) =
        request(reqwest::Method::POST, &format!("{base}/api/admin/accounts"), Some("administrator"), Some(&body)).await;
    assert_eq!(status, 201, "creating {username}: {created}");
    created
}

/// Posts JSON as the role whose work the path is ([`role_for`]).
pub async fn post(url: String, body: Value) -> (u16, Value) {
    let role = role_for(split_url(&url).1);
    request(reqwest::Method::POST, &url, Some(&role), Some(&body)).await
}

/// Gets JSON as the role whose work the path is ([`role_for`]).
pub async fn get(url: String) -> (u16, Value) {
    let role = role_for(split_url(&url).1);
    request(reqwest::Method::GET, &url, Some(&role), None).await
}

/// Polls `url` until `done` holds (the reactor works asynchronously), for at most 20 s.
pub async fn eventually(url: String, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(url.clone()).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{url} never reached the expected state; last: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A day relative to today (UTC), as YYYY-MM-DD.
pub fn day_offset(days: i64) -> String {
    let output = Command::new("date").args(["-u", "-d", &format!("{days} days"), "+%Y-%m-%d"]).output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The split topology's backends: a fresh JetStream stream (deleted when the returned guard drops), a fresh
/// PostgreSQL database and a master key, as the environment every `casetrack` process of a test is given.
pub async fn split_backends() -> (TestStream, Vec<(&'static str, String)>) {
    let stream = TestStream::new();
    let env = vec![
        ("CASETRACK_NATS_URL", stream.config.url.clone()),
        ("CASETRACK_NATS_STREAM", stream.config.stream.clone()),
        ("CASETRACK_NATS_SUBJECT_PREFIX", stream.config.subject_prefix.clone()),
        ("CASETRACK_DATABASE_URL", fresh_postgres_url().await),
        ("CASETRACK_MASTER_KEY", MasterKey::generate().to_base64().to_string()),
    ];
    (stream, env)
}

/// The position of the last event in an embedded installation's log (`events.db` in its data folder): a refused
/// command is one that leaves it where it was.
pub async fn log_head(data: &std::path::Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", data.join("events.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(&db).await.unwrap();
    db.close().await;
    head
}
