//! `casetrack`: the one binary. It parses flags, picks services and supervises them; everything else is in the
//! service crates and the platform.

mod bench;
mod import;

use std::collections::BTreeSet;

use anyhow::Context as _;
use casetrack_platform::catalogue::Catalogue;
use casetrack_platform::config::Settings;
use casetrack_platform::projection::ProjectionRunner;
use casetrack_platform::{Context, Service};
use casetrack_proto::ServiceCode;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

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
        /// Services to run: all, or a comma-separated list of hub, people, idva, isva, stalking, rj, reporting.
        #[arg(long, env = "CASETRACK_SERVICES", default_value = "all")]
        services: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Replay the log from the start into read models, with identical results.
    Rebuild {
        /// Only this projection (see `casetrack admin projections`).
        #[arg(long)]
        projection: Option<String>,
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
    /// Benchmarks of the event log (see docs/performance.md).
    Bench(bench::BenchArgs),
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
                selection.people = true;
                selection.hub = true;
                selection.reporting = true;
                selection.specialist.extend(specialist.iter().map(|s| s.to_string()));
            }
            "people" => selection.people = true,
            "hub" => selection.hub = true,
            "reporting" => selection.reporting = true,
            other if specialist.contains(&other) => {
                selection.specialist.insert(other.to_owned());
            }
            other => anyhow::bail!(
                "unknown service {other:?}; choose from all, hub, people, {}, reporting",
                specialist.join(", ")
            ),
        }
    }
    anyhow::ensure!(selection != Selection::default(), "--services names no service");
    Ok(selection)
}

fn services(ctx: &Context, selection: &Selection, settings: &Settings) -> Vec<Service> {
    let mut services = Vec::new();
    if selection.people {
        services.push(casetrack_people::service(ctx));
    }
    if selection.hub {
        let hub = casetrack_hub::HubSettings {
            attempt_rule: casetrack_platform::contact::AttemptRule {
                attempts: settings.hub_attempts,
                distinct_bands: settings.hub_attempt_bands,
            },
            self_referrals_per_hour: settings.self_referrals_per_hour,
        };
        services.push(casetrack_hub::service_with(ctx, hub));
    }
    if !selection.specialist.is_empty() {
        let codes: Vec<ServiceCode> = selection
            .specialist
            .iter()
            .map(|c| ServiceCode::parse(c).expect("known service codes are valid"))
            .collect();
        services.push(casetrack_specialist::service(ctx, &codes));
    }
    if selection.reporting {
        services.push(casetrack_reporting::service(ctx));
    }
    services
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { services: list, settings } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            let ctx = Context::connect(&settings).await?;
            let selection = select(&list, &ctx.catalogue)?;
            let listener = tokio::net::TcpListener::bind(settings.listen)
                .await
                .with_context(|| format!("failed to listen on {}", settings.listen))?;
            // The one line on standard output: where to reach it (useful with `--listen 127.0.0.1:0`).
            println!("listening on http://{}", listener.local_addr()?);
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            let services = services(&ctx, &selection, &settings);
            casetrack_platform::service::serve(ctx, listener, services, shutdown).await
        }
        Command::Rebuild { projection, settings } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            let ctx = Context::connect(&settings).await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings);
            casetrack_platform::service::migrate(&ctx, &services).await?;
            let projections: Vec<_> = services
                .iter()
                .flat_map(|s| s.projections.iter().cloned())
                .filter(|p| projection.as_deref().is_none_or(|name| p.name() == name))
                .collect();
            if projections.is_empty() {
                let known: Vec<_> = services.iter().flat_map(|s| s.projections.iter().map(|p| p.name())).collect();
                anyhow::bail!("no projection named {:?}; known: {}", projection.unwrap_or_default(), known.join(", "));
            }
            for projection in projections {
                let name = projection.name();
                let started = std::time::Instant::now();
                let runner = ProjectionRunner::new(ctx.db.clone(), ctx.log.clone(), projection, &ctx.projections);
                let position = runner.rebuild().await.with_context(|| format!("failed to rebuild {name}"))?;
                println!("rebuilt {name} to log position {position} in {:.1?}", started.elapsed());
            }
            Ok(())
        }
        Command::Admin { command: AdminCommand::Projections { settings } } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            let ctx = Context::connect(&settings).await?;
            let services = services(&ctx, &select("all", &ctx.catalogue)?, &settings);
            casetrack_platform::service::migrate(&ctx, &services).await?;
            let head = ctx.log.head().await?;
            println!("log head: {head}");
            for service in &services {
                for projection in &service.projections {
                    let position = casetrack_platform::projection::load_checkpoint(&ctx.db, projection.name()).await?;
                    println!(
                        "{:<32} position {:>10}  lag {:>10}",
                        projection.name(),
                        position.0,
                        head.0.saturating_sub(position.0)
                    );
                }
            }
            Ok(())
        }
        Command::Import { command: ImportCommand::PoliceFeed { file, dry_run, rejects, settings } } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            import::police_feed(&settings, &file, dry_run, rejects).await
        }
        Command::Admin { command: AdminCommand::ErasePerson { person, reason, settings } } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            let ctx = Context::connect(&settings).await?;
            let reason = match reason.as_str() {
                "retention" => casetrack_proto::people::ErasureReason::Retention,
                _ => casetrack_proto::people::ErasureReason::Request,
            };
            let meta = casetrack_platform::command::CommandMeta::new(
                casetrack_proto::Actor { user_id: None, role: casetrack_proto::Role::Administrator },
                chrono::Utc::now(),
            );
            match casetrack_people::person::erase_person(&ctx, person, reason, &meta).await {
                Ok(executed) => {
                    println!("erased person {person} at log position {}", executed.position.map_or(0, |p| p.0));
                    Ok(())
                }
                Err(casetrack_platform::command::CommandError::Rejected(rejection)) => {
                    anyhow::bail!("not erased: {rejection}")
                }
                Err(error) => Err(anyhow::anyhow!("erasure failed: {error}")),
            }
        }
        Command::Admin { command: AdminCommand::ExportPerson { person, settings } } => {
            casetrack_platform::telemetry::init_tracing(&settings.log_format);
            let ctx = Context::connect(&settings).await?;
            let export = casetrack_people::export::export(&ctx, person)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no such person"))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
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
