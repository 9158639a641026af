//! The JSON API as a partner system meets it, end to end through the real `casetrack` binary (embedded backends):
//! an OpenAPI document a code generator accepts (unique operation ids, parameters where they are sent, tags, the
//! session cookie and CSRF header as security schemes, error bodies as schemas), every list paged by `page_size`
//! and a cursor, the police feed uploaded as a JSON operation, one's own password changed through the API, and a
//! `# HELP` line for every metric.
//!
//! The document is also written to `target/tmp/openapi.json`, which `scripts/test` then checks with a real
//! OpenAPI 3.1 validator (`openapi-spec-validator`).

mod support;

use std::collections::{BTreeSet, HashSet};

use casetrack_eventstore::testkit::TempDir;
use casetrack_proto::hub::ReferralSource;
use serde_json::{Value, json};
use support::{Server, api, get, post, request, sign_in};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

#[tokio::test]
async fn the_openapi_document_is_one_code_generators_accept() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let response = reqwest::get(format!("{}/api/openapi.json", server.base)).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let doc: Value = response.json().await.unwrap();
    // For scripts/test's validator.
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(&out, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let declared_tags: HashSet<&str> =
        doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for service in ["access", "people", "hub", "specialist", "reporting", "history"] {
        assert!(declared_tags.contains(service), "no tag {service}: {declared_tags:?}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "casetrack_session",
        "description": schemes["session"]["description"]})
    );
    assert_eq!(
        (schemes["csrf"]["in"].as_str(), schemes["csrf"]["name"].as_str()),
        (Some("header"), Some("x-csrf-token"))
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    let mut ids = HashSet::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let template: BTreeSet<&str> = path.split('{').skip(1).map(|rest| rest.split('}').next().unwrap()).collect();
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            operations += 1;
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no id"));
            assert!(ids.insert(id.to_owned()), "operation id {id} ({method} {path}) is not unique");
            let tags = operation["tags"].as_array().unwrap_or_else(|| panic!("{method} {path} has no tag"));
            assert!(tags.iter().all(|t| declared_tags.contains(t.as_str().unwrap())), "{method} {path}: {tags:?}");
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<&str> =
                parameters.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(in_path, template, "{method} {path}: path parameters and the template disagree");
            for known_query in ["wait_for", "page_size", "cursor", "view", "officer", "dry_run"] {
                if let Some(p) = parameters.iter().find(|p| p["name"] == known_query) {
                    assert_eq!(p["in"], "query", "{method} {path}: {known_query} is sent in the query");
                }
            }
            // Security: a public operation needs nothing; a view the session; a command the session and the CSRF
            // header. Every guarded operation documents the guard's refusals with the error body.
            let security = operation["security"].as_array().unwrap_or_else(|| panic!("{method} {path}: security"));
            if path == "/api/session" {
                assert!(security.is_empty(), "signing in needs no session");
                continue;
            }
            let needs: BTreeSet<&str> =
                security.iter().flat_map(|r| r.as_object().unwrap().keys().map(String::as_str)).collect();
            let wanted: BTreeSet<&str> = if method == "get" { ["session"].into() } else { ["session", "csrf"].into() };
            assert_eq!(needs, wanted, "{method} {path}");
            for status in ["401", "403"] {
                let schema = &operation["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
        }
    }
    assert!(operations > 40, "only {operations} operations");
    for id in ["hub_police_feed", "access_change_password", "hub_allocate", "specialist_allocate", "hub_queue"] {
        assert!(ids.contains(id), "no operation {id}: {ids:?}");
    }
    let queue = &doc["paths"]["/api/hub/queues/{queue}"]["get"];
    let names: Vec<&str> =
        queue["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"page_size") && names.contains(&"cursor") && !names.contains(&"page"), "{names:?}");
    server.stop();
}

/// Behind the proxy `/api/openapi.json` reaches one process (access): every process documents the whole
/// installation's API, secured as each route is, though it serves only its own part.
#[tokio::test]
async fn a_process_of_one_service_documents_the_whole_api() {
    let data = TempDir::new();
    let server = Server::start("access", data.path(), &[]).await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", server.base)).await.unwrap().json().await.unwrap();
    for path in ["/api/hub/referrals", "/api/specialist/{service}/cases", "/api/reporting/summary", "/api/people"] {
        let operation = doc["paths"][path].as_object().and_then(|item| item.values().next().cloned());
        let operation = operation.unwrap_or_else(|| panic!("the access process does not document {path}"));
        assert!(!operation["security"].as_array().unwrap().is_empty(), "{path} is documented as secured");
    }
    for path in ["/api/hub/history", "/api/specialist/{service}/history"] {
        assert!(doc["paths"][path]["post"].is_object(), "the history uploads are documented: {path}");
    }
    // Documented, not served: the hub's routes are the hub process's.
    let (status, _) = support::post(format!("{}/api/hub/referrals", server.base), json!({})).await;
    assert_eq!(status, 404);
    server.stop();
}

/// Walks a list with `page_size` 2 from the first page to the last: the ids of each page, and the totals.
async fn walk(first: &str, id: &str) -> (Vec<Vec<String>>, Vec<u64>) {
    let mut pages = Vec::new();
    let mut totals = Vec::new();
    let mut url = format!("{first}page_size=2");
    loop {
        let (status, page) = get(url.clone()).await;
        assert_eq!(status, 200, "{url}: {page}");
        pages.push(page["items"].as_array().unwrap().iter().map(|i| i[id].as_str().unwrap().to_owned()).collect());
        totals.push(page["total"].as_u64().unwrap());
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{first}page_size=2&cursor={cursor}"),
            None => return (pages, totals),
        }
        assert!(pages.len() < 10, "the walk does not end: {pages:?}");
    }
}

