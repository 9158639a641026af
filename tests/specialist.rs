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
use serde_json::{Value, json};
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
    let (status, body) = post(
        format!("{}/api/people", t.people),
        json!({"forename": forename, "surname": "Example", "date_of_birth": date_of_birth}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["person_id"].as_str().unwrap().to_owned()
}

/// Posts to a case route and expects it saved; returns the position written.
async fn act(url: String, body: Value) -> u64 {
    let (status, answer) = post(url.clone(), body).await;
    assert_eq!(status, 200, "{url}: {answer}");
    answer["position"].as_u64().unwrap()
}

async fn refused(url: String, body: Value) -> (u16, String) {
    let (status, answer) = post(url, body).await;
    (status, answer["error"]["code"].as_str().unwrap_or_default().to_owned())
}

fn dash(yes: usize) -> Vec<&'static str> {
    (0..24).map(|n| if n < yes { "yes" } else { "no" }).collect()
}

async fn idva_journey(t: &Services) -> String {
    let yesterday = day_offset(-1);
    let today = day_offset(0);
    let person_id = person(t, "Dana", "1990-02-03").await;
    let (status, referral) = post(
        format!("{}/api/hub/referrals", t.hub),
        // Received and referred on yesterday, before the IDVA's calls of yesterday afternoon.
        json!({"person_id": person_id, "source": "police_feed", "domestic_abuse": true, "consent": "explicit",
               "safe_contact": {"text": "unsafe", "phone": "safe"}, "offence_category": "violence_with_injury",
               "occurred_at": format!("{yesterday}T00:00:00Z")}),
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_owned();
    let (status, refused_service) =
        post(format!("{}/api/hub/referrals/{referral_id}/onward-referrals", t.hub), json!({"service": "astrology"}))
            .await;
    assert_eq!((status, refused_service["error"]["code"].as_str()), (422, Some("unknown_service")));
    let (status, onward) = post(
        format!("{}/api/hub/referrals/{referral_id}/onward-referrals", t.hub),
        json!({"service": "idva", "occurred_at": format!("{yesterday}T00:05:00Z")}),
    )
    .await;
    assert_eq!(status, 201, "{onward}");

    // The IDVA service's reactor opens the case; the hub sees it.
    let cases = eventually(format!("{}/api/specialist/idva/cases", t.idva), |cases| {
        cases.as_array().is_some_and(|c| c.iter().any(|c| c["referral_id"] == referral_id.as_str()))
    })
    .await;
    let case = cases.as_array().unwrap().iter().find(|c| c["referral_id"] == referral_id.as_str()).unwrap();
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
    let attempts = format!("{base}/contact-attempts");
    let call = |time: &str, outcome: &str, channel: &str| json!({"channel": channel, "attempted_at": format!("{yesterday}T{time}:00Z"), "outcome": outcome});
    assert_eq!(refused(attempts.clone(), call("10:00", "reached", "phone")).await, (409, "not_accepted".into()));
    act(format!("{base}/accept"), json!({})).await;
    loop_status("accepted").await;
    assert_eq!(refused(format!("{base}/accept"), json!({})).await, (409, "already_decided".into()));

    // Allocation: the caseload by caseworker and the unallocated queue.
    let position = act(format!("{base}/allocation"), json!({"caseworker": "s.jones"})).await;
    let (_, mine) =
        get(format!("{}/api/specialist/idva/cases?view=mine&caseworker=s.jones&wait_for={position}", t.idva)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let (_, unallocated) = get(format!("{}/api/specialist/idva/cases?view=unallocated", t.idva)).await;
    assert!(!unallocated.as_array().unwrap().iter().any(|c| c["case_id"] == case_id.as_str()));

    // The hub's safe-contact rules came with the referral: a text is refused with the reason.
    assert_eq!(refused(attempts.clone(), call("10:00", "no_answer", "text")).await, (409, "channel_unsafe".into()));
    act(attempts.clone(), call("10:00", "reached", "phone")).await;
    loop_status("engaged").await;

    // DASH: 16 "yes" is high risk; MARAC referred and heard.
    let position = act(
        format!("{base}/risk-assessments"),
        json!({"checklist": "dash", "answers": dash(16), "level": "medium", "review_on": day_offset(28)}),
    )
    .await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!((view["risk_level"].as_str(), view["risk_score"].as_i64()), (Some("high"), Some(16)), "{view}");
    let (_, short) =
        post(format!("{base}/risk-assessments"), json!({"checklist": "dash", "answers": ["yes"], "level": "medium"}))
            .await;
    assert_eq!(short["error"]["code"], "wrong_answer_count", "{short}");
    act(format!("{base}/marac-referral"), json!({"on": yesterday})).await;
    let position = act(format!("{base}/marac-hearing"), json!({"on": today})).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!((view["marac_heard_on"].as_str(), view["marac_repeat"].as_bool()), (Some(today.as_str()), Some(false)));

    // Closure needs a closing risk assessment, and the service's own outcome measures.
    let answers = json!([{"measure": "abuse_ceased_or_reduced", "answer": "improved"}, {"measure": "safer", "answer": "improved"},
                         {"measure": "cope", "answer": "no_change"}, {"measure": "health_wellbeing", "answer": "not_asked"}]);
    let closing = format!("{base}/closure");
    let close = json!({"reason": "support_completed", "answers": answers});
    assert_eq!(refused(closing.clone(), close.clone()).await, (409, "closing_assessment_needed".into()));
    act(
        format!("{base}/risk-assessments"),
        json!({"checklist": "dash", "answers": dash(3), "level": "standard", "at_closure": true}),
    )
    .await;
    let wrong = json!({"reason": "support_completed", "answers": [{"measure": "happiness", "answer": "improved"}]});
    assert_eq!(refused(closing.clone(), wrong).await, (422, "unknown_measure".into()));
    let position = act(closing, close).await;
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
        ("accept", json!({})),
        ("decline", json!({"reason": "x"})),
        ("withdraw", json!({"reason": "x"})),
        ("allocation", json!({"caseworker": "m.isva"})),
        ("safe-contact", json!({"safe_contact": {}})),
        (
            "contact-attempts",
            json!({"channel": "phone", "attempted_at": format!("{}T09:00:00Z", day_offset(-1)), "outcome": "reached"}),
        ),
        ("unable-to-contact", json!({})),
        ("support-declined", json!({"reason": "x"})),
        ("risk-assessments", json!({"checklist": "professional", "level": "standard"})),
        ("marac-referral", json!({"on": day})),
        ("marac-hearing", json!({"on": day})),
        ("plan", json!({"text": "a plan"})),
        ("interventions", json!({"need": "emotional_support", "held_on": day, "minutes": 30})),
        ("notes", json!({"text": "a note"})),
        ("closure", json!({"reason": "support_completed", "answers": [{"measure": "cope", "answer": "improved"}]})),
        ("reopening", json!({"reason": "x"})),
        ("cjs-stage", json!({"stage": "charged", "on": day})),
        ("spo", json!({"status": "applied", "on": day})),
        ("rj/information", json!({"on": day})),
        ("rj/suitability", json!({"suitable": true, "reason": "x"})),
        ("rj/offender-consent", json!({"consents": true})),
        ("rj/form", json!({"form": "shuttle_mediation"})),
        ("rj/outcome", json!({"outcome": "completed"})),
    ];
    for (route, body) in routes {
        let (status, answer) = post(format!("{base}/{route}"), body).await;
        assert_eq!(status, 404, "POST isva .../{route} on an IDVA case: {answer}");
    }
    let (_, after) = get(format!("{}/api/specialist/idva/cases/{idva_case}", t.idva)).await;
    assert_eq!(before, after, "nothing changed");
}

async fn isva_child(t: &Services) {
    let born = day_offset(-15 * 365 - 10);
    let person_id = person(t, "Kit", &born).await;
    let cases = format!("{}/api/specialist/isva/cases", t.others);
    let (status, wrong) = post(cases.clone(), json!({"person_id": person_id, "source": "hub"})).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (422, Some("unknown_source")), "{wrong}");
    let (status, opened) =
        post(cases, json!({"person_id": person_id, "source": "police", "date_of_birth": born})).await;
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
    act(format!("{base}/accept"), json!({})).await;
    act(format!("{base}/cjs-stage"), json!({"stage": "reported", "on": day_offset(-20)})).await;
    let (status, early) = post(format!("{base}/cjs-stage"), json!({"stage": "charged", "on": day_offset(-30)})).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("cjs_out_of_order")), "{early}");
    let position = act(format!("{base}/cjs-stage"), json!({"stage": "charged", "on": day_offset(-2)})).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(view["cjs_stage"], "charged", "{view}");
}

