//! The deployment runs as written: `deploy/compose.yaml` starts every service of `config/services.toml`, the proxy
//! (`deploy/Caddyfile`) sends every route of `casetrack admin routes` to a process that serves it, every service has
//! a health check, secrets come from the environment, and the image has a volume and a health check.
//!
//! No container engine is needed: the test reads the files. Which process serves a route is worked out the way the
//! binary works it out: each compose service's `--services` list gives the service crates it runs, and their
//! routes are read from the crates themselves (checked against the binary's own route table).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use casetrack_eventstore::testkit::{TempDir, fresh_sqlite, open_sqlite_log};
use casetrack_proto::ServiceCode;
use casetrack_vault::MasterKey;
use casetrack_web::Context;
use serde_norway::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|error| panic!("read {path}: {error}"))
}

/// The specialist service codes `config/services.toml` configures.
fn configured_codes() -> Vec<String> {
    let catalogue = casetrack_casework::catalogue::Catalogue::load(&repo().join("config/services.toml"))
        .expect("config/services.toml loads");
    catalogue.all().iter().map(|s| s.code.as_str().to_owned()).collect()
}

/// `deploy/compose.yaml`, with its `<<` merge keys applied.
fn compose() -> Value {
    let mut compose: Value = serde_norway::from_str(&read("deploy/compose.yaml")).expect("deploy/compose.yaml is YAML");
    compose.apply_merge().expect("merge keys apply");
    for (_, service) in compose["services"].as_mapping_mut().expect("services").iter_mut() {
        service.apply_merge().expect("merge keys apply");
        for key in ["environment", "depends_on", "healthcheck"] {
            if let Some(value) = service.get_mut(key) {
                value.apply_merge().expect("merge keys apply");
            }
        }
    }
    compose
}

