//! `hub.referrals`: the hub's referrals and the outcome of each onward referral.

use casetrack_platform::log::Commit;
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use futures::future::BoxFuture;
use sqlx::AnyConnection;

pub struct Referrals;

fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Projection for Referrals {
    fn name(&self) -> &'static str {
        "hub.referrals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hub_referrals", "hub_onward_referrals"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for commit in commits {
                for envelope in &commit.events {
                    let at = envelope.occurred_at.to_rfc3339();
                    if let Some(event) = decode::<HubEvent>(commit.position, envelope)? {
                        match event {
                            HubEvent::ReferralReceived(e) => {
                                sqlx::query(
                                    "INSERT INTO hub_referrals (referral_id, person_id, source, offence_category, \
                                     domestic_abuse, crime_reference, crime_reported_on, received_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (referral_id) DO NOTHING",
                                )
                                .bind(e.referral_id.to_string())
                                .bind(e.person_id.to_string())
                                .bind(code(&e.source))
                                .bind(e.offence_category.as_ref().map(code))
                                .bind(i64::from(e.domestic_abuse))
                                .bind(e.crime_reference)
                                .bind(e.crime_reported_on.map(|d| d.to_string()))
                                .bind(&at)
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
                    if let Some(SpecialistEvent::CaseOpened(e)) = decode::<SpecialistEvent>(commit.position, envelope)?
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
            }
            Ok(())
        })
    }
}
