//! Typed request helpers: the end-to-end tests call the JSON API with the services' own request types
//! (`casetrack_people::RegisterPersonRequest`, the hub's `ReceiveReferralRequest`, the specialist services'
//! `RiskRequest`, ...), so a field renamed or retyped in a service breaks the tests when they compile, not when they
//! run. Each helper posts to its route as the role whose work the path is ([`super::role_for`]) and answers with the
//! status and the JSON body, for the test to assert on as it would on any answer.
//!
//! A test of bad input (a field left out or malformed on purpose) cannot be written with these types, and keeps
//! `serde_json::json!`: sending what the types would not let through is its point.

use casetrack_hub::commands as hub;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_people::RegisterPersonRequest;
use casetrack_proto::PersonId;
use casetrack_proto::contact::OutcomeAnswer;
use casetrack_proto::hub::ReferralSource;
use casetrack_proto::people::DuplicateDecision;
use casetrack_proto::specialist::{RiskChecklist, RiskLevel};
use casetrack_specialist::commands as specialist;
use casetrack_specialist::commands::open_direct::DirectReferralRequest;
use casetrack_specialist::kinds::RiskRequest;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

/// The JSON a typed request puts on the wire.
pub fn body(request: &impl Serialize) -> Value {
    serde_json::to_value(request).expect("a request serialises to JSON")
}

/// Posts a typed request to `url` as the role whose work the path is.
pub async fn send(url: String, request: &impl Serialize) -> (u16, Value) {
    super::post(url, body(request)).await
}

/// Sends a typed request to `url` as `role` (or signed out), whatever the path.
pub async fn send_as(method: reqwest::Method, url: &str, role: Option<&str>, request: &impl Serialize) -> (u16, Value) {
    super::request(method, url, role, Some(&body(request))).await
}

/// An RFC 3339 moment (`2019-05-08T10:00:00+01:00`), as a contact attempt's `attempted_at`.
pub fn at(moment: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(moment).unwrap_or_else(|e| panic!("{moment:?} is not an RFC 3339 moment: {e}")).into()
}

/// A day, `YYYY-MM-DD` (as [`super::day_offset`] gives it).
pub fn day(day: &str) -> NaiveDate {
    day.parse().unwrap_or_else(|e| panic!("{day:?} is not a YYYY-MM-DD day: {e}"))
}

/// A person's id as an answer gives it.
pub fn person_id(id: &str) -> PersonId {
    id.parse().unwrap_or_else(|e| panic!("{id:?} is not a person id: {e}"))
}

// The people service.

/// A person's name and date of birth, nothing else.
pub fn person(forename: &str, surname: &str, date_of_birth: &str) -> RegisterPersonRequest {
    RegisterPersonRequest {
        forename: forename.to_owned(),
        surname: surname.to_owned(),
        date_of_birth: date_of_birth.to_owned(),
        ..Default::default()
    }
}

/// `POST /api/people` on `people`.
pub async fn register_person(people: &str, request: &RegisterPersonRequest) -> (u16, Value) {
    send(format!("{people}/api/people"), request).await
}

/// `POST /api/people/{person}/candidates/{other}/decision` on `people`.
pub async fn decide_duplicate(people: &str, person: &str, other: &str, decision: DuplicateDecision) -> (u16, Value) {
    // The people service's `DecisionRequest` is private to its crate: the body is written here, around the
    // decision's own type.
    let body = serde_json::json!({ "decision": decision });
    super::post(format!("{people}/api/people/{person}/candidates/{other}/decision"), body).await
}

// The hub.

/// A referral of `person_id` from `source`, with nothing else said: no offence category, crime reference,
/// safe-contact rules, consent or profile, received now.
pub fn referral(person_id: &str, source: ReferralSource, domestic_abuse: bool) -> ReceiveReferralRequest {
    ReceiveReferralRequest {
        person_id: self::person_id(person_id),
        source,
        offence_category: None,
        domestic_abuse,
        crime_reference: None,
        crime_reported_on: None,
        safe_contact: Default::default(),
        consent: None,
        consent_override_reason: None,
        enhanced_rights: false,
        profile: Default::default(),
        when: Default::default(),
    }
}

