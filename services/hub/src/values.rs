//! The hub's values, parsed once at the edge (STYLE.md 2): what a request carries is checked here before any
//! decision, so neither the JSON api nor the pages hold a rule of their own.
//!
//! These refusals are about the input, not the referral's state: they answer 422 with the code and the words of
//! [`InputRejection`] (the aggregate's refusals, which depend on the referral, answer 409). Their messages are
//! sentences with a full stop, unlike the aggregate's: they are shown to people as they are and have not changed.

use casetrack_proto::contact::ConsentBasis;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};

/// A value refused before any decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputRejection {
    #[error("The crime reference can be at most 64 characters.")]
    CrimeReferenceTooLong,
    #[error("The date the crime was reported cannot be in the future.")]
    CrimeReportedInFuture,
    #[error("The date reported to police cannot be in the future.")]
    ReportedInFuture,
    #[error("A support session cannot be recorded in the future.")]
    SessionInFuture,
    #[error("Give the reason consent was overridden.")]
    OverrideReasonRequired,
    #[error("A caution can be at most 500 characters.")]
    CautionTooLong,
    #[error("Give when it happened as a date and time (for example 2026-04-03T14:30:00+01:00) or a date (2026-04-03).")]
    OccurredAtInvalid,
}

impl InputRejection {
    /// The stable code naming the rule.
    pub fn code(self) -> &'static str {
        match self {
            Self::CrimeReferenceTooLong => "crime_reference_too_long",
            Self::CrimeReportedInFuture => "crime_reported_in_future",
            Self::ReportedInFuture => "reported_in_future",
            Self::SessionInFuture => "session_in_future",
            Self::OverrideReasonRequired => "override_reason_required",
            Self::CautionTooLong => "caution_too_long",
            Self::OccurredAtInvalid => "occurred_at_invalid",
        }
    }
}

/// A crime reference as typed: trimmed, at most [`CrimeReference::MAX_CHARS`] characters. (The police feed's
/// references are stricter still: `commands::police_feed` checks their characters too.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrimeReference(String);

impl CrimeReference {
    pub const MAX_CHARS: usize = 64;

    /// The reference typed, or `None` when nothing was typed.
    pub fn parse(text: &str) -> Result<Option<Self>, InputRejection> {
        let reference = text.trim();
        if reference.is_empty() {
            return Ok(None);
        }
        if reference.chars().count() > Self::MAX_CHARS {
            return Err(InputRejection::CrimeReferenceTooLong);
        }
        Ok(Some(Self(reference.to_owned())))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A day something already happened on: refused with `refusal` when it is after `today` (the command's clock).
pub fn not_in_future(day: NaiveDate, today: NaiveDate, refusal: InputRejection) -> Result<NaiveDate, InputRejection> {
    if day > today { Err(refusal) } else { Ok(day) }
}

/// When something happened, as a request gives it: an RFC 3339 date-time, or a date (`YYYY-MM-DD`) where only the
/// day is known. Nothing given means `now` (the command's clock).
pub fn occurred_at(text: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, InputRejection> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(now) };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| InputRejection::OccurredAtInvalid)?;
    Ok(on_day(day, now))
}

/// A day something happened on, where the time is not known: 12:00 UK local time that day, or `now` when the day
/// is today (UK), so that today is never refused as in the future and reads as "just now".
pub fn on_day(day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("a valid time"));
    let at = chrono_tz::Europe::London
        .from_local_datetime(&noon)
        .earliest()
        .map_or_else(|| noon.and_utc(), |at| at.with_timezone(&Utc));
    let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
    if day == today { now } else { at }
}

/// The consent a referral arrives with: opt-out unless said otherwise, and a reason whenever it is overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentAtReceipt {
    pub basis: ConsentBasis,
    pub override_reason: Option<String>,
}

impl ConsentAtReceipt {
    pub fn parse(basis: Option<ConsentBasis>, override_reason: Option<&str>) -> Result<Self, InputRejection> {
        let basis = basis.unwrap_or(ConsentBasis::OptOut);
        let override_reason = override_reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        if basis == ConsentBasis::Overridden && override_reason.is_none() {
            return Err(InputRejection::OverrideReasonRequired);
        }
        Ok(Self { basis, override_reason })
    }
}

