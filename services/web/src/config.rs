//! The platform's settings: where data lives, how the backends are reached, how long sessions last. Flags with
//! `CASETRACK_*` environment twins; the binary flattens them into its one settings struct beside the services'
//! own (attempt rules, retention, suppression...), which the platform knows nothing of.

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
            session_idle_minutes: 30,
            session_hours: 10,
            initial_admin_password: None,
        }
    }

    pub fn read_model_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("casetrack.db").display()),
        }
    }
}
