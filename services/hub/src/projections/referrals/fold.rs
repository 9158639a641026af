//! Folding a batch's events into the rows they touch, in memory and in order: loading those rows up front, the
//! changes each event makes (the hub's own, the people service's duplicate decisions and erasures, the specialist
//! services' closed loop), the repeat-victim flags, and writing the changed rows back.

use std::collections::{BTreeMap, BTreeSet};

use casetrack_casework::victims_code::{FIRST_CONTACT_WORKING_DAYS, working_days_after};
use casetrack_eventstore::codes::code;
use casetrack_eventstore::db::{Cell, OnConflict, Rows, fetch_in, write_rows};
use casetrack_proto::Envelope;
use casetrack_proto::contact::{ConsentBasis, OutcomeAnswer};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::people::{DuplicateDecision, PeopleEvent};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use rustc_hash::{FxHashMap, FxHashSet};
use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;

use super::rows::{ONWARD_COLUMNS, Onward, REFERRAL_COLUMNS, Referral, parse_id};

/// What a specialist event tells the referrer, when it tells them anything: the case's new status.
pub(super) fn loop_status(event: &SpecialistEvent) -> Option<(casetrack_proto::CaseId, &'static str)> {
    Some(match event {
        SpecialistEvent::ReferralAccepted(e) => (e.case_id, "accepted"),
        SpecialistEvent::ReferralDeclinedByService(e) => (e.case_id, "declined_by_service"),
        SpecialistEvent::ReferralWithdrawn(e) => (e.case_id, "withdrawn"),
        SpecialistEvent::CaseContactAttemptRecorded(e) if e.outcome.reached() => (e.case_id, "engaged"),
        SpecialistEvent::CaseUnableToContactRecorded(e) => (e.case_id, "unable_to_contact"),
        SpecialistEvent::CaseSupportDeclined(e) => (e.case_id, "declined_by_victim"),
        SpecialistEvent::CaseReopened(e) => (e.case_id, "reopened"),
        _ => return None,
    })
}

/// The rows a batch touches, as its events leave them. Referrals are kept by their ids as numbers: hashed and
/// compared as 16 bytes, not 36 characters (in the same order: hyphenated lowercase hex sorts as the bytes do).
#[derive(Default)]
pub(super) struct Fold {
    pub(super) referrals: FxHashMap<Uuid, Referral>,
    pub(super) changed: BTreeSet<Uuid>,
    pub(super) onward: FxHashMap<(String, String), Onward>,
    pub(super) onward_by_case: FxHashMap<String, (String, String)>,
    pub(super) onward_changed: BTreeSet<(String, String)>,
    /// Rows of `hub_contact_attempts`, with their referral's id.
    pub(super) attempts: Vec<(Uuid, Vec<Cell>)>,
    /// Each loaded person's links, as the batch leaves them.
    pub(super) links: FxHashMap<Uuid, BTreeSet<Uuid>>,
    /// The latest decision of the batch on each pair of people, both ways round.
    pub(super) decisions: BTreeMap<(Uuid, Uuid), DuplicateDecision>,
}

impl Fold {
    pub(super) fn referral(&mut self, id: Uuid) -> Option<&mut Referral> {
        let referral = self.referrals.get_mut(&id)?;
        self.changed.insert(id);
        Some(referral)
    }

    pub(super) fn onward_of_case(&mut self, case_id: &str) -> Option<&mut Onward> {
        let key = self.onward_by_case.get(case_id)?.clone();
        let onward = self.onward.get_mut(&key)?;
        self.onward_changed.insert(key);
        Some(onward)
    }

