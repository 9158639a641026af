//! `specialist.cases.<service>`: one service's cases, where each stands, who works it, its risk, review date and
//! MARAC dates. Each service's projection owns its own rows of the shared table: an event about a case of another
//! service changes nothing here (every update names the service).

use casetrack_platform::catalogue::ServiceKind;
use casetrack_platform::clock::rj_information_due;
use casetrack_platform::codes::code;
use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use casetrack_proto::{CaseId, ServiceCode};
use futures::future::BoxFuture;
use sqlx::AnyConnection;

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

    /// Sets `assignments` (fixed SQL, `$1`..) on this service's case; `values` bind in order, then the case.
    async fn update(
        &self,
        tx: &mut AnyConnection,
        case_id: CaseId,
        assignments: &'static str,
        values: &[Option<String>],
    ) -> sqlx::Result<()> {
        let n = values.len();
        let sql =
            format!("UPDATE specialist_cases SET {assignments} WHERE case_id = ${} AND service = ${}", n + 1, n + 2);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in values {
            query = query.bind(value.clone());
        }
        query.bind(case_id.to_string()).bind(self.service.as_str()).execute(&mut *tx).await?;
        Ok(())
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
                let Some(event) = decode::<SpecialistEvent>(position, envelope)? else { continue };
                let at = Some(envelope.occurred_at.to_rfc3339());
                let status = |s: &str| Some(s.to_owned());
                match event {
                    SpecialistEvent::CaseOpened(e) => {
                        if e.service != self.service {
                            continue;
                        }
                        let (origin, referral_id) = match &e.origin {
                            CaseOrigin::Hub { referral_id, .. } => ("hub".to_owned(), Some(referral_id.to_string())),
                            CaseOrigin::Direct { source } => (source.clone(), None),
                        };
                        // Victims' Code: information about restorative justice within 5 working days of the referral,
                        // 1 under enhanced rights.
                        let rj_due = (self.kind == ServiceKind::Rj).then(|| {
                            rj_information_due(envelope.occurred_at.date_naive(), e.enhanced_rights).to_string()
                        });
                        sqlx::query(
                            "INSERT INTO specialist_cases (case_id, service, person_id, referral_id, origin, opened_at, \
                             domestic_abuse, enhanced_rights, age_band, rj_information_due) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (case_id) DO NOTHING",
                        )
                        .bind(e.case_id.to_string())
                        .bind(e.service.as_str())
                        .bind(e.person_id.to_string())
                        .bind(referral_id)
                        .bind(origin)
                        .bind(envelope.occurred_at.to_rfc3339())
                        .bind(i64::from(e.domestic_abuse))
                        .bind(i64::from(e.enhanced_rights))
                        .bind(e.age_band.as_ref().map(code))
                        .bind(rj_due)
                        .execute(&mut *tx)
                        .await?;
                    }
                    SpecialistEvent::ReferralAccepted(e) => {
                        self.update(tx, e.case_id, "status = $1", &[status("awaiting_contact")]).await?
                    }
                    SpecialistEvent::ReferralDeclinedByService(e) => {
                        self.update(tx, e.case_id, "status = $1, ended_at = $2", &[status("declined_by_service"), at])
                            .await?
                    }
                    SpecialistEvent::ReferralWithdrawn(e) => {
                        self.update(tx, e.case_id, "status = $1, ended_at = $2", &[status("withdrawn"), at]).await?
                    }
                    SpecialistEvent::CaseAllocated(e) => {
                        self.update(tx, e.case_id, "caseworker = $1", &[Some(e.caseworker.to_string())]).await?
                    }
                    SpecialistEvent::CaseContactAttemptRecorded(e) => {
                        let engaged = if e.outcome.reached() { "engaged" } else { "" };
                        self.update(
                            tx,
                            e.case_id,
                            "attempts = attempts + 1, status = CASE WHEN $1 = 'engaged' THEN 'engaged' ELSE status END",
                            &[status(engaged)],
                        )
                        .await?
                    }
                    SpecialistEvent::CaseUnableToContactRecorded(e) => {
                        self.update(tx, e.case_id, "status = $1, ended_at = $2", &[status("unable_to_contact"), at])
                            .await?
                    }
                    SpecialistEvent::CaseSupportDeclined(e) => {
                        self.update(tx, e.case_id, "status = $1, ended_at = $2", &[status("support_declined"), at])
                            .await?
                    }
                    SpecialistEvent::RiskAssessed(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "risk_level = $1, risk_score = CAST($2 AS BIGINT), review_due = $3",
                            &[Some(code(&e.level)), Some(e.score.to_string()), e.review_on.map(|d| d.to_string())],
                        )
                        .await?
                    }
                    SpecialistEvent::PlanRecorded(e) => {
                        if let Some(review_on) = e.review_on {
                            self.update(tx, e.case_id, "review_due = $1", &[Some(review_on.to_string())]).await?
                        }
                    }
                    SpecialistEvent::MaracReferred(e) => {
                        self.update(tx, e.case_id, "marac_referred_on = $1", &[Some(e.referred_on.to_string())]).await?
                    }
                    SpecialistEvent::MaracHeard(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "marac_heard_on = $1, marac_repeat = CAST($2 AS BIGINT)",
                            &[Some(e.heard_on.to_string()), Some(i64::from(e.repeat).to_string())],
                        )
                        .await?
                    }
                    SpecialistEvent::CaseClosed(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "status = $1, ended_at = $2, closure_reason = $3",
                            &[status("closed"), at, Some(code(&e.reason))],
                        )
                        .await?
                    }
                    SpecialistEvent::CaseReopened(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "status = $1, ended_at = NULL, closure_reason = NULL, attempts = 0",
                            &[status("awaiting_contact")],
                        )
                        .await?
                    }
                    SpecialistEvent::CjsStageRecorded(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "cjs_stage = $1, cjs_stage_on = $2",
                            &[Some(code(&e.stage)), Some(e.on.to_string())],
                        )
                        .await?
                    }
                    SpecialistEvent::SpoRecorded(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "spo_status = $1, spo_on = $2",
                            &[Some(code(&e.status)), Some(e.on.to_string())],
                        )
                        .await?
                    }
                    SpecialistEvent::RjInformationGiven(e) => {
                        self.update(tx, e.case_id, "rj_informed_on = $1", &[Some(e.on.to_string())]).await?
                    }
                    SpecialistEvent::RjFormAgreed(e) => {
                        self.update(tx, e.case_id, "rj_form = $1", &[Some(code(&e.form))]).await?
                    }
                    SpecialistEvent::RjConcluded(e) => {
                        self.update(
                            tx,
                            e.case_id,
                            "rj_outcome = $1, rj_satisfaction = CAST($2 AS BIGINT)",
                            &[Some(code(&e.outcome)), e.satisfaction.map(|s| s.to_string())],
                        )
                        .await?
                    }
                    SpecialistEvent::RjSuitabilityAssessed(_) | SpecialistEvent::OffenderConsentRecorded(_) => {}
                    SpecialistEvent::CaseSafeContactUpdated(_)
                    | SpecialistEvent::InterventionRecorded(_)
                    | SpecialistEvent::CaseNoteAdded(_) => {}
                }
            }
            Ok(())
        })
    }
}