#[tokio::test]
async fn every_list_pages_by_size_and_cursor_embedded() {
    let data = TempDir::new();
    every_list_pages_by_size_and_cursor(Server::start("all", data.path(), &[]).await).await;
}

#[tokio::test]
async fn every_list_pages_by_size_and_cursor_on_nats_and_postgresql() {
    let data = TempDir::new();
    let (_stream, env) = support::split_backends().await;
    every_list_pages_by_size_and_cursor(Server::start("all", data.path(), &env).await).await;
}

async fn every_list_pages_by_size_and_cursor(server: Server) {
    // Arrange: five new referrals (five people) and three IDVA cases.
    let base = server.base.clone();
    let mut referrals = BTreeSet::new();
    let mut people = Vec::new();
    let mut position = 0;
    for n in 0..5 {
        let born = format!("1980-01-1{n}");
        let (status, person) = api::register_person(&base, &api::person("Page", &format!("Walker{n}"), &born)).await;
        assert_eq!(status, 201, "{person}");
        let person_id = person["person_id"].as_str().unwrap().to_owned();
        let (status, received) =
            api::receive_referral(&base, &api::referral(&person_id, ReferralSource::Partner, false)).await;
        assert_eq!(status, 201, "{received}");
        referrals.insert(received["referral_id"].as_str().unwrap().to_owned());
        position = position.max(received["position"].as_u64().unwrap());
        people.push(person_id);
    }
    let mut cases = BTreeSet::new();
    let mut case_position = 0;
    for person_id in &people[..3] {
        let (status, opened) = api::refer_directly(&base, "idva", &api::direct_referral(person_id, "police")).await;
        assert_eq!(status, 201, "{opened}");
        cases.insert(opened["case_id"].as_str().unwrap().to_owned());
        case_position = case_position.max(opened["position"].as_u64().unwrap());
    }

    // Act and assert: page_size 2 walks three pages of the queue and sees every referral once.
    let queue = format!("{base}/api/hub/queues/new-referrals?wait_for={position}&");
    let (pages, totals) = walk(&queue, "referral_id").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1], "{pages:?}");
    assert_eq!(totals, [5, 5, 5]);
    let seen: Vec<String> = pages.concat();
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), referrals, "every referral once");
    assert_eq!(seen.len(), referrals.len());

    // The same for a specialist caseload.
    let caseload = format!("{base}/api/specialist/idva/cases?wait_for={case_position}&");
    let (pages, totals) = walk(&caseload, "case_id").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1], "{pages:?}");
    assert_eq!(totals, [3, 3]);
    assert_eq!(pages.concat().into_iter().collect::<BTreeSet<_>>(), cases);

    // Too large a page is refused in plain words; a cursor of another list is refused.
    let (status, refused) = get(format!("{base}/api/hub/queues/new-referrals?page_size=501")).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("page_size_out_of_range")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("at most 500"), "{refused}");
    let (_, first) = get(format!("{base}/api/hub/queues/new-referrals?page_size=1")).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (status, refused) = get(format!("{base}/api/hub/queues/open-cases?cursor={cursor}")).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("cursor_of_another_list")), "{refused}");
    let (status, all) = get(format!("{base}/api/hub/queues/new-referrals?page_size=500")).await;
    assert_eq!((status, all["items"].as_array().unwrap().len()), (200, 5), "{all}");
    assert!(all.get("next_cursor").is_none(), "{all}");
    server.stop();
}

