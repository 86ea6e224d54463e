//! The safety dashboard per unit: inspections on time, hazards open / overdue / closed by grade
//! and responsibility, result notices signed, customer hazards notified, signed and filed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::Capability;
use gridsafe_domain::hazards::HazardState;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::inspections as cycles;
use serde::Serialize;

use super::{CustomerFilter, CustomersReach, HazardFilter, each_customer, each_hazard};
use crate::{App, AppError};

/// Open, overdue (of the open) and closed hazards.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct HazardCounts {
    pub open: u64,
    pub overdue: u64,
    pub closed: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct UnitDashboard {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub customers: u64,
    pub with_cycle: u64,
    pub overdue_now: u64,
    pub due_this_month: u64,
    /// The special check of self-provided emergency power: customers on it, overdue, due.
    pub emergency_with_cycle: u64,
    pub emergency_overdue: u64,
    pub emergency_due: u64,
    /// Inspections of the last 12 months and how many were on or before their due day.
    pub inspections: u64,
    pub on_time: u64,
    pub notices_signed: u64,
    /// By (grade name, responsibility code).
    pub hazards: BTreeMap<(String, String), HazardCounts>,
    pub customer_hazards: u64,
    pub receipts_signed: u64,
    /// Hazards to be filed with the power authority, and those filed.
    pub filings_due: u64,
    pub filings_made: u64,
    pub escalated: u64,
}

impl UnitDashboard {
    pub fn hazard_total(&self) -> HazardCounts {
        self.hazards.values().fold(HazardCounts::default(), |a, c| HazardCounts {
            open: a.open + c.open,
            overdue: a.overdue + c.overdue,
            closed: a.closed + c.closed,
        })
    }

    /// Percent of inspections on time, one decimal; `None` with none.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.inspections > 0).then(|| (self.on_time as f64 * 1000.0 / self.inspections as f64).round() / 10.0)
    }
}

fn unit<'a>(units: &'a mut BTreeMap<UnitId, UnitDashboard>, id: UnitId, name: &str) -> &'a mut UnitDashboard {
    units.entry(id).or_insert_with(|| UnitDashboard { unit_id: id, unit_name: name.to_owned(), ..Default::default() })
}

/// One row per unit that has customers or hazards in reach, by unit name.
pub async fn dashboard<P: CustomersReach + super::HazardsReach>(
    app: &App,
    cap: &Capability<P>,
) -> Result<Vec<UnitDashboard>, AppError> {
    let today = app.today();
    let year_ago = today - chrono::Duration::days(365);
    let mut units: BTreeMap<UnitId, UnitDashboard> = BTreeMap::new();
    // Every inspection date per customer that completed the periodic cycle, oldest first.
    let mut dates: BTreeMap<i64, Vec<(NaiveDate, bool)>> = BTreeMap::new();
    for (customer, day, signed, kind, checked) in
        gridsafe_store::customers::inspection_dates(&mut *app.db().read().await?).await?
    {
        if kind.completes(cycles::Track::Periodic, checked) {
            dates.entry(customer).or_default().push((day, signed));
        }
    }
    each_customer(app, cap, &CustomerFilter::default(), |c| {
        let u = unit(&mut units, c.unit_id, &c.unit_name);
        u.customers += 1;
        if c.emergency.months.is_some() {
            u.emergency_with_cycle += 1;
            match c.emergency.due_state {
                Some(cycles::DueState::Overdue) => u.emergency_overdue += 1,
                Some(cycles::DueState::DueThisMonth) => u.emergency_due += 1,
                _ => {}
            }
        }
        if let Some(months) = c.periodic.months {
            u.with_cycle += 1;
            match c.periodic.due_state {
                Some(cycles::DueState::Overdue) => u.overdue_now += 1,
                Some(cycles::DueState::DueThisMonth) => u.due_this_month += 1,
                _ => {}
            }
            let mut previous = None;
            let since = c.record.registered_on.unwrap_or(today);
            for (d, signed) in dates.get(&c.id).map(Vec::as_slice).unwrap_or_default() {
                let due = cycles::next_due(previous, since, months);
                if *d >= year_ago {
                    u.inspections += 1;
                    u.on_time += u64::from(*d <= due);
                    u.notices_signed += u64::from(*signed);
                }
                previous = Some(*d);
            }
        } else {
            for (d, signed) in dates.get(&c.id).map(Vec::as_slice).unwrap_or_default() {
                if *d >= year_ago {
                    // No fixed cycle: every inspection is on time.
                    u.inspections += 1;
                    u.on_time += 1;
                    u.notices_signed += u64::from(*signed);
                }
            }
        }
    })
    .await?;
    each_hazard(app, cap, &HazardFilter::default(), |h| {
        let u = unit(&mut units, h.unit_id, &h.unit_name);
        let counts = u.hazards.entry((h.grade_name.clone(), h.responsibility.code().to_owned())).or_default();
        if h.state == HazardState::Closed {
            counts.closed += 1;
        } else {
            counts.open += 1;
            counts.overdue += u64::from(h.overdue);
            u.escalated += u64::from(h.escalation > 0);
        }
        if h.responsibility == gridsafe_domain::hazards::Responsibility::Customer {
            u.customer_hazards += 1;
            u.receipts_signed += u64::from(h.receipt_by.is_some());
        }
        if h.files {
            u.filings_due += 1;
            u.filings_made += u64::from(h.filed_on.is_some());
        }
    })
    .await?;
    let mut out: Vec<UnitDashboard> = units.into_values().collect();
    out.sort_by(|a, b| a.unit_name.cmp(&b.unit_name));
    Ok(out)
}
