//! The audit trail's rows: appending an event to the chain. Hashing and verifying are the use
//! cases' (`gridsafe_app::audit`); this module only reads and writes.

use sqlx::Row;

use crate::{Backend, Conn, StoreError, backend_of};

/// One stored event, as hashed and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub channel: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub unit_id: Option<i64>,
    pub summary: String,
    pub request_id: String,
    pub algo: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain's head (`seq`, `hash`) with the writer's hold on it: on PostgreSQL one writer at a
/// time extends the chain (an advisory lock until the transaction ends); SQLite's write
/// transaction already is the only one. After pruning, the head of an empty table is the
/// anchor; `None` before the first event.
pub async fn head_for_append(conn: &mut Conn) -> Result<Option<(i64, String)>, StoreError> {
    if backend_of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7243002)").execute(&mut *conn).await?;
    }
    let head = match sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?
    {
        Some(row) => Some(row),
        None => sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetch_optional(&mut *conn).await?,
    };
    Ok(match head {
        Some(row) => Some((row.try_get("seq")?, row.try_get("hash")?)),
        None => None,
    })
}

/// Stores an event whose hash the caller computed over the head [`head_for_append`] gave.
pub async fn insert(conn: &mut Conn, e: &EventRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_user_id, actor_name, channel, action, record_kind, record_id, \
         unit_id, summary, request_id, algo, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(e.seq)
    .bind(&e.at)
    .bind(e.actor_user_id)
    .bind(&e.actor_name)
    .bind(&e.channel)
    .bind(&e.action)
    .bind(&e.record_kind)
    .bind(&e.record_id)
    .bind(e.unit_id)
    .bind(&e.summary)
    .bind(&e.request_id)
    .bind(&e.algo)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
