//! `casetrack bench-reporting`: how fast the dashboard's and the report's queries answer over many referrals.
//!
//! It fills the reporting read models of an empty PostgreSQL database with `--referrals` made-up referrals and
//! cases spread over ten years and seven services (the rows `reporting.cohort` and `reporting.pathway` would hold
//! for them, aggregated in SQL: replaying that many events through the projections is the rebuild benchmark's
//! job, not this one's), then times the real query code (`reporting::report`, and the monthly trend) for a mix of
//! requests: a month, a quarter, a financial year, ten years; all services or one; with and without a breakdown.

use std::time::{Duration, Instant};

use crate::settings::Settings;
use anyhow::Context as _;
use casetrack_reporting::cohort::DIMENSIONS;
use casetrack_reporting::report::{Request, monthly, report};
use casetrack_web::Context;
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct BenchReportingArgs {
    /// Referrals and cases to make up.
    #[arg(long, default_value_t = 10_000_000)]
    referrals: u64,
    /// Requests to time.
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// Keep the rows already there (from an earlier run on the same database) instead of making them again.
    #[arg(long)]
    reuse: bool,
    #[command(flatten)]
    settings: Settings,
}

const SERVICES: &str = "ARRAY['hub','hub','hub','idva','isva','stalking','rj']";

/// The units: attributes from the id by fixed strides, so every run makes the same rows. A unit's person is its
/// number modulo 85% of the units, and its service follows from the person: so the other 15% are people's second
/// referrals to the same service, which `reporting_ties` (distinct victims) counts. (Until 2026-12-06 the service
/// followed from the unit, every second referral went to another service, and the ties were empty.)
fn units_sql() -> String {
    format!(
        "INSERT INTO reporting_units (id, service, person_id, received_day, received_at, source, offence, \
         domestic_abuse, age_band, gender, ethnic_group, bame, disability, repeat_victim, stages, state, clock_start) \
         SELECT 'u' || g, ({SERVICES})[1 + (g % ($1 * 85 / 100)) % 7], 'p' || (g % ($1 * 85 / 100)), \
           to_char(DATE '2016-04-01' + (g % 3650)::int, 'YYYY-MM-DD'), \
           to_char(DATE '2016-04-01' + (g % 3650)::int, 'YYYY-MM-DD') || 'T10:00:00.000000Z', \
           (ARRAY['police_feed','police_feed','self_referral','partner'])[1 + (g / 7) % 4], \
           (ARRAY['violence_with_injury','violence_without_injury','sexual_offence','stalking_harassment','robbery',\
             'burglary','theft','criminal_damage','fraud','hate_crime','other'])[1 + (g / 11) % 11], \
           CASE WHEN g % 4 = 0 THEN 'yes' ELSE 'no' END, \
           (ARRAY['under_18','18_24','25_34','35_44','45_54','55_64','65_plus','not_known'])[1 + (g / 13) % 8], \
           (ARRAY['female','male','female','male','other','unknown'])[1 + (g / 17) % 6], \
           (ARRAY['white','white','white','white','mixed','asian','black','other','not_stated'])[1 + (g / 19) % 9], \
           (ARRAY['white','white','white','white','bame','bame','bame','bame','not_stated'])[1 + (g / 19) % 9], \
           (ARRAY['yes','no','no','unknown'])[1 + (g / 23) % 4], \
           CASE WHEN g % 10 = 0 THEN 'yes' ELSE 'no' END, \
           (ARRAY['','contact_attempted','contact_attempted,contacted','contact_attempted,contacted,supported',\
             'contact_attempted,contacted,supported'])[1 + (g / 29) % 5], \
           (ARRAY['open','closed','closed','closed','declined','unable_to_contact','no_safe_contact'])[1 + (g / 31) % 7], \
           to_char(DATE '2016-04-01' + (g % 3650)::int, 'YYYY-MM-DD') \
         FROM generate_series(1, $1) AS g"
    )
}

