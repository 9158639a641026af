//! `specialist.cases.<service>`: one service's cases.

use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::ServiceCode;
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use futures::future::BoxFuture;
use sqlx::AnyConnection;

pub struct Cases {
    service: ServiceCode,
    name: &'static str,
}

impl Cases {
    pub fn new(service: ServiceCode) -> Self {
        let name = crate::leak(format!("specialist.cases.{service}"));
        Self { service, name }
    }
}

impl Projection for Cases {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        &["specialist_cases"]
    }

    /// Only this service's rows: the table is shared by every service's projection.
    fn reset<'a>(&'a self, tx: &'a mut AnyConnection) -> BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM specialist_cases WHERE service = $1")
                .bind(self.service.as_str())
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        commits: &'a [Commit],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for (position, envelope) in events(commits) {
                let Some(SpecialistEvent::CaseOpened(e)) = decode::<SpecialistEvent>(position, envelope)? else {
                    continue;
                };
                if e.service != self.service {
                    continue;
                }
                let (origin, referral_id) = match &e.origin {
                    CaseOrigin::Hub { referral_id, .. } => ("hub".to_owned(), Some(referral_id.to_string())),
                    CaseOrigin::Direct { source } => (source.clone(), None),
                };
                sqlx::query(
                    "INSERT INTO specialist_cases (case_id, service, person_id, referral_id, origin, opened_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING",
                )
                .bind(e.case_id.to_string())
                .bind(e.service.as_str())
                .bind(e.person_id.to_string())
                .bind(referral_id)
                .bind(origin)
                .bind(envelope.occurred_at.to_rfc3339())
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }
}
