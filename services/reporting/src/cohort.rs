//! `reporting.cohort`: of the referrals received in a period, where are they now, by every dimension commissioners
//! report by.
//!
//! A hub referral, or a specialist service's case, is a *unit*. `reporting_units` holds one row per unit: the
//! dimension values it is counted under (fixed when it was received), the stages it has reached and the state it
//! is in now. `reporting_cohort` holds the counts per service, day received (England and Wales), dimension, value
//! and figure. When a unit reaches a stage, its count goes up in every dimension at once; when its state changes,
//! it moves from the old state's count to the new one's. So every figure of a period is a sum over days, and a
//! breakdown by any dimension is a sum over the same rows.
//!
//! A batch is folded in memory: one read per unit it touches (units received in the batch need none), one write
//! per unit changed, one upsert per count changed.

use std::cmp::Ordering;

use rustc_hash::{FxHashMap, FxHashSet};

use casetrack_platform::clock::{FIRST_CONTACT_WORKING_DAYS, working_days_after};
use casetrack_platform::codes::code;
use casetrack_platform::db::{Cell, OnConflict, Rows, fetch_in, write_rows};
use casetrack_platform::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::hub::{HubEvent, ReferralSource};
use casetrack_proto::profile::{CensusGroup, VictimProfile};
use casetrack_proto::specialist::{CaseOrigin, RiskLevel, SpecialistEvent};
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

pub struct Cohort;

/// The dimensions a cohort can be broken down by, as named in the API (`by=`) and stored (each is a column of
/// `reporting_units`). Every unit also counts under the dimension `all`, value `all`.
pub const DIMENSIONS: [&str; 9] = [
    "source",
    "offence",
    "domestic_abuse",
    "age_band",
    "gender",
    "ethnic_group",
    "bame",
    "disability",
    "repeat_victim",
];

/// What each dimension is called on a page.
pub fn dimension_label(dimension: &str) -> &'static str {
    match dimension {
        "source" => "Referral source",
        "offence" => "Offence category",
        "domestic_abuse" => "Domestic abuse",
        "age_band" => "Age band",
        "gender" => "Gender",
        "ethnic_group" => "Ethnic group (census)",
        "bame" => "BAME roll-up",
        "disability" => "Disability",
        "repeat_victim" => "Repeat victim",
        _ => "All",
    }
}

/// Figures of the funnel (stages: counted once a unit reaches them, never taken back).
pub mod stage {
    pub const RECEIVED: &str = "referrals_received";
    pub const CONTACT_ATTEMPTED: &str = "contact_attempted";
    pub const CONTACTED: &str = "contacted";
    pub const SUPPORTED: &str = "supported";
    pub const ACCEPTED: &str = "accepted";
    pub const HIGH_RISK: &str = "high_risk";
    pub const SELF_REFERRALS: &str = "self_referrals";
    pub const SELF_REFERRALS_REPORTED: &str = "self_referrals_reported_to_police";
    pub const ONWARD_PREFIX: &str = "onward_referrals.";
    /// `onward_outcome.<service>.<milestone>`: what became of the referral's onward referral to a service, each
    /// milestone of [`ONWARD_MILESTONES`] counted once.
    pub const ONWARD_OUTCOME_PREFIX: &str = "onward_outcome.";
    /// What can become of an onward referral, in the order a page shows it.
    pub const ONWARD_MILESTONES: [&str; 8] = [
        "opened",
        "accepted",
        "contacted",
        "closed",
        "declined_by_service",
        "withdrawn",
        "declined",
        "unable_to_contact",
    ];
    /// `first_attempt_days.N`: days from the crime report (or the referral) to the first attempt, 31 for 31 or
    /// more.
    pub const FIRST_ATTEMPT_DAYS_PREFIX: &str = "first_attempt_days.";
    pub const FIRST_ATTEMPT_ON_TIME: &str = "first_attempt_within_deadline";
    /// Days counted one by one in the histogram; longer waits count as this many.
    pub const FIRST_ATTEMPT_DAYS_CAP: i64 = 31;
}

/// Where a unit is now: exactly one state each, so the states of a cohort add up to the referrals received.
pub mod state {
    pub const OPEN: &str = "open";
    pub const NOT_WORKED: &str = "not_worked";
    pub const DECLINED: &str = "declined";
    pub const UNABLE_TO_CONTACT: &str = "unable_to_contact";
    pub const NO_SAFE_CONTACT: &str = "no_safe_contact";
    pub const CLOSED: &str = "closed";
    pub const DECLINED_BY_SERVICE: &str = "declined_by_service";
    pub const WITHDRAWN: &str = "withdrawn";
    /// Every state, in the order a page shows them.
    pub const ALL: [&str; 8] =
        [OPEN, NOT_WORKED, DECLINED, UNABLE_TO_CONTACT, NO_SAFE_CONTACT, CLOSED, DECLINED_BY_SERVICE, WITHDRAWN];
}

