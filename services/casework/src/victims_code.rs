//! The Victims' Code clock: working days in England and Wales (weekends and bank holidays excluded), and the
//! deadlines the Code counts in them.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

#[derive(serde::Deserialize)]
struct File {
    dates: Vec<NaiveDate>,
}

fn bank_holidays() -> &'static BTreeSet<NaiveDate> {
    static DATES: OnceLock<BTreeSet<NaiveDate>> = OnceLock::new();
    DATES.get_or_init(|| {
        let file: File = serde_json::from_str(include_str!("../reference/bank-holidays.json"))
            .expect("reference/bank-holidays.json is valid (checked by a test)");
        file.dates.into_iter().collect()
    })
}

pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !bank_holidays().contains(&day)
}

/// The day `n` working days after `start` (the start day itself does not count).
pub fn working_days_after(start: NaiveDate, n: u32) -> NaiveDate {
    let mut day = start;
    let mut left = n;
    while left > 0 {
        day = day.checked_add_days(Days::new(1)).expect("dates stay in range");
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Working days from the crime report to the first contact attempt (Victims' Code).
pub const FIRST_CONTACT_WORKING_DAYS: u32 = 2;

/// Victims' Code: information about restorative justice is due within 5 working days of the referral, 1 under
/// enhanced rights.
pub fn rj_information_due(referred_on: NaiveDate, enhanced_rights: bool) -> NaiveDate {
    working_days_after(referred_on, if enhanced_rights { 1 } else { 5 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekends_and_bank_holidays_do_not_count() {
        // Thursday -> Monday (Friday counts, the weekend does not).
        assert_eq!(working_days_after(day(2026, 11, 19), 2), day(2026, 11, 23));
        // Thursday 2 April 2026: Good Friday and Easter Monday are bank holidays.
        assert_eq!(working_days_after(day(2026, 4, 2), 2), day(2026, 4, 8));
        // Christmas 2026: 25th Friday, Boxing Day's substitute Monday 28th.
        assert_eq!(working_days_after(day(2026, 12, 24), 1), day(2026, 12, 29));
        assert!(!is_working_day(day(2027, 12, 27)));
    }
}
