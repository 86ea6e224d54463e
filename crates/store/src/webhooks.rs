//! Webhook subscriptions, the outbox of events and their deliveries.

use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{id, opt_id, opt_stamp, stamp};
use crate::{Backend, Conn, StoreError, backend_of, bound, id_list, scope_clause};

const T: &str = "webhook_deliveries";

/// A subscription as pages and the API show it: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionRow {
    pub id: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub name: String,
    pub url: String,
    pub format: String,
    /// Event codes.
    pub events: Vec<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
    /// The latest attempt's outcome: `delivered`, `pending` (a retry is due) or `failed`.
    pub last_state: Option<String>,
    pub last_status: Option<i64>,
    pub last_at: Option<Timestamp>,
    /// Deliveries waiting for a retry, and those that used every retry.
    pub pending: i64,
    pub failed: i64,
}

const SUB_COLUMNS: &str = "s.id, s.unit_id, u.name AS unit_name, u.path AS unit_path, s.name, s.url, s.format, s.events, \
    s.created_by, s.created_at, s.disabled_at, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending' AND d.attempts > 0) AS pending, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'failed') AS failed, \
    l.state AS last_state, l.last_status, l.last_at";
const SUB_FROM: &str = "webhook_subscriptions s JOIN org_units u ON u.id = s.unit_id \
    LEFT JOIN webhook_deliveries l ON l.id = (SELECT MAX(d.id) FROM webhook_deliveries d \
        WHERE d.subscription_id = s.id AND d.last_at IS NOT NULL)";

fn subscription_from(r: &AnyRow) -> Result<SubscriptionRow, StoreError> {
    let events: String = r.try_get("events")?;
    Ok(SubscriptionRow {
        id: r.try_get("id")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        format: r.try_get("format")?,
        events: events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        created_by: r.try_get("created_by")?,
        created_at: stamp("webhook_subscriptions", "created_at", r.try_get("created_at")?)?,
        disabled_at: opt_stamp("webhook_subscriptions", "disabled_at", r.try_get("disabled_at")?)?,
        last_state: r.try_get("last_state")?,
        last_status: r.try_get("last_status")?,
        last_at: opt_stamp(T, "last_at", r.try_get("last_at")?)?,
        pending: r.try_get("pending")?,
        failed: r.try_get("failed")?,
    })
}

/// The subscriptions of the units in `scope`, by unit then name.
pub async fn subscriptions(conn: &mut Conn, scope: &[UnitPath]) -> Result<Vec<SubscriptionRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!("SELECT {SUB_COLUMNS} FROM {SUB_FROM} WHERE {clause} ORDER BY u.path, s.name, s.id LIMIT 500");
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(subscription_from).collect()
}

pub async fn subscription(conn: &mut Conn, subscription: i64) -> Result<Option<SubscriptionRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SUB_COLUMNS} FROM {SUB_FROM} WHERE s.id = $1")))
        .bind(subscription)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(subscription_from)
        .transpose()
}

/// A subscription as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub unit: UnitId,
    pub name: &'a str,
    pub url: &'a str,
    pub format: &'a str,
    pub events: &'a [&'a str],
    pub secret: &'a str,
    pub by: &'a str,
}

pub async fn insert_subscription(conn: &mut Conn, s: &NewSubscription<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (unit_id, name, url, format, events, secret, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(s.unit.get())
    .bind(s.name)
    .bind(s.url)
    .bind(s.format)
    .bind(s.events.join(","))
    .bind(s.secret)
    .bind(s.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Changes what a subscription hears of and whether it is on (`disabled_at` none).
pub async fn update_subscription(
    conn: &mut Conn,
    subscription: i64,
    events: &[&str],
    disabled_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhook_subscriptions SET events = $1, disabled_at = $2 WHERE id = $3")
        .bind(events.join(","))
        .bind(disabled_at.map(|d| d.to_db()))
        .bind(subscription)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The subscriptions switched on that hear of `kind` for an event of `unit`: those of the unit
/// and of every unit above it.
pub async fn listeners(conn: &mut Conn, kind: &str, unit: UnitId) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.events FROM webhook_subscriptions s JOIN org_units u ON u.id = s.unit_id \
         JOIN org_units e ON e.id = $1 WHERE s.disabled_at IS NULL AND substr(e.path, 1, length(u.path)) = u.path \
         ORDER BY s.id",
    )
    .bind(unit.get())
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::new();
    for r in &rows {
        let events: String = r.try_get("events")?;
        if events.split(',').any(|e| e == kind) {
            ids.push(r.try_get("id")?);
        }
    }
    Ok(ids)
}

/// Whether any subscription switched on hears of `kind` (a job skips its search otherwise).
pub async fn anyone_listens(conn: &mut Conn, kind: &str) -> Result<bool, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT events FROM webhook_subscriptions WHERE disabled_at IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().any(|events| events.split(',').any(|e| e == kind)))
}

