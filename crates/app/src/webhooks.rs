//! Webhooks: subscriptions per unit, the outbox written with the change it announces, and the
//! deliveries' outcomes. The sending (HTTP, the words of a 企业微信 message) is the binary's
//! (`gridsafe::webhooks`); it takes due deliveries here ([`claim`]) and records what came of
//! each ([`record`]).

use std::collections::BTreeMap;

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use gridsafe_domain::webhooks::{EventKind, Format, NAME_MAX, Target, UrlProblem, address_allowed, retry_after};
use gridsafe_store::Conn;
use gridsafe_store::webhooks as store;

pub use gridsafe_store::webhooks::{DeliveryRow, Due, SubscriptionRow};

use crate::audit::NewEvent;
use crate::identity::check_stored_path;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// How many findings one `finding.opened` event lists (the count is always the whole number).
pub const FINDINGS_LISTED: usize = 20;

/// A subscription as asked for.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionInput {
    pub unit_id: UnitId,
    pub name: String,
    pub url: String,
    pub format: String,
    pub events: Vec<String>,
}

/// A subscription and its secret, shown once.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: i64,
    pub secret: String,
}

/// The address as pages and the API show it: a 企业微信 robot's key, or any query, is a secret.
pub fn masked(url: &str) -> String {
    match url.split_once('?') {
        Some((head, _)) => format!("{head}?…"),
        None => url.to_owned(),
    }
}

fn url_problem(problem: UrlProblem) -> FieldProblem {
    let key = match problem {
        UrlProblem::Length => "webhook-url-length",
        UrlProblem::Scheme => "webhook-url-scheme",
        UrlProblem::Credentials => "webhook-url-credentials",
        UrlProblem::Host => "webhook-url-host",
        UrlProblem::Port => "webhook-url-port",
        UrlProblem::Characters => "webhook-url-characters",
        UrlProblem::Local => "webhook-url-local",
    };
    FieldProblem::new("url", key)
}