const NOT_KNOWN: &str = "not_known";

/// The pseudo-dimension of the caseload's running counts (never a breakdown: not in [`DIMENSIONS`]).
pub const CASELOAD: &str = "caseload";
pub const CASELOAD_OPENED: &str = "opened";
pub const CASELOAD_ENDED: &str = "ended";

/// A referral or case as this projection keeps it.
#[derive(Debug, Clone)]
struct Unit {
    id: String,
    service: String,
    person_id: String,
    received_day: String,
    received_at: String,
    /// One value per [`DIMENSIONS`] entry.
    values: Vec<String>,
    /// Stages reached (figure names), comma-separated when stored.
    stages: Vec<String>,
    state: String,
    /// Where the Victims' Code clock for the first attempt starts (hub referrals only).
    clock_start: Option<String>,
    /// The hub referral a specialist case came from.
    origin: Option<String>,
    stored: bool,
    changed: bool,
    /// Counts per figure (numbered by [`Names`]) not yet spread over the unit's dimensions (see [`Fold::add`]).
    counts: Vec<(u32, i64)>,
}

type Key = (String, String, String, String, String);

/// The dimension under which a dimension's counts are kept per month as well as per day (`month:gender`), so that
/// a long period sums months, not days.
pub fn monthly(dimension: &str) -> String {
    format!("month:{dimension}")
}

/// The dimension under which ties are kept per financial year as well (`fy:gender`, between `2024` and `2025`, the
/// years April to March begin in), so that a period of whole financial years sums a few rows per value, not one
/// per pair of months.
pub fn yearly(dimension: &str) -> String {
    format!("fy:{dimension}")
}

/// The financial year (April to March) a `YYYY-MM-DD` day falls in, by the year it begins in: `2025` for
/// 2025-04-01 to 2026-03-31.
pub fn financial_year(day: &str) -> String {
    let (year, month) = (&day[..4], &day[5..7]);
    if month >= "04" {
        year.to_owned()
    } else {
        year.parse::<i32>().map_or_else(|_| year.to_owned(), |year| format!("{:04}", year - 1))
    }
}

/// The names a batch counts under (services, dimensions, values, figures), each given a number once: a count's key
/// is then a few numbers, not five strings to allocate, hash and compare (which was most of the fold's time).
struct Names {
    numbers: FxHashMap<String, u32>,
    names: Vec<String>,
}

/// The number of `all` (the dimension and its one value); `DIMENSIONS[i]` is numbered `i + 1`.
const ALL: u32 = 0;

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
    fn number(&mut self, name: &str) -> u32 {
        if let Some(number) = self.numbers.get(name) {
            return *number;
        }
        let number = u32::try_from(self.names.len()).expect("fewer than 4 billion names in a batch");
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), number);
        number
    }

    fn name(&self, number: u32) -> &str {
        &self.names[number as usize]
    }
}

/// How a row of `reporting_cohort` or `reporting_ties` keeps its days: by day (`YYYY-MM-DD`), by month (`YYYY-MM`,
/// under [`monthly`] of the dimension) or by financial year (the year it begins in, under [`yearly`] of the
/// dimension).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Span {
    Day,
    Month,
    Year,
}

impl Span {
    /// The first day of the span holding `day`.
    fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Month => day.with_day(1).expect("every month has a first day"),
            Self::Year => crate::periods::financial_year_of(day).from,
        }
    }

    /// The dimension as stored for this span.
    fn dimension(self, dimension: &str) -> String {
        match self {
            Self::Day => dimension.to_owned(),
            Self::Month => monthly(dimension),
            Self::Year => yearly(dimension),
        }
    }

    /// A day as stored for this span (the span's [`Span::start`] written out).
    fn day(self, day: NaiveDate) -> String {
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
struct CountKey {
    service: u32,
    day: NaiveDate,
    span: Span,
    dimension: u32,
    value: u32,
    figure: u32,
}

impl CountKey {
    /// The row's key as stored: (service, day or `YYYY-MM`, dimension or `month:<dimension>`, value, figure).
    fn stored(&self, names: &Names) -> Key {
        let name = |number| names.name(number).to_owned();
        let dimension = self.span.dimension(names.name(self.dimension));
        (name(self.service), self.span.day(self.day), dimension, name(self.value), name(self.figure))
    }
}

/// A row of `reporting_ties` by day, its names numbered by [`Names`]: a tie between a person's consecutive units of
/// `service` with `value` of `dimension`, received on `prev` and on `day`. Each is counted by month and by
/// financial year too when written (see [`Fold::stored_ties`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct TieKey {
    service: u32,
    dimension: u32,
    value: u32,
    prev: NaiveDate,
    day: NaiveDate,
}

