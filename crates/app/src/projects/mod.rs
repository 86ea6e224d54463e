//! Customer projects (业扩报装): registration (by hand or from the marketing system's list), the
//! stages recorded by the customer manager, the inspections by qualified inspectors under
//! 首检负责制 with the one written notice of a failed one, the waits on the customer, and the
//! energising. The rules are the domain's (`gridsafe_domain::projects`); every step reads the
//! project, its stages, waits and defects inside the unit of work that writes it, the project's
//! row held.

mod config;
pub(crate) mod dashboard;
mod import;

use chrono::{Duration, NaiveDate};
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::customers::CustomerRecord;
use gridsafe_domain::ids::{PersonId, ProjectId, UnitId};
use gridsafe_domain::inspections::{EmergencyPower, Importance};
use gridsafe_domain::people::FieldRole;
use gridsafe_domain::projects::{
    self, Class, Gate, LOW_VOLTAGE_KV, Pause, Project, ProjectKind, ProjectStep, Recheck, Stage, Timing,
};
use gridsafe_domain::rules::{self, Violation};
use gridsafe_domain::text::trim_blank;
use gridsafe_store::Conn;
use gridsafe_store::projects::{self as store, Children, Fact};
use serde::Serialize;

pub use config::{
    CalendarImport, LimitsInput, calendar_days, import_calendar, limit_versions, limits_in_force, set_limits,
};
pub use dashboard::{Dashboard, InspectorMisses, StageCount, UnitTiming, dashboard};
pub use gridsafe_store::projects::{
    CalendarDay, DefectRow, InspectionRow, LimitsVersion, PauseRow, ProjectRow, StageRow,
};
pub use import::{ProjectImport, import_projects};

use crate::audit::NewEvent;
use crate::customers::AttachmentMeta;
use crate::home::Todo;
use crate::identity::check_stored_path;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Most defects one inspection records.
pub const MAX_DEFECTS: usize = 100;
/// Longest text of a defect, a note or a reason.
pub const MAX_TEXT: usize = 500;
/// Most projects a list shows.
pub const LIST_LIMIT: u32 = 500;

/// The units a project capability reaches.
pub trait ProjectsReach: PermissionMarker {}
impl ProjectsReach for perm::ProjectsView {}
impl ProjectsReach for perm::ProjectsManage {}
impl ProjectsReach for perm::ProjectsInspect {}

/// A stage as shown: its row and where it stands against its limit.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub row: StageRow,
    pub timing: Timing,
    /// Working days used so far (or in all, once finished), waits left out.
    pub used: Option<u32>,
}

/// A project with its current stage's timing, as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    pub project: ProjectRow,
    /// The current stage's timing (none once energised or cancelled).
    pub timing: Option<Timing>,
    pub open_defects: usize,
    pub paused: bool,
    /// Written notices of failed inspections not yet signed for by the customer.
    pub unsigned_notices: usize,
}

/// A project with everything recorded on it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectDetail {
    pub project: ProjectRow,
    pub stages: Vec<StageView>,
    pub pauses: Vec<PauseRow>,
    pub inspections: Vec<InspectionRow>,
    pub defects: Vec<DefectRow>,
    /// Documents by owner (`project_<stage>` with the project's id, `project_inspection` with
    /// the inspection's).
    pub documents: Vec<AttachmentMeta>,
}

impl ProjectDetail {
    pub fn open_defects(&self) -> Vec<&DefectRow> {
        self.defects.iter().filter(|d| d.closed_on.is_none()).collect()
    }

    pub fn paused(&self) -> bool {
        self.pauses.iter().any(|p| p.until.is_none())
    }

    /// The current stage's row.
    pub fn current(&self) -> Option<&StageView> {
        self.stages.iter().rev().find(|s| s.row.stage == self.project.stage)
    }

    /// The inspections of `stage`, the first first.
    pub fn inspections_of(&self, stage: Stage) -> Vec<&InspectionRow> {
        self.inspections.iter().filter(|i| i.stage == stage).collect()
    }

    /// The defects an inspection found.
    pub fn defects_of(&self, inspection: i64) -> Vec<&DefectRow> {
        self.defects.iter().filter(|d| d.inspection_id == inspection).collect()
    }

    pub fn documents_of(&self, kind: &str, owner: i64) -> Vec<&AttachmentMeta> {
        self.documents.iter().filter(|a| a.owner_kind == kind && a.owner_id == owner).collect()
    }

    /// What the rules decide on.
    fn facts(&self) -> Project {
        Project {
            class: self.project.class,
            stage: self.project.stage,
            surveyed: self.project.surveyed_on.is_some(),
            clock_started: self.current().is_some_and(|s| s.row.clock_from.is_some()),
            paused: self.paused(),
            open_defects: self.open_defects().iter().map(|d| d.text.clone()).collect(),
        }
    }
}

