//! The rows of the `hub.referrals` read model as the fold holds them: each table's columns, reading a row and
//! writing it back as cells.

use casetrack_eventstore::db::Cell;
use sqlx::Row as _;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub(super) const REFERRAL_COLUMNS: [&str; 21] = [
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
pub(super) struct Referral {
    pub(super) referral_id: String,
    pub(super) person_id: String,
    pub(super) source: String,
    pub(super) offence_category: Option<String>,
    pub(super) domestic_abuse: i64,
    pub(super) crime_reference: Option<String>,
    pub(super) crime_reported_on: Option<String>,
    pub(super) received_at: String,
    pub(super) status: String,
    pub(super) attempts: i64,
    pub(super) ended_at: Option<String>,
    pub(super) enhanced_rights: i64,
    pub(super) officer: Option<String>,
    pub(super) first_attempt_due: Option<String>,
    pub(super) first_attempt_at: Option<String>,
    pub(super) needs: Option<String>,
    pub(super) needs_assessed_at: Option<String>,
    pub(super) sessions: i64,
    pub(super) outreach_sent_at: Option<String>,
    pub(super) repeat_window_start: Option<String>,
    pub(super) repeat_victim: i64,
}

impl Referral {
    pub(super) fn read(row: &AnyRow) -> sqlx::Result<Self> {
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

    pub(super) fn cells(&self) -> Vec<Cell> {
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
    pub(super) fn end(&mut self, status: &str, at: &str) {
        self.status = status.to_owned();
        self.ended_at.get_or_insert_with(|| at.to_owned());
    }
}

pub(super) const ONWARD_COLUMNS: [&str; 8] = [
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
pub(super) struct Onward {
    pub(super) referral_id: String,
    pub(super) service: String,
    pub(super) referred_at: String,
    pub(super) case_id: Option<String>,
    pub(super) case_opened_at: Option<String>,
    pub(super) case_status: Option<String>,
    pub(super) case_status_at: Option<String>,
    pub(super) case_outcome: Option<String>,
}

impl Onward {
    pub(super) fn read(row: &AnyRow) -> sqlx::Result<Self> {
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

    pub(super) fn cells(&self) -> Vec<Cell> {
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

/// A person's id as stored.
pub(super) fn parse_id(text: String) -> sqlx::Result<Uuid> {
    Uuid::parse_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
