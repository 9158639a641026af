//! The fold: a batch's units and counts in memory, as its events change them (stages reached, states entered, the
//! caseload's running counts, the ties between a person's units). Reading and writing rows is in `store`.

use chrono::NaiveDate;
use rustc_hash::{FxHashMap, FxHashSet};

use super::keys::{ALL, CountKey, Key, Names, Sibling, Span, TieKey, Unit};
use super::names::{CASELOAD, CASELOAD_ENDED, CASELOAD_OPENED, DIMENSIONS, stage, state};

/// The batch's counts and units.
#[derive(Default)]
pub(super) struct Fold {
    /// Counts by day; each is counted under its month too (under [`monthly`] of its dimension) when written.
    pub(super) counts: FxHashMap<CountKey, i64>,
    pub(super) names: Names,
    /// Ties between a person's consecutive units, by day.
    pub(super) ties: FxHashMap<TieKey, i64>,
    pub(super) units: FxHashMap<String, Unit>,
    /// Ids looked for and not stored: never received, as far as this projection knows.
    pub(super) missing: FxHashSet<String>,
    /// Stored units per (service, person), as the batch began.
    pub(super) histories: FxHashMap<(String, String), Vec<Sibling>>,
    /// Units received in this batch per (service, person).
    pub(super) received: FxHashMap<(String, String), Vec<String>>,
}

impl Fold {
    /// Counts `delta` of `figure` for the unit, under each of its dimensions' values, on the day it was received.
    /// Kept per unit until the batch is written: most of a batch's changes to a unit cancel out (it enters a state
    /// and leaves it), and each that is left is counted under twenty keys.
    pub(super) fn add(&mut self, id: &str, figure: &str, delta: i64) {
        let figure = self.names.number(figure);
        let counts = &mut self.units.get_mut(id).expect("loaded").counts;
        match counts.iter_mut().find(|(f, _)| *f == figure) {
            Some((_, count)) => *count += delta,
            None => counts.push((figure, delta)),
        }
    }

    /// Spreads the units' counts over their dimensions.
    pub(super) fn spread(&mut self) {
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
    pub(super) fn reach(&mut self, id: &str, figure: &str) -> bool {
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
    pub(super) fn onward(&mut self, case_id: &str, milestone: &str) {
        let case = &self.units[case_id];
        let Some(origin) = case.origin.clone() else { return };
        if !self.units.contains_key(&origin) {
            return;
        }
        let figure = format!("{}{}.{milestone}", stage::ONWARD_OUTCOME_PREFIX, case.service);
        self.reach(&origin, &figure);
    }

    /// Moves the unit to `state` on the day `on`.
    pub(super) fn enter(&mut self, id: &str, state: &str, on: NaiveDate) {
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

    pub(super) fn receive(&mut self, unit: Unit) {
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
    pub(super) fn caseload(&mut self, id: &str, on: NaiveDate, figure: &str, delta: i64) {
        let unit = &self.units[id];
        let child = unit.values[3] == "under_18";
        let names = &mut self.names;
        let (service, dimension, figure) = (names.number(&unit.service), names.number(CASELOAD), names.number(figure));
        for value in std::iter::once("all").chain(child.then_some("under_18")) {
            let key = CountKey { service, day: on, span: Span::Day, dimension, value: names.number(value), figure };
            *self.counts.entry(key).or_default() += delta;
        }
    }

    /// Links the unit into its person's chains: per dimension value (and for `all`), each unit of a person is tied
    /// to the one before it, so that the distinct victims of a period are its referrals minus the ties inside it.
    /// A unit received out of order takes its place in the chain: the one after it is tied to it instead.
    pub(super) fn link(&mut self, id: &str, history: &[Sibling]) {
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
    pub(super) fn stored_ties(&self) -> FxHashMap<Key, i64> {
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
}