impl TieKey {
    /// The row's key as stored, for a tie whose days are already [`Span::start`]s of `span`.
    fn stored(&self, span: Span, names: &Names) -> Key {
        let name = |number| names.name(number).to_owned();
        let dimension = span.dimension(names.name(self.dimension));
        (name(self.service), dimension, name(self.value), span.day(self.prev), span.day(self.day))
    }
}

/// The batch's counts and units.
#[derive(Default)]
struct Fold {
    /// Counts by day; each is counted under its month too (under [`monthly`] of its dimension) when written.
    counts: FxHashMap<CountKey, i64>,
    names: Names,
    /// Ties between a person's consecutive units, by day.
    ties: FxHashMap<TieKey, i64>,
    units: FxHashMap<String, Unit>,
    /// Ids looked for and not stored: never received, as far as this projection knows.
    missing: FxHashSet<String>,
    /// Stored units per (service, person), as the batch began.
    histories: FxHashMap<(String, String), Vec<Sibling>>,
    /// Units received in this batch per (service, person).
    received: FxHashMap<(String, String), Vec<String>>,
}

/// Another unit of the same person and service, as [`Fold::link`] needs it.
#[derive(Clone)]
struct Sibling {
    id: String,
    received_at: String,
    received_day: String,
    values: Vec<String>,
}

/// Whether the person had another unit of the same service received in the 12 months before `at`.
fn repeat_in(history: &[Sibling], at: DateTime<Utc>) -> bool {
    let window = stamp(at.checked_sub_months(chrono::Months::new(12)).unwrap_or(at));
    let now = stamp(at);
    history.iter().any(|s| s.received_at >= window && s.received_at < now)
}

impl Fold {
    /// Counts `delta` of `figure` for the unit, under each of its dimensions' values, on the day it was received.
    /// Kept per unit until the batch is written: most of a batch's changes to a unit cancel out (it enters a state
    /// and leaves it), and each that is left is counted under twenty keys.
    fn add(&mut self, id: &str, figure: &str, delta: i64) {
        let figure = self.names.number(figure);
        let counts = &mut self.units.get_mut(id).expect("loaded").counts;
        match counts.iter_mut().find(|(f, _)| *f == figure) {
            Some((_, count)) => *count += delta,
            None => counts.push((figure, delta)),
        }
    }

    /// Spreads the units' counts over their dimensions.
    fn spread(&mut self) {
        for unit in self.units.values_mut() {
            let figures = std::mem::take(&mut unit.counts);
            if figures.is_empty() {
                continue;
            }
            let Ok(day) = unit.received_day.parse::<NaiveDate>() else { continue };
            let names = &mut self.names;
            let service = names.number(&unit.service);
            let mut pairs = [(ALL, ALL); DIMENSIONS.len() + 1];
            for (i, value) in unit.values.iter().enumerate() {
                pairs[i + 1] = (i as u32 + 1, names.number(value));
            }
            for (figure, delta) in figures.into_iter().filter(|(_, delta)| *delta != 0) {
                for &(dimension, value) in &pairs {
                    let key = CountKey { service, day, span: Span::Day, dimension, value, figure };
                    *self.counts.entry(key).or_default() += delta;
                }
            }
        }
    }

    /// Counts `figure` for the unit the first time it reaches it; false when it had already.
    fn reach(&mut self, id: &str, figure: &str) -> bool {
        let unit = self.units.get_mut(id).expect("loaded");
        if unit.stages.iter().any(|s| s == figure) {
            return false;
        }
        unit.stages.push(figure.to_owned());
        unit.changed = true;
        self.add(id, figure, 1);
        true
    }

    /// Counts a milestone of a case on the hub referral it came from, once (`onward_outcome.<service>.<milestone>`),
    /// when that referral is known here.
    fn onward(&mut self, case_id: &str, milestone: &str) {
        let case = &self.units[case_id];
        let Some(origin) = case.origin.clone() else { return };
        if !self.units.contains_key(&origin) {
            return;
        }
        let figure = format!("{}{}.{milestone}", stage::ONWARD_OUTCOME_PREFIX, case.service);
        self.reach(&origin, &figure);
    }

