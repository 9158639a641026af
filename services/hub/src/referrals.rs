//! `hub.referrals`: the hub's referrals and the outcome of each onward referral, the facts the work queues sort
//! and filter on, and the repeat-victim flag (another referral of the same or a linked person received in the 12
//! months before this one; links are the people service's duplicate decisions, followed here so a rebuild of this
//! projection alone gives the same flags).
//!
//! A batch is applied in three steps: the rows its events touch are read up front, a few hundred keys a statement;
//! the events are folded into them in memory, in order, as the statements they replace would have changed them;
//! the changed rows are written back many a statement. The cost of a batch grows with the rows it touches, not its
//! events, and a rebuild, which hands over thousands of events at once, writes each row a few times in all.

use std::collections::{BTreeMap, BTreeSet};

use casetrack_platform::clock::{FIRST_CONTACT_WORKING_DAYS, working_days_after};
use casetrack_platform::codes::code;
use casetrack_platform::db::{Cell, OnConflict, Rows, fetch_in, write_rows};
use casetrack_platform::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::Envelope;
use casetrack_proto::contact::{ConsentBasis, OutcomeAnswer};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::people::{DuplicateDecision, PeopleEvent};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use rustc_hash::{FxHashMap, FxHashSet};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;

pub struct Referrals;

/// What a specialist event tells the referrer, when it tells them anything: the case's new status.
fn loop_status(event: &SpecialistEvent) -> Option<(casetrack_proto::CaseId, &'static str)> {
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

const REFERRAL_COLUMNS: [&str; 21] = [
    "referral_id",
    "person_id",
    "source",
    "offence_category",
    "domestic_abuse",
    "crime_reference",
    "crime_reported_on",
    "received_at",
    "status",
    "attempts",
    "ended_at",
    "enhanced_rights",
    "officer",
    "first_attempt_due",
    "first_attempt_at",
    "needs",
    "needs_assessed_at",
    "sessions",
    "outreach_sent_at",
    "repeat_window_start",
    "repeat_victim",
];

/// A row of `hub_referrals`.
#[derive(Debug, Clone)]
struct Referral {
    referral_id: String,
    person_id: String,
    source: String,
    offence_category: Option<String>,
    domestic_abuse: i64,
    crime_reference: Option<String>,
    crime_reported_on: Option<String>,
    received_at: String,
    status: String,
    attempts: i64,
    ended_at: Option<String>,
    enhanced_rights: i64,
    officer: Option<String>,
    first_attempt_due: Option<String>,
    first_attempt_at: Option<String>,
    needs: Option<String>,
    needs_assessed_at: Option<String>,
    sessions: i64,
    outreach_sent_at: Option<String>,
    repeat_window_start: Option<String>,
    repeat_victim: i64,
}

impl Referral {
    fn read(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            referral_id: row.try_get("referral_id")?,
            person_id: row.try_get("person_id")?,
            source: row.try_get("source")?,
            offence_category: row.try_get("offence_category")?,
            domestic_abuse: row.try_get("domestic_abuse")?,
            crime_reference: row.try_get("crime_reference")?,
            crime_reported_on: row.try_get("crime_reported_on")?,
            received_at: row.try_get("received_at")?,
            status: row.try_get("status")?,
            attempts: row.try_get("attempts")?,
            ended_at: row.try_get("ended_at")?,
            enhanced_rights: row.try_get("enhanced_rights")?,
            officer: row.try_get("officer")?,
            first_attempt_due: row.try_get("first_attempt_due")?,
            first_attempt_at: row.try_get("first_attempt_at")?,
            needs: row.try_get("needs")?,
            needs_assessed_at: row.try_get("needs_assessed_at")?,
            sessions: row.try_get("sessions")?,
            outreach_sent_at: row.try_get("outreach_sent_at")?,
            repeat_window_start: row.try_get("repeat_window_start")?,
            repeat_victim: row.try_get("repeat_victim")?,
        })
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.referral_id.clone().into(),
            self.person_id.clone().into(),
            self.source.clone().into(),
            self.offence_category.clone().into(),
            self.domestic_abuse.into(),
            self.crime_reference.clone().into(),
            self.crime_reported_on.clone().into(),
            self.received_at.clone().into(),
            self.status.clone().into(),
            self.attempts.into(),
            self.ended_at.clone().into(),
            self.enhanced_rights.into(),
            self.officer.clone().into(),
            self.first_attempt_due.clone().into(),
            self.first_attempt_at.clone().into(),
            self.needs.clone().into(),
            self.needs_assessed_at.clone().into(),
            self.sessions.into(),
            self.outreach_sent_at.clone().into(),
            self.repeat_window_start.clone().into(),
            self.repeat_victim.into(),
        ]
    }

    /// Ends the referral with `status`, keeping the first end if it had one.
    fn end(&mut self, status: &str, at: &str) {
        self.status = status.to_owned();
        self.ended_at.get_or_insert_with(|| at.to_owned());
    }
}