    pub(super) fn hub(&mut self, envelope: &Envelope, event: &HubEvent) {
        // When it happened, as stored: written out only for the events that store it.
        let at = || envelope.occurred_at.to_rfc3339();
        let id = envelope.subject.id();
        match event {
            HubEvent::ReferralReceived(e) => {
                if self.referrals.contains_key(&id) {
                    return;
                }
                let clock_starts = e.crime_reported_on.unwrap_or_else(|| envelope.occurred_at.date_naive());
                let due = working_days_after(clock_starts, FIRST_CONTACT_WORKING_DAYS);
                let window =
                    envelope.occurred_at.checked_sub_months(chrono::Months::new(12)).unwrap_or(envelope.occurred_at);
                let referral = Referral {
                    referral_id: id.to_string(),
                    person_id: e.person_id.to_string(),
                    source: code(&e.source),
                    offence_category: e.offence_category.as_ref().map(code),
                    domestic_abuse: i64::from(e.domestic_abuse),
                    crime_reference: e.crime_reference.clone(),
                    crime_reported_on: e.crime_reported_on.map(|d| d.to_string()),
                    received_at: at(),
                    status: if e.consent == ConsentBasis::Withheld { "not_worked" } else { "awaiting_contact" }.into(),
                    attempts: 0,
                    ended_at: None,
                    enhanced_rights: i64::from(e.enhanced_rights),
                    officer: None,
                    first_attempt_due: Some(due.to_string()),
                    first_attempt_at: None,
                    needs: None,
                    needs_assessed_at: None,
                    sessions: 0,
                    outreach_sent_at: None,
                    repeat_window_start: Some(window.to_rfc3339()),
                    repeat_victim: 0,
                };
                self.referrals.insert(id, referral);
                self.changed.insert(id);
            }
            HubEvent::ContactAttemptRecorded(e) => {
                self.attempts.push((
                    id,
                    vec![
                        id.to_string().into(),
                        i64::from(envelope.version).into(),
                        code(&e.channel).into(),
                        e.attempted_at.to_rfc3339().into(),
                        code(&e.time_band).into(),
                        code(&e.outcome).into(),
                    ],
                ));
                let Some(referral) = self.referral(id) else { return };
                referral.attempts += 1;
                if e.outcome.reached() && referral.status == "awaiting_contact" {
                    referral.status = "contacted".into();
                }
                referral.first_attempt_at.get_or_insert_with(|| e.attempted_at.to_rfc3339());
            }
            HubEvent::OnwardReferralMade(e) => {
                let key = (id.to_string(), e.target_service.as_str().to_owned());
                if !self.onward.contains_key(&key) {
                    let onward = Onward {
                        referral_id: key.0.clone(),
                        service: key.1.clone(),
                        referred_at: at(),
                        case_id: None,
                        case_opened_at: None,
                        case_status: None,
                        case_status_at: None,
                        case_outcome: None,
                    };
                    self.onward.insert(key.clone(), onward);
                    self.onward_changed.insert(key);
                }
            }
            // Safe-contact rules and consent are read from the referral itself, where the decisions use them.
            HubEvent::SafeContactUpdated(_) | HubEvent::ConsentRecorded(_) => {}
            event => {
                let Some(referral) = self.referral(id) else { return };
                match event {
                    HubEvent::ReferralAllocated(e) => referral.officer = Some(e.officer.as_str().to_owned()),
                    HubEvent::NeedsAssessed(e) => {
                        referral.needs = Some(e.needs.join(","));
                        referral.needs_assessed_at = Some(at());
                    }
                    HubEvent::SupportSessionRecorded(_) => referral.sessions += 1,
                    HubEvent::OutreachSent(_) => {
                        referral.outreach_sent_at.get_or_insert_with(at);
                    }
                    HubEvent::SupportAccepted(_) => referral.status = "supported".into(),
                    HubEvent::UnableToContactRecorded(_) => referral.end("unable_to_contact", &at()),
                    HubEvent::ReturnedToReferrer(_) => referral.end("returned_to_referrer", &at()),
                    HubEvent::SupportDeclined(_) => referral.end("declined", &at()),
                    HubEvent::ReferralClosed(_) => referral.end("closed", &at()),
                    HubEvent::ReportedToPolice(e) => {
                        referral.crime_reference = Some(e.crime_reference.clone());
                        referral.crime_reported_on = Some(e.reported_on.to_string());
                    }
                    HubEvent::ReferralReceived(_)
                    | HubEvent::ContactAttemptRecorded(_)
                    | HubEvent::OnwardReferralMade(_)
                    | HubEvent::SafeContactUpdated(_)
                    | HubEvent::ConsentRecorded(_) => unreachable!("handled above"),
                }
            }
        }
    }