    /// Moves the unit to `state` on the day `on`.
    fn enter(&mut self, id: &str, state: &str, on: NaiveDate) {
        let unit = self.units.get_mut(id).expect("loaded");
        if unit.state == state {
            return;
        }
        let ends = |s: &str| s != state::OPEN && s != state::NOT_WORKED;
        let (was_ended, now_ended) = (ends(&unit.state), ends(state));
        let old = std::mem::replace(&mut unit.state, state.to_owned());
        unit.changed = true;
        self.add(id, &old, -1);
        self.add(id, state, 1);
        match (was_ended, now_ended) {
            (false, true) => self.caseload(id, on, CASELOAD_ENDED, 1),
            (true, false) => self.caseload(id, on, CASELOAD_ENDED, -1),
            _ => {}
        }
    }

    fn receive(&mut self, unit: Unit) {
        let (id, state, day) = (unit.id.clone(), unit.state.clone(), unit.received_day.clone());
        self.received.entry((unit.service.clone(), unit.person_id.clone())).or_default().push(id.clone());
        self.units.insert(id.clone(), unit);
        self.add(&id, stage::RECEIVED, 1);
        self.add(&id, &state, 1);
        if let Ok(day) = day.parse() {
            self.caseload(&id, day, CASELOAD_OPENED, 1);
        }
    }

    /// The caseload's running counts, on the day things happened (not the day received): units opened and ended
    /// per day, so the caseload open at the end of any day is a sum over the days before it. Under the dimension
    /// `caseload`, value `all` and, for units referred under 18, `under_18` too.
    fn caseload(&mut self, id: &str, on: NaiveDate, figure: &str, delta: i64) {
        let unit = &self.units[id];
        let child = unit.values[3] == "under_18";
        let names = &mut self.names;
        let (service, dimension, figure) = (names.number(&unit.service), names.number(CASELOAD), names.number(figure));
        for value in std::iter::once("all").chain(child.then_some("under_18")) {
            let key = CountKey { service, day: on, span: Span::Day, dimension, value: names.number(value), figure };
            *self.counts.entry(key).or_default() += delta;
        }
    }

    /// Makes sure the unit is in the batch; false when this projection never saw it received.
    async fn load(&mut self, tx: &mut AnyConnection, id: &str) -> sqlx::Result<bool> {
        if self.units.contains_key(id) {
            return Ok(true);
        }
        if self.missing.contains(id) {
            return Ok(false);
        }
        self.fetch_units(tx, &[id.to_owned()]).await?;
        Ok(self.units.contains_key(id))
    }

    /// Reads the stored units among `ids` into the batch; the rest are remembered as missing.
    async fn fetch_units(&mut self, tx: &mut AnyConnection, ids: &[String]) -> sqlx::Result<()> {
        let select = "SELECT id, service, person_id, received_day, received_at, source, offence, domestic_abuse, \
             age_band, gender, ethnic_group, bame, disability, repeat_victim, stages, state, clock_start, origin \
             FROM reporting_units WHERE id IN";
        for row in fetch_in(tx, select, ids).await? {
            let stages: String = row.get(14);
            let unit = Unit {
                id: row.get(0),
                service: row.get(1),
                person_id: row.get(2),
                received_day: row.get(3),
                received_at: row.get(4),
                values: (5..14).map(|i| row.get::<String, _>(i)).collect(),
                stages: stages.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                state: row.get(15),
                clock_start: row.get(16),
                origin: row.get(17),
                stored: true,
                changed: false,
                counts: Vec::new(),
            };
            self.units.entry(unit.id.clone()).or_insert(unit);
        }
        self.missing.extend(ids.iter().filter(|id| !self.units.contains_key(*id)).cloned());
        Ok(())
    }

