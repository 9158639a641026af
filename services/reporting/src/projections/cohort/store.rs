//! Reading and writing the cohort's rows: the units a batch touches and their people's histories, read up front a
//! few hundred keys a statement; the changed units and the counts and ties, written back many a statement.

use std::cmp::Ordering;

use casetrack_eventstore::db::{Cell, OnConflict, Rows, fetch_in};
use casetrack_eventstore::projection::Known;
use rustc_hash::FxHashMap;
use sqlx::{AnyConnection, Row};

use super::fold::Fold;
use super::keys::{CountKey, Key, Sibling, Span, Unit};
use super::names::DIMENSIONS;

impl Fold {
    /// Makes sure the unit is in the batch; false when this projection never saw it received.
    pub(super) async fn load(&mut self, tx: &mut AnyConnection, id: &str) -> sqlx::Result<bool> {
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
    pub(super) async fn fetch_units(&mut self, tx: &mut AnyConnection, ids: &[String]) -> sqlx::Result<()> {
        let select = "SELECT id, service, person_id, received_day, received_at, source, offence, domestic_abuse, \
             age_band, gender, ethnic_group, bame, disability, repeat_victim, nationality, stages, state, clock_start, \
             origin FROM reporting_units WHERE id IN";
        for row in fetch_in(tx, select, ids).await? {
            let stages: String = row.get(15);
            let unit = Unit {
                id: row.get(0),
                service: row.get(1),
                person_id: row.get(2),
                received_day: row.get(3),
                received_at: row.get(4),
                values: (5..15).map(|i| row.get::<String, _>(i)).collect(),
                stages: stages.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                state: row.get(16),
                clock_start: row.get(17),
                origin: row.get(18),
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
    pub(super) async fn fetch_histories(
        &mut self,
        tx: &mut AnyConnection,
        people: &[(String, String)],
    ) -> sqlx::Result<()> {
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
             ethnic_group, bame, disability, repeat_victim, nationality, service, person_id FROM reporting_units \
             WHERE person_id IN";
        for row in fetch_in(tx, select, &persons).await? {
            let sibling = Sibling {
                id: row.get(0),
                received_at: row.get(1),
                received_day: row.get(2),
                values: (3..13).map(|i| row.get::<String, _>(i)).collect(),
            };
            self.histories.entry((row.get(13), row.get(14))).or_default().push(sibling);
        }
        Ok(())
    }

    /// The person's other units of the same service, stored or received earlier in this batch.
    pub(super) async fn history(
        &mut self,
        tx: &mut AnyConnection,
        service: &str,
        person: &str,
    ) -> sqlx::Result<Vec<Sibling>> {
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

    pub(super) async fn write(mut self, tx: &mut AnyConnection, known: &mut Known) -> sqlx::Result<()> {
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
        let key = ["dimension", "prev_day", "day", "service", "value"];
        add_counts(tx, known, "reporting_ties", ties, key, stored).await?;
        let counts = ["service", "day", "dimension", "value", "figure"];
        // Each day's count goes to its month's too, added up here: once per key, not once per change.
        let mut months: FxHashMap<CountKey, i64> = FxHashMap::default();
        for (key, delta) in &self.counts {
            let month = CountKey { day: Span::Month.start(key.day), span: Span::Month, ..*key };
            *months.entry(month).or_default() += delta;
        }
        let names = &self.names;
        let deltas = self.counts.iter().chain(&months).map(|(key, delta)| (key.stored(names), *delta)).collect();
        let key = ["dimension", "day", "service", "value", "figure"];
        add_counts(tx, known, "reporting_cohort", counts, key, deltas).await?;
        Ok(())
    }
}

/// Adds each delta to its row of `table` (the five `columns` of the key, then `count`), making the row if missing.
/// A row `known` never to have been stored is inserted: in a rebuild most are, at about half the database's work
/// of an insert that must look for a row to add to.
pub(super) async fn add_counts(
    tx: &mut AnyConnection,
    known: &mut Known,
    table: &'static str,
    columns: [&str; 5],
    key: [&str; 5],
    deltas: FxHashMap<Key, i64>,
) -> sqlx::Result<()> {
    let [a, b, c, d, e] = columns;
    let mut rows: Vec<(bool, Vec<Cell>)> = Vec::new();
    for (stored, delta) in deltas.into_iter().filter(|(_, delta)| *delta != 0) {
        let new = !known.store_key(table, &stored);
        let (a, b, c, d, e) = stored;
        rows.push((new, vec![a.into(), b.into(), c.into(), d.into(), e.into(), delta.into()]));
    }
    // In the primary key's order: the same statements for the same batch, and the index filled in order (about a
    // quarter faster on PostgreSQL than in hash order).
    let order: Vec<usize> = key.iter().map(|k| columns.iter().position(|c| c == k).expect("a key column")).collect();
    rows.sort_unstable_by(|(_, x), (_, y)| {
        order.iter().map(|&i| x[i].cmp(&y[i])).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    });
    let mut split = Rows::default();
    for (new, row) in rows {
        split.push(new, row);
    }
    split.write(tx, table, &[a, b, c, d, e, "count"], OnConflict::Add(&key, "count")).await
}