/// Each stage of `stages` with its timing on `today`, waits of that stage left out.
fn stage_views(cal: &projects::Calendar, stages: &[StageRow], pauses: &[PauseRow], today: NaiveDate) -> Vec<StageView> {
    stages
        .iter()
        .map(|s| {
            let waits: Vec<Pause> = pauses.iter().filter(|p| p.stage == s.stage).map(PauseRow::pause).collect();
            let timing = match (s.limit_days, s.stage.is_final()) {
                (Some(limit), false) => projects::timing(cal, s.clock_from, limit, &waits, s.finished_on, today),
                _ => Timing::NotStarted,
            };
            let used = s.clock_from.map(|from| {
                let end = s.finished_on.unwrap_or(today);
                let closed: Vec<Pause> = waits
                    .iter()
                    .map(|p| Pause { from: p.from, until: Some(p.until.unwrap_or(end + Duration::days(1))) })
                    .collect();
                projects::used(cal, from, end, &closed)
            });
            StageView { row: s.clone(), timing, used }
        })
        .collect()
}

/// Summaries of `rows` with their children loaded in four statements.
async fn summaries(conn: &mut Conn, rows: Vec<ProjectRow>, today: NaiveDate) -> Result<Vec<ProjectSummary>, AppError> {
    let ids: Vec<ProjectId> = rows.iter().map(|p| p.id).collect();
    let mut children = store::children(conn, &ids).await?;
    let cal = store::calendar(conn).await?;
    Ok(rows
        .into_iter()
        .map(|project| {
            let stages = children.stages.remove(&project.id).unwrap_or_default();
            let pauses = children.pauses.remove(&project.id).unwrap_or_default();
            let defects = children.defects.remove(&project.id).unwrap_or_default();
            let inspections = children.inspections.remove(&project.id).unwrap_or_default();
            let views = stage_views(&cal, &stages, &pauses, today);
            let timing = (!project.stage.is_final())
                .then(|| views.iter().rev().find(|v| v.row.stage == project.stage).map(|v| v.timing))
                .flatten();
            ProjectSummary {
                timing,
                open_defects: defects.iter().filter(|d| d.closed_on.is_none()).count(),
                paused: pauses.iter().any(|p| p.until.is_none()),
                unsigned_notices: inspections
                    .iter()
                    .filter(|i| i.notice_number.is_some() && i.notice_signed_by.is_none())
                    .count(),
                project,
            }
        })
        .collect())
}

/// What a project list shows: a stage, or the open ones; only those past their limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub stage: Option<Stage>,
    pub overdue_only: bool,
}

/// Projects in reach, the newest first, with their timing.
pub async fn list_projects<P: ProjectsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: ListFilter,
) -> Result<Vec<ProjectSummary>, AppError> {
    let mut conn = app.db().read().await?;
    let rows = store::list(&mut conn, cap.scope(), filter.stage, filter.stage.is_none(), LIST_LIMIT).await?;
    let mut out = summaries(&mut conn, rows, app.today()).await?;
    if filter.overdue_only {
        out.retain(|s| matches!(s.timing, Some(Timing::Overdue { .. })));
    }
    Ok(out)
}

/// Project `id` read on `conn` on `today`, refused unless `cap` reaches its unit; with `hold`, held.
async fn load<P: ProjectsReach>(
    conn: &mut Conn,
    cap: &Capability<P>,
    id: ProjectId,
    hold: bool,
    today: NaiveDate,
) -> Result<ProjectDetail, AppError> {
    let project = store::get(conn, id, hold).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &project.unit_path)?;
    let Children { mut stages, mut pauses, mut inspections, mut defects } = store::children(conn, &[id]).await?;
    let (stages, pauses) = (stages.remove(&id).unwrap_or_default(), pauses.remove(&id).unwrap_or_default());
    let inspections = inspections.remove(&id).unwrap_or_default();
    let cal = store::calendar(conn).await?;
    let ids: Vec<i64> = inspections.iter().map(|i| i.id).collect();
    let documents = store::documents(conn, id, &ids).await?;
    Ok(ProjectDetail {
        stages: stage_views(&cal, &stages, &pauses, today),
        pauses,
        inspections,
        defects: defects.remove(&id).unwrap_or_default(),
        documents,
        project,
    })
}

pub async fn project<P: ProjectsReach>(
    app: &App,
    cap: &Capability<P>,
    id: ProjectId,
) -> Result<ProjectDetail, AppError> {
    load(&mut *app.db().read().await?, cap, id, false, app.today()).await
}

