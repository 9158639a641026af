//! Casetrack as people use it: headless Chromium (Debian's `chromium` and `chromium-driver`, which `scripts/test`
//! installs) driven over WebDriver. A hub officer signs in and works a referral to closure through the forms; a
//! commissioner signs in, lands on the figures and is refused the person's page; an auditor signs in and finds both
//! visits in the audit trail, told as sentences. A hub officer's and an IDVA caseworker's day (queues and a caseload
//! of more than a page, search, allocation from the staff, "my cases", the record pages) is walked at 1366 px and
//! 390 px: on every page axe-core (vendored by `scripts/update-frontend`) finds no WCAG 2.2 AA violation, no id is
//! in the visible text, the first action begins within three screens and nothing is wider than the screen. Every
//! page is saved as a screenshot under `target/tmp/browser/`.

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
        // The whole page, not only the window: the browser is made as tall as the page for the picture.
        let (width, height) = browser.get_window_size().await.unwrap();
        let tall = browser.execute("return document.documentElement.scrollHeight;", vec![]).await.unwrap();
        let tall = tall.as_u64().unwrap_or(height).clamp(height, 8000);
        browser.set_window_size(width as u32, tall as u32).await.unwrap();
        browser.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
        let png = browser.screenshot().await.unwrap();
        browser.set_window_size(width as u32, height as u32).await.unwrap();
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

/// Sends a search by name: the form that posts to `action` (a name never goes in a URL), and waits for the answer.
async fn search_by_name(browser: &Client, action: &str) {
    let page = browser.find(Locator::Css("html")).await.unwrap();
    let selector = format!("form[method='post'][action$='{action}'] button[type='submit']");
    browser.find(Locator::Css(&selector)).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while page.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "the search by name loaded no new page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.wait().for_element(Locator::Css("body")).await.unwrap();
}

/// Opens the disclosure of one of the record's actions (`#action-{name}`), as a person clicks its summary.
async fn open_action(browser: &Client, name: &str) {
    let summary = browser.find(Locator::Css(&format!("#action-{name} > summary"))).await.unwrap();
    summary.click().await.unwrap();
}

/// 2026-04-23 as people type it: 23/04/2026.
fn uk_date(iso: &str) -> String {
    let (year, rest) = iso.split_once('-').unwrap();
    let (month, day) = rest.split_once('-').unwrap();
    format!("{day}/{month}/{year}")
}

/// axe-core, as `scripts/update-frontend` vendored it: injected into each page the test checks.
const AXE: &str = include_str!("../services/web/assets/vendor/axe.min.js");

/// The WCAG 2.2 AA rules (and the A rules under them).
const WCAG_AA: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Runs axe-core on the page the browser shows; every WCAG 2.2 AA violation, in words.
async fn accessibility_violations(browser: &Client) -> Vec<String> {
    browser.execute(AXE, vec![]).await.expect("axe-core loads");
    let found = browser
        .execute(
            "return axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}}).then(r => r.violations.map(v =>              v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')));",
            vec![json!(WCAG_AA)],
        )
        .await
        .expect("axe-core runs");
    serde_json::from_value(found).unwrap()
}

/// Phone and desktop: a person at a desk, and one with a phone.
const WIDTHS: [(u32, u32); 2] = [(1366, 768), (390, 844)];

