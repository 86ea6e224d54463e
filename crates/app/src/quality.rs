//! Quality indicators and the monthly supervision report (运行质量监督报告, article §6.4): the
//! measures per unit and month, each indicator's figure against its target, last month and the
//! same month last year, the units ranked, the month's worst findings, overdue hazards and faults,
//! and the safety auditor's text per section. Issuing freezes the report: the snapshot is stored
//! and its SHA-256 written to the audit trail, so later changes to the records never alter it; a
//! reissue is a new version with its reason.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use gridsafe_domain::access::{Capability, PermissionMarker, Principal, UnitKind, UnitPath, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::quality::{self, Direction, Figure, Formula, FormulaProblem, Measures, Month, Ranked};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::Conn;
use gridsafe_store::quality::{self as store, FindingLine, IndicatorRow, OverdueLine, Period, ReportRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::NewEvent;
use crate::home::Todo;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Who may read indicators and reports.
pub trait QualityReach: PermissionMarker {}
impl QualityReach for perm::QualityView {}
impl QualityReach for perm::QualityWrite {}

/// The report's sections, each with the safety auditor's text.
pub const SECTIONS: [&str; 5] = ["overview", "trends", "ranking", "problems", "faults"];

/// The longest text of a section, in characters.
pub const MAX_TEXT: usize = 2000;

/// Months of the trend, this one included.
const TREND: i32 = 13;

/// An indicator with its formula read.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub row: IndicatorRow,
    pub formula: Option<Formula>,
    pub direction: Direction,
}

pub async fn indicators(app: &App) -> Result<Vec<Indicator>, AppError> {
    let rows = store::indicators(&mut *app.db().read().await?).await?;
    Ok(rows.into_iter().map(indicator).collect())
}

fn indicator(row: IndicatorRow) -> Indicator {
    Indicator {
        formula: Formula::parse(&row.formula).ok(),
        direction: Direction::read(&row.direction).unwrap_or(Direction::Higher),
        row,
    }
}

/// A formula's problem in the words of the form.
fn formula_problem(e: &quality::FormulaError) -> FieldProblem {
    let p = match &e.problem {
        FormulaProblem::UnknownMeasure(name) => {
            FieldProblem::new("formula", "quality-formula-unknown").with("name", name)
        }
        FormulaProblem::Unexpected(what) => {
            FieldProblem::new("formula", "quality-formula-unexpected").with("name", what)
        }
        FormulaProblem::UnexpectedEnd => FieldProblem::new("formula", "quality-formula-end"),
        FormulaProblem::TooLong => {
            FieldProblem::new("formula", "quality-formula-long").with("max", quality::MAX_FORMULA)
        }
    };
    p.with("position", e.position)
}

