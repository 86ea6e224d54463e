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

/// The two writes that extend the chain, over a connection of type `$conn`; `$holds(conn)` says
/// whether the writer must take the chain's lock (PostgreSQL's advisory lock).
macro_rules! chain_writes {
    ($conn:ty, $holds:expr) => {
        /// The chain's head (`seq`, `hash`) with the writer's hold on it: on PostgreSQL one
        /// writer at a time extends the chain (an advisory lock until the transaction ends);
        /// SQLite's write transaction already is the only one. After pruning, the head of an
        /// empty table is the anchor; `None` before the first event.
        pub async fn head_for_append(conn: &mut $conn) -> Result<Option<(i64, String)>, StoreError> {
            if $holds(&*conn) {
                sqlx::query(HOLD_CHAIN).execute(&mut *conn).await?;
            }
            let head = match sqlx::query(HEAD).fetch_optional(&mut *conn).await? {
                Some(row) => Some(row),
                None => sqlx::query(ANCHOR).fetch_optional(&mut *conn).await?,
            };
            Ok(match head {
                Some(row) => Some((row.try_get("seq")?, row.try_get("hash")?)),
                None => None,
            })
        }

        /// Stores an event whose hash the caller computed over the head `head_for_append` gave.
        pub async fn insert(conn: &mut $conn, e: &EventRecord) -> Result<(), StoreError> {
            sqlx::query(INSERT)
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
    };
}

chain_writes!(Conn, |conn: &Conn| backend_of(conn) == Backend::Postgres);

/// The same writes on PostgreSQL's own driver, for a write that runs there ([`crate::BulkTx`]).
pub mod bulk {
    use sqlx::{PgConnection, Row};

    use super::{ANCHOR, EventRecord, HEAD, HOLD_CHAIN, INSERT};
    use crate::StoreError;

    chain_writes!(PgConnection, |_: &PgConnection| true);
}

const HOLD_CHAIN: &str = "SELECT pg_advisory_xact_lock(7243002)";
const HEAD: &str = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
const ANCHOR: &str = "SELECT seq, hash FROM audit_anchor WHERE id = 1";
const INSERT: &str = "INSERT INTO audit_events (seq, at, actor_user_id, actor_name, channel, action, record_kind, \
                      record_id, unit_id, summary, request_id, algo, prev_hash, hash) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

const EVENT_COLUMNS: &str = "seq, at, actor_user_id, actor_name, channel, action, record_kind, record_id, unit_id, \
                             summary, request_id, algo, prev_hash, hash";

fn event_from(r: &sqlx::any::AnyRow) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor_user_id: r.try_get("actor_user_id")?,
        actor_name: r.try_get("actor_name")?,
        channel: r.try_get("channel")?,
        action: r.try_get("action")?,
        record_kind: r.try_get("record_kind")?,
        record_id: r.try_get("record_id")?,
        unit_id: r.try_get("unit_id")?,
        summary: r.try_get("summary")?,
        request_id: r.try_get("request_id")?,
        algo: r.try_get("algo")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Up to `limit` events after `seq`, in order: the chain read in pages.
pub async fn events_after(conn: &mut Conn, seq: i64, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT {limit}"
    )))
    .bind(seq)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(event_from)
    .collect()
}

/// A signed checkpoint of the chain head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub key_id: String,
    pub signature: String,
}

/// The last event, when it has no checkpoint yet.
pub async fn unsigned_head(conn: &mut Conn) -> Result<Option<(i64, String)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT e.seq, e.hash FROM audit_events e LEFT JOIN audit_checkpoints c ON c.seq = e.seq \
         WHERE e.seq = (SELECT MAX(seq) FROM audit_events) AND c.seq IS NULL",
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some((r.try_get("seq")?, r.try_get("hash")?)))
}

pub async fn insert_checkpoint(conn: &mut Conn, cp: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)")
        .bind(cp.seq)
        .bind(&cp.hash)
        .bind(&cp.at)
        .bind(&cp.key_id)
        .bind(&cp.signature)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every stored checkpoint, by seq.
