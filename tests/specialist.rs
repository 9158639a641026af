//! Specialist services end to end, through the JSON API, in both topologies:
//!
//! - the hub's onward referral becomes an IDVA case that starts with the hub's safe-contact rules; accepted,
//!   allocated, reached, DASH 16 (high risk), MARAC referred and heard, re-assessed and closed with outcomes; the hub
//!   sees every step that matters to it (closed loop);
//! - one service's routes can neither read nor change another service's case: every case route of the ISVA service,
//!   asked about the IDVA case, answers 404 and changes nothing;
//! - a direct ISVA referral of a 15-year-old is counted as a child (age band under 18), its criminal-justice stages
//!   recorded in date order;
//! - a restorative-justice referral under enhanced rights (information due in 1 working day) explored, found
//!   suitable, the offender consenting, shuttle mediation agreed and completed with the victim's satisfaction;
//! - a stalking case's Stalking Protection Order applied for and granted;
//! - a service defined only in `config/services.toml` (the mental-health nurse, attempt rule 2 in 2) worked from
//!   direct referral through unable to contact, re-opening, an intervention, a plan and a note, to closure.

mod support;

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::onward::OnwardReferralRequest;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_proto::ServiceCode;
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer, SafeContact, Safety};
use casetrack_proto::hub::{OffenceCategory, ReferralSource};
use casetrack_proto::profile::YesNoUnknown;
use casetrack_proto::specialist::{CjsStage, ClosureReason, RiskChecklist, RiskLevel, RjForm, RjOutcome, SpoStatus};
use casetrack_specialist::commands::DateRequest;
use casetrack_specialist::commands::allocate::CaseworkerRequest;
use casetrack_specialist::commands::casework::{InterventionRequest, NoteRequest, TextRequest};
use casetrack_specialist::commands::close::CloseRequest;
use casetrack_specialist::commands::contact::{AttemptRequest, SafeContactRequest, SupportDeclined, UnableToContact};
use casetrack_specialist::commands::decision::{Accept, Decline, ReasonRequest, Reopen, Withdraw};
use casetrack_specialist::commands::open_direct::DirectReferralRequest;
use casetrack_specialist::commands::when::WhenRequest as CaseWhenRequest;
use casetrack_specialist::kinds::RiskRequest;
use casetrack_specialist::kinds::idva::{MaracHearing, MaracReferral};
use casetrack_specialist::kinds::isva::CjsRequest;
use casetrack_specialist::kinds::rj::{
    OffenderConsentRequest, RjFormRequest, RjInformation, RjOutcomeRequest, SuitabilityRequest,
};
use casetrack_specialist::kinds::stalking::SpoRequest;
use support::api::{self, CaseRoute};
use support::{Server, day_offset, eventually, get, post, split_backends};

/// Where each service answers.
struct Services {
    people: String,
    hub: String,
    idva: String,
    /// Where isva, rj, stalking, mental_health and reporting answer.
    others: String,
}

async fn person(t: &Services, forename: &str, date_of_birth: &str) -> String {
    let (status, body) = api::register_person(&t.people, &api::person(forename, "Example", date_of_birth)).await;
    assert_eq!(status, 201, "{body}");
    body["person_id"].as_str().unwrap().to_owned()
}

/// Posts a command to its route on the case at `case` and expects it saved; returns the position written.
async fn act<C: CaseRoute>(case: &str, command: &C) -> u64 {
    let url = api::case_url(case, command);
    let (status, answer) = api::case_command(case, command).await;
    assert_eq!(status, 200, "{url}: {answer}");
    answer["position"].as_u64().unwrap()
}

async fn refused<C: CaseRoute>(case: &str, command: &C) -> (u16, String) {
    let (status, answer) = api::case_command(case, command).await;
    (status, answer["error"]["code"].as_str().unwrap_or_default().to_owned())
}

fn dash(yes: usize) -> Vec<YesNoUnknown> {
    (0..24).map(|n| if n < yes { YesNoUnknown::Yes } else { YesNoUnknown::No }).collect()
}