/// Opens a direct referral on `service` and accepts it; returns the case's URL.
async fn accepted_direct(t: &Services, service: &str, body: Value) -> String {
    let (status, opened) = post(format!("{}/api/specialist/{service}/cases", t.others), body).await;
    assert_eq!(status, 201, "{opened}");
    let base = format!("{}/api/specialist/{service}/cases/{}", t.others, opened["case_id"].as_str().unwrap());
    act(format!("{base}/accept"), json!({})).await;
    base
}

async fn rj_shuttle_mediation(t: &Services) {
    let person_id = person(t, "Ros", "1970-01-01").await;
    let base =
        accepted_direct(t, "rj", json!({"person_id": person_id, "source": "police", "enhanced_rights": true})).await;
    let view = eventually(base.clone(), |view| view["status"] == "awaiting_contact").await;
    assert!(view["rj_information_due"].is_string(), "the Victims' Code clock: {view}");
    let (status, early) = post(format!("{base}/rj/suitability"), json!({"suitable": true, "reason": "ok"})).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("rj_not_informed")), "{early}");
    act(format!("{base}/rj/information"), json!({"on": day_offset(0)})).await;
    act(format!("{base}/rj/suitability"), json!({"suitable": true, "reason": "both prepared, no risk of harm found"}))
        .await;
    act(format!("{base}/rj/offender-consent"), json!({"consents": true})).await;
    act(format!("{base}/rj/form"), json!({"form": "shuttle_mediation"})).await;
    let position = act(format!("{base}/rj/outcome"), json!({"outcome": "completed", "satisfaction": 5})).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(
        (view["rj_form"].as_str(), view["rj_outcome"].as_str(), view["rj_satisfaction"].as_i64()),
        (Some("shuttle_mediation"), Some("completed"), Some(5)),
        "{view}"
    );
}

