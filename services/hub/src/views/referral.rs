//! One referral, read three ways:
//!
//! - [`detail`]: the JSON api's view, from the `hub.referrals` read model, with the outcome of each onward referral;
//! - [`history`]: the referral's own events from the log, folded into the same state the decisions use, so a page
//!   shows as allowed what the rules allow (and the timeline of everything that happened);
//! - [`facts`]: what only the read model knows: the closed loop and the repeat-victim flag.

use casetrack_eventstore::command::Aggregate as _;
use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::hub::{HubEvent, ReferralReceived};
use casetrack_proto::{Envelope, EventContract as _, EventId, ReferralId, Sealed};
use casetrack_web::Context;
use casetrack_web::http::{ApiError, wait_for};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::referral::{Ending, Referral, Stage};

#[derive(Serialize, ToSchema)]
pub struct ReferralView {
    pub referral_id: String,
    pub person_id: String,
    pub source: String,
    pub offence_category: Option<String>,
    pub domestic_abuse: bool,
    pub crime_reference: Option<String>,
    pub crime_reported_on: Option<String>,
    pub received_at: String,
    /// awaiting_contact, contacted, supported, unable_to_contact, returned_to_referrer, declined, closed, not_worked
    pub status: String,
    pub attempts: Vec<AttemptView>,
    pub onward_referrals: Vec<OnwardReferralView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    pub channel: String,
    pub attempted_at: String,
    pub time_band: String,
    pub outcome: String,
}

#[derive(Serialize, ToSchema)]
pub struct OnwardReferralView {
    pub service: String,
    pub referred_at: String,
    /// Set once the specialist service has opened a case.
    pub case_id: Option<String>,
    pub case_opened_at: Option<String>,
    /// What the service did: received, accepted, engaged, declined_by_service, withdrawn, unable_to_contact,
    /// declined_by_victim, closed or reopened (the closed loop).
    pub case_status: Option<String>,
    pub case_status_at: Option<String>,
    /// Once the case closed: how many of the service's outcome measures improved, of those asked.
    pub case_outcome: Option<String>,
}

/// One referral with the outcome of each onward referral, once the read model has reached `wait` (if given).
pub async fn detail(ctx: &Context, referral_id: ReferralId, wait: Option<u64>) -> Result<ReferralView, ApiError> {
    wait_for(ctx, "hub.referrals", wait).await?;
    let id = referral_id.to_string();
    let row = sqlx::query(
        "SELECT referral_id, person_id, source, offence_category, domestic_abuse, crime_reference, crime_reported_on, received_at, \
         status FROM hub_referrals WHERE referral_id = $1",
    )
    .bind(&id)
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?
    .ok_or_else(|| ApiError::not_found("There is no such referral."))?;
    let onward = onward_referrals(ctx, &id).await?;
    let attempts = sqlx::query(
        "SELECT channel, attempted_at, time_band, outcome FROM hub_contact_attempts WHERE referral_id = $1 ORDER BY attempt_no",
    )
    .bind(&id)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(ReferralView {
        referral_id: row.get(0),
        person_id: row.get(1),
        source: row.get(2),
        offence_category: row.get(3),
        domestic_abuse: row.get::<i64, _>(4) != 0,
        crime_reference: row.get(5),
        crime_reported_on: row.get(6),
        received_at: row.get(7),
        status: row.get(8),
        attempts: attempts
            .iter()
            .map(|r| AttemptView { channel: r.get(0), attempted_at: r.get(1), time_band: r.get(2), outcome: r.get(3) })
            .collect(),
        onward_referrals: onward,
    })
}

/// Each onward referral of a referral as the specialist service's events left it, in the order they were made.
async fn onward_referrals(ctx: &Context, referral_id: &str) -> Result<Vec<OnwardReferralView>, ApiError> {
    let rows = sqlx::query(
        "SELECT service, referred_at, case_id, case_opened_at, case_status, case_status_at, case_outcome FROM hub_onward_referrals \
         WHERE referral_id = $1 ORDER BY referred_at, service",
    )
    .bind(referral_id)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(rows
        .iter()
        .map(|r| OnwardReferralView {
            service: r.get(0),
            referred_at: r.get(1),
            case_id: r.get(2),
            case_opened_at: r.get(3),
            case_status: r.get(4),
            case_status_at: r.get(5),
            case_outcome: r.get(6),
        })
        .collect())
}