    /// Reads the stored units of `people` (every service), for [`Fold::history`].
    async fn fetch_histories(&mut self, tx: &mut AnyConnection, people: &[(String, String)]) -> sqlx::Result<()> {
        for pair in people {
            self.histories.entry(pair.clone()).or_default();
        }
        let persons: Vec<String> = people
            .iter()
            .map(|(_, person)| person.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let select = "SELECT id, received_at, received_day, source, offence, domestic_abuse, age_band, gender, \
             ethnic_group, bame, disability, repeat_victim, service, person_id FROM reporting_units WHERE person_id IN";
        for row in fetch_in(tx, select, &persons).await? {
            let sibling = Sibling {
                id: row.get(0),
                received_at: row.get(1),
                received_day: row.get(2),
                values: (3..12).map(|i| row.get::<String, _>(i)).collect(),
            };
            self.histories.entry((row.get(12), row.get(13))).or_default().push(sibling);
        }
        Ok(())
    }

    /// The person's other units of the same service, stored or received earlier in this batch.
    async fn history(&mut self, tx: &mut AnyConnection, service: &str, person: &str) -> sqlx::Result<Vec<Sibling>> {
        let key = (service.to_owned(), person.to_owned());
        if !self.histories.contains_key(&key) {
            self.fetch_histories(tx, std::slice::from_ref(&key)).await?;
        }
        let mut history: Vec<Sibling> = self.histories[&key].clone();
        let received = self.received.get(&key).map(Vec::as_slice).unwrap_or_default();
        history.extend(received.iter().map(|id| &self.units[id]).map(|u| Sibling {
            id: u.id.clone(),
            received_at: u.received_at.clone(),
            received_day: u.received_day.clone(),
            values: u.values.clone(),
        }));
        Ok(history)
    }

    /// Links the unit into its person's chains: per dimension value (and for `all`), each unit of a person is tied
    /// to the one before it, so that the distinct victims of a period are its referrals minus the ties inside it.
    /// A unit received out of order takes its place in the chain: the one after it is tied to it instead.
    fn link(&mut self, id: &str, history: &[Sibling]) {
        let unit = &self.units[id];
        let Ok(day) = unit.received_day.parse::<NaiveDate>() else { return };
        let (names, ties) = (&mut self.names, &mut self.ties);
        let service = names.number(&unit.service);
        let me = (unit.received_at.as_str(), unit.id.as_str());
        fn order(s: &Sibling) -> (&str, &str) {
            (s.received_at.as_str(), s.id.as_str())
        }
        let received_on = |s: &Sibling| s.received_day.parse::<NaiveDate>().ok();
        for index in std::iter::once(None).chain((0..DIMENSIONS.len()).map(Some)) {
            let (dimension, value) = match index {
                None => (ALL, ALL),
                Some(i) => (i as u32 + 1, names.number(&unit.values[i])),
            };
            let same = history.iter().filter(|s| s.id != me.1 && index.is_none_or(|i| s.values[i] == unit.values[i]));
            let before = same.clone().filter(|s| order(s) < me).max_by_key(|s| order(s)).map(received_on);
            let after = same.filter(|s| order(s) > me).min_by_key(|s| order(s)).map(received_on);
            let mut tie = |prev: Option<NaiveDate>, next: Option<NaiveDate>, delta: i64| {
                if let (Some(prev), Some(day)) = (prev, next) {
                    *ties.entry(TieKey { service, dimension, value, prev, day }).or_default() += delta;
                }
            };
            if let Some(before) = before {
                tie(before, Some(day), 1);
            }
            if let Some(after) = after {
                if let Some(before) = before {
                    tie(before, after, -1);
                }
                tie(Some(day), after, 1);
            }
        }
    }

    /// The ties as stored: each by day, and added up by month and by financial year, without those that cancel out.
    fn stored_ties(&self) -> FxHashMap<Key, i64> {
        let mut spans: FxHashMap<(Span, TieKey), i64> = FxHashMap::default();
        for (tie, delta) in &self.ties {
            for span in [Span::Day, Span::Month, Span::Year] {
                let key = TieKey { prev: span.start(tie.prev), day: span.start(tie.day), ..*tie };
                *spans.entry((span, key)).or_default() += delta;
            }
        }
        spans
            .into_iter()
            .filter(|(_, delta)| *delta != 0)
            .map(|((span, tie), delta)| (tie.stored(span, &self.names), delta))
            .collect()
    }

    async fn write(mut self, tx: &mut AnyConnection) -> sqlx::Result<()> {
        self.spread();
        let mut units: Vec<&Unit> = self.units.values().filter(|u| u.changed || !u.stored).collect();
        units.sort_by(|a, b| a.id.cmp(&b.id));
        // Many rows a statement: new units inserted, changed ones given their stages and state.
        let row = |unit: &&Unit| {
            let mut row: Vec<Cell> = vec![
                unit.id.clone().into(),
                unit.service.clone().into(),
                unit.person_id.clone().into(),
                unit.received_day.clone().into(),
                unit.received_at.clone().into(),
            ];
            row.extend(unit.values.iter().map(|value| Cell::from(value.clone())));
            row.extend([
                unit.stages.join(",").into(),
                unit.state.clone().into(),
                unit.clock_start.clone().into(),
                unit.origin.clone().into(),
            ]);
            row
        };
        // The unit's own columns, its dimensions' values (a column each, named as the dimension), then its progress.
        let columns: Vec<&str> = ["id", "service", "person_id", "received_day", "received_at"]
            .into_iter()
            .chain(DIMENSIONS)
            .chain(["stages", "state", "clock_start", "origin"])
            .collect();
        // A unit the fold did not read was never stored ([`Fold::load`] looks for it before receiving it).
        let mut rows = Rows::default();
        for unit in &units {
            rows.push(!unit.stored, row(unit));
        }
        rows.write(tx, "reporting_units", &columns, OnConflict::Update(&["id"], &["stages", "state"])).await?;
        let ties = ["service", "dimension", "value", "prev_day", "day"];
        let stored = self.stored_ties();
        add_counts(tx, "reporting_ties", ties, ["dimension", "prev_day", "day", "service", "value"], stored).await?;
        let counts = ["service", "day", "dimension", "value", "figure"];
        // Each day's count goes to its month's too, added up here: once per key, not once per change.
        let mut months: FxHashMap<CountKey, i64> = FxHashMap::default();
        for (key, delta) in &self.counts {
            let month = CountKey { day: Span::Month.start(key.day), span: Span::Month, ..*key };
            *months.entry(month).or_default() += delta;
        }
        let names = &self.names;
        let deltas = self.counts.iter().chain(&months).map(|(key, delta)| (key.stored(names), *delta)).collect();
        add_counts(tx, "reporting_cohort", counts, ["dimension", "day", "service", "value", "figure"], deltas).await?;
        Ok(())
    }
}

/// Adds each delta to its row of `table` (the five `columns` of the key, then `count`), making the row if missing.
async fn add_counts(
    tx: &mut AnyConnection,
    table: &str,
    columns: [&str; 5],
    key: [&str; 5],
    deltas: FxHashMap<Key, i64>,
) -> sqlx::Result<()> {
    let [a, b, c, d, e] = columns;
    let mut rows: Vec<Vec<Cell>> = deltas
        .into_iter()
        .filter(|(_, delta)| *delta != 0)
        .map(|((a, b, c, d, e), delta)| vec![a.into(), b.into(), c.into(), d.into(), e.into(), delta.into()])
        .collect();
    // In the primary key's order: the same statements for the same batch, and the index filled in order (about a
    // quarter faster on PostgreSQL than in hash order).
    let order: Vec<usize> = key.iter().map(|k| columns.iter().position(|c| c == k).expect("a key column")).collect();
    rows.sort_unstable_by(|x, y| order.iter().map(|&i| x[i].cmp(&y[i])).find(|o| o.is_ne()).unwrap_or(Ordering::Equal));
    write_rows(tx, table, &[a, b, c, d, e, "count"], OnConflict::Add(&key, "count"), &rows).await
}

/// A moment as stored: fixed width, so that text order is time order.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The day in England and Wales of a moment.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// The BAME roll-up: Black, Asian and minority ethnic are the census groups other than White; not stated stays
/// apart.
fn bame(group: Option<CensusGroup>) -> &'static str {
    match group {
        Some(CensusGroup::White) => "white",
        None | Some(CensusGroup::NotStated) => "not_stated",
        Some(_) => "bame",
    }
}