/// The victim's answers to the hub's outcome measures, as a closure carries them.
pub fn hub_answers(answers: &[(&str, OutcomeAnswer)]) -> Vec<hub::close::ClosureAnswer> {
    answers
        .iter()
        .map(|(measure, answer)| hub::close::ClosureAnswer { measure: (*measure).to_owned(), answer: *answer })
        .collect()
}

/// `POST /api/hub/referrals` on `hub`.
pub async fn receive_referral(hub: &str, request: &ReceiveReferralRequest) -> (u16, Value) {
    send(format!("{hub}/api/hub/referrals"), request).await
}

/// `POST /api/hub/referrals/{referral}/{route}` on `hub`.
async fn on_referral(hub: &str, referral: &str, route: &str, request: &impl Serialize) -> (u16, Value) {
    send(format!("{hub}/api/hub/referrals/{referral}/{route}"), request).await
}

/// `.../onward-referrals`: refers the victim on to a specialist service.
pub async fn refer_on(hub: &str, referral: &str, request: &hub::onward::OnwardReferralRequest) -> (u16, Value) {
    on_referral(hub, referral, "onward-referrals", request).await
}

/// `.../consent`: the victim's consent to passing their details on.
pub async fn record_consent(hub: &str, referral: &str, request: &hub::onward::ConsentRequest) -> (u16, Value) {
    on_referral(hub, referral, "consent", request).await
}

/// `.../contact-attempts`: one attempt to reach the victim.
pub async fn record_attempt(hub: &str, referral: &str, request: &hub::contact::ContactAttemptRequest) -> (u16, Value) {
    on_referral(hub, referral, "contact-attempts", request).await
}

/// `.../unable-to-contact`.
pub async fn record_unable_to_contact(hub: &str, referral: &str, request: &hub::when::WhenRequest) -> (u16, Value) {
    on_referral(hub, referral, "unable-to-contact", request).await
}

/// `.../support/accept`: the contacted victim accepted support.
pub async fn accept_support(hub: &str, referral: &str, request: &hub::when::WhenRequest) -> (u16, Value) {
    on_referral(hub, referral, "support/accept", request).await
}

/// `.../support/decline`: the contacted victim declined support, for a reason.
pub async fn decline_support(hub: &str, referral: &str, request: &hub::contact::ReasonRequest) -> (u16, Value) {
    on_referral(hub, referral, "support/decline", request).await
}

/// `.../support-sessions`: one support session.
pub async fn record_session(hub: &str, referral: &str, request: &hub::support::SessionRequest) -> (u16, Value) {
    on_referral(hub, referral, "support-sessions", request).await
}

/// `.../closure`: closes the referral with the victim's answers.
pub async fn close_referral(hub: &str, referral: &str, request: &hub::close::ClosureRequest) -> (u16, Value) {
    on_referral(hub, referral, "closure", request).await
}

/// `.../reported-to-police`: a self-referred victim has since reported the crime.
pub async fn report_to_police(
    hub: &str,
    referral: &str,
    request: &hub::police_report::PoliceReportRequest,
) -> (u16, Value) {
    on_referral(hub, referral, "reported-to-police", request).await
}

/// `.../safe-contact`: replaces the safe-contact rules.
pub async fn update_safe_contact(
    hub: &str,
    referral: &str,
    request: &hub::safe_contact::SafeContactRequest,
) -> (u16, Value) {
    on_referral(hub, referral, "safe-contact", request).await
}

/// The URL of `.../allocation` (a test of who may allocate sends it as a role of its own, with [`send_as`]).
pub fn allocation_url(hub: &str, referral: &str) -> String {
    format!("{hub}/api/hub/referrals/{referral}/allocation")
}

// The specialist services.

/// A direct referral of `person_id` from `source`, with nothing else said: no safe-contact rules, no date of birth,
/// received now.
pub fn direct_referral(person_id: &str, source: &str) -> DirectReferralRequest {
    DirectReferralRequest {
        person_id: self::person_id(person_id),
        source: source.to_owned(),
        safe_contact: Default::default(),
        safe_times: Vec::new(),
        domestic_abuse: false,
        enhanced_rights: false,
        date_of_birth: None,
        offence_category: None,
        nationality: None,
        when: Default::default(),
    }
}

