//! Named periods as commissioners use them: a calendar month (`2026-07`), a quarter of the financial year
//! (`FY2026-27 Q1`: April to June 2026) or a whole financial year (`FY2026-27`: 1 April 2026 to 31 March 2027).

use chrono::{Datelike as _, Months, NaiveDate};

/// A period's first and last days, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `count` months from `from`; `None` past the end of the calendar.
    fn months(from: NaiveDate, count: u32) -> Option<Self> {
        let after = from.checked_add_months(Months::new(count))?;
        Some(Self { from, to: after.pred_opt()? })
    }
}

/// Reads `2026-07`, `FY2026-27` or `FY2026-27 Q1` (case and spacing as typed: `fy2026-27q1` too). The message of
/// an error says what is accepted.
pub fn parse(text: &str) -> Result<Period, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let accepted = || {
        format!(
            "{text:?} is not a period: write a month as 2026-07, a financial year as FY2026-27, or one of its \
             quarters as FY2026-27 Q1 (April to June)"
        )
    };
    if let Some(rest) = compact.strip_prefix("FY") {
        let (year, quarter) = match rest.split_once('Q') {
            Some((year, quarter)) => (year, Some(quarter)),
            None => (rest, None),
        };
        let (start, end) = year.split_once('-').ok_or_else(accepted)?;
        let start: i32 = start.parse().map_err(|_| accepted())?;
        let end: i32 = end.parse().map_err(|_| accepted())?;
        let next = start.checked_add(1).ok_or_else(accepted)?;
        if end != next % 100 && end != next {
            return Err(format!("{text:?}: a financial year runs from April of one year to March of the next"));
        }
        let april = NaiveDate::from_ymd_opt(start, 4, 1).ok_or_else(accepted)?;
        return match quarter {
            None => Period::months(april, 12).ok_or_else(accepted),
            Some(q) => match q.parse::<u32>() {
                Ok(q @ 1..=4) => april
                    .checked_add_months(Months::new(3 * (q - 1)))
                    .and_then(|first| Period::months(first, 3))
                    .ok_or_else(accepted),
                _ => Err(format!("{text:?}: a financial year has quarters Q1 to Q4")),
            },
        };
    }
    let first = NaiveDate::parse_from_str(&format!("{compact}-01"), "%Y-%m-%d").map_err(|_| accepted())?;
    Period::months(first, 1).ok_or_else(accepted)
}

/// The financial year (`FY2026-27`) a day falls in.
pub fn financial_year_of(day: NaiveDate) -> Period {
    let year = if day.month() >= 4 { day.year() } else { day.year() - 1 };
    Period::months(NaiveDate::from_ymd_opt(year, 4, 1).expect("1 April exists"), 12)
        .expect("a year within the calendar")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_quarters_and_financial_years() {
        assert_eq!(parse("2026-07"), Ok(Period { from: day(2026, 7, 1), to: day(2026, 7, 31) }));
        assert_eq!(parse("2028-02"), Ok(Period { from: day(2028, 2, 1), to: day(2028, 2, 29) }), "a leap year");
        assert_eq!(parse("FY2026-27"), Ok(Period { from: day(2026, 4, 1), to: day(2027, 3, 31) }));
        assert_eq!(parse("FY2026-2027"), parse("FY2026-27"));
        assert_eq!(parse("FY2026-27 Q1"), Ok(Period { from: day(2026, 4, 1), to: day(2026, 6, 30) }));
        assert_eq!(parse("fy2026-27q4"), Ok(Period { from: day(2027, 1, 1), to: day(2027, 3, 31) }));
        assert_eq!(parse("FY2099-00"), Ok(Period { from: day(2099, 4, 1), to: day(2100, 3, 31) }));
    }

    #[test]
    fn what_is_not_a_period_says_what_is() {
        for bad in ["2026-13", "2026", "FY2026-28", "FY2026-27 Q5", "last month", ""] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("financial year") || error.contains("quarters"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_financial_year_of_a_day() {
        assert_eq!(financial_year_of(day(2026, 11, 23)).from, day(2026, 4, 1));
        assert_eq!(financial_year_of(day(2027, 3, 31)).to, day(2027, 3, 31));
        assert_eq!(financial_year_of(day(2027, 4, 1)).from, day(2027, 4, 1));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::parse;

    fn number() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -5..3000_i64,
            Just(i64::from(i32::MAX)),
            Just(i64::from(i32::MIN)),
            Just(262_142),
            Just(262_143),
            Just(-262_143),
        ]
    }

    proptest! {
        /// Whatever is typed, the parser answers: a period whose first day is not after its last, or a reason.
        #[test]
        fn any_text_is_a_period_or_a_reason(text in "\\PC{0,40}") {
            match parse(&text) {
                Ok(period) => prop_assert!(period.from <= period.to),
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        /// Text shaped like a period, with any numbers in it (the calendar's and the integers' edges among them).
        #[test]
        fn any_numbers_in_a_period_are_a_period_or_a_reason(
            start in number(), end in number(), quarter in number(), month in number(),
        ) {
            for text in [format!("FY{start}-{end}"), format!("FY{start}-{end} Q{quarter}"), format!("{start}-{month}")] {
                match parse(&text) {
                    Ok(period) => prop_assert!(period.from <= period.to),
                    Err(reason) => prop_assert!(!reason.is_empty()),
                }
            }
        }
    }
}
