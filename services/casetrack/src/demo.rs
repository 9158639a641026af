//! `casetrack demo` (and `casetrack serve --demo`): a realistic year of a mid-sized police area's victim services,
//! given through the real commands (the same code, validation and rules as the API, never rows written by hand),
//! each at the time it would have been given, so that a newcomer sees a living dashboard at once.
//!
//! Referrals arrive on working days through the year; hub officers try to reach each victim at different times of
//! day, support most of those they reach, refer some on, and close with the cope-and-recover measures; the IDVA,
//! ISVA and stalking services take direct referrals and work them. About one hub victim in seven is referred again
//! during the year (a repeat victim). The people are made up (names like "Demo
//! Person 17"); nobody real is in it. The same seed gives the same year.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use casetrack_eventstore::clock;
use casetrack_hub::HubSettings;
use casetrack_hub::api::Hub;
use casetrack_proto::{Actor, PersonId, ReferralId, ServiceCode, StaffName};
use casetrack_specialist::api::Desk;
use casetrack_web::Context;
use casetrack_web::accounts::{self, Account, NewAccount};
use casetrack_web::http::ApiError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Hub referrals in the year (a mid-sized area receives several thousand).
    #[arg(long, default_value_t = 4000)]
    pub referrals: u32,
    /// The same seed gives the same year.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

/// The demo staff: who gives the commands, and who a newcomer signs in as.
const STAFF: [(&str, &str, &str, Option<&str>); 6] = [
    ("demo.officer", "Demo hub officer", "hub_officer", None),
    ("demo.manager", "Demo hub manager", "hub_manager", None),
    ("demo.commissioner", "Demo commissioner", "commissioner", None),
    ("demo.idva", "Demo IDVA", "caseworker", Some("idva")),
    ("demo.isva", "Demo ISVA", "caseworker", Some("isva")),
    ("demo.stalking", "Demo stalking advocate", "caseworker", Some("stalking")),
];

/// What a run did.
#[derive(Debug, Default)]
pub struct Generated {
    pub commands: usize,
    /// Commands the rules refused (a demo that is not realistic; reported, never hidden).
    pub refused: usize,
    pub first_refusal: Option<String>,
}

impl Generated {
    pub fn summary(&self) -> String {
        let mut text = format!("demo: {} commands given", self.commands);
        if let Some(first) = &self.first_refusal {
            text.push_str(&format!(", {} refused (the first: {first})", self.refused));
        }
        text
    }
}

/// Makes the demo staff accounts that do not exist yet; returns each account, and the one-time passwords of the
/// ones just made.
async fn staff(ctx: &Context) -> anyhow::Result<(Vec<Account>, Vec<(String, String)>)> {
    let existing = accounts::list_accounts(&ctx.db).await?;
    let mut all = Vec::new();
    let mut made = Vec::new();
    for (username, name, role, service) in STAFF {
        if let Some(account) = existing.iter().find(|a| a.username.as_str() == username) {
            all.push(account.clone());
            continue;
        }
        let password = accounts::one_time_password();
        let new = NewAccount {
            username: StaffName::parse(username).map_err(anyhow::Error::msg)?,
            display_name: name.to_owned(),
            role: accounts::parse_role(role, service).map_err(anyhow::Error::msg)?,
            password: Some(password.clone()),
            must_change_password: true,
        };
        all.push(accounts::create_account(&ctx.db, new).await?);
        made.push((username.to_owned(), password));
    }
    Ok((all, made))
}

/// A moment on `day` at `hour:minute` in England and Wales.
fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = day.and_hms_opt(hour, minute, 0).expect("a valid time");
    chrono_tz::Europe::London.from_local_datetime(&naive).earliest().expect("not in a clock change gap").to_utc()
}

fn working_day_after(mut day: NaiveDate, days: i64) -> NaiveDate {
    let mut left = days;
    while left > 0 {
        day = day.succ_opt().expect("in range");
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

fn pick<'a, T>(rng: &mut StdRng, weighted: &'a [(T, u32)]) -> &'a T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (value, weight) in weighted {
        if n < *weight {
            return value;
        }
        n -= weight;
    }
    &weighted[0].0
}

/// One referral's story, decided up front from its own random stream (so the year is the same whatever order
/// the stories run in).
struct Story {
    index: u32,
    received: DateTime<Utc>,
    rng: StdRng,
    /// The earlier hub story whose victim this one is about again (a repeat victim).
    repeat_of: Option<u32>,
}

/// A victim as the hub first recorded them, for their later referrals.
#[derive(Clone)]
struct Victim {
    person_id: PersonId,
    born: NaiveDate,
    gender: &'static str,
    ethnicity: &'static str,
    disability: &'static str,
}

