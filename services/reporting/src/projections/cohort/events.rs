//! What each hub and specialist event does to the cohort: a referral or case received becomes a unit with its
//! dimension values, and later events move it through the funnel's stages and states.

use casetrack_casework::victims_code::{FIRST_CONTACT_WORKING_DAYS, support_due, working_days_after};
use casetrack_eventstore::codes::code;
use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::hub::{HubEvent, ReferralSource};
use casetrack_proto::profile::{CensusGroup, Nationality, VictimProfile};
use casetrack_proto::specialist::{CaseOrigin, RiskLevel, SpecialistEvent};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

use super::fold::Fold;
use super::keys::{Unit, repeat_in, stamp};
use super::names::{NOT_KNOWN, stage, state};
use crate::projections::common::{case_of, day_of};

pub(super) fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// The BAME roll-up: Black, Asian and minority ethnic are the census groups other than White; not stated stays
/// apart.
pub(super) fn bame(group: Option<CensusGroup>) -> &'static str {
    match group {
        Some(CensusGroup::White) => "white",
        None | Some(CensusGroup::NotStated) => "not_stated",
        Some(_) => "bame",
    }
}

/// The nationality dimension's value: the country code, or not known.
pub(super) fn nationality(nationality: Option<&Nationality>) -> String {
    nationality.map_or_else(|| NOT_KNOWN.to_owned(), |n| n.code().to_owned())
}

/// The profile's dimension values after source, offence and domestic abuse (see [`DIMENSIONS`]).
pub(super) fn profile_values(profile: &VictimProfile) -> [String; 5] {
    let group = profile.ethnicity.as_ref().map(|e| e.census_group());
    [
        profile.age_band.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
        code(&profile.gender),
        group.as_ref().map_or_else(|| "not_stated".to_owned(), code),
        bame(group).to_owned(),
        code(&profile.disability),
    ]
}

/// The referral a hub event changes where it stands, if it does.
pub(super) fn referral_of(event: &HubEvent) -> Option<casetrack_proto::ReferralId> {
    use HubEvent as E;
    Some(match event {
        E::ContactAttemptRecorded(e) => e.referral_id,
        E::SupportAccepted(e) => e.referral_id,
        E::SupportDeclined(e) => e.referral_id,
        E::UnableToContactRecorded(e) => e.referral_id,
        E::ReturnedToReferrer(e) => e.referral_id,
        E::ReferralClosed(e) => e.referral_id,
        E::ReportedToPolice(e) => e.referral_id,
        E::OnwardReferralMade(e) => e.referral_id,
        // Not where a referral stands.
        E::ReferralReceived(_)
        | E::ReferralAllocated(_)
        | E::SafeContactUpdated(_)
        | E::ConsentRecorded(_)
        | E::OutreachSent(_)
        | E::SupportSessionRecorded(_) => return None,
        // Only for the Victims' Code's clock: where it stands does not change.
        E::NeedsAssessed(e) => e.referral_id,
    })
}

