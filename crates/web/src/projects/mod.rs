//! Customer projects (业扩报装) pages: the list with each project's current stage against its
//! limit, registration by hand or from the marketing system's list, one project with its stages,
//! waits, inspections and defects and the steps its roles take, the written notice of a failed
//! inspection (一次性书面告知), the dashboard with its ledger, and the calendar and limits table.

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::projects::{
    self, Dashboard, DefectRow, InspectionInput, InspectionRow, ListFilter, ProjectDetail, ProjectInput,
    ProjectSummary, StageView, StepInput,
};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, ProjectId};
use gridsafe_domain::projects::{Limit, ProjectKind, ProjectStep, Recheck, Stage, Timing};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/projects", list_page)
        .get("/projects.xlsx", export)
        .get("/projects/new", new_page)
        .post("/projects", create)
        .get("/projects/import", import_page)
        .post("/projects/import", import)
        .get("/projects/dashboard", dashboard_page)
        .get("/projects/calendar", calendar_page)
        .post("/projects/calendar", import_calendar)
        .get("/projects/limits", limits_page)
        .post("/projects/limits", set_limits)
        .get("/projects/{id}", detail_page)
        .post("/projects/{id}/steps", step)
        .post("/projects/{id}/inspections", inspect)
        .get("/projects/{id}/notices/{inspection}", notice_page)
        .post("/projects/{id}/notices/{inspection}", sign_notice)
}

/// A timing's words and its class for the status badge.
pub(crate) fn timing_class(t: &Timing) -> &'static str {
    match t {
        Timing::Overdue { .. } | Timing::Late { .. } => "overdue",
        Timing::Paused => "warn",
        Timing::OnTime { .. } => "state-closed",
        _ => "state-open",
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    overdue: String,
}

#[derive(Template)]
#[template(path = "projects/list.html")]
struct ListPage {
    chrome: Chrome,
    projects: Vec<ProjectSummary>,
    stages: [Stage; 7],
    stage: String,
    overdue: bool,
    can_manage: bool,
}

impl ListPage {
    fn timing_class(&self, t: &Timing) -> &'static str {
        timing_class(t)
    }
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let filter = ListFilter { stage: Stage::from_code(q.stage.trim()), overdue_only: q.overdue == "1" };
    let rows = projects::list_projects(state.app(), &cap, filter).await?;
    let p = &auth.user.principal;
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        projects: rows,
        stages: Stage::ALL,
        stage: filter.stage.map(|s| s.code().to_owned()).unwrap_or_default(),
        overdue: filter.overdue_only,
        can_manage: p.authorize::<perm::ProjectsManage>().is_ok(),
    }))
}