/// The profile's dimension values after source, offence and domestic abuse (see [`DIMENSIONS`]).
fn profile_values(profile: &VictimProfile) -> [String; 5] {
    let group = profile.ethnicity.as_ref().map(|e| e.census_group());
    [
        profile.age_band.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
        code(&profile.gender),
        group.as_ref().map_or_else(|| "not_stated".to_owned(), code),
        bame(group).to_owned(),
        code(&profile.disability),
    ]
}

#[async_trait::async_trait]
impl Projection for Cohort {
    fn name(&self) -> &'static str {
        "reporting.cohort"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reporting_units", "reporting_cohort", "reporting_ties"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        let (hubs, specialists) = (batch.decoded::<HubEvent>().await?, batch.decoded::<SpecialistEvent>().await?);
        let mut decoded = Vec::new();
        for (((_, envelope), hub), specialist) in batch.events().zip(hubs).zip(specialists) {
            if let Some(event) = hub {
                decoded.push((Event::Hub(event), envelope.occurred_at));
            } else if let Some(event) = specialist {
                decoded.push((Event::Specialist(event), envelope.occurred_at));
            }
        }
        // Every unit and every person's history the batch needs, read in a few statements. Not read: the
        // referrals and cases the batch receives (stored by none before it), and in a rebuild, the units and
        // people it never stored.
        let mut fold = Fold::default();
        let mut needs = Needs::default();
        for (event, _) in &decoded {
            event.needs(&mut needs);
        }
        let begun = batch.begun();
        let (ids, unstored): (Vec<Uuid>, Vec<Uuid>) =
            needs.ids.iter().partition(|id| !begun.contains(id) && known.may_have(UNIT, **id));
        fold.missing.extend(unstored.iter().map(ToString::to_string));
        fold.fetch_units(tx, &ids.iter().map(ToString::to_string).collect::<Vec<_>>()).await?;
        // The hub referrals the batch's cases came from, for what became of the onward referrals.
        let origins: Vec<String> = fold
            .units
            .values()
            .filter_map(|unit| unit.origin.clone())
            .filter(|origin| !fold.units.contains_key(origin) && !fold.missing.contains(origin))
            .collect();
        fold.fetch_units(tx, &origins).await?;
        let (people, strangers): (Vec<_>, Vec<_>) =
            needs.people.iter().partition(|(_, person)| known.may_have(PERSON, *person));
        let key = |(service, person): &(&str, Uuid)| ((*service).to_owned(), person.to_string());
        fold.histories.extend(strangers.into_iter().map(|pair| (key(pair), Vec::new())));
        let people: Vec<(String, String)> = people.into_iter().map(key).collect();
        fold.fetch_histories(tx, &people).await?;
        for (event, at) in decoded {
            match event {
                Event::Hub(event) => hub(tx, &mut fold, event, at).await?,
                Event::Specialist(event) => specialist(tx, &mut fold, event, at).await?,
            }
        }
        fold.write(tx).await?;
        for id in needs.received {
            known.store(UNIT, id);
        }
        for (_, person) in needs.people {
            known.store(PERSON, person);
        }
        Ok(())
    }
}

