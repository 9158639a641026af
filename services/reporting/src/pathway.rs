//! `reporting.pathway`: activity counts (what happened in a period) per day, service and figure.
//!
//! A batch is folded in memory first (one increment per service, day and figure), then written with one upsert
//! per key, so the cost per batch grows with the number of distinct keys, not events.

use std::collections::{BTreeMap, HashMap};

use casetrack_platform::codes::code;
use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::CaseId;
use casetrack_proto::contact::OutcomeAnswer;
use casetrack_proto::hub::{HubEvent, MeasureAnswer, ReferralSource};
use casetrack_proto::profile::AgeBand;
use casetrack_proto::specialist::{CaseOrigin, RiskLevel, SpecialistEvent};
use futures::future::BoxFuture;
use sqlx::AnyConnection;

pub struct Pathway;

/// Figure names as stored and as shown in the API.
pub mod figure {
    pub const REFERRALS_RECEIVED: &str = "referrals_received";
    pub const CONTACT_ATTEMPTS: &str = "contact_attempts";
    pub const CONTACTED: &str = "contacted";
    pub const SUPPORTED: &str = "supported";
    pub const DECLINED: &str = "declined";
    pub const UNABLE_TO_CONTACT: &str = "unable_to_contact";
    pub const NO_SAFE_CONTACT: &str = "no_safe_contact";
    pub const CLOSED: &str = "closed";
    pub const SELF_REFERRALS: &str = "self_referrals";
    pub const SELF_REFERRALS_REPORTED: &str = "self_referrals_reported_to_police";
    pub const ONWARD_PREFIX: &str = "onward_referrals.";
    pub const CASES_OPENED: &str = "cases_opened";
    pub const NEEDS_ASSESSED: &str = "needs_assessed";
    pub const SUPPORT_SESSIONS: &str = "support_sessions";
    pub const OUTREACH_SENT: &str = "outreach_sent";
    pub const CASES_OPENED_UNDER_18: &str = "cases_opened_under_18";
    pub const CASES_OPENED_FROM_HUB: &str = "cases_opened_from_hub";
    /// `measure.<name>.asked` and `measure.<name>.improved`: outcome measures answered at closure.
    pub const MEASURE_PREFIX: &str = "measure.";
}

/// The outcome-measure figures of a closure: each measure asked (answered anything but "not asked"), and each
/// improved.
fn measures(counts: &mut BTreeMap<Key, i64>, service: &str, day: &str, answers: &[MeasureAnswer]) {
    for answer in answers {
        if answer.answer == OutcomeAnswer::NotAsked {
            continue;
        }
        let name = format!("{}{}", figure::MEASURE_PREFIX, answer.measure);
        count(counts, service, day.to_owned(), format!("{name}.asked"));
        if answer.answer == OutcomeAnswer::Improved {
            count(counts, service, day.to_owned(), format!("{name}.improved"));
        }
    }
}

/// Once-per-case facts, marked in `reporting_cases`: true when this event is the first to mark it.
async fn first_for_case(tx: &mut AnyConnection, case_id: CaseId, column: &'static str) -> sqlx::Result<bool> {
    let sql = format!("UPDATE reporting_cases SET {column} = 1 WHERE case_id = $1 AND {column} = 0");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id.to_string()).execute(&mut *tx).await?;
    Ok(done.rows_affected() == 1)
}

/// The figure a specialist event adds to its case's service, if any (`docs/metrics.md`, specialist services).
async fn specialist_figure(tx: &mut AnyConnection, event: &SpecialistEvent) -> sqlx::Result<Option<String>> {
    use SpecialistEvent as E;
    let name = match event {
        E::CaseOpened(_) => return Ok(Some(figure::CASES_OPENED.into())),
        E::ReferralAccepted(_) => "referrals_accepted".into(),
        E::ReferralDeclinedByService(_) => "declined_by_service".into(),
        E::ReferralWithdrawn(_) => "withdrawn".into(),
        E::CaseContactAttemptRecorded(e) => {
            if !(e.outcome.reached() && first_for_case(tx, e.case_id, "engaged").await?) {
                return Ok(None);
            }
            "engaged".into()
        }
        E::CaseUnableToContactRecorded(_) => "unable_to_contact".into(),
        E::CaseSupportDeclined(_) => "declined_by_victim".into(),
        E::RiskAssessed(e) => {
            if !(e.level == RiskLevel::High && first_for_case(tx, e.case_id, "high_risk").await?) {
                return Ok(None);
            }
            "high_risk".into()
        }
        E::MaracReferred(_) => "marac_referred".into(),
        E::MaracHeard(e) if e.repeat => "marac_heard_repeat".into(),
        E::MaracHeard(_) => "marac_heard".into(),
        E::InterventionRecorded(_) => "interventions".into(),
        E::CaseClosed(_) => "cases_closed".into(),
        E::CaseReopened(_) => "cases_reopened".into(),
        E::SpoRecorded(e) => format!("spo_{}", code(&e.status)),
        E::RjInformationGiven(_) => "rj_explored".into(),
        E::RjFormAgreed(e) => format!("rj_{}", code(&e.form)),
        E::RjConcluded(e) => format!("rj_{}", code(&e.outcome)),
        E::CaseAllocated(_)
        | E::CaseSafeContactUpdated(_)
        | E::PlanRecorded(_)
        | E::CaseNoteAdded(_)
        | E::CjsStageRecorded(_)
        | E::RjSuitabilityAssessed(_)
        | E::OffenderConsentRecorded(_) => return Ok(None),
    };
    Ok(Some(name))
}