pub(super) async fn hub(
    tx: &mut AnyConnection,
    fold: &mut Fold,
    event: &HubEvent,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    use HubEvent as E;
    if let E::ReferralReceived(e) = event {
        let id = e.referral_id.to_string();
        if fold.load(tx, &id).await? {
            return Ok(()); // received once; a redelivery changes nothing
        }
        let person = e.person_id.to_string();
        let history = fold.history(tx, "hub", &person).await?;
        let repeat = repeat_in(&history, at);
        let received_day = day_of(at);
        let mut values = vec![
            code(&e.source),
            e.offence_category.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
            yes_no(e.domestic_abuse),
        ];
        values.extend(profile_values(&e.profile));
        values.push(yes_no(repeat));
        values.push(nationality(e.profile.nationality.as_ref()));
        fold.receive(Unit {
            id: id.clone(),
            service: "hub".into(),
            person_id: person,
            received_day: received_day.to_string(),
            received_at: stamp(at),
            values,
            stages: Vec::new(),
            state: if e.consent == ConsentBasis::Withheld { state::NOT_WORKED } else { state::OPEN }.into(),
            clock_start: Some(e.crime_reported_on.unwrap_or(received_day).to_string()),
            origin: None,
            stored: false,
            changed: true,
            counts: Vec::new(),
        });
        fold.link(&id, &history);
        // Victims' Code compliance: a referral the victim did not withhold from contact is under the Code's clock.
        if e.consent != ConsentBasis::Withheld {
            fold.reach(&id, &code_group(e.enhanced_rights));
        }
        if e.source == ReferralSource::SelfReferral {
            fold.reach(&id, stage::SELF_REFERRALS);
        }
        return Ok(());
    }
    let Some(referral) = referral_of(event) else { return Ok(()) };
    let id = referral.to_string();
    // A referral this projection never saw received counts nowhere.
    if !fold.load(tx, &id).await? {
        return Ok(());
    }
    match event {
        E::ContactAttemptRecorded(e) => {
            if fold.reach(&id, stage::CONTACT_ATTEMPTED) {
                first_attempt(fold, &id, day_of(e.attempted_at));
            }
            if e.outcome.reached() && fold.reach(&id, stage::CONTACTED) {
                on_time(fold, &id, day_of(e.attempted_at), stage::CODE_CONTACTED);
            }
            // A referral first recorded as not to be worked is worked from its first attempt.
            if fold.units[&id].state == state::NOT_WORKED {
                fold.enter(&id, state::OPEN, day_of(at));
            }
        }
        E::SupportAccepted(_) => {
            fold.reach(&id, stage::SUPPORTED);
        }
        E::NeedsAssessed(e) if !e.reassessment => on_time(fold, &id, day_of(at), stage::CODE_NEEDS),
        E::SupportDeclined(_) => fold.enter(&id, state::DECLINED, day_of(at)),
        E::UnableToContactRecorded(_) => fold.enter(&id, state::UNABLE_TO_CONTACT, day_of(at)),
        E::ReturnedToReferrer(_) => fold.enter(&id, state::NO_SAFE_CONTACT, day_of(at)),
        E::ReferralClosed(_) => fold.enter(&id, state::CLOSED, day_of(at)),
        E::ReportedToPolice(_) if fold.units[&id].stages.iter().any(|s| s == stage::SELF_REFERRALS) => {
            fold.reach(&id, stage::SELF_REFERRALS_REPORTED);
        }
        E::OnwardReferralMade(e) => {
            fold.reach(&id, &format!("{}{}", stage::ONWARD_PREFIX, e.target_service));
        }
        _ => {}
    }
    Ok(())
}

/// The stage that puts a unit under the Victims' Code's support time limit, by its entitlement.
fn code_group(enhanced_rights: bool) -> String {
    format!("{}{}", stage::CODE_PREFIX, if enhanced_rights { "enhanced" } else { "standard" })
}

/// Counts `code.<group>.<figure>` once when `on` is within the unit's Victims' Code support time limit (from its
/// clock's start: the crime report, else the day received), for a unit under the Code's clock.
fn on_time(fold: &mut Fold, id: &str, on: NaiveDate, figure: &str) {
    let unit = &fold.units[id];
    let Some(group) =
        stage::CODE_GROUPS.iter().find(|g| unit.stages.iter().any(|s| *s == format!("{}{g}", stage::CODE_PREFIX)))
    else {
        return;
    };
    let start = unit.clock_start.as_deref().unwrap_or(&unit.received_day);
    let Ok(start) = start.parse::<NaiveDate>() else { return };
    if on <= support_due(start, *group == "enhanced") {
        let name = format!("{}{group}.{figure}", stage::CODE_PREFIX);
        fold.reach(id, &name);
    }
}

/// The first attempt's timing: days from the clock's start, and whether it met the Victims' Code deadline.
pub(super) fn first_attempt(fold: &mut Fold, id: &str, attempted_on: NaiveDate) {
    let Some(start) = fold.units[id].clock_start.as_deref().and_then(|d| d.parse::<NaiveDate>().ok()) else {
        return;
    };
    let days = (attempted_on - start).num_days().clamp(0, stage::FIRST_ATTEMPT_DAYS_CAP);
    fold.add(id, &format!("{}{days}", stage::FIRST_ATTEMPT_DAYS_PREFIX), 1);
    if attempted_on <= working_days_after(start, FIRST_CONTACT_WORKING_DAYS) {
        fold.add(id, stage::FIRST_ATTEMPT_ON_TIME, 1);
    }
}