/// What a rebuild notes it has stored ([`Known`]): units, and people with units.
const UNIT: &str = "unit";
const PERSON: &str = "person";

/// An event this projection counts.
enum Event<'e> {
    Hub(&'e HubEvent),
    Specialist(&'e SpecialistEvent),
}

/// What folding a batch reads.
#[derive(Default)]
struct Needs<'e> {
    /// The units (ids) its events are about.
    ids: FxHashSet<Uuid>,
    /// The units it receives.
    received: Vec<Uuid>,
    /// The people whose histories it reads: (service, person).
    people: FxHashSet<(&'e str, Uuid)>,
}

impl<'e> Event<'e> {
    fn needs(&self, needs: &mut Needs<'e>) {
        match *self {
            Self::Hub(HubEvent::ReferralReceived(e)) => {
                needs.ids.insert(e.referral_id.0);
                needs.received.push(e.referral_id.0);
                needs.people.insert(("hub", e.person_id.0));
            }
            Self::Hub(event) => needs.ids.extend(referral_of(event).map(|id| id.0)),
            Self::Specialist(SpecialistEvent::CaseOpened(e)) => {
                needs.ids.insert(e.case_id.0);
                needs.received.push(e.case_id.0);
                if let CaseOrigin::Hub { referral_id, .. } = &e.origin {
                    needs.ids.insert(referral_id.0);
                }
                needs.people.insert((e.service.as_str(), e.person_id.0));
            }
            Self::Specialist(event) => drop(needs.ids.insert(crate::pathway::case_of(event).0)),
        }
    }
}

/// The referral a hub event changes where it stands, if it does.
fn referral_of(event: &HubEvent) -> Option<casetrack_proto::ReferralId> {
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
        | E::NeedsAssessed(_)
        | E::SupportSessionRecorded(_) => return None,
    })
}

async fn hub(tx: &mut AnyConnection, fold: &mut Fold, event: &HubEvent, at: DateTime<Utc>) -> sqlx::Result<()> {
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
            if e.outcome.reached() {
                fold.reach(&id, stage::CONTACTED);
            }
            // A referral first recorded as not to be worked is worked from its first attempt.
            if fold.units[&id].state == state::NOT_WORKED {
                fold.enter(&id, state::OPEN, day_of(at));
            }
        }
        E::SupportAccepted(_) => {
            fold.reach(&id, stage::SUPPORTED);
        }
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

/// The first attempt's timing: days from the clock's start, and whether it met the Victims' Code deadline.
fn first_attempt(fold: &mut Fold, id: &str, attempted_on: NaiveDate) {
    let Some(start) = fold.units[id].clock_start.as_deref().and_then(|d| d.parse::<NaiveDate>().ok()) else {
        return;
    };
    let days = (attempted_on - start).num_days().clamp(0, stage::FIRST_ATTEMPT_DAYS_CAP);
    fold.add(id, &format!("{}{days}", stage::FIRST_ATTEMPT_DAYS_PREFIX), 1);
    if attempted_on <= working_days_after(start, FIRST_CONTACT_WORKING_DAYS) {
        fold.add(id, stage::FIRST_ATTEMPT_ON_TIME, 1);
    }
}