struct Demo<'a> {
    ctx: &'a Context,
    hub: Hub,
    desk: Desk,
    officer: Account,
    caseworkers: Vec<(String, Account)>,
    now: DateTime<Utc>,
    commands: AtomicUsize,
    refused: AtomicUsize,
    first_refusal: std::sync::Mutex<Option<String>>,
    /// The hub stories' victims, by story, for the repeat victims' later referrals.
    victims: std::sync::Mutex<std::collections::HashMap<u32, Victim>>,
}

impl Demo<'_> {
    /// The victim of an earlier story, once it has registered them (stories run a few at a time, and the earlier
    /// one started first). None when it never did (a refused registration): the later story then has its own.
    async fn victim_of(&self, story: u32) -> Option<Victim> {
        for _ in 0..1000 {
            if let Some(victim) = self.victims.lock().expect("not poisoned").get(&story) {
                return Some(victim.clone());
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        None
    }

    /// Gives one command as `who` at `when`; a refusal is counted and the story goes on without it.
    async fn give<T, F>(&self, who: &Account, when: DateTime<Utc>, command: F) -> Option<T>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        if when > self.now {
            return None; // not happened yet: the referral is still where the story reached by today
        }
        self.commands.fetch_add(1, Ordering::Relaxed);
        match casetrack_web::access::as_account(who.clone(), clock::at(when, command)).await {
            Ok(value) => Some(value),
            Err(error) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let mut first = self.first_refusal.lock().expect("not poisoned");
                first.get_or_insert_with(|| format!("{}: {}", error.code, error.message));
                None
            }
        }
    }

    async fn person(&self, story: &mut Story, when: DateTime<Utc>) -> Option<(PersonId, NaiveDate)> {
        let born = NaiveDate::from_ymd_opt(story.rng.gen_range(1940..2012), story.rng.gen_range(1..=12), 1)?;
        let request: casetrack_people::interface::RegisterPersonRequest = serde_json::from_value(json!({
            "forename": "Demo", "surname": format!("Person {}", story.index), "date_of_birth": born.to_string(),
        }))
        .ok()?;
        let registered = self
            .give(&self.officer, when, casetrack_people::interface::register_as_signed_in(self.ctx, &request))
            .await?;
        Some((registered.person_id, born))
    }

    /// A hub referral from receipt to wherever it has got to by today (None: the story stopped early).
    async fn hub_story(&self, mut story: Story) -> Option<()> {
        use casetrack_hub::referral::{accept_support, decline_support, return_to_referrer};
        let received = story.received;
        let earlier = match story.repeat_of {
            Some(index) => self.victim_of(index).await,
            None => None,
        };
        let (person_id, born) = match &earlier {
            Some(victim) => (victim.person_id, victim.born),
            None => self.person(&mut story, received).await?,
        };
        let rng = &mut story.rng;
        let source = *pick(rng, &[("police_feed", 70), ("self_referral", 18), ("partner", 12)]);
        let offence = *pick(
            rng,
            &[
                ("violence_with_injury", 14),
                ("violence_without_injury", 20),
                ("sexual_offence", 7),
                ("stalking_harassment", 10),
                ("robbery", 3),
                ("burglary", 9),
                ("theft", 17),
                ("criminal_damage", 10),
                ("fraud", 6),
                ("hate_crime", 2),
                ("other", 2),
            ],
        );
        let domestic_abuse =
            matches!(offence, "violence_with_injury" | "violence_without_injury" | "stalking_harassment")
                && rng.gen_bool(0.45);
        let gender = *pick(rng, &[("female", 56), ("male", 41), ("other", 1), ("unknown", 2)]);
        let ethnicity = *pick(
            rng,
            &[
                ("W1", 68),
                ("W2", 2),
                ("W9", 4),
                ("M1", 1),
                ("M3", 1),
                ("M9", 1),
                ("A1", 3),
                ("A2", 3),
                ("A9", 1),
                ("B1", 2),
                ("B2", 1),
                ("O9", 2),
                ("NS", 5),
                ("", 6),
            ],
        );
        let disability = *pick(rng, &[("yes", 14), ("no", 60), ("unknown", 26)]);
        // A repeat victim is who they were the first time.
        let victim = earlier.unwrap_or(Victim { person_id, born, gender, ethnicity, disability });
        let (gender, ethnicity, disability) = (victim.gender, victim.ethnicity, victim.disability);
        self.victims.lock().expect("not poisoned").entry(story.index).or_insert(victim);
        let age_band = casetrack_proto::profile::AgeBand::at(born, received.date_naive());
        let mut profile = json!({"gender": gender, "disability": disability, "age_band": age_band});
        if !ethnicity.is_empty() {
            profile["ethnicity"] = json!(ethnicity);
        }
        // Nationality, where the victim gave it: mostly British, as an English county's victims are.
        let nationalities = [("GB", 80), ("PL", 4), ("RO", 3), ("IN", 2), ("PK", 2), ("NG", 1), ("UA", 1), ("", 7)];
        let nationality = *pick(rng, &nationalities);
        if !nationality.is_empty() {
            profile["nationality"] = json!(nationality);
        }
        let withheld = rng.gen_bool(0.03);
        // The Victims' Code's enhanced rights: victims of domestic abuse and of sexual offences among them, and some
        // others (the most serious crime, persistently targeted, vulnerable or intimidated).
        let enhanced = domestic_abuse || offence == "sexual_offence" || rng.gen_bool(0.08);
        let mut request = json!({
            "person_id": person_id, "source": source, "offence_category": offence, "domestic_abuse": domestic_abuse,
            "safe_contact": {"phone": "safe", "voicemail": if rng.gen_bool(0.8) { "safe" } else { "unknown" }},
            "consent": if withheld { "withheld" } else { "opt_out" }, "profile": profile,
            "enhanced_rights": enhanced,
        });
        if source == "police_feed" {
            let reported = received.date_naive() - Duration::days(rng.gen_range(0..3));
            request["crime_reported_on"] = json!(reported);
            request["crime_reference"] = json!(format!("DEMO/{:06}", story.index));
        }
        let request = serde_json::from_value(request).ok()?;
        let referral_id = ReferralId::new();
        let officer = &self.officer;
        let by = Actor::user(officer.account_id, officer.role.clone());
        self.give(officer, received, self.hub.receive(referral_id, request, by)).await?;
        if withheld {
            return Some(());
        }
        if rng.gen_bool(0.04) {
            let why = "The phone number given does not belong to the victim.";
            let at = received + Duration::hours(rng.gen_range(2..30));
            let returned = self.hub.decide(referral_id, |state| return_to_referrer(state, referral_id, why));
            self.give(officer, at, returned).await;
            return Some(());
        }
        // Up to three tries, at different times of day, before "unable to contact".
        // From the next working day or the one after: within the Victims' Code's two, mostly.
        let mut day = working_day_after(received.date_naive(), rng.gen_range(1..3));
        let mut reached_at = None;
        for (attempt, (hour, chance)) in [(10, 0.62), (14, 0.5), (18, 0.4)].into_iter().enumerate() {
            let at = local(day, hour, rng.gen_range(0..50));
            let reached = rng.gen_bool(chance);
            let attempt_request = json!({"channel": "phone", "attempted_at": at,
                "outcome": if reached { "reached" } else if attempt == 0 { "no_answer" } else { "voicemail_left" }});
            let attempt_request = serde_json::from_value(attempt_request).ok()?;
            self.give(officer, at, self.hub.record_attempt(referral_id, attempt_request)).await?;
            if reached {
                reached_at = Some(at);
                break;
            }
            day = working_day_after(day, 1);
        }
        let Some(reached_at) = reached_at else {
            let now = Default::default();
            self.give(officer, local(day, 9, 30), self.hub.record_unable_to_contact(referral_id, &now)).await;
            return Some(());
        };
        let later = reached_at + Duration::minutes(30);
        if rng.gen_bool(0.16) {
            let why = "Does not want support at the moment.";
            let declined = self.hub.decide(referral_id, |state| decline_support(state, referral_id, why));
            self.give(officer, later, declined).await;
            return Some(());
        }
        let accepted = self.hub.decide(referral_id, |state| accept_support(state, referral_id));
        self.give(officer, later, accepted).await?;
        // Their needs, assessed on the same call (the Victims' Code clock for a needs assessment counts it).
        let needs = [("emotional_support", 40), ("safety_and_security", 25), ("health_and_wellbeing", 15)];
        let assessment = json!({"needs": [*pick(rng, &needs)]});
        if let Ok(assessment) = serde_json::from_value(assessment) {
            let assessed = later + Duration::minutes(10);
            self.give(officer, assessed, self.hub.assess_needs(referral_id, assessment)).await;
        }
        let onward = match offence {
            _ if domestic_abuse && rng.gen_bool(0.35) => Some("idva"),
            "sexual_offence" if rng.gen_bool(0.5) => Some("isva"),
            "stalking_harassment" if rng.gen_bool(0.3) => Some("stalking"),
            _ if rng.gen_bool(0.03) => Some("rj"),
            _ => None,
        };
        if let Some(service) = onward {
            // Only with the victim's explicit agreement to their details going on.
            let consent = serde_json::from_value(json!({"basis": "explicit"})).ok()?;
            let asked = later + Duration::minutes(15);
            self.give(officer, asked, self.hub.record_consent(referral_id, consent)).await?;
            let onward = serde_json::from_value(json!({"service": service})).ok()?;
            self.give(officer, asked + Duration::minutes(5), self.hub.refer_on(referral_id, onward)).await;
        }
        // Closed some weeks later, with the cope-and-recover measures in force that day.
        let closed_at = local(working_day_after(reached_at.date_naive(), rng.gen_range(10..50)), 15, 0);
        let set = casetrack_hub::measures::in_force(closed_at.date_naive())?;
        let answers: Vec<Value> = set
            .measures
            .iter()
            .map(|m| {
                let answer = *pick(rng, &[("improved", 66), ("no_change", 22), ("worse", 3), ("not_asked", 9)]);
                json!({"measure": m.code, "answer": answer})
            })
            .collect();
        let closure = serde_json::from_value(json!({"answers": answers})).ok()?;
        self.give(officer, closed_at, self.hub.close(referral_id, closure)).await;
        Some(())
    }

    /// A direct referral to a specialist service, worked by its caseworker.
    async fn service_story(&self, mut story: Story, service: &str, source: &str) -> Option<()> {
        let received = story.received;
        let (person_id, born) = self.person(&mut story, received).await?;
        let (_, worker) = self.caseworkers.iter().find(|(s, _)| s == service)?;
        let rng = &mut story.rng;
        let domestic_abuse = service == "idva" || rng.gen_bool(0.3);
        let request = json!({"person_id": person_id, "source": source, "domestic_abuse": domestic_abuse,
            "safe_contact": {"phone": "safe"}, "date_of_birth": born});
        let request = serde_json::from_value(request).ok()?;
        let opened = self.give(worker, received, self.desk.refer_directly(service, request)).await?;
        let case_id = opened.case_id;
        let decided = received + Duration::hours(rng.gen_range(1..24));
        if rng.gen_bool(0.08) {
            let reason = serde_json::from_value(json!({"reason": "Outside the service's criteria."})).ok()?;
            self.give(worker, decided, self.desk.decline(service, case_id, reason)).await;
            return Some(());
        }
        self.give(worker, decided, self.desk.accept(service, case_id)).await?;
        let mut day = working_day_after(decided.date_naive(), 1);
        let mut reached_at = None;
        for (hour, chance) in [(10, 0.7), (14, 0.55), (18, 0.45)] {
            let at = local(day, hour, rng.gen_range(0..50));
            let reached = rng.gen_bool(chance);
            let attempt = json!({"channel": "phone", "attempted_at": at,
                "outcome": if reached { "reached" } else { "no_answer" }});
            let attempt = serde_json::from_value(attempt).ok()?;
            self.give(worker, at, self.desk.record_attempt(service, case_id, attempt)).await?;
            if reached {
                reached_at = Some(at);
                break;
            }
            day = working_day_after(day, 1);
        }
        let Some(reached_at) = reached_at else {
            self.give(worker, local(day, 9, 30), self.desk.record_unable_to_contact(service, case_id)).await;
            return Some(());
        };
        let assessed = reached_at + Duration::minutes(45);
        if service == "idva" {
            let high = rng.gen_bool(0.45);
            let risk = json!({"checklist": "professional", "level": if high { "high" } else { "medium" },
                "reasons": if high { json!(["professional_judgement"]) } else { json!([]) }});
            if let Ok(risk) = serde_json::from_value(risk) {
                self.give(worker, assessed, self.desk.assess_risk(service, case_id, risk)).await;
            }
            if high {
                let referred = working_day_after(assessed.date_naive(), 1);
                let on = serde_json::from_value(json!({"on": referred})).ok();
                if let Some(on) = on {
                    self.give(worker, local(referred, 11, 0), self.desk.refer_to_marac(service, case_id, on)).await;
                }
                let heard = working_day_after(referred, rng.gen_range(5..20));
                let on = serde_json::from_value(json!({"on": heard})).ok();
                if let Some(on) = on {
                    self.give(worker, local(heard, 16, 0), self.desk.marac_heard(service, case_id, on)).await;
                }
            }
        }
        let closed_day = working_day_after(reached_at.date_naive(), rng.gen_range(20..90));
        if service == "idva" {
            let risk = json!({"checklist": "professional", "level": "standard", "at_closure": true});
            if let Ok(risk) = serde_json::from_value(risk) {
                self.give(worker, local(closed_day, 14, 0), self.desk.assess_risk(service, case_id, risk)).await;
            }
        }
        let definition = self.desk.service(service).ok()?;
        let answers: Vec<Value> = definition
            .measures_on(closed_day)?
            .measures
            .iter()
            .map(|m| {
                let answer = *pick(rng, &[("improved", 70), ("no_change", 20), ("worse", 3), ("not_asked", 7)]);
                json!({"measure": m.code, "answer": answer})
            })
            .collect();
        let close = serde_json::from_value(json!({"reason": "support_completed", "answers": answers}));
        self.give(worker, local(closed_day, 15, 0), self.desk.close(service, case_id, close.ok()?)).await;
        Some(())
    }
}