/// Writes an event once per key: `None` when an event with this key was already written.
pub async fn insert_event(
    conn: &mut Conn,
    key: &str,
    kind: &str,
    unit: Option<UnitId>,
    payload: &str,
    at: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_events (event_key, kind, unit_id, occurred_at, payload) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (event_key) DO NOTHING RETURNING id",
    )
    .bind(key)
    .bind(kind)
    .bind(unit.map(|u| u.get()))
    .bind(at.to_db())
    .bind(payload)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn insert_delivery(conn: &mut Conn, event: i64, subscription: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, subscription_id, state, attempts, next_at) VALUES ($1, $2, 'pending', 0, $3)",
    )
    .bind(event)
    .bind(subscription)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery to send now, with what the sender needs.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub attempts: i64,
    pub kind: String,
    pub event_id: i64,
    pub occurred_at: Timestamp,
    pub unit_name: Option<String>,
    pub payload: String,
    pub subscription_id: i64,
    pub url: String,
    pub format: String,
    pub secret: String,
}

/// Takes up to `limit` deliveries due at `now` and holds them until `lease_until` (another
/// instance, or a later tick, takes one up again only if its sender died before recording the
/// outcome). On PostgreSQL rows another instance is claiming are skipped, not waited for.
pub async fn claim_due(
    conn: &mut Conn,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Due>, StoreError> {
    let skip = match backend_of(conn) {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT d.id, d.attempts, d.event_id, e.kind, e.occurred_at, e.payload, ou.name AS unit_name, \
         s.id AS subscription_id, s.url, s.format, s.secret \
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         JOIN webhook_subscriptions s ON s.id = d.subscription_id LEFT JOIN org_units ou ON ou.id = e.unit_id \
         WHERE d.state = 'pending' AND d.next_at <= $1 AND s.disabled_at IS NULL \
         ORDER BY d.next_at, d.id LIMIT {}{skip}",
        limit.clamp(1, 1000)
    )))
    .bind(now.to_db())
    .fetch_all(&mut *conn)
    .await?;
    let due = rows
        .iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("id")?,
                attempts: r.try_get("attempts")?,
                kind: r.try_get("kind")?,
                event_id: r.try_get("event_id")?,
                occurred_at: stamp("webhook_events", "occurred_at", r.try_get("occurred_at")?)?,
                unit_name: r.try_get("unit_name")?,
                payload: r.try_get("payload")?,
                subscription_id: r.try_get("subscription_id")?,
                url: r.try_get("url")?,
                format: r.try_get("format")?,
                secret: r.try_get("secret")?,
            })
        })
        .collect::<Result<Vec<Due>, StoreError>>()?;
    if !due.is_empty() {
        let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET next_at = $1 WHERE id IN ({})",
            id_list(&ids)
        )))
        .bind(lease_until.to_db())
        .execute(&mut *conn)
        .await?;
    }
    Ok(due)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub status: Option<i64>,
    /// Why it failed, in a few words (never the receiver's whole answer).
    pub error: Option<&'a str>,
    /// Delivered: done. Otherwise the next try, or none when every retry is used.
    pub delivered: bool,
    pub next_at: Option<Timestamp>,
}

pub async fn record_attempt(conn: &mut Conn, delivery: i64, a: &Attempt<'_>, at: Timestamp) -> Result<(), StoreError> {
    let state = match (a.delivered, a.next_at) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_at = $2, last_at = $3, \
         last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7",
    )
    .bind(state)
    .bind(a.next_at.unwrap_or(at).to_db())
    .bind(at.to_db())
    .bind(a.status)
    .bind(a.error)
    .bind(a.delivered.then(|| at.to_db()))
    .bind(delivery)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub event_id: i64,
    pub kind: String,
    pub occurred_at: Timestamp,
    pub state: String,
    pub attempts: i64,
    pub next_at: Timestamp,
    pub last_at: Option<Timestamp>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
    /// The event's data (JSON).
    #[serde(skip)]
    pub payload: String,
    #[serde(skip)]
    pub unit_id: Option<UnitId>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.subscription_id, d.event_id, e.kind, e.occurred_at, e.payload, e.unit_id, d.state, \
    d.attempts, d.next_at, d.last_at, d.last_status, d.last_error, d.delivered_at";

fn delivery_from(r: &AnyRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        subscription_id: r.try_get("subscription_id")?,
        event_id: r.try_get("event_id")?,
        kind: r.try_get("kind")?,
        occurred_at: stamp("webhook_events", "occurred_at", r.try_get("occurred_at")?)?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        next_at: stamp(T, "next_at", r.try_get("next_at")?)?,
        last_at: opt_stamp(T, "last_at", r.try_get("last_at")?)?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        delivered_at: opt_stamp(T, "delivered_at", r.try_get("delivered_at")?)?,
        payload: r.try_get("payload")?,
        unit_id: opt_id(r, "unit_id")?,
    })
}

/// A subscription's deliveries, the latest first.
pub async fn deliveries(conn: &mut Conn, subscription: i64, limit: u32) -> Result<Vec<DeliveryRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.subscription_id = $1 ORDER BY d.id DESC LIMIT {}",
        limit.clamp(1, 1000)
    )))
    .bind(subscription)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(delivery_from)
    .collect()
}

pub async fn delivery(conn: &mut Conn, delivery: i64) -> Result<Option<DeliveryRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = $1"
    )))
    .bind(delivery)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(delivery_from)
    .transpose()
}

/// Sends a delivery again at `now`, its retries counted afresh.
pub async fn redeliver(conn: &mut Conn, delivery: i64, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1 WHERE id = $2")
        .bind(now.to_db())
        .bind(delivery)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
