//! `hub.referrals`: the hub's referrals and the outcome of each onward referral.

use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::ReferralId;
use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::hub::HubEvent;
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use futures::future::BoxFuture;
use sqlx::AnyConnection;

pub struct Referrals;

async fn set_status(
    tx: &mut AnyConnection,
    referral_id: ReferralId,
    status: &str,
    ended_at: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE hub_referrals SET status = $1, ended_at = COALESCE($2, ended_at) WHERE referral_id = $3")
        .bind(status)
        .bind(ended_at)
        .bind(referral_id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The stored code of an enum value: its serde name (`no_answer`, `police_feed`, ...).
pub(crate) fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Projection for Referrals {
    fn name(&self) -> &'static str {
        "hub.referrals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hub_referrals", "hub_onward_referrals", "hub_contact_attempts"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for (position, envelope) in events(commits) {
                let at = envelope.occurred_at.to_rfc3339();
                if let Some(event) = decode::<HubEvent>(position, envelope)? {
                    match event {
                        HubEvent::ReferralReceived(e) => {
                            sqlx::query(
                                    "INSERT INTO hub_referrals (referral_id, person_id, source, offence_category, \
                                     domestic_abuse, crime_reference, crime_reported_on, received_at, status, enhanced_rights) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (referral_id) DO NOTHING",
                                )
                                .bind(e.referral_id.to_string())
                                .bind(e.person_id.to_string())
                                .bind(code(&e.source))
                                .bind(e.offence_category.as_ref().map(code))
                                .bind(i64::from(e.domestic_abuse))
                                .bind(e.crime_reference)
                                .bind(e.crime_reported_on.map(|d| d.to_string()))
                                .bind(&at)
                                .bind(if e.consent == ConsentBasis::Withheld {
                                    "not_worked"
                                } else {
                                    "awaiting_contact"
                                })
                                .bind(i64::from(e.enhanced_rights))
                                .execute(&mut *tx)
                                .await?;
                        }
                        HubEvent::ContactAttemptRecorded(e) => {
                            let id = e.referral_id.to_string();
                            sqlx::query(
                                    "INSERT INTO hub_contact_attempts (referral_id, attempt_no, channel, attempted_at, time_band, outcome) \
                                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (referral_id, attempt_no) DO NOTHING",
                                )
                                .bind(&id)
                                .bind(i64::from(envelope.version))
                                .bind(code(&e.channel))
                                .bind(e.attempted_at.to_rfc3339())
                                .bind(code(&e.time_band))
                                .bind(code(&e.outcome))
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query(
                                    "UPDATE hub_referrals SET attempts = attempts + 1, status = CASE WHEN $1 = 1 AND \
                                     status = 'awaiting_contact' THEN 'contacted' ELSE status END WHERE referral_id = $2",
                                )
                                .bind(i64::from(e.outcome.reached()))
                                .bind(&id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        HubEvent::SupportAccepted(e) => set_status(tx, e.referral_id, "supported", None).await?,
                        HubEvent::UnableToContactRecorded(e) => {
                            set_status(tx, e.referral_id, "unable_to_contact", Some(&at)).await?
                        }
                        HubEvent::ReturnedToReferrer(e) => {
                            set_status(tx, e.referral_id, "returned_to_referrer", Some(&at)).await?
                        }
                        HubEvent::SupportDeclined(e) => set_status(tx, e.referral_id, "declined", Some(&at)).await?,
                        HubEvent::ReferralClosed(e) => set_status(tx, e.referral_id, "closed", Some(&at)).await?,
                        HubEvent::ReportedToPolice(e) => {
                            sqlx::query(
                                    "UPDATE hub_referrals SET crime_reference = $1, crime_reported_on = $2 WHERE referral_id = $3",
                                )
                                .bind(&e.crime_reference)
                                .bind(e.reported_on.to_string())
                                .bind(e.referral_id.to_string())
                                .execute(&mut *tx)
                                .await?;
                        }
                        HubEvent::OnwardReferralMade(e) => {
                            sqlx::query(
                                    "INSERT INTO hub_onward_referrals (referral_id, service, referred_at) VALUES ($1, $2, $3) \
                                     ON CONFLICT (referral_id, service) DO NOTHING",
                                )
                                .bind(e.referral_id.to_string())
                                .bind(e.target_service.as_str())
                                .bind(&at)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
                // The closed loop: the specialist service's case shows on the hub's referral.
                if let Some(SpecialistEvent::CaseOpened(e)) = decode::<SpecialistEvent>(position, envelope)?
                    && let CaseOrigin::Hub { referral_id, .. } = e.origin
                {
                    sqlx::query(
                            "UPDATE hub_onward_referrals SET case_id = $1, case_opened_at = $2 WHERE referral_id = $3 AND service = $4",
                        )
                        .bind(e.case_id.to_string())
                        .bind(&at)
                        .bind(referral_id.to_string())
                        .bind(e.service.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Ok(())
        })
    }
}
