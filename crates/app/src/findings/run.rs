//! Running the cross-audit inside the application: GridSafe's own people, qualifications,
//! contractors and tickets, with the imported work orders and meter events, through the same
//! engine as `gridsafe audit`; the findings kept, refreshed and resolved.

use std::collections::HashSet;
use std::time::Instant;

use gridsafe_crossaudit::engine;
use gridsafe_crossaudit::input::{MeterEvent, Tables, WorkOrder};
use gridsafe_domain::access::Actor;
use gridsafe_domain::ids::UnitId;
use gridsafe_store::findings::{self as store, Reach};
use serde::Serialize;

use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};

/// Everything the rules read, from the database, as the export format's tables.
pub async fn tables(app: &App) -> Result<Tables, AppError> {
    Ok(store::tables(&mut *app.db().read().await?, Reach::All).await?)
}

/// The plan's own cross-audit (work outside the plan, planned work with no ticket), as findings
/// beside the marketing cross-audit's.
async fn plan_audit(app: &App) -> Result<Vec<engine::Finding>, AppError> {
    use gridsafe_store::plans as plans_store;
    let mut conn = app.db().read().await?;
    let setting = app.plans_config();
    let tickets: Vec<_> = plans_store::executed_tickets(&mut conn)
        .await?
        .into_iter()
        .map(|(type_code, t)| gridsafe_domain::plans::ExecutedTicket {
            exempt: setting.unplanned_exempt_types.contains(&type_code),
            ..t
        })
        .collect();
    let now = app.now();
    let items = plans_store::passed_items(&mut conn, now).await?;
    Ok(gridsafe_domain::plans::audit(&tickets, &items, now)
        .into_iter()
        .map(|f| engine::Finding {
            rule: f.rule.code(),
            entity_kind: f.entity_kind,
            entity_id: f.entity_id,
            subject: String::new(),
            detail: f.detail,
        })
        .collect())
}

/// Graded work started with no required manager on site (到岗到位), as findings.
async fn attendance_audit(app: &App) -> Result<Vec<engine::Finding>, AppError> {
    use gridsafe_domain::supervision::{absent, audit};
    let started = gridsafe_store::supervision::started(&mut *app.db().read().await?).await?;
    Ok(absent(&started)
        .into_iter()
        .map(|t| engine::Finding {
            rule: audit::CODE,
            entity_kind: "ticket",
            entity_id: t.number.clone(),
            subject: String::new(),
            detail: format!("{}级风险作业开工时无到岗到位人员在现场", t.grade),
        })
        .collect())
}

/// Meter install orders and power-ups of a customer project's installation before its acceptance
/// passed (业扩 energised early), as findings.
async fn project_audit(app: &App) -> Result<Vec<engine::Finding>, AppError> {
    use gridsafe_domain::projects::{audit, early};
    let rows = gridsafe_store::projects::energising(&mut *app.db().read().await?).await?;
    Ok(early(&rows)
        .into_iter()
        .map(|e| engine::Finding {
            rule: audit::CODE,
            entity_kind: e.entity_kind,
            entity_id: e.entity_id.clone(),
            subject: e.project.clone(),
            detail: format!(
                "{}（业扩 {}）早于验收合格",
                if e.install { "装表接电工单" } else { "上电事件" },
                e.project
            ),
        })
        .collect())
}

/// What one run found.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    /// Findings the rules produce now.
    pub findings: u64,
    /// Of those, first seen in this run.
    pub new: u64,
    /// Open findings the rules no longer produce, now resolved.
    pub resolved: u64,
    pub millis: u64,
}

/// Rules that read every stored order or event whatever a run's reach: their findings are
/// brought up to date by every run.
const EVERY_ROW: [&str; 1] = [gridsafe_domain::projects::audit::CODE];