const FEED_HEADER: &str = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
safe_to_email,safe_to_write,consent_basis,enhanced_rights,referred_on";

/// Posts the police feed as the body, as a hub officer; the answer.
async fn upload(base: &str, feed: &str, query: &str) -> (u16, Value) {
    let officer = support::session(base, "hub_officer").await;
    let response = reqwest::Client::new()
        .post(format!("{base}/api/hub/police-feed{query}"))
        .header("cookie", &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .header("content-type", "text/csv")
        .body(feed.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_police_feed_uploads_as_a_json_operation() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let today = support::day_offset(0);
    let referred = support::day_offset(-1);
    let feed = format!(
        "{FEED_HEADER}\n\
         API/1,{today},burglary,N,Ann,Feed,1975-06-07,F,W1,N,07700 900101,,,,Y,Y,Y,Y,Y,explicit,N,{referred}\n\
         API/2,{today},theft,N,Ben,Feed,1999-09-09,M,,,07700 900102,,,,Y,U,U,U,U,opt_out,N,{referred}\n\
         API/3,31/12/2026,theft,N,Calloway,Feed,1970-01-01,M,,,,,,,U,U,U,U,U,opt_out,N,{referred}\n"
    );

    // A check only: counts and the refused row, nothing imported.
    let (status, checked) = upload(&base, &feed, "?dry_run=true").await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(
        (checked["rows_read"].as_u64(), checked["valid"].as_u64(), checked["created"].as_u64()),
        (Some(3), Some(2), Some(0))
    );
    let refused = &checked["refused"][0];
    assert_eq!((refused["line"].as_u64(), refused["column"].as_str()), (Some(4), Some("reported_date")), "{checked}");
    assert!(!refused["reason"].as_str().unwrap().is_empty());
    assert!(!checked.to_string().contains("Calloway"), "a refused row's details are never repeated back: {checked}");

    // The same check as a multipart upload (the `feed` field), as a browser or a form library sends it.
    let officer = support::session(&base, "hub_officer").await;
    let form = reqwest::multipart::Form::new()
        .part("feed", reqwest::multipart::Part::bytes(feed.clone().into_bytes()).file_name("feed.csv"));
    let response = reqwest::Client::new()
        .post(format!("{base}/api/hub/police-feed?dry_run=true"))
        .header("cookie", &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let multipart: Value = response.json().await.unwrap();
    assert_eq!(multipart, checked);

    // The import: the ids it created and the log position to read them at.
    let (status, imported) = upload(&base, &feed, "").await;
    assert_eq!(status, 200, "{imported}");
    assert_eq!((imported["created"].as_u64(), imported["already_imported"].as_u64()), (Some(2), Some(0)), "{imported}");
    let ids: Vec<&str> = imported["referral_ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    let position = imported["position"].as_u64().unwrap();
    for id in &ids {
        let (status, referral) = get(format!("{base}/api/hub/referrals/{id}?wait_for={position}")).await;
        assert_eq!((status, referral["source"].as_str()), (200, Some("police_feed")), "{referral}");
    }

    // The same file again creates nothing new.
    let (status, again) = upload(&base, &feed, "").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((again["created"].as_u64(), again["already_imported"].as_u64()), (Some(0), Some(2)), "{again}");
    assert_eq!(again["referral_ids"], json!([]));

    // A file that cannot be used as a whole is refused in words.
    let (status, unusable) = upload(&base, "crime_reference,reported_date\nX/1,2026-01-01\n", "").await;
    assert_eq!((status, unusable["error"]["code"].as_str()), (422, Some("feed_unusable")), "{unusable}");
    assert!(unusable["error"]["message"].as_str().unwrap().contains("missing"), "{unusable}");
    server.stop();
}

/// `POST /api/account/password` with `body` in `session`.
async fn change_with(base: &str, session: &support::Session, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/account/password"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn one_changes_ones_own_password_through_the_api() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    support::create_account(&base, "pat.word", "Pat Word", "hub_officer", Some("the first long password")).await;
    let pat = sign_in(&base, "pat.word", "the first long password").await.unwrap();
    let other = sign_in(&base, "pat.word", "the first long password").await.unwrap();
    let change = |current: &str, new: &str| {
        let (pat, base) = (pat.clone(), base.clone());
        let body = json!({"current_password": current, "new_password": new});
        async move { change_with(&base, &pat, &body).await }
    };

    // A body that is not the request asked for is refused with the error body too.
    let (status, unreadable) = change_with(&base, &pat, &json!({"current": "the first long password"})).await;
    assert_eq!((status, unreadable["error"]["code"].as_str()), (422, Some("unreadable_request")), "{unreadable}");
    assert!(unreadable["error"]["message"].as_str().unwrap().contains("current_password"), "{unreadable}");
    let (status, missing) = request(reqwest::Method::GET, &format!("{base}/api/no-such-route"), None, None).await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")), "{missing}");

    let (status, refused) = change("not the password", "a second long password").await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("password_refused")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("current password"), "{refused}");
    let (status, refused) = change("the first long password", "short").await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("at least 12"), "{refused}");
    let (status, _) = change("the first long password", "a second long password").await;
    assert_eq!(status, 204);

    // The old password no longer signs in, the new one does; the session it was changed in goes on, the other ended.
    assert_eq!(sign_in(&base, "pat.word", "the first long password").await.unwrap_err().0, 401);
    sign_in(&base, "pat.word", "a second long password").await.unwrap();
    let queue = format!("{base}/api/hub/queues/new-referrals");
    let with =
        |session: &support::Session| reqwest::Client::new().get(&queue).header("cookie", session.cookie.clone()).send();
    assert_eq!(with(&pat).await.unwrap().status().as_u16(), 200);
    assert_eq!(with(&other).await.unwrap().status().as_u16(), 401);

    // Without the CSRF header it is refused.
    let response = reqwest::Client::new()
        .post(format!("{base}/api/account/password"))
        .header("cookie", &pat.cookie)
        .json(&json!({"current_password": "a second long password", "new_password": "a third long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    server.stop();
}

#[tokio::test]
async fn every_metric_has_a_help_line() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    // Something of everything: requests, an append, projections at work.
    let (status, person) = api::register_person(&base, &api::person("Metric", "Counted", "1980-05-05")).await;
    assert_eq!(status, 201, "{person}");
    let (status, _) = post(format!("{base}/api/people"), json!({})).await;
    assert!(status >= 400);
    let (status, _) = request(reqwest::Method::GET, &format!("{base}/readyz"), None, None).await;
    assert_eq!(status, 200);

    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    let helped: HashSet<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# HELP ")).map(|l| l.split(' ').next().unwrap()).collect();
    let typed: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.split(' ').next().unwrap()).collect();
    for name in
        ["casetrack_http_request_duration_seconds", "casetrack_log_appends_total", "casetrack_log_head_position"]
    {
        assert!(typed.contains(&name), "{name} is not in /metrics:\n{text}");
    }
    let missing: Vec<&&str> = typed.iter().filter(|name| !helped.contains(**name)).collect();
    assert!(missing.is_empty(), "metrics without a # HELP line: {missing:?}\n{text}");
    server.stop();
}
