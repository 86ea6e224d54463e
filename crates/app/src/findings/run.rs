//! Running the cross-audit inside the application: GridSafe's own people, qualifications,
//! contractors and tickets, with the imported work orders and meter events, through the same
//! engine as `gridsafe audit`; the findings kept, refreshed and resolved.

use std::time::Instant;

use gridsafe_crossaudit::engine;
use gridsafe_crossaudit::input::Tables;
use gridsafe_domain::access::Actor;
use gridsafe_store::findings as store;
use serde::Serialize;

use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};

/// Everything the rules read, from the database, as the export format's tables.
pub async fn tables(app: &App) -> Result<Tables, AppError> {
    Ok(store::tables(&mut *app.db().read().await?).await?)
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

/// Runs every rule now and brings the findings up to date, in one transaction: new ones open,
/// seen ones refreshed (a resolved one that comes back opens again), open ones no longer found
/// resolved. Reviewed findings keep their review.
pub async fn run_audit(app: &App, actor: &Actor, meta: &RequestMeta, cause: &str) -> Result<RunSummary, AppError> {
    let started = Instant::now();
    let tables = tables(app).await?;
    let today = app.today();
    let mut thresholds = app.crossaudit_config().thresholds();
    // GridSafe's tickets know their work kind: the set to evaluate is the deployment's.
    thresholds.must_evaluate = app.tickets_config().must_evaluate_set();
    let mut found = engine::audit(&tables, today, &thresholds);
    found.extend(plan_audit(app).await?);
    found.extend(attendance_audit(app).await?);
    found.extend(project_audit(app).await?);
    let mut work = app.begin(actor, meta).await?;
    let place = store::placement(work.conn()).await?;
    let mut known = store::known(work.conn()).await?;
    let now = work.now();
    let this_month = today.format("%Y-%m").to_string();
    let mut summary = RunSummary { findings: found.len() as u64, ..RunSummary::default() };
    let mut opened = std::collections::BTreeMap::<_, Vec<_>>::new();
    for f in &found {
        let key = (f.rule.to_owned(), f.entity_kind.to_owned(), f.entity_id.clone(), f.subject.clone());
        match known.remove(&key) {
            Some((id, state)) => {
                let reopened = if state == "resolved" { "open" } else { state.as_str() };
                store::seen_again(work.conn(), id, &f.detail, reopened, now).await?;
            }
            None => {
                let (unit_id, month) = place.of(f.entity_kind, &f.entity_id, &this_month);
                let new = store::NewFinding {
                    rule: f.rule,
                    entity_kind: f.entity_kind,
                    entity_id: &f.entity_id,
                    subject: &f.subject,
                    detail: &f.detail,
                    unit_id,
                    month: &month,
                };
                let id = store::insert_finding(work.conn(), &new, now).await?;
                opened.entry(unit_id).or_default().push(crate::webhooks::OpenedFinding {
                    id,
                    rule: f.rule.to_owned(),
                    entity_kind: f.entity_kind.to_owned(),
                    entity_id: f.entity_id.clone(),
                    subject: f.subject.clone(),
                    detail: f.detail.clone(),
                });
                summary.new += 1;
            }
        }
    }
    for (_, (id, state)) in known {
        if state == "open" {
            store::resolve(work.conn(), id, now).await?;
            summary.resolved += 1;
        }
    }
    crate::webhooks::findings_opened(work.conn(), opened, now).await?;
    summary.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let counts = [summary.findings, summary.new, summary.resolved, summary.millis];
    store::record_run(work.conn(), cause, today, counts, now).await?;
    work.audit(
        NewEvent::new("crossaudit.ran", "crossaudit", cause).summary(serde_json::to_value(summary).unwrap_or_default()),
    )
    .await?;
    work.commit().await?;
    Ok(summary)
}