/// A project's registration as entered.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    /// 户号: a customer of the register, or a new one (then its name and address).
    pub account_no: String,
    pub customer_name: String,
    pub address: String,
    /// The unit a new customer belongs to (an existing one's unit is the project's).
    pub unit_id: UnitId,
    /// `new`, `increase` or `change`.
    pub kind: String,
    pub voltage_kv: String,
    pub capacity_kva: String,
    pub dual_source: bool,
    pub residential: bool,
    /// Contractors by code (编号): the customer's designer and builder.
    pub designer: String,
    pub builder: String,
    /// The customer manager's 工号.
    pub manager: String,
    /// The marketing system's application id (申请编号).
    pub order_id: String,
    /// 受理日期 `YYYY-MM-DD`; today when empty.
    pub accepted_on: String,
}

/// A day as entered (`YYYY-MM-DD`, today when empty): not in the future, not before `not_before`.
fn day_input(
    field: &'static str,
    text: &str,
    today: NaiveDate,
    not_before: Option<NaiveDate>,
    problems: &mut Vec<FieldProblem>,
) -> Option<NaiveDate> {
    let t = text.trim();
    if t.is_empty() {
        return Some(today);
    }
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) if d > today => {
            problems.push(FieldProblem::new(field, "field-project-day-future").with("value", t));
            None
        }
        Ok(d) if not_before.is_some_and(|b| d < b) => {
            let b = not_before.map(|b| b.to_string()).unwrap_or_default();
            problems.push(FieldProblem::new(field, "field-project-day-before").with("value", t).with("earliest", b));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            problems.push(FieldProblem::new(field, "field-date").with("value", t));
            None
        }
    }
}

fn number_input(field: &'static str, text: &str, max: f64, problems: &mut Vec<FieldProblem>) -> Option<f64> {
    let t = text.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= max => Some(v),
        _ => {
            problems.push(FieldProblem::new(field, "field-project-number").with("value", text.trim()).with("max", max));
            None
        }
    }
}

/// The limit of `stage` for `class` in the version in force on `on`: (days, version; 0 for the
/// brief's defaults).
async fn limit_on(conn: &mut Conn, stage: Stage, class: Class, on: NaiveDate) -> Result<(u32, i64), AppError> {
    let versions = store::limit_versions(conn).await?;
    let (version, rows) = config::in_force(&versions, on);
    Ok((projects::limit_of(rows, stage, class), version))
}

/// The clock of `stage` entered on `on`: running from that day (受理, the passed acceptance)
/// unless it waits for the customer's submission.
async fn clock_for(
    conn: &mut Conn,
    stage: Stage,
    class: Class,
    on: NaiveDate,
) -> Result<Option<(NaiveDate, u32, i64)>, AppError> {
    if stage.waits_for_customer() || stage.is_final() {
        return Ok(None);
    }
    let (days, version) = limit_on(conn, stage, class, on).await?;
    Ok(Some((on, days, version)))
}

/// A designer or builder named by code: its id, or the problem that no such contractor exists.
async fn contractor_id(
    conn: &mut Conn,
    field: &'static str,
    code: &str,
    problems: &mut Vec<FieldProblem>,
) -> Result<Option<i64>, AppError> {
    let code = trim_blank(code);
    if code.is_empty() {
        return Ok(None);
    }
    let id = gridsafe_store::people::contractor_id_by_code(conn, code).await?;
    if id.is_none() {
        problems.push(FieldProblem::new(field, "field-contractor-code").with("value", code));
    }
    Ok(id)
}

/// A customer's contractor is licensed for the voltage and not blacklisted (agreements are the
/// supply company's own outsourcing, not asked of the customer's firms).
fn projects_contractor(
    c: &gridsafe_domain::people::ContractorFacts,
    voltage_kv: f64,
    day: NaiveDate,
    rules_: &gridsafe_domain::people::RoleRules,
) -> Vec<Violation> {
    gridsafe_domain::people::contractor_may_work(c, day, Some(voltage_kv), gridsafe_domain::people::Work::Any, rules_)
        .err()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.rule != rules::CONTRACTOR_AGREEMENT)
        .collect()
}