/// A risk assessment with the checklist and level only: no answers, reasons or review date, not at closure, now.
pub fn risk(checklist: RiskChecklist, level: RiskLevel) -> RiskRequest {
    RiskRequest {
        checklist,
        answers: Vec::new(),
        level,
        reasons: Vec::new(),
        review_on: None,
        at_closure: false,
        when: Default::default(),
    }
}

/// The victim's answers to a service's outcome measures, as a closure carries them.
pub fn case_answers(answers: &[(&str, OutcomeAnswer)]) -> Vec<specialist::close::CloseAnswer> {
    answers
        .iter()
        .map(|(measure, answer)| specialist::close::CloseAnswer { measure: (*measure).to_owned(), answer: *answer })
        .collect()
}

/// `POST /api/specialist/{service}/cases` on `base`: a direct referral about a registered person.
pub async fn refer_directly(base: &str, service: &str, request: &DirectReferralRequest) -> (u16, Value) {
    send(format!("{base}/api/specialist/{service}/cases"), request).await
}

/// `POST /api/specialist/{service}/new-victim-referrals` on `base`: a direct referral of a victim not registered yet.
pub async fn refer_new_victim(
    base: &str,
    service: &str,
    request: &specialist::open_direct::NewVictimReferralRequest,
) -> (u16, Value) {
    send(format!("{base}/api/specialist/{service}/new-victim-referrals"), request).await
}

/// A command on a specialist case: each command's type has a route of its own under the case's URL
/// (`/api/specialist/{service}/cases/{case_id}/{ROUTE}`), so a command cannot be sent to another's route.
pub trait CaseRoute: Serialize {
    const ROUTE: &'static str;
}

macro_rules! case_routes {
    ($($command:ty => $route:literal,)*) => {
        $(impl CaseRoute for $command {
            const ROUTE: &'static str = $route;
        })*
    };
}

case_routes! {
    specialist::decision::Accept => "accept",
    specialist::decision::Decline => "decline",
    specialist::decision::Withdraw => "withdraw",
    specialist::decision::Reopen => "reopening",
    specialist::allocate::CaseworkerRequest => "allocation",
    specialist::contact::SafeContactRequest => "safe-contact",
    specialist::contact::AttemptRequest => "contact-attempts",
    specialist::contact::UnableToContact => "unable-to-contact",
    specialist::contact::SupportDeclined => "support-declined",
    RiskRequest => "risk-assessments",
    casetrack_specialist::kinds::idva::MaracReferral => "marac-referral",
    casetrack_specialist::kinds::idva::MaracHearing => "marac-hearing",
    specialist::casework::TextRequest => "plan",
    specialist::casework::InterventionRequest => "interventions",
    specialist::casework::NoteRequest => "notes",
    specialist::close::CloseRequest => "closure",
    casetrack_specialist::kinds::isva::CjsRequest => "cjs-stage",
    casetrack_specialist::kinds::stalking::SpoRequest => "spo",
    casetrack_specialist::kinds::rj::RjInformation => "rj/information",
    casetrack_specialist::kinds::rj::SuitabilityRequest => "rj/suitability",
    casetrack_specialist::kinds::rj::OffenderConsentRequest => "rj/offender-consent",
    casetrack_specialist::kinds::rj::RjFormRequest => "rj/form",
    casetrack_specialist::kinds::rj::RjOutcomeRequest => "rj/outcome",
}

/// The URL of `command`'s route on the case at `case` (`.../api/specialist/{service}/cases/{case_id}`).
pub fn case_url<C: CaseRoute>(case: &str, _command: &C) -> String {
    format!("{case}/{}", C::ROUTE)
}

/// Posts `command` to its route on the case at `case`.
pub async fn case_command<C: CaseRoute>(case: &str, command: &C) -> (u16, Value) {
    send(case_url(case, command), command).await
}

/// A command's route and body, for a table of commands of different types.
pub fn routed<C: CaseRoute>(command: &C) -> (&'static str, Value) {
    (C::ROUTE, body(command))
}