/// The working days of the year ending yesterday, and for each the moment a referral arrives.
fn arrivals(rng: &mut StdRng, count: u32, today: NaiveDate) -> Vec<DateTime<Utc>> {
    let start = today - Duration::days(365);
    let days: Vec<NaiveDate> = start
        .iter_days()
        .take_while(|d| *d < today)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect();
    let mut out: Vec<DateTime<Utc>> = (0..count)
        .map(|_| {
            let day = days[rng.gen_range(0..days.len())];
            local(day, rng.gen_range(8..18), rng.gen_range(0..60))
        })
        .collect();
    out.sort();
    out
}

/// Gives the year's commands. Stories run a few at a time (each referral's commands in order).
pub async fn generate(ctx: &Context, args: &DemoArgs) -> anyhow::Result<Generated> {
    let (accounts, made) = staff(ctx).await?;
    for (username, password) in &made {
        // Printed once, to the person starting the demo; never logged.
        eprintln!("demo account {username}: one-time password {password}");
    }
    let account = |username: &str| accounts.iter().find(|a| a.username.as_str() == username).cloned();
    let officer = account("demo.officer").context("the demo officer exists")?;
    let caseworkers = ["idva", "isva", "stalking"]
        .iter()
        .filter_map(|s| Some(((*s).to_owned(), account(&format!("demo.{s}"))?)))
        .collect();
    let services: Vec<ServiceCode> = ctx.catalogue.codes().into_iter().collect();
    let demo = Demo {
        ctx,
        hub: Hub::new(ctx.clone(), HubSettings::default()),
        desk: Desk::new(ctx.clone(), services),
        officer,
        caseworkers,
        now: Utc::now(),
        commands: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
        first_refusal: std::sync::Mutex::new(None),
        victims: std::sync::Mutex::new(std::collections::HashMap::new()),
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let today = Utc::now().date_naive();
    let hub_stories = arrivals(&mut rng, args.referrals, today);
    // Direct referrals to the specialist services, in proportion to the hub's.
    let direct = [("idva", "police", 10), ("idva", "marac", 4), ("isva", "sarc", 5), ("stalking", "police", 3)];
    // About one victim in seven referred to the hub has been referred before this year (repeat victims), each
    // about someone whose story began well before (stories run 16 at a time, in order of arrival).
    let mut stories: Vec<(Story, Option<(&str, &str)>)> = hub_stories
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let index = i as u32;
            let repeat_of = (index >= 64 && rng.gen_bool(0.15)).then(|| rng.gen_range(0..index - 32));
            (Story { index, received: at, rng: StdRng::seed_from_u64(rng.r#gen()), repeat_of }, None)
        })
        .collect();
    for (service, source, per_hundred) in direct {
        for at in arrivals(&mut rng, args.referrals * per_hundred / 100, today) {
            let index = stories.len() as u32;
            stories.push((
                Story { index, received: at, rng: StdRng::seed_from_u64(rng.r#gen()), repeat_of: None },
                Some((service, source)),
            ));
        }
    }
    let progress = crate::progress::Progress::start("demo", "referrals", stories.len() as u64);
    futures::stream::iter(stories)
        .for_each_concurrent(16, |(story, direct)| {
            let (demo, progress) = (&demo, &progress);
            async move {
                // A story that stops early leaves its referral where it got to, as real ones do.
                let _ = match direct {
                    None => demo.hub_story(story).await,
                    Some((service, source)) => demo.service_story(story, service, source).await,
                };
                progress.inc(1);
            }
        })
        .await;
    progress.finish();
    Ok(Generated {
        commands: demo.commands.load(Ordering::Relaxed),
        refused: demo.refused.load(Ordering::Relaxed),
        first_refusal: demo.first_refusal.lock().expect("not poisoned").clone(),
    })
}