/// Registers a project (受理): its customer (registered now when new), designer and builder
/// checked against the voltage, its first stage's clock running from 受理.
pub async fn register(
    app: &App,
    cap: &Capability<perm::ProjectsManage>,
    meta: &RequestMeta,
    input: ProjectInput,
    imported_from: Option<&str>,
) -> Result<ProjectId, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let id = register_in(app, work.conn(), cap, &input, imported_from).await?;
    let p = store::get(work.conn(), id, false).await?.ok_or(AppError::NotFound)?;
    work.audit(NewEvent::new("project.registered", "project", id.get()).unit(p.unit_id).summary(serde_json::json!({
        "number": p.number, "customer": p.account_no, "kind": p.kind.code(), "class": p.class.code(),
        "voltage_kv": p.voltage_kv, "capacity_kva": p.capacity_kva, "order_id": p.order_id,
        "accepted_on": p.accepted_on.to_string(), "designer": p.designer.map(|d| d.1), "builder": p.builder.map(|b| b.1),
        "manager": p.manager_label, "imported_from": imported_from,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// The registration inside an open unit of work (one project, or each row of an import, all in one).
async fn register_in(
    app: &App,
    conn: &mut Conn,
    cap: &Capability<perm::ProjectsManage>,
    input: &ProjectInput,
    imported_from: Option<&str>,
) -> Result<ProjectId, AppError> {
    let mut problems = Vec::new();
    let today = app.today();
    let kind = ProjectKind::read(&input.kind);
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-project-kind").with("value", input.kind.trim()));
    }
    let voltage = number_input("voltage_kv", &input.voltage_kv, 1000.0, &mut problems);
    let capacity = number_input("capacity_kva", &input.capacity_kva, 10_000_000.0, &mut problems);
    let accepted_on = day_input(
        "accepted_on",
        &input.accepted_on,
        today,
        today.checked_sub_days(chrono::Days::new(3660)),
        &mut problems,
    );
    let account = trim_blank(&input.account_no).to_owned();
    if account.is_empty() || account.chars().count() > 40 {
        problems.push(FieldProblem::new("account_no", "field-name-length").with("max", 40));
    }
    let order_id = trim_blank(&input.order_id).to_owned();
    if order_id.chars().count() > 60 {
        problems.push(FieldProblem::new("order_id", "field-name-length").with("max", 60));
    }
    let manager = match gridsafe_store::people::id_by_code(conn, trim_blank(&input.manager)).await? {
        Some(p) => Some(p),
        None => {
            problems.push(FieldProblem::new("manager", "field-person-code").with("value", input.manager.trim()));
            None
        }
    };
    // The customer: registered, or new with its name, address and unit.
    let existing = if account.is_empty() { None } else { store::customer(conn, &account).await? };
    let (customer_id, unit_path) = match &existing {
        Some((id, path, _, _)) => (Some(*id), Some(path.clone())),
        None => {
            let name = trim_blank(&input.customer_name);
            let address = trim_blank(&input.address);
            if name.is_empty() || name.chars().count() > 100 {
                problems.push(FieldProblem::new("customer_name", "field-project-new-customer").with("value", &account));
            }
            if address.is_empty() || address.chars().count() > 200 {
                problems.push(FieldProblem::new("address", "field-project-new-customer").with("value", &account));
            }
            let unit = gridsafe_store::identity::unit_by_id(conn, input.unit_id).await?;
            if unit.is_none() {
                problems.push(FieldProblem::new("unit_id", "field-unit"));
            }
            (None, unit.map(|u| u.path.as_str().to_owned()))
        }
    };
    // Out of reach is said before anything else: no probing of other units' customers.
    if let Some(path) = &unit_path {
        check_stored_path(cap, path)?;
    }
    let designer = contractor_id(conn, "designer", &input.designer, &mut problems).await?;
    let builder = contractor_id(conn, "builder", &input.builder, &mut problems).await?;
    // The customer's firms: licensed for the voltage on the day of 受理, not blacklisted.
    let firms: Vec<i64> = designer.into_iter().chain(builder).collect();
    let facts = gridsafe_store::people::contractor_facts(conn, &firms).await?;
    let day = accepted_on.unwrap_or(today);
    let role_rules = app.people_config().role_rules();
    let refusals: Vec<Violation> = facts
        .values()
        .flat_map(|c| projects_contractor(c, voltage.unwrap_or(LOW_VOLTAGE_KV), day, &role_rules))
        .collect();
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(kind), Some(voltage), Some(capacity), Some(accepted_on), Some(manager), Some(_)) =
        (kind, voltage, capacity, accepted_on, manager, unit_path)
    else {
        return Err(AppError::Invalid(problems));
    };
    if !refusals.is_empty() {
        return Err(AppError::Rules(refusals));
    }
    let now = app.now();
    let customer_id = match customer_id {
        Some(id) => id,
        None => {
            let record = CustomerRecord {
                account_no: account.clone(),
                name: trim_blank(&input.customer_name).to_owned(),
                address: trim_blank(&input.address).to_owned(),
                unit: String::new(),
                voltage_kv: voltage,
                importance: Importance::None,
                importance_document: None,
                importance_date: None,
                industry: String::new(),
                supply_sources: if input.dual_source { 2 } else { 1 },
                supply_kind: None,
                emergency_power: EmergencyPower::None,
                emergency_kind: None,
                emergency_capacity_kw: None,
                emergency_last_test: None,
                electrician_name: None,
                electrician_phone: None,
                preventive_test_due: None,
                registered_on: Some(accepted_on),
            };
            gridsafe_store::customers::save_customer(
                conn,
                None,
                &record,
                input.unit_id,
                accepted_on,
                &cap.actor().name,
                now,
            )
            .await?
        }
    };
    let unit = match &existing {
        Some(_) => store::customer_unit(conn, customer_id).await?,
        None => input.unit_id,
    };
    let class = Class::of(voltage, input.residential, input.dual_source);
    let number = gridsafe_store::numbers::next(conn, "YK", accepted_on).await?;
    let new = store::NewProject {
        number: &number,
        unit,
        customer_id,
        kind,
        class,
        voltage_kv: voltage,
        capacity_kva: capacity,
        dual_source: input.dual_source,
        residential: input.residential,
        designer,
        builder,
        manager,
        order_id: Some(order_id.as_str()).filter(|o| !o.is_empty()),
        accepted_on,
        imported_from,
        by: &cap.actor().name,
    };
    let id = store::insert(conn, &new, now).await.map_err(|e| AppError::from_insert(e, "conflict-project-order"))?;
    let clock = clock_for(conn, Stage::PlanReply, class, accepted_on).await?;
    store::enter_stage(conn, id, Stage::PlanReply, accepted_on, clock).await?;
    Ok(id)
}

/// A stage step as entered.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    /// The day it happened (`YYYY-MM-DD`); today when empty.
    pub on: String,
    /// The reply's content, the wait's reason, the cancellation's reason.
    pub note: String,
    /// The step's document (勘查单、供电方案答复单、图纸…), a scan or photo.
    pub document: Option<(String, Vec<u8>)>,
}

/// Takes a step of the customer manager's (survey, reply, the customer's submission, a wait and
/// its end, the energising, a cancellation), with its day and document.
pub async fn take_step(
    app: &App,
    cap: &Capability<perm::ProjectsManage>,
    meta: &RequestMeta,
    id: ProjectId,
    step: ProjectStep,
    input: StepInput,
) -> Result<Stage, AppError> {
    if step == ProjectStep::Inspect {
        return Err(AppError::invalid("step", "field-project-step"));
    }
    // In reach first: a record out of reach is refused whatever the form says.
    project(app, cap, id).await?;
    let note = trim_blank(&input.note).to_owned();
    let mut problems = Vec::new();
    if note.chars().count() > MAX_TEXT {
        problems.push(FieldProblem::new("note", "field-name-length").with("max", MAX_TEXT));
    }
    if matches!(step, ProjectStep::Pause | ProjectStep::Cancel) && note.is_empty() {
        problems.push(FieldProblem::new("note", "field-project-reason"));
    }
    let file = match &input.document {
        Some((_, bytes)) => Some(crate::customers::files::check_upload(app, "document", bytes, true)?),
        None => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let today = now.local_date();
    let d = load(work.conn(), cap, id, true, today).await?;
    let last = d.stages.last().map(|s| s.row.clock_from.unwrap_or(s.row.entered_on)).unwrap_or(d.project.accepted_on);
    let open_pause = d.pauses.iter().find(|p| p.until.is_none()).map(|p| p.from);
    // A wait ends no earlier than the day before it began (a same-day return leaves no day out).
    let earliest = match step {
        ProjectStep::Resume => open_pause.map(|f| f - Duration::days(1)),
        _ => Some(last),
    };
    let on = day_input("on", &input.on, today, earliest, &mut problems);
    let Some(on) = on else { return Err(AppError::Invalid(problems)) };
    let next = projects::check(&d.facts(), step)?;
    let p = &d.project;
    let conn = work.conn();
    let by = cap.actor().name.clone();
    let note_opt = Some(note.as_str()).filter(|n| !n.is_empty());
    match step {
        ProjectStep::Survey => store::set_fact(conn, id, Fact::Surveyed, &on.to_string()).await?,
        ProjectStep::Reply => {
            store::finish_stage(conn, id, p.stage, on, "reply", note_opt, &by).await?;
            enter(conn, id, next, p.class, on, now).await?;
        }
        ProjectStep::Submit => {
            let (days, version) = limit_on(conn, p.stage, p.class, on).await?;
            store::start_clock(conn, id, p.stage, (on, days, version)).await?;
        }
        ProjectStep::Pause => store::open_pause(conn, id, p.stage, on, &note, &by, now).await?,
        ProjectStep::Resume => {
            store::close_pause(conn, id, on).await?;
        }
        ProjectStep::Energise => {
            store::finish_stage(conn, id, p.stage, on, "energised", note_opt, &by).await?;
            store::set_fact(conn, id, Fact::Energised, &on.to_string()).await?;
            store::set_stage(conn, id, Stage::Energised, now).await?;
        }
        ProjectStep::Cancel => {
            store::close_pause(conn, id, on).await?;
            store::finish_stage(conn, id, p.stage, on, "cancelled", note_opt, &by).await?;
            store::set_fact(conn, id, Fact::CancelReason, &note).await?;
            store::set_stage(conn, id, Stage::Cancelled, now).await?;
        }
        ProjectStep::Inspect => unreachable!("refused above"),
    }
    let mut document = None;
    if let (Some((name, bytes)), Some(t)) = (&input.document, file) {
        let kind = format!("project_{}", p.stage.code());
        document = Some(
            crate::customers::files::store(work.conn(), &kind, id.get(), p.unit_id, name, t, bytes, &by, now).await?,
        );
    }
    let event = match step {
        ProjectStep::Survey => NewEvent::new("project.surveyed", "project", id.get()),
        ProjectStep::Reply => NewEvent::new("project.replied", "project", id.get()),
        ProjectStep::Submit => NewEvent::new("project.submitted", "project", id.get()),
        ProjectStep::Pause => NewEvent::new("project.paused", "project", id.get()),
        ProjectStep::Resume => NewEvent::new("project.resumed", "project", id.get()),
        ProjectStep::Energise => NewEvent::new("project.energised", "project", id.get()),
        ProjectStep::Cancel | ProjectStep::Inspect => NewEvent::new("project.cancelled", "project", id.get()),
    };
    work.audit(event.unit(p.unit_id).summary(serde_json::json!({
        "number": p.number, "stage": p.stage.code(), "next": next.code(), "on": on.to_string(),
        "note": note_opt, "document": document,
    })))
    .await?;
    work.commit().await?;
    Ok(next)
}

/// Enters `next` on `on`: its clock runs from that day unless it waits for the customer; the
/// energising stage opens the gate.
async fn enter(
    conn: &mut Conn,
    id: ProjectId,
    next: Stage,
    class: Class,
    on: NaiveDate,
    now: gridsafe_domain::time::Timestamp,
) -> Result<(), AppError> {
    if !next.is_final() {
        let clock = clock_for(conn, next, class, on).await?;
        store::enter_stage(conn, id, next, on, clock).await?;
    }
    if next == Stage::Energise {
        store::set_fact(conn, id, Fact::Cleared, &now.to_db()).await?;
    }
    store::set_stage(conn, id, next, now).await?;
    Ok(())
}

/// An inspection as entered.
#[derive(Debug, Clone, Default)]
pub struct InspectionInput {
    /// The inspector (a person of the register holding an inspector qualification for the voltage).
    pub inspector: PersonId,
    pub on: String,
    pub conclusion: String,
    /// The first list's open defects as found now (a re-inspection answers each).
    pub rechecks: Vec<Recheck>,
    /// Defects found now, one per line.
    pub new_defects: String,
    pub document: Option<(String, Vec<u8>)>,
}

/// What an inspection decided.
#[derive(Debug, Clone, Serialize)]
pub struct Inspected {
    pub inspection: i64,
    pub passed: bool,
    /// The written notice's number (一次性书面告知) of a failed one.
    pub notice: Option<String>,
    /// New defects a re-inspection found: missed by the first inspector.
    pub missed: usize,
    pub stage: Stage,
}

/// Records an inspection of the project's current stage (设计审核、中间检查、竣工检验) by a
/// qualified inspector under 首检负责制: the first one makes the stage's one defect list and is
/// accountable for it; a later one answers each open defect and its new ones count against the
/// first inspector. A failed one is given to the customer as one written notice and the project
/// waits on the customer; a passed one moves the project on (to 装表接电: the gate opens).
pub async fn inspect(
    app: &App,
    cap: &Capability<perm::ProjectsInspect>,
    meta: &RequestMeta,
    id: ProjectId,
    input: InspectionInput,
) -> Result<Inspected, AppError> {
    project(app, cap, id).await?;
    let mut problems = Vec::new();
    let conclusion = trim_blank(&input.conclusion).to_owned();
    if conclusion.chars().count() > MAX_TEXT {
        problems.push(FieldProblem::new("conclusion", "field-name-length").with("max", MAX_TEXT));
    }
    let new_defects: Vec<String> =
        input.new_defects.lines().map(|l| trim_blank(l).to_owned()).filter(|l| !l.is_empty()).collect();
    if new_defects.len() > MAX_DEFECTS || new_defects.iter().any(|d| d.chars().count() > MAX_TEXT) {
        problems.push(FieldProblem::new("new_defects", "field-project-defects").with("max", MAX_DEFECTS));
    }
    if input.rechecks.len() > MAX_DEFECTS {
        problems.push(FieldProblem::new("rechecks", "field-project-defects").with("max", MAX_DEFECTS));
    }
    let file = match &input.document {
        Some((_, bytes)) => Some(crate::customers::files::check_upload(app, "document", bytes, true)?),
        None => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let d = load(work.conn(), cap, id, true, now.local_date()).await?;
    let p = d.project.clone();
    let since = d.current().and_then(|s| s.row.clock_from).unwrap_or(p.accepted_on);
    let Some(on) = day_input("on", &input.on, now.local_date(), Some(since), &mut problems) else {
        return Err(AppError::Invalid(problems));
    };
    projects::check(&d.facts(), ProjectStep::Inspect)?;
    // The inspector: qualified for the voltage on the day (the people module's role question).
    let people = gridsafe_store::people::facts(work.conn(), &[input.inspector]).await?;
    let person = people.get(&input.inspector).ok_or_else(|| {
        AppError::Invalid(vec![FieldProblem::new("inspector", "field-person-code").with("value", input.inspector)])
    })?;
    if let Err(list) = gridsafe_domain::people::may_act(
        &person.facts,
        FieldRole::Inspector { voltage_kv: p.voltage_kv },
        on,
        &app.people_config().role_rules(),
    ) {
        return Err(AppError::Rules(
            list.into_iter().map(|v| v.with("person", format!("{}（{}）", person.name, person.code))).collect(),
        ));
    }
    let earlier = d.inspections_of(p.stage);
    let first = earlier.first().map(|i| i.accountable);
    let open: Vec<i64> = d.open_defects().iter().filter(|x| x.stage == p.stage).map(|x| x.id).collect();
    let verdict = projects::judge(first, input.inspector, &open, &input.rechecks, new_defects.len())?;
    let round = earlier.len() as i64 + 1;
    let notice = if verdict.passed { None } else { Some(gridsafe_store::numbers::next(work.conn(), "GZ", on).await?) };
    let record = store::NewInspection {
        project: id,
        stage: p.stage,
        round,
        inspector: input.inspector,
        accountable: verdict.accountable,
        on,
        passed: verdict.passed,
        conclusion: &conclusion,
        notice_number: notice.as_deref(),
        by: &cap.actor().name,
    };
    let inspection = store::insert_inspection(work.conn(), &record, now).await?;
    for r in input.rechecks.iter().filter(|r| r.rectified) {
        store::close_defect(work.conn(), id, r.defect, inspection, on).await?;
    }
    let missed = first.map(|_| verdict.accountable);
    for text in &new_defects {
        store::insert_defect(work.conn(), id, inspection, p.stage, text, missed).await?;
    }
    let by = cap.actor().name.clone();
    let next = if verdict.passed {
        // The inspection carries its conclusion; the stage records that it passed.
        store::finish_stage(work.conn(), id, p.stage, on, "passed", None, &by).await?;
        let next = p.stage.next(p.class);
        enter(work.conn(), id, next, p.class, on, now).await?;
        next
    } else {
        // Returned to the customer with the notice: the clock waits for the rectification.
        let reason = format!("一次性书面告知 {}，等待客户整改", notice.as_deref().unwrap_or_default());
        store::open_pause(work.conn(), id, p.stage, on + Duration::days(1), &reason, &by, now).await?;
        p.stage
    };
    let mut document = None;
    if let (Some((name, bytes)), Some(t)) = (&input.document, file) {
        document = Some(
            crate::customers::files::store(
                work.conn(),
                "project_inspection",
                inspection,
                p.unit_id,
                name,
                t,
                bytes,
                &by,
                now,
            )
            .await?,
        );
    }
    work.audit(NewEvent::new("project.inspected", "project", id.get()).unit(p.unit_id).summary(serde_json::json!({
        "number": p.number, "stage": p.stage.code(), "round": round, "inspector": format!("{} {}", person.code, person.name),
        "accountable": verdict.accountable.get(), "passed": verdict.passed, "notice": notice,
        "rectified": input.rechecks.iter().filter(|r| r.rectified).map(|r| r.defect).collect::<Vec<_>>(),
        "new_defects": new_defects, "missed": verdict.missed, "next": next.code(), "document": document,
    })))
    .await?;
    work.commit().await?;
    Ok(Inspected { inspection, passed: verdict.passed, notice, missed: verdict.missed, stage: next })
}

/// Records who signed for a failed inspection's written notice (一次性书面告知) and when.
pub async fn sign_notice(
    app: &App,
    cap: &Capability<perm::ProjectsManage>,
    meta: &RequestMeta,
    id: ProjectId,
    inspection: i64,
    signed_by: &str,
    on: &str,
) -> Result<(), AppError> {
    project(app, cap, id).await?;
    let signer = trim_blank(signed_by).to_owned();
    let mut problems = Vec::new();
    if signer.is_empty() || signer.chars().count() > 50 {
        problems.push(FieldProblem::new("signed_by", "field-name-length").with("max", 50));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let d = load(work.conn(), cap, id, true, now.local_date()).await?;
    let i = d.inspections.iter().find(|i| i.id == inspection).ok_or(AppError::NotFound)?;
    let day = day_input("on", on, now.local_date(), Some(i.on), &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let Some(day) = day else { return Err(AppError::Invalid(problems)) };
    if !store::sign_notice(work.conn(), id, inspection, &signer, day).await? {
        return Err(AppError::Conflict("conflict-project-notice"));
    }
    work.audit(NewEvent::new("project.notice_signed", "project", id.get()).unit(d.project.unit_id).summary(
        serde_json::json!({ "number": d.project.number, "notice": i.notice_number, "signed_by": signer, "on": day.to_string() }),
    ))
    .await?;
    work.commit().await
}

/// The open projects of a ticket's customer, as the energising gate reads them (inside the
/// ticket step's unit of work).
pub async fn gates(conn: &mut Conn, account_no: &str) -> Result<Vec<Gate>, AppError> {
    Ok(store::gates(conn, account_no).await?)
}

/// People who may inspect the project on `day`: (id, 工号 姓名, qualified for its voltage).
pub async fn inspector_choices(
    app: &App,
    cap: &Capability<perm::ProjectsInspect>,
    voltage_kv: f64,
    day: NaiveDate,
) -> Result<Vec<(PersonId, String, bool)>, AppError> {
    let mut conn = app.db().read().await?;
    let candidates = gridsafe_store::inspections::inspector_candidates(&mut conn, cap.scope()).await?;
    let ids: Vec<PersonId> = candidates.iter().map(|c| c.0).collect();
    let facts = gridsafe_store::people::facts(&mut conn, &ids).await?;
    let rules_ = app.people_config().role_rules();
    Ok(candidates
        .into_iter()
        .map(|(id, code, name)| {
            let ok = facts.get(&id).is_some_and(|p| {
                gridsafe_domain::people::may_act(&p.facts, FieldRole::Inspector { voltage_kv }, day, &rules_).is_ok()
            });
            (id, format!("{code} {name}"), ok)
        })
        .collect())
}

/// The person linked to the signed-in account, if any: id and 工号.
pub async fn own_person(app: &App, user_id: Option<i64>) -> Result<Option<(PersonId, String)>, AppError> {
    let Some(user) = user_id else { return Ok(None) };
    let mut conn = app.db().read().await?;
    let Some(id) = gridsafe_store::people::id_of_user(&mut conn, user).await? else { return Ok(None) };
    let facts = gridsafe_store::people::facts(&mut conn, &[id]).await?;
    Ok(facts.get(&id).map(|p| (id, p.code.clone())))
}

/// What the customer manager and the inspector must do: stages past or near their limit,
/// submissions waiting for an inspection, notices not yet signed for.
pub async fn todo(app: &App, principal: &gridsafe_domain::access::Principal) -> Result<Vec<Todo>, AppError> {
    let manage = principal.authorize::<perm::ProjectsManage>().ok();
    let inspect = principal.authorize::<perm::ProjectsInspect>().ok();
    let scope = match (&manage, &inspect) {
        (Some(c), _) => c.scope().to_vec(),
        (None, Some(c)) => c.scope().to_vec(),
        (None, None) => return Ok(Vec::new()),
    };
    let today = app.today();
    let mut conn = app.db().snapshot().await?;
    // Every open project, a batch at a time: an old one past its limit stays on the list until
    // it is dealt with.
    let mut out = Vec::new();
    let mut batches = crate::batches::Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::by_id(&mut conn, &scope, true, after, crate::batches::BATCH).await?;
        batches.read(&rows, |p| p.id);
        for s in summaries(&mut conn, rows, today).await? {
            let p = &s.project;
            let may_manage = manage.as_ref().is_some_and(|c| check_stored_path(c, &p.unit_path).is_ok());
            let may_inspect = inspect.as_ref().is_some_and(|c| check_stored_path(c, &p.unit_path).is_ok());
            let subject = format!("{} · {}", p.number, p.customer_name);
            let push = |out: &mut Vec<Todo>, what: &'static str, due: String, late: bool| {
                out.push(Todo {
                    what,
                    link: format!("/projects/{}", p.id),
                    subject: subject.clone(),
                    word: None,
                    due,
                    late,
                })
            };
            let due = s.timing.and_then(Timing::due);
            let late = matches!(s.timing, Some(Timing::Overdue { .. }));
            let near = due.is_some_and(|d| d <= today + Duration::days(3));
            if p.stage.inspected() && matches!(s.timing, Some(Timing::Running { .. } | Timing::Overdue { .. })) {
                if may_inspect {
                    push(&mut out, "home-todo-project-inspect", due.map(|d| d.to_string()).unwrap_or_default(), late);
                }
            } else if may_manage && (late || near) {
                push(&mut out, "home-todo-project-stage", due.map(|d| d.to_string()).unwrap_or_default(), late);
            }
            if may_manage && s.unsigned_notices > 0 {
                push(&mut out, "home-todo-project-notice", String::new(), false);
            }
        }
    }
    Ok(out)
}
