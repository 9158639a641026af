//! The one settings struct: flags, `CASETRACK_*` environment variables, defaults for the embedded office.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// A value that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Where Casetrack keeps its data and how it talks to the world. With nothing set, everything is embedded under
/// `./data`: the SQLite log, the SQLite read models and the generated master key.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to serve HTTP on.
    #[arg(long, env = "CASETRACK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder for the embedded log, embedded read models and the generated master key.
    #[arg(long, env = "CASETRACK_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// NATS server with JetStream for the event log (embedded SQLite log when absent).
    #[arg(long, env = "CASETRACK_NATS_URL")]
    pub nats_url: Option<String>,
    /// JetStream stream holding the log.
    #[arg(long, env = "CASETRACK_NATS_STREAM", default_value = "CASETRACK")]
    pub nats_stream: String,
    /// First token of every subject in the stream.
    #[arg(long, env = "CASETRACK_NATS_SUBJECT_PREFIX", default_value = "casetrack")]
    pub nats_subject_prefix: String,
    /// Replicas of the stream when Casetrack creates it (1, or 3 on a cluster).
    #[arg(long, env = "CASETRACK_NATS_REPLICAS", default_value_t = 1)]
    pub nats_replicas: usize,
    /// PostgreSQL URL for read models, vault and sessions (embedded SQLite when absent).
    #[arg(long, env = "CASETRACK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Master key for personal data, base64 of 32 bytes (generated into the data folder when absent).
    #[arg(long, env = "CASETRACK_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<Secret>,
    /// Log output: `text` for people, `json` for collectors.
    #[arg(long, env = "CASETRACK_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
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
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "CASETRACK_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,
    /// Hours after signing in at which a session ends, however busy.
    #[arg(long, env = "CASETRACK_SESSION_HOURS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=24))]
    pub session_hours: u32,
    /// The first administrator's password, for an installation with no accounts yet (automated set-ups). Without
    /// it, the first start creates `admin` with a one-time password printed once, to be changed at first sign-in.
    #[arg(long, env = "CASETRACK_INITIAL_ADMIN_PASSWORD", hide_env_values = true)]
    pub initial_admin_password: Option<Secret>,
    /// Months after a person's last referral or case ended (or their registration, if never referred) after
    /// which they are erased by the daily retention job; 0 turns the job off.
    #[arg(long, env = "CASETRACK_RETENTION_MONTHS", default_value_t = 72)]
    pub retention_months: u32,
    /// Counts from 1 to this minus one are shown to commissioners as "<N" (with enough others hidden that none can
    /// be worked out).
    #[arg(long, env = "CASETRACK_SUPPRESSION_THRESHOLD", default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=100))]
    pub suppression_threshold: u64,
    /// OpenID Connect provider (issuer URL) for signing in with the organisation's accounts.
    #[arg(long, env = "CASETRACK_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Casetrack's client id at the provider.
    #[arg(long, env = "CASETRACK_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// Casetrack's client secret at the provider.
    #[arg(long, env = "CASETRACK_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<Secret>,
    /// The redirect address registered with the provider (https://casetrack.example/oidc/callback); without it,
    /// the address the request came to.
    #[arg(long, env = "CASETRACK_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,
}

impl Settings {
    /// Settings for the embedded backends under `data_dir`, as `casetrack serve` with no flags.
    pub fn embedded(data_dir: PathBuf) -> Self {
        Self {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            data_dir,
            nats_url: None,
            nats_stream: "CASETRACK".into(),
            nats_subject_prefix: "casetrack".into(),
            nats_replicas: 1,
            database_url: None,
            master_key: None,
            log_format: "text".into(),
            self_referrals_per_hour: 10,
            services_file: None,
            hub_attempts: 3,
            hub_attempt_bands: 3,
            session_idle_minutes: 30,
            session_hours: 10,
            initial_admin_password: None,
            retention_months: 72,
            suppression_threshold: 5,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_redirect_url: None,
        }
    }

    pub fn read_model_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("casetrack.db").display()),
        }
    }
}
