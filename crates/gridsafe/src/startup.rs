//! Bringing the application up: connect, migrate or check the schema, check durability.

use std::sync::Arc;

use gridsafe_app::App;
use gridsafe_domain::time::{Clock, Timestamp};
use gridsafe_messages::{Arg, Lang};
use gridsafe_store::{Backend, Database, SchemaStatus, StoreError};
use gridsafe_web::AppState;

use crate::Settings;

/// Choices made on the command line of `serve`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// Start even if the database would lose committed work on a power cut.
    pub unsafe_durability: bool,
}

/// Why the server will not start. Each names what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot connect to the database {url}")]
    Connect {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("database schema is at version {current}, this binary needs {latest}")]
    SchemaBehind { current: i64, latest: i64, url: String },
    #[error("database schema problem")]
    Schema(#[source] StoreError),
    #[error("database is not durable: {settings:?}")]
    NotDurable { settings: Vec<String> },
    #[error("cannot set up the application")]
    App(#[source] gridsafe_app::AppError),
}

impl StartError {
    /// What to tell the operator, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            StartError::Connect { url, source } => lang.t_args(
                "start-connect-failed",
                &[("url", Arg::from(url.as_str())), ("cause", Arg::from(source_chain(source)))],
            ),
            StartError::SchemaBehind { current, latest, url } => lang.t_args(
                "start-schema-behind",
                &[
                    ("current", Arg::Number(*current)),
                    ("latest", Arg::Number(*latest)),
                    ("url", Arg::from(url.as_str())),
                ],
            ),
            StartError::Schema(source) => {
                lang.t_args("start-schema-problem", &[("cause", Arg::from(source_chain(source)))])
            }
            StartError::NotDurable { settings } => {
                lang.t_args("start-not-durable", &[("settings", Arg::from(settings.join(", ")))])
            }
            StartError::App(source) => lang.t_args("start-app-failed", &[("cause", Arg::from(source_chain(source)))]),
        }
    }
}

/// The error and its causes on one line.
pub fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Connects to the database of `settings`.
pub async fn connect(settings: &Settings) -> Result<Database, StartError> {
    Database::connect(&settings.database)
        .await
        .map_err(|source| StartError::Connect { url: settings.database.url.redacted(), source })
}

/// Everything `serve` does before it listens: the embedded SQLite default is migrated
/// automatically; a PostgreSQL schema that is behind is refused, since several instances must
/// not race to migrate it (`gridsafe migrate` is explicit there).
pub async fn prepare(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    options: StartOptions,
) -> Result<AppState, StartError> {
    let db = connect(settings).await?;
    match db.backend() {
        Backend::Sqlite => {
            db.migrate(clock.now()).await.map_err(StartError::Schema)?;
        }
        Backend::Postgres => {
            if let SchemaStatus::Behind { current, .. } = db.schema_status().await.map_err(StartError::Schema)? {
                let latest = gridsafe_store::MIGRATIONS.last().map_or(0, |m| m.version);
                return Err(StartError::SchemaBehind { current, latest, url: settings.database.url.redacted() });
            }
        }
    }
    let durability = db.check_durability().await.map_err(StartError::Schema)?;
    if !durability.is_safe() {
        if options.unsafe_durability {
            tracing::warn!(settings = ?durability.unsafe_settings, "starting on a database that may lose committed work (--unsafe-durability)");
        } else {
            return Err(StartError::NotDurable { settings: durability.unsafe_settings });
        }
    }
    let app_settings = gridsafe_app::Settings {
        security: settings.security.clone(),
        audit: settings.audit.clone(),
        people: settings.people.clone(),
        tickets: settings.tickets.clone(),
        crossaudit: settings.crossaudit.clone(),
        inspections: settings.inspections.clone(),
        plans: settings.plans.clone(),
        emergency: settings.emergency.clone(),
        quality: settings.quality.clone(),
        webhooks: settings.webhooks.clone(),
    };
    crate::tls::configure(&settings.webhooks.ca_file)
        .map_err(|e| StartError::App(gridsafe_app::AppError::internal(e)))
        .map(drop)?;
    let app = App::new(db, clock, app_settings).map_err(StartError::App)?;
    Ok(AppState::new(app, settings.server.clone()))
}

/// The real clock, for the running server.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_utc(chrono::Utc::now())
    }
}