fn strings(value: &Value) -> Vec<String> {
    value.as_sequence().map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// What one compose service runs of Casetrack: its `--services` list (`CASETRACK_SERVICES`, default `all`), or
/// None when it is not `casetrack serve`.
fn casetrack_services(service: &Value) -> Option<Vec<String>> {
    let image = service["image"].as_str().unwrap_or_default();
    let command = strings(&service["command"]);
    if !image.starts_with("casetrack") || command.first().map(String::as_str) != Some("serve") {
        return None;
    }
    let from_flag = command.iter().position(|a| a == "--services").and_then(|i| command.get(i + 1)).cloned();
    let from_env = service["environment"]["CASETRACK_SERVICES"].as_str().map(str::to_owned);
    let list = from_flag.or(from_env).unwrap_or_else(|| "all".to_owned());
    Some(list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

/// The route templates one process serves, as the binary builds its services (`select` and `services` in
/// `services/casetrack/src/main.rs`), and the specialist service codes it runs.
struct Process {
    templates: BTreeSet<String>,
    specialist_codes: BTreeSet<String>,
    /// Templates whose `{service}` is a specialist service code.
    per_service: BTreeSet<String>,
}

async fn context(dir: &Path) -> Context {
    Context::new(open_sqlite_log(dir).await, fresh_sqlite(dir).await, MasterKey::generate())
}

fn templates(services: &[casetrack_web::Service]) -> BTreeSet<String> {
    services.iter().flat_map(|s| s.rules.iter().map(|r| r.path.clone())).collect()
}

async fn process(ctx: &Context, list: &[String], codes: &[String]) -> Process {
    let all = list.iter().any(|s| s == "all");
    let runs = |name: &str| all || list.iter().any(|s| s == name);
    let specialist_codes: BTreeSet<String> = codes.iter().filter(|c| runs(c)).cloned().collect();
    for name in list {
        let known = ["all", "access", "hub", "people", "reporting"].contains(&name.as_str()) || codes.contains(name);
        assert!(known, "compose runs `serve --services {}`: {name:?} is no service of Casetrack", list.join(","));
    }
    let mut services = Vec::new();
    if runs("access") {
        services.push(casetrack_access::service(ctx, casetrack_access::AccessSettings::default()));
    }
    if runs("people") {
        services.push(casetrack_people::service(ctx));
    }
    if runs("hub") {
        services.push(casetrack_hub::service(ctx));
    }
    let mut per_service = BTreeSet::new();
    if !specialist_codes.is_empty() {
        let parsed: Vec<ServiceCode> = specialist_codes.iter().map(|c| ServiceCode::parse(c).unwrap()).collect();
        let specialist = casetrack_specialist::service(ctx, &parsed);
        per_service =
            templates(std::slice::from_ref(&specialist)).into_iter().filter(|t| t.contains("{service}")).collect();
        services.push(specialist);
    }
    if runs("reporting") {
        services.push(casetrack_reporting::service(ctx));
    }
    let mut templates = templates(&services);
    // The history upload is the binary's own (`services/casetrack/src/history/api.rs`, where the import lives): a
    // process serves the hub's with the hub, a specialist service's with the specialist services.
    if runs("hub") {
        templates.insert("/api/hub/history".to_owned());
    }
    if !specialist_codes.is_empty() {
        templates.insert("/api/specialist/{service}/history".to_owned());
        per_service.insert("/api/specialist/{service}/history".to_owned());
    }
    Process { templates, specialist_codes, per_service }
}

/// The routes every process serves about itself (`/healthz`, `/readyz`, `/metrics`, ...).
fn common_templates(ctx: &Context) -> BTreeSet<String> {
    let openapi = utoipa::openapi::OpenApiBuilder::new().build();
    let (_, rules) = casetrack_web::http::common_routes(ctx.clone(), openapi, Vec::new()).into_parts();
    rules.into_iter().map(|r| r.path).collect()
}

/// The route table the binary prints.
fn admin_routes(dir: &Path) -> BTreeSet<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(["admin", "routes", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "casetrack admin routes: {}", String::from_utf8_lossy(&output.stderr));
    let routes: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    routes.iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect()
}

/// One `handle` block of the Caddyfile: its path patterns (none: the fallback) and what it does.
#[derive(Debug)]
struct Handle {
    matcher: String,
    paths: Vec<String>,
    /// The `host:port` it proxies to, or None when it answers itself (`respond`).
    upstream: Option<String>,
    forwards_proto: bool,
}

/// Reads the subset of the Caddyfile syntax `deploy/Caddyfile` uses: named `path` matchers on one line, and
/// `handle` blocks with a `reverse_proxy` (and its `header_up`) or a `respond`.
fn caddy_handles(caddyfile: &str) -> Vec<Handle> {
    let lines: Vec<&str> =
        caddyfile.lines().map(|l| l.split('#').next().unwrap().trim()).filter(|l| !l.is_empty()).collect();
    let mut matchers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in &lines {
        if line.starts_with('@') {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap().to_owned();
            assert_eq!(words.next(), Some("path"), "only path matchers are read: {line}");
            let paths: Vec<String> = words.map(str::to_owned).collect();
            for path in &paths {
                assert!(
                    path.starts_with('/') && !path[..path.len() - 1].contains('*'),
                    "{name}: {path} (only exact paths and a trailing * are read)"
                );
            }
            matchers.insert(name, paths);
        }
    }
    let mut handles = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("handle") {
            let matcher = rest.trim_end_matches('{').trim().to_owned();
            let paths = if matcher.is_empty() {
                Vec::new()
            } else {
                matchers.get(&matcher).cloned().unwrap_or_else(|| panic!("handle {matcher}: no such matcher"))
            };
            let mut depth = 1;
            let (mut upstream, mut forwards_proto, mut responds) = (None, false, false);
            i += 1;
            while depth > 0 {
                let inner = lines[i];
                if let Some(target) = inner.strip_prefix("reverse_proxy") {
                    upstream = Some(target.trim_end_matches('{').trim().to_owned());
                }
                if inner.starts_with("respond") {
                    responds = true;
                }
                if inner.starts_with("header_up X-Forwarded-Proto {scheme}") {
                    forwards_proto = true;
                }
                depth += inner.matches('{').count() - inner.matches("{scheme}").count();
                depth -= inner.matches('}').count() - inner.matches("{scheme}").count();
                i += 1;
            }
            assert!(upstream.is_some() || responds, "handle {matcher} neither proxies nor responds");
            handles.push(Handle { matcher, paths, upstream, forwards_proto });
        } else {
            i += 1;
        }
    }
    handles
}

fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

/// The `handle` that answers `path`: the one whose matcher names it, or the fallback. Two that both name it are an
/// error (Caddy would pick one by its own ordering rules, which this file must not depend on).
fn route<'a>(handles: &'a [Handle], path: &str) -> &'a Handle {
    let named: Vec<&Handle> = handles.iter().filter(|h| h.paths.iter().any(|p| matches(p, path))).collect();
    assert!(
        named.len() <= 1,
        "{path} is matched by {:?}: make the matchers disjoint",
        named.iter().map(|h| &h.matcher)
    );
    named.first().copied().or_else(|| handles.iter().find(|h| h.paths.is_empty())).unwrap_or_else(|| {
        panic!("{path} is matched by no handle and there is no fallback `handle {{ }}`");
    })
}