const ONWARD_COLUMNS: [&str; 8] = [
    "referral_id",
    "service",
    "referred_at",
    "case_id",
    "case_opened_at",
    "case_status",
    "case_status_at",
    "case_outcome",
];

/// A row of `hub_onward_referrals`.
#[derive(Debug, Clone)]
struct Onward {
    referral_id: String,
    service: String,
    referred_at: String,
    case_id: Option<String>,
    case_opened_at: Option<String>,
    case_status: Option<String>,
    case_status_at: Option<String>,
    case_outcome: Option<String>,
}

impl Onward {
    fn read(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            referral_id: row.try_get("referral_id")?,
            service: row.try_get("service")?,
            referred_at: row.try_get("referred_at")?,
            case_id: row.try_get("case_id")?,
            case_opened_at: row.try_get("case_opened_at")?,
            case_status: row.try_get("case_status")?,
            case_status_at: row.try_get("case_status_at")?,
            case_outcome: row.try_get("case_outcome")?,
        })
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.referral_id.clone().into(),
            self.service.clone().into(),
            self.referred_at.clone().into(),
            self.case_id.clone().into(),
            self.case_opened_at.clone().into(),
            self.case_status.clone().into(),
            self.case_status_at.clone().into(),
            self.case_outcome.clone().into(),
        ]
    }
}

/// An event of a batch this projection reads, decoded once.
enum Read<'a> {
    Hub(&'a Envelope, &'a HubEvent),
    People(&'a PeopleEvent),
    Specialist(&'a Envelope, &'a SpecialistEvent),
}

/// What a rebuild notes it has stored ([`Known`]): referrals, people with referrals, people with links, onward
/// referrals by referral, and by case.
const REFERRAL: &str = "referral";
const PERSON: &str = "person";
const LINKED: &str = "linked";
const ONWARD: &str = "onward";
const ONWARD_CASE: &str = "onward_case";

