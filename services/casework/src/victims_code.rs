//! The Victims' Code clock: working days in England and Wales (weekends and bank holidays excluded), and the
//! deadlines the Code counts in them. Bank holidays are reference data: GOV.UK's published list for England and
//! Wales (`reference/bank-holidays.json`, in GOV.UK's own shape), 2018 onwards; [`coverage_warning`] says when the
//! year ahead is missing from it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

#[derive(serde::Deserialize)]
struct File {
    events: Vec<BankHoliday>,
}

#[derive(serde::Deserialize)]
struct BankHoliday {
    date: NaiveDate,
}

fn bank_holidays() -> &'static BTreeSet<NaiveDate> {
    static DATES: OnceLock<BTreeSet<NaiveDate>> = OnceLock::new();
    DATES.get_or_init(|| {
        let file: File = serde_json::from_str(include_str!("../reference/bank-holidays.json"))
            .expect("reference/bank-holidays.json is valid (checked by a test)");
        file.events.into_iter().map(|event| event.date).collect()
    })
}

/// The first and last years the bank-holiday list covers.
pub fn bank_holiday_years() -> (i32, i32) {
    let dates = bank_holidays();
    let year = |day: Option<&NaiveDate>| day.map_or(0, Datelike::year);
    (year(dates.first()), year(dates.last()))
}

/// What to warn about at start-up when the bank holidays of the twelve months after `today` are not all in the list
/// (every deadline after its last year would count bank holidays as working days).
pub fn coverage_warning(today: NaiveDate) -> Option<String> {
    let (_, last) = bank_holiday_years();
    let ahead = today.checked_add_days(Days::new(365)).unwrap_or(today);
    (ahead.year() > last).then(|| {
        format!(
            "the bank holidays of England and Wales are known only to the end of {last}: add {} from GOV.UK \
             (https://www.gov.uk/bank-holidays.json) to services/casework/reference/bank-holidays.json, or Victims' \
             Code deadlines after {last} will count bank holidays as working days",
            last + 1
        )
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

/// The Victims' Code's time limit for referral to support services (Right 4: 2 working days for victims entitled to
/// enhanced rights, 5 for others), which Casetrack counts as the limit for a support service's first contact and
/// needs assessment (docs/metrics.md, "Victims' Code compliance").
pub const fn support_working_days(enhanced_rights: bool) -> u32 {
    if enhanced_rights { 2 } else { 5 }
}

/// The last day on which first contact (or a needs assessment) meets the Code, from the day its clock starts.
pub fn support_due(clock_start: NaiveDate, enhanced_rights: bool) -> NaiveDate {
    working_days_after(clock_start, support_working_days(enhanced_rights))
}

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
        // 2020's early May bank holiday moved to Friday 8 May (VE day); 2022's Jubilee and the State Funeral.
        assert!(!is_working_day(day(2020, 5, 8)) && is_working_day(day(2020, 5, 4)));
        assert!(!is_working_day(day(2022, 6, 3)) && !is_working_day(day(2022, 9, 19)));
        assert_eq!(support_due(day(2026, 12, 24), false), day(2027, 1, 5), "25, 28 Dec and 1 Jan are holidays");
        assert_eq!(support_due(day(2026, 12, 24), true), day(2026, 12, 30));
    }

    #[test]
    fn every_year_from_2018_has_its_bank_holidays_and_the_year_ahead_is_watched() {
        let (first, last) = bank_holiday_years();
        assert!(first <= 2018 && last >= 2027, "{first}-{last}");
        for year in first..=last {
            let count = bank_holidays().iter().filter(|d| d.year() == year).count();
            assert!((8..=10).contains(&count), "{year}: {count}");
        }
        assert!(bank_holidays().iter().all(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
        assert_eq!(coverage_warning(day(2026, 12, 4)), None);
        let warning = coverage_warning(day(2027, 6, 1)).unwrap();
        assert!(warning.contains("known only to the end of 2027") && warning.contains("add 2028"), "{warning}");
    }
}
