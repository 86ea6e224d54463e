//! The push feed: the marketing system pushes its work orders, the metering system its meter
//! events, in batches as they happen. A batch is checked as the spreadsheet import checks a file
//! (every problem named by its index and field, nothing written when one is wrong), is idempotent
//! by the source's ids (a batch sent twice changes nothing; a changed order is an update, on
//! record), and the cross-audit runs after anything new.

use std::collections::HashSet;

use gridsafe_crossaudit::input::{EventKind, MeterEvent, Tables, WorkOrder};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::time::Timestamp;
use gridsafe_sheet::Cell;
use gridsafe_store::findings as store;
use serde::Serialize;

use crate::audit::NewEvent;
use crate::identity::unit_by_id;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// A work order as pushed (the export's columns, `marketing-export.md`).
#[derive(Debug, Clone, Default)]
pub struct PushedOrder {
    pub order_id: String,
    pub order_type: String,
    pub customer_id: String,
    pub org_unit: String,
    pub started_at: String,
    pub finished_at: String,
    pub workers: Vec<String>,
}

/// A meter event as pushed.
#[derive(Debug, Clone, Default)]
pub struct PushedEvent {
    pub event_id: String,
    pub meter_id: String,
    pub customer_id: String,
    pub kind: String,
    pub occurred_at: String,
}

/// What a batch changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PushOutcome {
    pub received: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// The cross-audit run after the batch, when it brought anything new or changed.
    pub run: Option<super::RunSummary>,
}

/// Longest id, customer, meter or worker code taken.
const MAX_ID: usize = 64;
const MAX_WORKERS: usize = 20;

fn problem(index: usize, field: &'static str, message: &'static str, value: &str) -> FieldProblem {
    FieldProblem::new("batch", message)
        .with("index", index)
        .with("field", field)
        .with("value", value.chars().take(40).collect::<String>())
}

fn id_text(index: usize, field: &'static str, value: &str, problems: &mut Vec<FieldProblem>) -> String {
    let v = value.trim();
    if v.is_empty() {
        problems.push(problem(index, field, "push-required", v));
    } else if v.chars().count() > MAX_ID {
        problems.push(problem(index, field, "push-too-long", v).with("max", MAX_ID));
    }
    v.to_owned()
}

fn time(
    index: usize,
    field: &'static str,
    value: &str,
    problems: &mut Vec<FieldProblem>,
) -> Option<chrono::NaiveDateTime> {
    match gridsafe_sheet::parse_datetime(&Cell::Text(value.to_owned())) {
        Ok(t) => Some(t),
        Err(_) => {
            problems.push(problem(index, field, "push-datetime", value));
            None
        }
    }
}

fn batch_size(app: &App, n: usize) -> Result<(), AppError> {
    let max = app.crossaudit_config().push_batch_max as usize;
    if n == 0 || n > max {
        return Err(AppError::Invalid(vec![FieldProblem::new("batch", "push-batch-size").with("max", max)]));
    }
    Ok(())
}

