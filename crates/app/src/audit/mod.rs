//! The audit trail (痕迹管理): every state change, sign-in, sign-out, lockout and access
//! denial, written in the same transaction as the change and chained by hash. Checkpoints of
//! the chain head are signed with a key kept outside the database and journaled beside it, so a
//! consistent rewrite of the whole chain is caught too, and so is the removal of checkpoints.
//! Anyone can verify with `gridsafe audit-log verify`.

pub mod chain;
pub mod journal;
mod signing;

use std::collections::BTreeMap;

use gridsafe_domain::access::{Actor, Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::Conn;
use gridsafe_store::audit as store;
use serde::Serialize;

pub use chain::{ChainProblem, Checkpoint, EventRecord};
pub use journal::Journal;
pub use signing::Signer;

use crate::{App, AppError, RequestMeta};

/// What happened, to which record, in which unit. `summary` says what changed (never a
/// password or token).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub action: &'static str,
    pub record_kind: &'static str,
    pub record_id: String,
    pub unit_id: Option<i64>,
    pub summary: serde_json::Value,
}

impl NewEvent {
    pub fn new(action: &'static str, record_kind: &'static str, record_id: impl ToString) -> Self {
        Self { action, record_kind, record_id: record_id.to_string(), unit_id: None, summary: serde_json::json!({}) }
    }

    pub fn unit(mut self, unit_id: UnitId) -> Self {
        self.unit_id = Some(unit_id.get());
        self
    }

    pub fn summary(mut self, summary: serde_json::Value) -> Self {
        self.summary = summary;
        self
    }
}

/// Appends one event to the chain, inside the caller's write transaction.
pub async fn append(
    conn: &mut Conn,
    actor: &Actor,
    meta: &RequestMeta,
    at: Timestamp,
    event: NewEvent,
) -> Result<i64, AppError> {
    let head = gridsafe_store::audit::head_for_append(conn).await?;
    let record = next_record(head, actor, meta, at, event)?;
    gridsafe_store::audit::insert(conn, &record).await?;
    Ok(record.seq)
}

/// [`append`] inside a write transaction on PostgreSQL's own driver ([`gridsafe_store::BulkTx`]).
pub(crate) async fn append_bulk(
    conn: &mut gridsafe_store::BulkConn,
    actor: &Actor,
    meta: &RequestMeta,
    at: Timestamp,
    event: NewEvent,
) -> Result<i64, AppError> {
    let head = gridsafe_store::audit::bulk::head_for_append(conn).await?;
    let record = next_record(head, actor, meta, at, event)?;
    gridsafe_store::audit::bulk::insert(conn, &record).await?;
    Ok(record.seq)
}

/// The event after the chain's `head`, hashed over it.
fn next_record(
    head: Option<(i64, String)>,
    actor: &Actor,
    meta: &RequestMeta,
    at: Timestamp,
    event: NewEvent,
) -> Result<EventRecord, AppError> {
    let (prev_seq, prev_hash) = head.unwrap_or_else(|| (0, chain::GENESIS.to_owned()));
    let mut record = EventRecord {
        seq: prev_seq + 1,
        at: at.to_db(),
        actor_user_id: actor.user_id,
        actor_name: actor.name.clone(),
        channel: actor.channel.code().to_owned(),
        action: event.action.to_owned(),
        record_kind: event.record_kind.to_owned(),
        record_id: event.record_id,
        unit_id: event.unit_id,
        summary: event.summary.to_string(),
        request_id: meta.request_id.clone(),
        algo: chain::ALGO.to_owned(),
        prev_hash,
        hash: String::new(),
    };
    record.hash = chain::event_hash(&record).ok_or_else(|| AppError::internal("audit hash"))?;
    Ok(record)
}

impl App {
    /// Records one event in a transaction of its own (sign-in failures, denials, …).
    pub async fn record(&self, actor: &Actor, meta: &RequestMeta, event: NewEvent) -> Result<i64, AppError> {
        let mut tx = self.db().begin_write().await?;
        let seq = append(&mut tx, actor, meta, self.now(), event).await?;
        tx.commit().await?;
        Ok(seq)
    }
}

/// The outcome of verifying the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub checkpoints: u64,
    /// The first kept event, after pruning.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    #[serde(skip)]
    pub problem: Option<ChainProblem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Signs a checkpoint of the current chain head, if it has none yet, and appends it to the
