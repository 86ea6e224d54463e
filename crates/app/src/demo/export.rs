//! An export of the marketing system that matches the demo company (`gridsafe demo export
//! --company`): the work orders its tickets were opened for, done inside their tickets' windows by
//! their crews, and around them a realistic handful of what the cross-audit exists to find: field
//! work with no ticket, one person alone on a repair, a meter cover opened with no ticket. Imported
//! into the demo (`gridsafe import marketing`, or the import page) it shows those findings and no
//! others from these rows.

use std::fmt::Write as _;

use chrono::{Duration, NaiveDateTime};
use gridsafe_domain::access::{Channel, Principal, perm};

use crate::tickets::{self, TicketFilter};
use crate::{App, AppError};

/// The export's two files (CSV, the spec's English headers) and how many rows each holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyExport {
    pub work_orders: String,
    pub meter_events: String,
    pub orders: usize,
    pub events: usize,
}

/// A ticket step's recorded local time (`YYYY-MM-DD HH:MM`).
fn local(at: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").ok()
}

fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// `work_orders.csv` and `meter_events.csv` of the demo company, as of now.
pub async fn company_export(app: &App) -> Result<CompanyExport, AppError> {
    let op = Principal::operator("gridsafe demo export", Channel::Cli);
    let cap = op.authorize::<perm::TicketsView>()?;
    let now = app.now().as_utc().with_timezone(&gridsafe_domain::time::CHINA).naive_local();
    let mut orders = String::from("order_id,order_type,customer_id,org_unit,started_at,finished_at,workers\n");
    let mut count = 0;
    let mut unit = String::new();
    // Each ticket's orders, done by its leader and crew between its permission and its end.
    for row in tickets::list_tickets(app, &cap, &TicketFilter::default(), 1000).await? {
        let t = tickets::ticket(app, &cap, row.id).await?;
        let signed = |step: &str| t.steps.iter().rev().find(|s| s.step == step).and_then(|s| local(&s.at));
        let (Some(permitted), Some(customer)) = (signed("permit"), t.row.customer_id.as_deref()) else { continue };
        // Inside its window, in whole minutes as the export writes them: from the minute after
        // its permission to its work's end, or an hour on (not beyond now). A window shorter
        // than that (the demo signs some histories in one instant) has no order to show.
        let started = permitted + Duration::minutes(1);
        let finished = match signed("end_work") {
            Some(ended) => ended,
            None => (started + Duration::hours(1)).min(now),
        };
        if finished < started {
            continue;
        }
        let workers: Vec<&str> =
            t.leader.iter().map(|p| p.code.as_str()).chain(t.crew.iter().map(|m| m.person.code.as_str())).collect();
        for o in &t.orders {
            let _ = writeln!(
                orders,
                "{},{},{customer},{},{},{},{}",
                o.order_id,
                o.order_type,
                t.row.unit_name,
                stamp(started),
                stamp(finished),
                workers.join(";")
            );
            count += 1;
        }
        if unit.is_empty() {
            unit = t.row.unit_name.clone();
        }
    }
    // Around them: work the cross-audit exists to find, and ordinary work that needs no ticket.
    let ago = |days: i64, hour: u32| {
        (now - Duration::days(days)).date().and_hms_opt(hour, 0, 0).unwrap_or(now - Duration::days(days))
    };
    let extra: [(&str, &str, &str, NaiveDateTime, &str); 6] = [
        // Field work no ticket covers (无票作业).
        ("WO-EXP-0001", "meter_replacement", "0701000105", ago(2, 9), "XG1007;XG1004"),
        ("WO-EXP-0002", "disconnect", "0701000106", ago(5, 14), "XG1043;XG1044"),
        // One person alone on a repair (单人作业), with no ticket either.
        ("WO-EXP-0003", "fault_repair", "0701000103", ago(3, 20), "XG1043"),
        // Reading, fee collection and a visit: no ticket needed.
        ("WO-EXP-0004", "meter_reading", "0701000101", ago(1, 10), "XG1003"),
        ("WO-EXP-0005", "fee_collection", "0701000102", ago(4, 15), "XG1003"),
        ("WO-EXP-0006", "customer_visit", "0701000104", ago(6, 11), "XG1003;XG1002"),
    ];
    for (id, kind, customer, at, workers) in extra {
        let _ = writeln!(
            orders,
            "{id},{kind},{customer},{unit},{},{},{workers}",
            stamp(at),
            stamp(at + Duration::hours(1))
        );
        count += 1;
    }
    let mut events = String::from("event_id,meter_id,customer_id,kind,occurred_at\n");
    let list: [(&str, &str, &str, NaiveDateTime); 3] = [
        // A cover opened with no ticket at the farm (无票开表盖); an outage's down and up.
        ("EV-EXP-0001", "0701000104", "cover_open", ago(1, 22)),
        ("EV-EXP-0002", "0701000102", "power_down", ago(3, 8)),
        ("EV-EXP-0003", "0701000102", "power_up", ago(3, 11)),
    ];
    for (id, customer, kind, at) in list {
        let _ = writeln!(events, "{id},MT{customer},{customer},{kind},{}", stamp(at));
    }
    Ok(CompanyExport { work_orders: orders, meter_events: events, orders: count, events: list.len() })
}
