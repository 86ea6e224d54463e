//! GridSafe's use cases: the one way in. Pages, the JSON API, the command line and scheduled
//! jobs all call these functions; no business rule lives in a handler or a template.
//!
//! Each business area is a module holding its service functions and their SQL. A function
//! that changes state takes a [`Capability`](gridsafe_domain::access::Capability) (proof of the
//! access check) and writes its audit event in the same transaction as the change.

pub mod audit;
mod batches;
pub mod cache;
mod config;
pub mod customers;
pub mod demo;
pub mod emergency;
mod error;
pub mod faults;
pub mod findings;
pub mod history;
pub mod home;
pub mod identity;
pub mod jobs;
pub mod outages;
pub mod people;
pub mod plans;
pub mod projects;
pub mod quality;
pub mod search;
mod secret;
pub mod supervision;
pub mod tickets;
pub mod webhooks;
mod work;
pub mod xlsx;

/// The reason a deletion or a voiding states (it goes into the audit trail): required, at most
/// 500 characters, refused on `field` otherwise; answered trimmed.
pub(crate) fn stated_reason<'a>(field: &'static str, text: &'a str) -> Result<&'a str, AppError> {
    let reason = gridsafe_domain::text::trim_blank(text);
    if reason.is_empty() {
        return Err(AppError::invalid(field, "field-required"));
    }
    if text.chars().count() > 500 {
        return Err(AppError::Invalid(vec![FieldProblem::new(field, "field-name-length").with("max", 500)]));
    }
    Ok(reason)
}

use std::sync::Arc;

pub use config::{
    AuditConfig, CrossAuditConfig, EmergencyConfig, InspectionsConfig, PeopleConfig, PlansConfig, QualityConfig,
    SecurityConfig, TicketsConfig, WebhooksConfig,
};
pub use error::{AppError, FieldProblem};
use gridsafe_domain::time::{Clock, Timestamp};
use gridsafe_store::Database;
pub use work::Work;

/// Everything a use case needs: the database, the clock, the settings, the audit signer.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    clock: Arc<dyn Clock>,
    security: SecurityConfig,
    audit: AuditConfig,
    people: PeopleConfig,
    tickets: TicketsConfig,
    crossaudit: CrossAuditConfig,
    inspections: InspectionsConfig,
    plans: PlansConfig,
    emergency: EmergencyConfig,
    quality: QualityConfig,
    webhooks: WebhooksConfig,
    signer: audit::Signer,
    journal: audit::Journal,
    hashing: identity::HashGate,
    /// Signed-in sessions as read at the data's current version (see [`cache`]).
    sessions: cache::Kept<String, identity::SignedIn>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("db", &self.inner.db).finish_non_exhaustive()
    }
}

/// Sessions kept in memory at most (each a few hundred bytes): more signed-in users than this
/// are read from the database on some of their requests, as all were before.
const SESSIONS_KEPT: usize = 4096;

impl App {
    /// Where the stored data stands (see [`cache::Version`]): asked before the reads a cache
    /// keeps.
    pub async fn version(&self) -> Result<cache::Version, AppError> {
        Ok(self.inner.db.version().await?)
    }

    pub(crate) fn sessions(&self) -> &cache::Kept<String, identity::SignedIn> {
        &self.inner.sessions
    }

    /// Loads (or on first start creates) the audit signing key.
    pub fn new(db: Database, clock: Arc<dyn Clock>, settings: Settings) -> Result<Self, AppError> {
        let signer = audit::Signer::load_or_create(&settings.audit.signing_key_path)?;
        let journal = audit::Journal::beside(&settings.audit.signing_key_path);
        let Settings { security, audit, people, tickets, crossaudit, inspections, plans, emergency, quality, webhooks } =
            settings;
        let hashing = identity::HashGate::new(
            security.hash_workers as usize,
            security.hash_queue as usize,
            std::time::Duration::from_millis(u64::from(security.hash_wait_ms)),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                security,
                audit,
                people,
                tickets,
                crossaudit,
                inspections,
                plans,
                emergency,
                quality,
                webhooks,
                signer,
                journal,
                hashing,
                sessions: cache::Kept::new(SESSIONS_KEPT),
            }),
        })
    }

    /// Today in China Standard Time: the day qualifications and deadlines count in.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().local_date()
    }

    pub fn people_config(&self) -> &PeopleConfig {
        &self.inner.people
    }

    pub fn tickets_config(&self) -> &TicketsConfig {
        &self.inner.tickets
    }

    pub fn crossaudit_config(&self) -> &CrossAuditConfig {
        &self.inner.crossaudit
    }

    pub fn inspections_config(&self) -> &InspectionsConfig {
        &self.inner.inspections
    }

    pub fn plans_config(&self) -> &PlansConfig {
        &self.inner.plans
    }

    pub fn emergency_config(&self) -> &EmergencyConfig {
        &self.inner.emergency
    }

    pub fn quality_config(&self) -> &QualityConfig {
        &self.inner.quality
    }

    pub fn webhooks_config(&self) -> &WebhooksConfig {
        &self.inner.webhooks
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub fn security(&self) -> &SecurityConfig {
        &self.inner.security
    }

    pub fn audit_config(&self) -> &AuditConfig {
        &self.inner.audit
    }

    pub fn signer(&self) -> &audit::Signer {
        &self.inner.signer
    }

    /// The checkpoint journal beside the signing key.
    pub fn journal(&self) -> &audit::Journal {
        &self.inner.journal
    }

    /// Password hashing, bounded in concurrency and in queue.
    pub fn hashing(&self) -> &identity::HashGate {
        &self.inner.hashing
    }
}

/// The settings the use cases need.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub security: SecurityConfig,
    pub audit: AuditConfig,
    pub people: PeopleConfig,
    pub tickets: TicketsConfig,
    pub crossaudit: CrossAuditConfig,
    pub inspections: InspectionsConfig,
    pub plans: PlansConfig,
    pub emergency: EmergencyConfig,
    pub quality: QualityConfig,
    pub webhooks: WebhooksConfig,
}

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
}