/// The cohort counts those units make, as `reporting.cohort` would have written them.
fn cohort_sql(dimension: &str) -> String {
    let value = if dimension == "all" { "'all'".to_owned() } else { format!("u.{dimension}") };
    format!(
        "INSERT INTO reporting_cohort (service, day, dimension, value, figure, count) \
         SELECT u.service, u.received_day, '{dimension}', {value}, f.figure, COUNT(*) FROM reporting_units u \
         CROSS JOIN LATERAL (SELECT 'referrals_received' UNION ALL SELECT u.state \
           UNION ALL SELECT s FROM unnest(string_to_array(NULLIF(u.stages, ''), ',')) AS s \
           UNION ALL SELECT 'first_attempt_days.' || (length(u.id) + ascii(right(u.id, 1))) % 6 \
             WHERE u.stages <> '') AS f(figure) \
         GROUP BY 1, 2, 4, 5"
    )
}

/// Activity counts per day, service and figure, as `reporting.pathway` would have written them.
const DAILY_SQL: &str = "INSERT INTO reporting_daily (day, service, figure, value) \
    SELECT to_char(d, 'YYYY-MM-DD'), s, f, 100 + (extract(doy FROM d)::int % 50) \
    FROM generate_series(DATE '2016-04-01', DATE '2026-03-31', INTERVAL '1 day') AS d, \
    unnest(ARRAY['hub','idva','isva','stalking','rj']) AS s, \
    unnest(ARRAY['referrals_received','contact_attempts','contacted','supported','declined','unable_to_contact',\
      'no_safe_contact','closed','self_referrals','measure.cope.asked','measure.cope.improved',\
      'measure.safer.asked','measure.safer.improved','cases_opened','interventions']) AS f";

/// The caseload's running counts: units opened on the day received and, unless still open, ended 30 days later.
const CASELOAD_SQL: &str = "INSERT INTO reporting_cohort (service, day, dimension, value, figure, count) \
    SELECT moves.service, moves.day, 'caseload', v.value, moves.figure, COUNT(*) FROM ( \
      SELECT service, received_day AS day, 'opened' AS figure, age_band FROM reporting_units \
      UNION ALL SELECT service, to_char(received_day::date + 30, 'YYYY-MM-DD'), 'ended', age_band \
        FROM reporting_units WHERE state NOT IN ('open', 'not_worked')) AS moves \
    CROSS JOIN LATERAL (SELECT 'all' UNION ALL SELECT 'under_18' WHERE moves.age_band = 'under_18') AS v(value) \
    GROUP BY 1, 2, 4, 5";

/// The ties between each person's consecutive units of a service, per value of `dimension`.
fn ties_sql(dimension: &str) -> String {
    let value = if dimension == "all" { "'all'".to_owned() } else { dimension.to_owned() };
    format!(
        "INSERT INTO reporting_ties (service, dimension, value, prev_day, day, count) \
         SELECT service, '{dimension}', value, prev_day, received_day, COUNT(*) FROM ( \
           SELECT service, {value} AS value, received_day, LAG(received_day) OVER \
             (PARTITION BY service, person_id, {value} ORDER BY received_at, id) AS prev_day FROM reporting_units) t \
         WHERE prev_day IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
    )
}

const MONTHLY_TIES_SQL: &str = "INSERT INTO reporting_ties (service, dimension, value, prev_day, day, count) \
    SELECT service, 'month:' || dimension, value, SUBSTR(prev_day, 1, 7), SUBSTR(day, 1, 7), SUM(count) \
    FROM reporting_ties WHERE dimension NOT LIKE '%:%' GROUP BY 1, 2, 3, 4, 5";

/// The same ties by financial year (April to March, named by the year it begins in), from the daily ones.
const YEARLY_TIES_SQL: &str = "INSERT INTO reporting_ties (service, dimension, value, prev_day, day, count) \
    SELECT service, 'fy:' || dimension, value, \
      to_char(prev_day::date - INTERVAL '3 months', 'YYYY'), to_char(day::date - INTERVAL '3 months', 'YYYY'), \
      SUM(count) FROM reporting_ties WHERE dimension NOT LIKE '%:%' GROUP BY 1, 2, 3, 4, 5";

