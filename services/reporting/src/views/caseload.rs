//! The caseload of a period, per service: open at its start and at its end, and the cases supported during it
//! (open at some point in it: carried in, or new), each split adults / under-18s. All read from the cohort's
//! running counts (`reporting_cohort`, pseudo-dimension `caseload`: units opened and ended per day, for `all` and
//! `under_18`), so every figure here agrees with the others and with `referrals_received`. Counting rules:
//! `docs/metrics.md`, "Caseload".

use std::collections::BTreeMap;

use casetrack_web::Context;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

use super::spans::{SPAN, as_strs, rows, span};
use crate::projections::cohort::{CASELOAD, CASELOAD_OPENED};
use crate::suppression::{Shown, part_of, suppress};

/// The caseload of the period. "Open" means received and not yet ended (closed, declined, unable to contact,
/// returned to the referrer, declined by the service, withdrawn); a case re-opened is open again from the day it
/// was re-opened. Adults are the units not referred under 18, those whose age was not recorded included.
#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct Caseload {
    /// Open at the start of the period's first day: received before it and not ended before it.
    #[schema(value_type = i64)]
    pub open_at_start: Value,
    #[schema(value_type = i64)]
    pub open_at_start_under_18: Value,
    /// Open at the end of the period's last day: received by it and not ended by then.
    #[schema(value_type = i64)]
    pub open_at_end: Value,
    #[schema(value_type = i64)]
    pub open_at_end_under_18: Value,
    /// Supported during the period (open at some point in it): `carried_in + new`.
    #[schema(value_type = i64)]
    pub supported: Value,
    #[schema(value_type = i64)]
    pub supported_adults: Value,
    #[schema(value_type = i64)]
    pub supported_under_18: Value,
    /// Carried in: open at the start of the period (the same units as `open_at_start`).
    #[schema(value_type = i64)]
    pub carried_in: Value,
    #[schema(value_type = i64)]
    pub carried_in_adults: Value,
    #[schema(value_type = i64)]
    pub carried_in_under_18: Value,
    /// New: received in the period (the same units as `referrals_received`).
    #[schema(value_type = i64)]
    pub new: Value,
    #[schema(value_type = i64)]
    pub new_adults: Value,
    #[schema(value_type = i64)]
    pub new_under_18: Value,
}

/// One service's caseload counts as read: each (all units, of them under 18).
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub start: (i64, i64),
    pub new: (i64, i64),
    pub end: (i64, i64),
}

/// The first day the running counts are summed from (the caseload of a day is a sum over every day before it).
fn since(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date").min(day)
}

/// Reads the caseload counts of every service (or `only` one) for the period `from` to `to`.
pub async fn read(
    ctx: &Context,
    from: NaiveDate,
    to: NaiveDate,
    only: Option<&str>,
) -> Result<BTreeMap<String, Counts>, ApiError> {
    let mut services: BTreeMap<String, Counts> = BTreeMap::new();
    // Open at the end of a day: opened minus ended, on every day up to it.
    let open = format!(
        "SELECT service, value, CAST(SUM(CASE WHEN figure = 'opened' THEN count ELSE -count END) AS BIGINT) \
         FROM reporting_cohort WHERE {SPAN} {{service}} GROUP BY service, value"
    );
    let split = |value: &str, count: i64, pair: &mut (i64, i64)| {
        if value == "under_18" { pair.1 = count } else { pair.0 = count }
    };
    for row in rows(ctx, &open, &as_strs(&span(CASELOAD, since(to), to)), only).await? {
        let value: String = row.get(1);
        split(&value, row.get(2), &mut services.entry(row.get(0)).or_default().end);
    }
    // Open at the start: open at the end of the day before the first.
    let before = from.pred_opt().unwrap_or(from);
    for row in rows(ctx, &open, &as_strs(&span(CASELOAD, since(before), before)), only).await? {
        let value: String = row.get(1);
        split(&value, row.get(2), &mut services.entry(row.get(0)).or_default().start);
    }
    // New: opened on a day of the period.
    let opened = format!(
        "SELECT service, value, CAST(SUM(count) AS BIGINT) FROM reporting_cohort WHERE {SPAN} \
         AND figure = '{CASELOAD_OPENED}' {{service}} GROUP BY service, value"
    );
    for row in rows(ctx, &opened, &as_strs(&span(CASELOAD, from, to)), only).await? {
        let value: String = row.get(1);
        split(&value, row.get(2), &mut services.entry(row.get(0)).or_default().new);
    }
    Ok(services)
}

impl From<Counts> for Caseload {
    fn from(counts: Counts) -> Self {
        let adults = |(all, under_18): (i64, i64)| Value::from(all - under_18);
        let supported = (counts.start.0 + counts.new.0, counts.start.1 + counts.new.1);
        Self {
            open_at_start: counts.start.0.into(),
            open_at_start_under_18: counts.start.1.into(),
            open_at_end: counts.end.0.into(),
            open_at_end_under_18: counts.end.1.into(),
            supported: supported.0.into(),
            supported_adults: adults(supported),
            supported_under_18: supported.1.into(),
            carried_in: counts.start.0.into(),
            carried_in_adults: adults(counts.start),
            carried_in_under_18: counts.start.1.into(),
            new: counts.new.0.into(),
            new_adults: adults(counts.new),
            new_under_18: counts.new.1.into(),
        }
    }
}