async fn specialist(
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
                    NOT_KNOWN.into(),
                    yes_no(e.domestic_abuse),
                    e.age_band.as_ref().map_or_else(|| NOT_KNOWN.to_owned(), code),
                    "unknown".into(),
                    "not_stated".into(),
                    "not_stated".into(),
                    "unknown".into(),
                    String::new(),
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
        return Ok(());
    }
    let id = crate::pathway::case_of(event).to_string();
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
            if e.outcome.reached() {
                fold.reach(&id, stage::CONTACTED);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, day: &str) -> Unit {
        Unit {
            id: id.into(),
            service: "hub".into(),
            person_id: "p".into(),
            received_day: day.into(),
            received_at: format!("{day}T10:00:00.000000Z"),
            values: vec!["x".into(); DIMENSIONS.len()],
            stages: Vec::new(),
            state: state::OPEN.into(),
            clock_start: None,
            origin: None,
            stored: false,
            changed: true,
            counts: Vec::new(),
        }
    }

    #[test]
    fn what_became_of_an_onward_referral_counts_once_on_the_referral() {
        let mut fold = Fold::default();
        fold.receive(unit("r", "2026-05-01"));
        let mut case = unit("c", "2026-05-03");
        (case.service, case.origin) = ("idva".into(), Some("r".into()));
        fold.receive(case);
        let mut direct = unit("d", "2026-05-03");
        (direct.service, direct.origin) = ("idva".into(), None);
        fold.receive(direct);
        let mut orphan = unit("o", "2026-05-03");
        (orphan.service, orphan.origin) = ("idva".into(), Some("never-received".into()));
        fold.receive(orphan);
        for (case, milestone) in
            [("c", "accepted"), ("c", "accepted"), ("c", "closed"), ("d", "closed"), ("o", "closed")]
        {
            fold.onward(case, milestone);
        }
        let of = |id: &str, figure: &str| {
            let figure = fold.names.numbers.get(figure)?;
            fold.units.get(id)?.counts.iter().find(|(f, _)| f == figure).map(|(_, count)| *count)
        };
        assert_eq!(of("r", "onward_outcome.idva.accepted"), Some(1), "once, however often");
        assert_eq!(of("r", "onward_outcome.idva.closed"), Some(1));
        assert_eq!(of("c", "onward_outcome.idva.closed"), None, "counted on the referral, not the case");
        let figures = fold.units.values().flat_map(|unit| unit.counts.iter().map(|(figure, _)| figure));
        let onward = figures.filter(|figure| fold.names.name(**figure).starts_with("onward_outcome.")).count();
        assert_eq!(onward, 2, "a direct case, and one whose referral was never received here, count nowhere");
    }

    fn sibling(unit: &Unit) -> Sibling {
        Sibling {
            id: unit.id.clone(),
            received_at: unit.received_at.clone(),
            received_day: unit.received_day.clone(),
            values: unit.values.clone(),
        }
    }

    /// The ties of dimension `all` by day, without zeros.
    fn ties(fold: &Fold) -> Vec<(String, String, i64)> {
        fold.stored_ties()
            .iter()
            .filter(|((_, dimension, ..), n)| dimension == "all" && **n != 0)
            .map(|((_, _, _, prev, day), n)| (prev.clone(), day.clone(), *n))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    #[test]
    fn a_unit_received_out_of_order_takes_its_place_in_the_chain() {
        let mut fold = Fold::default();
        let (a, c, b) = (unit("a", "2026-05-10"), unit("c", "2026-05-30"), unit("b", "2026-05-20"));
        fold.receive(a.clone());
        fold.link("a", &[]);
        fold.receive(c.clone());
        fold.link("c", &[sibling(&a)]);
        assert_eq!(ties(&fold), [("2026-05-10".to_owned(), "2026-05-30".to_owned(), 1)]);
        fold.receive(b);
        fold.link("b", &[sibling(&a), sibling(&c)]);
        // a - b - c: two ties, so the period holding all three counts one victim.
        assert_eq!(
            ties(&fold),
            [
                ("2026-05-10".to_owned(), "2026-05-20".to_owned(), 1),
                ("2026-05-20".to_owned(), "2026-05-30".to_owned(), 1)
            ]
        );
        let stored = fold.stored_ties();
        let monthly: i64 = stored.iter().filter(|((_, d, ..), _)| d == "month:all").map(|(_, n)| n).sum();
        assert_eq!(monthly, 2, "the same ties by month");
        let yearly: Vec<_> = stored
            .iter()
            .filter(|((_, d, ..), n)| d == "fy:all" && **n != 0)
            .map(|((.., p, d), n)| (p, d, n))
            .collect();
        assert_eq!(yearly, [(&"2026".to_owned(), &"2026".to_owned(), &2)], "and by financial year");
    }

    #[test]
    fn a_financial_year_runs_april_to_march() {
        assert_eq!(super::financial_year("2026-03-31"), "2025");
        assert_eq!(super::financial_year("2026-04-01"), "2026");
        assert_eq!(super::financial_year("2026-12-31"), "2026");
        assert_eq!(super::financial_year("2000-01-15"), "1999");
    }
}
