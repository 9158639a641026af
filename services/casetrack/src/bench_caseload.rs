//! `casetrack bench-caseload`: how fast a specialist service's caseload page answers when the service holds a
//! hundred thousand cases.
//!
//! It fills the specialist read model (`specialist_cases`) of an empty database with `--cases` made-up IDVA cases
//! (the rows the specialist projection would hold: statuses, caseworkers, enhanced rights, review dates spread
//! as a live service's are; made in batches of SQL, since replaying that many events is the rebuild benchmark's
//! job), then times the real view code (`views::cases::read_caseload`: the tab's count and one page) for each tab
//! of the caseload page (every case, unallocated, one caseworker's, reviews due), on the first page and on a page
//! far down the list after a cursor. In the same run it times the raw limit: the cheapest read of a page of rows
//! in the caseload's order, straight from its index. It prints the percentiles per tab, the ratio to the raw read
//! and a `target ...: met|not met` line for the 100 ms.

use std::time::{Duration, Instant};

use crate::settings::Settings;
use anyhow::Context as _;
use casetrack_proto::ServiceCode;
use casetrack_specialist::state::Desk;
use casetrack_specialist::views::cases::{ListParams, caseload_page};
use casetrack_web::paging::PageParams;

#[derive(clap::Args)]
pub struct BenchCaseloadArgs {
    /// Cases to make up in the one service.
    #[arg(long, default_value_t = 100_000)]
    cases: u64,
    /// Requests to time per tab and page.
    #[arg(long, default_value_t = 50)]
    requests: usize,
    #[command(flatten)]
    settings: Settings,
}

/// Rows a statement inserts (11 values each: under SQLite's and PostgreSQL's limits on bound values).
const BATCH: u64 = 1_000;
const CASEWORKERS: u64 = 40;

pub async fn run(args: BenchCaseloadArgs) -> anyhow::Result<()> {
    let ctx = args.settings.connect().await?;
    let idva = ServiceCode::parse("idva").expect("a valid code");
    let specialist = casetrack_specialist::service(&ctx, std::slice::from_ref(&idva));
    casetrack_web::serve::migrate(&ctx, &[specialist]).await?;
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM specialist_cases")
        .fetch_one(ctx.db.pool())
        .await
        .context("failed to count the cases already there")?;
    anyhow::ensure!(held == 0, "the database already holds {held} cases: give an empty one");

    let started = Instant::now();
    fill(&ctx, args.cases).await?;
    eprintln!("{} cases made in {:.1?}", args.cases, started.elapsed());

    let desk = Desk::new(ctx.clone(), vec![idva]);
    let tabs: [(&str, Option<&str>); 4] =
        [("all", None), ("unallocated", None), ("mine", Some("caseworker.7")), ("reviews-due", None)];
    let mut worst_p95 = Duration::ZERO;
    let raw = time(args.requests, || raw_page(&ctx)).await?;
    println!("{:<28} p50 {:>8.2?}  p95 {:>8.2?}  max {:>8.2?}", "raw page read (index only)", raw.0, raw.1, raw.2);
    for (view, caseworker) in tabs {
        let params =
            ListParams { view: Some(view.to_owned()), caseworker: caseworker.map(str::to_owned), wait_for: None };
        // The cursor of the tenth page: a page far down the list, read after a cursor as a client walks it.
        let mut deep = PageParams::default();
        for _ in 0..9 {
            let page = caseload_page(&desk, "idva", &params, &deep).await.map_err(api)?;
            match page.next_cursor {
                Some(cursor) => deep = PageParams { cursor: Some(cursor), ..PageParams::default() },
                None => break,
            }
        }
        for (which, page) in [("first page", PageParams::default()), ("tenth page", deep)] {
            let (p50, p95, max) = time(args.requests, || async {
                let paged = caseload_page(&desk, "idva", &params, &page).await.map_err(api)?;
                anyhow::ensure!(paged.total > 0, "the {view} tab is empty: the made-up cases do not reach it");
                Ok(())
            })
            .await?;
            worst_p95 = worst_p95.max(p95);
            let ratio = p50.as_secs_f64() / raw.0.as_secs_f64().max(1e-9);
            println!(
                "{:<28} p50 {p50:>8.2?}  p95 {p95:>8.2?}  max {max:>8.2?}  ({ratio:.1} x the raw read)",
                format!("{view}, {which}")
            );
        }
    }
    let met = if worst_p95 < Duration::from_millis(100) { "met" } else { "not met" };
    println!("target caseload_page_p95_under_100ms (count and page, every tab): {met} (worst p95 {worst_p95:.2?})");
    Ok(())
}

