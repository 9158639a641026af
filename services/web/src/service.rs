//! What a service crate hands to the platform, the shared context, and serving any set of services on one
//! listener.

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use sqlx::migrate::Migrator;

use tokio_util::sync::CancellationToken;

use crate::accounts::SessionPolicy;
use crate::config::Settings;
use crate::routes::{PersonLookup, RecordArea, RouteRule, Routes};
use casetrack_casework::catalogue::Catalogue;
use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::log::EventLog;
use casetrack_eventstore::log::jetstream::{JetStreamConfig, JetStreamLog};
use casetrack_eventstore::log::sqlite::SqliteLog;
use casetrack_eventstore::projection::{Projection, Registry};
use casetrack_eventstore::reactor::Reactor;
use casetrack_vault::{MasterKey, Vault};

/// Everything a service needs, shared by all services of one process. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub log: EventLog,
    /// The audit trail's own log stream (the same log in tests that build a context by hand).
    pub audit: EventLog,
    pub db: ReadDb,
    pub vault: Vault,
    pub projections: Registry,
    /// The specialist services defined in configuration.
    pub catalogue: Arc<Catalogue>,
    /// How long sessions live.
    pub sessions: SessionPolicy,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("log", &self.log).field("db", &self.db.backend()).finish()
    }
}

impl Context {
    /// Connects to the configured backends (embedded under the data folder when none is given).
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        if settings.nats_url.is_none() || settings.database_url.is_none() || settings.master_key.is_none() {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("failed to create the data folder {}", settings.data_dir.display()))?;
        }
        let (log, audit) = match &settings.nats_url {
            Some(url) => {
                let mut config = JetStreamConfig::new(url.clone());
                config.stream = settings.nats_stream.clone();
                config.subject_prefix = settings.nats_subject_prefix.clone();
                config.replicas = settings.nats_replicas;
                let audit = EventLog::new(JetStreamLog::connect(config.audit()).await?);
                (EventLog::new(JetStreamLog::connect(config).await?), audit)
            }
            None => (
                EventLog::new(SqliteLog::open(&settings.data_dir.join("events.db")).await?),
                EventLog::new(SqliteLog::open(&settings.data_dir.join("audit.db")).await?),
            ),
        };
        let db = ReadDb::connect(&settings.read_model_url()).await?;
        let master = match &settings.master_key {
            Some(key) => MasterKey::from_base64(key.expose())?,
            None => MasterKey::load_or_generate(&settings.data_dir)?,
        };
        let mut ctx = Self::new(log, db.clone(), master.clone()).with_audit(audit);
        if settings.database_url.is_none() {
            // Embedded, the data keys have a SQLite file of their own (see `Vault::in_own_file`).
            ctx.vault = Vault::in_own_file(&settings.data_dir.join("keys.db"), &db, master).await?;
        }
        ctx.sessions = SessionPolicy {
            idle: std::time::Duration::from_secs(u64::from(settings.session_idle_minutes) * 60),
            absolute: std::time::Duration::from_secs(u64::from(settings.session_hours) * 3600),
        };
        Ok(ctx)
    }

    pub fn new(log: EventLog, db: ReadDb, master: MasterKey) -> Self {
        let vault = Vault::new(db.clone(), master);
        let audit = log.clone();
        Self {
            log,
            audit,
            db,
            vault,
            projections: Registry::default(),
            catalogue: Arc::new(Catalogue::shipped()),
            sessions: SessionPolicy::default(),
        }
    }

    /// The log `projection` reads.
    pub fn log_of(&self, projection: &dyn Projection) -> &EventLog {
        match projection.source() {
            casetrack_eventstore::projection::Source::Events => &self.log,
            casetrack_eventstore::projection::Source::Audit => &self.audit,
        }
    }

    /// Keeps the audit trail in `audit`, apart from the case history.
    pub fn with_audit(mut self, audit: EventLog) -> Self {
        self.audit = audit;
        self
    }

    pub fn with_catalogue(mut self, catalogue: Catalogue) -> Self {
        self.catalogue = Arc::new(catalogue);
        self
    }
}

/// One service as the platform runs it.
pub struct Service {
    pub name: &'static str,
    pub router: Router,
    /// Every route of `router` with the permission it needs (set together by [`Service::with_routes`]).
    pub rules: Vec<RouteRule>,
    /// How the audit trail finds the person behind this service's record ids.
    pub person_lookups: Vec<PersonLookup>,
    /// How break-glass finds which area (the hub, a service) one of this service's records belongs to.
    pub record_areas: Vec<RecordArea>,
    pub openapi: utoipa::openapi::OpenApi,
    pub migrations: Option<&'static Migrator>,
    pub projections: Vec<Arc<dyn Projection>>,
    pub reactors: Vec<Arc<dyn Reactor>>,
    /// Scheduled jobs, started with the service and stopped with it.
    pub jobs: Vec<Job>,
}

/// A job that runs beside the service until its token is cancelled.
pub type Job = Box<dyn FnOnce(CancellationToken) -> futures::future::BoxFuture<'static, ()> + Send>;

impl Service {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            router: Router::new(),
            rules: Vec::new(),
            person_lookups: Vec::new(),
            record_areas: Vec::new(),
            openapi: utoipa::openapi::OpenApiBuilder::new().build(),
            migrations: None,
            projections: Vec::new(),
            reactors: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// Sets the service's routes and their permissions.
    pub fn with_routes(mut self, routes: Routes) -> Self {
        let (router, rules) = routes.into_parts();
        self.router = router;
        self.rules = rules;
        self
    }
}
