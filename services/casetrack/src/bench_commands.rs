//! `casetrack bench-commands`: the whole command path over HTTP (issue 27), measured against the raw append rate of
//! the log it writes to, in the same run.
//!
//! It serves every service in this process on a port of its own (as `casetrack serve` would), creates staff
//! accounts and signs each in through `POST /api/session`, then drives a realistic mix over N connections, each
//! connection one signed-in person working through stories one command at a time:
//! - hub officers (three in four connections): register a person (`POST /api/people`), receive a referral, record a
//!   contact attempt that reached the victim, record that they accepted support, refer every other one on to the
//!   IDVA service, close with the victim's answers;
//! - IDVA caseworkers: open a case for a new victim (`POST /api/specialist/idva/new-victim-referrals`), accept it,
//!   record a risk assessment.
//!
//! After the mix it measures the raw append rate of the same kind of log (a fresh SQLite file beside the data, or
//! raw publishes to a fresh stream on the same NATS server), then the upload-to-queue time: from the start of a
//! police-feed upload (`POST /api/hub/police-feed`) until the new-referrals queue lists every row. It prints the
//! rates, each command kind's latencies, where the server's time went (the stages timed in the command path), the
//! CPU of Casetrack and of its servers, and a `target ...: met|not met` line per target of issue 27.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use casetrack_eventstore::command::stages;
use casetrack_web::{Context, Service};
use clap::Args;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::bench::{ms, percentile};
use crate::progress::thousands;

#[derive(Debug, Clone, Args)]
pub struct BenchCommandsArgs {
    /// Connections, each a signed-in member of staff sending one command at a time.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Commands to send in all (the mix is cut off once this many were sent).
    #[arg(long, default_value_t = 20_000)]
    commands: usize,
    /// Appends for the raw rate of the log, measured after the mix.
    #[arg(long, default_value_t = 50_000)]
    raw_events: usize,
    /// Rows of the police feed uploaded for the upload-to-queue time (0: skip it).
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
}

/// One signed-in member of staff on a connection of their own.
struct Staff {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

/// What a connection's work gave: each command's latency by kind, and the refusals and failures.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    failed: BTreeMap<&'static str, usize>,
    first_failure: BTreeMap<&'static str, String>,
}

impl Staff {
    async fn sign_in(base: &str, username: &str, password: &str) -> anyhow::Result<Self> {
        // One connection per member of staff, kept open, as a browser's would be.
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let response = client
            .post(format!("{base}/api/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "signing in as {username}: {}", response.status());
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .context("no session cookie")?
            .to_owned();
        let body: Value = response.json().await?;
        let csrf = body["csrf_token"].as_str().context("no CSRF token")?.to_owned();
        Ok(Self { client, base: base.to_owned(), cookie, csrf })
    }

    /// Sends one command, timing it under `kind`; the answer's JSON when it succeeded.
    async fn command(&self, tally: &mut Tally, kind: &'static str, path: &str, body: Value) -> Option<Value> {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await;
        let answer = match response {
            Ok(response) => {
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if status.is_success() { Ok(body) } else { Err(format!("{kind}: {status} {body}")) }
            }
            Err(error) => Err(format!("{kind}: {error}")),
        };
        tally.latencies.entry(kind).or_default().push(started.elapsed());
        match answer {
            Ok(body) => Some(body),
            Err(failure) => {
                *tally.failed.entry(kind).or_default() += 1;
                tally.first_failure.entry(kind).or_insert(failure);
                None
            }
        }
    }
}

/// A hub officer's story: until `left` runs out.
async fn hub_story(staff: &Staff, tally: &mut Tally, n: usize, left: &AtomicUsize) -> Option<()> {
    let take = || left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1)).is_ok();
    take().then_some(())?;
    let person = json!({"forename": "Bench", "surname": format!("Person{n}"), "date_of_birth": "1980-02-03"});
    let person = staff.command(tally, "register person", "/api/people", person).await?;
    take().then_some(())?;
    let referral = json!({"person_id": person["person_id"], "source": "partner", "domestic_abuse": true,
        "consent": "explicit", "enhanced_rights": false});
    let referral = staff.command(tally, "receive referral", "/api/hub/referrals", referral).await?;
    let path = format!("/api/hub/referrals/{}", referral["referral_id"].as_str()?);
    take().then_some(())?;
    let attempted_at = chrono::Utc::now().to_rfc3339();
    let attempt = json!({"channel": "phone", "attempted_at": attempted_at, "outcome": "reached"});
    staff.command(tally, "record attempt", &format!("{path}/contact-attempts"), attempt).await?;
    take().then_some(())?;
    staff.command(tally, "accept support", &format!("{path}/support/accept"), json!({})).await?;
    if n.is_multiple_of(2) {
        take().then_some(())?;
        staff.command(tally, "refer on", &format!("{path}/onward-referrals"), json!({"service": "idva"})).await?;
    }
    take().then_some(())?;
    let answers =
        json!({"answers": [{"measure": "cope", "answer": "improved"}, {"measure": "safer", "answer": "no_change"}]});
    staff.command(tally, "close referral", &format!("{path}/closure"), answers).await?;
    Some(())
}

