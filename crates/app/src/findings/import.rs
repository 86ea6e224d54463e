//! Import of the marketing system's work orders and the metering system's meter events.

use gridsafe_crossaudit::input::{EventKind, InputError, Tables};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::identity::unit_by_id;
use crate::{App, AppError, RequestMeta};

/// What an import brought in, and what the cross-audit run after it found.
#[derive(Debug, Clone, Serialize)]
pub struct MarketingImport {
    pub id: i64,
    pub orders: usize,
    pub events: usize,
    /// Tables in the files that this import does not take (people and tickets come from GridSafe).
    pub ignored: Vec<String>,
    pub run: super::RunSummary,
}

fn event_code(kind: EventKind) -> &'static str {
    match kind {
        EventKind::CoverOpen => "cover_open",
        EventKind::TerminalCoverOpen => "terminal_cover_open",
        EventKind::PowerDown => "power_down",
        EventKind::PowerUp => "power_up",
        EventKind::Other => "other",
    }
}

/// Imports the work orders and meter events of `tables` for `unit` (orders whose 供电单位 names a
/// unit below it, by name or code, go to that unit), all or nothing, then runs the cross-audit.
/// Problems in the files come back as `Err` with file, line, column and value; nothing is written.
pub async fn import_marketing(
    app: &App,
    cap: &Capability<perm::MarketingImport>,
    meta: &RequestMeta,
    unit_id: i64,
    files: &[String],
    tables: Tables,
) -> Result<Result<MarketingImport, Vec<InputError>>, AppError> {
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut errors = tables.errors.clone();
    if errors.is_empty() && tables.work_orders.is_empty() && tables.meter_events.is_empty() {
        let file = files.first().cloned().unwrap_or_default();
        errors.push(InputError::file(
            &file,
            gridsafe_crossaudit::input::Problem::Unreadable("no work_orders or meter_events".into()),
        ));
    }
    if !errors.is_empty() {
        // The refused attempt is on record too; nothing else was written.
        let mut tx = app.db().begin_write().await?;
        let event = NewEvent::new("marketing.import_refused", "marketing_import", 0)
            .unit(unit.id)
            .summary(serde_json::json!({ "files": files, "problems": errors.len() }));
        append(&mut tx, cap.actor(), meta, app.now(), event).await?;
        tx.commit().await?;
        return Ok(Err(errors));
    }
    let mut ignored = Vec::new();
    for (name, empty) in [
        ("persons", tables.persons.is_empty()),
        ("qualifications", tables.qualifications.is_empty()),
        ("contractors", tables.contractors.is_empty()),
        ("safety_agreements", tables.agreements.is_empty()),
        ("tickets", tables.tickets.is_empty()),
    ] {
        if !empty {
            ignored.push(name.to_owned());
        }
    }
    // Units below the chosen one, by name and by code, for the orders' 供电单位.
    let below: Vec<(i64, String, String)> = sqlx::query("SELECT id, name, code FROM org_units WHERE path LIKE $1")
        .bind(format!("{}%", unit.path.as_str()))
        .fetch_all(app.db().pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let unit_of = |text: &str| below.iter().find(|(_, n, c)| n == text || c == text).map_or(unit.id, |(id, _, _)| *id);
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO marketing_imports (unit_id, files, orders, events, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(unit.id)
    .bind(files.join(", "))
    .bind(i64::try_from(tables.work_orders.len()).unwrap_or(i64::MAX))
    .bind(i64::try_from(tables.meter_events.len()).unwrap_or(i64::MAX))
    .bind(&cap.actor().name)
    .bind(now.to_db())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    for o in &tables.work_orders {
        sqlx::query(
            "INSERT INTO marketing_orders (order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (order_id) DO UPDATE SET order_type = excluded.order_type, customer_id = excluded.customer_id, \
             org_unit = excluded.org_unit, unit_id = excluded.unit_id, started_at = excluded.started_at, \
             finished_at = excluded.finished_at, workers = excluded.workers, import_id = excluded.import_id",
        )
        .bind(&o.order_id)
        .bind(o.order_type.code())
        .bind(&o.customer_id)
        .bind(&o.org_unit)
        .bind(unit_of(&o.org_unit))
        .bind(Timestamp::from_local(o.started_at).to_db())
        .bind(Timestamp::from_local(o.finished_at).to_db())
        .bind(o.workers.join(";"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    for e in &tables.meter_events {
        sqlx::query(
            "INSERT INTO meter_events (event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (event_id) DO UPDATE SET meter_id = excluded.meter_id, customer_id = excluded.customer_id, \
             kind = excluded.kind, occurred_at = excluded.occurred_at, unit_id = excluded.unit_id, import_id = excluded.import_id",
        )
        .bind(&e.event_id)
        .bind(&e.meter_id)
        .bind(&e.customer_id)
        .bind(event_code(e.kind))
        .bind(Timestamp::from_local(e.occurred_at).to_db())
        .bind(unit.id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let event = NewEvent::new("marketing.imported", "marketing_import", id).unit(unit.id).summary(serde_json::json!({
        "files": files, "orders": tables.work_orders.len(), "events": tables.meter_events.len(), "ignored": ignored,
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    let run = super::run_audit(app, cap.actor(), meta, "import").await?;
    Ok(Ok(MarketingImport { id, orders: tables.work_orders.len(), events: tables.meter_events.len(), ignored, run }))
}
