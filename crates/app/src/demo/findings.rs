//! The demo company's marketing data: work orders and meter events that the cross-audit finds
//! things in (ticketless and single-person work, a lapsed exam, a cover opened with no ticket),
//! one finding confirmed into the closed loop (a hazard past its deadline, escalated by the
//! daily job), one dismissed.

use chrono::Duration;
use gridsafe_crossaudit::input::{EventKind, MeterEvent, ORDER_TYPES, Tables, WorkOrder};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::findings::Review;
use gridsafe_domain::ids::UnitId;

use crate::findings::{self, FindingFilter, TaskInput};
use crate::{App, AppError, RequestMeta};

/// Fills the marketing data; answers how many findings there are and how many hazards their
/// confirmation opened.
pub async fn fill(app: &App, meta: &RequestMeta, unit: UnitId) -> Result<(usize, usize), AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let import = op.authorize::<perm::MarketingImport>()?;
    let review = op.authorize::<perm::FindingsReview>()?;
    let now = app.now().as_utc().with_timezone(&gridsafe_domain::time::CHINA).naive_local();
    let ago = |days: i64, hours: i64| now - Duration::days(days) + Duration::hours(hours);
    let kind = |code: &str| ORDER_TYPES.iter().find(|(c, _, _)| *c == code).map(|(_, _, k)| *k);
    let mut tables = Tables::default();
    let orders: [(&str, &str, &str, i64, &[&str]); 5] = [
        ("WO-DEMO-0101", "meter_replacement", "4300020020", 2, &["XG1020"]),
        ("WO-DEMO-0102", "fault_repair", "4300021021", 3, &["C04W01", "C04W02"]),
        ("WO-DEMO-0103", "meter_reading", "4300022022", 1, &["XG1026"]),
        ("WO-DEMO-0104", "disconnect", "4300023023", 6, &["XG1030", "XG1032"]),
        ("WO-DEMO-0105", "customer_visit", "4300024024", 4, &["XG1002", "XG1003"]),
    ];
    for (id, code, customer, days, workers) in orders {
        let Some(order_type) = kind(code) else { continue };
        tables.work_orders.push(WorkOrder {
            line: 0,
            order_id: id.into(),
            order_type,
            customer_id: customer.into(),
            org_unit: "孝南供电中心".into(),
            started_at: ago(days, 0),
            finished_at: ago(days, 1),
            workers: workers.iter().map(|w| (*w).to_owned()).collect(),
        });
    }
    for (id, customer, days, kind) in [
        ("EV-DEMO-01", "4300025025", 1, EventKind::CoverOpen),
        ("EV-DEMO-02", "4300020020", 2, EventKind::TerminalCoverOpen),
    ] {
        tables.meter_events.push(MeterEvent {
            line: 0,
            event_id: id.into(),
            meter_id: format!("MT{customer}"),
            customer_id: customer.into(),
            kind,
            occurred_at: ago(days, 0),
        });
    }
    let files = ["营销工单（演示）.xlsx".to_owned()];
    match findings::import_marketing(app, &import, meta, unit, &files, tables).await? {
        Ok(_) => {}
        Err(errors) => return Err(AppError::internal(format!("demo marketing data: {:?}", errors.first()))),
    }
    // The auditor confirms the ticketless meter replacement; its task goes to the county centre.
    let filter = FindingFilter { rule: Some("NO_TICKET".into()), ..FindingFilter::default() };
    let view = op.authorize::<perm::FindingsView>()?;
    let found = findings::list_findings(app, &view, &filter, None, 100).await?;
    let mut hazards = 0;
    if let Some(f) = found.iter().find(|f| f.entity_id == "WO-DEMO-0101") {
        let task = TaskInput { responsible: "XG1007".into(), deadline: String::new() };
        let hazard = findings::review(
            app,
            &review,
            meta,
            f.id,
            Review::Confirm,
            "采集开端钮盒事件与工单时间吻合，确认无票作业",
            task,
        )
        .await?;
        // Demo history: confirmed three weeks ago with a deadline last week, still not rectified;
        // the daily job escalates it (督办) when the demo runs it.
        if let Some(h) = hazard {
            let day = (app.today() - Duration::days(6)).to_string();
            let registered = (app.today() - Duration::days(21)).to_string();
            let mut tx = app.db().begin_write().await?;
            gridsafe_store::demo::backdate_hazard(&mut tx, h, &day, Some(&registered)).await?;
            tx.commit().await?;
            hazards += 1;
        }
    }
    if let Some(f) = found.iter().find(|f| f.entity_id == "WO-DEMO-0104") {
        findings::review(
            app,
            &review,
            meta,
            f.id,
            Review::Dismiss,
            "停电由调度远方操作，现场无作业",
            TaskInput::default(),
        )
        .await?;
    }
    Ok((usize::try_from(findings::count_findings(app, &view, &FindingFilter::default()).await?).unwrap_or(0), hazards))
}