pub async fn checkpoints(conn: &mut Conn) -> Result<std::collections::BTreeMap<i64, Checkpoint>, StoreError> {
    sqlx::query("SELECT seq, hash, at, key_id, signature FROM audit_checkpoints")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let cp = Checkpoint {
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                at: r.try_get("at")?,
                key_id: r.try_get("key_id")?,
                signature: r.try_get("signature")?,
            };
            Ok((cp.seq, cp))
        })
        .collect()
}

/// Where a pruned chain starts: the last pruned event's seq and hash.
pub async fn anchor(conn: &mut Conn) -> Result<Option<(i64, String)>, StoreError> {
    let Some(r) = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetch_optional(&mut *conn).await?
    else {
        return Ok(None);
    };
    Ok(Some((r.try_get("seq")?, r.try_get("hash")?)))
}

/// Deletes the events up to the last checkpoint before `cutoff` and anchors the chain there;
/// that checkpoint's seq and how many events went, or `None` when nothing is old enough.
pub async fn prune_before(conn: &mut Conn, cutoff: &str) -> Result<Option<(i64, u64)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT c.seq, c.hash FROM audit_checkpoints c JOIN audit_events e ON e.seq = c.seq \
         WHERE e.at < $1 ORDER BY c.seq DESC LIMIT 1",
    )
    .bind(cutoff)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let (seq, hash): (i64, String) = (r.try_get("seq")?, r.try_get("hash")?);
    let deleted =
        sqlx::query("DELETE FROM audit_events WHERE seq <= $1").bind(seq).execute(&mut *conn).await?.rows_affected();
    sqlx::query("DELETE FROM audit_anchor WHERE id = 1").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO audit_anchor (id, seq, hash) VALUES (1, $1, $2)")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(Some((seq, deleted)))
}

/// What the audit search looks for; patterns are `LIKE` patterns.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub channel: Option<String>,
    pub from: Option<gridsafe_domain::time::Timestamp>,
    pub to: Option<gridsafe_domain::time::Timestamp>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// Events of the units in `scope` (unit-less events too for a scope at the root or a
/// province), newest first.
pub async fn search(
    conn: &mut Conn,
    scope: &[gridsafe_domain::access::UnitPath],
    s: &Search,
) -> Result<Vec<EventRecord>, StoreError> {
    let mut sql = format!(
        "SELECT {} FROM audit_events ev LEFT JOIN org_units u ON u.id = ev.unit_id WHERE (",
        EVENT_COLUMNS.split(", ").map(|c| format!("ev.{c}")).collect::<Vec<_>>().join(", ")
    );
    let mut binds: Vec<String> = Vec::new();
    let mut scope_terms = Vec::new();
    for path in scope {
        binds.push(format!("{}%", path.as_str()));
        scope_terms.push(format!("u.path LIKE ${}", binds.len()));
        if path.depth() <= 1 {
            scope_terms.push("ev.unit_id IS NULL".to_owned());
        }
    }
    if scope_terms.is_empty() {
        scope_terms.push("1 = 0".to_owned());
    }
    sql.push_str(&scope_terms.join(" OR "));
    sql.push(')');
    let mut push = |column: &str, op: &str, value: String| {
        binds.push(value);
        sql.push_str(&format!(" AND {column} {op} ${}", binds.len()));
        if op == "LIKE" {
            sql.push_str(" ESCAPE '\\'");
        }
    };
    if let Some(v) = &s.actor {
        push("ev.actor_name", "LIKE", v.clone());
    }
    if let Some(v) = &s.action {
        push("ev.action", "LIKE", v.clone());
    }
    for (column, value) in
        [("ev.record_kind", &s.record_kind), ("ev.record_id", &s.record_id), ("ev.channel", &s.channel)]
    {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            push(column, "=", v.to_owned());
        }
    }
    if let Some(v) = s.from {
        push("ev.at", ">=", v.to_db());
    }
    if let Some(v) = s.to {
        push("ev.at", "<", v.to_db());
    }
    if let Some(before) = s.before_seq {
        sql.push_str(&format!(" AND ev.seq < {before}"));
    }
    sql.push_str(&format!(" ORDER BY ev.seq DESC LIMIT {}", s.limit.clamp(1, 500)));
    crate::bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(event_from).collect()
}
