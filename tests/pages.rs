//! A hub officer's day through the pages only (forms posted as a browser posts them, no JSON API), in both
//! topologies:
//!
//! - the police feed uploaded on the upload page (a bad row listed, the good ones imported, a second upload
//!   creating nothing);
//! - a domestic-abuse referral whose voicemail is unsafe: the warning is on the page, voicemail is not offered, a
//!   forged voicemail attempt is refused with the rule; three attempts at three times of day, then unable to
//!   contact;
//! - a referral contacted, needs assessed, support accepted, a session, referred on to the IDVA service (the case
//!   the service opens shows on the referral), closed with outcomes;
//! - a referral contacted and declined;
//! - an inbound call logged, later reported to police;
//! - the public self-referral form: quick exit, what was typed kept after an error (never cached), a rate limit per
//!   address.

mod support;

use std::time::{Duration, Instant};

use casetrack_eventstore::testkit::TempDir;
use reqwest::redirect::Policy;
use support::{Server, Session, day_offset, session, split_backends};

/// A browser that follows no redirects, so each answer is checked as it comes. Signed in, it sends the session
/// cookie and posts each form's CSRF field, as a browser posting the page's form would.
struct Browser {
    client: reqwest::Client,
    base: String,
    session: Option<Session>,
}

struct Page {
    status: u16,
    location: Option<String>,
    cache_control: Option<String>,
    body: String,
}

impl Browser {
    /// A signed-out visitor (the public).
    fn new(base: &str) -> Self {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        Self { client, base: base.to_owned(), session: None }
    }

    /// Someone signed in as `role` (`hub_officer`, `caseworker:idva`, ...).
    async fn signed_in(base: &str, role: &str) -> Self {
        Self { session: Some(session(base, role).await), ..Self::new(base) }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.session {
            Some(session) => request.header("cookie", &session.cookie),
            None => request,
        }
    }