fn read_events(events: &[String]) -> Result<Vec<EventKind>, FieldProblem> {
    let mut kinds = Vec::new();
    for e in events {
        let kind = EventKind::parse(e.trim()).ok_or_else(|| {
            FieldProblem::new("events", "webhook-event-unknown").with("value", gridsafe_sheet::quoted(e))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err(FieldProblem::new("events", "webhook-events-none"));
    }
    Ok(kinds)
}

/// Reads an address for a subscription: strictly, and never the machine itself unless allowed.
pub fn read_target(app: &App, url: &str) -> Result<Target, FieldProblem> {
    let target = Target::parse(url.trim()).map_err(url_problem)?;
    let local_name = target.host == "localhost" || target.host.ends_with(".localhost");
    let literal = target.host.parse::<std::net::IpAddr>().ok();
    let allow = app.webhooks_config().allow_local;
    if !allow && (local_name || literal.is_some_and(|a| !address_allowed(a, false))) {
        return Err(url_problem(UrlProblem::Local));
    }
    Ok(target)
}

/// Subscribes a unit's events: the secret that signs every delivery is returned once.
pub async fn create(
    app: &App,
    cap: &Capability<perm::WebhooksManage>,
    meta: &RequestMeta,
    input: SubscriptionInput,
) -> Result<Created, AppError> {
    let mut problems = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        problems.push(FieldProblem::new("name", "webhook-name-length").with("max", NAME_MAX));
    }
    let target = read_target(app, &input.url).map_err(|p| problems.push(p)).ok();
    let format = Format::parse(input.format.trim());
    if format.is_none() {
        problems.push(FieldProblem::new("format", "webhook-format-unknown"));
    }
    let events = read_events(&input.events).map_err(|p| problems.push(p)).ok();
    let unit = crate::identity::unit_by_id(app, input.unit_id).await?;
    if unit.is_none() {
        problems.push(FieldProblem::new("unit_id", "field-unit"));
    }
    let (Some(target), Some(format), Some(events), Some(unit), true) =
        (target, format, events, unit, problems.is_empty())
    else {
        return Err(AppError::Invalid(problems));
    };
    cap.check(&unit.path)?;
    let secret = crate::secret::random_hex(32)?;
    let codes: Vec<&str> = events.iter().map(|e| e.code()).collect();
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let new = store::NewSubscription {
        unit: unit.id,
        name,
        url: input.url.trim(),
        format: format.code(),
        events: &codes,
        secret: &secret,
        by: &cap.actor().name,
    };
    let id = store::insert_subscription(work.conn(), &new, now).await?;
    // The address's query may hold a robot's key: the trail keeps the host and path only.
    work.audit(NewEvent::new("webhook.created", "webhook_subscription", id).unit(unit.id).summary(serde_json::json!({
        "name": name, "host": target.host, "format": format.code(), "events": codes,
    })))
    .await?;
    work.commit().await?;
    Ok(Created { id, secret })
}

/// The subscriptions of the units in reach, their addresses masked.
pub async fn list(app: &App, cap: &Capability<perm::WebhooksManage>) -> Result<Vec<SubscriptionRow>, AppError> {
    let mut rows = store::subscriptions(&mut *app.db().read().await?, cap.scope()).await?;
    for r in &mut rows {
        r.url = masked(&r.url);
    }
    Ok(rows)
}

/// A subscription and its latest deliveries (up to `limit`).
pub async fn get(
    app: &App,
    cap: &Capability<perm::WebhooksManage>,
    id: i64,
    limit: u32,
) -> Result<(SubscriptionRow, Vec<DeliveryRow>), AppError> {
    let mut conn = app.db().read().await?;
    let mut row = store::subscription(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &row.unit_path)?;
    row.url = masked(&row.url);
    let deliveries = store::deliveries(&mut conn, id, limit).await?;
    Ok((row, deliveries))
}

/// Changes what a subscription hears of, and switches it on or off.
pub async fn update(
    app: &App,
    cap: &Capability<perm::WebhooksManage>,
    meta: &RequestMeta,
    id: i64,
    events: &[String],
    enabled: bool,
) -> Result<(), AppError> {
    let events = read_events(events).map_err(|p| AppError::Invalid(vec![p]))?;
    let codes: Vec<&str> = events.iter().map(|e| e.code()).collect();
    let mut work = app.begin(cap.actor(), meta).await?;
    let row = store::subscription(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &row.unit_path)?;
    let now = work.now();
    let disabled = if enabled { None } else { Some(row.disabled_at.unwrap_or(now)) };
    store::update_subscription(work.conn(), id, &codes, disabled).await?;
    work.audit(
        NewEvent::new("webhook.updated", "webhook_subscription", id)
            .unit(row.unit_id)
            .summary(serde_json::json!({ "name": row.name, "events": codes, "enabled": enabled })),
    )
    .await?;
    work.commit().await?;
    Ok(())
}

/// Sends a delivery again now (after the receiver was fixed), its retries counted afresh.
pub async fn redeliver(
    app: &App,
    cap: &Capability<perm::WebhooksManage>,
    meta: &RequestMeta,
    subscription: i64,
    delivery: i64,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let row = store::subscription(work.conn(), subscription).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &row.unit_path)?;
    let d = store::delivery(work.conn(), delivery).await?.filter(|d| d.subscription_id == subscription);
    let d = d.ok_or(AppError::NotFound)?;
    let now = work.now();
    store::redeliver(work.conn(), delivery, now).await?;
    work.audit(NewEvent::new("webhook.redelivered", "webhook_delivery", delivery).unit(row.unit_id).summary(
        serde_json::json!({ "subscription": subscription, "event": d.kind, "was": d.state, "attempts": d.attempts }),
    ))
    .await?;
    work.commit().await?;
    Ok(())
}

/// Writes an event to the outbox, in the caller's transaction, with a delivery for every
/// subscription that hears of it; nothing when no one does, or when `key` was written before
/// (an event is announced once). Returns the number of deliveries.
pub async fn enqueue(
    conn: &mut Conn,
    kind: EventKind,
    unit: UnitId,
    key: &str,
    data: serde_json::Value,
    at: Timestamp,
) -> Result<usize, AppError> {
    let listeners = store::listeners(conn, kind.code(), unit).await?;
    if listeners.is_empty() {
        return Ok(0);
    }
    let Some(event) = store::insert_event(conn, key, kind.code(), Some(unit), &data.to_string(), at).await? else {
        return Ok(0);
    };
    for s in &listeners {
        store::insert_delivery(conn, event, *s, at).await?;
    }
    Ok(listeners.len())
}

