//! Import of the marketing system's work orders and the metering system's meter events.

use gridsafe_crossaudit::input::{InputError, Tables};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_store::findings as store;
use serde::Serialize;

use crate::audit::NewEvent;
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

/// Imports the work orders and meter events of `tables` for `unit` (orders whose 供电单位 names a
/// unit below it, by name or code, go to that unit), all or nothing, then runs the cross-audit.
/// Problems in the files come back as `Err` with file, line, column and value; nothing is written.
pub async fn import_marketing(
    app: &App,
    cap: &Capability<perm::MarketingImport>,
    meta: &RequestMeta,
    unit_id: UnitId,
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
        let event = NewEvent::new("marketing.import_refused", "marketing_import", 0)
            .unit(unit.id)
            .summary(serde_json::json!({ "files": files, "problems": errors.len() }));
        app.record(cap.actor(), meta, event).await?;
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
    // Units below the chosen one, by name and by code, for the orders' 供电单位 (units are never
    // deleted).
    let below = store::units_below(&mut *app.db().read().await?, &unit.path).await?;
    let unit_of = |text: &str| below.iter().find(|(_, n, c)| n == text || c == text).map_or(unit.id, |(id, _, _)| *id);
    let (orders, events) = (tables.work_orders.len(), tables.meter_events.len());
    let imported = |id| {
        NewEvent::new("marketing.imported", "marketing_import", id).unit(unit.id).summary(serde_json::json!({
            "files": files, "orders": orders, "events": events, "ignored": ignored,
        }))
    };
    let by = &cap.actor().name;
    // On PostgreSQL the rows go in with its bulk load, on its own driver's connection.
    let id = match app.begin_bulk(cap.actor(), meta).await? {
        Some(mut work) => {
            let now = work.now();
            let id = store::import_bulk(work.conn(), unit.id, files, &tables, &unit_of, by, now).await?;
            work.audit(imported(id)).await?;
            work.commit().await?;
            id
        }
        None => {
            let mut work = app.begin(cap.actor(), meta).await?;
            let now = work.now();
            let id = store::import(work.conn(), unit.id, files, &tables, &unit_of, by, now).await?;
            work.audit(imported(id)).await?;
            work.commit().await?;
            id
        }
    };
    let brought = super::run::Brought::new(id, tables, &unit_of, unit.id);
    let run = super::run::run_after_import(app, cap.actor(), meta, "import", brought).await?;
    Ok(Ok(MarketingImport { id, orders, events, ignored, run }))
}