/// A reason, the thing done now.
fn reason(reason: &str) -> ReasonRequest {
    ReasonRequest { reason: reason.to_owned(), when: CaseWhenRequest::default() }
}

/// A day (`YYYY-MM-DD`), without a late reason.
fn on(day: &str) -> DateRequest {
    DateRequest { on: api::day(day), late_reason: None }
}

async fn idva_journey(t: &Services) -> String {
    let yesterday = day_offset(-1);
    let today = day_offset(0);
    let person_id = person(t, "Dana", "1990-02-03").await;
    let (status, referral) = api::receive_referral(
        &t.hub,
        // Received and referred on yesterday, before the IDVA's calls of yesterday afternoon.
        &ReceiveReferralRequest {
            consent: Some(ConsentBasis::Explicit),
            safe_contact: SafeContact { text: Safety::Unsafe, phone: Safety::Safe, ..Default::default() },
            offence_category: Some(OffenceCategory::ViolenceWithInjury),
            when: WhenRequest { occurred_at: Some(format!("{yesterday}T00:00:00Z")), late_reason: None },
            ..api::referral(&person_id, ReferralSource::PoliceFeed, true)
        },
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_owned();
    let astrology =
        OnwardReferralRequest { service: ServiceCode::parse("astrology").unwrap(), when: Default::default() };
    let (status, refused_service) = api::refer_on(&t.hub, &referral_id, &astrology).await;
    assert_eq!((status, refused_service["error"]["code"].as_str()), (422, Some("unknown_service")));
    let (status, onward) = api::refer_on(
        &t.hub,
        &referral_id,
        &OnwardReferralRequest {
            service: ServiceCode::parse("idva").unwrap(),
            when: WhenRequest { occurred_at: Some(format!("{yesterday}T00:05:00Z")), late_reason: None },
        },
    )
    .await;
    assert_eq!(status, 201, "{onward}");

    // The IDVA service's reactor opens the case; the hub sees it.
    let cases = eventually(format!("{}/api/specialist/idva/cases", t.idva), |cases| {
        cases["items"].as_array().is_some_and(|c| c.iter().any(|c| c["referral_id"] == referral_id.as_str()))
    })
    .await;
    let case = cases["items"].as_array().unwrap().iter().find(|c| c["referral_id"] == referral_id.as_str()).unwrap();
    assert_eq!((case["status"].as_str(), case["domestic_abuse"].as_bool()), (Some("awaiting_decision"), Some(true)));
    let case_id = case["case_id"].as_str().unwrap().to_owned();
    let base = format!("{}/api/specialist/idva/cases/{case_id}", t.idva);
    let hub_view = format!("{}/api/hub/referrals/{referral_id}", t.hub);
    let loop_status = |wanted: &'static str| {
        let url = hub_view.clone();
        async move { eventually(url, |view| view["onward_referrals"][0]["case_status"] == wanted).await }
    };
    loop_status("received").await;

    // Nothing is attempted before the service decides; then accepted, and the hub sees it.
    let call = |time: &str, outcome, channel| AttemptRequest {
        channel,
        attempted_at: api::at(&format!("{yesterday}T{time}:00Z")),
        outcome,
        late_reason: None,
    };
    assert_eq!(
        refused(&base, &call("10:00", AttemptOutcome::Reached, ContactChannel::Phone)).await,
        (409, "not_accepted".into())
    );
    act(&base, &Accept::default()).await;
    loop_status("accepted").await;
    assert_eq!(refused(&base, &Accept::default()).await, (409, "already_decided".into()));

    // Allocation: the caseload by caseworker and the unallocated queue.
    let position = act(&base, &CaseworkerRequest { caseworker: "s.jones".into() }).await;
    let (_, mine) =
        get(format!("{}/api/specialist/idva/cases?view=mine&caseworker=s.jones&wait_for={position}", t.idva)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let (_, unallocated) = get(format!("{}/api/specialist/idva/cases?view=unallocated", t.idva)).await;
    assert!(!unallocated["items"].as_array().unwrap().iter().any(|c| c["case_id"] == case_id.as_str()));

    // The hub's safe-contact rules came with the referral: a text is refused with the reason.
    assert_eq!(
        refused(&base, &call("10:00", AttemptOutcome::NoAnswer, ContactChannel::Text)).await,
        (409, "channel_unsafe".into())
    );
    act(&base, &call("10:00", AttemptOutcome::Reached, ContactChannel::Phone)).await;
    loop_status("engaged").await;

    // DASH: 16 "yes" is high risk; MARAC referred and heard.
    let position = act(
        &base,
        &RiskRequest {
            answers: dash(16),
            review_on: Some(api::day(&day_offset(28))),
            ..api::risk(RiskChecklist::Dash, RiskLevel::Medium)
        },
    )
    .await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!((view["risk_level"].as_str(), view["risk_score"].as_i64()), (Some("high"), Some(16)), "{view}");
    let (_, short) = api::case_command(
        &base,
        &RiskRequest { answers: vec![YesNoUnknown::Yes], ..api::risk(RiskChecklist::Dash, RiskLevel::Medium) },
    )
    .await;
    assert_eq!(short["error"]["code"], "wrong_answer_count", "{short}");
    act(&base, &MaracReferral(on(&yesterday))).await;
    let position = act(&base, &MaracHearing(on(&today))).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!((view["marac_heard_on"].as_str(), view["marac_repeat"].as_bool()), (Some(today.as_str()), Some(false)));

    // Closure needs a closing risk assessment, and the service's own outcome measures.
    let answers = [
        ("abuse_ceased_or_reduced", OutcomeAnswer::Improved),
        ("safer", OutcomeAnswer::Improved),
        ("cope", OutcomeAnswer::NoChange),
        ("health_wellbeing", OutcomeAnswer::NotAsked),
    ];
    let close = CloseRequest {
        reason: ClosureReason::SupportCompleted,
        answers: api::case_answers(&answers),
        when: Default::default(),
    };
    assert_eq!(refused(&base, &close).await, (409, "closing_assessment_needed".into()));
    act(
        &base,
        &RiskRequest { answers: dash(3), at_closure: true, ..api::risk(RiskChecklist::Dash, RiskLevel::Standard) },
    )
    .await;
    let wrong = CloseRequest {
        reason: ClosureReason::SupportCompleted,
        answers: api::case_answers(&[("happiness", OutcomeAnswer::Improved)]),
        when: Default::default(),
    };
    assert_eq!(refused(&base, &wrong).await, (422, "unknown_measure".into()));
    let position = act(&base, &close).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!((view["status"].as_str(), view["closure_reason"].as_str()), (Some("closed"), Some("support_completed")));
    let view = loop_status("closed").await;
    assert_eq!(view["onward_referrals"][0]["case_outcome"], "2 of 3 outcome measures asked improved", "{view}");
    case_id
}

/// Every case route of the ISVA service, asked about an IDVA case: 404, and the case is unchanged.
async fn one_service_cannot_touch_anothers_case(t: &Services, idva_case: &str) {
    let (_, before) = get(format!("{}/api/specialist/idva/cases/{idva_case}", t.idva)).await;
    let base = format!("{}/api/specialist/isva/cases/{idva_case}", t.others);
    let (status, _) = get(base.clone()).await;
    assert_eq!(status, 404, "GET {base}");
    let day = day_offset(0);
    let routes = [
        api::routed(&Accept::default()),
        api::routed(&Decline(reason("x"))),
        api::routed(&Withdraw(reason("x"))),
        api::routed(&CaseworkerRequest { caseworker: "m.isva".into() }),
        api::routed(&SafeContactRequest { safe_contact: SafeContact::default(), safe_times: Vec::new() }),
        api::routed(&AttemptRequest {
            channel: ContactChannel::Phone,
            attempted_at: api::at(&format!("{}T09:00:00Z", day_offset(-1))),
            outcome: AttemptOutcome::Reached,
            late_reason: None,
        }),
        api::routed(&UnableToContact::default()),
        api::routed(&SupportDeclined(reason("x"))),
        api::routed(&api::risk(RiskChecklist::Professional, RiskLevel::Standard)),
        api::routed(&MaracReferral(on(&day))),
        api::routed(&MaracHearing(on(&day))),
        api::routed(&TextRequest { text: "a plan".into(), review_on: None, when: Default::default() }),
        api::routed(&InterventionRequest {
            need: "emotional_support".into(),
            held_on: api::day(&day),
            minutes: 30,
            late_reason: None,
        }),
        api::routed(&NoteRequest { text: "a note".into(), restricted: false, when: Default::default() }),
        api::routed(&CloseRequest {
            reason: ClosureReason::SupportCompleted,
            answers: api::case_answers(&[("cope", OutcomeAnswer::Improved)]),
            when: Default::default(),
        }),
        api::routed(&Reopen(reason("x"))),
        api::routed(&CjsRequest { stage: CjsStage::Charged, on: api::day(&day), late_reason: None }),
        api::routed(&SpoRequest { status: SpoStatus::Applied, on: api::day(&day), late_reason: None }),
        api::routed(&RjInformation(on(&day))),
        api::routed(&SuitabilityRequest { suitable: true, reason: "x".into(), when: Default::default() }),
        api::routed(&OffenderConsentRequest { consents: true, when: Default::default() }),
        api::routed(&RjFormRequest { form: RjForm::ShuttleMediation, when: Default::default() }),
        api::routed(&RjOutcomeRequest { outcome: RjOutcome::Completed, satisfaction: None, when: Default::default() }),
    ];
    for (route, body) in routes {
        let (status, answer) = post(format!("{base}/{route}"), body).await;
        assert_eq!(status, 404, "POST isva .../{route} on an IDVA case: {answer}");
    }
    let (_, after) = get(format!("{}/api/specialist/idva/cases/{idva_case}", t.idva)).await;
    assert_eq!(before, after, "nothing changed");
}

/// A criminal-justice stage reached `days` from today.
fn cjs(stage: CjsStage, days: i64) -> CjsRequest {
    CjsRequest { stage, on: api::day(&day_offset(days)), late_reason: None }
}

async fn isva_child(t: &Services) {
    let born = day_offset(-15 * 365 - 10);
    let person_id = person(t, "Kit", &born).await;
    let (status, wrong) = api::refer_directly(&t.others, "isva", &api::direct_referral(&person_id, "hub")).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (422, Some("unknown_source")), "{wrong}");
    let (status, opened) = api::refer_directly(
        &t.others,
        "isva",
        &DirectReferralRequest { date_of_birth: Some(api::day(&born)), ..api::direct_referral(&person_id, "police") },
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let url = format!(
        "{}/api/specialist/isva/cases/{}?wait_for={}",
        t.others,
        opened["case_id"].as_str().unwrap(),
        opened["position"]
    );
    let (_, view) = get(url).await;
    assert_eq!((view["age_band"].as_str(), view["origin"].as_str()), (Some("under_18"), Some("police")), "{view}");
    let base = format!("{}/api/specialist/isva/cases/{}", t.others, opened["case_id"].as_str().unwrap());
    act(&base, &Accept::default()).await;
    act(&base, &cjs(CjsStage::Reported, -20)).await;
    let (status, early) = api::case_command(&base, &cjs(CjsStage::Charged, -30)).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("cjs_out_of_order")), "{early}");
    let position = act(&base, &cjs(CjsStage::Charged, -2)).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(view["cjs_stage"], "charged", "{view}");
}

