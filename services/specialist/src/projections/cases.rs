//! `specialist.cases.<service>`: one service's cases, where each stands, who works it, its risk, review date and
//! MARAC dates. Each service's projection owns its own rows of the shared table: an event about a case of another
//! service changes nothing here.
//!
//! A batch reads the rows of the cases it names up front, folds its events into them in memory and writes the
//! changed rows back many a statement (the same three steps as `hub.referrals`).

use std::collections::{BTreeMap, BTreeSet};

use casetrack_casework::catalogue::ServiceKind;
use casetrack_casework::victims_code::rj_information_due;
use casetrack_eventstore::codes::code;
use casetrack_eventstore::db::{Cell, OnConflict, Rows, fetch_in};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use casetrack_proto::{Envelope, EventContract as _, ServiceCode};
use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;

/// What a rebuild notes it has stored ([`Known`]): this service's cases.
const CASE: &str = "case";

/// The columns of `specialist_cases`, in the order a [`Case`] holds them, and whether each holds a number.
const COLUMNS: [(&str, bool); 29] = [
    ("case_id", false),
    ("service", false),
    ("person_id", false),
    ("referral_id", false),
    ("origin", false),
    ("opened_at", false),
    ("status", false),
    ("caseworker", false),
    ("attempts", true),
    ("risk_level", false),
    ("risk_score", true),
    ("review_due", false),
    ("marac_referred_on", false),
    ("marac_heard_on", false),
    ("marac_repeat", true),
    ("domestic_abuse", true),
    ("enhanced_rights", true),
    ("age_band", false),
    ("ended_at", false),
    ("closure_reason", false),
    ("cjs_stage", false),
    ("cjs_stage_on", false),
    ("spo_status", false),
    ("spo_on", false),
    ("rj_information_due", false),
    ("rj_informed_on", false),
    ("rj_form", false),
    ("rj_outcome", false),
    ("rj_satisfaction", true),
];

/// A row of `specialist_cases`, a cell per column of [`COLUMNS`].
#[derive(Debug, Clone)]
struct Case(Vec<Cell>);

impl Case {
    /// A case just opened: every column empty but the counts and flags (zero) and the status.
    fn opened() -> Self {
        let mut case =
            Case(COLUMNS.iter().map(|(_, number)| if *number { Cell::Int(None) } else { Cell::Text(None) }).collect());
        for column in ["attempts", "marac_repeat", "domestic_abuse", "enhanced_rights"] {
            case.set(column, 0_i64);
        }
        case.set("status", "awaiting_decision");
        case
    }

    fn read(row: &sqlx::any::AnyRow) -> sqlx::Result<Self> {
        COLUMNS
            .iter()
            .map(|(column, number)| {
                Ok(if *number { Cell::Int(row.try_get(*column)?) } else { Cell::Text(row.try_get(*column)?) })
            })
            .collect::<sqlx::Result<Vec<_>>>()
            .map(Case)
    }

    fn index(column: &str) -> usize {
        COLUMNS.iter().position(|(name, _)| *name == column).expect("a column of specialist_cases")
    }

    fn set(&mut self, column: &str, value: impl Into<Cell>) {
        self.0[Self::index(column)] = value.into();
    }

    fn text(&self, column: &str) -> Option<&str> {
        match &self.0[Self::index(column)] {
            Cell::Text(value) => value.as_deref(),
            Cell::Int(_) => None,
        }
    }

    fn number(&self, column: &str) -> i64 {
        match &self.0[Self::index(column)] {
            Cell::Int(value) => value.unwrap_or(0),
            Cell::Text(_) => 0,
        }
    }

    /// Ends the case with `status` at `at`.
    fn end(&mut self, status: &str, at: &str) {
        self.set("status", status);
        self.set("ended_at", at);
    }
}

pub struct Cases {
    service: ServiceCode,
    kind: ServiceKind,
    name: &'static str,
}

impl Cases {
    pub fn new(service: ServiceCode, kind: ServiceKind) -> Self {
        let name = crate::leak(format!("specialist.cases.{service}"));
        Self { service, kind, name }
    }

