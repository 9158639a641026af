//! The actions posted from a referral's page: each reads its form into a command's request, calls the command,
//! and answers with a redirect to the page (with `wait_for`, so the officer sees their change) or the page again
//! with the refusal shown against its field. A fact from the world carries when it happened
//! (`crate::pages::when`); one dated beyond the back-dating window marks the redirect as a late entry, so the access
//! guard flags it in the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_eventstore::codes::parse;
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer};
use casetrack_proto::hub::SessionMode;
use casetrack_proto::people::DuplicateDecision;
use casetrack_proto::{PersonId, ReferralId, ServiceCode};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormData, FormErrors, failure_page, invalid, refused, see_other};
use chrono::{DateTime, NaiveTime, TimeZone as _, Utc};

use super::page::render;
use crate::commands::allocate::AllocationRequest;
use crate::commands::close::{ClosureAnswer, ClosureRequest, measures_in_force};
use crate::commands::contact::{ContactAttemptRequest, OutreachRequest, ReasonRequest};
use crate::commands::handler::Written;
use crate::commands::onward::{ConsentRequest, OnwardReferralRequest};
use crate::commands::police_report::PoliceReportRequest;
use crate::commands::safe_contact::SafeContactRequest;
use crate::commands::support::{NeedsRequest, SessionRequest};
use crate::commands::when::WhenRequest;
use crate::pages::when::{read_when, reason_field, refused_at};
use crate::state::Hub;