fn api(error: casetrack_web::http::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", error.code, error.message)
}

/// Makes `cases` cases of the IDVA, spread as a live service's: a quarter awaiting a decision, a quarter awaiting
/// contact, a quarter engaged, a quarter ended; two in three allocated among 40 caseworkers; one in ten with
/// enhanced rights; reviews due on some; opened over five years.
async fn fill(ctx: &casetrack_web::Context, cases: u64) -> anyhow::Result<()> {
    const STATUSES: [&str; 4] = ["awaiting_decision", "awaiting_contact", "engaged", "closed"];
    let start = chrono::NaiveDate::from_ymd_opt(2021, 12, 1).expect("a real day");
    let mut next = 0;
    while next < cases {
        let end = (next + BATCH).min(cases);
        let rows = (end - next) as usize;
        let values: Vec<String> = (0..rows)
            .map(|i| {
                let base = i * 11;
                let slots: Vec<String> = (1..=11).map(|n| format!("${}", base + n)).collect();
                format!("({})", slots.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO specialist_cases (case_id, service, person_id, origin, opened_at, status, caseworker, \
             enhanced_rights, domestic_abuse, review_due, age_band) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for g in next..end {
            let opened = start + chrono::Days::new(g % 1_826);
            let caseworker = (g % 3 != 0).then(|| format!("caseworker.{}", (g / 3) % CASEWORKERS));
            let review = (g % 7 == 0).then(|| (opened + chrono::Days::new(90)).to_string());
            query = query
                .bind(format!("00000000-0000-4000-8000-{g:012}"))
                .bind("idva")
                .bind(format!("10000000-0000-4000-8000-{:012}", g % (cases * 9 / 10).max(1)))
                .bind(if g % 2 == 0 { "hub" } else { "direct" })
                .bind(format!("{opened}T{:02}:{:02}:00.000000Z", 8 + g % 10, g % 60))
                .bind(STATUSES[(g % 4) as usize])
                .bind(caseworker)
                .bind(i64::from(g % 10 == 0))
                .bind(i64::from(g % 2 == 0))
                .bind(review)
                .bind(if g % 8 == 0 { "under_18" } else { "25_34" });
        }
        query.execute(ctx.db.pool()).await.context("failed to make the cases")?;
        next = end;
    }
    Ok(())
}

/// The raw limit: a page of ids in the caseload's order, read from its index and nothing else.
async fn raw_page(ctx: &casetrack_web::Context) -> anyhow::Result<()> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT case_id FROM specialist_cases WHERE service = $1 \
         ORDER BY enhanced_rights DESC, opened_at DESC, case_id LIMIT 51",
    )
    .bind("idva")
    .fetch_all(ctx.db.pool())
    .await?;
    anyhow::ensure!(ids.len() == 51, "the raw read found {} rows", ids.len());
    Ok(())
}

/// Runs `request` `n` times one after another (after one unmeasured warm-up): p50, p95 and max.
async fn time<F, Fut>(n: usize, request: F) -> anyhow::Result<(Duration, Duration, Duration)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    request().await?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let started = Instant::now();
        request().await?;
        times.push(started.elapsed());
    }
    times.sort();
    let at = |share: f64| times[((times.len() as f64 * share).ceil() as usize).saturating_sub(1).min(times.len() - 1)];
    Ok((at(0.5), at(0.95), *times.last().expect("at least one request")))
}