/// The ledger of projects in reach (业扩台账) as `.xlsx`: every open project and those finished.
async fn export(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    use gridsafe_app::xlsx::{self, Value};
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let mut rows = projects::list_projects(state.app(), &cap, ListFilter::default()).await?;
    for stage in [Stage::Energised, Stage::Cancelled] {
        let filter = ListFilter { stage: Some(stage), overdue_only: false };
        rows.extend(projects::list_projects(state.app(), &cap, filter).await?);
    }
    let lang = crate::i18n::Lang::ZhCn;
    let headers: Vec<String> = [
        "project-number",
        "people-unit",
        "customer-col-account_no",
        "customer-col-name",
        "project-kind",
        "project-class",
        "project-voltage",
        "project-capacity",
        "project-order-id",
        "project-manager",
        "project-designer",
        "project-builder",
        "project-accepted-on",
        "project-stage",
        "project-due",
        "project-timing",
        "project-open-defects",
        "project-energised-on",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|s| {
            let p = s.project;
            vec![
                p.number.into(),
                p.unit_name.into(),
                p.account_no.into(),
                p.customer_name.into(),
                lang.t(&format!("project-kind-{}", p.kind.code())).into(),
                lang.t(&format!("project-class-{}", p.class.code())).into(),
                Value::Number(p.voltage_kv),
                Value::Number(p.capacity_kva),
                p.order_id.into(),
                p.manager_label.into(),
                p.designer.map(|d| d.1).into(),
                p.builder.map(|b| b.1).into(),
                p.accepted_on.to_string().into(),
                lang.t(&format!("project-stage-{}", p.stage.code())).into(),
                s.timing.and_then(Timing::due).map(|d| d.to_string()).into(),
                s.timing.map(|t| lang.t(&format!("project-timing-{}", t.code()))).into(),
                Value::from(s.open_defects as i64),
                p.energised_on.map(|d| d.to_string()).into(),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("projects.xlsx", xlsx::ledger(&lang.t("projects-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "projects/new.html")]
struct NewPage {
    chrome: Chrome,
    units: Vec<crate::admin::UnitOption>,
    kinds: [ProjectKind; 3],
    today: String,
    manager: String,
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let manager =
        projects::own_person(state.app(), auth.user.principal.user_id()).await?.map(|p| p.1).unwrap_or_default();
    Ok(render(&NewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        units,
        kinds: ProjectKind::ALL,
        today: state.app().today().to_string(),
        manager,
    }))
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let input = project_input(f);
    let id = auth.checked(&state, projects::register(state.app(), &cap, &auth.meta, input, None).await).await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

fn project_input(fields: Vec<(String, String)>) -> ProjectInput {
    let mut input = ProjectInput::default();
    for (name, value) in fields {
        match name.as_str() {
            "account_no" => input.account_no = value,
            "customer_name" => input.customer_name = value,
            "address" => input.address = value,
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            "kind" => input.kind = value,
            "voltage_kv" => input.voltage_kv = value,
            "capacity_kva" => input.capacity_kva = value,
            "dual_source" => input.dual_source = value == "1",
            "residential" => input.residential = value == "1",
            "designer" => input.designer = value,
            "builder" => input.builder = value,
            "manager" => input.manager = value,
            "order_id" => input.order_id = value,
            "accepted_on" => input.accepted_on = value,
            _ => {}
        }
    }
    input
}

#[derive(Template)]
#[template(path = "projects/detail.html")]
struct DetailPage {
    chrome: Chrome,
    d: ProjectDetail,
    can_manage: bool,
    can_inspect: bool,
    /// Inspectors to choose from: (id, 工号 姓名, qualified for the voltage today).
    inspectors: Vec<(PersonId, String, bool)>,
    me: Option<PersonId>,
    today: String,
}

impl DetailPage {
    fn timing_class(&self, t: &Timing) -> &'static str {
        timing_class(t)
    }

    /// The steps the customer manager may take now (the rules decide again when one is taken).
    fn manager_steps(&self) -> Vec<&'static str> {
        if !self.can_manage || self.d.project.stage.is_final() {
            return Vec::new();
        }
        let p = &self.d.project;
        let paused = self.d.paused();
        let started = self.d.current().is_some_and(|s| s.row.clock_from.is_some());
        let mut out = Vec::new();
        if paused {
            out.push(ProjectStep::Resume.code());
        } else {
            match p.stage {
                Stage::PlanReply if p.surveyed_on.is_none() => out.push(ProjectStep::Survey.code()),
                Stage::PlanReply => out.push(ProjectStep::Reply.code()),
                s if s.inspected() && !started => out.push(ProjectStep::Submit.code()),
                Stage::Energise => out.push(ProjectStep::Energise.code()),
                _ => {}
            }
            if started {
                out.push(ProjectStep::Pause.code());
            }
        }
        out.push(ProjectStep::Cancel.code());
        out
    }

    fn takes_inspection(&self) -> bool {
        self.can_inspect
            && self.d.project.stage.inspected()
            && !self.d.paused()
            && self.d.current().is_some_and(|s| s.row.clock_from.is_some())
    }

    /// The open defects of the current stage, which a re-inspection answers one by one.
    fn open_of_stage(&self) -> Vec<&DefectRow> {
        self.d.open_defects().into_iter().filter(|x| x.stage == self.d.project.stage).collect()
    }

    fn inspections_of(&self, s: &StageView) -> Vec<&InspectionRow> {
        self.d.inspections_of(s.row.stage)
    }

    fn stage_documents(&self, s: &StageView) -> Vec<&gridsafe_app::customers::AttachmentMeta> {
        self.d.documents_of(&format!("project_{}", s.row.stage.code()), self.d.project.id.get())
    }

    fn inspection_documents(&self, i: &InspectionRow) -> Vec<&gridsafe_app::customers::AttachmentMeta> {
        self.d.documents_of("project_inspection", i.id)
    }

    fn defects_of(&self, i: &InspectionRow) -> Vec<&DefectRow> {
        self.d.defects_of(i.id)
    }

    /// A wait and a cancellation say why.
    fn needs_reason(&self, step: &str) -> bool {
        matches!(step, "pause" | "cancel")
    }

    fn is_me(&self, id: &PersonId) -> bool {
        self.me == Some(*id)
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<ProjectId>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let d = auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
    let p = &auth.user.principal;
    let today = state.app().today();
    let inspectors = match p.authorize::<perm::ProjectsInspect>() {
        Ok(c) if d.project.stage.inspected() => {
            projects::inspector_choices(state.app(), &c, d.project.voltage_kv, today).await?
        }
        _ => Vec::new(),
    };
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        can_manage: p.authorize::<perm::ProjectsManage>().is_ok(),
        can_inspect: p.authorize::<perm::ProjectsInspect>().is_ok(),
        inspectors,
        me: projects::own_person(state.app(), p.user_id()).await?.map(|p| p.0),
        today: today.to_string(),
        d,
    }))
}

/// A step of the customer manager's, with its day, note and document (a multipart form).
async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<ProjectId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    // Out of reach is said before anything the form says.
    auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "document").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let step = ProjectStep::from_code(field("step").trim())
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("step", "field-project-step")))?;
    let input = StepInput { on: field("on"), note: field("note"), document: file };
    auth.checked(&state, projects::take_step(state.app(), &cap, &auth.meta, id, step, input).await).await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