/// Checks the page the browser shows at both widths, saving a screenshot of each: no WCAG 2.2 AA violation, no
/// record id in the visible text, and `first_action` (a CSS selector) begins within three screens of the top.
async fn check_page(browser: &Client, camera: &mut Camera, name: &str, first_action: &str) {
    for (width, height) in WIDTHS {
        browser.set_window_size(width, height).await.unwrap();
        let inner = browser.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
        let inner_height = inner[1].as_f64().unwrap();
        let visible = text(browser).await;
        let uuid = browser
            .execute(
                "return (document.body.innerText.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i)                  || [null])[0];",
                vec![],
            )
            .await
            .unwrap();
        assert!(uuid.is_null(), "{name} at {width} px shows an id ({uuid}) in its text:\n{visible}");
        let top = browser
            .execute(
                "const e = document.querySelector(arguments[0]);                  return e ? e.getBoundingClientRect().top + window.scrollY : null;",
                vec![json!(first_action)],
            )
            .await
            .unwrap();
        let top = top.as_f64().unwrap_or_else(|| panic!("{name} has no {first_action}:\n{visible}"));
        assert!(
            top < 3.0 * inner_height,
            "{name} at {width} px: its first action ({first_action}) is {top} px down, more than three screens of \
             {inner_height} px"
        );
        let overflow =
            browser.execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await.unwrap();
        assert!(overflow.as_f64().unwrap() <= 1.0, "{name} at {width} px is wider than the screen by {overflow} px");
        camera.shoot(browser, &format!("{name}-{width}")).await;
        let violations = accessibility_violations(browser).await;
        assert!(violations.is_empty(), "{name} at {width} px fails WCAG 2.2 AA:\n{}", violations.join("\n"));
    }
    browser.set_window_size(WIDTHS[0].0, WIDTHS[0].1).await.unwrap();
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

    // Reached on the phone yesterday morning, support accepted, closed with the victim's answers: each action of the
    // stage behind its disclosure.
    open_action(&browser, "attempt").await;
    choose(&browser, "attempt-channel", "phone").await;
    fill(&browser, "attempt-date", &uk_date(&day_offset(-1))).await;
    fill(&browser, "attempt-time", "10:30").await;
    choose(&browser, "attempt-outcome", "reached").await;
    submit(&browser, "/attempt").await;
    assert!(text(&browser).await.contains("Contacted"), "{}", text(&browser).await);
    camera.shoot(&browser, "contacted").await;
    open_action(&browser, "accept").await;
    submit(&browser, "/accept").await;
    assert!(text(&browser).await.contains("Supported"));
    open_action(&browser, "close").await;
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
    assert!(
        figures.contains("Figures for") && figures.contains("Victim and Witness Hub") && !figures.contains("Morgan"),
        "{figures}"
    );
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
        // Each entry a sentence: who by name and role, what, which record by reference, when.
        if trail.contains("Test commissioner (commissioner) viewed referral HUB-")
            && trail.contains("Test hub_officer (hub officer) viewed referral HUB-")
        {
            assert!(trail.contains("and was refused (403)"), "{trail}");
            break;
        }
        assert!(Instant::now() < deadline, "the trail never showed both visits: {trail}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.refresh().await.unwrap();
    }
    check_page(&browser, &mut camera, "audit-trail", "main table").await;
    browser.close().await.unwrap();
    server.stop();
}

/// How many referrals and cases the day's test loads: more than a page of each (50), so paging, counts and search
/// are seen working. (A 100,000-referral installation is measured apart: `docs/performance.md`.)
const LOAD: usize = 60;

