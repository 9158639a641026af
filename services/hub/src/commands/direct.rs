//! A referral taken directly from the victim: a hub officer logging an inbound call, or the public self-referral
//! form. Both pages post the same fields (`pages::intake::direct_fields`); [`read_direct`] parses them, field by
//! field, into a [`DirectReferral`], and [`take_direct`] registers the victim and receives the referral, dated
//! when it happened (a call logged after it ended says when it was; the public form happens as it is sent).

use casetrack_casework::occurred::Lateness;
use casetrack_eventstore::command::{CommandError, CommandMeta};
use casetrack_people::person::{DetailsInput, PersonRejection, PersonalDetails, parse_details};
use casetrack_proto::contact::{ContactChannel, SafeContact, Safety};
use casetrack_proto::hub::{OffenceCategory, ReferralReceived, ReferralSource};
use casetrack_proto::profile::{AgeBand, Gender, Nationality, VictimProfile};
use casetrack_proto::{Actor, CommandId, PersonId, ReferralId};
use casetrack_web::Context;
use casetrack_web::pages::{FormData, FormErrors};
use chrono::NaiveDate;
use uuid::Uuid;

use super::handler::{Written, decide_timed};
use super::intake::{derived, receive_once};
use crate::referral::{ReferralRejection, When};
use crate::values::{CrimeReference, InputRejection, not_in_future};

/// A referral taken directly from the victim: a hub officer logging an inbound call, or the public form.
#[derive(Debug, Clone)]
pub struct DirectReferral {
    pub details: PersonalDetails,
    pub gender: Gender,
    pub offence_category: Option<OffenceCategory>,
    /// As the victim gives it: an ISO 3166-1 country code.
    pub nationality: Option<Nationality>,
    pub domestic_abuse: bool,
    pub crime_reference: Option<String>,
    pub crime_reported_on: Option<NaiveDate>,
    pub safe_contact: SafeContact,
    pub enhanced_rights: bool,
    /// An inbound call: the officer is speaking with the victim, so the referral starts contacted.
    pub on_the_phone: bool,
}

/// The victim's details and the facts of the referral as typed on the call or public form, validated field by
/// field against today (the command's clock): every problem is reported at once, against its field.
pub fn read_direct(form: &FormData, on_the_phone: bool) -> Result<DirectReferral, FormErrors> {
    let today = casetrack_eventstore::clock::now().date_naive();
    let mut errors = FormErrors::new();
    let input = DetailsInput::from_form(form);
    let details = parse_details(&input, today).map_err(|problems| {
        for problem in &problems {
            errors.add(problem.field, problem.message.clone());
        }
    });
    let nationality = match form.get("nationality").trim() {
        "" => None,
        code => Nationality::parse(code)
            .map_err(|_| errors.add("nationality", "Choose a nationality from the list, or leave it as not known"))
            .ok(),
    };
    let offence_category = match form.get("offence") {
        "" => None,
        code => match casetrack_eventstore::codes::parse::<OffenceCategory>(code) {
            Some(category) => Some(category),
            None => {
                errors.add("offence", "Choose what happened from the list");
                None
            }
        },
    };
    let gender = match form.get("gender") {
        "female" => Gender::Female,
        "male" => Gender::Male,
        "other" => Gender::Other,
        _ => Gender::Unknown,
    };
    let crime_reference = match CrimeReference::parse(form.get("crime_reference")) {
        Ok(reference) => reference.map(CrimeReference::into_inner),
        Err(_) => {
            errors.add("crime_reference", "A crime reference can be at most 64 characters");
            None
        }
    };
    let crime_reported_on = match form.get("reported_on") {
        "" => None,
        text => match casetrack_web::pages::parse_date(text)
            .and_then(|day| not_in_future(day, today, InputRejection::CrimeReportedInFuture).ok())
        {
            Some(day) => Some(day),
            None => {
                errors.add("reported_on", "Enter the date reported to police, in the past, for example 20/11/2026");
                None
            }
        },
    };
    // The victim ticks what is safe; what they leave unticked is not to be used.
    let safe = form.all("safe");
    let mut safe_contact = SafeContact::default();
    for channel in ContactChannel::ALL {
        let code = channel.code();
        safe_contact.set(channel, if safe.iter().any(|s| s == code) { Safety::Safe } else { Safety::Unsafe });
    }
    if safe_contact.no_usable_channel() {
        errors.add("safe", "Choose at least one safe way to contact you");
    }
    match details {
        Ok(details) if errors.is_empty() => Ok(DirectReferral {
            details,
            gender,
            offence_category,
            nationality,
            domestic_abuse: form.get("domestic_abuse") == "yes",
            crime_reference,
            crime_reported_on,
            safe_contact,
            enhanced_rights: form.get("enhanced_rights") == "yes",
            on_the_phone,
        }),
        _ => Err(errors),
    }
}