/// Changes an indicator's formula, target (empty: none) and direction.
pub async fn set_indicator(
    app: &App,
    cap: &Capability<perm::QualityWrite>,
    meta: &RequestMeta,
    code: &str,
    formula: &str,
    target: &str,
    direction: &str,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    let formula = trim_blank(formula);
    if let Err(e) = Formula::parse(formula) {
        problems.push(formula_problem(&e));
    }
    let target = match trim_blank(target) {
        "" => None,
        t => match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() < 1e12 => Some(v),
            _ => {
                problems.push(
                    FieldProblem::new("target", "quality-target-number")
                        .with("value", t.chars().take(40).collect::<String>()),
                );
                None
            }
        },
    };
    let Some(direction) = Direction::read(direction.trim()) else {
        problems.push(FieldProblem::new("direction", "field-invalid"));
        return Err(AppError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    if !store::set_indicator(work.conn(), code, formula, target, direction.code(), &cap.actor().name, now).await? {
        return Err(AppError::NotFound);
    }
    work.audit(NewEvent::new("quality_indicator.changed", "quality_indicator", code).summary(serde_json::json!({
        "formula": formula, "target": target, "direction": direction.code(),
    })))
    .await?;
    work.commit().await
}

/// The period of a month in China time.
fn period(month: Month) -> Period {
    let first = month.first_day();
    let next = month.plus(1).first_day();
    Period { from: Timestamp::start_of_local_day(first), to: Timestamp::start_of_local_day(next), first, next }
}

/// Each unit's measures for each of `months`, for the units under `scope`.
pub(crate) async fn unit_measures(
    app: &App,
    conn: &mut Conn,
    rules: &[gridsafe_domain::inspections::CycleRule],
    scope: &[UnitPath],
    months: &[Month],
) -> Result<Vec<BTreeMap<UnitId, Measures>>, AppError> {
    let mut out: Vec<BTreeMap<UnitId, Measures>> = vec![BTreeMap::new(); months.len()];
    let firsts: Vec<NaiveDate> = months.iter().map(|m| m.first_day()).collect();
    let projects = crate::projects::dashboard::dashboards_in(app, conn, scope, &firsts).await?;
    for (i, (month, projects)) in months.iter().zip(projects).enumerate() {
        let p = period(*month);
        let m = &mut out[i];
        let mut add = |unit: UnitId, measure: &str, n: i64| m.entry(unit).or_default().add(measure, n);
        for (unit, measure, n) in store::counts(conn, scope, &p).await? {
            add(unit, measure, n);
        }
        for (unit, cause, started, ended) in store::faults(conn, scope, &p).await? {
            add(unit, "faults", 1);
            if cause == gridsafe_domain::faults::HUMAN {
                add(unit, "faults_human", 1);
            }
            if let Some(minutes) = gridsafe_domain::faults::minutes_to_restore(started, ended) {
                add(unit, "faults_restored", 1);
                add(unit, "fault_restore_minutes", minutes);
            }
        }
        // A hazard is closed on time when it was closed (China day) no later than its deadline.
        for (unit, deadline, closed) in store::hazards_due(conn, scope, &p).await? {
            add(unit, "hazards_due", 1);
            if closed.is_some_and(|c| c.local_date() <= deadline) {
                add(unit, "hazards_closed_on_time", 1);
            }
        }
        for u in projects.units {
            add(u.unit_id, "project_stages_done", i64::try_from(u.finished).unwrap_or(0));
            add(u.unit_id, "project_stages_on_time", i64::try_from(u.on_time).unwrap_or(0));
        }
    }
    // Inspections as the safety dashboard judges them: one that completes the periodic cycle is
    // on time when made by the day the cycle set after the previous one (or after the customer
    // entered the register); a customer without a fixed cycle is always on time.
    let industries = &app.inspections_config().emergency_power_industries;
    let mut dates: BTreeMap<i64, Vec<NaiveDate>> = BTreeMap::new();
    for (customer, day, _, kind, checked) in gridsafe_store::customers::inspection_dates(conn).await? {
        if kind.completes(gridsafe_domain::inspections::Track::Periodic, checked) {
            dates.entry(customer).or_default().push(day);
        }
    }
    let (filter, batch) = (Default::default(), crate::batches::BATCH);
    crate::customers::each_stored(conn, scope, &filter, None, batch, |c| {
        let facts = c.record.facts(industries);
        let months_of_cycle =
            gridsafe_domain::inspections::cycle(&facts, rules, gridsafe_domain::inspections::Track::Periodic)
                .and_then(|r| r.months);
        let since = c.record.registered_on.unwrap_or(app.today());
        let mut previous = None;
        for d in dates.get(&c.id).map(Vec::as_slice).unwrap_or_default() {
            if let Some(i) = months.iter().position(|m| *m == Month::of(*d)) {
                let m = out[i].entry(c.unit_id).or_default();
                m.add("inspections_done", 1);
                if months_of_cycle.is_none_or(|n| *d <= gridsafe_domain::inspections::next_due(previous, since, n)) {
                    m.add("inspections_on_time", 1);
                }
            }
            previous = Some(*d);
        }
        std::ops::ControlFlow::Continue(())
    })
    .await?;
    Ok(out)
}

/// The measures of `unit` and the units under it for `month`, summed (what its indicators are
/// computed from).
pub async fn measures<P: QualityReach>(
    app: &App,
    cap: &Capability<P>,
    unit: UnitId,
    month: Month,
) -> Result<Measures, AppError> {
    let Some(u) = crate::identity::unit_by_id(app, unit).await? else { return Err(AppError::NotFound) };
    cap.check(&u.path)?;
    let scope = [u.path.clone()];
    let rules = crate::customers::cycle_rules(app).await?;
    let mut conn = app.db().read().await?;
    let per_unit = unit_measures(app, &mut conn, &rules, &scope, &[month]).await?;
    let mut sum = Measures::default();
    for m in per_unit.iter().flat_map(BTreeMap::values) {
        sum.merge(m);
    }
    Ok(sum)
}

/// The measures of the units within `path`, summed.
fn within(measures: &BTreeMap<UnitId, Measures>, units: &[(UnitId, UnitPath)], path: &UnitPath) -> Measures {
    let mut sum = Measures::default();
    for (id, p) in units {
        if let Some(m) = measures.get(id).filter(|_| p.is_within(path)) {
            sum.merge(m);
        }
    }
    sum
}

/// One indicator's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub formula: String,
    pub unit_label: String,
    pub target: Option<f64>,
    pub direction: Direction,
    pub origin: String,
    pub figure: Figure,
    /// The last 13 months, oldest first (this month last).
    pub trend: Vec<Option<f64>>,
}