/// The id of the case an event is about.
pub(crate) fn case_of(event: &SpecialistEvent) -> CaseId {
    use SpecialistEvent as E;
    match event {
        E::CaseOpened(e) => e.case_id,
        E::ReferralAccepted(e) => e.case_id,
        E::ReferralDeclinedByService(e) => e.case_id,
        E::ReferralWithdrawn(e) => e.case_id,
        E::CaseAllocated(e) => e.case_id,
        E::CaseSafeContactUpdated(e) => e.case_id,
        E::CaseContactAttemptRecorded(e) => e.case_id,
        E::CaseUnableToContactRecorded(e) => e.case_id,
        E::CaseSupportDeclined(e) => e.case_id,
        E::RiskAssessed(e) => e.case_id,
        E::MaracReferred(e) => e.case_id,
        E::MaracHeard(e) => e.case_id,
        E::PlanRecorded(e) => e.case_id,
        E::InterventionRecorded(e) => e.case_id,
        E::CaseNoteAdded(e) => e.case_id,
        E::CaseClosed(e) => e.case_id,
        E::CaseReopened(e) => e.case_id,
        E::CjsStageRecorded(e) => e.case_id,
        E::SpoRecorded(e) => e.case_id,
        E::RjInformationGiven(e) => e.case_id,
        E::RjSuitabilityAssessed(e) => e.case_id,
        E::OffenderConsentRecorded(e) => e.case_id,
        E::RjFormAgreed(e) => e.case_id,
        E::RjConcluded(e) => e.case_id,
    }
}

type Key = (String, String, String);

/// The day (YYYY-MM-DD) in England and Wales of a moment: 00:30 BST on 1 July is 1 July, though it is 30 June in
/// UTC.
pub fn day_of(at: chrono::DateTime<chrono::Utc>) -> String {
    crate::cohort::day_of(at).to_string()
}

fn count(counts: &mut BTreeMap<Key, i64>, service: &str, day: String, figure: String) {
    *counts.entry((service.to_owned(), day, figure)).or_default() += 1;
}

