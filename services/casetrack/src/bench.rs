//! `casetrack bench log`: appends per second through Casetrack's JetStream log beside raw async-nats publishes
//! with the same headers and window, the same through the embedded SQLite log, and the cost of loading a
//! 200-event aggregate. Each run uses fresh streams and files and deletes them afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use casetrack_eventstore::log::jetstream::{JetStreamConfig, JetStreamLog};
use casetrack_eventstore::log::sqlite::SqliteLog;
use casetrack_eventstore::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
use casetrack_proto::{Actor, CommandId, EventId, StreamId};
use clap::Args;
use futures::StreamExt;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// NATS server with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Appends per backend.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Distinct aggregates the appends are spread over.
    #[arg(long, default_value_t = 10_000)]
    aggregates: usize,
    /// Appends in flight at once.
    #[arg(long, default_value_t = 256)]
    inflight: usize,
    /// Rounds of raw-then-Casetrack JetStream appends; the median ratio is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Loads of the 200-event aggregate to time.
    #[arg(long, default_value_t = 2_000)]
    loads: usize,
}

fn event() -> NewEvent {
    NewEvent {
        id: EventId::new(),
        event_type: "BenchmarkEventRecorded".into(),
        schema_version: 1,
        occurred_at: chrono::Utc::now(),
        // 300 bytes of payload data.
        data: casetrack_proto::Payload::from_value(&serde_json::json!({ "body": "x".repeat(288) })),
    }
}

