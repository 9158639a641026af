//! The figures of a period, per service, as the API, the report command, the exports and the dashboard show them:
//! the cohort funnel (of the referrals received in the period, where they are now), distinct victims, the time to
//! first contact, the caseload (open at the start and end, cases supported: carried in and new; read by
//! `caseload`), outcome measures at closure and the activity counts (what happened in the period), optionally
//! broken down by one dimension. Counting rules: `docs/metrics.md`.

use std::collections::{BTreeMap, BTreeSet};

use casetrack_web::Context;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

use super::caseload;
pub use super::caseload::Caseload;
use super::spans::{Bounds, SPAN, as_strs, db, rows, span, tie_span};
use crate::projections::cohort::{DIMENSIONS, stage, state};
use crate::projections::pathway::figure;
use crate::suppression::{Shown, one, part_of, suppress, suppress_line};

/// The funnel's figures, in the order they are shown; every service has each (zero when it does not apply).
pub const FUNNEL: [&str; 17] = [
    stage::RECEIVED,
    "victims_referred",
    stage::CONTACT_ATTEMPTED,
    stage::CONTACTED,
    stage::SUPPORTED,
    stage::ACCEPTED,
    stage::HIGH_RISK,
    stage::SELF_REFERRALS,
    stage::SELF_REFERRALS_REPORTED,
    state::OPEN,
    state::NOT_WORKED,
    state::DECLINED,
    state::DECLINED_BY_SERVICE,
    state::WITHDRAWN,
    state::UNABLE_TO_CONTACT,
    state::NO_SAFE_CONTACT,
    state::CLOSED,
];

/// What to report.
#[derive(Debug, Clone)]
pub struct Request {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this service.
    pub service: Option<String>,
    /// Broken down by this dimension (one of [`DIMENSIONS`]).
    pub by: Option<String>,
}