/// Opens a direct referral on `service` and accepts it; returns the case's URL.
async fn accepted_direct(t: &Services, service: &str, request: &DirectReferralRequest) -> String {
    let (status, opened) = api::refer_directly(&t.others, service, request).await;
    assert_eq!(status, 201, "{opened}");
    let base = format!("{}/api/specialist/{service}/cases/{}", t.others, opened["case_id"].as_str().unwrap());
    act(&base, &Accept::default()).await;
    base
}

async fn rj_shuttle_mediation(t: &Services) {
    let person_id = person(t, "Ros", "1970-01-01").await;
    let base = accepted_direct(
        t,
        "rj",
        &DirectReferralRequest { enhanced_rights: true, ..api::direct_referral(&person_id, "police") },
    )
    .await;
    let view = eventually(base.clone(), |view| view["status"] == "awaiting_contact").await;
    assert!(view["rj_information_due"].is_string(), "the Victims' Code clock: {view}");
    let suitable =
        |reason: &str| SuitabilityRequest { suitable: true, reason: reason.into(), when: Default::default() };
    let (status, early) = api::case_command(&base, &suitable("ok")).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("rj_not_informed")), "{early}");
    act(&base, &RjInformation(on(&day_offset(0)))).await;
    act(&base, &suitable("both prepared, no risk of harm found")).await;
    act(&base, &OffenderConsentRequest { consents: true, when: Default::default() }).await;
    act(&base, &RjFormRequest { form: RjForm::ShuttleMediation, when: Default::default() }).await;
    let position = act(
        &base,
        &RjOutcomeRequest { outcome: RjOutcome::Completed, satisfaction: Some(5), when: Default::default() },
    )
    .await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(
        (view["rj_form"].as_str(), view["rj_outcome"].as_str(), view["rj_satisfaction"].as_i64()),
        (Some("shuttle_mediation"), Some("completed"), Some(5)),
        "{view}"
    );
}