/// An append of one benchmark event at `version`.
fn one_event(stream: StreamId, version: u32) -> AppendRequest {
    AppendRequest {
        stream,
        expected: ExpectedVersion::Exact(version),
        command_id: CommandId::new(),
        actor: Actor::system(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        events: vec![event()],
    }
}

fn aggregate_ids(count: usize) -> Vec<StreamId> {
    (0..count).map(|_| StreamId::new("bench", "thing", Uuid::now_v7()).expect("valid")).collect()
}

/// Spreads `events` appends over the aggregates with `inflight` workers; each worker owns a slice of aggregates
/// and appends to them round-robin, so appends to one aggregate are sequential (as commands on one case are).
async fn drive<F, Fut>(events: usize, aggregates: usize, inflight: usize, append: F) -> anyhow::Result<f64>
where
    F: Fn(usize, u32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let append = Arc::new(append);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..inflight {
        let append = append.clone();
        let owned: Vec<usize> = (worker..aggregates).step_by(inflight).collect();
        let quota = events / inflight + usize::from(worker < events % inflight);
        workers.spawn(async move {
            let mut versions = vec![0u32; owned.len()];
            for n in 0..quota {
                let slot = n % owned.len().max(1);
                append(owned[slot], versions[slot]).await?;
                versions[slot] += 1;
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = workers.join_next().await {
        result??;
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

fn test_config(url: &str, label: &str) -> JetStreamConfig {
    let id = Uuid::now_v7().simple().to_string();
    let mut config = JetStreamConfig::new(url);
    config.stream = format!("BENCH_{label}_{id}");
    config.subject_prefix = format!("b{id}");
    config
}

/// Raw JetStream publishes per second with Casetrack's headers and window, on a fresh stream deleted afterwards:
/// the limit `casetrack bench-commands` measures the command path against on JetStream.
pub async fn raw_jetstream_rate(url: &str, events: usize, aggregates: usize, inflight: usize) -> anyhow::Result<f64> {
    let args = BenchArgs { nats_url: url.to_owned(), events, aggregates, inflight, rounds: 1, loads: 0 };
    raw_jetstream(&args, &aggregate_ids(aggregates)).await
}

/// Appends per second through the embedded SQLite log, in a fresh file under `dir` deleted afterwards: the limit
/// `casetrack bench-commands` measures the command path against on the embedded default.
pub async fn sqlite_append_rate(
    dir: &std::path::Path,
    events: usize,
    aggregates: usize,
    inflight: usize,
) -> anyhow::Result<f64> {
    let args = BenchArgs { nats_url: String::new(), events, aggregates, inflight, rounds: 1, loads: 0 };
    let dir = dir.join(format!("bench-raw-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = SqliteLog::open(&dir.join("events.db")).await?;
    let rate = log_appends(EventLog::new(sqlite), &args, aggregate_ids(aggregates)).await;
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

async fn raw_jetstream(args: &BenchArgs, ids: &[StreamId]) -> anyhow::Result<f64> {
    let config = test_config(&args.nats_url, "RAW");
    // Let the log create the stream with the same settings, then publish around it.
    let log = JetStreamLog::connect(config.clone()).await?;
    let client = async_nats::connect(&args.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    // The same bytes Casetrack would publish for one event, serialised once.
    let payload: bytes::Bytes = serde_json::to_vec(&serde_json::json!([{
        "id": Uuid::now_v7(), "type": "BenchmarkEventRecorded", "schema_version": 1,
        "subject": ids[0].to_string(), "version": 1, "occurred_at": chrono::Utc::now(), "recorded_at": chrono::Utc::now(),
        "actor": {"user_id": null, "role": {"role": "system"}}, "correlation_id": Uuid::now_v7(),
        "causation_id": Uuid::now_v7(), "data": {"body": "x".repeat(288)}
    }]))?
    .into();
    let subjects: Arc<Vec<String>> = Arc::new(ids.iter().map(|id| format!("{}.{id}", config.subject_prefix)).collect());
    let last: Arc<Vec<std::sync::Mutex<u64>>> = Arc::new(ids.iter().map(|_| std::sync::Mutex::new(0)).collect());
    let rate = drive(args.events, ids.len(), args.inflight, move |aggregate, version| {
        let (js, payload, subjects, last) = (js.clone(), payload.clone(), subjects.clone(), last.clone());
        async move {
            let expected = *last[aggregate].lock().expect("lock");
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", Uuid::now_v7().to_string().as_str());
            headers.insert("Nats-Expected-Last-Subject-Sequence", expected.to_string().as_str());
            headers.insert("Casetrack-Version", (version + 1).to_string().as_str());
            headers.insert("Casetrack-Prev", expected.to_string().as_str());
            let ack = js.publish_with_headers(subjects[aggregate].clone(), headers, payload).await?.await?;
            *last[aggregate].lock().expect("lock") = ack.sequence;
            Ok(())
        }
    })
    .await?;
    log.delete_stream().await?;
    Ok(rate)
}

async fn log_appends(log: EventLog, args: &BenchArgs, ids: Vec<StreamId>) -> anyhow::Result<f64> {
    let ids = Arc::new(ids);
    drive(args.events, ids.len(), args.inflight, move |aggregate, version| {
        let (log, ids) = (log.clone(), ids.clone());
        async move {
            log.append(one_event(ids[aggregate].clone(), version)).await?;
            Ok(())
        }
    })
    .await
}

/// Raw read of a stream with no processing: the rate projections are measured against.
async fn raw_read(url: &str, config: &JetStreamConfig, expected: usize) -> anyhow::Result<f64> {
    let client = async_nats::connect(url).await?;
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream(&config.stream).await?;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: format!("{}.>", config.subject_prefix),
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let mut messages = consumer.messages().await?.take(expected);
    while let Some(message) = messages.next().await {
        message?;
    }
    Ok(expected as f64 / started.elapsed().as_secs_f64())
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn loads(args: &BenchArgs) -> anyhow::Result<(Duration, Duration, Duration, Duration)> {
    let config = test_config(&args.nats_url, "LOAD");
    let writer = EventLog::new(JetStreamLog::connect(config.clone()).await?);
    let target = aggregate_ids(1).remove(0);
    // 200 commands of one event each: the worst case for loading (200 messages on the subject).
    for version in 0..200 {
        writer.append(one_event(target.clone(), version)).await?;
    }
    // Noise on other subjects, so the stream is not just this aggregate.
    let noise = aggregate_ids(1_000);
    for id in &noise {
        writer.append(one_event(id.clone(), 0)).await?;
    }
    let reader = EventLog::new(JetStreamLog::connect(config.clone()).await?);
    let mut warm = Vec::with_capacity(args.loads);
    for _ in 0..args.loads {
        let started = Instant::now();
        let events = reader.read_stream(&target).await?;
        warm.push(started.elapsed());
        anyhow::ensure!(events.len() == 200, "loaded {} events, expected 200", events.len());
    }
    let mut cold = Vec::new();
    for _ in 0..20 {
        let fresh = EventLog::new(JetStreamLog::connect(config.clone()).await?);
        let started = Instant::now();
        let events = fresh.read_stream(&target).await?;
        cold.push(started.elapsed());
        anyhow::ensure!(events.len() == 200, "loaded {} events, expected 200", events.len());
    }
    warm.sort();
    cold.sort();
    JetStreamLog::connect(config).await?.delete_stream().await?;
    Ok((percentile(&warm, 0.5), percentile(&warm, 0.99), percentile(&cold, 0.5), percentile(&cold, 0.99)))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    println!(
        "casetrack bench log: {} appends of one 300-byte event to {} aggregates, {} in flight",
        args.events, args.aggregates, args.inflight
    );
    // Raw and Casetrack alternate, round after round, so that both see the same machine; the ratio of each round
    // is reported and the median of the ratios is the figure.
    anyhow::ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let mut ratios = Vec::new();
    let mut raw = 0.0;
    for round in 1..=args.rounds {
        raw = raw_jetstream(&args, &aggregate_ids(args.aggregates)).await?;
        let config = test_config(&args.nats_url, "LOG");
        let jet = JetStreamLog::connect(config.clone()).await?;
        let jet_rate = log_appends(EventLog::new(jet), &args, aggregate_ids(args.aggregates)).await?;
        let read = raw_read(&args.nats_url, &config, args.events).await?;
        JetStreamLog::connect(config).await?.delete_stream().await?;
        ratios.push(jet_rate / raw);
        println!(
            "round {round}: raw publish {raw:>7.0}/s, casetrack JetStream appends {jet_rate:>7.0}/s ({:.0}% of raw), \
             raw read-back {read:>7.0}/s",
            100.0 * jet_rate / raw
        );
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("casetrack JetStream appends, median of {} rounds: {:.0}% of raw", ratios.len(), 100.0 * median);

    let dir = std::env::temp_dir().join(format!("casetrack-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = SqliteLog::open(&dir.join("events.db")).await?;
    let sqlite_rate = log_appends(EventLog::new(sqlite), &args, aggregate_ids(args.aggregates)).await?;
    println!(
        "casetrack SQLite log appends:                          {sqlite_rate:>10.0} events/s  ({:.0}% of raw JetStream)",
        100.0 * sqlite_rate / raw
    );
    let _ = std::fs::remove_dir_all(&dir);

    let (warm50, warm99, cold50, cold99) = loads(&args).await?;
    println!(
        "load of a 200-event aggregate (JetStream): cached p50 {:.2} ms, p99 {:.2} ms; cold (new process) p50 {:.2} ms, p99 {:.2} ms",
        ms(warm50),
        ms(warm99),
        ms(cold50),
        ms(cold99)
    );
    let met = |yes: bool| if yes { "met" } else { "NOT met" };
    println!("target appends_ratio_at_least_0.70: {}", met(median >= 0.70));
    println!("target cached_load_p99_under_5ms: {}", met(warm99 < Duration::from_millis(5)));
    Ok(())
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