pub(super) async fn specialist(
    tx: &mut AnyConnection,
    fold: &mut Fold,
    event: &SpecialistEvent,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    use SpecialistEvent as E;
    if let E::CaseOpened(e) = event {
        let id = e.case_id.to_string();
        if fold.load(tx, &id).await? {
            return Ok(());
        }
        let service = e.service.as_str().to_owned();
        let person = e.person_id.to_string();
        let history = fold.history(tx, &service, &person).await?;
        let repeat = repeat_in(&history, at);
        // A case from the hub is counted under what the hub's referral was counted under; a direct one under what
        // its referral says (domestic abuse, age band), the rest not known.
        let origin = match &e.origin {
            CaseOrigin::Hub { referral_id, .. } => Some(referral_id.to_string()),
            CaseOrigin::Direct { .. } => None,
        };
        let from_hub = match &origin {
            Some(referral) => fold.load(tx, referral).await?.then(|| fold.units[referral].values.clone()),
            None => None,
        };
        let mut values = match from_hub {
            Some(mut values) => {
                values[0] = "hub".into();
                values
            }
            None => {
                let source = match &e.origin {
                    CaseOrigin::Direct { source } => source.clone(),
                    CaseOrigin::Hub { .. } => "hub".into(),
                };
                vec![
                    source,
                    e.offence_category.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
                    yes_no(e.domestic_abuse),
                    e.age_band.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
                    "unknown".into(),
                    "not_stated".into(),
                    "not_stated".into(),
                    "unknown".into(),
                    String::new(),
                    nationality(e.nationality.as_ref()),
                ]
            }
        };
        values[2] = yes_no(e.domestic_abuse);
        if let Some(band) = &e.age_band {
            values[3] = code(band);
        }
        values[8] = yes_no(repeat);
        fold.receive(Unit {
            id: id.clone(),
            service,
            person_id: person,
            received_day: day_of(at).to_string(),
            received_at: stamp(at),
            values,
            stages: Vec::new(),
            state: state::OPEN.into(),
            clock_start: None,
            origin,
            stored: false,
            changed: true,
            counts: Vec::new(),
        });
        fold.link(&id, &history);
        fold.onward(&id, "opened");
        fold.reach(&id, &code_group(e.enhanced_rights));
        return Ok(());
    }
    let id = case_of(event).to_string();
    if !fold.load(tx, &id).await? {
        return Ok(());
    }
    // What the case's milestones tell the referral it came from.
    let milestone = match event {
        E::ReferralAccepted(_) => Some(stage::ACCEPTED),
        E::CaseContactAttemptRecorded(e) if e.outcome.reached() => Some(stage::CONTACTED),
        E::ReferralDeclinedByService(_) => Some(state::DECLINED_BY_SERVICE),
        E::ReferralWithdrawn(_) => Some(state::WITHDRAWN),
        E::CaseUnableToContactRecorded(_) => Some(state::UNABLE_TO_CONTACT),
        E::CaseSupportDeclined(_) => Some(state::DECLINED),
        E::CaseClosed(_) => Some(state::CLOSED),
        _ => None,
    };
    if let Some(milestone) = milestone {
        fold.onward(&id, milestone);
    }
    match event {
        E::ReferralAccepted(_) => {
            fold.reach(&id, stage::ACCEPTED);
        }
        E::ReferralDeclinedByService(_) => fold.enter(&id, state::DECLINED_BY_SERVICE, day_of(at)),
        E::ReferralWithdrawn(_) => fold.enter(&id, state::WITHDRAWN, day_of(at)),
        E::CaseContactAttemptRecorded(e) => {
            fold.reach(&id, stage::CONTACT_ATTEMPTED);
            if e.outcome.reached() && fold.reach(&id, stage::CONTACTED) {
                on_time(fold, &id, day_of(e.attempted_at), stage::CODE_CONTACTED);
            }
        }
        E::CaseUnableToContactRecorded(_) => fold.enter(&id, state::UNABLE_TO_CONTACT, day_of(at)),
        E::CaseSupportDeclined(_) => fold.enter(&id, state::DECLINED, day_of(at)),
        E::CaseClosed(_) => fold.enter(&id, state::CLOSED, day_of(at)),
        E::CaseReopened(_) => fold.enter(&id, state::OPEN, day_of(at)),
        E::RiskAssessed(e) if e.level == RiskLevel::High => {
            fold.reach(&id, stage::HIGH_RISK);
        }
        _ => {}
    }
    Ok(())
}
