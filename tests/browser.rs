//! Casetrack as people use it: headless Chromium (Debian's `chromium` and `chromium-driver`, which `scripts/test`
//! installs) driven over WebDriver. A hub officer signs in and works a referral to closure through the forms; a
//! commissioner signs in, lands on the figures (one referral: shown as "<5") and is refused the person's page; an auditor signs in and finds both
//! visits in the audit trail. Every page is saved as a screenshot under `target/tmp/browser/`.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_proto::contact::{SafeContact, Safety};
use casetrack_proto::hub::ReferralSource;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support::{Server, api, day_offset, session};

/// A chromedriver of the test's own, on a free port; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/test installs Debian's chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{url}/status")).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start in 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, url }
    }

    async fn browser(&self) -> Client {
        // Two TLS back-ends are in the build; name one (the WebDriver connection is plain HTTP on loopback anyway).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100"]}),
        );
        ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves what the browser shows, numbered in the order of the journey.
struct Camera {
    folder: PathBuf,
    taken: usize,
}

impl Camera {
    fn new(test: &str) -> Self {
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser").join(test);
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        Self { folder, taken: 0 }
    }

    async fn shoot(&mut self, browser: &Client, name: &str) {
        self.taken += 1;
        let png = browser.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        std::fs::write(self.folder.join(format!("{:02}-{name}.png", self.taken)), png).unwrap();
    }
}

async fn text(browser: &Client) -> String {
    browser.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

async fn fill(browser: &Client, name: &str, value: &str) {
    let field = browser.find(Locator::Css(&format!("[name='{name}']"))).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Chooses a radio option by clicking its label, as a person does.
async fn choose(browser: &Client, name: &str, value: &str) {
    browser.find(Locator::Css(&format!("label[for='{name}-{value}']"))).await.unwrap().click().await.unwrap();
}

/// Submits a form by clicking its button, and waits for the page that answers.
async fn submit(browser: &Client, form_action_ends: &str) {
    let page = browser.find(Locator::Css("html")).await.unwrap();
    let selector = format!("form[action$='{form_action_ends}'] button[type='submit']");
    browser.find(Locator::Css(&selector)).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The old page's elements go stale once the new page has replaced it.
    while page.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "submitting {form_action_ends} loaded no new page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.wait().for_element(Locator::Css("body")).await.unwrap();
}

async fn sign_in(browser: &Client, base: &str, username: &str, password: &str) {
    if !browser.current_url().await.unwrap().path().starts_with("/sign-in") {
        browser.goto(&format!("{base}/sign-in")).await.unwrap();
    }
    fill(browser, "username", username).await;
    fill(browser, "password", password).await;
    submit(browser, "/sign-in").await;
}

async fn sign_out(browser: &Client) {
    submit(browser, "/sign-out").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/sign-in");
}

#[tokio::test]
async fn an_officer_works_a_referral_a_commissioner_is_refused_and_an_auditor_finds_both() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    // The accounts (test.<role>, with the password the test kit gives them) and a referral to work.
    for role in ["hub_officer", "commissioner", "auditor"] {
        session(&base, role).await;
    }
    let (status, person) = api::register_person(&base, &api::person("Morgan", "Browser", "1991-06-07")).await;
    assert_eq!(status, 201);
    let person_id = person["person_id"].as_str().unwrap().to_owned();
    let (status, referral) = api::receive_referral(
        &base,
        &ReceiveReferralRequest {
            safe_contact: SafeContact { phone: Safety::Safe, ..Default::default() },
            when: WhenRequest { occurred_at: Some(format!("{}T00:00:00Z", day_offset(-1))), late_reason: None },
            ..api::referral(&person_id, ReferralSource::PoliceFeed, false)
        },
    )
    .await;
    assert_eq!(status, 201);
    let referral_path = format!("/hub/referrals/{}", referral["referral_id"].as_str().unwrap());

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    let mut camera = Camera::new("referral_to_audit");

    // The officer follows a link to the referral, signs in, and lands on it.
    browser.goto(&format!("{base}{referral_path}")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/sign-in");
    camera.shoot(&browser, "sign-in").await;
    sign_in(&browser, &base, "test.hub_officer", "password of test.hub_officer").await;
    assert_eq!(browser.current_url().await.unwrap().path(), referral_path, "{}", text(&browser).await);
    assert!(text(&browser).await.contains("Morgan Browser"));
    camera.shoot(&browser, "referral").await;

    // Reached on the phone yesterday morning, support accepted, closed with the victim's answers.
    choose(&browser, "attempt-channel", "phone").await;
    fill(&browser, "attempt-date", &day_offset(-1)).await;
    fill(&browser, "attempt-time", "10:30").await;
    choose(&browser, "attempt-outcome", "reached").await;
    submit(&browser, "/attempt").await;
    assert!(text(&browser).await.contains("Contacted"), "{}", text(&browser).await);
    camera.shoot(&browser, "contacted").await;
    submit(&browser, "/accept").await;
    assert!(text(&browser).await.contains("Supported"));
    let answers =
        browser.find_all(Locator::Css("form[action$='/close'] input[type='radio'][value='improved']")).await.unwrap();
    assert!(answers.len() >= 4, "every outcome measure is asked");
    for answer in answers {
        let id = answer.attr("id").await.unwrap().unwrap();
        browser.find(Locator::Css(&format!("label[for='{id}']"))).await.unwrap().click().await.unwrap();
    }
    submit(&browser, "/close").await;
    let closed = text(&browser).await;
    assert!(closed.contains("Closed"), "{closed}");
    camera.shoot(&browser, "closed").await;
    sign_out(&browser).await;

    // The commissioner lands on the figures (small numbers suppressed), and is refused the person's page.
    sign_in(&browser, &base, "test.commissioner", "password of test.commissioner").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/figures");
    let figures = text(&browser).await;
    assert!(figures.contains("Referrals received") && figures.contains("HUB") && figures.contains("<5"), "{figures}");
    camera.shoot(&browser, "commissioner-figures").await;
    browser.goto(&format!("{base}{referral_path}")).await.unwrap();
    let refused = text(&browser).await;
    assert!(refused.contains("You cannot open this") && !refused.contains("Morgan"), "{refused}");
    camera.shoot(&browser, "commissioner-refused").await;
    sign_out(&browser).await;

    // The auditor finds both visits to the person's record.
    sign_in(&browser, &base, "test.auditor", "password of test.auditor").await;
    browser.goto(&format!("{base}/audit")).await.unwrap();
    fill(&browser, "person", &person_id).await;
    submit(&browser, "/audit").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let trail = text(&browser).await;
        if trail.contains("test.commissioner") && trail.contains("test.hub_officer") {
            assert!(trail.contains("Refused (403)") && trail.contains("Allowed (200)"), "{trail}");
            break;
        }
        assert!(Instant::now() < deadline, "the trail never showed both visits: {trail}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.refresh().await.unwrap();
    }
    camera.shoot(&browser, "audit-trail").await;
    browser.close().await.unwrap();
    server.stop();
}