/// A caution for whoever contacts the victim: trimmed, at most [`Caution::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caution(String);

impl Caution {
    pub const MAX_CHARS: usize = 500;

    /// The caution typed, or `None` when nothing was typed.
    pub fn parse(text: &str) -> Result<Option<Self>, InputRejection> {
        let caution = text.trim();
        if caution.is_empty() {
            return Ok(None);
        }
        if caution.chars().count() > Self::MAX_CHARS {
            return Err(InputRejection::CautionTooLong);
        }
        Ok(Some(Self(caution.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crime_reference_is_trimmed_optional_and_at_most_64_characters() {
        assert_eq!(CrimeReference::parse("  "), Ok(None));
        assert_eq!(CrimeReference::parse(" CR/1 ").unwrap().map(CrimeReference::into_inner), Some("CR/1".into()));
        assert!(CrimeReference::parse(&"é".repeat(64)).is_ok());
        let refused = CrimeReference::parse(&"x".repeat(65)).unwrap_err();
        assert_eq!(refused.code(), "crime_reference_too_long");
        assert_eq!(refused.to_string(), "The crime reference can be at most 64 characters.");
    }

    #[test]
    fn an_overridden_consent_needs_a_reason() {
        assert_eq!(ConsentAtReceipt::parse(None, None).unwrap().basis, ConsentBasis::OptOut);
        assert_eq!(
            ConsentAtReceipt::parse(Some(ConsentBasis::Overridden), Some(" ")),
            Err(InputRejection::OverrideReasonRequired)
        );
        let overridden = ConsentAtReceipt::parse(Some(ConsentBasis::Overridden), Some(" risk to life ")).unwrap();
        assert_eq!(overridden.override_reason.as_deref(), Some("risk to life"));
    }

    #[test]
    fn a_day_in_the_future_is_refused_and_today_is_not() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(not_in_future(today, today, InputRejection::ReportedInFuture), Ok(today));
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            not_in_future(tomorrow, today, InputRejection::ReportedInFuture),
            Err(InputRejection::ReportedInFuture)
        );
    }

    #[test]
    fn when_it_happened_is_a_date_time_or_a_day_at_noon_uk_time_and_now_when_not_given() {
        let now = Utc.with_ymd_and_hms(2026, 7, 10, 9, 0, 0).unwrap();
        assert_eq!(occurred_at(None, now), Ok(now));
        assert_eq!(occurred_at(Some(" "), now), Ok(now));
        let given = occurred_at(Some("2026-04-03T14:30:00+01:00"), now).unwrap();
        assert_eq!(given, Utc.with_ymd_and_hms(2026, 4, 3, 13, 30, 0).unwrap());
        // 12:00 in London: British Summer Time in May, Greenwich Mean Time in December.
        assert_eq!(occurred_at(Some("2019-05-07"), now), Ok(Utc.with_ymd_and_hms(2019, 5, 7, 11, 0, 0).unwrap()));
        assert_eq!(occurred_at(Some("2019-12-07"), now), Ok(Utc.with_ymd_and_hms(2019, 12, 7, 12, 0, 0).unwrap()));
        // Today: now, never a time still to come; tomorrow stays tomorrow (and is refused later).
        assert_eq!(occurred_at(Some("2026-07-10"), now), Ok(now));
        assert!(occurred_at(Some("2026-07-11"), now).unwrap() > now);
        let refused = occurred_at(Some("3/4/2026"), now).unwrap_err();
        assert_eq!(refused.code(), "occurred_at_invalid");
    }

    #[test]
    fn a_caution_is_at_most_500_characters() {
        assert_eq!(Caution::parse(""), Ok(None));
        assert_eq!(Caution::parse(&"x".repeat(501)), Err(InputRejection::CautionTooLong));
        assert_eq!(Caution::parse(" take care ").unwrap().unwrap().as_str(), "take care");
    }
}