/// Runs every rule now and brings the findings up to date, in one transaction: new ones open,
/// seen ones refreshed (a resolved one that comes back opens again), open ones no longer found
/// resolved. Reviewed findings keep their review.
pub async fn run_audit(app: &App, actor: &Actor, meta: &RequestMeta, cause: &str) -> Result<RunSummary, AppError> {
    run(app, actor, meta, cause, None).await
}

/// The rows an import wrote, still in hand: its orders with the unit each went to, its meter
/// events and theirs. The run after it reads them from here, not back from the store.
pub(crate) struct Brought {
    import: i64,
    orders: Vec<(WorkOrder, UnitId)>,
    events: Vec<MeterEvent>,
    events_unit: UnitId,
}

impl Brought {
    /// The rows of `tables` as import `import` wrote them: each order to the unit its 供电单位
    /// names (`unit_of`), the events to `unit`.
    pub(crate) fn new(import: i64, tables: Tables, unit_of: &dyn Fn(&str) -> UnitId, unit: UnitId) -> Self {
        Self {
            import,
            orders: tables
                .work_orders
                .into_iter()
                .map(|o| {
                    let unit = unit_of(&o.org_unit);
                    (o, unit)
                })
                .collect(),
            events: tables.meter_events,
            events_unit: unit,
        }
    }
}

/// The run after an import: the rules over the orders and meter events it brought (with
/// GridSafe's tickets and people, whole), bringing up to date only the findings about what it
/// read; the store's other orders and events keep their findings until the next whole run.
pub(crate) async fn run_after_import(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    cause: &str,
    brought: Brought,
) -> Result<RunSummary, AppError> {
    run(app, actor, meta, cause, Some(brought)).await
}