async fn stalking_order(t: &Services) {
    let person_id = person(t, "Sam", "1985-01-01").await;
    let base = accepted_direct(t, "stalking", &api::direct_referral(&person_id, "police")).await;
    let spo = |status, days| SpoRequest { status, on: api::day(&day_offset(days)), late_reason: None };
    let (status, early) = api::case_command(&base, &spo(SpoStatus::Granted, 0)).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("no_spo_application")), "{early}");
    act(&base, &spo(SpoStatus::Applied, -7)).await;
    let position = act(&base, &spo(SpoStatus::Granted, 0)).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(view["spo_status"], "granted", "{view}");
    let (status, wrong) = api::case_command(&base, &RjInformation(on(&day_offset(0)))).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (409, Some("not_for_this_service")), "{wrong}");
}

async fn configured_service(t: &Services) {
    let yesterday = day_offset(-1);
    let person_id = person(t, "Mo", "1950-05-05").await;
    let (status, opened) = api::refer_directly(
        &t.others,
        "mental_health",
        &DirectReferralRequest {
            when: CaseWhenRequest { occurred_at: Some(format!("{yesterday}T08:00:00Z")), late_reason: None },
            ..api::direct_referral(&person_id, "gp")
        },
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let base = format!("{}/api/specialist/mental_health/cases/{}", t.others, opened["case_id"].as_str().unwrap());
    act(&base, &Accept::default()).await;
    let call = |time: &str, outcome| AttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at(&format!("{yesterday}T{time}:00Z")),
        outcome,
        late_reason: None,
    };
    act(&base, &call("09:00", AttemptOutcome::NoAnswer)).await;
    assert_eq!(refused(&base, &UnableToContact::default()).await, (409, "attempt_rule_not_met".into()));
    act(&base, &call("14:00", AttemptOutcome::NoAnswer)).await;
    // The service's own rule (2 attempts in 2 times of day, from config/services.toml), not the hub's 3 in 3.
    act(&base, &UnableToContact::default()).await;
    act(&base, &Reopen(reason("the GP says they are home now"))).await;
    act(&base, &call("15:00", AttemptOutcome::Reached)).await;
    let intervention = |need: &str, minutes| InterventionRequest {
        need: need.into(),
        held_on: api::day(&yesterday),
        minutes,
        late_reason: None,
    };
    let (status, unknown) = api::case_command(&base, &intervention("safety_planning", 30)).await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (422, Some("unknown_need")), "{unknown}");
    act(&base, &intervention("sleep", 45)).await;
    act(
        &base,
        &TextRequest {
            text: "weekly calls; sleep hygiene".into(),
            review_on: Some(api::day(&day_offset(14))),
            when: Default::default(),
        },
    )
    .await;
    act(&base, &NoteRequest { text: "prefers afternoons".into(), restricted: false, when: Default::default() }).await;
    let position = act(
        &base,
        &CloseRequest {
            reason: ClosureReason::SupportCompleted,
            answers: api::case_answers(&[
                ("health_wellbeing", OutcomeAnswer::Improved),
                ("cope", OutcomeAnswer::Improved),
            ]),
            when: Default::default(),
        },
    )
    .await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(view["status"], "closed", "{view}");
}

