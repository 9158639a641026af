//! How many nationalities the victims of a period hold, per service: the number of different countries (ISO
//! 3166-1 codes) among the referrals or cases received in the period whose nationality was given. Read from the
//! cohort's nationality counts, so a rebuild gives the same figure.

use std::collections::BTreeMap;

use casetrack_web::Context;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use sqlx::Row as _;

use super::spans::{SPAN, as_strs, rows, span};
use crate::projections::cohort::stage;

/// Per service (`hub`, `idva`, ...): the distinct nationalities among the units received from `from` to `to`.
pub async fn distinct(
    ctx: &Context,
    from: NaiveDate,
    to: NaiveDate,
    service: Option<&str>,
) -> Result<BTreeMap<String, i64>, ApiError> {
    // A nationality counts when at least one unit received in the period holds it; `not_known` is not one.
    let sql = format!(
        "SELECT service, CAST(COUNT(*) AS BIGINT) FROM (SELECT service, value FROM reporting_cohort \
         WHERE {SPAN} {{service}} AND figure = '{received}' AND value <> 'not_known' \
         GROUP BY service, value HAVING SUM(count) > 0) AS held GROUP BY service",
        received = stage::RECEIVED
    );
    let binds = span("nationality", from, to);
    let mut distinct = BTreeMap::new();
    for row in rows(ctx, &sql, &as_strs(&binds), service).await? {
        distinct.insert(row.get::<String, _>(0), row.get::<i64, _>(1));
    }
    Ok(distinct)
}