/// The outbox row of an audited action that announces an event (`EventKind::of_action`),
/// written by `Work::audit` with the audit event itself.
pub(crate) async fn announce(conn: &mut Conn, event: &NewEvent, seq: i64, at: Timestamp) -> Result<(), AppError> {
    let (Some(kind), Some(unit)) = (EventKind::of_action(event.action), event.unit_id) else { return Ok(()) };
    let mut data = serde_json::json!({ "record": event.record_kind, "id": event.record_id });
    if let (Some(into), serde_json::Value::Object(summary)) = (data.as_object_mut(), &event.summary) {
        for (k, v) in summary {
            into.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    enqueue(conn, kind, UnitId::from(unit), &format!("audit:{seq}"), data, at).await?;
    Ok(())
}

/// One new finding, as a `finding.opened` event lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenedFinding {
    pub id: i64,
    pub rule: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub subject: String,
    pub detail: String,
}

/// The `finding.opened` events of one cross-audit run: one per unit, with how many it opened and
/// its first findings (the event is known by its first finding, which no other run opens).
pub(crate) async fn findings_opened(
    conn: &mut Conn,
    opened: BTreeMap<UnitId, (usize, Vec<OpenedFinding>)>,
    at: Timestamp,
) -> Result<(), AppError> {
    for (unit, (count, listed)) in opened {
        let Some(first) = listed.first().map(|f| f.id) else { continue };
        let data = serde_json::json!({ "count": count, "findings": listed });
        enqueue(conn, EventKind::FindingOpened, unit, &format!("finding.opened:{unit}:{first}"), data, at).await?;
    }
    Ok(())
}

/// Takes the deliveries due now for the sender (up to `webhooks.batch`), held for as long as the
/// whole batch could take with every receiver timing out, and two minutes more: another
/// instance, or a later look, takes one up again only if its sender died.
pub async fn claim(app: &App) -> Result<Vec<Due>, AppError> {
    let cfg = app.webhooks_config();
    let now = app.now();
    let rounds = i64::from(cfg.batch.div_ceil(cfg.concurrency.max(1)));
    let lease = chrono::Duration::seconds(i64::from(cfg.timeout_seconds) * rounds + 120);
    let mut tx = app.db().begin_write().await?;
    let due = store::claim_due(&mut tx, now, Timestamp::from_utc(now.as_utc() + lease), cfg.batch).await?;
    tx.commit().await?;
    Ok(due)
}

/// What one attempt came to, as the sender saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx (and a 企业微信 robot `errcode` 0).
    Delivered { status: u16 },
    /// It answered something else, or could not be reached (`status` none).
    Failed { status: Option<u16>, error: String },
}

/// Records an attempt: delivered, or failed with the next try after the configured wait (none
/// once every wait is used: the delivery has failed and waits for a redelivery by hand).
pub async fn record(app: &App, due: &Due, outcome: &Outcome) -> Result<(), AppError> {
    let now = app.now();
    let failed_so_far = u32::try_from(due.attempts).unwrap_or(u32::MAX).saturating_add(1);
    let attempt = match outcome {
        Outcome::Delivered { status } => {
            store::Attempt { status: Some(i64::from(*status)), error: None, delivered: true, next_at: None }
        }
        Outcome::Failed { status, error } => store::Attempt {
            status: status.map(i64::from),
            error: Some(error.as_str()),
            delivered: false,
            next_at: retry_after(failed_so_far, &app.webhooks_config().retry_minutes)
                .map(|wait| Timestamp::from_utc(now.as_utc() + wait)),
        },
    };
    let mut tx = app.db().begin_write().await?;
    store::record_attempt(&mut tx, due.id, &attempt, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The body's signature: `sha256=` and the hex HMAC-SHA256, under the subscription's secret, of
/// the timestamp header, a full stop, and the body (so an old body cannot be replayed with a
/// new time).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("sha256={}", crate::secret::hex(&crate::secret::hmac_sha256(secret.as_bytes(), &message)))
}

/// How a receiver checks a delivery: the signature matches and the timestamp is within
/// `tolerance_seconds` of its own clock.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], given: &str, now: Timestamp, tolerance_seconds: i64) -> bool {
    let fresh = (now.as_utc().timestamp() - timestamp).abs() <= tolerance_seconds;
    fresh && crate::secret::same_bytes(signature(secret, timestamp, body).as_bytes(), given.as_bytes())
}
