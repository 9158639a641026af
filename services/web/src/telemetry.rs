//! Tracing and Prometheus metrics, set up once per process.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs the tracing subscriber (`RUST_LOG` filters, default `info`). Call once, from `main`.
pub fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn"));
    // Logs go to standard error: standard output carries what a command produces (an export, a report, the
    // address `serve` listens on).
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// The process's Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                )
                .expect("valid buckets")
                .build_recorder();
            // Every metric's `# HELP` line, said once here for the whole process (the event store's metrics too).
            metrics::with_local_recorder(&recorder, describe);
            let handle = recorder.handle();
            // Another recorder may already be installed (tests build several contexts): ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// What each metric counts, for the `# HELP` lines of `/metrics` (a test checks that every metric has one).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "casetrack_log_appends_total",
        Unit::Count,
        "Commits appended to the event log (one per command), by backend"
    );
    describe_counter!(
        "casetrack_log_duplicate_commands_total",
        Unit::Count,
        "Commands sent again with an id already stored, written once, by backend"
    );
    describe_counter!(
        "casetrack_log_conflicts_total",
        Unit::Count,
        "Appends refused because the aggregate had moved on (optimistic concurrency), by backend"
    );
    describe_counter!("casetrack_log_errors_total", Unit::Count, "Appends that failed in the log backend, by backend");
    describe_counter!("casetrack_projection_events_total", Unit::Count, "Events applied to read models, by projection");
    describe_gauge!("casetrack_log_head_position", "The event log's last position, read when /metrics is scraped");
    describe_gauge!(
        "casetrack_projection_lag_commits",
        Unit::Count,
        "Commits in the log that a projection has not applied yet, read when /metrics is scraped"
    );
    describe_histogram!(
        "casetrack_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method, route template and status"
    );
}