/// A person's id as stored.
fn parse_id(text: String) -> sqlx::Result<Uuid> {
    Uuid::parse_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The rows a batch touches, as its events leave them. Referrals are kept by their ids as numbers: hashed and
/// compared as 16 bytes, not 36 characters (in the same order: hyphenated lowercase hex sorts as the bytes do).
#[derive(Default)]
struct Fold {
    referrals: FxHashMap<Uuid, Referral>,
    changed: BTreeSet<Uuid>,
    onward: FxHashMap<(String, String), Onward>,
    onward_by_case: FxHashMap<String, (String, String)>,
    onward_changed: BTreeSet<(String, String)>,
    /// Rows of `hub_contact_attempts`, with their referral's id.
    attempts: Vec<(Uuid, Vec<Cell>)>,
    /// Each loaded person's links, as the batch leaves them.
    links: FxHashMap<Uuid, BTreeSet<Uuid>>,
    /// The latest decision of the batch on each pair of people, both ways round.
    decisions: BTreeMap<(Uuid, Uuid), DuplicateDecision>,
}

impl Fold {
    fn referral(&mut self, id: Uuid) -> Option<&mut Referral> {
        let referral = self.referrals.get_mut(&id)?;
        self.changed.insert(id);
        Some(referral)
    }

    fn onward_of_case(&mut self, case_id: &str) -> Option<&mut Onward> {
        let key = self.onward_by_case.get(case_id)?.clone();
        let onward = self.onward.get_mut(&key)?;
        self.onward_changed.insert(key);
        Some(onward)
    }

    fn hub(&mut self, envelope: &Envelope, event: &HubEvent) {
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

    fn people(&mut self, event: &PeopleEvent) {
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
    fn specialist(&mut self, envelope: &Envelope, event: &SpecialistEvent) {
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
    fn refresh_repeat(&mut self, people: &BTreeSet<Uuid>) {
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
    async fn load_referrals(&mut self, tx: &mut AnyConnection, by: &str, keys: &BTreeSet<String>) -> sqlx::Result<()> {
        let keys: Vec<String> = keys.iter().cloned().collect();
        let select = format!("SELECT {} FROM hub_referrals WHERE {by} IN", REFERRAL_COLUMNS.join(", "));
        for row in fetch_in(tx, &select, &keys).await? {
            let referral = Referral::read(&row)?;
            self.referrals.entry(parse_id(referral.referral_id.clone())?).or_insert(referral);
        }
        Ok(())
    }

    async fn load_onward(&mut self, tx: &mut AnyConnection, by: &str, keys: &BTreeSet<String>) -> sqlx::Result<()> {
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
    async fn load_links(
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
    async fn write(self, tx: &mut AnyConnection, begun: &FxHashSet<Uuid>) -> sqlx::Result<()> {
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

#[async_trait::async_trait]
impl Projection for Referrals {
    fn name(&self) -> &'static str {
        "hub.referrals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hub_referrals", "hub_onward_referrals", "hub_contact_attempts", "hub_person_links"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        // What the batch says, and the keys of the rows it touches.
        let hub = batch.decoded::<HubEvent>().await?;
        let people_events = batch.decoded::<PeopleEvent>().await?;
        let specialist = batch.decoded::<SpecialistEvent>().await?;
        let mut read = Vec::new();
        let mut referral_ids = BTreeSet::new();
        let mut received_by = BTreeSet::new();
        let mut decided = BTreeSet::new();
        let mut erased = BTreeSet::new();
        let mut onward_referrals = BTreeSet::new();
        let mut onward_cases = BTreeSet::new();
        // What this batch stores, for a rebuild's `known`: referrals received, onward referrals made, and
        // cases opened from a hub referral.
        let (mut received, mut made, mut opened) = (Vec::new(), Vec::new(), Vec::new());
        let decoded = hub.iter().zip(people_events).zip(specialist);
        for ((_, envelope), ((hub, people), specialist)) in batch.events().zip(decoded) {
            if let Some(event) = hub {
                referral_ids.insert(envelope.subject.id());
                match event {
                    HubEvent::ReferralReceived(e) => {
                        received_by.insert(e.person_id.0);
                        received.push(envelope.subject.id());
                    }
                    HubEvent::OnwardReferralMade(_) => {
                        onward_referrals.insert(envelope.subject.id());
                        made.push(envelope.subject.id());
                    }
                    _ => {}
                }
                read.push(Read::Hub(envelope, event));
            } else if let Some(event) = people {
                match event {
                    PeopleEvent::DuplicateDecided(e) => {
                        decided.insert(e.person_id.0);
                        decided.insert(e.other_person_id.0);
                    }
                    PeopleEvent::PersonErased(e) => {
                        erased.insert(e.person_id.0);
                    }
                    _ => continue,
                }
                read.push(Read::People(event));
            } else if let Some(event) = specialist {
                match event {
                    SpecialistEvent::CaseOpened(e) => match &e.origin {
                        CaseOrigin::Hub { referral_id, .. } => {
                            opened.push(e.case_id.0);
                            onward_referrals.insert(referral_id.0)
                        }
                        CaseOrigin::Direct { .. } => continue,
                    },
                    SpecialistEvent::CaseClosed(e) => onward_cases.insert(e.case_id.0),
                    other => match loop_status(other) {
                        Some((case_id, _)) => onward_cases.insert(case_id.0),
                        None => continue,
                    },
                };
                read.push(Read::Specialist(envelope, event));
            }
        }
        if read.is_empty() {
            return Ok(());
        }
        // Rows are read only under keys that may have some: in a rebuild, those this run has stored.
        let stored = |kind: &'static str, ids: &BTreeSet<Uuid>| -> BTreeSet<String> {
            ids.iter().filter(|id| known.may_have(kind, **id)).map(Uuid::to_string).collect()
        };
        // Nor, for rows made by a stream's own events, the streams the batch begins: onward referrals are made
        // on the referral's own stream, and a case is linked to one by the case's first event. (Not people:
        // nothing makes a person's registration come before the referrals that name them.)
        let begun = batch.begun();
        let stored_streams = |kind: &'static str, ids: &BTreeSet<Uuid>| -> BTreeSet<String> {
            ids.iter().filter(|id| !begun.contains(id) && known.may_have(kind, **id)).map(Uuid::to_string).collect()
        };
        // The repeat-victim flags to re-derive: every referral of a person with a new referral or a new
        // decision, and of the people linked to someone with a new referral (a late-received earlier referral
        // makes their later ones repeats).
        let mut fold = Fold::default();
        let mut people: BTreeSet<Uuid> = received_by.union(&decided).copied().collect();
        fold.load_links(tx, &people, &stored(LINKED, &people)).await?;
        let linked: BTreeSet<Uuid> = received_by.iter().flat_map(|p| fold.links[p].iter().copied()).collect();
        people.extend(linked);
        fold.load_links(tx, &people, &stored(LINKED, &people)).await?;
        let mut whose: BTreeSet<Uuid> = people.iter().flat_map(|p| fold.links[p].iter().copied()).collect();
        whose.extend(people.iter().copied());
        whose.extend(erased);
        fold.load_referrals(tx, "referral_id", &stored_streams(REFERRAL, &referral_ids)).await?;
        fold.load_referrals(tx, "person_id", &stored(PERSON, &whose)).await?;
        fold.load_onward(tx, "referral_id", &stored_streams(ONWARD, &onward_referrals)).await?;
        fold.load_onward(tx, "case_id", &stored_streams(ONWARD_CASE, &onward_cases)).await?;
        // The batch's events, in order, over the stored rows (the decisions over the stored links).
        for event in read {
            match event {
                Read::Hub(envelope, event) => fold.hub(envelope, event),
                Read::People(event) => fold.people(event),
                Read::Specialist(envelope, event) => fold.specialist(envelope, event),
            }
        }
        fold.refresh_repeat(&people);
        fold.write(tx, begun).await?;
        let (received_by, decided) = (received_by.into_iter().collect(), decided.into_iter().collect());
        for (kind, ids) in
            [(REFERRAL, received), (ONWARD, made), (ONWARD_CASE, opened), (PERSON, received_by), (LINKED, decided)]
        {
            for id in ids {
                known.store(kind, id);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use casetrack_platform::db::ReadDb;
    use casetrack_platform::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
    use casetrack_platform::projection::{ProjectionRunner, Registry};
    use casetrack_platform::testkit::{TempDir, TestStream, fresh_postgres, fresh_sqlite, open_sqlite_log};
    use casetrack_proto::contact::SafeContact;
    use casetrack_proto::hub::{ReferralReceived, ReferralSource};
    use casetrack_proto::people::PersonRegistered;
    use casetrack_proto::{Actor, CommandId, EventContract, EventId, PersonId, ReferralId, Sealed, StreamId};
    use chrono::{DateTime, Duration, Utc};

    use super::*;

    async fn append<E: EventContract>(log: &EventLog, stream: StreamId, at: DateTime<Utc>, event: E) {
        let request = AppendRequest {
            stream,
            expected: ExpectedVersion::Any,
            command_id: CommandId::new(),
            actor: Actor::system(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            events: vec![NewEvent::from_contract(EventId::new(), at, &event)],
        };
        log.append(request).await.unwrap();
    }

    async fn receive(log: &EventLog, person_id: PersonId, at: DateTime<Utc>) -> ReferralId {
        let referral_id = ReferralId::new();
        let event = HubEvent::ReferralReceived(ReferralReceived {
            referral_id,
            person_id,
            source: ReferralSource::PoliceFeed,
            offence_category: None,
            domestic_abuse: false,
            crime_reference: Some("CR/1".into()),
            crime_reported_on: None,
            safe_contact: SafeContact::default(),
            consent: ConsentBasis::OptOut,
            consent_override_reason: None,
            enhanced_rights: false,
            profile: Default::default(),
        });
        append(log, StreamId::new("hub", "referral", referral_id.0).unwrap(), at, event).await;
        referral_id
    }

    /// Nothing makes a person's registration come before the referrals that name them: a live runner whose batch
    /// begins the person's stream still finds the person's earlier referrals, and flags the new one a repeat.
    async fn a_person_registered_after_their_first_referral_is_still_a_repeat_victim(log: EventLog, db: ReadDb) {
        db.migrate("hub", &crate::MIGRATIONS).await.unwrap();
        let runner = ProjectionRunner::new(db.clone(), log.clone(), Arc::new(Referrals), &Registry::default());
        let (person_id, first_at) = (PersonId::new(), Utc::now() - Duration::days(60));
        let first = receive(&log, person_id, first_at).await;
        runner.catch_up().await.unwrap();
        // One batch: the person's first event, then their second referral, a month after the first.
        let registered = PeopleEvent::PersonRegistered(PersonRegistered {
            person_id,
            details: Sealed("v1.AAAA".into()),
            match_key: "key".into(),
        });
        append(&log, StreamId::new("people", "person", person_id.0).unwrap(), first_at, registered).await;
        let second = receive(&log, person_id, first_at + Duration::days(30)).await;
        runner.catch_up().await.unwrap();
        let sql = "SELECT referral_id, repeat_victim FROM hub_referrals ORDER BY received_at";
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(db.pool()).await.unwrap();
        assert_eq!(rows, [(first.to_string(), 0), (second.to_string(), 1)]);
    }

    #[tokio::test]
    async fn a_late_registration_on_nats_and_postgres() {
        let stream = TestStream::new();
        a_person_registered_after_their_first_referral_is_still_a_repeat_victim(
            stream.open().await,
            fresh_postgres().await,
        )
        .await;
    }

    #[tokio::test]
    async fn a_late_registration_on_the_embedded_backends() {
        let dir = TempDir::new();
        let (log, db) = (open_sqlite_log(dir.path()).await, fresh_sqlite(dir.path()).await);
        a_person_registered_after_their_first_referral_is_still_a_repeat_victim(log, db).await;
    }
}
