//! `casetrack`: the one binary. It parses flags, picks services and supervises them; everything else is in the
//! service crates and the platform.

mod bench;
mod bench_caseload;
mod bench_commands;
mod bench_reporting;
mod demo;
mod history;
mod import;
mod progress;
mod report;
mod settings;

use std::collections::BTreeSet;

use crate::settings::Settings;
use anyhow::Context as _;
use casetrack_casework::catalogue::Catalogue;
use casetrack_proto::ServiceCode;
use casetrack_web::{Context, Service};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// mimalloc instead of the system allocator: projections fold batches of 100,000 events into short-lived maps and
/// strings, and glibc's allocator spent a fifth of a rebuild's CPU consolidating and freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "casetrack", version, about = "Case and referral tracking for victim services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the selected services (all of them by default) on one listener.
    Serve {
        /// Services to run: all, or a comma-separated list of access, hub, people, idva, isva, stalking, rj,
        /// reporting (and any other service of the catalogue).
        #[arg(long, env = "CASETRACK_SERVICES", default_value = "all")]
        services: String,
        /// On an empty log, fill it with a made-up year (as `casetrack demo`) while serving: for trying Casetrack.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Replay the log from the start into read models, with identical results.
    Rebuild {
        /// Only this projection (see `casetrack admin projections`).
        #[arg(long)]
        projection: Option<String>,
        /// About how many events each projection applies a transaction. Smaller batches hold less in memory and
        /// take longer; the read models come out the same.
        #[arg(long, default_value_t = casetrack_eventstore::projection::REBUILD_BATCH_EVENTS as u64,
              value_parser = clap::value_parser!(u64).range(1..))]
        batch_events: u64,
        #[command(flatten)]
        settings: Settings,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import referrals.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The pathway figures for a period: a table, JSON or CSV (see docs/metrics.md).
    Report(report::ReportArgs),
    /// Benchmarks of the event log (see docs/performance.md).
    Bench(bench::BenchArgs),
    /// Times the dashboard's and report's queries over many made-up referrals (see docs/performance.md).
    BenchReporting(bench_reporting::BenchReportingArgs),
    /// Times a specialist service's caseload page (each tab, first page and far down) over 100,000 made-up cases
    /// in an empty database, beside the raw read of a page from its index.
    BenchCaseload(bench_caseload::BenchCaseloadArgs),
    /// Drives a mix of staff's commands through the HTTP API against the raw append rate of the same log, and times
    /// a police-feed upload until the queue lists it (see docs/performance.md).
    BenchCommands {
        #[command(flatten)]
        args: bench_commands::BenchCommandsArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Times a rebuild of every read model against a raw read of the same log (see docs/performance.md).
    BenchRebuild {
        #[command(flatten)]
        settings: Settings,
    },
    /// Give a made-up year of referrals through the real commands, for trying Casetrack (never on live data).
    Demo {
        #[command(flatten)]
        demo: demo::DemoArgs,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// The police feed CSV: each valid row registers the victim and receives a referral; bad rows are listed in a
    /// rejects file and never block the good ones. Importing the same file again creates nothing new.
    PoliceFeed {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Check every row and write the rejects file, but import nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where to write the rejected rows' line numbers and reasons (default: beside the file, .rejects.csv).
        #[arg(long)]
        rejects: Option<std::path::PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
    /// A service's caseload and history from another case system (docs/history-import.md): one row per hub
    /// referral or specialist case, each fact dated as in the file, through the same rules as live work. Rows the
    /// rules refuse are listed in a rejects file and never block the others; importing again writes nothing new.
    History {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Check every row against the rules and write the rejects file, but import nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where to write the rejected rows' lines, columns and rules (default: beside the file, .rejects.csv).
        #[arg(long)]
        rejects: Option<std::path::PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// List projections with their checkpoints and lag.
    Projections {
        #[command(flatten)]
        settings: Settings,
    },
    /// Erase a person: destroy their data key (nothing sealed for them can be read again) and record it.
    ErasePerson {
        /// The person's id.
        #[arg(long)]
        person: casetrack_proto::PersonId,
        /// request (the person asked) or retention (the retention period ran out).
        #[arg(long, value_parser = ["request", "retention"])]
        reason: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Create an account. Without --password-stdin, a one-time password is printed, to be changed at first sign-in.
    CreateUser {
        /// Sign-in name, lower case (a.khan).
        #[arg(long)]
        username: String,
        /// The person's name as colleagues know it.
        #[arg(long)]
        name: String,
        /// hub_officer, hub_manager, caseworker, service_manager, commissioner, auditor or administrator.
        #[arg(long)]
        role: String,
        /// The service of a caseworker or service manager (idva, isva, ...).
        #[arg(long)]
        service: Option<String>,
        /// Read the password from standard input instead of generating a one-time password.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Erase the people past the retention period (--retention-months), or with --dry-run only list them.
    Retention {
        /// List who is due, erase nobody.
        #[arg(long)]
        dry_run: bool,
        /// Judge as of this day (YYYY-MM-DD) instead of now: what a later run will find.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Print every route with the permission it needs, as JSON (what `tests/access.rs` walks).
    Routes {
        #[command(flatten)]
        settings: Settings,
    },
    /// Print the subject-access export of a person as JSON (everything the people service holds about them).
    ExportPerson {
        #[arg(long)]
        person: casetrack_proto::PersonId,
        #[command(flatten)]
        settings: Settings,
    },
}

/// What `--services` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Selection {
    access: bool,
    people: bool,
    hub: bool,
    reporting: bool,
    specialist: BTreeSet<String>,
}

/// Parses `--services`: `all`, `people`, `hub`, `reporting`, or any specialist service of the catalogue.
fn select(list: &str, catalogue: &Catalogue) -> anyhow::Result<Selection> {
    let specialist: Vec<&str> = catalogue.all().iter().map(|s| s.code.as_str()).collect();
    let mut selection = Selection::default();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "all" => {
                selection.access = true;
                selection.people = true;
                selection.hub = true;
                selection.reporting = true;
                selection.specialist.extend(specialist.iter().map(|s| s.to_string()));
            }
            "access" => selection.access = true,
            "people" => selection.people = true,
            "hub" => selection.hub = true,
            "reporting" => selection.reporting = true,
            other if specialist.contains(&other) => {
                selection.specialist.insert(other.to_owned());
            }
            other => anyhow::bail!(
                "unknown service {other:?}; choose from all, access, hub, people, {}, reporting",
                specialist.join(", ")
            ),
        }
    }
    anyhow::ensure!(selection != Selection::default(), "--services names no service");
    Ok(selection)
}

/// The services a process does not run, as documentation only (their part of the OpenAPI document and their
/// routes' permissions, which say how each operation is secured; no router, projection or job): every process
/// answers `/api/openapi.json` with the whole installation's API, since behind the proxy that one route reaches
/// one process and a partner needs every operation.
fn documentation_of_the_rest(ctx: &Context, running: &[Service], settings: &Settings) -> anyhow::Result<Vec<Service>> {
    let names: BTreeSet<&str> = running.iter().map(|s| s.name).collect();
    let everything = services(ctx, &select("all", &ctx.catalogue)?, settings)?;
    Ok(everything
        .into_iter()
        .filter(|service| !names.contains(service.name))
        .map(|service| {
            let mut documented = Service::new(service.name);
            documented.openapi = service.openapi;
            documented.rules = service.rules;
            documented
        })
        .collect())
}

fn services(ctx: &Context, selection: &Selection, settings: &Settings) -> anyhow::Result<Vec<Service>> {
    let mut services = Vec::new();
    if selection.access {
        let access = casetrack_access::AccessSettings {
            retention_months: settings.retention_months,
            oidc: casetrack_access::oidc::config_from(&settings.oidc)?,
        };
        services.push(casetrack_access::service(ctx, access));
    }
    if selection.people {
        services.push(casetrack_people::service(ctx));
    }
    if selection.hub {
        let hub = casetrack_hub::HubSettings {
            attempt_rule: casetrack_casework::contact::AttemptRule {
                attempts: settings.hub_attempts,
                distinct_bands: settings.hub_attempt_bands,
            },
            self_referrals_per_hour: settings.self_referrals_per_hour,
            back_dating: casetrack_casework::occurred::BackDating { days: settings.back_dating_days },
        };
        services.push(casetrack_hub::service_with(ctx, hub));
    }
    if !selection.specialist.is_empty() {
        let codes: Vec<ServiceCode> = selection
            .specialist
            .iter()
            .map(|c| ServiceCode::parse(c).expect("known service codes are valid"))
            .collect();
        services.push(casetrack_specialist::service_with(
            ctx,
            &codes,
            casetrack_casework::occurred::BackDating { days: settings.back_dating_days },
        ));
    }
    if selection.reporting {
        services.push(casetrack_reporting::service_with(ctx, settings.suppression_threshold));
    }
    if selection.hub || !selection.specialist.is_empty() {
        let rules = history::Rules::from_settings(settings)?;
        services.push(history::api::service(ctx, rules, selection.hub, !selection.specialist.is_empty()));
    }
    Ok(services)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { services: list, demo, settings } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let selection = select(&list, &ctx.catalogue)?;
            let initial = settings.platform.initial_admin_password.as_ref().map(|secret| secret.expose());
            if let Some(password) = casetrack_web::accounts::bootstrap_administrator(&ctx.db, initial).await? {
                // Printed once, to the operator starting Casetrack for the first time; never logged.
                eprintln!(
                    "First start: created the administrator account \"admin\" with the one-time password {password} \
                     (it must be changed at first sign-in)."
                );
            }
            let mut services = services(&ctx, &selection, &settings)?;
            services.extend(documentation_of_the_rest(&ctx, &services, &settings)?);
            let listener = tokio::net::TcpListener::bind(settings.platform.listen)
                .await
                .with_context(|| format!("failed to listen on {}", settings.platform.listen))?;
            // The one line on standard output: where to reach it (useful with `--listen 127.0.0.1:0`).
            println!("listening on http://{}", listener.local_addr()?);
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            if demo && ctx.log.head().await?.0 == 0 {
                casetrack_web::serve::migrate(&ctx, &services).await?;
                // The figures fill in while it runs: the projections follow the log as usual.
                let demo_ctx = ctx.clone();
                tokio::spawn(async move {
                    let args = demo::DemoArgs { referrals: 4000, seed: 2026 };
                    match demo::generate(&demo_ctx, &args).await {
                        Ok(done) => eprintln!("{}", done.summary()),
                        Err(error) => eprintln!("the demo year could not be made: {error:#}"),
                    }
                });
            }
            casetrack_web::serve::serve(ctx, listener, services, shutdown).await
        }
        Command::Rebuild { projection, batch_events, settings } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            casetrack_web::serve::migrate(&ctx, &services).await?;
            let projections: Vec<_> = services
                .iter()
                .flat_map(|s| s.projections.iter().cloned())
                .filter(|p| projection.as_deref().is_none_or(|name| p.name() == name))
                .collect();
            if projections.is_empty() {
                let known: Vec<_> = services.iter().flat_map(|s| s.projections.iter().map(|p| p.name())).collect();
                anyhow::bail!("no projection named {:?}; known: {}", projection.unwrap_or_default(), known.join(", "));
            }
            rebuild(&ctx, projections, usize::try_from(batch_events)?).await?;
            Ok(())
        }
        Command::Admin { command: AdminCommand::Projections { settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            casetrack_web::serve::migrate(&ctx, &services).await?;
            // Each projection's lag against the head of the log it reads, as `/readyz` measures it: the audit
            // trail's projections against the audit stream, not the case history.
            let heads = casetrack_eventstore::projection::Heads::read(&ctx.log, &ctx.audit).await?;
            println!("log head: {}", heads.events);
            println!("audit head: {}", heads.audit);
            for service in &services {
                for projection in &service.projections {
                    let position =
                        casetrack_eventstore::projection::load_checkpoint(&ctx.db, projection.name()).await?;
                    println!(
                        "{:<32} position {:>10}  lag {:>10}",
                        projection.name(),
                        position.0,
                        heads.lag(projection.name(), position)
                    );
                }
            }
            Ok(())
        }
        Command::Import { command: ImportCommand::PoliceFeed { file, dry_run, rejects, settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            import::police_feed(&settings, &file, dry_run, rejects).await
        }
        Command::Import { command: ImportCommand::History { file, dry_run, rejects, settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            history::run(&settings, &file, dry_run, rejects).await
        }
        Command::Admin { command: AdminCommand::ErasePerson { person, reason, settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let reason = match reason.as_str() {
                "retention" => casetrack_proto::people::ErasureReason::Retention,
                _ => casetrack_proto::people::ErasureReason::Request,
            };
            let meta = casetrack_eventstore::command::CommandMeta::new(
                casetrack_proto::Actor { user_id: None, role: casetrack_proto::Role::Administrator },
                chrono::Utc::now(),
            );
            let result = casetrack_people::interface::erase(&ctx, person, reason, &meta).await;
            let records = [("person_id".to_owned(), person.to_string())].into();
            casetrack_web::access::record_offline(
                &ctx,
                "casetrack admin erase-person",
                records,
                Some(person),
                result.is_ok(),
            )
            .await?;
            match result {
                Ok(executed) => {
                    println!("erased person {person} at log position {}", executed.position.map_or(0, |p| p.0));
                    Ok(())
                }
                Err(casetrack_eventstore::command::CommandError::Rejected(rejection)) => {
                    anyhow::bail!("not erased: {rejection}")
                }
                Err(error) => Err(anyhow::anyhow!("erasure failed: {error}")),
            }
        }
        Command::Admin {
            command: AdminCommand::CreateUser { username, name, role, service, password_stdin, settings },
        } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let username = casetrack_proto::StaffName::parse(&username).map_err(anyhow::Error::msg)?;
            let role = casetrack_web::accounts::parse_role(&role, service.as_deref()).map_err(anyhow::Error::msg)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("failed to read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let generated = password.is_none().then(casetrack_web::accounts::one_time_password);
            let new = casetrack_web::accounts::NewAccount {
                username,
                display_name: name,
                role,
                must_change_password: generated.is_some(),
                password: password.or_else(|| generated.clone()),
            };
            let result = casetrack_web::accounts::create_account(&ctx.db, new).await;
            let records = match &result {
                Ok(account) => [("account_id".to_owned(), account.account_id.0.to_string())].into(),
                Err(_) => Default::default(),
            };
            casetrack_web::access::record_offline(&ctx, "casetrack admin create-user", records, None, result.is_ok())
                .await?;
            match result {
                Ok(account) => {
                    println!("created {} ({})", account.username.as_str(), account.account_id);
                    if let Some(password) = generated {
                        println!("one-time password: {password}");
                    }
                    Ok(())
                }
                Err(casetrack_web::accounts::AccountFailure::Refused(refused)) => {
                    anyhow::bail!("not created: {refused}")
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Admin { command: AdminCommand::Retention { dry_run, as_of, settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            anyhow::ensure!(settings.retention_months > 0, "--retention-months is 0: retention is turned off");
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            casetrack_web::serve::migrate(&ctx, &services).await?;
            let now = as_of.map_or_else(chrono::Utc::now, |day| day.and_time(chrono::NaiveTime::MIN).and_utc());
            let report = casetrack_access::retention::run(&ctx, settings.retention_months, now, dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Admin { command: AdminCommand::Routes { settings } } => {
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            let (_, common) = casetrack_web::http::common_routes(
                ctx.clone(),
                utoipa::openapi::OpenApiBuilder::new().build(),
                Vec::new(),
            )
            .into_parts();
            let routes: Vec<serde_json::Value> = services
                .iter()
                .flat_map(|service| service.rules.iter())
                .chain(common.iter())
                .map(|rule| {
                    serde_json::json!({"path": rule.path, "permission": rule.permission.code(),
                        "person_level": rule.person_level})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&routes)?);
            Ok(())
        }
        Command::Admin { command: AdminCommand::ExportPerson { person, settings } } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let records = [("person_id".to_owned(), person.to_string())].into();
            casetrack_web::access::record_offline(&ctx, "casetrack admin export-person", records, Some(person), true)
                .await?;
            let export = casetrack_people::interface::export(&ctx, person)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no such person"))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
        Command::BenchReporting(args) => bench_reporting::run(args).await,
        Command::BenchCaseload(args) => bench_caseload::run(args).await,
        Command::BenchCommands { args, settings } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            bench_commands::run(ctx, services, args, settings.platform.nats_url.clone()).await
        }
        Command::BenchRebuild { settings } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            casetrack_web::serve::migrate(&ctx, &services).await?;
            let projections = services.iter().flat_map(|s| s.projections.iter().cloned()).collect();
            bench_reporting::rebuild(&ctx, projections).await
        }
        Command::Demo { demo: args, settings } => {
            casetrack_web::telemetry::init_tracing(&settings.platform.log_format);
            let ctx = settings.connect().await?;
            // The commands read their services' read models: their tables must exist.
            let every = services(&ctx, &select("all", &ctx.catalogue)?, &settings)?;
            casetrack_web::serve::migrate(&ctx, &every).await?;
            let started = std::time::Instant::now();
            let done = demo::generate(&ctx, &args).await?;
            println!("{} in {:.0?}", done.summary(), started.elapsed());
            anyhow::ensure!(done.refused == 0, "the rules refused {} of the demo's commands", done.refused);
            Ok(())
        }
        Command::Report(args) => report::run(args).await,
    }
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

/// Rebuilds `projections` from the start of their logs, each log read once for all of its projections, saying how
/// long each took.
pub async fn rebuild(
    ctx: &Context,
    projections: Vec<std::sync::Arc<dyn casetrack_eventstore::projection::Projection>>,
    batch_events: usize,
) -> anyhow::Result<std::time::Duration> {
    use casetrack_eventstore::projection::{Source, rebuild_all};
    let started = std::time::Instant::now();
    let (audit, events): (Vec<_>, Vec<_>) = projections.into_iter().partition(|p| p.source() == Source::Audit);
    for (what, log, projections) in [("rebuild", &ctx.log, events), ("rebuild audit trail", &ctx.audit, audit)] {
        if projections.is_empty() {
            continue;
        }
        let names: Vec<&'static str> = projections.iter().map(|p| p.name()).collect();
        let head = log.head().await?.0;
        let progress = progress::Progress::start(what, "commits", head);
        // The runners publish each batch's last position in the registry: the slowest of them is how far it got.
        let follow = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let reached = names.iter().map(|name| ctx.projections.status(name).position().0).min();
                progress.set(reached.unwrap_or(0).min(head));
            }
        };
        let rebuilt = tokio::select! {
            rebuilt = rebuild_all(&ctx.db, log, projections, &ctx.projections, batch_events) => rebuilt?,
            () = follow => unreachable!("it follows until the rebuild ends"),
        };
        progress.set(head);
        progress.finish();
        for rebuilt in rebuilt {
            println!("rebuilt {} to log position {} ({:.1?} applying)", rebuilt.name, rebuilt.position, rebuilt.busy);
        }
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_selected_by_name() {
        let catalogue = Catalogue::shipped();
        let selection = select("hub,idva", &catalogue).unwrap();
        assert!(selection.hub && !selection.people && !selection.reporting);
        assert_eq!(selection.specialist.into_iter().collect::<Vec<_>>(), vec!["idva"]);
        assert_eq!(select("all", &catalogue).unwrap().specialist.len(), catalogue.all().len());
        assert!(select("mental_health", &catalogue).unwrap().specialist.contains("mental_health"));
        assert!(select("hub,nonsense", &catalogue).unwrap_err().to_string().contains("unknown service \"nonsense\""));
        assert!(select(",", &catalogue).is_err());
    }
}
