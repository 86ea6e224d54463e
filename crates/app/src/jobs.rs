//! Scheduled jobs. Each instance looks every minute for jobs whose period has come; a job runs
//! for a period only on the instance that claims that period in `job_runs`, so with several
//! instances on PostgreSQL it still runs once per deployment. A period counts as done only when
//! its run succeeded: a failed run releases its claim and a crashed one lets its lease run out,
//! and either is tried again.

use gridsafe_domain::time::{CHINA, Timestamp};

use crate::{App, AppError, RequestMeta, audit, identity};

/// What the scheduler runs, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Sign a checkpoint of the audit chain head (every `audit.checkpoint_minutes`).
    AuditCheckpoint,
    /// Flag and disable dormant accounts (daily).
    DormantAccounts,
    /// Drop audit events past retention, keeping the chain verifiable (daily).
    AuditPrune,
    /// Delete expired sessions and old sign-in counters (hourly).
    Cleanup,
    /// Record qualifications, licences and agreements about to expire (daily).
    ExpiryWarnings,
    /// Stamp tickets whose validity lapsed 未执行 or 作废 (every minute).
    TicketLapse,
    /// Run the cross-audit over the imported orders and events (nightly).
    CrossAudit,
    /// Escalate (督办) hazards past their deadline to the units above (daily).
    HazardEscalation,
    /// Announce periodic inspections past their due day to the webhooks that hear of it (daily).
    InspectionsOverdue,
    /// Start last month's supervision report of every city and county unit (monthly, on the
    /// month's first run).
    QualityReports,
}

impl Job {
    pub const ALL: [Job; 10] = [
        Job::AuditCheckpoint,
        Job::DormantAccounts,
        Job::AuditPrune,
        Job::Cleanup,
        Job::ExpiryWarnings,
        Job::TicketLapse,
        Job::CrossAudit,
        Job::HazardEscalation,
        Job::InspectionsOverdue,
        Job::QualityReports,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::AuditCheckpoint => "audit-checkpoint",
            Job::DormantAccounts => "dormant-accounts",
            Job::AuditPrune => "audit-prune",
            Job::Cleanup => "cleanup",
            Job::ExpiryWarnings => "expiry-warnings",
            Job::TicketLapse => "ticket-lapse",
            Job::CrossAudit => "cross-audit",
            Job::HazardEscalation => "hazard-escalation",
            Job::InspectionsOverdue => "inspections-overdue",
            Job::QualityReports => "quality-reports",
        }
    }

    /// The period `now` falls in; equal periods compare equal, later ones greater as text.
    fn period(self, app: &App, now: Timestamp) -> String {
        let local = now.as_utc().with_timezone(&CHINA);
        match self {
            Job::AuditCheckpoint => {
                let minutes = i64::from(app.audit_config().checkpoint_minutes.max(1)) * 60;
                format!("{:012}", now.as_utc().timestamp().div_euclid(minutes))
            }
            Job::DormantAccounts
            | Job::AuditPrune
            | Job::ExpiryWarnings
            | Job::CrossAudit
            | Job::HazardEscalation
            | Job::InspectionsOverdue => local.format("%Y-%m-%d").to_string(),
            Job::Cleanup => local.format("%Y-%m-%dT%H").to_string(),
            Job::QualityReports => local.format("%Y-%m").to_string(),
            Job::TicketLapse => local.format("%Y-%m-%dT%H:%M").to_string(),
        }
    }
}

/// How long a claim holds a period: a run that crashed is taken up again after this.
const LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// Claims `job`'s current period for this instance: the period, or `None` when it already ran
/// or another instance holds a live lease on it. The period is done only when [`finish`] says so.
pub async fn claim(app: &App, job: Job, now: Timestamp) -> Result<Option<String>, AppError> {
    let period = job.period(app, now);
    let mut tx = app.db().begin_write().await?;
    let lease_until = Timestamp::from_utc(now.as_utc() + LEASE);
    let claimed = gridsafe_store::jobs::claim(&mut tx, job.name(), &period, now, lease_until).await?;
    tx.commit().await?;
    Ok(claimed.then_some(period))
}

/// Ends a claim: a run that succeeded marks its period done; one that failed releases it, so the
/// next tick tries again.
pub async fn finish(app: &App, job: Job, period: &str, succeeded: bool) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    gridsafe_store::jobs::finish(&mut tx, job.name(), period, succeeded, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs one job now, whatever the schedule (the scheduler, tests and `gridsafe` commands).
pub async fn run(app: &App, job: Job) -> Result<serde_json::Value, AppError> {
    let meta = RequestMeta { request_id: format!("job:{}", job.name()) };
    Ok(match job {
        Job::AuditCheckpoint => serde_json::json!({ "checkpoint": audit::checkpoint(app).await? }),
        Job::DormantAccounts => serde_json::to_value(identity::run_dormancy(app, &meta).await?).unwrap_or_default(),
        Job::AuditPrune => serde_json::json!({ "pruned": audit::prune(app, &meta).await? }),
        Job::ExpiryWarnings => {
            serde_json::json!({ "recorded": crate::people::record_expiry_warnings(app, &meta).await? })
        }
        Job::TicketLapse => serde_json::json!({ "stamped": crate::tickets::lapse_overdue(app, &meta).await? }),
        Job::CrossAudit => {
            let actor = gridsafe_domain::access::Actor {
                user_id: None,
                name: "job:cross-audit".into(),
                channel: gridsafe_domain::access::Channel::Job,
            };
            serde_json::to_value(crate::findings::run_audit(app, &actor, &meta, "nightly").await?).unwrap_or_default()
        }
        Job::HazardEscalation => {
            serde_json::json!({ "escalated": crate::customers::escalate_overdue(app, &meta).await? })
        }
        Job::InspectionsOverdue => {
            serde_json::json!({ "announced": crate::customers::announce_overdue(app, &meta).await? })
        }
        Job::QualityReports => serde_json::json!({ "drafts": crate::quality::monthly_drafts(app, &meta).await? }),
        Job::Cleanup => {
            let now = app.now();
            let idle = app.security().session_policy();
            let oldest = Timestamp::from_utc(now.as_utc() - idle.absolute);
            let stale = Timestamp::from_utc(now.as_utc() - idle.idle);
            let day_ago = Timestamp::from_utc(now.as_utc() - chrono::Duration::days(1));
            let mut tx = app.db().begin_write().await?;
            let sessions = gridsafe_store::jobs::clean_up(&mut tx, oldest, stale, day_ago, now).await?;
            tx.commit().await?;
            serde_json::json!({ "sessions_deleted": sessions })
        }
    })
}

/// Runs every job whose period has come and that no other instance claimed.
pub async fn run_due(app: &App) -> Vec<(Job, Result<serde_json::Value, AppError>)> {
    let mut done = Vec::new();
    for job in Job::ALL {
        match claim(app, job, app.now()).await {
            Ok(Some(period)) => {
                let outcome = run(app, job).await;
                let outcome = match finish(app, job, &period, outcome.is_ok()).await {
                    Ok(()) => outcome,
                    Err(error) => outcome.and(Err(error)),
                };
                done.push((job, outcome));
            }
            Ok(None) => {}
            Err(error) => done.push((job, Err(error))),
        }
    }
    done
}
