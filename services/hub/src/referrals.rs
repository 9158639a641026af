//! `hub.referrals`: the hub's referrals and the outcome of each onward referral, the facts the work queues sort
//! and filter on, and the repeat-victim flag (another referral of the same or a linked person received in the 12
//! months before this one; links are the people service's duplicate decisions, followed here so a rebuild of this
//! projection alone gives the same flags).

use casetrack_platform::codes::code;
use casetrack_platform::log::{Commit, events};
use casetrack_platform::projection::{Projection, ProjectionError, decode};
use casetrack_proto::PersonId;
use casetrack_proto::ReferralId;
use casetrack_proto::contact::{ConsentBasis, OutcomeAnswer};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::people::{DuplicateDecision, PeopleEvent};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use futures::future::BoxFuture;

use casetrack_platform::clock::{FIRST_CONTACT_WORKING_DAYS, working_days_after};
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

/// Records (or, when the latest decision rejects it, removes) a link between two people, both ways.
async fn link(tx: &mut AnyConnection, a: PersonId, b: PersonId, decision: DuplicateDecision) -> sqlx::Result<()> {
    for (one, other) in [(a, b), (b, a)] {
        let sql = match decision {
            DuplicateDecision::Linked => {
                "INSERT INTO hub_person_links (person_id, other_person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            }
            DuplicateDecision::Rejected => "DELETE FROM hub_person_links WHERE person_id = $1 AND other_person_id = $2",
        };
        sqlx::query(sql).bind(one.to_string()).bind(other.to_string()).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Re-derives the repeat-victim flag of every referral of `person`.
async fn refresh_repeat(tx: &mut AnyConnection, person: PersonId) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE hub_referrals SET repeat_victim = CASE WHEN EXISTS (SELECT 1 FROM hub_referrals o \
         WHERE o.referral_id <> hub_referrals.referral_id AND o.received_at < hub_referrals.received_at \
         AND o.received_at >= hub_referrals.repeat_window_start AND (o.person_id = hub_referrals.person_id \
         OR o.person_id IN (SELECT l.other_person_id FROM hub_person_links l WHERE l.person_id = hub_referrals.person_id))) \
         THEN 1 ELSE 0 END WHERE person_id = $1",
    )
    .bind(person.to_string())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Projection for Referrals {
    fn name(&self) -> &'static str {
        "hub.referrals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hub_referrals", "hub_onward_referrals", "hub_contact_attempts", "hub_person_links"]
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
                            let clock_starts = e.crime_reported_on.unwrap_or_else(|| envelope.occurred_at.date_naive());
                            let due = working_days_after(clock_starts, FIRST_CONTACT_WORKING_DAYS);
                            let window = envelope
                                .occurred_at
                                .checked_sub_months(chrono::Months::new(12))
                                .unwrap_or(envelope.occurred_at);
                            sqlx::query(
                                    "INSERT INTO hub_referrals (referral_id, person_id, source, offence_category, \
                                     domestic_abuse, crime_reference, crime_reported_on, received_at, status, enhanced_rights, \
                                     first_attempt_due, repeat_window_start) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (referral_id) DO NOTHING",
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
                                .bind(due.to_string())
                                .bind(window.to_rfc3339())
                                .execute(&mut *tx)
                                .await?;
                            refresh_repeat(tx, e.person_id).await?;
                        }
                        HubEvent::ReferralAllocated(e) => {
                            sqlx::query("UPDATE hub_referrals SET officer = $1 WHERE referral_id = $2")
                                .bind(e.officer.as_str())
                                .bind(e.referral_id.to_string())
                                .execute(&mut *tx)
                                .await?;
                        }
                        HubEvent::NeedsAssessed(e) => {
                            sqlx::query(
                                "UPDATE hub_referrals SET needs = $1, needs_assessed_at = $2 WHERE referral_id = $3",
                            )
                            .bind(e.needs.join(","))
                            .bind(&at)
                            .bind(e.referral_id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        }
                        HubEvent::SupportSessionRecorded(e) => {
                            sqlx::query("UPDATE hub_referrals SET sessions = sessions + 1 WHERE referral_id = $1")
                                .bind(e.referral_id.to_string())
                                .execute(&mut *tx)
                                .await?;
                        }
                        HubEvent::OutreachSent(e) => {
                            sqlx::query(
                                "UPDATE hub_referrals SET outreach_sent_at = COALESCE(outreach_sent_at, $1) \
                                 WHERE referral_id = $2",
                            )
                            .bind(&at)
                            .bind(e.referral_id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        }
                        // Safe-contact rules and consent are read from the referral itself, where the decisions use
                        // them.
                        HubEvent::SafeContactUpdated(_) | HubEvent::ConsentRecorded(_) => {}
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
                                     status = 'awaiting_contact' THEN 'contacted' ELSE status END, \
                                     first_attempt_at = COALESCE(first_attempt_at, $2) WHERE referral_id = $3",
                            )
                            .bind(i64::from(e.outcome.reached()))
                            .bind(e.attempted_at.to_rfc3339())
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
                match decode::<PeopleEvent>(position, envelope)? {
                    Some(PeopleEvent::DuplicateDecided(e)) => {
                        link(tx, e.person_id, e.other_person_id, e.decision).await?;
                        refresh_repeat(tx, e.person_id).await?;
                        refresh_repeat(tx, e.other_person_id).await?;
                    }
                    // Erasure: the one identifying value this read model holds in clear goes.
                    Some(PeopleEvent::PersonErased(e)) => {
                        sqlx::query("UPDATE hub_referrals SET crime_reference = NULL WHERE person_id = $1")
                            .bind(e.person_id.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    _ => {}
                }
                // The closed loop: the specialist service's case, and every change that matters to the referrer,
                // shows on the hub's referral.
                match decode::<SpecialistEvent>(position, envelope)? {
                    Some(SpecialistEvent::CaseOpened(e)) => {
                        if let CaseOrigin::Hub { referral_id, .. } = e.origin {
                            sqlx::query(
                                "UPDATE hub_onward_referrals SET case_id = $1, case_opened_at = $2, \
                                 case_status = 'received', case_status_at = $2 WHERE referral_id = $3 AND service = $4",
                            )
                            .bind(e.case_id.to_string())
                            .bind(&at)
                            .bind(referral_id.to_string())
                            .bind(e.service.as_str())
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    Some(SpecialistEvent::CaseClosed(e)) => {
                        let asked: Vec<_> = e.answers.iter().filter(|a| a.answer != OutcomeAnswer::NotAsked).collect();
                        let improved = asked.iter().filter(|a| a.answer == OutcomeAnswer::Improved).count();
                        sqlx::query(
                            "UPDATE hub_onward_referrals SET case_status = 'closed', case_status_at = $1, case_outcome = $2 \
                             WHERE case_id = $3",
                        )
                        .bind(&at)
                        .bind(format!("{improved} of {} outcome measures asked improved", asked.len()))
                        .bind(e.case_id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    }
                    Some(event) => {
                        if let Some((case_id, status)) = loop_status(&event) {
                            sqlx::query(
                                "UPDATE hub_onward_referrals SET case_status = $1, case_status_at = $2 WHERE case_id = $3",
                            )
                            .bind(status)
                            .bind(&at)
                            .bind(case_id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    None => {}
                }
            }
            Ok(())
        })
    }
}