/// An inspection: the inspector, the day, each open defect rectified or not, the new defects one
/// per line, the record's scan.
async fn inspect(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<ProjectId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsInspect>(&state).await?;
    auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "document").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let mut rechecks: Vec<Recheck> = fields
        .iter()
        .filter_map(|(k, v)| {
            let defect = k.strip_prefix("recheck_")?.parse().ok()?;
            Some(Recheck { defect, rectified: v == "rectified" })
        })
        .collect();
    rechecks.sort_by_key(|r| r.defect);
    let input = InspectionInput {
        inspector: field("inspector").trim().parse().unwrap_or_default(),
        on: field("on"),
        conclusion: field("conclusion"),
        rechecks,
        new_defects: field("new_defects"),
        document: file,
    };
    let done = auth.checked(&state, projects::inspect(state.app(), &cap, &auth.meta, id, input).await).await?;
    let anchor = if done.passed { String::new() } else { format!("#inspection-{}", done.inspection) };
    Ok(Redirect::to(&format!("/projects/{id}{anchor}")).into_response())
}

#[derive(Template)]
#[template(path = "projects/notice.html")]
struct NoticePage {
    chrome: Chrome,
    d: ProjectDetail,
    i: InspectionRow,
    defects: Vec<DefectRow>,
    copies: [&'static str; 2],
}

/// The written notice of a failed inspection (一次性书面告知): the customer's copy with every
/// defect of the list, and the receipt the customer signs.
async fn notice_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path((id, inspection)): Path<(ProjectId, i64)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let d = auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
    let i = d
        .inspections
        .iter()
        .find(|i| i.id == inspection && i.notice_number.is_some())
        .cloned()
        .ok_or_else(crate::auth::not_found)?;
    // The list the customer must answer: what this inspection left open, in the order found.
    let defects = d
        .defects
        .iter()
        .filter(|x| x.stage == i.stage && x.inspection_id <= i.id)
        .filter(|x| x.closed_by_inspection.is_none_or(|c| c > i.id))
        .cloned()
        .collect();
    Ok(render(&NoticePage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        i,
        defects,
        copies: ["notice-copy-customer", "notice-copy-file"],
    }))
}

#[derive(Debug, Deserialize)]
struct ReceiptForm {
    #[serde(default)]
    signed_by: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    confirm: String,
}

async fn sign_notice(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, inspection)): Path<(ProjectId, i64)>,
    Form(f): Form<ReceiptForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    if f.confirm != "1" {
        auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
        crate::form::confirmed(&f.confirm)?;
    }
    let done = projects::sign_notice(state.app(), &cap, &auth.meta, id, inspection, &f.signed_by, &f.on).await;
    auth.checked(&state, done).await?;
    Ok(Redirect::to(&format!("/projects/{id}#inspection-{inspection}")).into_response())
}

#[derive(Template)]
#[template(path = "projects/import.html")]
struct ImportPage {
    chrome: Chrome,
    units: Vec<crate::admin::UnitOption>,
    imported: Option<String>,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ImportedQuery {
    #[serde(default)]
    registered: Option<i64>,
    #[serde(default)]
    known: Option<i64>,
}

async fn import_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ImportedQuery>,
) -> Result<Response, AppError> {
    auth.require::<perm::ProjectsManage>(&state).await?;
    let imported = match (q.registered, q.known) {
        (Some(r), Some(k)) => {
            Some(ctx.lang.t_args("projects-imported", &[("registered", r.into()), ("known", k.into())]))
        }
        _ => None,
    };
    import_view(&state, ctx, &auth, imported, Vec::new()).await
}