#[tokio::test]
async fn a_hub_officer_and_an_idva_caseworker_live_a_day_in_the_pages() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    session(&base, "hub_officer").await;
    session(&base, "caseworker:idva").await;
    support::create_account(&base, "jo.smith", "Jo Smith", "hub_officer", Some("a long password for jo")).await;
    support::create_account(&base, "sam.patel", "Sam Patel", "caseworker:idva", Some("a long password for sam")).await;

    // A day's work waiting: referrals for the hub (the first about Morgan Browser, domestic abuse, crime reference
    // AB/12345/26) and direct referrals to the IDVA service.
    let mut morgan = None;
    for n in 0..LOAD {
        let (forename, surname) = if n == 0 {
            ("Morgan".to_owned(), "Browser".to_owned())
        } else {
            (format!("Person{n}"), "Example".to_owned())
        };
        let (status, person) = api::register_person(&base, &api::person(&forename, &surname, "1987-04-23")).await;
        assert_eq!(status, 201, "{person}");
        let person_id = person["person_id"].as_str().unwrap().to_owned();
        let (status, referral) = api::receive_referral(
            &base,
            &ReceiveReferralRequest {
                safe_contact: SafeContact { phone: Safety::Safe, email: Safety::Unsafe, ..Default::default() },
                crime_reference: Some(format!("AB/{:05}/26", 12345 + n)),
                when: WhenRequest { occurred_at: Some(format!("{}T00:00:00Z", day_offset(-1))), late_reason: None },
                ..api::referral(&person_id, ReferralSource::PoliceFeed, n == 0)
            },
        )
        .await;
        assert_eq!(status, 201, "{referral}");
        if n == 0 {
            morgan = Some(referral["referral_id"].as_str().unwrap().to_owned());
        }
        let (status, case) = api::refer_directly(&base, "idva", &api::direct_referral(&person_id, "police")).await;
        assert_eq!(status, 201, "{case}");
    }
    let morgan = morgan.unwrap();

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    let mut camera = Camera::new("a_day");

    // The hub officer: the queues, with counts on the tabs, a total and pages.
    browser.goto(&format!("{base}/hub")).await.unwrap();
    sign_in(&browser, &base, "jo.smith", "a long password for jo").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text(&browser).await.contains(&format!("of {LOAD} referrals")) {
        assert!(Instant::now() < deadline, "the queue never showed every referral: {}", text(&browser).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.refresh().await.unwrap();
    }
    let queue = text(&browser).await;
    assert!(queue.contains(&format!("New referrals ({LOAD})")), "{queue}");
    assert!(queue.contains("HUB-") && !queue.contains("Morgan"), "a list names referrals, not victims: {queue}");
    check_page(&browser, &mut camera, "hub-queue", "main table a").await;
    browser.find(Locator::Css("a[aria-label='Page 2']")).await.unwrap().click().await.unwrap();
    let second = text(&browser).await;
    assert!(second.contains(&format!("Showing 51 to {LOAD} of {LOAD} referrals")), "{second}");

    // Finds Morgan by name and date of birth (typed as people write it), sent in the body, never in the URL; and by
    // crime reference.
    browser.find(Locator::Css("details.govuk-details > summary")).await.unwrap().click().await.unwrap();
    fill(&browser, "forename", "morgan").await;
    fill(&browser, "surname", "BROWSER").await;
    fill(&browser, "dob", "23/04/1987").await;
    search_by_name(&browser, "/hub/search").await;
    let found = text(&browser).await;
    assert!(found.contains("1 referral found") && found.contains("AB/12345/26"), "{found}");
    let url = browser.current_url().await.unwrap();
    assert!(!url.as_str().to_lowercase().contains("morgan") && url.query().is_none(), "a name in the URL: {url}");
    check_page(&browser, &mut camera, "hub-search", "#results").await;
    browser.goto(&format!("{base}/hub/search?q=ab/12345/26")).await.unwrap();
    assert!(text(&browser).await.contains("1 referral found"));
    browser.find(Locator::Css("#results + p + table a")).await.unwrap().click().await.unwrap();
    assert!(browser.current_url().await.unwrap().path().ends_with(&morgan));

    // The referral page: who and what first, the stage's actions each one line, the timeline; titled by reference.
    let title = browser.title().await.unwrap();
    assert!(title.starts_with("Referral HUB-") && !title.contains("Morgan"), "{title}");
    let page = text(&browser).await;
    assert!(
        page.contains("Morgan Browser") && page.contains("Safe contact") && page.contains("Do not use: email"),
        "{page}"
    );
    assert!(!page.contains("Record support accepted"), "an action of a later stage is not offered: {page}");
    check_page(&browser, &mut camera, "referral", "details.app-action").await;

    // Takes it on: allocation is a choice from the hub's staff.
    open_action(&browser, "allocate").await;
    let officer = browser.find(Locator::Css("select[name='allocate-officer']")).await.unwrap();
    officer.select_by_value("jo.smith").await.unwrap();
    submit(&browser, "/allocate").await;
    let allocated = text(&browser).await;
    assert!(
        allocated.contains("Allocated to Jo Smith") && allocated.contains("by Jo Smith (hub officer)"),
        "{allocated}"
    );

    // Reaches Morgan, typing the date as people write it.
    open_action(&browser, "attempt").await;
    choose(&browser, "attempt-channel", "phone").await;
    fill(&browser, "attempt-date", &uk_date(&day_offset(0))).await;
    fill(&browser, "attempt-time", "00:01").await;
    choose(&browser, "attempt-outcome", "reached").await;
    submit(&browser, "/attempt").await;
    let contacted = text(&browser).await;
    assert!(contacted.contains("Contacted") && contacted.contains("Contact attempt by phone"), "{contacted}");
    check_page(&browser, &mut camera, "referral-contacted", "details.app-action").await;

    // "My referrals": the one Jo holds.
    browser.goto(&format!("{base}/hub/queues/open-cases?officer=me")).await.unwrap();
    let mine = text(&browser).await;
    assert!(mine.contains("of 1 referral") && mine.contains("Jo Smith"), "{mine}");
    sign_out(&browser).await;

    // The IDVA caseworker: the caseload, with counts, pages and references.
    sign_in(&browser, &base, "sam.patel", "a long password for sam").await;
    browser.goto(&format!("{base}/services/idva")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text(&browser).await.contains(&format!("Every case ({LOAD})")) {
        assert!(Instant::now() < deadline, "the caseload never showed every case: {}", text(&browser).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.refresh().await.unwrap();
    }
    let caseload = text(&browser).await;
    assert!(
        caseload.contains("IDVA-") && caseload.contains("50 on this page") && !caseload.contains("Person1 "),
        "{caseload}"
    );
    check_page(&browser, &mut camera, "caseload", "main table a").await;
    browser.find(Locator::Css("a[rel='next']")).await.unwrap().click().await.unwrap();
    assert!(text(&browser).await.contains(&format!("{} on this page", LOAD - 50)));

    // Finds Morgan's case by name, opens it, accepts it and takes it on.
    browser.goto(&format!("{base}/services/idva")).await.unwrap();
    fill(&browser, "forename", "Morgan").await;
    fill(&browser, "surname", "Browser").await;
    fill(&browser, "dob", "1987-04-23").await;
    search_by_name(&browser, "/services/idva").await;
    assert!(!browser.current_url().await.unwrap().as_str().contains("Morgan"), "a name in the URL");
    browser.find(Locator::Css("#results + table a")).await.unwrap().click().await.unwrap();
    let title = browser.title().await.unwrap();
    assert!(title.contains("case IDVA-") && !title.contains("Morgan"), "{title}");
    check_page(&browser, &mut camera, "case", "details.app-action").await;
    open_action(&browser, "accept").await;
    submit(&browser, "/accept").await;
    open_action(&browser, "allocate").await;
    let caseworker = browser.find(Locator::Css("select[name='allocate-caseworker']")).await.unwrap();
    caseworker.select_by_value("sam.patel").await.unwrap();
    submit(&browser, "/allocate").await;
    let case = text(&browser).await;
    assert!(case.contains("Allocated to Sam Patel") && case.contains("by Sam Patel (IDVA caseworker)"), "{case}");
    check_page(&browser, &mut camera, "case-accepted", "details.app-action").await;

    // My caseload: the one case Sam holds.
    browser.goto(&format!("{base}/services/idva?view=mine")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !text(&browser).await.contains("My caseload (1)") {
        assert!(Instant::now() < deadline, "my caseload never showed the case: {}", text(&browser).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.refresh().await.unwrap();
    }
    check_page(&browser, &mut camera, "my-caseload", "main table a").await;
    sign_out(&browser).await;

    // The commissioner's figures for the year: headlines first, a section per service, never a person.
    session(&base, "commissioner").await;
    sign_in(&browser, &base, "test.commissioner", "password of test.commissioner").await;
    browser.goto(&format!("{base}/figures?period=FY2026-27")).await.unwrap();
    let figures = text(&browser).await;
    assert!(figures.contains("The period at a glance") && figures.contains("Victim and Witness Hub"), "{figures}");
    check_page(&browser, &mut camera, "figures", "main form").await;

    // The public form keeps what was typed after an error, and passes the same checks.
    sign_out(&browser).await;
    browser.goto(&format!("{base}/self-referral")).await.unwrap();
    check_page(&browser, &mut camera, "self-referral", "#quick-exit").await;
    browser.close().await.unwrap();
    server.stop();
}
