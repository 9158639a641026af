//! `reporting.pathway`: activity counts (what happened in a period) per day, service and figure.
//!
//! A batch reads the marks it needs (referrals already contacted, cases' services and once-per-case facts) up
//! front, is folded in memory (one increment per service, day and figure), then written many rows a statement, so
//! the cost per batch grows with the number of distinct keys, not events.
//!
//! A referral's "contacted" mark is kept only while the referral is open: the hub takes no contact attempt on a
//! referral that has ended, so once it ends, the mark can never be asked for again. `reporting_contacted` holds
//! the open referrals that have been reached, not every referral ever reached.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use casetrack_eventstore::codes::code;
use casetrack_eventstore::db::{Cell, OnConflict, Rows, delete_in, fetch_in, write_rows};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::ReferralId;
use casetrack_proto::contact::OutcomeAnswer;
use casetrack_proto::hub::{HubEvent, MeasureAnswer, ReferralSource};
use casetrack_proto::profile::AgeBand;
use casetrack_proto::specialist::{CaseOrigin, RiskLevel, SpecialistEvent};
use sqlx::{AnyConnection, Row as _};

use super::common::case_of;

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

/// A case as this projection keeps it in `reporting_cases`: its service, and the once-per-case facts marked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Case {
    service: String,
    engaged: bool,
    high_risk: bool,
}