/// A referral as read from its events.
pub struct ReferralHistory {
    pub state: Referral,
    pub received: ReferralReceived,
    pub received_at: DateTime<Utc>,
    pub history: Vec<(Envelope, HubEvent)>,
    pub needs: Vec<String>,
    /// The latest caution (sealed) with the id of the event it was sealed in.
    pub caution: Option<(EventId, Sealed)>,
    /// When it was read (the platform's clock): "now" for whatever is shown with it.
    pub read_at: DateTime<Utc>,
}

/// The referral's events from the log, or `None` when it was never received.
pub async fn history(ctx: &Context, referral_id: ReferralId) -> Result<Option<ReferralHistory>, ApiError> {
    let envelopes = ctx.log.read_stream(&Referral::stream_id(referral_id.0)).await.map_err(ApiError::unavailable)?;
    let read_at = casetrack_eventstore::clock::now();
    let mut state = Referral::default();
    let mut received = None;
    let mut history = Vec::with_capacity(envelopes.len());
    let mut needs = Vec::new();
    let mut caution = None;
    for envelope in envelopes {
        let event = HubEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)
            .map_err(ApiError::unavailable)?;
        state = state.apply(&event);
        match &event {
            HubEvent::ReferralReceived(e) => received = Some((e.clone(), envelope.occurred_at)),
            HubEvent::NeedsAssessed(e) => needs = e.needs.clone(),
            HubEvent::SafeContactUpdated(e) => caution = e.caution.clone().map(|sealed| (envelope.id, sealed)),
            _ => {}
        }
        history.push((envelope, event));
    }
    Ok(received.map(|(received, received_at)| ReferralHistory {
        state,
        received,
        received_at,
        history,
        needs,
        caution,
        read_at,
    }))
}

impl ReferralHistory {
    /// The referral's status, as the read model names it.
    pub fn status(&self) -> &'static str {
        match &self.state {
            Referral::NotReceived => "unknown",
            Referral::Open(open) if open.consent == ConsentBasis::Withheld => "not_worked",
            Referral::Open(open) => match open.stage {
                Stage::AwaitingContact => "awaiting_contact",
                Stage::Contacted => "contacted",
                Stage::Supported => "supported",
            },
            Referral::Ended { ending, .. } => match ending {
                Ending::UnableToContact => "unable_to_contact",
                Ending::ReturnedToReferrer => "returned_to_referrer",
                Ending::Declined => "declined",
                Ending::Closed => "closed",
            },
        }
    }

    /// Drops whatever was typed in about the victim (the crime reference, reasons) once they are erased: no page
    /// shows anything that could identify them, while codes, dates and outcomes (what the figures count) stay.
    pub fn forget_what_identifies(&mut self) {
        const ERASED: &str = "(erased)";
        let scrub = |text: &mut String| *text = ERASED.to_owned();
        self.received.crime_reference = self.received.crime_reference.as_ref().map(|_| ERASED.to_owned());
        self.received.consent_override_reason = None;
        for (_, event) in &mut self.history {
            match event {
                HubEvent::ReferralReceived(e) => {
                    e.crime_reference = e.crime_reference.as_ref().map(|_| ERASED.to_owned());
                    e.consent_override_reason = None;
                }
                HubEvent::ReportedToPolice(e) => scrub(&mut e.crime_reference),
                HubEvent::ReturnedToReferrer(e) => scrub(&mut e.reason),
                HubEvent::SupportDeclined(e) => scrub(&mut e.reason),
                HubEvent::ConsentRecorded(e) => e.override_reason = None,
                _ => {}
            }
        }
        self.caution = None;
    }

    /// The crime reference, including one recorded after a self-referral.
    pub fn crime_reference(&self) -> Option<String> {
        self.history.iter().rev().find_map(|(_, event)| match event {
            HubEvent::ReportedToPolice(e) => Some(e.crime_reference.clone()),
            HubEvent::ReferralReceived(e) => e.crime_reference.clone(),
            _ => None,
        })
    }
}

/// Facts of the read model: the closed loop and the repeat-victim flag.
pub struct ReadFacts {
    pub repeat_victim: bool,
    pub onward: Vec<OnwardReferralView>,
}

pub async fn facts(ctx: &Context, referral_id: ReferralId) -> Result<ReadFacts, ApiError> {
    let id = referral_id.to_string();
    let repeat: Option<i64> = sqlx::query_scalar("SELECT repeat_victim FROM hub_referrals WHERE referral_id = $1")
        .bind(&id)
        .fetch_optional(ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    let onward = onward_referrals(ctx, &id).await?;
    Ok(ReadFacts { repeat_victim: repeat.unwrap_or(0) != 0, onward })
}
