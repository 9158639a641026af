//! `reporting.pathway`: monthly counts per service and figure.
//!
//! A batch is folded in memory first (one increment per service, month and figure), then written with one upsert
//! per key, so the cost per batch grows with the number of distinct keys, not events.

use std::collections::BTreeMap;

use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::hub::{HubEvent, ReferralSource};
use casetrack_proto::specialist::SpecialistEvent;
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
}

type Key = (String, String, String);

fn count(counts: &mut BTreeMap<Key, i64>, service: &str, month: String, figure: String) {
    *counts.entry((service.to_owned(), month, figure)).or_default() += 1;
}

impl Projection for Pathway {
    fn name(&self) -> &'static str {
        "reporting.pathway"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reporting_monthly", "reporting_contacted"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            for (position, envelope) in events(commits) {
                // Counting rule: the month is the calendar month (UTC) of the event's domain time.
                let month = envelope.occurred_at.format("%Y-%m").to_string();
                let hub_figure = match decode::<HubEvent>(position, envelope)? {
                    Some(HubEvent::ReferralReceived(e)) => {
                        if e.source == ReferralSource::SelfReferral {
                            count(&mut counts, "hub", month.clone(), figure::SELF_REFERRALS.into());
                        }
                        Some(figure::REFERRALS_RECEIVED.to_owned())
                    }
                    Some(HubEvent::ReportedToPolice(_)) => Some(figure::SELF_REFERRALS_REPORTED.to_owned()),
                    Some(HubEvent::ContactAttemptRecorded(e)) => {
                        count(&mut counts, "hub", month.clone(), figure::CONTACT_ATTEMPTS.into());
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
                    Some(HubEvent::ReferralClosed(_)) => Some(figure::CLOSED.to_owned()),
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
                    count(&mut counts, "hub", month.clone(), name);
                }
                if let Some(SpecialistEvent::CaseOpened(e)) = decode::<SpecialistEvent>(position, envelope)? {
                    count(&mut counts, e.service.as_str(), month, figure::CASES_OPENED.into());
                }
            }
            for ((service, month, figure), value) in counts {
                sqlx::query(
                    "INSERT INTO reporting_monthly (service, month, figure, value) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (service, month, figure) DO UPDATE SET value = reporting_monthly.value + excluded.value",
                )
                .bind(service)
                .bind(month)
                .bind(figure)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }
}