    async fn answer(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).map(|l| l.to_str().unwrap().to_owned());
        let (location, cache_control) = (header("location"), header("cache-control"));
        Page { status, location, cache_control, body: response.text().await.unwrap() }
    }

    async fn get(&self, path: &str) -> Page {
        let page =
            Self::answer(self.with_cookie(self.client.get(format!("{}{path}", self.base))).send().await.unwrap()).await;
        // Every form that posts carries the session's CSRF token.
        let forms = page.body.matches("method=\"post\"").count();
        if let Some(session) = &self.session {
            let tokens = page.body.matches(&format!("name=\"csrf\" value=\"{}\"", session.csrf)).count();
            let public = page.body.matches("action=\"/self-referral\"").count();
            assert_eq!(tokens, forms - public, "a form of {path} lacks the CSRF field");
        }
        page
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut fields = fields.to_vec();
        if let Some(session) = &self.session {
            fields.push(("csrf", &session.csrf));
        }
        let request = self.with_cookie(self.client.post(format!("{}{path}", self.base)).form(&fields));
        Self::answer(request.send().await.unwrap()).await
    }

    /// Posts a form that must save: answered with a redirect, which is then followed.
    async fn save(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let saved = self.post(path, fields).await;
        assert_eq!(saved.status, 303, "{path} did not save: {}", error_summary(&saved.body));
        self.get(saved.location.as_deref().unwrap()).await
    }

    async fn upload(&self, csv: String) -> Page {
        let csrf = self.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .part("feed", reqwest::multipart::Part::text(csv).file_name("feed.csv").mime_str("text/csv").unwrap());
        let request = self.with_cookie(self.client.post(format!("{}/hub/intake/upload", self.base)).multipart(form));
        Self::answer(request.send().await.unwrap()).await
    }

    /// Reloads `path` until `done` holds (reactors in other processes work asynchronously), for at most 20 s.
    async fn eventually(&self, path: &str, done: impl Fn(&str) -> bool) -> Page {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let page = self.get(path).await;
            if page.status == 200 && done(&page.body) {
                return page;
            }
            assert!(Instant::now() < deadline, "{path} never showed what was expected");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The text of the error summary, or empty when the page has none.
fn error_summary(body: &str) -> String {
    body.split("class=\"govuk-error-summary\"")
        .nth(1)
        .map(|rest| text(rest.split("</ul>").next().unwrap()))
        .unwrap_or_default()
}

/// Text without tags, entities decoded for the few a message uses.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The referral id of the queue row that shows `crime_reference`.
fn referral_in_queue(body: &str, crime_reference: &str) -> String {
    let row = body
        .split("<tr class=\"govuk-table__row\">")
        .find(|row| row.contains(&format!(">{crime_reference}</td>")))
        .unwrap_or_else(|| panic!("{crime_reference} is not in the queue"));
    let start = row.find("/hub/referrals/").unwrap() + "/hub/referrals/".len();
    row[start..start + 36].to_owned()
}

const FEED_HEADER: &str = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
safe_to_email,safe_to_write,consent_basis,enhanced_rights,referred_on";

async fn hub_officer_day(hub: &Browser) {
    let today = day_offset(0);
    let yesterday = day_offset(-1);
    // Referred by the police the day before yesterday: the attempts and the session below were yesterday.
    let referred = day_offset(-2);

    // Intake: the police feed through the upload page.
    let feed = format!(
        "{FEED_HEADER}\n\
         PG/1,{today},violence_with_injury,Y,Dana,Unsafe,1988-03-04,F,W1,N,07700 900001,,,AB1 2CD,Y,N,N,U,N,opt_out,Y,{referred}\n\
         PG/2,{today},burglary,N,Eli,Helped,1975-06-07,M,B2,U,07700 900002,eli@example.org,,,Y,Y,Y,Y,Y,explicit,N,{referred}\n\
         PG/3,{today},theft,N,Fay,Declines,1999-09-09,F,,,07700 900003,,,,Y,U,U,U,U,opt_out,N,{referred}\n\
         PG/4,31/12/2026,theft,N,Gus,Bad,1970-01-01,M,,,,,,,U,U,U,U,U,opt_out,N,{referred}\n"
    );
    let uploaded = hub.upload(feed.clone()).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    let summary = text(&uploaded.body);
    assert!(summary.contains("Valid rows 3 Rejected rows 1 New referrals 3"), "{summary}");
    assert!(summary.contains("5 reported_date PG/4"), "the bad row is listed by line and column: {summary}");
    assert!(!summary.contains("Gus"), "a rejected row's personal details are not shown");
    let again = text(&hub.upload(feed).await.body);
    assert!(again.contains("New referrals 0 Already imported 3"), "{again}");

    // The work queue: enhanced rights first.
    // (The feed's rows are imported side by side: the queue is read once every one of them is in it.)
    let all_in = |body: &str| ["PG/1", "PG/2", "PG/3"].iter().all(|reference| body.contains(reference));
    let queue = hub.eventually("/hub/queues/new-referrals", all_in).await;
    let (unsafe_one, helped, declines) = (
        referral_in_queue(&queue.body, "PG/1"),
        referral_in_queue(&queue.body, "PG/2"),
        referral_in_queue(&queue.body, "PG/3"),
    );
    assert!(queue.body.find("PG/1").unwrap() < queue.body.find("PG/2").unwrap(), "enhanced rights first");

    // Safe contact is in view before any action, and an unsafe channel is not offered.
    let page = hub.get(&format!("/hub/referrals/{unsafe_one}")).await;
    assert_eq!(page.status, 200);
    let shown = text(&page.body);
    assert!(shown.contains("Dana Unsafe"), "the person's summary: {shown}");
    let warning = shown.find("Do not use: voicemail, text message, letter").expect("the unsafe channels are named");
    assert!(warning < shown.find("Record a contact attempt").unwrap(), "the warning comes before the actions");
    assert!(!page.body.contains("id=\"attempt-channel-voicemail\""), "voicemail is not offered");
    // A forged post cannot use it either: refused with the rule, on the same page.
    let attempts = format!("/hub/referrals/{unsafe_one}/attempt");
    let refused = hub
        .post(
            &attempts,
            &[
                ("attempt-channel", "voicemail"),
                ("attempt-date", &yesterday),
                ("attempt-time", "10:00"),
                ("attempt-outcome", "no_answer"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(error_summary(&refused.body).contains("voicemail is marked unsafe"), "{}", error_summary(&refused.body));
    // Bad input: every problem listed, nothing saved.
    let incomplete = hub.post(&attempts, &[("attempt-date", "yesterday")]).await;
    assert_eq!(incomplete.status, 422);
    let problems = error_summary(&incomplete.body);
    assert!(
        problems.contains("Choose how you tried")
            && problems.contains("Enter the date")
            && problems.contains("Choose what happened"),
        "{problems}"
    );

    // The victim's own rules, with a caution, replace the referrer's; the caution is shown above every action.
    let page = hub
        .save(
            &format!("/hub/referrals/{unsafe_one}/safe-contact"),
            &[
                ("safe-phone", "safe"),
                ("safe-voicemail", "unsafe"),
                ("safe-text", "unsafe"),
                ("safe-email", "unknown"),
                ("safe-letter", "unsafe"),
                ("safe-visit", "unsafe"),
                ("safe-caution", "If a man answers, say it is the surgery"),
            ],
        )
        .await;
    let shown = text(&page.body);
    let caution = shown.find("Caution: If a man answers, say it is the surgery").expect("the caution is shown");
    assert!(caution < shown.find("Record a contact attempt").unwrap(), "{shown}");
    assert!(shown.contains("A caution was recorded."), "the timeline says so without repeating it");

    // Three attempts at three times of day (UK time), then unable to contact.
    for (n, time) in ["09:30", "13:30", "18:30"].into_iter().enumerate() {
        let page = hub
            .save(
                &attempts,
                &[
                    ("attempt-channel", "phone"),
                    ("attempt-date", &yesterday),
                    ("attempt-time", time),
                    ("attempt-outcome", "no_answer"),
                ],
            )
            .await;
        if n < 2 {
            assert!(!page.body.contains("Record unable to contact"), "not before the attempt rule is met");
            let refused = hub.post(&format!("/hub/referrals/{unsafe_one}/unable"), &[]).await;
            assert!(error_summary(&refused.body).contains("attempts"), "{}", error_summary(&refused.body));
        }
    }
    let page = hub.save(&format!("/hub/referrals/{unsafe_one}/unable"), &[]).await;
    let shown = text(&page.body);
    assert!(shown.contains("Unable to contact") && shown.contains("Recorded as unable to contact"), "{shown}");
    assert!(shown.contains("This referral takes no more work"), "{shown}");

    // Contacted, needs, support, a session, referred on, closed with outcomes.
    let base = format!("/hub/referrals/{helped}");
    hub.save(&format!("{base}/allocate"), &[("allocate-officer", "a.khan")]).await;
    hub.save(
        &format!("{base}/attempt"),
        &[
            ("attempt-channel", "phone"),
            ("attempt-date", &yesterday),
            ("attempt-time", "11:00"),
            ("attempt-outcome", "reached"),
        ],
    )
    .await;
    hub.save(&format!("{base}/outreach"), &[("outreach-channel", "letter")]).await;
    hub.save(&format!("{base}/needs"), &[("needs-needs", "emotional_support"), ("needs-needs", "safety_and_security")])
        .await;
    hub.save(&format!("{base}/accept"), &[]).await;
    hub.save(
        &format!("{base}/session"),
        &[("session-date", &yesterday), ("session-mode", "phone"), ("session-minutes", "40")],
    )
    .await;
    hub.save(&format!("{base}/onward"), &[("onward-service", "idva")]).await;
    let page = hub.eventually(&base, |body| body.contains("Case opened")).await;
    assert!(text(&page.body).contains("IDVA opened a case"), "the closed loop shows on the referral");
    let mine = hub.get("/hub/queues/open-cases?officer=a.khan").await;
    assert!(mine.body.contains(&helped) && !mine.body.contains(&declines), "open cases by officer");
    let closing = format!("{base}/close");
    let partial = hub.post(&closing, &[("close-cope", "improved")]).await;
    assert!(
        error_summary(&partial.body).contains("Choose an answer for “Feels safer”"),
        "{}",
        error_summary(&partial.body)
    );
    let page = hub
        .save(
            &closing,
            &[
                ("close-cope", "improved"),
                ("close-safer", "improved"),
                ("close-health_wellbeing", "no_change"),
                ("close-informed_empowered", "improved"),
                ("close-cjs_experience", "not_asked"),
            ],
        )
        .await;
    let shown = text(&page.body);
    assert!(
        shown.contains("Closed with outcomes") && shown.contains("Better able to cope with everyday life: improved"),
        "{shown}"
    );
    for event in [
        "Allocated to a.khan",
        "Outreach letter sent",
        "Needs assessed",
        "Support accepted",
        "Support session",
        "Referred on to IDVA",
    ] {
        assert!(shown.contains(event), "the timeline shows {event:?}: {shown}");
    }

    // Contacted, then declined with a reason. On the way, consent to refer on is asked for first.
    let base = format!("/hub/referrals/{declines}");
    let page = hub
        .save(
            &format!("{base}/attempt"),
            &[
                ("attempt-channel", "phone"),
                ("attempt-date", &yesterday),
                ("attempt-time", "15:00"),
                ("attempt-outcome", "reached"),
            ],
        )
        .await;
    assert!(page.body.contains("Consent to refer on") && !page.body.contains("id=\"onward-service-idva\""));
    let why = hub.post(&format!("{base}/consent"), &[("consent-basis", "overridden"), ("consent-reason", "")]).await;
    assert!(error_summary(&why.body).contains("Give a reason"), "{}", error_summary(&why.body));
    let page = hub.save(&format!("{base}/consent"), &[("consent-basis", "explicit")]).await;
    assert!(page.body.contains("id=\"onward-service-idva\"") && text(&page.body).contains("Consent given to refer on"));
    let blank = hub.post(&format!("{base}/decline"), &[("decline-reason", " ")]).await;
    assert!(error_summary(&blank.body).contains("Give a reason"), "{}", error_summary(&blank.body));
    let page = hub.save(&format!("{base}/decline"), &[("decline-reason", "has support from family")]).await;
    let shown = text(&page.body);
    assert!(shown.contains("Support declined") && shown.contains("has support from family"), "{shown}");

    // An inbound call: a self-referral that starts contacted, later reported to police.
    let call = hub.get("/hub/intake/call").await;
    let submission = hidden(&call.body, "submission");
    let call_fields = [
        ("submission", submission.as_str()),
        ("forename", "Hal"),
        ("surname", "Caller"),
        ("date_of_birth", "1960-01-01"),
        ("phone", "01632 960001"),
        ("safe", "phone"),
        ("offence", "fraud"),
    ];
    let page = hub.save("/hub/intake/call", &call_fields).await;
    let shown = text(&page.body);
    assert!(
        shown.contains("Hal Caller") && shown.contains("Contacted") && shown.contains("Not reported to police"),
        "{shown}"
    );
    let referral = page_referral(&page.body);
    // The same form sent twice (a double click, a retry) creates nothing new.
    let twice = hub.post("/hub/intake/call", &call_fields).await;
    assert_eq!(twice.location.as_deref().map(|l| l.contains(&referral)), Some(true));
    let page = hub
        .save(
            &format!("/hub/referrals/{referral}/police-report"),
            &[("police-report-reference", "CR/CALL/1"), ("police-report-date", &today)],
        )
        .await;
    assert!(text(&page.body).contains("Crime reference CR/CALL/1"), "{}", text(&page.body));

    // A victim already referred by the police calls in: the same name and date of birth is shown as a possible
    // duplicate; once an officer links them, the new referral is a repeat (another referral within 12 months).
    let call = hub.get("/hub/intake/call").await;
    let submission = hidden(&call.body, "submission");
    let page = hub
        .save(
            "/hub/intake/call",
            &[
                ("submission", &submission),
                ("forename", "eli"),
                ("surname", "HELPED"),
                ("date_of_birth", "1975-06-07"),
                ("safe", "phone"),
            ],
        )
        .await;
    let repeat = page_referral(&page.body);
    assert!(!text(&page.body).contains("Repeat victim"));
    let page = hub.eventually(&format!("/hub/referrals/{repeat}"), |body| body.contains("Possible duplicates")).await;
    let other = hidden(&page.body, "other");
    let page =
        hub.save(&format!("/hub/referrals/{repeat}/duplicate"), &[("other", &other), ("decision", "linked")]).await;
    let shown = text(&page.body);
    assert!(shown.contains("Repeat victim") && shown.contains("Same person"), "{shown}");
}

/// The value of a hidden field.
fn hidden(body: &str, name: &str) -> String {
    let field = body.split(&format!("name=\"{name}\" value=\"")).nth(1).expect("hidden field");
    field.split('"').next().unwrap().to_owned()
}

/// The referral id of a referral page (from its forms' actions).
fn page_referral(body: &str) -> String {
    let start = body.find("action=\"/hub/referrals/").expect("a referral form") + "action=\"/hub/referrals/".len();
    body[start..start + 36].to_owned()
}

async fn public_self_referral(public: &Browser, limit: usize) {
    let form = public.get("/self-referral").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("id=\"quick-exit\"") && form.body.contains("/assets/quick-exit.js"), "quick exit");
    let submission = hidden(&form.body, "submission");
    // Bad input: the problems are listed, and what the victim typed is still in the form (in the answer to their
    // own POST, which no cache keeps), so they need not start again.
    let refused = public
        .post(
            "/self-referral",
            &[
                ("submission", &submission),
                ("forename", "Ivy"),
                ("surname", "Secretname"),
                ("date_of_birth", "31/02/1980"),
                ("phone", "07700 900555"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Secretname\"") && refused.body.contains("value=\"07700 900555\""), "kept");
    assert_eq!(refused.cache_control.as_deref(), Some("no-store"), "never cached");
    let problems = error_summary(&refused.body);
    assert!(
        problems.contains("date of birth") && problems.contains("safe way") && problems.contains("Tick the box"),
        "{problems}"
    );
    let fields = [
        ("submission", submission.as_str()),
        ("forename", "Ivy"),
        ("surname", "Secretname"),
        ("date_of_birth", "1980-04-03"),
        ("email", "ivy@example.org"),
        ("safe", "email"),
        ("consent", "yes"),
    ];
    let sent = public.post("/self-referral", &fields).await;
    assert_eq!((sent.status, sent.location.as_deref()), (303, Some("/self-referral/thanks")));
    let thanks = public.get("/self-referral/thanks").await;
    assert!(thanks.body.contains("Request sent") && !thanks.body.contains("Secretname"));
    // Two posts so far from this address; the limit refuses the one after it is used up.
    for _ in 2..limit {
        assert_eq!(public.post("/self-referral", &fields).await.status, 303);
    }
    let limited = public.post("/self-referral", &fields).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
}

/// An IDVA caseworker's day through the service's pages: a direct referral, accepted, reached, DASH 16, MARAC
/// referred and heard, a closing assessment, closed with the service's outcome measures.
/// Returns the id of the case it worked.
async fn idva_caseworker_day(idva: &Browser) -> String {
    let today = day_offset(0);
    // The referral came in yesterday: the calls below are this morning.
    let yesterday = chrono::NaiveDate::parse_from_str(&day_offset(-1), "%Y-%m-%d").unwrap();
    let (day, month, year) =
        (yesterday.format("%d").to_string(), yesterday.format("%m").to_string(), yesterday.format("%Y").to_string());
    let services = idva.get("/services").await;
    assert!(services.body.contains("href=\"/services/idva\""), "{}", services.body);
    let form = idva.get("/services/idva/refer").await;
    let submission = hidden(&form.body, "submission");
    let refused = idva.post("/services/idva/refer", &[("submission", &submission), ("source", "hub")]).await;
    assert_eq!(refused.status, 422);
    let problems = error_summary(&refused.body);
    assert!(problems.contains("Choose who referred") && problems.contains("Enter the first name"), "{problems}");
    let page = idva
        .save(
            "/services/idva/refer",
            &[
                ("submission", &submission),
                ("source", "marac"),
                ("forename", "Jo"),
                ("surname", "Direct"),
                ("date_of_birth", "1980-01-01"),
                ("phone", "07700 900777"),
                ("safe", "phone"),
                ("flags", "domestic_abuse"),
                ("refer-when-day", &day),
                ("refer-when-month", &month),
                ("refer-when-year", &year),
            ],
        )
        .await;
    let shown = text(&page.body);
    assert!(
        shown.contains("Jo Direct") && shown.contains("Awaiting decision") && shown.contains("Do not use"),
        "{shown}"
    );
    let start = page.body.find("action=\"/services/idva/cases/").unwrap() + "action=\"/services/idva/cases/".len();
    let case = page.body[start..start + 36].to_owned();
    let base = format!("/services/idva/cases/{case}");
    idva.save(&format!("{base}/accept"), &[]).await;
    idva.save(&format!("{base}/allocate"), &[("allocate-caseworker", "s.jones")]).await;
    // The victim says texts are safe after all, but only in the afternoon for calls.
    let page = idva
        .save(
            &format!("{base}/safe-contact"),
            &[
                ("safe-phone", "safe"),
                ("safe-voicemail", "unsafe"),
                ("safe-text", "safe"),
                ("safe-email", "unknown"),
                ("safe-letter", "unsafe"),
                ("safe-visit", "unsafe"),
            ],
        )
        .await;
    assert!(text(&page.body).contains("Safe: phone, text message"), "{}", text(&page.body));
    idva.save(
        &format!("{base}/attempt"),
        &[
            ("attempt-channel", "phone"),
            ("attempt-date", &today),
            ("attempt-time", "00:00"),
            ("attempt-outcome", "reached"),
        ],
    )
    .await;
    let mut dash: Vec<(String, String)> =
        (1..=24).map(|n| (format!("risk-q-{n}"), if n <= 16 { "yes" } else { "no" }.to_owned())).collect();
    dash.extend([("risk-checklist".to_owned(), "dash".to_owned()), ("risk-level".to_owned(), "medium".to_owned())]);
    let fields: Vec<(&str, &str)> = dash.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let page = idva.save(&format!("{base}/risk"), &fields).await;
    let shown = text(&page.body);
    assert!(shown.contains("High risk") && shown.contains("DASH score 16"), "{shown}");
    idva.save(&format!("{base}/marac-referral"), &[("marac-date", &today)]).await;
    let page = idva.save(&format!("{base}/marac-heard"), &[("marac-date", &today)]).await;
    assert!(text(&page.body).contains("Heard at MARAC"));
    let closing = [
        ("close-reason", "support_completed"),
        ("close-abuse_ceased_or_reduced", "improved"),
        ("close-safer", "improved"),
        ("close-cope", "no_change"),
        ("close-health_wellbeing", "not_asked"),
    ];
    let early = idva.post(&format!("{base}/close"), &closing).await;
    assert!(error_summary(&early.body).contains("final risk assessment"), "{}", error_summary(&early.body));
    let mut final_dash = fields.clone();
    final_dash.retain(|(n, _)| !n.starts_with("risk-q-"));
    final_dash.extend([("risk-closure", "yes")]);
    let final_dash: Vec<(&str, &str)> =
        final_dash.into_iter().map(|(n, v)| if n == "risk-level" { (n, "standard") } else { (n, v) }).collect();
    idva.save(&format!("{base}/risk"), &final_dash).await;
    let page = idva.save(&format!("{base}/close"), &closing).await;
    let shown = text(&page.body);
    assert!(shown.contains("Closed: support completed") && shown.contains("Re-open the case"), "{shown}");
    let caseload = idva.eventually("/services/idva?view=all", |body| body.contains(&case)).await;
    assert_eq!(caseload.status, 200);
    case
}

const LIMIT: usize = 4;

#[tokio::test]
async fn a_hub_officer_works_referrals_through_the_pages_in_one_process() {
    let data = TempDir::new();
    let env = [("CASETRACK_SELF_REFERRALS_PER_HOUR", LIMIT.to_string())];
    let server = Server::start("all", data.path(), &env).await;
    let browser = Browser::signed_in(&server.base, "hub_officer").await;
    hub_officer_day(&browser).await;
    public_self_referral(&Browser::new(&server.base), LIMIT).await;
    let idva = Browser::signed_in(&server.base, "caseworker:idva").await;
    // A case of one service is not found through another's pages, even by that other service's caseworker.
    let case = &idva_caseworker_day(&idva).await;
    let isva = Browser::signed_in(&server.base, "caseworker:isva").await;
    let other = isva.get(&format!("/services/isva/cases/{case}")).await;
    assert_eq!(other.status, 404);
    // The IDVA caseworker is refused the ISVA service's pages outright.
    let refused = idva.get(&format!("/services/isva/cases/{case}")).await;
    assert_eq!(refused.status, 403);
    for action in [
        "accept",
        "decline",
        "withdraw",
        "reopen",
        "support-declined",
        "allocate",
        "attempt",
        "unable",
        "risk",
        "marac-referral",
        "marac-heard",
        "cjs",
        "spo",
        "rj-information",
        "rj-suitability",
        "rj-consent",
        "rj-form",
        "rj-outcome",
        "intervention",
        "plan",
        "note",
        "close",
    ] {
        let refused = isva.post(&format!("/services/isva/cases/{case}/{action}"), &[("reopen-reason", "x")]).await;
        assert!(matches!(refused.status, 404 | 422), "{action} on another service's case: {}", refused.status);
        assert!(!refused.body.contains("Jo Direct"), "{action} shows nothing of another service's case");
    }
    let unchanged = idva.get(&format!("/services/idva/cases/{case}")).await;
    assert!(
        text(&unchanged.body).contains("Closed: support completed") && !unchanged.body.contains("Re-opened"),
        "{}",
        text(&unchanged.body)
    );
    // The self-referral reached the hub's queue.
    let queue = browser
        .eventually("/hub/queues/new-referrals?source=self_referral", |b| {
            b.contains("<tbody class=\"govuk-table__body\">")
        })
        .await;
    assert_eq!(
        queue.body.matches("<tr class=\"govuk-table__row\">").count(),
        2,
        "one header row and one self-referral: resubmissions made nothing new"
    );
    server.stop();
}

#[tokio::test]
async fn a_hub_officer_works_referrals_through_the_pages_across_processes() {
    let (_stream, mut env) = split_backends().await;
    env.push(("CASETRACK_SELF_REFERRALS_PER_HOUR", LIMIT.to_string()));
    let data = TempDir::new();
    let people = Server::start("access,people", data.path(), &env).await;
    let hub = Server::start("hub", data.path(), &env).await;
    let idva = Server::start("idva", data.path(), &env).await;
    let browser = Browser::signed_in(&hub.base, "hub_officer").await;
    hub_officer_day(&browser).await;
    public_self_referral(&Browser::new(&hub.base), LIMIT).await;
    let _case = idva_caseworker_day(&Browser::signed_in(&idva.base, "caseworker:idva").await).await;
    for server in [people, hub, idva] {
        server.stop();
    }
}