fn count_of(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

fn text(shown: Shown, threshold: u64) -> Value {
    match shown {
        Shown::Count(n) => Value::from(n),
        other => Value::from(other.text(threshold)),
    }
}

/// Suppresses the caseload for publication. The end is a part of a whole (under 18 of those open), as before.
/// Supported is a table: carried in and new by adults and under-18s, with its row totals (`carried_in`, `new`),
/// column totals (`supported_adults`, `supported_under_18`) and grand total (`supported`); the start is the
/// carried-in row again, shown as it is. `new` is the funnel's `referrals_received`, published as `received`: when
/// the funnel hid it (to protect a small count of a breakdown), the new row and the supported totals are hidden
/// too; when the funnel shows it and the table would have hidden it, the table is hidden whole (an adversary would
/// know the total the table's audit took as hidden).
pub fn publish(caseload: &mut Caseload, threshold: u64, received: &Value) {
    let (under_18, open) =
        part_of(count_of(&caseload.open_at_end_under_18), count_of(&caseload.open_at_end), threshold);
    (caseload.open_at_end_under_18, caseload.open_at_end) = (text(under_18, threshold), text(open, threshold));
    let cells = [
        vec![count_of(&caseload.carried_in_adults), count_of(&caseload.carried_in_under_18)],
        vec![count_of(&caseload.new_adults), count_of(&caseload.new_under_18)],
    ];
    let table = suppress(&cells, threshold);
    let shown = |s: Shown| text(s, threshold);
    caseload.carried_in_adults = shown(table.cells[0][0]);
    caseload.carried_in_under_18 = shown(table.cells[0][1]);
    caseload.carried_in = shown(table.row_totals[0]);
    caseload.new_adults = shown(table.cells[1][0]);
    caseload.new_under_18 = shown(table.cells[1][1]);
    caseload.new = shown(table.row_totals[1]);
    caseload.supported_adults = shown(table.column_totals[0]);
    caseload.supported_under_18 = shown(table.column_totals[1]);
    caseload.supported = shown(table.total);
    let hidden = || Value::from(Shown::Hidden.text(threshold));
    let new_shown = matches!(table.row_totals[1], Shown::Count(_));
    if received.is_string() && received != &caseload.new {
        for value in [&mut caseload.new, &mut caseload.new_adults, &mut caseload.new_under_18] {
            *value = hidden();
        }
        for value in [&mut caseload.supported, &mut caseload.supported_adults, &mut caseload.supported_under_18] {
            *value = hidden();
        }
    } else if received.is_number() && !new_shown {
        for value in [
            &mut caseload.new,
            &mut caseload.new_adults,
            &mut caseload.new_under_18,
            &mut caseload.supported,
            &mut caseload.supported_adults,
            &mut caseload.supported_under_18,
            &mut caseload.carried_in,
            &mut caseload.carried_in_adults,
            &mut caseload.carried_in_under_18,
        ] {
            *value = hidden();
        }
    }
    caseload.open_at_start = caseload.carried_in.clone();
    caseload.open_at_start_under_18 = caseload.carried_in_under_18.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_is_carried_in_and_new_each_split_by_age() {
        let caseload = Caseload::from(Counts { start: (7, 2), new: (9, 1), end: (10, 3) });
        let json = serde_json::to_value(&caseload).unwrap();
        let expected = serde_json::json!({
            "open_at_start": 7, "open_at_start_under_18": 2, "open_at_end": 10, "open_at_end_under_18": 3,
            "supported": 16, "supported_adults": 13, "supported_under_18": 3,
            "carried_in": 7, "carried_in_adults": 5, "carried_in_under_18": 2,
            "new": 9, "new_adults": 8, "new_under_18": 1,
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn published_the_supported_table_hides_what_would_give_a_small_count_away() {
        let mut caseload = Caseload::from(Counts { start: (12, 2), new: (30, 10), end: (20, 6) });
        publish(&mut caseload, 5, &40.into());
        let json = serde_json::to_value(&caseload).unwrap();
        // Two carried-in children: hidden, and with them enough that neither they nor the adults carried in can be
        // worked out from the totals.
        assert_eq!(json["carried_in_under_18"], "<5");
        assert_ne!(json["carried_in_adults"], 10, "{json}");
        assert_eq!(json["open_at_start"], json["carried_in"]);
        assert_eq!(json["open_at_start_under_18"], "<5");
        assert_eq!((json["open_at_end"].clone(), json["open_at_end_under_18"].clone()), (20.into(), 6.into()));
        // Nothing hidden when nothing is small.
        let mut large = Caseload::from(Counts { start: (12, 6), new: (30, 10), end: (20, 6) });
        publish(&mut large, 5, &40.into());
        assert_eq!(
            serde_json::to_value(&large).unwrap(),
            serde_json::to_value(Caseload::from(Counts { start: (12, 6), new: (30, 10), end: (20, 6) })).unwrap()
        );
        // The funnel hid the referrals received (the new cases): the new row and the supported totals go with it.
        let mut hidden = Caseload::from(Counts { start: (12, 6), new: (30, 10), end: (20, 6) });
        publish(&mut hidden, 5, &"[c]".into());
        let json = serde_json::to_value(&hidden).unwrap();
        for figure in ["new", "new_adults", "new_under_18", "supported", "supported_adults", "supported_under_18"] {
            assert_eq!(json[figure], "[c]", "{figure}: {json}");
        }
        assert_eq!((json["carried_in"].clone(), json["open_at_start_under_18"].clone()), (12.into(), 6.into()));
    }
}