/// The activity counts per month too, as `reporting.pathway` keeps them.
const ACTIVITY_MONTHLY_SQL: &str = "INSERT INTO reporting_activity_monthly (month, service, figure, value) \
    SELECT SUBSTR(day, 1, 7), service, figure, SUM(value) FROM reporting_daily GROUP BY 1, 2, 3";

/// Every dimension's counts per month too, as `reporting.cohort` keeps them.
const MONTHLY_SQL: &str = "INSERT INTO reporting_cohort (service, day, dimension, value, figure, count) \
    SELECT service, SUBSTR(day, 1, 7), 'month:' || dimension, value, figure, SUM(count) FROM reporting_cohort \
    GROUP BY 1, 2, 3, 4, 5";

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1).min(sorted.len() - 1)]
}

pub async fn run(args: BenchReportingArgs) -> anyhow::Result<()> {
    casetrack_web::telemetry::init_tracing(&args.settings.platform.log_format);
    let ctx = args.settings.connect().await?;
    anyhow::ensure!(
        ctx.db.backend() == casetrack_eventstore::db::DbBackend::Postgres,
        "bench-reporting runs on PostgreSQL: give --database-url of an empty database"
    );
    let reporting = casetrack_reporting::service(&ctx);
    casetrack_web::serve::migrate(&ctx, &[reporting]).await?;
    let pool = ctx.db.pool();
    if !args.reuse {
        let started = Instant::now();
        for table in
            ["reporting_units", "reporting_cohort", "reporting_daily", "reporting_activity_monthly", "reporting_ties"]
        {
            sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {table}"))).execute(pool).await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(units_sql()))
            .bind(i64::try_from(args.referrals)?)
            .execute(pool)
            .await
            .context("making up the units")?;
        println!("{} units made in {:.0?}", args.referrals, started.elapsed());
        for dimension in std::iter::once("all").chain(DIMENSIONS) {
            sqlx::query(sqlx::AssertSqlSafe(cohort_sql(dimension))).execute(pool).await?;
        }
        sqlx::query(DAILY_SQL).execute(pool).await?;
        sqlx::query(ACTIVITY_MONTHLY_SQL).execute(pool).await?;
        sqlx::query(CASELOAD_SQL).execute(pool).await?;
        sqlx::query(MONTHLY_SQL).execute(pool).await?;
        for dimension in std::iter::once("all").chain(DIMENSIONS) {
            sqlx::query(sqlx::AssertSqlSafe(ties_sql(dimension))).execute(pool).await?;
        }
        sqlx::query(YEARLY_TIES_SQL).execute(pool).await?;
        sqlx::query(MONTHLY_TIES_SQL).execute(pool).await?;
        sqlx::query("ANALYZE").execute(pool).await?;
        println!("read models filled in {:.0?}", started.elapsed());
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reporting_cohort").fetch_one(pool).await?;
    println!("reporting_cohort holds {rows} rows");
    let mut rng = StdRng::seed_from_u64(7);
    let services = [None, Some("hub"), Some("idva")];
    let mut kinds: Vec<(&str, Vec<Duration>)> =
        ["month", "quarter", "financial year", "ten years"].iter().map(|k| (*k, Vec::new())).collect();
    let mut all = Vec::new();
    for i in 0..args.requests {
        let kind = i % kinds.len();
        let year = rng.gen_range(2016..2025);
        let (from, to) = match kind {
            0 => {
                let month = rng.gen_range(1..=12);
                let from = NaiveDate::from_ymd_opt(year, month, 1).expect("valid");
                (from, from.checked_add_months(chrono::Months::new(1)).expect("valid").pred_opt().expect("valid"))
            }
            1 => {
                let from = NaiveDate::from_ymd_opt(year, [4, 7, 10][rng.gen_range(0..3)], 1).expect("valid");
                (from, from.checked_add_months(chrono::Months::new(3)).expect("valid").pred_opt().expect("valid"))
            }
            2 => (
                NaiveDate::from_ymd_opt(year, 4, 1).expect("valid"),
                NaiveDate::from_ymd_opt(year + 1, 3, 31).expect("valid"),
            ),
            _ => (
                NaiveDate::from_ymd_opt(2016, 4, 1).expect("valid"),
                NaiveDate::from_ymd_opt(2026, 3, 31).expect("valid"),
            ),
        };
        let request = Request {
            from,
            to,
            service: services[rng.gen_range(0..services.len())].map(str::to_owned),
            by: rng.gen_bool(0.5).then(|| DIMENSIONS[rng.gen_range(0..DIMENSIONS.len())].to_owned()),
        };
        let started = Instant::now();
        report(&ctx, &request).await.map_err(|e| anyhow::anyhow!(e.message))?;
        monthly(&ctx, &request).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let took = started.elapsed();
        kinds[kind].1.push(took);
        all.push(took);
    }
    let line = |name: &str, times: &mut Vec<Duration>| {
        times.sort();
        println!(
            "{name:<16} {:>5} requests: p50 {:>7.1} ms, p95 {:>7.1} ms, max {:>7.1} ms",
            times.len(),
            percentile(times, 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.95).as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
    };
    for (name, times) in &mut kinds {
        line(name, times);
    }
    line("all", &mut all);
    let p95 = percentile(&all, 0.95);
    println!(
        "target p95_under_100ms (report + trend per request): {}",
        if p95 < Duration::from_millis(100) { "met" } else { "NOT met" }
    );
    Ok(())
}

/// `casetrack bench-rebuild`: the log of the installation read back raw (every commit, no processing), then every
/// read model rebuilt from it as `casetrack rebuild` does, then the raw read again; events per second of each, and
/// the rebuild's rate against each raw read and against their mean. The raw read is the noisier figure (its
/// time varied by half between runs on one machine), so it is taken on either side of the rebuild.
pub async fn rebuild(
    ctx: &Context,
    projections: Vec<std::sync::Arc<dyn casetrack_eventstore::projection::Projection>>,
) -> anyhow::Result<()> {
    let head = ctx.log.head().await?;
    let (events, before) = read_raw(ctx, head).await?;
    let rate_of = |took: Duration| events as f64 / took.as_secs_f64();
    println!("raw read-back: {events} events ({} commits) in {before:.1?}: {:.0} events/s", head.0, rate_of(before));
    let took = crate::rebuild(ctx, projections, casetrack_eventstore::projection::REBUILD_BATCH_EVENTS).await?;
    let (_, after) = read_raw(ctx, head).await?;
    println!("raw read-back again: {after:.1?}: {:.0} events/s", rate_of(after));
    let rate = rate_of(took);
    let mean = (rate_of(before) + rate_of(after)) / 2.0;
    println!(
        "rebuild of every read model: {took:.1?}: {rate:.0} events/s, {:.0}% of the raw read-back before it, {:.0}% \
         of the one after, {:.0}% of their mean",
        100.0 * rate / rate_of(before),
        100.0 * rate / rate_of(after),
        100.0 * rate / mean
    );
    Ok(())
}

/// Reads the log up to `head` with no processing; returns its events and the time taken.
async fn read_raw(ctx: &Context, head: casetrack_eventstore::log::Position) -> anyhow::Result<(u64, Duration)> {
    use futures::StreamExt;
    let started = Instant::now();
    let mut events = 0_u64;
    if head.0 == 0 {
        return Ok((events, started.elapsed())); // a live subscription to an empty log would wait for ever
    }
    let mut commits = ctx.log.subscribe(casetrack_eventstore::log::Position(0)).await?;
    while let Some(commit) = commits.next().await {
        let commit = commit?;
        events += commit.events.len() as u64;
        if commit.position >= head {
            break;
        }
    }
    Ok((events, started.elapsed()))
}