async fn run(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    cause: &str,
    brought: Option<Brought>,
) -> Result<RunSummary, AppError> {
    let started = Instant::now();
    tracing::info!(cause, "cross-audit run started");
    let reach = brought.as_ref().map_or(Reach::All, |b| Reach::Import(b.import));
    let (since, mut tables) = {
        let mut read = app.db().read().await?;
        // The rows as they were when import `since` had committed: an import's run reads its
        // own, committed before it starts; a whole run notes the last import before reading.
        let since = match &brought {
            Some(b) => b.import,
            None => store::last_import(&mut read).await?,
        };
        (since, store::tables(&mut read, reach).await?)
    };
    // Where the brought rows' findings belong: their unit, and the month (China time) they happened.
    let month = |at: chrono::NaiveDateTime| at.format("%Y-%m").to_string();
    let mut own = store::Placement::default();
    if let Some(b) = brought {
        // An order the store gave too was sent again by a later import: the store's is newer.
        let stored: HashSet<String> = tables.work_orders.iter().map(|o| o.order_id.clone()).collect();
        for (o, unit) in b.orders {
            if !stored.contains(&o.order_id) {
                own.orders.insert(o.order_id.clone(), (unit, month(o.started_at)));
                tables.work_orders.push(o);
            }
        }
        for e in b.events {
            own.events.insert(e.event_id.clone(), (b.events_unit, month(e.occurred_at)));
            tables.meter_events.push(e);
        }
    }
    let today = app.today();
    let mut thresholds = app.crossaudit_config().thresholds();
    // GridSafe's tickets know their work kind: the set to evaluate is the deployment's.
    thresholds.must_evaluate = app.tickets_config().must_evaluate_set();
    let mut found = engine::audit(&tables, today, &thresholds);
    drop(tables);
    found.extend(plan_audit(app).await?);
    found.extend(attendance_audit(app).await?);
    found.extend(project_audit(app).await?);
    let mut work = app.begin(actor, meta).await?;
    // No import writes rows, nor does another run write findings, until this run commits.
    store::hold_imported_rows(work.conn()).await?;
    // Rows an import wrote after this run's reading: that import's run judges them (or has), so
    // this one leaves their findings as they are, neither refreshed nor resolved.
    let (later_orders, later_events) = store::written_after(work.conn(), since).await?;
    let later = |kind: &str, id: &str| match kind {
        "order" => later_orders.contains(id),
        "event" => later_events.contains(id),
        _ => false,
    };
    found.retain(|f| !later(f.entity_kind, &f.entity_id));
    let mut place = store::placement(work.conn(), reach).await?;
    place.orders.extend(own.orders);
    place.events.extend(own.events);
    let mut known = store::known(work.conn(), reach, &EVERY_ROW).await?;
    known.retain(|(_, kind, id, _), _| !later(kind, id));
    // What earlier runs found outside the reach, and this run leaves as it is.
    let kept = if reach == Reach::All && later_orders.is_empty() && later_events.is_empty() {
        0
    } else {
        let within = known.values().filter(|k| k.state != "resolved").count();
        u64::try_from(store::unresolved(work.conn()).await?).unwrap_or(0).saturating_sub(within as u64)
    };
    let now = work.now();
    let this_month = today.format("%Y-%m").to_string();
    let mut summary = RunSummary { findings: found.len() as u64 + kept, ..RunSummary::default() };
    // First seen, each with where it belongs.
    let mut first_seen = Vec::new();
    for f in &found {
        let key = (f.rule.to_owned(), f.entity_kind.to_owned(), f.entity_id.clone(), f.subject.clone());
        match known.remove(&key) {
            // Seen again as it was: nothing to write.
            Some(kept) if kept.state != "resolved" && kept.detail == f.detail => {}
            Some(kept) => {
                let state = if kept.state == "resolved" { "open" } else { kept.state.as_str() };
                store::seen_again(work.conn(), kept.id, &f.detail, state, now).await?;
            }
            None => {
                first_seen.push((f, place.of(f.entity_kind, &f.entity_id, &this_month)));
            }
        }
    }
    let new: Vec<_> = first_seen
        .iter()
        .map(|(f, (unit_id, month))| store::NewFinding {
            rule: f.rule,
            entity_kind: f.entity_kind,
            entity_id: &f.entity_id,
            subject: &f.subject,
            detail: &f.detail,
            unit_id: *unit_id,
            month,
        })
        .collect();
    store::insert_findings(work.conn(), &new, now).await?;
    summary.new = new.len() as u64;
    // Each unit's `finding.opened` event counts its new findings and lists the first few.
    let mut opened = std::collections::BTreeMap::<_, (usize, Vec<_>)>::new();
    for (f, (unit_id, _)) in &first_seen {
        let (count, listed) = opened.entry(*unit_id).or_default();
        *count += 1;
        if listed.len() < crate::webhooks::FINDINGS_LISTED {
            let key = [f.rule, f.entity_kind, f.entity_id.as_str(), f.subject.as_str()];
            listed.push(crate::webhooks::OpenedFinding {
                id: store::finding_id(work.conn(), key).await?.unwrap_or_default(),
                rule: f.rule.to_owned(),
                entity_kind: f.entity_kind.to_owned(),
                entity_id: f.entity_id.clone(),
                subject: f.subject.clone(),
                detail: f.detail.clone(),
            });
        }
    }
    let gone: Vec<i64> = known.into_values().filter(|k| k.state == "open").map(|k| k.id).collect();
    store::resolve(work.conn(), &gone, now).await?;
    summary.resolved = gone.len() as u64;
    crate::webhooks::findings_opened(work.conn(), opened, now).await?;
    summary.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let counts = [summary.findings, summary.new, summary.resolved, summary.millis];
    store::record_run(work.conn(), cause, today, counts, now).await?;
    work.audit(
        NewEvent::new("crossaudit.ran", "crossaudit", cause).summary(serde_json::to_value(summary).unwrap_or_default()),
    )
    .await?;
    work.commit().await?;
    let RunSummary { findings, new, resolved, millis } = summary;
    tracing::info!(cause, findings, new, resolved, millis, "cross-audit run done");
    Ok(summary)
}