/// A fault as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultLine {
    pub id: i64,
    pub number: String,
    pub system: String,
    pub module: String,
    pub cause_name: String,
    pub started: String,
    pub minutes_to_restore: Option<i64>,
    pub recurs: Option<String>,
    pub unit_name: String,
}

/// The monthly supervision report of a unit: what is frozen when it is issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub month: String,
    /// The trend's months, oldest first.
    pub months: Vec<String>,
    pub lines: Vec<Line>,
    /// The units directly under this one, best first.
    pub ranking: Vec<Ranked>,
    /// Each ranked unit's figures, in the order of `lines`.
    pub unit_figures: BTreeMap<i64, Vec<Option<f64>>>,
    pub findings: Vec<FindingLine>,
    pub overdue: Vec<OverdueLine>,
    pub faults: Vec<FaultLine>,
    pub texts: BTreeMap<String, String>,
    pub generated_at: Timestamp,
}

/// Builds the report of `unit` (within `cap`'s reach) for `month` from the records as they are
/// now, with `texts`.
pub async fn build<P: QualityReach>(
    app: &App,
    cap: &Capability<P>,
    unit: UnitId,
    month: Month,
    texts: BTreeMap<String, String>,
) -> Result<Report, AppError> {
    let Some(u) = crate::identity::unit_by_id(app, unit).await? else { return Err(AppError::NotFound) };
    cap.check(&u.path)?;
    let scope = [u.path.clone()];
    let units: Vec<(UnitId, UnitPath, Option<UnitId>, String)> = crate::identity::list_units(app, &scope)
        .await?
        .into_iter()
        .map(|x| (x.id, x.path, x.parent_id, x.name))
        .collect();
    let paths: Vec<(UnitId, UnitPath)> = units.iter().map(|x| (x.0, x.1.clone())).collect();
    let children: Vec<&(UnitId, UnitPath, Option<UnitId>, String)> =
        units.iter().filter(|x| x.2 == Some(u.id)).collect();
    let indicators = indicators(app).await?;
    let rules = crate::customers::cycle_rules(app).await?;
    let mut conn = app.db().read().await?;
    let months: Vec<Month> = (0..TREND).map(|i| month.plus(i - TREND + 1)).collect();
    let per_month = unit_measures(app, &mut conn, &rules, &scope, &months).await?;
    let totals: Vec<Measures> = per_month.iter().map(|m| within(m, &paths, &u.path)).collect();
    let this_month = per_month.last().cloned().unwrap_or_default();
    // The same month last year is the trend's first.
    let (now, last_month, last_year) = (&totals[totals.len() - 1], &totals[totals.len() - 2], &totals[0]);
    let lines: Vec<Line> = indicators
        .iter()
        .map(|i| {
            let (figure, trend) = match &i.formula {
                Some(f) => (
                    quality::figure(f, i.row.target, i.direction, now, last_month, last_year),
                    totals.iter().map(|t| f.eval(t)).collect(),
                ),
                None => {
                    (Figure { value: None, last_month: None, last_year: None, met: None }, vec![None; totals.len()])
                }
            };
            Line {
                code: i.row.code.clone(),
                name: i.row.name.clone(),
                formula: i.row.formula.clone(),
                unit_label: i.row.unit_label.clone(),
                target: i.row.target,
                direction: i.direction,
                origin: i.row.origin.clone(),
                figure,
                trend,
            }
        })
        .collect();
    let mut unit_figures = BTreeMap::new();
    let mut ranked = Vec::new();
    for (id, path, _, name) in children {
        let m = within(&this_month, &paths, path);
        let figures: Vec<Option<f64>> =
            indicators.iter().map(|i| i.formula.as_ref().and_then(|f| f.eval(&m))).collect();
        let verdicts: Vec<bool> = indicators
            .iter()
            .zip(&figures)
            .filter_map(|(i, v)| v.zip(i.row.target).map(|(v, t)| i.direction.meets(v, t)))
            .collect();
        ranked.push(Ranked {
            unit_id: id.get(),
            unit_name: name.clone(),
            met: verdicts.iter().filter(|v| **v).count(),
            missed: verdicts.iter().filter(|v| !**v).count(),
            headline: figures.first().copied().flatten(),
        });
        unit_figures.insert(id.get(), figures);
    }
    let headline = indicators.first().map_or(Direction::Higher, |i| i.direction);
    let p = period(month);
    let findings = store::worst_findings(&mut conn, &scope, &month.code(), 10).await?;
    let overdue = store::overdue_hazards(&mut conn, &scope, p.next.min(app.today() + Duration::days(1)), 20).await?;
    let all_faults = gridsafe_store::faults::list(&mut conn, &scope, None, None, 5000).await?;
    let faults = crate::faults::views(&mut conn, all_faults)
        .await?
        .into_iter()
        .filter(|v| v.fault.started_at >= p.from && v.fault.started_at < p.to)
        .map(|v| FaultLine {
            id: v.fault.id,
            number: v.fault.number.clone(),
            system: v.fault.system.clone(),
            module: v.fault.module.clone(),
            cause_name: v.fault.cause_name.clone(),
            started: v.fault.started_at.local_display(),
            minutes_to_restore: v.minutes_to_restore,
            recurs: v.recurs.map(|r| r.1),
            unit_name: v.fault.unit_name.clone(),
        })
        .collect();
    Ok(Report {
        unit_id: u.id,
        unit_name: u.name,
        month: month.code(),
        months: months.iter().map(|m| m.code()).collect(),
        lines,
        ranking: quality::rank(ranked, headline),
        unit_figures,
        findings,
        overdue,
        faults,
        texts,
        generated_at: app.now(),
    })
}

