//! The units (referrals or cases) behind one figure of the cohort, as the drill-down lists them.

use casetrack_web::Context;

use crate::projections::cohort::{stage, state};
use crate::views::report::Request;

/// Of `service`'s units received in the request's period, those counted in `figure` (`referrals_received`, a stage
/// or a state), and with `by`, only those of `value`: (id, day received, state now), by day and id, at most
/// `limit`. `request.by` is one of the dimensions (checked when the request was made), each a column of
/// `reporting_units`.
pub async fn behind(
    ctx: &Context,
    service: &str,
    request: &Request,
    figure: &str,
    value: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, String, String)>> {
    let condition = if figure == stage::RECEIVED {
        "$4 = $4"
    } else if state::ALL.contains(&figure) {
        "state = $4"
    } else {
        "(',' || stages || ',') LIKE ('%,' || $4 || ',%')"
    };
    let by_condition = match &request.by {
        Some(by) => format!("AND {by} = $5"),
        None => "AND $5 = $5".to_owned(),
    };
    let sql = format!(
        "SELECT id, received_day, state FROM reporting_units WHERE service = $1 AND received_day >= $2 \
         AND received_day <= $3 AND {condition} {by_condition} ORDER BY received_day, id LIMIT {limit}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(service)
        .bind(request.from.to_string())
        .bind(request.to.to_string())
        .bind(figure)
        .bind(value)
        .fetch_all(ctx.db.pool())
        .await
}