impl Projection for Pathway {
    fn name(&self) -> &'static str {
        "reporting.pathway"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reporting_daily", "reporting_contacted", "reporting_cases"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            // Which service each case of this batch belongs to: looked up once per case, not once per event.
            let mut services: HashMap<CaseId, String> = HashMap::new();
            for (position, envelope) in events(commits) {
                // Counting rule: the day is the calendar day, in England and Wales, of the domain time.
                let day = day_of(envelope.occurred_at);
                let hub_figure = match decode::<HubEvent>(position, envelope)? {
                    Some(HubEvent::ReferralReceived(e)) => {
                        if e.source == ReferralSource::SelfReferral {
                            count(&mut counts, "hub", day.clone(), figure::SELF_REFERRALS.into());
                        }
                        Some(figure::REFERRALS_RECEIVED.to_owned())
                    }
                    Some(HubEvent::ReportedToPolice(_)) => Some(figure::SELF_REFERRALS_REPORTED.to_owned()),
                    Some(HubEvent::ContactAttemptRecorded(e)) => {
                        count(&mut counts, "hub", day.clone(), figure::CONTACT_ATTEMPTS.into());
                        // Contacted once per referral: at its first reached attempt.
                        let first_reach = e.outcome.reached()
                                && sqlx::query(
                                    "INSERT INTO reporting_contacted (referral_id) VALUES ($1) ON CONFLICT (referral_id) DO NOTHING",
                                )
                                .bind(e.referral_id.to_string())
                                .execute(&mut *tx)
                                .await?
                                .rows_affected()
                                    == 1;
                        first_reach.then(|| figure::CONTACTED.to_owned())
                    }
                    Some(HubEvent::SupportAccepted(_)) => Some(figure::SUPPORTED.to_owned()),
                    Some(HubEvent::SupportDeclined(_)) => Some(figure::DECLINED.to_owned()),
                    Some(HubEvent::UnableToContactRecorded(_)) => Some(figure::UNABLE_TO_CONTACT.to_owned()),
                    Some(HubEvent::ReturnedToReferrer(_)) => Some(figure::NO_SAFE_CONTACT.to_owned()),
                    Some(HubEvent::ReferralClosed(e)) => {
                        measures(&mut counts, "hub", &day, &e.answers);
                        Some(figure::CLOSED.to_owned())
                    }
                    Some(HubEvent::OnwardReferralMade(e)) => {
                        Some(format!("{}{}", figure::ONWARD_PREFIX, e.target_service))
                    }
                    // A reassessment is not a second assessed victim.
                    Some(HubEvent::NeedsAssessed(e)) => (!e.reassessment).then(|| figure::NEEDS_ASSESSED.to_owned()),
                    Some(HubEvent::SupportSessionRecorded(_)) => Some(figure::SUPPORT_SESSIONS.to_owned()),
                    Some(HubEvent::OutreachSent(_)) => Some(figure::OUTREACH_SENT.to_owned()),
                    // Who holds a referral, how to reach the victim and their consent to pass details on are not
                    // figures.
                    Some(
                        HubEvent::ReferralAllocated(_) | HubEvent::SafeContactUpdated(_) | HubEvent::ConsentRecorded(_),
                    )
                    | None => None,
                };
                if let Some(name) = hub_figure {
                    count(&mut counts, "hub", day.clone(), name);
                }
                let Some(event) = decode::<SpecialistEvent>(position, envelope)? else { continue };
                if let SpecialistEvent::CaseOpened(e) = &event {
                    sqlx::query(
                        "INSERT INTO reporting_cases (case_id, service) VALUES ($1, $2) ON CONFLICT (case_id) DO NOTHING",
                    )
                    .bind(e.case_id.to_string())
                    .bind(e.service.as_str())
                    .execute(&mut *tx)
                    .await?;
                    services.insert(e.case_id, e.service.as_str().to_owned());
                    if e.age_band == Some(AgeBand::Under18) {
                        count(&mut counts, e.service.as_str(), day.clone(), figure::CASES_OPENED_UNDER_18.into());
                    }
                    if matches!(e.origin, CaseOrigin::Hub { .. }) {
                        count(&mut counts, e.service.as_str(), day.clone(), figure::CASES_OPENED_FROM_HUB.into());
                    }
                }
                let Some(name) = specialist_figure(tx, &event).await? else { continue };
                let case_id = case_of(&event);
                let service = match services.get(&case_id) {
                    Some(service) => service.clone(),
                    None => {
                        let service: Option<String> =
                            sqlx::query_scalar("SELECT service FROM reporting_cases WHERE case_id = $1")
                                .bind(case_id.to_string())
                                .fetch_optional(&mut *tx)
                                .await?;
                        // A case this projection never saw opened (its service unknown) counts nowhere.
                        let Some(service) = service else { continue };
                        services.insert(case_id, service.clone());
                        service
                    }
                };
                if let SpecialistEvent::CaseClosed(e) = &event {
                    measures(&mut counts, &service, &day, &e.answers);
                }
                count(&mut counts, &service, day, name);
            }
            for ((service, day, figure), value) in counts {
                sqlx::query(
                    "INSERT INTO reporting_daily (service, day, figure, value) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (day, service, figure) DO UPDATE SET value = reporting_daily.value + excluded.value",
                )
                .bind(service)
                .bind(day)
                .bind(figure)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_counted_in_england_and_wales() {
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        assert_eq!(super::day_of(at("2026-06-30T23:30:00Z")), "2026-07-01", "00:30 BST on 1 July");
        assert_eq!(super::day_of(at("2026-12-31T23:30:00Z")), "2026-12-31", "GMT in winter");
        assert_eq!(super::day_of(at("2026-03-31T23:30:00Z")), "2026-04-01", "the clocks went forward on 29 March");
    }
}