/// Reads a batch of orders; every problem by index and field.
fn read_orders(orders: &[PushedOrder]) -> Result<Vec<WorkOrder>, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        let order_id = id_text(i, "order_id", &o.order_id, &mut problems);
        if !order_id.is_empty() && !seen.insert(order_id.clone()) {
            problems.push(problem(i, "order_id", "push-duplicate", &order_id));
        }
        let order_type = OrderType::parse(&o.order_type);
        if order_type.is_none() {
            problems.push(problem(i, "order_type", "push-order-type", &o.order_type));
        }
        let customer_id = id_text(i, "customer_id", &o.customer_id, &mut problems);
        if o.org_unit.chars().count() > 100 {
            problems.push(problem(i, "org_unit", "push-too-long", &o.org_unit).with("max", 100));
        }
        let started = time(i, "started_at", &o.started_at, &mut problems);
        let finished = time(i, "finished_at", &o.finished_at, &mut problems);
        if let (Some(s), Some(f)) = (started, finished)
            && f < s
        {
            problems.push(problem(i, "finished_at", "push-before-start", &o.finished_at));
        }
        if o.workers.len() > MAX_WORKERS {
            problems.push(problem(i, "workers", "push-too-many", "").with("max", MAX_WORKERS));
        }
        let workers: Vec<String> = o.workers.iter().map(|w| id_text(i, "workers", w, &mut problems)).collect();
        if let (Some(order_type), Some(started_at), Some(finished_at)) = (order_type, started, finished) {
            out.push(WorkOrder {
                line: i,
                order_id,
                order_type,
                customer_id,
                org_unit: o.org_unit.trim().to_owned(),
                started_at,
                finished_at,
                workers,
            });
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// Reads a batch of meter events; every problem by index and field. A kind the audit does not
/// know is kept as `other`, as the import keeps it.
fn read_events(events: &[PushedEvent]) -> Result<Vec<MeterEvent>, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let event_id = id_text(i, "event_id", &e.event_id, &mut problems);
        if !event_id.is_empty() && !seen.insert(event_id.clone()) {
            problems.push(problem(i, "event_id", "push-duplicate", &event_id));
        }
        let meter_id = id_text(i, "meter_id", &e.meter_id, &mut problems);
        let customer_id = id_text(i, "customer_id", &e.customer_id, &mut problems);
        let kind = id_text(i, "kind", &e.kind, &mut problems);
        if let Some(occurred_at) = time(i, "occurred_at", &e.occurred_at, &mut problems) {
            out.push(MeterEvent {
                line: i,
                event_id,
                meter_id,
                customer_id,
                kind: EventKind::from_code(&kind),
                occurred_at,
            });
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// Takes a batch of work orders for `unit` (orders whose 供电单位 names a unit below it go there).
pub async fn push_orders(
    app: &App,
    cap: &Capability<perm::MarketingPush>,
    meta: &RequestMeta,
    unit_id: UnitId,
    orders: &[PushedOrder],
) -> Result<PushOutcome, AppError> {
    batch_size(app, orders.len())?;
    let read = read_orders(orders);
    let tables = |orders| Tables { work_orders: orders, ..Tables::default() };
    push(app, cap, meta, unit_id, orders.len(), read.map(tables)).await
}

/// Takes a batch of meter events for `unit`.
pub async fn push_events(
    app: &App,
    cap: &Capability<perm::MarketingPush>,
    meta: &RequestMeta,
    unit_id: UnitId,
    events: &[PushedEvent],
) -> Result<PushOutcome, AppError> {
    batch_size(app, events.len())?;
    let read = read_events(events);
    let tables = |events| Tables { meter_events: events, ..Tables::default() };
    push(app, cap, meta, unit_id, events.len(), read.map(tables)).await
}

async fn push(
    app: &App,
    cap: &Capability<perm::MarketingPush>,
    meta: &RequestMeta,
    unit_id: UnitId,
    received: usize,
    read: Result<Tables, Vec<FieldProblem>>,
) -> Result<PushOutcome, AppError> {
    let unit = unit_by_id(app, unit_id).await?.ok_or_else(|| AppError::invalid("unit_id", "field-unit"))?;
    cap.check(&unit.path)?;
    let tables = match read {
        Ok(t) => t,
        Err(problems) => {
            // The refused batch is on record too; nothing else was written.
            let event = NewEvent::new("marketing.push_refused", "marketing_import", 0)
                .unit(unit.id)
                .summary(serde_json::json!({ "received": received, "problems": problems.len() }));
            app.record(cap.actor(), meta, event).await?;
            return Err(AppError::Invalid(problems));
        }
    };
    let mut work = app.begin(cap.actor(), meta).await?;
    // Which of the batch's rows are stored, read under the lock every writer of them takes: two
    // batches pushed at once are told apart exactly (the second finds the first's rows).
    store::hold_imported_rows(work.conn()).await?;
    let stamp = |t: chrono::NaiveDateTime| Timestamp::from_local(t).to_db();
    let order_ids: Vec<&str> = tables.work_orders.iter().map(|o| o.order_id.as_str()).collect();
    let known_orders = store::stored_orders(work.conn(), &order_ids).await?;
    let event_ids: Vec<&str> = tables.meter_events.iter().map(|e| e.event_id.as_str()).collect();
    let known_events = store::stored_events(work.conn(), &event_ids).await?;
    let mut outcome = PushOutcome { received, ..PushOutcome::default() };
    let mut changed_ids = Vec::new();
    let mut fresh = Tables::default();
    for o in tables.work_orders {
        let now = [
            o.order_type.code().to_owned(),
            o.customer_id.clone(),
            o.org_unit.clone(),
            stamp(o.started_at),
            stamp(o.finished_at),
            o.workers.join(";"),
        ];
        match known_orders.get(&o.order_id) {
            Some(stored) if *stored == now => outcome.unchanged += 1,
            Some(_) => {
                outcome.changed += 1;
                changed_ids.push(o.order_id.clone());
                fresh.work_orders.push(o);
            }
            None => {
                outcome.new += 1;
                fresh.work_orders.push(o);
            }
        }
    }
    for e in tables.meter_events {
        let now = [e.meter_id.clone(), e.customer_id.clone(), e.kind.code().to_owned(), stamp(e.occurred_at)];
        match known_events.get(&e.event_id) {
            Some(stored) if *stored == now => outcome.unchanged += 1,
            Some(_) => {
                outcome.changed += 1;
                changed_ids.push(e.event_id.clone());
                fresh.meter_events.push(e);
            }
            None => {
                outcome.new += 1;
                fresh.meter_events.push(e);
            }
        }
    }
    if outcome.new + outcome.changed == 0 {
        // Sent before: nothing to write, nothing to audit again.
        return Ok(outcome);
    }
    let below = store::units_below(work.conn(), &unit.path).await?;
    let unit_of = |text: &str| below.iter().find(|(_, n, c)| n == text || c == text).map_or(unit.id, |(id, _, _)| *id);
    let now = work.now();
    let source = if fresh.work_orders.is_empty() { "push:meter-events" } else { "push:work-orders" };
    let id =
        store::import(work.conn(), unit.id, &[source.to_owned()], &fresh, &unit_of, &cap.actor().name, now).await?;
    work.audit(NewEvent::new("marketing.pushed", "marketing_import", id).unit(unit.id).summary(serde_json::json!({
        "source": source, "received": received, "new": outcome.new, "changed": outcome.changed,
        "changed_ids": changed_ids.iter().take(50).collect::<Vec<_>>(),
    })))
    .await?;
    let brought = super::run::Brought::new(id, fresh, &unit_of, unit.id);
    work.commit().await?;
    outcome.run = Some(super::run::run_after_import(app, cap.actor(), meta, "push", brought).await?);
    Ok(outcome)
}