/// A concrete path for a route template: `{service}` as `code`, any other parameter as an id.
fn concrete(template: &str, code: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{service}" => code.to_owned(),
            s if s.starts_with('{') => "0190c6e4-8d2a-7c3e-9f00-000000000001".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn compose_starts_every_configured_service_and_the_proxy_routes_every_route_to_a_process_that_serves_it() {
    // Arrange: the files, the configured services, and the route table.
    let compose = compose();
    let handles = caddy_handles(&read("deploy/Caddyfile"));
    let codes = configured_codes();
    let dir = TempDir::new();
    let ctx = context(dir.path()).await;
    let common = common_templates(&ctx);
    let table = admin_routes(&dir.path().join("routes"));

    let services = compose["services"].as_mapping().expect("compose has services");
    let mut processes: BTreeMap<String, Process> = BTreeMap::new();
    for (name, service) in services {
        let name = name.as_str().unwrap().to_owned();
        if let Some(list) = casetrack_services(service) {
            processes.insert(name, process(&ctx, &list, &codes).await);
        }
    }

    // Every configured service (and every other part of Casetrack) is started by some compose service.
    let everything = process(&ctx, &["all".to_owned()], &codes).await;
    let mut union: BTreeSet<String> = common.clone();
    for process in processes.values() {
        union.extend(process.templates.iter().cloned());
    }
    let started: BTreeSet<&String> = processes.values().flat_map(|p| p.specialist_codes.iter()).collect();
    for code in &codes {
        assert!(started.contains(code), "config/services.toml configures {code}, which no compose service starts");
    }
    let mut from_crates = everything.templates.clone();
    from_crates.extend(common.iter().cloned());
    assert_eq!(table, from_crates, "the crates' routes as read here are the binary's `casetrack admin routes`");
    let unserved: Vec<&String> = table.iter().filter(|t| !union.contains(*t)).collect();
    assert!(unserved.is_empty(), "routes no compose service serves: {unserved:?}");

    // Act and assert: each route, for each specialist service where it names one, goes to a process serving it.
    let mut checked = 0;
    let mut problems = Vec::new();
    for template in &table {
        let paths: Vec<(String, Option<&String>)> = if everything.per_service.contains(template) {
            codes.iter().map(|code| (concrete(template, code), Some(code))).collect()
        } else {
            vec![(concrete(template, "none"), None)]
        };
        for (path, code) in paths {
            checked += 1;
            let handle = route(&handles, &path);
            let Some(upstream) = &handle.upstream else {
                // Answered by the proxy itself: only for what each process tells about itself (scraped inside).
                if !common.contains(template) {
                    problems.push(format!("{path} ({template}) is answered by the proxy, not proxied"));
                }
                continue;
            };
            if !handle.forwards_proto {
                problems.push(format!("handle {} does not set X-Forwarded-Proto", handle.matcher));
            }
            let host = upstream.split(':').next().unwrap_or_default();
            let port = upstream.split(':').nth(1).unwrap_or("80");
            let Some(process) = processes.get(host) else {
                problems.push(format!("{path} goes to {upstream}, which is no casetrack service of compose"));
                continue;
            };
            let listen =
                compose["services"][host]["environment"]["CASETRACK_LISTEN"].as_str().unwrap_or("127.0.0.1:8080");
            if !listen.ends_with(&format!(":{port}")) || !listen.starts_with("0.0.0.0") {
                problems.push(format!("{path} goes to {upstream}, but {host} listens on {listen}"));
            }
            let serves = common.contains(template)
                || (process.templates.contains(template)
                    && code.is_none_or(|code| process.specialist_codes.contains(code)));
            if !serves {
                problems.push(format!("{path} ({template}) goes to {host}, which does not serve it"));
            }
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "the proxy does not route as the processes serve:\n{}", problems.join("\n"));
    assert!(checked > table.len(), "specialist routes are checked per service: {checked}");
}

/// What compose gives a variable: a `${NAME:?message}` (required) or `${NAME:-default}` reference.
fn from_environment(value: &str) -> bool {
    value.contains("${") && !value.contains("${}")
}

#[test]
fn every_service_has_a_health_check_and_secrets_come_from_the_environment() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    assert!(services.iter().any(|(_, s)| s["image"].as_str().is_some_and(|i| i.starts_with("caddy"))), "a proxy");
    for (name, service) in services {
        let name = name.as_str().unwrap();
        let test = strings(&service["healthcheck"]["test"]).join(" ");
        assert!(!test.is_empty(), "{name} has no health check");
        if casetrack_services(service).is_some() {
            assert!(test.contains("/readyz") || test.contains("/healthz"), "{name}: {test}");
            assert!(service.get("ports").is_none(), "{name} publishes a port: only the proxy should");
            assert!(!strings(&service["command"]).iter().any(|a| a.contains("--master-key")), "{name}: key in argv");
        }
        let Some(environment) = service["environment"].as_mapping() else { continue };
        for (key, value) in environment {
            let (key, value) = (key.as_str().unwrap(), value.as_str().unwrap_or_default());
            let secret = ["PASSWORD", "SECRET", "MASTER_KEY"].iter().any(|s| key.contains(s));
            if secret {
                assert!(value.starts_with("${") && value.contains(":?"), "{name}: {key} must be ${{{key}:?...}}");
            }
            // A URL with a password in it: the password is a reference, never written here.
            if let Some(rest) = value.split("://").nth(1)
                && let Some((userinfo, _)) = rest.split_once('@')
                && let Some((_, password)) = userinfo.split_once(':')
            {
                assert!(from_environment(password), "{name}: {key} has a password written in the file");
            }
        }
    }
}

#[test]
fn the_image_declares_its_volume_and_a_health_check() {
    let dockerfile = read("deploy/Dockerfile");
    let instruction = |name: &str| dockerfile.lines().find(|l| l.starts_with(name)).map(str::to_owned);
    let volume = instruction("VOLUME").expect("deploy/Dockerfile declares a VOLUME");
    assert!(
        dockerfile.contains("CASETRACK_DATA_DIR=/var/lib/casetrack/data") && volume.contains("/var/lib/casetrack/data"),
        "the volume is the data folder: {volume}"
    );
    let healthcheck = dockerfile.split("HEALTHCHECK").nth(1).expect("deploy/Dockerfile has a HEALTHCHECK");
    assert!(healthcheck.contains("/healthz"), "{healthcheck}");
    assert!(dockerfile.contains("curl"), "the health check's client is installed");
}
