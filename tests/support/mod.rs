//! What the end-to-end test binaries share: a running `casetrack serve`, JSON request helpers, polling, dates, and
//! the environment of the split topology. Each test binary uses part of it.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use casetrack_platform::testkit::{TestStream, fresh_postgres_url};
use casetrack_platform::vault::MasterKey;
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

pub async fn post(url: String, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new().post(url).json(&body).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get(url: String) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
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
