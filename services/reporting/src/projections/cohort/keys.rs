//! The cohort's rows as the fold keeps them: a unit (a referral or case), the numbered names a batch counts
//! under, the spans (day, month, financial year) rows keep their days by, and the keys of count and tie rows.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use rustc_hash::FxHashMap;

use super::names::{DIMENSIONS, monthly, yearly};

/// A referral or case as this projection keeps it.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub(super) id: String,
    pub(super) service: String,
    pub(super) person_id: String,
    pub(super) received_day: String,
    pub(super) received_at: String,
    /// One value per [`DIMENSIONS`] entry.
    pub(super) values: Vec<String>,
    /// Stages reached (figure names), comma-separated when stored.
    pub(super) stages: Vec<String>,
    pub(super) state: String,
    /// Where the Victims' Code clock for the first attempt starts (hub referrals only).
    pub(super) clock_start: Option<String>,
    /// The hub referral a specialist case came from.
    pub(super) origin: Option<String>,
    pub(super) stored: bool,
    pub(super) changed: bool,
    /// Counts per figure (numbered by [`Names`]) not yet spread over the unit's dimensions (see [`Fold::add`]).
    pub(super) counts: Vec<(u32, i64)>,
}

pub(super) type Key = (String, String, String, String, String);

/// The names a batch counts under (services, dimensions, values, figures), each given a number once: a count's key
/// is then a few numbers, not five strings to allocate, hash and compare (which was most of the fold's time).
pub(super) struct Names {
    pub(super) numbers: FxHashMap<String, u32>,
    pub(super) names: Vec<String>,
}

/// The number of `all` (the dimension and its one value); `DIMENSIONS[i]` is numbered `i + 1`.
pub(super) const ALL: u32 = 0;

impl Default for Names {
    fn default() -> Self {
        let mut names = Self { numbers: FxHashMap::default(), names: Vec::new() };
        for name in std::iter::once("all").chain(DIMENSIONS) {
            names.number(name);
        }
        debug_assert_eq!(names.names.len(), DIMENSIONS.len() + 1, "the dimensions are distinct, and none is `all`");
        names
    }
}

impl Names {
    pub(super) fn number(&mut self, name: &str) -> u32 {
        if let Some(number) = self.numbers.get(name) {
            return *number;
        }
        let number = u32::try_from(self.names.len()).expect("fewer than 4 billion names in a batch");
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), number);
        number
    }

    pub(super) fn name(&self, number: u32) -> &str {
        &self.names[number as usize]
    }
}

/// How a row of `reporting_cohort` or `reporting_ties` keeps its days: by day (`YYYY-MM-DD`), by month (`YYYY-MM`,
/// under [`monthly`] of the dimension) or by financial year (the year it begins in, under [`yearly`] of the
/// dimension).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Span {
    Day,
    Month,
    Year,
}

impl Span {
    /// The first day of the span holding `day`.
    pub(super) fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Month => day.with_day(1).expect("every month has a first day"),
            Self::Year => crate::periods::financial_year_of(day).from,
        }
    }

    /// The dimension as stored for this span.
    pub(super) fn dimension(self, dimension: &str) -> String {
        match self {
            Self::Day => dimension.to_owned(),
            Self::Month => monthly(dimension),
            Self::Year => yearly(dimension),
        }
    }

    /// A day as stored for this span (the span's [`Span::start`] written out).
    pub(super) fn day(self, day: NaiveDate) -> String {
        let format = match self {
            Self::Day => "%Y-%m-%d",
            Self::Month => "%Y-%m",
            Self::Year => "%Y",
        };
        day.format(format).to_string()
    }
}

/// A row of `reporting_cohort`, its names numbered by [`Names`], on the `span` holding `day` (each day's count is
/// counted under its month too when written).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct CountKey {
    pub(super) service: u32,
    pub(super) day: NaiveDate,
    pub(super) span: Span,
    pub(super) dimension: u32,
    pub(super) value: u32,
    pub(super) figure: u32,
}

impl CountKey {
    /// The row's key as stored: (service, day or `YYYY-MM`, dimension or `month:<dimension>`, value, figure).
    pub(super) fn stored(&self, names: &Names) -> Key {
        let name = |number| names.name(number).to_owned();
        let dimension = self.span.dimension(names.name(self.dimension));
        (name(self.service), self.span.day(self.day), dimension, name(self.value), name(self.figure))
    }
}

/// A row of `reporting_ties` by day, its names numbered by [`Names`]: a tie between a person's consecutive units of
/// `service` with `value` of `dimension`, received on `prev` and on `day`. Each is counted by month and by
/// financial year too when written (see [`Fold::stored_ties`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct TieKey {
    pub(super) service: u32,
    pub(super) dimension: u32,
    pub(super) value: u32,
    pub(super) prev: NaiveDate,
    pub(super) day: NaiveDate,
}

impl TieKey {
    /// The row's key as stored, for a tie whose days are already [`Span::start`]s of `span`.
    pub(super) fn stored(&self, span: Span, names: &Names) -> Key {
        let name = |number| names.name(number).to_owned();
        let dimension = span.dimension(names.name(self.dimension));
        (name(self.service), dimension, name(self.value), span.day(self.prev), span.day(self.day))
    }
}

/// Another unit of the same person and service, as [`Fold::link`] needs it.
#[derive(Clone)]
pub(super) struct Sibling {
    pub(super) id: String,
    pub(super) received_at: String,
    pub(super) received_day: String,
    pub(super) values: Vec<String>,
}

/// Whether the person had another unit of the same service received in the 12 months before `at`.
pub(super) fn repeat_in(history: &[Sibling], at: DateTime<Utc>) -> bool {
    let window = stamp(at.checked_sub_months(chrono::Months::new(12)).unwrap_or(at));
    let now = stamp(at);
    history.iter().any(|s| s.received_at >= window && s.received_at < now)
}

/// A moment as stored: fixed width, so that text order is time order.
pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}