    pub(super) fn people(&mut self, event: &PeopleEvent) {
        match event {
            PeopleEvent::DuplicateDecided(e) => {
                let (a, b) = (e.person_id.0, e.other_person_id.0);
                for (one, other) in [(a, b), (b, a)] {
                    let links = self.links.entry(one).or_default();
                    match e.decision {
                        DuplicateDecision::Linked => links.insert(other),
                        DuplicateDecision::Rejected => links.remove(&other),
                    };
                    self.decisions.insert((one, other), e.decision);
                }
            }
            // Erasure: the one identifying value this read model holds in clear goes.
            PeopleEvent::PersonErased(e) => {
                let person = e.person_id.to_string();
                let ids: Vec<Uuid> =
                    self.referrals.iter().filter(|(_, r)| r.person_id == person).map(|(id, _)| *id).collect();
                for id in ids {
                    if let Some(referral) = self.referral(id) {
                        referral.crime_reference = None;
                    }
                }
            }
            _ => {}
        }
    }

    /// The closed loop: the specialist service's case, and every change that matters to the referrer, shows on the
    /// hub's referral.
    pub(super) fn specialist(&mut self, envelope: &Envelope, event: &SpecialistEvent) {
        let at = envelope.occurred_at.to_rfc3339();
        match event {
            SpecialistEvent::CaseOpened(e) => {
                if let CaseOrigin::Hub { referral_id, .. } = &e.origin {
                    let key = (referral_id.to_string(), e.service.as_str().to_owned());
                    if let Some(onward) = self.onward.get_mut(&key) {
                        let case_id = e.case_id.to_string();
                        onward.case_id = Some(case_id.clone());
                        onward.case_opened_at = Some(at.clone());
                        onward.case_status = Some("received".into());
                        onward.case_status_at = Some(at);
                        self.onward_by_case.insert(case_id, key.clone());
                        self.onward_changed.insert(key);
                    }
                }
            }
            SpecialistEvent::CaseClosed(e) => {
                let asked: Vec<_> = e.answers.iter().filter(|a| a.answer != OutcomeAnswer::NotAsked).collect();
                let improved = asked.iter().filter(|a| a.answer == OutcomeAnswer::Improved).count();
                if let Some(onward) = self.onward_of_case(&e.case_id.to_string()) {
                    onward.case_status = Some("closed".into());
                    onward.case_status_at = Some(at);
                    onward.case_outcome =
                        Some(format!("{improved} of {} outcome measures asked improved", asked.len()));
                }
            }
            event => {
                if let Some((case_id, status)) = loop_status(event)
                    && let Some(onward) = self.onward_of_case(&case_id.to_string())
                {
                    onward.case_status = Some(status.into());
                    onward.case_status_at = Some(at);
                }
            }
        }
    }

    /// Re-derives the repeat-victim flag of every referral of `people`: another referral of the same or a linked
    /// person received in the 12 months before it. Every referral of them and of the people linked to them is in
    /// the fold.
    pub(super) fn refresh_repeat(&mut self, people: &BTreeSet<Uuid>) {
        let mut by_person: FxHashMap<&str, Vec<(Uuid, &str)>> = FxHashMap::default();
        for (id, referral) in &self.referrals {
            by_person.entry(&referral.person_id).or_default().push((*id, &referral.received_at));
        }
        let none = BTreeSet::new();
        let mut flags = Vec::new();
        for person in people {
            let related: Vec<String> =
                std::iter::once(person).chain(self.links.get(person).unwrap_or(&none)).map(Uuid::to_string).collect();
            let person = person.to_string();
            for &(id, _) in by_person.get(person.as_str()).map(Vec::as_slice).unwrap_or_default() {
                let referral = &self.referrals[&id];
                let repeat = referral.repeat_window_start.as_deref().is_some_and(|window| {
                    related.iter().flat_map(|p| by_person.get(p.as_str()).map(Vec::as_slice).unwrap_or_default()).any(
                        |&(other, received)| {
                            other != id && received < referral.received_at.as_str() && received >= window
                        },
                    )
                });
                if i64::from(repeat) != referral.repeat_victim {
                    flags.push((id, repeat));
                }
            }
        }
        for (id, repeat) in flags {
            if let Some(referral) = self.referral(id) {
                referral.repeat_victim = i64::from(repeat);
            }
        }
    }
}