/// journal. Returns its seq.
pub async fn checkpoint(app: &App) -> Result<Option<i64>, AppError> {
    let mut tx = app.db().begin_write().await?;
    let Some((seq, hash)) = store::unsigned_head(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let at = app.now().to_db();
    let signature = app.signer().sign(seq, &hash, &at);
    let cp = Checkpoint { seq, hash, at, key_id: app.signer().key_id().to_owned(), signature };
    store::insert_checkpoint(&mut tx, &cp).await?;
    tx.commit().await?;
    app.journal().append(vec![journal::Entry::Checkpoint(cp)]).await?;
    Ok(Some(seq))
}

/// A server starts: records the start in the journal (so the downtime before it explains a
/// longer gap between checkpoints) and signs the head. A chain checkpointed before the journal
/// existed has its checkpoints journaled first (trusted on first use, and audited).
pub async fn on_start(app: &App, meta: &RequestMeta) -> Result<(), AppError> {
    if !app.journal().exists() {
        let existing = stored_checkpoints(app).await?;
        if !existing.is_empty() {
            let signer = app.signer();
            let entries: Vec<journal::Entry> =
                existing.into_values().filter(|cp| signer.verifies(cp)).map(journal::Entry::Checkpoint).collect();
            let actor =
                Actor { user_id: None, name: "gridsafe".into(), channel: gridsafe_domain::access::Channel::Job };
            let event = NewEvent::new("audit.journal_started", "audit_checkpoints", "-").summary(serde_json::json!({
                "journaled": entries.len(), "path": app.journal().path().display().to_string(),
            }));
            app.journal().append(entries).await?;
            app.record(&actor, meta, event).await?;
        }
    }
    app.journal().append(vec![journal::Entry::Start(app.now().to_db())]).await?;
    checkpoint(app).await?;
    Ok(())
}

async fn stored_checkpoints(app: &App) -> Result<BTreeMap<i64, Checkpoint>, AppError> {
    Ok(store::checkpoints(&mut *app.db().read().await?).await?)
}

/// The journal's checkpoints and server starts, each checked against the database: in order,
/// validly signed, and every journaled checkpoint after the anchor still stored as signed.
fn check_journal(
    read: journal::Read,
    stored: &BTreeMap<i64, Checkpoint>,
    anchor: Option<i64>,
    signature_ok: &dyn Fn(&Checkpoint) -> bool,
) -> Result<Vec<Timestamp>, ChainProblem> {
    if let Some(cp) = stored.values().find(|cp| !signature_ok(cp)) {
        return Err(ChainProblem::BadSignature { seq: cp.seq });
    }
    let entries = match read {
        journal::Read::Damaged { line } => {
            return Err(ChainProblem::JournalDamaged { seq: i64::try_from(line).unwrap_or(i64::MAX) });
        }
        journal::Read::Absent => match stored.keys().next() {
            Some(seq) => return Err(ChainProblem::JournalMissing { seq: *seq }),
            None => Vec::new(),
        },
        journal::Read::Entries(entries) => entries,
    };
    let mut starts = Vec::new();
    let (mut last_seq, mut last_at) = (0_i64, String::new());
    for entry in entries {
        match entry {
            journal::Entry::Start(at) => {
                if at < last_at {
                    return Err(ChainProblem::JournalOutOfOrder { seq: last_seq });
                }
                starts.extend(Timestamp::from_db(&at));
                last_at = at;
            }
            journal::Entry::Checkpoint(cp) => {
                if cp.seq <= last_seq || cp.at < last_at {
                    return Err(ChainProblem::JournalOutOfOrder { seq: cp.seq });
                }
                if !signature_ok(&cp) {
                    return Err(ChainProblem::BadSignature { seq: cp.seq });
                }
                if anchor.is_none_or(|a| cp.seq > a) && stored.get(&cp.seq) != Some(&cp) {
                    return Err(ChainProblem::CheckpointMissing { seq: cp.seq });
                }
                last_seq = cp.seq;
                last_at = cp.at;
            }
        }
    }
    Ok(starts)
}

/// Verifies the whole chain, its checkpoints and their journal against the signing key.
/// Reads in pages, so memory stays flat however long the trail.
pub async fn verify(app: &App) -> Result<VerifyReport, AppError> {
    let mut conn = app.db().read().await?;
    let checkpoints = store::checkpoints(&mut conn).await?;
    let anchor = store::anchor(&mut conn).await?;
    let signer = app.signer().clone();
    let signature_ok = move |cp: &Checkpoint| signer.verifies(cp);
    let mut report = VerifyReport { events: 0, checkpoints: 0, first_seq: None, last_seq: None, problem: None };
    let read = app.journal().read().await?;
    let starts = match check_journal(read, &checkpoints, anchor.as_ref().map(|a| a.0), &signature_ok) {
        Ok(starts) => starts,
        Err(problem) => {
            report.problem = Some(problem);
            return Ok(report);
        }
    };
    let config = app.audit_config();
    let limit = i64::from(config.checkpoint_minutes) + i64::from(config.checkpoint_slack_minutes);
    let coverage = chain::Coverage { limit: chrono::Duration::minutes(limit), starts };
    let mut verifier = match chain::Verifier::new(anchor, &checkpoints, &signature_ok, coverage) {
        Ok(v) => v,
        Err(problem) => {
            report.problem = Some(problem);
            return Ok(report);
        }
    };
    let mut after = i64::MIN;
    loop {
        let events = store::events_after(&mut conn, after, 5000).await?;
        if events.is_empty() {
            break;
        }
        for event in events {
            report.first_seq.get_or_insert(event.seq);
            report.last_seq = Some(event.seq);
            after = event.seq;
            if let Err(problem) = verifier.push(&event) {
                report.problem = Some(problem);
                report.events = verifier.events;
                report.checkpoints = verifier.checkpoints_checked;
                return Ok(report);
            }
        }
    }
    report.problem = verifier.finish(app.now()).err();
    report.events = verifier.events;
    report.checkpoints = verifier.checkpoints_checked;
    Ok(report)
}

/// Drops events older than the retention period, keeping the chain verifiable: the cut is made
/// at a signed checkpoint, which becomes the anchor the kept chain starts from.
pub async fn prune(app: &App, meta: &RequestMeta) -> Result<u64, AppError> {
    let days = i64::from(app.audit_config().retention_days.max(180));
    let cutoff = Timestamp::from_utc(app.now().as_utc() - chrono::Duration::days(days)).to_db();
    let actor = Actor { user_id: None, name: "job:audit-prune".into(), channel: gridsafe_domain::access::Channel::Job };
    let mut work = app.begin(&actor, meta).await?;
    let Some((seq, deleted)) = store::prune_before(work.conn(), &cutoff).await? else {
        return Ok(0);
    };
    work.audit(
        NewEvent::new("audit.pruned", "audit_events", seq)
            .summary(serde_json::json!({ "through_seq": seq, "deleted": deleted, "older_than": cutoff })),
    )
    .await?;
    work.commit().await?;
    Ok(deleted)
}

/// Filters of the audit search page and API.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub channel: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub before_seq: Option<i64>,
    pub limit: u32,
    /// Only events of this unit and those below it (within reach).
    pub unit: Option<gridsafe_domain::ids::UnitId>,
}

/// Events the log auditor may see (their units and below; unit-less events for root auditors),
/// newest first.
pub async fn search(
    app: &App,
    cap: &Capability<perm::AuditRead>,
    filter: &AuditFilter,
) -> Result<Vec<EventRecord>, AppError> {
    let search = store::Search {
        actor: crate::search::contains("actor", filter.actor.as_deref())?,
        action: crate::search::starts_with("action", filter.action.as_deref())?,
        record_kind: filter.record_kind.clone(),
        record_id: filter.record_id.clone(),
        channel: filter.channel.clone(),
        from: filter.from,
        to: filter.to,
        before_seq: filter.before_seq,
        limit: filter.limit,
    };
    let scope = match filter.unit {
        Some(unit) => {
            let unit = crate::identity::unit_by_id(app, unit).await?.ok_or(AppError::NotFound)?;
            cap.check(&unit.path)?;
            vec![unit.path]
        }
        None => cap.scope().to_vec(),
    };
    Ok(store::search(&mut *app.db().read().await?, &scope, &search).await?)
}