/// Registers the victim (now, by the command's clock) and receives their self-referral (and, for a call, records
/// that they were reached) at `when.at`: where it was a late entry, the answer says so.
///
/// `submission` is the form's own id (a hidden field): every id and command id derives from it, so submitting the
/// same form again, for instance after a failure half-way, completes what is missing and creates nothing twice.
pub async fn take_direct(
    ctx: &Context,
    submission: Uuid,
    referral: DirectReferral,
    when: &When,
    by: Actor,
) -> Result<Written, CommandError<ReferralRejection>> {
    let key = format!("direct {submission}");
    let person_id = PersonId(derived("person", &key));
    let referral_id = ReferralId(derived("referral", &key));
    let meta = |kind: &str, at| CommandMeta::repeatable(CommandId(derived(kind, &key)), referral_id.0, by.clone(), at);
    let registered = meta("register", when.now);
    match casetrack_people::person::register_sealed(ctx, person_id, &referral.details, &registered).await {
        Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
        Err(CommandError::Rejected(rejection)) => {
            return Err(CommandError::Infrastructure(anyhow::anyhow!(
                "registering the person was refused: {rejection}"
            )));
        }
        Err(CommandError::Contended) => return Err(CommandError::Contended),
        Err(CommandError::Infrastructure(error)) => return Err(CommandError::Infrastructure(error)),
    }
    let received = ReferralReceived {
        referral_id,
        person_id,
        source: ReferralSource::SelfReferral,
        offence_category: referral.offence_category,
        domestic_abuse: referral.domestic_abuse,
        crime_reported_on: referral.crime_reference.as_ref().and(referral.crime_reported_on),
        crime_reference: referral.crime_reference,
        safe_contact: referral.safe_contact,
        consent: casetrack_proto::contact::ConsentBasis::Explicit,
        consent_override_reason: None,
        enhanced_rights: referral.enhanced_rights,
        profile: VictimProfile {
            age_band: AgeBand::at(referral.details.date_of_birth, when.at.date_naive()),
            gender: referral.gender,
            ethnicity: None,
            disability: Default::default(),
            nationality: referral.nationality,
        },
    };
    let (position, lateness) = receive_once(ctx, &meta("receive", when.at), received, when).await?;
    let mut position = position.unwrap_or(0);
    if referral.on_the_phone {
        let call = casetrack_proto::hub::ContactAttemptRecorded {
            referral_id,
            channel: ContactChannel::Phone,
            attempted_at: when.at,
            time_band: casetrack_casework::contact::time_band(when.at),
            outcome: casetrack_proto::contact::AttemptOutcome::Reached,
        };
        // The same command id on a second submission: the log stores it once.
        let (executed, _) = decide_timed(&ctx.log, &meta("call", when.at), referral_id, when, |state| {
            crate::referral::record_attempt(state, call.clone())
        })
        .await?;
        position = position.max(executed.position.map_or(0, |p| p.0));
    }
    Ok(Written { referral_id, position, lateness: lateness.unwrap_or(Lateness::OnTime) })
}