impl Request {
    /// Checks the request: which rule a bad one breaks, in words for the person asking.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.from > self.to {
            return Err(ApiError::rejected("period_reversed", "The start date must be on or before the end date."));
        }
        if let Some(by) = &self.by
            && !DIMENSIONS.contains(&by.as_str())
        {
            return Err(ApiError::rejected(
                "dimension_unknown",
                format!("Figures cannot be broken down by {by:?}. Choose one of: {}.", DIMENSIONS.join(", ")),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Option<String>,
    pub services: Vec<ServiceReport>,
    /// What services and outcome measures are called (`idva`, `measure:cope`), for labels in exports.
    #[serde(skip)]
    pub names: BTreeMap<String, String>,
}

impl Report {
    /// What a service (`idva`) or outcome measure (`measure:cope`) is called.
    pub fn name(&self, code: &str) -> Option<String> {
        self.names.get(code).cloned()
    }
}

/// What every service and outcome measure of the catalogue is called, and the hub.
pub fn names(ctx: &Context) -> BTreeMap<String, String> {
    let mut names = BTreeMap::from([("hub".to_owned(), crate::labels::HUB_NAME.to_owned())]);
    for code in ctx.catalogue.codes() {
        if let Some(definition) = ctx.catalogue.get(code.as_str()) {
            names.insert(code.as_str().to_owned(), definition.name.clone());
            for measure in &definition.outcome_measures {
                names.entry(format!("measure:{}", measure.code)).or_insert_with(|| measure.label.clone());
            }
        }
    }
    names
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceReport {
    pub service: String,
    /// The cohort funnel: `referrals_received`, `victims_referred`, the stages reached and the states now
    /// (docs/metrics.md, "Cohort").
    #[serde(flatten)]
    #[schema(value_type = BTreeMap<String, i64>)]
    pub funnel: BTreeMap<String, Value>,
    /// Of the referrals received in the period, how many were referred on, per target service.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub onward_referrals: BTreeMap<String, Value>,
    /// What became of those onward referrals, per target service: how many reached each milestone there
    /// (`opened`, `accepted`, `contacted`, `closed`, `declined_by_service`, `withdrawn`, `declined`,
    /// `unable_to_contact`; docs/metrics.md).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, BTreeMap<String, i64>>)]
    pub onward_outcomes: BTreeMap<String, BTreeMap<String, Value>>,
    pub first_contact: FirstContact,
    /// Victims' Code compliance of the referrals (cases) received in the period, enhanced rights apart.
    pub victims_code: VictimsCode,
    pub caseload: Caseload,
    /// Per outcome measure, the answers given at closures in the period.
    pub outcomes: BTreeMap<String, Outcome>,
    /// What happened in the period (docs/metrics.md, "Activity").
    #[schema(value_type = BTreeMap<String, i64>)]
    pub activity: BTreeMap<String, Value>,
    /// The funnel per value of the dimension asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<Breakdown>>,
    /// How many different nationalities the victims received in the period hold, where it was given (a small
    /// number is suppressed when published: it could point to someone).
    #[schema(value_type = i64)]
    pub nationalities: Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Breakdown {
    pub value: String,
    #[serde(flatten)]
    #[schema(value_type = BTreeMap<String, i64>)]
    pub funnel: BTreeMap<String, Value>,
}

/// Time from the crime report (or the referral, without one) to the first contact attempt, for the referrals
/// received in the period that have had one.
#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct FirstContact {
    #[schema(value_type = i64)]
    pub attempted: Value,
    /// Days, 31 meaning 31 or more.
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// First attempts made within the Victims' Code deadline (2 working days).
    #[schema(value_type = i64)]
    pub within_deadline: Value,
    pub share_within_deadline: Option<f64>,
}

/// Victims' Code compliance: of the referrals received in the period and under the Code's clock (not withheld from
/// contact), how many were first contacted, and (hub) had their needs assessed, within the Code's time limit: 2
/// working days from the crime report for victims entitled to enhanced rights, 5 for others (docs/metrics.md).
#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct VictimsCode {
    pub enhanced: CodeGroup,
    pub standard: CodeGroup,
}

#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct CodeGroup {
    /// Referrals under the Code's clock.
    #[schema(value_type = i64)]
    pub victims: Value,
    /// Of them, first reached within the time limit.
    #[schema(value_type = i64)]
    pub contacted_on_time: Value,
    pub share_contacted_on_time: Option<f64>,
    /// Of them, needs first assessed within the time limit (hub).
    #[schema(value_type = i64)]
    pub needs_assessed_on_time: Value,
    pub share_needs_assessed_on_time: Option<f64>,
}

impl CodeGroup {
    fn of(cohort: &BTreeMap<String, i64>, group: &str) -> Self {
        let get = |suffix: &str| cohort.get(&format!("{}{group}{suffix}", stage::CODE_PREFIX)).copied().unwrap_or(0);
        let victims = get("");
        let contacted = get(&format!(".{}", stage::CODE_CONTACTED));
        let needs = get(&format!(".{}", stage::CODE_NEEDS));
        Self {
            victims: victims.into(),
            contacted_on_time: contacted.into(),
            share_contacted_on_time: share(contacted, victims),
            needs_assessed_on_time: needs.into(),
            share_needs_assessed_on_time: share(needs, victims),
        }
    }

    fn publish(&mut self, threshold: u64) {
        let victims = count_of(&self.victims);
        let (contacted, whole) = part_of(count_of(&self.contacted_on_time), victims, threshold);
        let (needs, _) = part_of(count_of(&self.needs_assessed_on_time), victims, threshold);
        if !matches!((contacted, whole), (Shown::Count(_), Shown::Count(_))) {
            self.share_contacted_on_time = None;
        }
        if !matches!((needs, whole), (Shown::Count(_), Shown::Count(_))) {
            self.share_needs_assessed_on_time = None;
        }
        self.victims = text(whole, threshold);
        self.contacted_on_time = text(contacted, threshold);
        self.needs_assessed_on_time = text(needs, threshold);
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Outcome {
    #[schema(value_type = i64)]
    pub asked: Value,
    #[schema(value_type = i64)]
    pub improved: Value,
    pub share_improved: Option<f64>,
}

/// The counts of one service as read from the read models.
#[derive(Default)]
struct Counts {
    cohort: BTreeMap<String, i64>,
    victims: i64,
    caseload: caseload::Counts,
    activity: BTreeMap<String, i64>,
    /// Per value of the dimension: figure -> count, and victims.
    breakdown: BTreeMap<String, (BTreeMap<String, i64>, i64)>,
}

/// Reads the counts of every service (or one) for the request.
async fn counts(ctx: &Context, request: &Request) -> Result<BTreeMap<String, Counts>, ApiError> {
    let only = request.service.as_deref();
    let mut services: BTreeMap<String, Counts> = BTreeMap::new();
    let sql = format!(
        "SELECT service, figure, CAST(SUM(count) AS BIGINT) FROM reporting_cohort WHERE {SPAN} {{service}} \
         GROUP BY service, figure"
    );
    let all = span("all", request.from, request.to);
    for row in rows(ctx, &sql, &as_strs(&all), only).await? {
        services.entry(row.get(0)).or_default().cohort.insert(row.get(1), row.get(2));
    }
    // Distinct victims: the referrals received minus the ties between a person's consecutive referrals inside the
    // period (counted below as negative victims, then the referrals added).
    let ties = "SELECT service, value, CAST(SUM(count) AS BIGINT) FROM reporting_ties WHERE dimension = $1 \
                AND prev_day >= $2 AND prev_day <= $3 AND day <= $3 {service} GROUP BY service, value";
    for row in rows(ctx, ties, &as_strs(&tie_span("all", request.from, request.to)), only).await? {
        services.entry(row.get(0)).or_default().victims = -row.get::<i64, _>(2);
    }
    // What happened in the period: its whole months' counts and the days either side.
    let sql = "SELECT service, figure, CAST(SUM(value) AS BIGINT) FROM (\
                 SELECT service, figure, value FROM reporting_daily \
                 WHERE ((day >= $1 AND day <= $2) OR (day >= $3 AND day <= $4)) {service} \
                 UNION ALL SELECT service, figure, value FROM reporting_activity_monthly \
                 WHERE month >= $5 AND month <= $6 {service}) AS activity GROUP BY service, figure";
    let Bounds { lead, trail, months } = Bounds::of(request.from, request.to);
    let binds = [&lead.0, &lead.1, &trail.0, &trail.1, &months.0, &months.1].map(String::as_str);
    for row in rows(ctx, sql, &binds, only).await? {
        services.entry(row.get(0)).or_default().activity.insert(row.get(1), row.get(2));
    }
    // Open at the start and at the end, and new.
    for (service, read) in caseload::read(ctx, request.from, request.to, only).await? {
        services.entry(service).or_default().caseload = read;
    }
    if let Some(by) = &request.by {
        let sql = format!(
            "SELECT service, value, figure, CAST(SUM(count) AS BIGINT) FROM reporting_cohort WHERE {SPAN} \
             {{service}} GROUP BY service, value, figure"
        );
        let breakdown = span(by, request.from, request.to);
        for row in rows(ctx, &sql, &as_strs(&breakdown), only).await? {
            let counts = services.entry(row.get(0)).or_default();
            counts.breakdown.entry(row.get(1)).or_default().0.insert(row.get(2), row.get(3));
        }
        for row in rows(ctx, ties, &as_strs(&tie_span(by, request.from, request.to)), only).await? {
            let counts = services.entry(row.get(0)).or_default();
            counts.breakdown.entry(row.get(1)).or_default().1 = -row.get::<i64, _>(2);
        }
    }
    for counts in services.values_mut() {
        let received = |cohort: &BTreeMap<String, i64>| cohort.get(stage::RECEIVED).copied().unwrap_or(0);
        counts.victims += received(&counts.cohort);
        for (cohort, victims) in counts.breakdown.values_mut() {
            *victims += received(cohort);
        }
    }
    Ok(services)
}

/// Median and 90th percentile of a histogram of days.
fn percentiles(histogram: &BTreeMap<i64, i64>) -> (Option<i64>, Option<i64>) {
    let total: i64 = histogram.values().sum();
    let at = |share_num: i64, share_den: i64| {
        // The smallest day by which at least this share of first attempts were made.
        let mut seen = 0;
        histogram.iter().find_map(|(&day, &n)| {
            seen += n;
            (seen * share_den >= total * share_num).then_some(day)
        })
    };
    if total == 0 { (None, None) } else { (at(1, 2), at(9, 10)) }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    // Rounded to three places, so that the same counts always print the same.
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 1000.0)
}

fn funnel_of(cohort: &BTreeMap<String, i64>, victims: i64) -> BTreeMap<String, Value> {
    FUNNEL
        .iter()
        .map(|&name| {
            let n = if name == "victims_referred" { victims } else { cohort.get(name).copied().unwrap_or(0) };
            (name.to_owned(), Value::from(n))
        })
        .collect()
}

/// The figures for a request, every count as it is (for staff).
pub async fn report(ctx: &Context, request: &Request) -> Result<Report, ApiError> {
    request.check()?;
    crate::freshness::in_step(ctx).await;
    let services = counts(ctx, request).await?;
    let nationalities =
        super::nationalities::distinct(ctx, request.from, request.to, request.service.as_deref()).await?;
    let services = services
        .into_iter()
        .map(|(service, counts)| {
            let onward = counts
                .cohort
                .iter()
                .filter_map(|(name, &n)| Some((name.strip_prefix(stage::ONWARD_PREFIX)?.to_owned(), Value::from(n))))
                .collect();
            let mut onward_outcomes: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
            for (name, &n) in &counts.cohort {
                if let Some((target, milestone)) =
                    name.strip_prefix(stage::ONWARD_OUTCOME_PREFIX).and_then(|rest| rest.split_once('.'))
                {
                    onward_outcomes.entry(target.to_owned()).or_default().insert(milestone.to_owned(), n.into());
                }
            }
            let histogram: BTreeMap<i64, i64> = counts
                .cohort
                .iter()
                .filter_map(|(name, &n)| Some((name.strip_prefix(stage::FIRST_ATTEMPT_DAYS_PREFIX)?.parse().ok()?, n)))
                .collect();
            let attempted: i64 = histogram.values().sum();
            let within = counts.cohort.get(stage::FIRST_ATTEMPT_ON_TIME).copied().unwrap_or(0);
            let (median_days, p90_days) = percentiles(&histogram);
            let mut outcomes: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            let mut activity = BTreeMap::new();
            for (name, &n) in &counts.activity {
                if let Some(measure) = name.strip_prefix(figure::MEASURE_PREFIX) {
                    if let Some(measure) = measure.strip_suffix(".asked") {
                        outcomes.entry(measure.to_owned()).or_default().0 = n;
                    } else if let Some(measure) = measure.strip_suffix(".improved") {
                        outcomes.entry(measure.to_owned()).or_default().1 = n;
                    }
                } else {
                    activity.insert(name.clone(), Value::from(n));
                }
            }
            let breakdown = request.by.as_ref().map(|_| {
                counts
                    .breakdown
                    .iter()
                    .map(|(value, (cohort, victims))| Breakdown {
                        value: value.clone(),
                        funnel: funnel_of(cohort, *victims),
                    })
                    .collect()
            });
            ServiceReport {
                funnel: funnel_of(&counts.cohort, counts.victims),
                onward_referrals: onward,
                onward_outcomes,
                first_contact: FirstContact {
                    attempted: attempted.into(),
                    median_days,
                    p90_days,
                    within_deadline: within.into(),
                    share_within_deadline: share(within, attempted),
                },
                victims_code: VictimsCode {
                    enhanced: CodeGroup::of(&counts.cohort, "enhanced"),
                    standard: CodeGroup::of(&counts.cohort, "standard"),
                },
                caseload: counts.caseload.into(),
                outcomes: outcomes
                    .into_iter()
                    .map(|(measure, (asked, improved))| {
                        let outcome = Outcome {
                            asked: asked.into(),
                            improved: improved.into(),
                            share_improved: share(improved, asked),
                        };
                        (measure, outcome)
                    })
                    .collect(),
                activity,
                breakdown,
                nationalities: nationalities.get(&service).copied().unwrap_or(0).into(),
                service,
            }
        })
        .collect();
    Ok(Report { from: request.from, to: request.to, by: request.by.clone(), services, names: names(ctx) })
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

/// The states, in the order of [`state::ALL`].
fn states_of(funnel: &BTreeMap<String, Value>) -> Vec<u64> {
    state::ALL.iter().map(|s| funnel.get(*s).map_or(0, count_of)).collect()
}

/// Suppresses a funnel's counts in place: the states add up to the referrals received, so they are suppressed as a
/// line with that total; every stage on its own. `states` and `received` are what a table around them decided.
fn suppress_funnel(funnel: &mut BTreeMap<String, Value>, states: &[Shown], received: Shown, threshold: u64) {
    for (name, shown) in state::ALL.iter().zip(states) {
        funnel.insert((*name).to_owned(), text(*shown, threshold));
    }
    funnel.insert(stage::RECEIVED.to_owned(), text(received, threshold));
    for (name, value) in funnel.iter_mut() {
        if value.is_u64() && !state::ALL.contains(&name.as_str()) && name != stage::RECEIVED {
            *value = text(one(count_of(value), threshold), threshold);
        }
    }
}

/// The report as published (for a commissioner, or `--publish`): small counts hidden, and whatever would give one
/// away hidden too (docs/metrics.md, "Small numbers").
pub fn publish(mut report: Report, threshold: u64) -> Report {
    for service in &mut report.services {
        let states = states_of(&service.funnel);
        match &mut service.breakdown {
            // With a breakdown: values by states is a table whose row totals are each value's referrals received
            // and whose grand total is the service's.
            Some(rows) if !rows.is_empty() => {
                let cells: Vec<Vec<u64>> = rows.iter().map(|row| states_of(&row.funnel)).collect();
                let table = suppress(&cells, threshold);
                // Every other figure of the breakdown is a line whose total is the service's figure.
                let others: Vec<String> = rows[0]
                    .funnel
                    .keys()
                    .filter(|name| !state::ALL.contains(&name.as_str()) && *name != stage::RECEIVED)
                    .cloned()
                    .collect();
                for name in &others {
                    // A person may be under several values (two referrals, two age bands): the values' victims do
                    // not add up to the service's, so they are no line with a total; each is shown on its own (by
                    // `suppress_funnel` below), and the service's figure stays the service's.
                    if name == "victims_referred" {
                        continue;
                    }
                    let line: Vec<u64> = rows.iter().map(|row| row.funnel.get(name).map_or(0, count_of)).collect();
                    let (cells, total) = suppress_line(&line, threshold);
                    for (row, shown) in rows.iter_mut().zip(cells) {
                        row.funnel.insert(name.clone(), text(shown, threshold));
                    }
                    service.funnel.insert(name.clone(), text(total, threshold));
                }
                for (i, row) in rows.iter_mut().enumerate() {
                    suppress_funnel(&mut row.funnel, &table.cells[i], table.row_totals[i], threshold);
                }
                let received = table.total;
                suppress_funnel(&mut service.funnel, &table.column_totals, received, threshold);
            }
            // Without one, the states are a line whose total is the referrals received.
            _ => {
                let (shown, total) = suppress_line(&states, threshold);
                suppress_funnel(&mut service.funnel, &shown, total, threshold);
            }
        }
        let outcomes = service.onward_outcomes.values_mut().flat_map(|milestones| milestones.values_mut());
        for value in service.onward_referrals.values_mut().chain(outcomes).chain(service.activity.values_mut()) {
            *value = text(one(count_of(value), threshold), threshold);
        }
        let first = &mut service.first_contact;
        let (within, attempted) = part_of(count_of(&first.within_deadline), count_of(&first.attempted), threshold);
        if !matches!((within, attempted), (Shown::Count(_), Shown::Count(_))) {
            first.share_within_deadline = None;
        }
        if !matches!(attempted, Shown::Count(_)) {
            (first.median_days, first.p90_days) = (None, None);
        }
        (first.within_deadline, first.attempted) = (text(within, threshold), text(attempted, threshold));
        service.victims_code.enhanced.publish(threshold);
        service.victims_code.standard.publish(threshold);
        service.nationalities = text(one(count_of(&service.nationalities), threshold), threshold);
        let received = service.funnel.get(stage::RECEIVED).cloned().unwrap_or_default();
        caseload::publish(&mut service.caseload, threshold, &received);
        for outcome in service.outcomes.values_mut() {
            let (improved, asked) = part_of(count_of(&outcome.improved), count_of(&outcome.asked), threshold);
            if !matches!((improved, asked), (Shown::Count(_), Shown::Count(_))) {
                outcome.share_improved = None;
            }
            (outcome.improved, outcome.asked) = (text(improved, threshold), text(asked, threshold));
        }
    }
    report
}

/// The report for a commissioner's own dashboard and downloads: the funnel, the caseload's totals, first contact,
/// outcome measures and activity exact (a commissioner needs "3 shuttle mediations" to write a board paper), and a
/// breakdown by the victims' characteristics (the caseload's adults and children among them) suppressed as for
/// publication. Where publication would hide one of the service's
/// own figures that a breakdown column adds up to, that whole column of the breakdown is hidden ("[c]"), since the
/// exact figure shown beside it would otherwise give a hidden cell away (docs/metrics.md, "Small numbers").
pub fn for_commissioner(report: Report, threshold: u64) -> Report {
    let published = publish(report.clone(), threshold);
    let mut report = report;
    for (service, shown) in report.services.iter_mut().zip(published.services) {
        // The caseload's split into adults and children is a breakdown by age: shown as published. Its totals stay
        // exact; where publication hid one, every part is hidden, since the exact total would give them away.
        let exact = &mut service.caseload;
        let published = &shown.caseload;
        let totals_shown = [
            (&exact.open_at_start, &published.open_at_start),
            (&exact.open_at_end, &published.open_at_end),
            (&exact.supported, &published.supported),
            (&exact.carried_in, &published.carried_in),
            (&exact.new, &published.new),
        ]
        .iter()
        .all(|(exact, published)| exact == published);
        let parts = [
            (&mut exact.open_at_start_under_18, &published.open_at_start_under_18),
            (&mut exact.open_at_end_under_18, &published.open_at_end_under_18),
            (&mut exact.supported_adults, &published.supported_adults),
            (&mut exact.supported_under_18, &published.supported_under_18),
            (&mut exact.carried_in_adults, &published.carried_in_adults),
            (&mut exact.carried_in_under_18, &published.carried_in_under_18),
            (&mut exact.new_adults, &published.new_adults),
            (&mut exact.new_under_18, &published.new_under_18),
        ];
        for (part, published) in parts {
            *part = if totals_shown { published.clone() } else { Value::from("[c]") };
        }
        let Some(mut rows) = shown.breakdown else { continue };
        for name in FUNNEL {
            let exact = service.funnel.get(name);
            if exact.is_some() && shown.funnel.get(name) != exact {
                for row in &mut rows {
                    row.funnel.insert(name.to_owned(), Value::from("[c]"));
                }
            }
        }
        service.breakdown = Some(rows);
    }
    report
}

/// The months of the period, and per month the funnel's headline figures of the referrals received in it (for the
/// trend lines), per service.
pub async fn monthly(
    ctx: &Context,
    request: &Request,
) -> Result<BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>>, ApiError> {
    let sql = format!(
        "SELECT service, SUBSTR(day, 1, 7), figure, CAST(SUM(count) AS BIGINT) FROM reporting_cohort WHERE {SPAN} \
         {{service}} AND figure IN ('referrals_received', 'contacted', 'supported') \
         GROUP BY service, SUBSTR(day, 1, 7), figure"
    );
    let all = span("all", request.from, request.to);
    let rows = rows(ctx, &sql, &as_strs(&all), request.service.as_deref()).await?;
    let mut out: BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>> = BTreeMap::new();
    for row in rows {
        out.entry(row.get(0)).or_default().entry(row.get(1)).or_default().insert(row.get(2), row.get(3));
    }
    Ok(out)
}

/// Victims' Code compliance per service and month received: service -> month -> figure (`code.enhanced`,
/// `code.enhanced.contacted_on_time`, ...) -> count.
pub async fn code_monthly(
    ctx: &Context,
    request: &Request,
) -> Result<BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>>, ApiError> {
    let sql = format!(
        "SELECT service, SUBSTR(day, 1, 7), figure, CAST(SUM(count) AS BIGINT) FROM reporting_cohort WHERE {SPAN} \
         {{service}} AND figure LIKE 'code.%' GROUP BY service, SUBSTR(day, 1, 7), figure"
    );
    let all = span("all", request.from, request.to);
    let rows = rows(ctx, &sql, &as_strs(&all), request.service.as_deref()).await?;
    let mut out: BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>> = BTreeMap::new();
    for row in rows {
        out.entry(row.get(0)).or_default().entry(row.get(1)).or_default().insert(row.get(2), row.get(3));
    }
    Ok(out)
}

/// Every service named in the read models (for a picker).
pub async fn services(ctx: &Context) -> Result<BTreeSet<String>, ApiError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT service FROM reporting_activity_monthly")
        .fetch_all(ctx.db.pool())
        .await
        .map_err(db)?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_the_first_day_reaching_the_share() {
        let histogram: BTreeMap<i64, i64> = [(0, 4), (1, 3), (2, 2), (5, 1)].into();
        assert_eq!(percentiles(&histogram), (Some(1), Some(2)));
        assert_eq!(percentiles(&BTreeMap::new()), (None, None));
        assert_eq!(share(2, 3), Some(0.667));
        assert_eq!(share(1, 0), None);
    }
}
