//! The one settings struct of the binary: the platform's (where data lives, the backends, sessions) flattened
//! beside each service's own flags. Every flag has a `CASETRACK_*` environment twin.

use std::path::PathBuf;

use casetrack_casework::catalogue::Catalogue;
use casetrack_web::Context;
use clap::Args;

#[derive(Debug, Clone, Args)]
// Flattened with the platform's `Settings`: clap would name both argument groups `Settings`.
#[group(skip)]
pub struct Settings {
    #[command(flatten)]
    pub platform: casetrack_web::config::Settings,
    /// Specialist services file (the shipped `config/services.toml` when absent).
    #[arg(long, env = "CASETRACK_SERVICES_FILE")]
    pub services_file: Option<PathBuf>,
    /// Hub attempt rule: unsuccessful attempts needed before "unable to contact".
    #[arg(long, env = "CASETRACK_HUB_ATTEMPTS", default_value_t = 3)]
    pub hub_attempts: u32,
    /// Hub attempt rule: different times of day (morning, afternoon, evening) those attempts must cover.
    #[arg(long, env = "CASETRACK_HUB_ATTEMPT_BANDS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=3))]
    pub hub_attempt_bands: u32,
    /// Public self-referral form submissions allowed from one address per hour (per process).
    #[arg(long, env = "CASETRACK_SELF_REFERRALS_PER_HOUR", default_value_t = 10)]
    pub self_referrals_per_hour: u32,
    /// Days back a record may be dated without giving a reason; further back needs a reason and is flagged in
    /// the audit trail as a late entry.
    #[arg(long, env = "CASETRACK_BACK_DATING_DAYS", default_value_t = 14)]
    pub back_dating_days: u32,
    /// Months after a person's last referral or case ended (or their registration, if never referred) after
    /// which they are erased by the daily retention job; 0 turns the job off.
    #[arg(long, env = "CASETRACK_RETENTION_MONTHS", default_value_t = 72)]
    pub retention_months: u32,
    /// Counts from 1 to this minus one are shown to commissioners as "<N" (with enough others hidden that none can
    /// be worked out).
    #[arg(long, env = "CASETRACK_SUPPRESSION_THRESHOLD", default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=100))]
    pub suppression_threshold: u64,
    #[command(flatten)]
    pub oidc: casetrack_access::oidc::OidcSettings,
}

impl Settings {
    /// The specialist services this installation runs.
    pub fn catalogue(&self) -> anyhow::Result<Catalogue> {
        match &self.services_file {
            Some(path) => Catalogue::load(path),
            None => Ok(Catalogue::shipped()),
        }
    }

    /// Connects to the configured backends, with this installation's services.
    pub async fn connect(&self) -> anyhow::Result<Context> {
        Ok(Context::connect(&self.platform).await?.with_catalogue(self.catalogue()?))
    }
}