/// The figure a specialist event adds to its case's service, if any (`docs/metrics.md`, specialist services).
/// Engaged and high risk count once per case: the first time, marked on the case.
fn specialist_figure(case: &mut Case, event: &SpecialistEvent) -> Option<String> {
    use SpecialistEvent as E;
    let name = match event {
        E::CaseOpened(_) => return Some(figure::CASES_OPENED.into()),
        E::ReferralAccepted(_) => "referrals_accepted".into(),
        E::ReferralDeclinedByService(_) => "declined_by_service".into(),
        E::ReferralWithdrawn(_) => "withdrawn".into(),
        E::CaseContactAttemptRecorded(e) => {
            if !e.outcome.reached() || std::mem::replace(&mut case.engaged, true) {
                return None;
            }
            "engaged".into()
        }
        E::CaseUnableToContactRecorded(_) => "unable_to_contact".into(),
        E::CaseSupportDeclined(_) => "declined_by_victim".into(),
        E::RiskAssessed(e) => {
            if e.level != RiskLevel::High || std::mem::replace(&mut case.high_risk, true) {
                return None;
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
        | E::OffenderConsentRecorded(_) => return None,
    };
    Some(name)
}

type Key = (String, String, String);

/// The day (YYYY-MM-DD) in England and Wales of a moment: 00:30 BST on 1 July is 1 July, though it is 30 June in
/// UTC.
pub fn day_of(at: chrono::DateTime<chrono::Utc>) -> String {
    super::common::day_of(at).to_string()
}

fn count(counts: &mut BTreeMap<Key, i64>, service: &str, day: String, figure: String) {
    *counts.entry((service.to_owned(), day, figure)).or_default() += 1;
}

#[async_trait::async_trait]
impl Projection for Pathway {
    fn name(&self) -> &'static str {
        "reporting.pathway"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reporting_daily", "reporting_activity_monthly", "reporting_contacted", "reporting_cases"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        // The batch decoded, with the referrals and cases whose marks it reads: not those it begins (no marks
        // stored yet), nor, in a rebuild, those never marked.
        let begun = batch.begun();
        let (hub, specialist) = (batch.decoded::<HubEvent>().await?, batch.decoded::<SpecialistEvent>().await?);
        let mut read = Vec::new();
        let (mut reached, mut case_ids) = (BTreeSet::new(), BTreeSet::new());
        for (((_, envelope), hub), specialist) in batch.events().zip(hub).zip(specialist) {
            if let Some(event) = hub {
                if let HubEvent::ContactAttemptRecorded(e) = event
                    && e.outcome.reached()
                    && !begun.contains(&e.referral_id.0)
                    && known.may_have(CONTACTED, e.referral_id.0)
                {
                    reached.insert(e.referral_id.to_string());
                }
                read.push((envelope, Event::Hub(event)));
            } else if let Some(event) = specialist {
                let case = case_of(event).0;
                if !begun.contains(&case) && known.may_have(CASE, case) {
                    case_ids.insert(case.to_string());
                }
                read.push((envelope, Event::Specialist(event)));
            }
        }
        if read.is_empty() {
            return Ok(());
        }
        let reached: Vec<String> = reached.into_iter().collect();
        let select = "SELECT referral_id FROM reporting_contacted WHERE referral_id IN";
        let mut contacted = HashSet::new();
        for row in fetch_in(tx, select, &reached).await? {
            contacted.insert(row.try_get::<String, _>(0)?);
        }
        let case_ids: Vec<String> = case_ids.into_iter().collect();
        let select = "SELECT case_id, service, engaged, high_risk FROM reporting_cases WHERE case_id IN";
        let mut cases: BTreeMap<String, Case> = BTreeMap::new();
        for row in fetch_in(tx, select, &case_ids).await? {
            let case = Case {
                service: row.try_get(1)?,
                engaged: row.try_get::<i64, _>(2)? != 0,
                high_risk: row.try_get::<i64, _>(3)? != 0,
            };
            cases.insert(row.try_get(0)?, case);
        }
        let stored_cases = cases.clone();
        let (mut newly_contacted, mut ended) = (Vec::new(), BTreeSet::new());
        let mut counts = BTreeMap::new();
        for (envelope, event) in read {
            // Counting rule: the day is the calendar day, in England and Wales, of the domain time.
            let day = day_of(envelope.occurred_at);
            let event = match event {
                Event::Hub(event) => {
                    if let Some(name) = hub_figure(&mut counts, &day, &mut contacted, &mut newly_contacted, event) {
                        count(&mut counts, "hub", day, name);
                    }
                    ended.extend(ending(event));
                    continue;
                }
                Event::Specialist(event) => event,
            };
            if let SpecialistEvent::CaseOpened(e) = event {
                known.store(CASE, e.case_id.0);
                let case = Case { service: e.service.as_str().to_owned(), engaged: false, high_risk: false };
                cases.entry(e.case_id.to_string()).or_insert(case);
                if e.age_band == Some(AgeBand::Under18) {
                    count(&mut counts, e.service.as_str(), day.clone(), figure::CASES_OPENED_UNDER_18.into());
                }
                if matches!(e.origin, CaseOrigin::Hub { .. }) {
                    count(&mut counts, e.service.as_str(), day.clone(), figure::CASES_OPENED_FROM_HUB.into());
                }
            }
            // A case this projection never saw opened (its service unknown) counts nowhere.
            let Some(case) = cases.get_mut(&case_of(event).to_string()) else { continue };
            let Some(name) = specialist_figure(case, event) else { continue };
            let service = case.service.clone();
            if let SpecialistEvent::CaseClosed(e) = event {
                measures(&mut counts, &service, &day, &e.answers);
            }
            count(&mut counts, &service, day, name);
        }
        // Marks for the referrals reached and still open; those of referrals that ended are no longer needed.
        let contacted_rows: Vec<Vec<Cell>> = newly_contacted
            .into_iter()
            .filter(|id| !ended.contains(id))
            .map(|id| {
                known.store(CONTACTED, id.0);
                vec![Cell::from(id.to_string())]
            })
            .collect();
        let key = ["referral_id"];
        write_rows(tx, "reporting_contacted", &key, OnConflict::Ignore(&key), &contacted_rows).await?;
        // The stored marks of referrals that ended go. (A rebuild's `known` keeps their keys: no attempt comes
        // after the end to look them up, and a key that cannot be wrong needs no care if a batch is rolled back.)
        let unmarked: Vec<String> = ended
            .into_iter()
            .filter(|id| !begun.contains(&id.0) && known.may_have(CONTACTED, id.0))
            .map(|id| id.to_string())
            .collect();
        delete_in(tx, "DELETE FROM reporting_contacted WHERE referral_id IN", &unmarked).await?;
        // Cases not read above were never stored: their rows are inserted; the stored ones that changed replaced.
        let mut case_rows = Rows::default();
        for (id, case) in cases {
            let stored = stored_cases.get(&id);
            if stored == Some(&case) {
                continue;
            }
            let row = vec![id.into(), case.service.into(), case.engaged.into(), case.high_risk.into()];
            case_rows.push(stored.is_none(), row);
        }
        let columns = ["case_id", "service", "engaged", "high_risk"];
        case_rows.write(tx, "reporting_cases", &columns, OnConflict::Replace(&["case_id"])).await?;
        // Each day's count goes to its month's too, added up here: once per key, not once per change.
        let mut months: BTreeMap<Key, i64> = BTreeMap::new();
        for ((service, day, figure), value) in &counts {
            *months.entry((service.clone(), day[..7].to_owned(), figure.clone())).or_default() += value;
        }
        for (table, period, counts) in
            [("reporting_daily", "day", counts), ("reporting_activity_monthly", "month", months)]
        {
            let rows: Vec<Vec<Cell>> = counts
                .into_iter()
                .map(|((service, day, figure), value)| vec![service.into(), day.into(), figure.into(), value.into()])
                .collect();
            let columns = ["service", period, "figure", "value"];
            write_rows(tx, table, &columns, OnConflict::Add(&[period, "service", "figure"], "value"), &rows).await?;
        }
        Ok(())
    }
}

/// An event of a batch this projection counts.
enum Event<'e> {
    Hub(&'e HubEvent),
    Specialist(&'e SpecialistEvent),
}

/// What a rebuild notes it has stored ([`Known`]): referrals marked contacted, and cases.
const CONTACTED: &str = "contacted";
const CASE: &str = "case";

/// The referral an event ends, if it ends one: after it, the hub takes no more contact attempts for the referral.
/// Every event is named, so that a new one has to be placed here.
fn ending(event: &HubEvent) -> Option<ReferralId> {
    use HubEvent as E;
    match event {
        E::UnableToContactRecorded(e) => Some(e.referral_id),
        E::ReturnedToReferrer(e) => Some(e.referral_id),
        E::SupportDeclined(e) => Some(e.referral_id),
        E::ReferralClosed(e) => Some(e.referral_id),
        E::ReferralReceived(_)
        | E::ContactAttemptRecorded(_)
        | E::SupportAccepted(_)
        | E::OnwardReferralMade(_)
        | E::ReportedToPolice(_)
        | E::ReferralAllocated(_)
        | E::SafeContactUpdated(_)
        | E::OutreachSent(_)
        | E::NeedsAssessed(_)
        | E::SupportSessionRecorded(_)
        | E::ConsentRecorded(_) => None,
    }
}

/// The figure a hub event adds on `day`, if any, counting the extra figures some events add on the way.
fn hub_figure(
    counts: &mut BTreeMap<Key, i64>,
    day: &str,
    contacted: &mut HashSet<String>,
    newly_contacted: &mut Vec<ReferralId>,
    event: &HubEvent,
) -> Option<String> {
    match event {
        HubEvent::ReferralReceived(e) => {
            if e.source == ReferralSource::SelfReferral {
                count(counts, "hub", day.to_owned(), figure::SELF_REFERRALS.into());
            }
            Some(figure::REFERRALS_RECEIVED.to_owned())
        }
        HubEvent::ReportedToPolice(_) => Some(figure::SELF_REFERRALS_REPORTED.to_owned()),
        HubEvent::ContactAttemptRecorded(e) => {
            count(counts, "hub", day.to_owned(), figure::CONTACT_ATTEMPTS.into());
            // Contacted once per referral: at its first reached attempt.
            let id = e.referral_id.to_string();
            let first_reach = e.outcome.reached() && contacted.insert(id);
            if first_reach {
                newly_contacted.push(e.referral_id);
            }
            first_reach.then(|| figure::CONTACTED.to_owned())
        }
        HubEvent::SupportAccepted(_) => Some(figure::SUPPORTED.to_owned()),
        HubEvent::SupportDeclined(_) => Some(figure::DECLINED.to_owned()),
        HubEvent::UnableToContactRecorded(_) => Some(figure::UNABLE_TO_CONTACT.to_owned()),
        HubEvent::ReturnedToReferrer(_) => Some(figure::NO_SAFE_CONTACT.to_owned()),
        HubEvent::ReferralClosed(e) => {
            measures(counts, "hub", day, &e.answers);
            Some(figure::CLOSED.to_owned())
        }
        HubEvent::OnwardReferralMade(e) => Some(format!("{}{}", figure::ONWARD_PREFIX, e.target_service)),
        // A reassessment is not a second assessed victim.
        HubEvent::NeedsAssessed(e) => (!e.reassessment).then(|| figure::NEEDS_ASSESSED.to_owned()),
        HubEvent::SupportSessionRecorded(_) => Some(figure::SUPPORT_SESSIONS.to_owned()),
        HubEvent::OutreachSent(_) => Some(figure::OUTREACH_SENT.to_owned()),
        // Who holds a referral, how to reach the victim and their consent to pass details on are not figures.
        HubEvent::ReferralAllocated(_) | HubEvent::SafeContactUpdated(_) | HubEvent::ConsentRecorded(_) => None,
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