async fn stalking_order(t: &Services) {
    let person_id = person(t, "Sam", "1985-01-01").await;
    let base = accepted_direct(t, "stalking", json!({"person_id": person_id, "source": "police"})).await;
    let (status, early) = post(format!("{base}/spo"), json!({"status": "granted", "on": day_offset(0)})).await;
    assert_eq!((status, early["error"]["code"].as_str()), (409, Some("no_spo_application")), "{early}");
    act(format!("{base}/spo"), json!({"status": "applied", "on": day_offset(-7)})).await;
    let position = act(format!("{base}/spo"), json!({"status": "granted", "on": day_offset(0)})).await;
    let (_, view) = get(format!("{base}?wait_for={position}")).await;
    assert_eq!(view["spo_status"], "granted", "{view}");
    let (status, wrong) = post(format!("{base}/rj/information"), json!({"on": day_offset(0)})).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (409, Some("not_for_this_service")), "{wrong}");
}

async fn configured_service(t: &Services) {
    let yesterday = day_offset(-1);
    let person_id = person(t, "Mo", "1950-05-05").await;
    let (status, opened) = post(
        format!("{}/api/specialist/mental_health/cases", t.others),
        json!({"person_id": person_id, "source": "gp", "occurred_at": format!("{yesterday}T08:00:00Z")}),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let base = format!("{}/api/specialist/mental_health/cases/{}", t.others, opened["case_id"].as_str().unwrap());
    act(format!("{base}/accept"), json!({})).await;
    let call = |time: &str, outcome: &str| json!({"channel": "phone", "attempted_at": format!("{yesterday}T{time}:00Z"), "outcome": outcome});
    act(format!("{base}/contact-attempts"), call("09:00", "no_answer")).await;
    assert_eq!(refused(format!("{base}/unable-to-contact"), json!({})).await, (409, "attempt_rule_not_met".into()));
    act(format!("{base}/contact-attempts"), call("14:00", "no_answer")).await;
    // The service's own rule (2 attempts in 2 times of day, from config/services.toml), not the hub's 3 in 3.
    act(format!("{base}/unable-to-contact"), json!({})).await;
    act(format!("{base}/reopening"), json!({"reason": "the GP says they are home now"})).await;
    act(format!("{base}/contact-attempts"), call("15:00", "reached")).await;
    let (status, unknown) =
        post(format!("{base}/interventions"), json!({"need": "safety_planning", "held_on": yesterday, "minutes": 30}))
            .await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (422, Some("unknown_need")), "{unknown}");
    act(format!("{base}/interventions"), json!({"need": "sleep", "held_on": yesterday, "minutes": 45})).await;
    act(format!("{base}/plan"), json!({"text": "weekly calls; sleep hygiene", "review_on": day_offset(14)})).await;
    act(format!("{base}/notes"), json!({"text": "prefers afternoons", "restricted": false})).await;
    let position = act(
        format!("{base}/closure"),
        json!({"reason": "support_completed", "answers": [{"measure": "health_wellbeing", "answer": "improved"},
                                                          {"measure": "cope", "answer": "improved"}]}),
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
