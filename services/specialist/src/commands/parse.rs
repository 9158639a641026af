//! The checks a command's values pass before any case is read, each parsing a raw value into one that holds its
//! rule: a day that has come ([`PastDate`]), a review date not already gone ([`review_on`]), a caseworker's text
//! ([`CaseText`]). A wrong value is refused (422) with the words the person sees.

use casetrack_web::http::ApiError;
use chrono::NaiveDate;

/// A day that has come: today or before (things recorded as done cannot be dated in the future).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastDate(NaiveDate);

impl PastDate {
    /// `what` names the date in the refusal: "The {what} cannot be in the future."
    pub fn parse(day: NaiveDate, what: &str, today: NaiveDate) -> Result<Self, ApiError> {
        if day > today {
            return Err(ApiError::rejected("date_in_future", format!("The {what} cannot be in the future.")));
        }
        Ok(Self(day))
    }

    pub fn day(self) -> NaiveDate {
        self.0
    }
}

/// A review date, when one is given, is today or later.
pub fn review_on(day: Option<NaiveDate>, today: NaiveDate) -> Result<Option<NaiveDate>, ApiError> {
    if day.is_some_and(|day| day < today) {
        return Err(ApiError::rejected("review_in_past", "The review date cannot be in the past."));
    }
    Ok(day)
}

/// A plan or a note in the caseworker's words: trimmed, not empty, at most 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseText(String);

impl CaseText {
    /// `what` names the text in the refusal ("Write the {what}.").
    pub fn parse(value: &str, what: &str) -> Result<Self, ApiError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ApiError::rejected("text_required", format!("Write the {what}.")));
        }
        if value.chars().count() > 10_000 {
            return Err(ApiError::rejected("text_too_long", format!("The {what} can be at most 10,000 characters.")));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