/// A stored report and what it shows: the frozen snapshot once issued, the live figures while a
/// draft.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub row: ReportRow,
    pub report: Report,
    /// Every version of the same unit and month, the latest first.
    pub versions: Vec<ReportRow>,
    /// Whether an issued (or replaced) report is as it was issued; none for a draft.
    pub verification: Option<Verification>,
}

fn texts_of(row: &ReportRow) -> BTreeMap<String, String> {
    serde_json::from_str(&row.texts).unwrap_or_default()
}

/// Reports in reach, newest month first.
pub async fn reports<P: QualityReach>(app: &App, cap: &Capability<P>) -> Result<Vec<ReportRow>, AppError> {
    Ok(store::reports(&mut *app.db().read().await?, cap.scope(), 500).await?)
}

pub async fn report<P: QualityReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<ReportView, AppError> {
    let (row, versions, verification) = {
        let mut conn = app.db().read().await?;
        let row = store::report(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
        crate::identity::check_stored_path(cap, &row.unit_path)?;
        let versions = store::versions(&mut conn, row.unit_id, &row.month).await?;
        let verification = verification(&mut conn, &row).await?;
        (row, versions, verification)
    };
    let report = match &row.snapshot {
        Some(snapshot) => serde_json::from_str(snapshot)
            .map_err(|e| AppError::internal(format!("quality report {id}: snapshot unreadable: {e}")))?,
        None => {
            let month = Month::read(&row.month).ok_or_else(|| AppError::internal("quality report month"))?;
            build(app, cap, row.unit_id, month, texts_of(&row)).await?
        }
    };
    Ok(ReportView { row, report, versions, verification })
}

/// Starts the report of `unit` for `month` (on demand); the existing one's id when there is one.
pub async fn create(
    app: &App,
    cap: &Capability<perm::QualityWrite>,
    meta: &RequestMeta,
    unit: UnitId,
    month: &str,
) -> Result<i64, AppError> {
    let Some(month) = Month::read(month).filter(|m| *m <= Month::of(app.today())) else {
        return Err(AppError::invalid("month", "field-month"));
    };
    let Some(u) = crate::identity::unit_by_id(app, unit).await? else {
        return Err(AppError::invalid("unit_id", "field-unit"));
    };
    cap.check(&u.path)?;
    draft(app, cap.actor(), meta, unit, month).await.map(|(id, _)| id)
}

/// The draft of `unit` for `month`, created when the unit has no report for it: (id, created).
async fn draft(
    app: &App,
    actor: &gridsafe_domain::access::Actor,
    meta: &RequestMeta,
    unit: UnitId,
    month: Month,
) -> Result<(i64, bool), AppError> {
    let mut work = app.begin(actor, meta).await?;
    if let Some(r) = store::latest(work.conn(), unit, &month.code()).await? {
        return Ok((r.id, false));
    }
    let now = work.now();
    let new = store::NewDraft { unit, month: &month.code(), version: 1, texts: "{}", reason: None, by: &actor.name };
    let id = match store::insert_draft(work.conn(), &new, now).await {
        Ok(id) => id,
        // Another request created it first (PostgreSQL: both saw none).
        Err(e) if e.is_unique_violation() => return Err(AppError::Conflict("conflict-report-changed")),
        Err(e) => return Err(e.into()),
    };
    work.audit(
        NewEvent::new("quality_report.created", "quality_report", id)
            .unit(unit)
            .summary(serde_json::json!({ "month": month.code(), "version": 1 })),
    )
    .await?;
    work.commit().await?;
    Ok((id, true))
}

/// Saves a draft's texts (every section; each at most [`MAX_TEXT`] characters).
pub async fn save_texts(
    app: &App,
    cap: &Capability<perm::QualityWrite>,
    meta: &RequestMeta,
    id: i64,
    texts: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    let mut clean = BTreeMap::new();
    let mut problems = Vec::new();
    for s in SECTIONS {
        let t = trim_blank(texts.get(s).map_or("", String::as_str));
        if t.chars().count() > MAX_TEXT {
            problems.push(FieldProblem::new("texts", "quality-text-long").with("max", MAX_TEXT));
        }
        if !t.is_empty() {
            clean.insert(s.to_owned(), t.to_owned());
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let json = serde_json::to_string(&clean).map_err(|e| AppError::internal(e.to_string()))?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let row = store::report(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    if !store::set_texts(work.conn(), id, &json).await? {
        return Err(AppError::Conflict("conflict-report-issued"));
    }
    work.audit(NewEvent::new("quality_report.texts_saved", "quality_report", id).unit(row.unit_id).summary(
        serde_json::json!({ "sections": clean.keys().collect::<Vec<_>>(), "characters": clean.values().map(|t| t.chars().count()).sum::<usize>() }),
    ))
    .await?;
    work.commit().await
}

/// The SHA-256 of a snapshot, in hex.
pub fn hash(snapshot: &str) -> String {
    Sha256::digest(snapshot.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a draft: freezes it (the snapshot and its hash stored, the hash in the audit trail);
/// the version it reissues is marked replaced. A month is issued once it is over.
pub async fn issue(
    app: &App,
    cap: &Capability<perm::QualityWrite>,
    meta: &RequestMeta,
    id: i64,
) -> Result<String, AppError> {
    let row = {
        let mut conn = app.db().read().await?;
        store::report(&mut conn, id, false).await?.ok_or(AppError::NotFound)?
    };
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    let month = Month::read(&row.month).ok_or_else(|| AppError::internal("quality report month"))?;
    if month >= Month::of(app.today()) {
        return Err(AppError::invalid("month", "quality-month-not-over"));
    }
    if row.state != "draft" {
        return Err(AppError::Conflict("conflict-report-issued"));
    }
    // Built from the pool before the write begins; the write checks nothing moved meanwhile.
    let report = build(app, cap, row.unit_id, month, texts_of(&row)).await?;
    let snapshot = serde_json::to_string(&report).map_err(|e| AppError::internal(e.to_string()))?;
    let digest = hash(&snapshot);
    let mut work = app.begin(cap.actor(), meta).await?;
    let held = store::report(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    if held.state != "draft" || held.texts != row.texts {
        return Err(AppError::Conflict("conflict-report-changed"));
    }
    let now = work.now();
    if !store::issue(work.conn(), id, &snapshot, &digest, &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-report-changed"));
    }
    let mut replaced = None;
    for v in store::versions(work.conn(), row.unit_id, &row.month)
        .await?
        .into_iter()
        .filter(|r| r.state == "issued" && r.id != id)
    {
        store::replace(work.conn(), v.id).await?;
        replaced = Some(v.version);
    }
    work.audit(NewEvent::new("quality_report.issued", "quality_report", id).unit(row.unit_id).summary(serde_json::json!({
        "month": row.month, "version": row.version, "hash": digest, "replaces_version": replaced, "reason": row.reason,
    })))
    .await?;
    work.commit().await?;
    Ok(digest)
}

/// Opens a new version of an issued report, with the reason it is reissued; the issued one stays
/// in force until the new one is issued.
pub async fn reissue(
    app: &App,
    cap: &Capability<perm::QualityWrite>,
    meta: &RequestMeta,
    id: i64,
    reason: &str,
) -> Result<i64, AppError> {
    let reason = trim_blank(reason);
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::Invalid(vec![FieldProblem::new("reason", "quality-reason").with("max", 500)]));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let row = store::report(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    let latest = store::latest(work.conn(), row.unit_id, &row.month).await?;
    if row.state != "issued" || latest.is_some_and(|l| l.id != row.id) {
        return Err(AppError::Conflict("conflict-report-changed"));
    }
    let now = work.now();
    let version = row.version + 1;
    let draft = store::NewDraft {
        unit: row.unit_id,
        month: &row.month,
        version,
        texts: &row.texts,
        reason: Some(reason),
        by: &cap.actor().name,
    };
    let new = match store::insert_draft(work.conn(), &draft, now).await {
        Ok(new) => new,
        Err(e) if e.is_unique_violation() => return Err(AppError::Conflict("conflict-report-changed")),
        Err(e) => return Err(e.into()),
    };
    work.audit(
        NewEvent::new("quality_report.reopened", "quality_report", new).unit(row.unit_id).summary(
            serde_json::json!({ "month": row.month, "version": version, "reissues": row.id, "reason": reason }),
        ),
    )
    .await?;
    work.commit().await?;
    Ok(new)
}

/// Whether an issued report is as it was issued: its snapshot hashes to the stored hash, and that
/// hash is the one the audit trail recorded when it was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub snapshot_matches: bool,
    pub audit_matches: bool,
}

impl Verification {
    pub fn intact(self) -> bool {
        self.snapshot_matches && self.audit_matches
    }
}

pub async fn verify<P: QualityReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<Verification, AppError> {
    let mut conn = app.db().read().await?;
    let row = store::report(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    verification(&mut conn, &row).await?.ok_or(AppError::Conflict("conflict-report-draft"))
}

/// The verification of a stored report; none while it is a draft (nothing frozen yet).
async fn verification(conn: &mut Conn, row: &ReportRow) -> Result<Option<Verification>, AppError> {
    let (Some(snapshot), Some(stored)) = (&row.snapshot, &row.hash) else { return Ok(None) };
    let computed = hash(snapshot);
    let audited = store::audited_hashes(conn, row.id).await?;
    Ok(Some(Verification { snapshot_matches: &computed == stored, audit_matches: audited.last() == Some(&computed) }))
}

/// The monthly job: a draft for last month for every city and county unit that has none.
pub async fn monthly_drafts(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let month = Month::of(app.today()).plus(-1);
    let kinds = [UnitKind::City.code(), UnitKind::County.code()];
    let units = store::units_without_report(&mut *app.db().read().await?, &kinds, &month.code()).await?;
    let actor = gridsafe_domain::access::Actor {
        user_id: None,
        name: "job:quality-reports".into(),
        channel: gridsafe_domain::access::Channel::Job,
    };
    let mut created = 0;
    for unit in units {
        if draft(app, &actor, meta, unit, month).await?.1 {
            created += 1;
        }
    }
    Ok(created)
}

/// The safety auditor's to-do: drafts in reach of months that are over, waiting to be written and
/// issued; one not issued by `quality.issue_day` of the next month is late.
pub async fn todo(app: &App, principal: &Principal) -> Result<Vec<Todo>, AppError> {
    let Ok(cap) = principal.authorize::<perm::QualityWrite>() else { return Ok(Vec::new()) };
    let this_month = Month::of(app.today());
    let mut out = Vec::new();
    for r in reports(app, &cap).await?.into_iter().filter(|r| r.state == "draft") {
        let Some(month) = Month::read(&r.month) else { continue };
        if month >= this_month {
            continue;
        }
        let due = month.plus(1).first_day() + Duration::days(i64::from(app.quality_config().issue_day) - 1);
        out.push(Todo {
            what: "home-todo-quality-report",
            link: format!("/quality/reports/{}", r.id),
            subject: format!("{} · {}", r.unit_name, r.month),
            word: None,
            due: due.to_string(),
            late: app.today() > due,
        });
    }
    Ok(out)
}