/// An IDVA caseworker's story: a new victim's case, then its risk assessment.
async fn idva_story(staff: &Staff, tally: &mut Tally, n: usize, left: &AtomicUsize) -> Option<()> {
    let take = || left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1)).is_ok();
    take().then_some(())?;
    let referral = json!({"person": {"forename": "Case", "surname": format!("Victim{n}"), "date_of_birth": "1975-06-07"},
        "source": "police", "domestic_abuse": true});
    let case = staff.command(tally, "open case", "/api/specialist/idva/new-victim-referrals", referral).await?;
    let path = format!("/api/specialist/idva/cases/{}", case["case_id"].as_str()?);
    take().then_some(())?;
    staff.command(tally, "accept case", &format!("{path}/accept"), json!({})).await?;
    take().then_some(())?;
    let risk = json!({"checklist": "professional", "level": "medium"});
    staff.command(tally, "record risk", &format!("{path}/risk-assessments"), risk).await?;
    Some(())
}

/// CPU seconds (user and system) a process has used, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after its closing one.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The CPU seconds of every local process named `name` (`nats-server`, `postgres`), by pid.
fn cpu_of(name: &str) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == name)
            && let Some(seconds) = cpu_seconds(&pid)
        {
            found.insert(pid, seconds);
        }
    }
    found
}

