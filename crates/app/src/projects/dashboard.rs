//! The projects' measures for a month: projects per stage and overdue, stages finished on time
//! (per stage and per unit), defects per first acceptance, and first-inspection misses per
//! inspector (首检负责制).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use gridsafe_domain::access::{Capability, UnitPath};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::projects::{Stage, Timing};
use gridsafe_store::Conn;
use gridsafe_store::projects as store;
use serde::Serialize;

use super::{ProjectsReach, stage_views};
use crate::{App, AppError};

/// One stage's line.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StageCount {
    pub stage: Option<Stage>,
    /// Open projects at this stage now, and those past its limit.
    pub open: usize,
    pub overdue: usize,
    /// Stages finished in the month, and those within their limit.
    pub finished: usize,
    pub on_time: usize,
}

impl StageCount {
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.on_time as f64 * 100.0 / self.finished as f64)
    }
}

/// One unit's line.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UnitTiming {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub open: usize,
    pub overdue: usize,
    pub finished: usize,
    pub on_time: usize,
    pub energised: usize,
}

/// An inspector's first inspections and the defects later found that they missed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct InspectorMisses {
    pub inspector: String,
    pub first_inspections: usize,
    pub missed: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    pub month: String,
    /// Per timed stage, then the total (`stage` none).
    pub stages: Vec<StageCount>,
    pub units: Vec<UnitTiming>,
    /// First acceptances in the month and the defects their lists held.
    pub first_inspections: usize,
    pub first_defects: usize,
    pub failed_inspections: usize,
    pub inspectors: Vec<InspectorMisses>,
    pub registered: usize,
    pub energised: usize,
}

impl Dashboard {
    pub fn defects_per_acceptance(&self) -> Option<f64> {
        (self.first_inspections > 0).then(|| self.first_defects as f64 / self.first_inspections as f64)
    }
}

/// The month starting on `first` in reach, timed on `today`.
pub async fn dashboard<P: ProjectsReach>(
    app: &App,
    cap: &Capability<P>,
    first: NaiveDate,
) -> Result<Dashboard, AppError> {
    let mut months = dashboards_in(app, &mut *app.db().read().await?, cap.scope(), &[first]).await?;
    Ok(months.pop().unwrap_or_default())
}

/// The dashboards of the units under `scope` for the months starting on each of `firsts`, read
/// on `conn` a batch of projects at a time, however many there are (the quality report's
/// measures read them too).
pub(crate) async fn dashboards_in(
    app: &App,
    conn: &mut Conn,
    scope: &[UnitPath],
    firsts: &[NaiveDate],
) -> Result<Vec<Dashboard>, AppError> {
    let cal = store::calendar(conn).await?;
    let today = app.today();
    let mut months: Vec<Month> = firsts.iter().map(|first| Month::new(*first)).collect();
    let mut batches = crate::batches::Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::by_id(conn, scope, false, after, crate::batches::BATCH).await?;
        batches.read(&rows, |p| p.id);
        let ids: Vec<_> = rows.iter().map(|p| p.id).collect();
        let children = store::children(conn, &ids).await?;
        for month in &mut months {
            for p in &rows {
                month.add(p, &children, &cal, today);
            }
        }
    }
    Ok(months.into_iter().map(Month::finish).collect())
}

/// One month's dashboard as its projects are added.
struct Month {
    first: NaiveDate,
    by_stage: BTreeMap<Stage, StageCount>,
    units: BTreeMap<String, UnitTiming>,
    out: Dashboard,
    labels: BTreeMap<i64, String>,
    inspectors: BTreeMap<i64, InspectorMisses>,
}

impl Month {
    fn new(first: NaiveDate) -> Self {
        Self {
            first,
            by_stage: Stage::TIMED
                .iter()
                .map(|s| (*s, StageCount { stage: Some(*s), ..StageCount::default() }))
                .collect(),
            units: BTreeMap::new(),
            out: Dashboard { month: first.format("%Y-%m").to_string(), ..Dashboard::default() },
            labels: BTreeMap::new(),
            inspectors: BTreeMap::new(),
        }
    }

    /// Counts project `p` with its `children`.
    fn add(
        &mut self,
        p: &store::ProjectRow,
        children: &store::Children,
        cal: &gridsafe_domain::projects::Calendar,
        today: NaiveDate,
    ) {
        let first = self.first;
        let in_month = |d: NaiveDate| d.year() == first.year() && d.month() == first.month();
        let Self { by_stage, units, out, labels, inspectors, .. } = self;
        let unit = units.entry(p.unit_name.clone()).or_insert_with(|| UnitTiming {
            unit_id: p.unit_id,
            unit_name: p.unit_name.clone(),
            ..UnitTiming::default()
        });
        if in_month(p.accepted_on) {
            out.registered += 1;
        }
        if p.energised_on.is_some_and(in_month) {
            out.energised += 1;
            unit.energised += 1;
        }
        let stages = children.stages.get(&p.id).cloned().unwrap_or_default();
        let pauses = children.pauses.get(&p.id).cloned().unwrap_or_default();
        for v in stage_views(cal, &stages, &pauses, today) {
            let Some(line) = by_stage.get_mut(&v.row.stage) else { continue };
            if v.row.finished_on.is_none() && !p.stage.is_final() && v.row.stage == p.stage {
                line.open += 1;
                unit.open += 1;
                if matches!(v.timing, Timing::Overdue { .. }) {
                    line.overdue += 1;
                    unit.overdue += 1;
                }
            }
            if v.row.finished_on.is_some_and(in_month)
                && matches!(v.timing, Timing::OnTime { .. } | Timing::Late { .. })
            {
                line.finished += 1;
                unit.finished += 1;
                if matches!(v.timing, Timing::OnTime { .. }) {
                    line.on_time += 1;
                    unit.on_time += 1;
                }
            }
        }
        let defects = children.defects.get(&p.id).cloned().unwrap_or_default();
        for i in children.inspections.get(&p.id).into_iter().flatten() {
            labels.insert(i.accountable.get(), i.accountable_label.clone());
            if i.round == 1 {
                inspectors.entry(i.accountable.get()).or_default().first_inspections += 1;
            }
            if in_month(i.on) {
                if i.round == 1 {
                    out.first_inspections += 1;
                    out.first_defects += defects.iter().filter(|d| d.inspection_id == i.id).count();
                }
                if !i.passed {
                    out.failed_inspections += 1;
                }
            }
        }
        for d in &defects {
            if let Some(m) = d.missed {
                inspectors.entry(m.get()).or_default().missed += 1;
            }
        }
    }

    fn finish(self) -> Dashboard {
        let Self { by_stage, units, mut out, labels, inspectors, .. } = self;
        let mut total = StageCount::default();
        for s in by_stage.values() {
            total.open += s.open;
            total.overdue += s.overdue;
            total.finished += s.finished;
            total.on_time += s.on_time;
        }
        out.stages = by_stage.into_values().chain([total]).collect();
        out.units = units.into_values().collect();
        out.inspectors = inspectors
            .into_iter()
            .map(|(id, m)| InspectorMisses { inspector: labels.get(&id).cloned().unwrap_or_default(), ..m })
            .collect();
        out.inspectors.sort_by(|a, b| b.missed.cmp(&a.missed).then(a.inspector.cmp(&b.inspector)));
        out
    }
}