async fn import_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    imported: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(state).await?;
    let refused = !problems.is_empty();
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let mut response = render(&ImportPage { chrome: Chrome::for_user(ctx, &auth.user), units, imported, problems });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The marketing system's list of applications: all of it, or every problem shown and nothing changed.
async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default();
    let result = projects::import_projects(state.app(), &cap, &auth.meta, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(done) => Ok(Redirect::to(&format!("/projects/import?registered={}&known={}", done.registered, done.known))
            .into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            import_view(&state, ctx, &auth, None, words).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// A chart's bar: its label, top, width (4 px to the percent) and the words beside it.
struct Bar {
    label: String,
    y: usize,
    width: u32,
    text: String,
    overdue: usize,
}

#[derive(Template)]
#[template(path = "projects/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: Dashboard,
    previous: String,
    next: String,
    bars: Vec<Bar>,
}

impl DashboardPage {
    fn rate(&self, r: Option<f64>) -> String {
        crate::tickets::rate(r)
    }

    fn per_acceptance(&self) -> String {
        self.d.defects_per_acceptance().map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
    }
}

async fn dashboard_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let first = crate::outages::month_of(&q.month, state.app().today());
    let next = crate::outages::next_month(first);
    let previous = (first - chrono::Duration::days(1)).format("%Y-%m").to_string();
    let d = projects::dashboard(state.app(), &cap, first).await?;
    let lang = ctx.lang;
    let bars = d
        .stages
        .iter()
        .filter_map(|s| s.stage.map(|st| (st, s)))
        .enumerate()
        .map(|(i, (st, s))| {
            let rate = s.on_time_rate();
            Bar {
                label: lang.t(&format!("project-stage-{}", st.code())),
                y: 10 + i * 30,
                width: rate.map_or(0, |r| (r.clamp(0.0, 100.0) * 4.0) as u32),
                text: crate::tickets::rate(rate),
                overdue: s.overdue,
            }
        })
        .collect();
    Ok(render(&DashboardPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        previous,
        next: next.format("%Y-%m").to_string(),
        bars,
    }))
}

#[derive(Template)]
#[template(path = "projects/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    days: Vec<projects::CalendarDay>,
    can_configure: bool,
    year: i32,
    imported: Option<String>,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CalendarQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    holidays: Option<i64>,
    #[serde(default)]
    workdays: Option<i64>,
}

async fn calendar_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, AppError> {
    auth.require::<perm::ProjectsView>(&state).await?;
    let imported = match (q.holidays, q.workdays) {
        (Some(h), Some(w)) => Some(ctx.lang.t_args(
            "projects-calendar-imported",
            &[("year", i64::from(q.year.unwrap_or_default()).into()), ("holidays", h.into()), ("workdays", w.into())],
        )),
        _ => None,
    };
    calendar_view(&state, ctx, &auth, q.year, imported, Vec::new()).await
}

async fn calendar_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    year: Option<i32>,
    imported: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    use chrono::Datelike;
    let year = year.filter(|y| (2000..=2100).contains(y)).unwrap_or_else(|| state.app().today().year());
    let days = projects::calendar_days(state.app()).await?.into_iter().filter(|d| d.day.year() == year).collect();
    let refused = !problems.is_empty();
    let mut response = render(&CalendarPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        days,
        can_configure: auth.user.principal.authorize::<perm::ProjectsConfigure>().is_ok(),
        year,
        imported,
        problems,
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// One year's holidays and working weekends from CSV or `.xlsx`, replacing that year's.
async fn import_calendar(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsConfigure>(&state).await?;
    let (files, year) = crate::people::upload_form(&mut multipart, "year").await?;
    let year: i32 = year.and_then(|y| y.trim().parse().ok()).unwrap_or_default();
    let result = projects::import_calendar(state.app(), &cap, &auth.meta, year, &files).await;
    match auth.checked(&state, result).await? {
        Ok(done) => Ok(Redirect::to(&format!(
            "/projects/calendar?year={}&holidays={}&workdays={}",
            done.year, done.holidays, done.workdays
        ))
        .into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            calendar_view(&state, ctx, &auth, Some(year), None, words).await
        }
    }
}

#[derive(Template)]
#[template(path = "projects/limits.html")]
struct LimitsPage {
    chrome: Chrome,
    version: i64,
    rows: Vec<Limit>,
    versions: Vec<projects::LimitsVersion>,
    can_configure: bool,
    today: String,
}

impl LimitsPage {
    fn key(&self, l: &Limit) -> String {
        format!("{}:{}", l.stage.code(), l.class.code())
    }
}

async fn limits_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::ProjectsView>(&state).await?;
    let today = state.app().today();
    let (version, rows) = projects::limits_in_force(state.app(), today).await?;
    Ok(render(&LimitsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        version,
        rows,
        versions: projects::limit_versions(state.app()).await?,
        can_configure: auth.user.principal.authorize::<perm::ProjectsConfigure>().is_ok(),
        today: today.to_string(),
    }))
}

async fn set_limits(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsConfigure>(&state).await?;
    let mut input = projects::LimitsInput::default();
    for (name, value) in f {
        match name.as_str() {
            "valid_from" => input.valid_from = value,
            "origin" => input.origin = value,
            key if key.contains(':') => input.days.push((key.to_owned(), value)),
            _ => {}
        }
    }
    auth.checked(&state, projects::set_limits(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/projects/limits").into_response())
}
