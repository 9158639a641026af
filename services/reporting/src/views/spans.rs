//! Where a period's rows are in the reporting read models, and how a query over them is run: whole months from the
//! monthly rows and the days either side from the daily ones ([`span`]), the ties inside a period ([`tie_span`]),
//! and one statement for every service or one ([`rows`]). Shared by the views of `report` and `caseload`.

use casetrack_web::Context;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;

use crate::projections::cohort;

pub(super) fn db(error: sqlx::Error) -> ApiError {
    ApiError::unavailable(error)
}

/// Where the rows of a dimension for a period are: whole months in its monthly rows, the days before the first
/// whole month and after the last in its daily rows (so a year sums 12 rows per value and figure, not 365).
pub(super) const SPAN: &str = "((dimension = $1 AND ((day >= $2 AND day <= $3) OR (day >= $4 AND day <= $5))) \
                    OR (dimension = $6 AND day >= $7 AND day <= $8))";

/// Where a period's rows are: the days before its first whole month (`lead`), the days after its last
/// (`trail`), each as first and last day (`"9"` to `"0"` when there are none), and its whole months (`YYYY-MM`,
/// first and last; a period inside one month has none, and all its days are its lead).
pub(super) struct Bounds {
    pub(super) lead: (String, String),
    pub(super) trail: (String, String),
    pub(super) months: (String, String),
}

impl Bounds {
    pub(super) fn of(from: NaiveDate, to: NaiveDate) -> Self {
        use chrono::Datelike;
        let none = || ("9".to_owned(), "0".to_owned()); // an empty range
        let month_start = |day: NaiveDate| day.with_day(1).expect("every month has a first day");
        let first_whole = if from.day() == 1 {
            from
        } else {
            month_start(from).checked_add_months(chrono::Months::new(1)).unwrap_or(from)
        };
        let next = to.succ_opt().unwrap_or(to);
        let last_whole_end = if next.day() == 1 { to } else { month_start(to).pred_opt().unwrap_or(to) };
        if first_whole > last_whole_end {
            return Self { lead: (from.to_string(), to.to_string()), trail: none(), months: none() };
        }
        let lead = if from < first_whole {
            (from.to_string(), first_whole.pred_opt().unwrap_or(from).to_string())
        } else {
            none()
        };
        let trail = if last_whole_end < to {
            (last_whole_end.succ_opt().unwrap_or(to).to_string(), to.to_string())
        } else {
            none()
        };
        let months = (first_whole.format("%Y-%m").to_string(), last_whole_end.format("%Y-%m").to_string());
        Self { lead, trail, months }
    }
}

/// The eight values [`SPAN`] takes for `dimension` from `from` to `to`.
pub(super) fn span(dimension: &str, from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let Bounds { lead, trail, months } = Bounds::of(from, to);
    vec![dimension.to_owned(), lead.0, lead.1, trail.0, trail.1, cohort::monthly(dimension), months.0, months.1]
}

/// The dimension and bounds of the ties inside a period: by financial year when the period is whole financial
/// years, by month when it is whole months (a quarter), by day otherwise.
pub(super) fn tie_span(dimension: &str, from: NaiveDate, to: NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let next = to.succ_opt();
    let whole_months = from.day() == 1 && next.is_some_and(|next| next.day() == 1);
    let whole_years = whole_months && from.month() == 4 && next.is_some_and(|next| next.month() == 4);
    if whole_years {
        let year = |day: NaiveDate| cohort::financial_year(&day.to_string());
        vec![cohort::yearly(dimension), year(from), year(to)]
    } else if whole_months {
        vec![cohort::monthly(dimension), from.format("%Y-%m").to_string(), to.format("%Y-%m").to_string()]
    } else {
        vec![dimension.to_owned(), from.to_string(), to.to_string()]
    }
}

pub(super) fn as_strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

/// Runs `sql` with `binds`, its `{service}` made `AND service = $n` for one service or nothing for all (two plain
/// statements rather than one with an `OR`, so that the planner can use the indexes either way).
pub(super) async fn rows(
    ctx: &Context,
    sql: &str,
    binds: &[&str],
    service: Option<&str>,
) -> Result<Vec<sqlx::any::AnyRow>, ApiError> {
    let filter = service.map(|_| format!("AND service = ${}", binds.len() + 1)).unwrap_or_default();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.replace("{service}", &filter)));
    for value in binds {
        query = query.bind(*value);
    }
    if let Some(service) = service {
        query = query.bind(service);
    }
    query.fetch_all(ctx.db.pool()).await.map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_whole_months_and_the_days_either_side() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let span_of = |from: &str, to: &str| span("all", day(from), day(to))[1..].to_vec();
        // A financial year: twelve months, no days.
        assert_eq!(span_of("2026-04-01", "2027-03-31"), ["9", "0", "9", "0", "month:all", "2026-04", "2027-03"]);
        // Days either side of whole months.
        assert_eq!(
            span_of("2026-04-15", "2026-07-02"),
            ["2026-04-15", "2026-04-30", "2026-07-01", "2026-07-02", "month:all", "2026-05", "2026-06"]
        );
        // Inside one month: days only.
        assert_eq!(span_of("2026-04-15", "2026-04-20"), ["2026-04-15", "2026-04-20", "9", "0", "month:all", "9", "0"]);
        assert_eq!(span_of("2026-02-01", "2026-02-28"), ["9", "0", "9", "0", "month:all", "2026-02", "2026-02"]);
        assert_eq!(span_of("2026-04-02", "2026-05-30"), ["2026-04-02", "2026-05-30", "9", "0", "month:all", "9", "0"]);
    }
}