/// One submitted action on the referral page.
pub async fn act(
    State(hub): State<Hub>,
    Path((referral_id, action)): Path<(ReferralId, String)>,
    form: FormData,
) -> Response {
    let outcome = match action.as_str() {
        "attempt" => attempt(&hub, referral_id, &form).await,
        "unable" => match when(&form, "unable") {
            Ok(when) => {
                hub.record_unable_to_contact(referral_id, &when).await.map_err(refused_at("unable", "action-unable"))
            }
            Err(failure) => Err(failure),
        },
        "return" => reason(&hub, referral_id, &form, "return").await,
        "accept" => match when(&form, "accept") {
            Ok(when) => hub.accept_support(referral_id, &when).await.map_err(refused_at("accept", "action-accept")),
            Err(failure) => Err(failure),
        },
        "decline" => reason(&hub, referral_id, &form, "decline").await,
        "onward" => match (ServiceCode::parse(form.get("onward-service")), when(&form, "onward")) {
            (_, Err(failure)) => Err(failure),
            (Ok(service), Ok(when)) if !form.get("onward-service").is_empty() => hub
                .refer_on(referral_id, OnwardReferralRequest { service, when })
                .await
                .map_err(refused_at("onward", "onward-service")),
            _ => Err(invalid("onward-service", "Choose the service to refer on to")),
        },
        "close" => close(&hub, referral_id, &form).await,
        "police-report" => police_report(&hub, referral_id, &form).await,
        "allocate" => hub
            .allocate(referral_id, AllocationRequest { officer: form.get("allocate-officer").to_owned() })
            .await
            .map_err(refused("allocate-officer")),
        "safe-contact" => safe_contact(&hub, referral_id, &form).await,
        "consent" => match (parse::<ConsentBasis>(form.get("consent-basis")), when(&form, "consent")) {
            (_, Err(failure)) => Err(failure),
            (Some(basis), Ok(when)) => {
                let override_reason = Some(form.get("consent-reason").to_owned());
                hub.record_consent(referral_id, ConsentRequest { basis, override_reason, when })
                    .await
                    .map_err(refused_at("consent", "consent-basis"))
            }
            (None, _) => Err(invalid("consent-basis", "Choose what the victim said")),
        },
        "outreach" => match (parse::<ContactChannel>(form.get("outreach-channel")), when(&form, "outreach")) {
            (_, Err(failure)) => Err(failure),
            (Some(channel), Ok(when)) => hub
                .send_outreach(referral_id, OutreachRequest { channel, when })
                .await
                .map_err(refused_at("outreach", "outreach-channel")),
            (None, _) => Err(invalid("outreach-channel", "Choose how the outreach was sent")),
        },
        "needs" => match when(&form, "needs") {
            Ok(when) => hub
                .assess_needs(referral_id, NeedsRequest { needs: form.all("needs-needs"), when })
                .await
                .map_err(refused_at("needs", "needs-needs")),
            Err(failure) => Err(failure),
        },
        "session" => session(&hub, referral_id, &form).await,
        "duplicate" => duplicate(&hub, referral_id, &form).await,
        _ => return failure_page(&ApiError::not_found("There is no such action.")),
    };
    match outcome {
        Ok(written) => {
            written.mark(see_other(&format!("/hub/referrals/{referral_id}?wait_for={}#timeline", written.position)))
        }
        Err(Failure::Form(errors)) => render(&hub, referral_id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(Failure::Broken(error)) => failure_page(&error),
    }
}

/// When the fact of the form of `action` happened, or the problems with what was typed.
fn when(form: &FormData, action: &str) -> Result<WhenRequest, Failure> {
    read_when(action, form).map_err(Failure::Form)
}

/// The reason typed on a form that asks only for it (its date asked in the form's own fields), when one was given.
fn late_reason(form: &FormData, action: &str) -> Option<String> {
    Some(form.get(&reason_field(action)).to_owned()).filter(|reason| !reason.trim().is_empty())
}

/// Returned to the referrer, or support declined: a reason, and when it happened.
async fn reason(hub: &Hub, referral_id: ReferralId, form: &FormData, action: &'static str) -> Result<Written, Failure> {
    let (field, refused) = match action {
        "return" => ("return-reason", refused_at("return", "return-reason")),
        _ => ("decline-reason", refused_at("decline", "decline-reason")),
    };
    let request = ReasonRequest { reason: form.get(field).to_owned(), when: when(form, action)? };
    match action {
        "return" => hub.return_to_referrer(referral_id, &request).await.map_err(refused),
        _ => hub.decline_support(referral_id, &request).await.map_err(refused),
    }
}

/// A local date and time (UK) typed on a form, as a moment.
fn local_moment(date: &str, time: &str) -> Option<DateTime<Utc>> {
    let date = casetrack_web::pages::parse_date(date)?;
    let time = NaiveTime::parse_from_str(&time.replace('.', ":"), "%H:%M").ok()?;
    chrono_tz::Europe::London.from_local_datetime(&date.and_time(time)).earliest().map(|at| at.with_timezone(&Utc))
}

async fn attempt(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let channel = parse::<ContactChannel>(form.get("attempt-channel"));
    if channel.is_none() {
        errors.add("attempt-channel", "Choose how you tried to contact the victim");
    }
    let at = local_moment(form.get("attempt-date"), form.get("attempt-time"));
    if at.is_none() {
        errors.add("attempt-date", "Enter the date and the time, for example 20/11/2026 and 18:30");
    }
    let outcome = parse::<AttemptOutcome>(form.get("attempt-outcome"));
    if outcome.is_none() {
        errors.add("attempt-outcome", "Choose what happened");
    }
    let (Some(channel), Some(attempted_at), Some(outcome)) = (channel, at, outcome) else {
        return Err(Failure::Form(errors));
    };
    let late_reason = late_reason(form, "attempt");
    hub.record_attempt(referral_id, ContactAttemptRequest { channel, attempted_at, outcome, late_reason })
        .await
        .map_err(refused_at("attempt", "attempt-channel"))
}

async fn close(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let set = measures_in_force().map_err(Failure::Broken)?;
    let mut errors = FormErrors::new();
    let mut answers = Vec::new();
    for measure in &set.measures {
        let field = format!("close-{}", measure.code);
        match parse::<OutcomeAnswer>(form.get(&field)) {
            Some(answer) => answers.push(ClosureAnswer { measure: measure.code.clone(), answer }),
            None => {
                errors.add(&field, format!("Choose an answer for “{}” (not asked if it was not asked)", measure.label))
            }
        }
    }
    let when = match read_when("close", form) {
        Ok(when) if errors.is_empty() => when,
        Ok(_) => return Err(Failure::Form(errors)),
        Err(problems) => return Err(Failure::Form(problems)),
    };
    hub.close(referral_id, ClosureRequest { answers, when }).await.map_err(refused_at("close", "action-close"))
}

async fn police_report(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let reference = form.get("police-report-reference");
    if reference.is_empty() {
        errors.add("police-report-reference", "Enter the crime reference the police gave");
    }
    let reported_on = casetrack_web::pages::parse_date(form.get("police-report-date"));
    if reported_on.is_none() {
        errors.add("police-report-date", "Enter the date reported, for example 20/11/2026");
    }
    let Some(reported_on) = reported_on.filter(|_| errors.is_empty()) else { return Err(Failure::Form(errors)) };
    let when = when(form, "police-report")?;
    let request = PoliceReportRequest { crime_reference: reference.to_owned(), reported_on, when };
    hub.record_police_report(referral_id, request).await.map_err(refused_at("police-report", "police-report-reference"))
}

async fn safe_contact(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let (safe_contact, safe_times) = casetrack_web::pages::read_safe_contact(form)?;
    let caution = Some(form.get("safe-caution").to_owned());
    hub.update_safe_contact(referral_id, SafeContactRequest { safe_contact, safe_times, caution })
        .await
        .map_err(refused("safe-phone"))
}

async fn session(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let held_on = casetrack_web::pages::parse_date(form.get("session-date"));
    if held_on.is_none() {
        errors.add("session-date", "Enter the date, for example 20/11/2026");
    }
    let mode = parse::<SessionMode>(form.get("session-mode"));
    if mode.is_none() {
        errors.add("session-mode", "Choose how the session was held");
    }
    let minutes = form.get("session-minutes").parse::<u32>().ok();
    if minutes.is_none() {
        errors.add("session-minutes", "Enter the length in whole minutes, for example 45");
    }
    let (Some(held_on), Some(mode), Some(minutes)) = (held_on, mode, minutes) else {
        return Err(Failure::Form(errors));
    };
    // The session happened on the day it was held (the command dates it so); only the reason is asked here.
    let when = WhenRequest { occurred_at: None, late_reason: late_reason(form, "session") };
    hub.record_session(referral_id, SessionRequest { held_on, mode, minutes, when })
        .await
        .map_err(refused_at("session", "session-minutes"))
}

async fn duplicate(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let other = form.get("other").parse::<PersonId>().ok();
    let decision = parse::<DuplicateDecision>(form.get("decision"));
    let (Some(other), Some(decision)) = (other, decision) else {
        return Err(invalid("duplicate", "Choose same person or different person"));
    };
    hub.decide_duplicate(referral_id, other, decision).await.map_err(refused("duplicate"))
}
