//! `reporting.pathway`: monthly counts per service and figure.
//!
//! A batch is folded in memory first (one increment per service, month and figure), then written with one upsert
//! per key, so the cost per batch grows with the number of distinct keys, not events.

use std::collections::BTreeMap;

use casetrack_platform::log::Commit;
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::specialist::SpecialistEvent;
use futures::future::BoxFuture;
use sqlx::AnyConnection;

pub struct Pathway;

/// Figure names as stored and as shown in the API.
pub mod figure {
    pub const REFERRALS_RECEIVED: &str = "referrals_received";
    pub const ONWARD_PREFIX: &str = "onward_referrals.";
    pub const CASES_OPENED: &str = "cases_opened";
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
        &["reporting_monthly"]
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            for commit in commits {
                for envelope in &commit.events {
                    // Counting rule: the month is the calendar month (UTC) of the event's domain time.
                    let month = envelope.occurred_at.format("%Y-%m").to_string();
                    match decode::<HubEvent>(commit.position, envelope)? {
                        Some(HubEvent::ReferralReceived(_)) => {
                            count(&mut counts, "hub", month.clone(), figure::REFERRALS_RECEIVED.into())
                        }
                        Some(HubEvent::OnwardReferralMade(e)) => count(
                            &mut counts,
                            "hub",
                            month.clone(),
                            format!("{}{}", figure::ONWARD_PREFIX, e.target_service),
                        ),
                        None => {}
                    }
                    if let Some(SpecialistEvent::CaseOpened(e)) = decode::<SpecialistEvent>(commit.position, envelope)?
                    {
                        count(&mut counts, e.service.as_str(), month, figure::CASES_OPENED.into());
                    }
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