async fn all_of_it(t: &Services) {
    let idva_case = idva_journey(t).await;
    one_service_cannot_touch_anothers_case(t, &idva_case).await;
    isva_child(t).await;
    rj_shuttle_mediation(t).await;
    stalking_order(t).await;
    configured_service(t).await;
    figures(t).await;
}

/// What each service contributed to the figures (counting rules in docs/metrics.md).
async fn figures(t: &Services) {
    let today = day_offset(0);
    let url = format!("{}/api/reporting/summary?from={}&to={today}", t.others, day_offset(-1));
    let summary = eventually(url, |s| {
        s["services"].as_array().is_some_and(|all| {
            all.iter().any(|s| s["service"] == "mental_health" && s["activity"]["cases_closed"] == 1)
        })
    })
    .await;
    let service = |service: &str| {
        summary["services"].as_array().unwrap().iter().find(|s| s["service"] == service).unwrap().clone()
    };
    let of = |name: &str| service(name)["activity"].clone();
    let idva = of("idva");
    for (figure, value) in [
        ("cases_opened", 1),
        ("cases_opened_from_hub", 1),
        ("referrals_accepted", 1),
        ("engaged", 1),
        ("high_risk", 1),
        ("marac_referred", 1),
        ("marac_heard", 1),
        ("cases_closed", 1),
    ] {
        assert_eq!(idva[figure], value, "idva {figure}: {idva}");
    }
    // The cohort: of the cases received in the period, where they are now.
    let cohort = service("idva");
    for (figure, value) in [
        ("referrals_received", 1),
        ("victims_referred", 1),
        ("accepted", 1),
        ("contacted", 1),
        ("high_risk", 1),
        ("closed", 1),
        ("open", 0),
    ] {
        assert_eq!(cohort[figure], value, "idva cohort {figure}: {cohort}");
    }
    // A case from the hub is counted under what the hub's referral was (source "hub", its offence category).
    let by_source = eventually(
        format!("{}/api/reporting/summary?from={}&to={today}&service=idva&by=source", t.others, day_offset(-1)),
        |s| s["services"].as_array().is_some_and(|all| !all.is_empty()),
    )
    .await;
    let rows = by_source["services"][0]["breakdown"].as_array().unwrap();
    assert!(rows.iter().any(|row| row["value"] == "hub" && row["referrals_received"] == 1), "{by_source}");
    assert_eq!(of("isva")["cases_opened_under_18"], 1);
    let rj = of("rj");
    assert_eq!(
        (rj["rj_explored"].as_i64(), rj["rj_shuttle_mediation"].as_i64(), rj["rj_completed"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{rj}"
    );
    assert_eq!((of("stalking")["spo_applied"].as_i64(), of("stalking")["spo_granted"].as_i64()), (Some(1), Some(1)));
    let general = of("mental_health");
    assert_eq!(
        (general["unable_to_contact"].as_i64(), general["cases_reopened"].as_i64(), general["interventions"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{general}"
    );
}

#[tokio::test]
async fn specialist_services_in_one_process() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let t = Services { people: base.clone(), hub: base.clone(), idva: base.clone(), others: base };
    all_of_it(&t).await;
    server.stop();
}

#[tokio::test]
async fn specialist_services_as_separate_processes() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    let people = Server::start("access,people", data.path(), &env).await;
    let hub = Server::start("hub", data.path(), &env).await;
    let idva = Server::start("idva", data.path(), &env).await;
    let others = Server::start("isva,rj,stalking,mental_health,reporting", data.path(), &env).await;
    let t = Services {
        people: people.base.clone(),
        hub: hub.base.clone(),
        idva: idva.base.clone(),
        others: others.base.clone(),
    };
    all_of_it(&t).await;
    for server in [people, hub, idva, others] {
        server.stop();
    }
}