/// CPU seconds of Casetrack and of its local servers at one moment.
struct Cpu {
    casetrack: f64,
    servers: Vec<(&'static str, BTreeMap<String, f64>)>,
}

impl Cpu {
    fn now(servers: &[&'static str]) -> Self {
        Self {
            casetrack: cpu_seconds("self").unwrap_or(0.0),
            servers: servers.iter().map(|name| (*name, cpu_of(name))).collect(),
        }
    }

    /// Each process's CPU seconds since `before` (processes started since count whole).
    fn since(&self, before: &Cpu) -> Vec<(&'static str, f64)> {
        let mut out = vec![("casetrack", self.casetrack - before.casetrack)];
        for ((name, now), (_, then)) in self.servers.iter().zip(&before.servers) {
            let used = now.iter().map(|(pid, seconds)| seconds - then.get(pid).copied().unwrap_or(0.0)).sum();
            out.push((name, used));
        }
        out
    }
}

fn cpu_line(used: &[(&'static str, f64)], wall: Duration) -> String {
    let parts: Vec<String> = used
        .iter()
        .map(|(name, seconds)| format!("{name} {seconds:.1} s ({:.2} cores)", seconds / wall.as_secs_f64()))
        .collect();
    parts.join(", ")
}

/// A police feed of `rows` made-up rows (no real people), as `scripts/gen-police-feed` writes it.
fn police_feed(rows: usize, tag: &str) -> String {
    use std::fmt::Write as _;
    let today = chrono::Utc::now().date_naive();
    let mut out = String::from(
        "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,date_of_birth,\
         gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
         safe_to_email,safe_to_write,consent_basis,enhanced_rights\n",
    );
    let categories = ["violence_with_injury", "sexual_offence", "stalking_harassment", "burglary", "theft", "fraud"];
    for i in 0..rows {
        let reported = today - chrono::Duration::days((i % 10) as i64);
        let born =
            chrono::NaiveDate::from_ymd_opt(1950, 1, 1).expect("a date") + chrono::Duration::days((i % 20_000) as i64);
        let _ = writeln!(
            out,
            "CR/{tag}/{i:07},{reported},{},{},Feed,Victim{tag}x{i},{born},F,W1,N,07700 9{:05},,{i} High Street,AB1 2CD,\
             Y,N,N,U,N,opt_out,N",
            categories[i % categories.len()],
            if i % 3 == 0 { "Y" } else { "N" },
            i % 100_000
        );
    }
    out
}

/// The new-referrals queue's count of police-feed referrals.
async fn queued(staff: &Staff) -> anyhow::Result<u64> {
    let response = staff
        .client
        .get(format!("{}/api/hub/queues/new-referrals?source=police_feed&page_size=1", staff.base))
        .header("cookie", &staff.cookie)
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "the new-referrals queue answered {}", response.status());
    let page: Value = response.json().await?;
    page["total"].as_u64().context("the queue gave no total")
}

/// From the start of an upload of `rows` rows until the new-referrals queue lists every one: (upload answered,
/// queue complete).
async fn upload_to_queue(officer: &Staff, rows: usize) -> anyhow::Result<(Duration, Duration)> {
    let before = queued(officer).await?;
    let tag = uuid::Uuid::now_v7().simple().to_string()[24..].to_owned();
    let feed = police_feed(rows, &tag);
    let progress = crate::progress::Progress::start("upload to queue", "rows", rows as u64);
    let started = Instant::now();
    let upload = officer
        .client
        .post(format!("{}/api/hub/police-feed", officer.base))
        .header("cookie", &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .header("content-type", "text/csv")
        .body(feed)
        .send();
    let mut upload = std::pin::pin!(upload);
    let mut answered = None;
    loop {
        tokio::select! {
            response = &mut upload, if answered.is_none() => {
                let response = response?;
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                anyhow::ensure!(status.is_success(), "the upload answered {status}: {body}");
                anyhow::ensure!(body["created"].as_u64() == Some(rows as u64), "the upload created {}", body["created"]);
                answered = Some(started.elapsed());
            }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                let listed = queued(officer).await?.saturating_sub(before);
                progress.set(listed.min(rows as u64));
                if listed >= rows as u64 && let Some(answered) = answered {
                    progress.finish();
                    return Ok((answered, started.elapsed()));
                }
                anyhow::ensure!(started.elapsed() < Duration::from_secs(1800), "the queue did not fill in 30 minutes");
            }
        }
    }
}

pub async fn run(
    ctx: Context,
    services: Vec<Service>,
    args: BenchCommandsArgs,
    nats_url: Option<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections >= 1, "--connections must be at least 1");
    let jetstream = ctx.log.kind() == "jetstream";
    let postgres = matches!(ctx.db.backend(), casetrack_eventstore::db::DbBackend::Postgres);
    let topology = match (jetstream, postgres) {
        (false, false) => "embedded (SQLite log, SQLite read models)",
        (true, true) => "JetStream + PostgreSQL",
        (true, false) => "JetStream + SQLite read models",
        (false, true) => "SQLite log + PostgreSQL",
    };
    let head = ctx.log.head().await?;
    if head.0 > 0 {
        eprintln!("note: the log already holds {} commits; a fresh one gives comparable figures", head.0);
    }
    let mut servers = Vec::new();
    if jetstream {
        servers.push("nats-server");
    }
    if postgres {
        servers.push("postgres");
    }

    // The server, in this process, on a port of its own.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    // The server runs beside the measurement in this task (its services' jobs are not all `Sync`, so it is not
    // spawned); the measurement stops it when done.
    let serving = casetrack_web::serve::serve(ctx.clone(), listener, services, shutdown.clone());
    let measuring = async {
        let measured = measure(&ctx, &base, &args, nats_url, &servers, jetstream, topology).await;
        shutdown.cancel();
        measured
    };
    let (served, measured) = tokio::join!(serving, measuring);
    measured?;
    served
}

async fn measure(
    ctx: &Context,
    base: &str,
    args: &BenchCommandsArgs,
    nats_url: Option<String>,
    servers: &[&'static str],
    jetstream: bool,
    topology: &str,
) -> anyhow::Result<()> {
    let health = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        anyhow::ensure!(Instant::now() < deadline, "the server did not come up in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Staff: three hub officers to each IDVA caseworker, every one an account of their own, signed in.
    let run_tag = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    let idvas = (args.connections / 4).max(usize::from(args.connections > 1));
    let mut staff = Vec::new();
    for i in 0..args.connections {
        let hub = i >= idvas;
        let role = if hub {
            casetrack_proto::Role::HubOfficer
        } else {
            casetrack_proto::Role::Caseworker(casetrack_proto::ServiceCode::parse("idva").map_err(anyhow::Error::msg)?)
        };
        let username = format!("bench.{}.{run_tag}.{i}", if hub { "officer" } else { "idva" });
        let password = casetrack_web::accounts::one_time_password();
        casetrack_web::accounts::create_account(
            &ctx.db,
            casetrack_web::accounts::NewAccount {
                username: casetrack_proto::StaffName::parse(&username).map_err(anyhow::Error::msg)?,
                display_name: format!("Bench {i}"),
                role,
                password: Some(password.clone()),
                must_change_password: false,
            },
        )
        .await
        .map_err(|error| anyhow::anyhow!("failed to create {username}: {error}"))?;
        staff.push((hub, Staff::sign_in(base, &username, &password).await?));
    }
    println!(
        "casetrack bench-commands: {topology}; {} commands over {} connections ({} hub officers, {} IDVA caseworkers)",
        args.commands,
        args.connections,
        args.connections - idvas,
        idvas
    );

    // The mix.
    let left = Arc::new(AtomicUsize::new(args.commands));
    let stories = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(crate::progress::Progress::start("commands", "commands", args.commands as u64));
    let stages_before = stages::snapshot();
    let cpu_before = Cpu::now(servers);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for (hub, staff) in staff {
        let (left, stories, progress) = (left.clone(), stories.clone(), progress.clone());
        workers.spawn(async move {
            let mut tally = Tally::default();
            while left.load(Ordering::Relaxed) > 0 {
                let n = stories.fetch_add(1, Ordering::Relaxed);
                let sent = tally.latencies.values().map(Vec::len).sum::<usize>();
                let _ = if hub {
                    hub_story(&staff, &mut tally, n, &left).await
                } else {
                    idva_story(&staff, &mut tally, n, &left).await
                };
                progress.inc((tally.latencies.values().map(Vec::len).sum::<usize>() - sent) as u64);
            }
            (staff, hub, tally)
        });
    }
    let mut all = Tally::default();
    let mut officer = None;
    while let Some(done) = workers.join_next().await {
        let (staff, hub, tally) = done?;
        for (kind, latencies) in tally.latencies {
            all.latencies.entry(kind).or_default().extend(latencies);
        }
        for (kind, failed) in tally.failed {
            *all.failed.entry(kind).or_default() += failed;
        }
        for (kind, failure) in tally.first_failure {
            all.first_failure.entry(kind).or_insert(failure);
        }
        if hub && officer.is_none() {
            officer = Some(staff);
        }
    }
    let wall = started.elapsed();
    let cpu = Cpu::now(servers).since(&cpu_before);
    let stages_after = stages::snapshot();
    progress.finish();

    let sent: usize = all.latencies.values().map(Vec::len).sum();
    let failed: usize = all.failed.values().sum();
    let rate = sent as f64 / wall.as_secs_f64();
    let mut every: Vec<Duration> = all.latencies.values().flatten().copied().collect();
    every.sort();
    println!();
    println!(
        "{} commands in {:.1} s: {} commands/s ({} refused or failed)",
        thousands(sent as u64),
        wall.as_secs_f64(),
        thousands(rate as u64),
        failed
    );
    println!("{:<18} {:>7} {:>9} {:>9} {:>9} {:>9}", "command", "count", "p50 ms", "p95 ms", "p99 ms", "max ms");
    for (kind, latencies) in all.latencies.iter_mut().chain([(&"all", &mut every)]) {
        latencies.sort();
        println!(
            "{kind:<18} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}{}",
            latencies.len(),
            ms(percentile(latencies, 0.50)),
            ms(percentile(latencies, 0.95)),
            ms(percentile(latencies, 0.99)),
            ms(*latencies.last().expect("not empty")),
            all.failed.get(kind).map_or(String::new(), |f| format!("  ({f} refused or failed)"))
        );
    }
    for failure in all.first_failure.values() {
        println!("first refusal or failure of its kind: {failure}");
    }
    println!("where the server's time went (mean per pass, and per command sent):");
    for ((stage, count_before, total_before), (_, count_after, total_after)) in stages_before.iter().zip(&stages_after)
    {
        let count = count_after - count_before;
        let total = total_after.saturating_sub(*total_before);
        if count == 0 {
            continue;
        }
        println!(
            "  {:<14} {:>8} passes, mean {:>7.2} ms, {:>7.2} ms per command",
            stage.name(),
            count,
            ms(total) / count as f64,
            ms(total) / sent.max(1) as f64
        );
    }
    println!("CPU during the mix ({:.1} s): {}", wall.as_secs_f64(), cpu_line(&cpu, wall));

    // The raw append rate of the same kind of log, after the mix so that they never share the machine.
    let raw = if jetstream {
        let url = nats_url.clone().context("a JetStream log needs --nats-url")?;
        crate::bench::raw_jetstream_rate(&url, args.raw_events, 10_000, 256).await?
    } else {
        crate::bench::sqlite_append_rate(&std::env::temp_dir(), args.raw_events, 10_000, 256).await?
    };
    let ratio = rate / raw;
    println!(
        "raw append rate of the log ({}): {} events/s; commands over HTTP are {:.1}% of it",
        if jetstream { "JetStream publishes with Casetrack's headers, 256 in flight" } else { "SQLite log appends" },
        thousands(raw as u64),
        100.0 * ratio
    );

    // Upload to queue.
    let upload = match (args.rows, &officer) {
        (0, _) | (_, None) => None,
        (rows, Some(officer)) => {
            let cpu_before = Cpu::now(servers);
            let (answered, listed) = upload_to_queue(officer, rows).await?;
            let cpu = Cpu::now(servers).since(&cpu_before);
            println!(
                "upload to queue, {} rows: the upload answered after {:.1} s, the new-referrals queue listed every row \
                 after {:.1} s",
                thousands(rows as u64),
                answered.as_secs_f64(),
                listed.as_secs_f64()
            );
            println!("CPU during the upload: {}", cpu_line(&cpu, listed));
            Some((rows, listed))
        }
    };

    let met = |yes: bool| if yes { "met" } else { "not met" };
    let p99 = percentile(&every, 0.99);
    println!("target commands_at_least_15pct_of_raw_appends: {} ({:.1}%)", met(ratio >= 0.15), 100.0 * ratio);
    println!("target p99_under_25ms_at_32_connections: {} ({:.1} ms)", met(p99 < Duration::from_millis(25)), ms(p99));
    let limit = if jetstream { 45 } else { 30 };
    match upload {
        Some((rows, listed)) if rows >= 100_000 => println!(
            "target upload_to_queue_100k_under_{limit}s: {} ({:.1} s)",
            met(listed < Duration::from_secs(limit)),
            listed.as_secs_f64()
        ),
        Some((rows, listed)) => println!(
            "target upload_to_queue_100k_under_{limit}s: not measured ({rows} rows took {:.1} s; run with --rows 100000)",
            listed.as_secs_f64()
        ),
        None => println!("target upload_to_queue_100k_under_{limit}s: not measured (--rows 0)"),
    }
    println!("target rebuild_at_least_50pct_of_raw_read: measured by casetrack bench-rebuild");
    println!(
        "target nothing_else_falls: compare casetrack bench, bench-reporting and bench-rebuild with docs/performance.md"
    );

    Ok(())
}