impl Fold {
    pub(super) async fn load_referrals(
        &mut self,
        tx: &mut AnyConnection,
        by: &str,
        keys: &BTreeSet<String>,
    ) -> sqlx::Result<()> {
        let keys: Vec<String> = keys.iter().cloned().collect();
        let select = format!("SELECT {} FROM hub_referrals WHERE {by} IN", REFERRAL_COLUMNS.join(", "));
        for row in fetch_in(tx, &select, &keys).await? {
            let referral = Referral::read(&row)?;
            self.referrals.entry(parse_id(referral.referral_id.clone())?).or_insert(referral);
        }
        Ok(())
    }

    pub(super) async fn load_onward(
        &mut self,
        tx: &mut AnyConnection,
        by: &str,
        keys: &BTreeSet<String>,
    ) -> sqlx::Result<()> {
        let keys: Vec<String> = keys.iter().cloned().collect();
        let select = format!("SELECT {} FROM hub_onward_referrals WHERE {by} IN", ONWARD_COLUMNS.join(", "));
        for row in fetch_in(tx, &select, &keys).await? {
            let onward = Onward::read(&row)?;
            let key = (onward.referral_id.clone(), onward.service.clone());
            if let Some(case_id) = &onward.case_id {
                self.onward_by_case.insert(case_id.clone(), key.clone());
            }
            self.onward.entry(key).or_insert(onward);
        }
        Ok(())
    }

    /// Reads the stored links of `people` the fold does not hold yet, of those among `stored` (who may have some).
    pub(super) async fn load_links(
        &mut self,
        tx: &mut AnyConnection,
        people: &BTreeSet<Uuid>,
        stored: &BTreeSet<String>,
    ) -> sqlx::Result<()> {
        let missing: Vec<String> = people
            .iter()
            .filter(|p| self.links.insert(**p, BTreeSet::new()).is_none())
            .map(Uuid::to_string)
            .filter(|p| stored.contains(p))
            .collect();
        let select = "SELECT person_id, other_person_id FROM hub_person_links WHERE person_id IN";
        for row in fetch_in(tx, select, &missing).await? {
            let person = parse_id(row.try_get("person_id")?)?;
            self.links.entry(person).or_default().insert(parse_id(row.try_get("other_person_id")?)?);
        }
        Ok(())
    }

    /// Writes the changed rows. Those of referrals whose stream the batch begins (`begun`) are new: inserted, not
    /// upserted.
    pub(super) async fn write(self, tx: &mut AnyConnection, begun: &FxHashSet<Uuid>) -> sqlx::Result<()> {
        let mut referrals = Rows::default();
        for id in &self.changed {
            referrals.push(begun.contains(id), self.referrals[id].cells());
        }
        referrals.write(tx, "hub_referrals", &REFERRAL_COLUMNS, OnConflict::Replace(&["referral_id"])).await?;
        let onward: Vec<Vec<Cell>> = self.onward_changed.iter().map(|key| self.onward[key].cells()).collect();
        write_rows(
            tx,
            "hub_onward_referrals",
            &ONWARD_COLUMNS,
            OnConflict::Replace(&["referral_id", "service"]),
            &onward,
        )
        .await?;
        let columns = ["referral_id", "attempt_no", "channel", "attempted_at", "time_band", "outcome"];
        let mut attempts = Rows::default();
        for (id, row) in self.attempts {
            attempts.push(begun.contains(&id), row);
        }
        let key = ["referral_id", "attempt_no"];
        attempts.write(tx, "hub_contact_attempts", &columns, OnConflict::Ignore(&key)).await?;
        let mut linked = Vec::new();
        for ((one, other), decision) in self.decisions {
            let (one, other) = (one.to_string(), other.to_string());
            match decision {
                DuplicateDecision::Linked => linked.push(vec![one.into(), other.into()]),
                DuplicateDecision::Rejected => {
                    sqlx::query("DELETE FROM hub_person_links WHERE person_id = $1 AND other_person_id = $2")
                        .bind(one)
                        .bind(other)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let columns = ["person_id", "other_person_id"];
        write_rows(tx, "hub_person_links", &columns, OnConflict::Ignore(&["person_id", "other_person_id"]), &linked)
            .await
    }
}