    /// Folds one event into the batch's cases of this service (an event about any other case changes nothing).
    fn fold(&self, cases: &mut BTreeMap<String, Case>, envelope: &Envelope, event: &SpecialistEvent) {
        let id = envelope.subject.id().to_string();
        let at = envelope.occurred_at.to_rfc3339();
        if let SpecialistEvent::CaseOpened(e) = event {
            if e.service != self.service || cases.contains_key(&id) {
                return;
            }
            let (origin, referral_id) = match &e.origin {
                CaseOrigin::Hub { referral_id, .. } => ("hub".to_owned(), Some(referral_id.to_string())),
                CaseOrigin::Direct { source } => (source.clone(), None),
            };
            let mut case = Case::opened();
            case.set("case_id", id.clone());
            case.set("service", e.service.as_str());
            case.set("person_id", e.person_id.to_string());
            case.set("referral_id", referral_id);
            case.set("origin", origin);
            case.set("opened_at", at);
            case.set("domestic_abuse", e.domestic_abuse);
            case.set("enhanced_rights", e.enhanced_rights);
            case.set("age_band", e.age_band.as_ref().map(code));
            // Victims' Code: information about restorative justice within 5 working days of the referral, 1 under
            // enhanced rights.
            if self.kind == ServiceKind::Rj {
                let due = rj_information_due(envelope.occurred_at.date_naive(), e.enhanced_rights);
                case.set("rj_information_due", due.to_string());
            }
            cases.insert(id, case);
            return;
        }
        let Some(case) = cases.get_mut(&id) else { return };
        use SpecialistEvent as E;
        match event {
            E::CaseOpened(_) => unreachable!("handled above"),
            E::ReferralAccepted(_) => case.set("status", "awaiting_contact"),
            E::ReferralDeclinedByService(_) => case.end("declined_by_service", &at),
            E::ReferralWithdrawn(_) => case.end("withdrawn", &at),
            E::CaseAllocated(e) => case.set("caseworker", e.caseworker.to_string()),
            E::CaseContactAttemptRecorded(e) => {
                let attempts = case.number("attempts") + 1;
                case.set("attempts", attempts);
                if e.outcome.reached() {
                    case.set("status", "engaged");
                }
            }
            E::CaseUnableToContactRecorded(_) => case.end("unable_to_contact", &at),
            E::CaseSupportDeclined(_) => case.end("support_declined", &at),
            E::RiskAssessed(e) => {
                case.set("risk_level", code(&e.level));
                case.set("risk_score", i64::from(e.score));
                case.set("review_due", e.review_on.map(|d| d.to_string()));
            }
            E::PlanRecorded(e) => {
                if let Some(review_on) = e.review_on {
                    case.set("review_due", review_on.to_string());
                }
            }
            E::MaracReferred(e) => case.set("marac_referred_on", e.referred_on.to_string()),
            E::MaracHeard(e) => {
                case.set("marac_heard_on", e.heard_on.to_string());
                case.set("marac_repeat", e.repeat);
            }
            E::CaseClosed(e) => {
                case.end("closed", &at);
                case.set("closure_reason", code(&e.reason));
            }
            E::CaseReopened(_) => {
                case.set("status", "awaiting_contact");
                case.set("ended_at", None::<String>);
                case.set("closure_reason", None::<String>);
                case.set("attempts", 0_i64);
            }
            E::CjsStageRecorded(e) => {
                case.set("cjs_stage", code(&e.stage));
                case.set("cjs_stage_on", e.on.to_string());
            }
            E::SpoRecorded(e) => {
                case.set("spo_status", code(&e.status));
                case.set("spo_on", e.on.to_string());
            }
            E::RjInformationGiven(e) => case.set("rj_informed_on", e.on.to_string()),
            E::RjFormAgreed(e) => case.set("rj_form", code(&e.form)),
            E::RjConcluded(e) => {
                case.set("rj_outcome", code(&e.outcome));
                case.set("rj_satisfaction", e.satisfaction.map(i64::from));
            }
            E::RjSuitabilityAssessed(_)
            | E::OffenderConsentRecorded(_)
            | E::CaseSafeContactUpdated(_)
            | E::InterventionRecorded(_)
            | E::CaseNoteAdded(_) => {}
        }
    }
}

#[async_trait::async_trait]
impl Projection for Cases {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        &["specialist_cases"]
    }

    /// Only the specialist services' events (the hub's and the people's are many, and none of them is a case's).
    fn concerns(&self, event: &Envelope) -> bool {
        event.subject.context() == SpecialistEvent::CONTEXT
    }

    /// Only this service's rows: the table is shared by every service's projection.
    async fn reset(&self, tx: &mut AnyConnection) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM specialist_cases WHERE service = $1")
            .bind(self.service.as_str())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        // Every service's projection sees every case's events; it folds only those of its own cases: the ones
        // the batch opens for this service (known from their first event) and the stored ones (not read for
        // the cases the batch opens, nor, in a rebuild, for those this run never stored).
        let decoded = batch.decoded::<SpecialistEvent>().await?;
        let begun = batch.begun();
        let mut opened = BTreeSet::new();
        let mut stored_ids = BTreeSet::new();
        for ((_, envelope), event) in batch.events().zip(decoded) {
            let Some(event) = event else { continue };
            let id = envelope.subject.id();
            if !begun.contains(&id) {
                if known.may_have(CASE, id) {
                    stored_ids.insert(id);
                }
            } else if envelope.version == 1
                && let SpecialistEvent::CaseOpened(e) = event
                && e.service == self.service
            {
                opened.insert(id);
            }
        }
        if opened.is_empty() && stored_ids.is_empty() {
            return Ok(());
        }
        // The stored cases of this service the batch names (a service code is letters, digits and underscores,
        // checked when parsed, so it can stand in the statement).
        let ids: Vec<String> = stored_ids.iter().map(ToString::to_string).collect();
        let select = format!(
            "SELECT {} FROM specialist_cases WHERE service = '{}' AND case_id IN",
            COLUMNS.iter().map(|(column, _)| *column).collect::<Vec<_>>().join(", "),
            self.service.as_str()
        );
        let mut cases: BTreeMap<String, Case> = BTreeMap::new();
        for row in fetch_in(tx, &select, &ids).await? {
            let case = Case::read(&row)?;
            cases.insert(case.text("case_id").unwrap_or_default().to_owned(), case);
        }
        // This service's cases: opened in the batch, or stored.
        let mine: BTreeSet<Uuid> =
            opened.into_iter().chain(stored_ids.into_iter().filter(|id| cases.contains_key(&id.to_string()))).collect();
        let before = cases.clone();
        for ((_, envelope), event) in batch.events().zip(decoded) {
            if let Some(event) = event
                && mine.contains(&envelope.subject.id())
            {
                self.fold(&mut cases, envelope, event);
            }
        }
        // The cases the batch opens are new rows (inserted); the stored ones that changed are replaced.
        let mut rows = Rows::default();
        for (id, case) in &cases {
            match before.get(id) {
                Some(stored) if stored.0 == case.0 => {}
                stored => rows.push(stored.is_none(), case.0.clone()),
            }
        }
        let columns: Vec<&str> = COLUMNS.iter().map(|(column, _)| *column).collect();
        rows.write(tx, "specialist_cases", &columns, OnConflict::Replace(&["case_id"])).await?;
        for id in mine {
            known.store(CASE, id);
        }
        Ok(())
    }
}
