//! The JSON API of customer projects (业扩报装): the list, one project with its stages, waits,
//! inspections and defects, the registration, the customer manager's steps, an inspection, the
//! receipt of a written notice, and the month's measures. Documents travel as base64.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gridsafe_app::projects::{
    self, Dashboard, InspectionInput, ListFilter, ProjectDetail, ProjectInput, ProjectSummary, StepInput,
};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, ProjectId, UnitId};
use gridsafe_domain::projects::{ProjectStep, Recheck, Stage, Timing};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

fn stage_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(Stage::ALL.map(Stage::code))
}

fn step_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["survey", "reply", "submit", "pause", "resume", "energise", "cancel"])
}

fn kind_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["new", "increase", "change"])
}

fn timing_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["not_started", "paused", "running", "overdue", "on_time", "late"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: i64,
    /// `YK-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// 户号
    pub account_no: String,
    pub customer_name: String,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    /// `residential`, `lv`, `hv_single` or `hv_dual`: which limits apply.
    pub class: String,
    pub voltage_kv: f64,
    pub capacity_kva: f64,
    pub designer: Option<String>,
    pub builder: Option<String>,
    /// `工号 姓名` of the customer manager.
    pub manager: String,
    /// The marketing system's application id (申请编号).
    pub order_id: Option<String>,
    #[schema(schema_with = stage_values)]
    pub stage: String,
    /// 受理日期
    pub accepted_on: String,
    pub surveyed_on: Option<String>,
    pub energised_on: Option<String>,
    pub cancel_reason: Option<String>,
    /// Supply may be given (acceptance passed, or the reply on the short path).
    pub cleared: bool,
}

impl From<gridsafe_app::projects::ProjectRow> for ProjectOut {
    fn from(p: gridsafe_app::projects::ProjectRow) -> Self {
        Self {
            id: p.id.get(),
            number: p.number,
            unit_id: p.unit_id.get(),
            unit_name: p.unit_name,
            account_no: p.account_no,
            customer_name: p.customer_name,
            kind: p.kind.code().to_owned(),
            class: p.class.code().to_owned(),
            voltage_kv: p.voltage_kv,
            capacity_kva: p.capacity_kva,
            designer: p.designer.map(|d| d.1),
            builder: p.builder.map(|b| b.1),
            manager: p.manager_label,
            order_id: p.order_id,
            stage: p.stage.code().to_owned(),
            accepted_on: p.accepted_on.to_string(),
            surveyed_on: p.surveyed_on.map(|d| d.to_string()),
            energised_on: p.energised_on.map(|d| d.to_string()),
            cancel_reason: p.cancel_reason,
            cleared: p.cleared_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimingOut {
    #[schema(schema_with = timing_values)]
    pub status: String,
    /// The last day of the limit, when the clock runs or ran.
    pub due: Option<String>,
}

impl From<Timing> for TimingOut {
    fn from(t: Timing) -> Self {
        Self { status: t.code().to_owned(), due: t.due().map(|d| d.to_string()) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectSummaryOut {
    #[serde(flatten)]
    pub project: ProjectOut,
    /// The current stage's timing (none once energised or cancelled).
    pub timing: Option<TimingOut>,
    pub open_defects: usize,
    pub paused: bool,
}

impl From<ProjectSummary> for ProjectSummaryOut {
    fn from(s: ProjectSummary) -> Self {
        Self {
            timing: s.timing.map(Into::into),
            open_defects: s.open_defects,
            paused: s.paused,
            project: s.project.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageOut {
    #[schema(schema_with = stage_values)]
    pub stage: String,
    pub entered_on: String,
    /// The day its clock started (受理, the customer's submission, the passed acceptance).
    pub clock_from: Option<String>,
    /// Working days allowed, from the limits table version in force that day.
    pub limit_days: Option<u32>,
    pub limits_version: Option<i64>,
    pub finished_on: Option<String>,
    pub outcome: Option<String>,
    pub timing: TimingOut,
    /// Working days used (waits left out).
    pub used_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PauseOut {
    #[schema(schema_with = stage_values)]
    pub stage: String,
    pub from: String,
    /// The day the customer was back; none while waiting.
    pub until: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefectOut {
    pub id: i64,
    pub text: String,
    /// Found by a later inspection: missed by the first inspector (首检负责制).
    pub missed: bool,
    pub closed_on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectInspectionOut {
    pub id: i64,
    #[schema(schema_with = stage_values)]
    pub stage: String,
    pub round: i64,
    pub on: String,
    pub inspector: String,
    /// The stage's first inspector, accountable for its defect list.
    pub accountable: String,
    pub passed: bool,
    pub conclusion: String,
    /// The written notice (一次性书面告知) of a failed inspection.
    pub notice_number: Option<String>,
    pub notice_signed_by: Option<String>,
    pub notice_signed_on: Option<String>,
    /// The defects it found.
    pub defects: Vec<DefectOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDetailOut {
    #[serde(flatten)]
    pub project: ProjectOut,
    pub stages: Vec<StageOut>,
    pub pauses: Vec<PauseOut>,
    pub inspections: Vec<ProjectInspectionOut>,
    /// Defects not yet closed: supply waits for them.
    pub open_defects: Vec<DefectOut>,
}

fn defect_out(d: &gridsafe_app::projects::DefectRow) -> DefectOut {
    DefectOut {
        id: d.id,
        text: d.text.clone(),
        missed: d.missed.is_some(),
        closed_on: d.closed_on.map(|c| c.to_string()),
    }
}

impl From<ProjectDetail> for ProjectDetailOut {
    fn from(d: ProjectDetail) -> Self {
        Self {
            stages: d
                .stages
                .iter()
                .map(|s| StageOut {
                    stage: s.row.stage.code().to_owned(),
                    entered_on: s.row.entered_on.to_string(),
                    clock_from: s.row.clock_from.map(|c| c.to_string()),
                    limit_days: s.row.limit_days,
                    limits_version: s.row.limits_version,
                    finished_on: s.row.finished_on.map(|f| f.to_string()),
                    outcome: s.row.outcome.clone(),
                    timing: s.timing.into(),
                    used_days: s.used,
                })
                .collect(),
            pauses: d
                .pauses
                .iter()
                .map(|p| PauseOut {
                    stage: p.stage.code().to_owned(),
                    from: p.from.to_string(),
                    until: p.until.map(|u| u.to_string()),
                    reason: p.reason.clone(),
                })
                .collect(),
            inspections: d
                .inspections
                .iter()
                .map(|i| ProjectInspectionOut {
                    id: i.id,
                    stage: i.stage.code().to_owned(),
                    round: i.round,
                    on: i.on.to_string(),
                    inspector: i.inspector_label.clone(),
                    accountable: i.accountable_label.clone(),
                    passed: i.passed,
                    conclusion: i.conclusion.clone(),
                    notice_number: i.notice_number.clone(),
                    notice_signed_by: i.notice_signed_by.clone(),
                    notice_signed_on: i.notice_signed_on.map(|o| o.to_string()),
                    defects: d.defects_of(i.id).into_iter().map(defect_out).collect(),
                })
                .collect(),
            open_defects: d.open_defects().into_iter().map(defect_out).collect(),
            project: d.project.into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only projects at this stage; open ones when absent.
    #[param(pattern = "^(plan_reply|design_review|mid_check|completion|energise|energised|cancelled)$")]
    pub stage: Option<String>,
    /// Only those past their current stage's limit.
    pub overdue: Option<bool>,
}

/// Projects in the caller's units (open ones, or those at a stage), the newest first, each with
/// its current stage against its limit (at most 500).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = [ProjectSummaryOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ProjectSummaryOut>>, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let stage = match q.stage.as_deref() {
        None => None,
        Some(s) => Some(
            Stage::from_code(s.trim())
                .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("stage", "field-project-stage")))?,
        ),
    };
    let filter = ListFilter { stage, overdue_only: q.overdue.unwrap_or(false) };
    let rows = projects::list_projects(state.app(), &cap, filter).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectIn {
    /// 户号: a customer of the register, or a new one (then `customer_name`, `address`, `unit_id`).
    #[schema(max_length = 40)]
    pub account_no: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub customer_name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    #[serde(default, deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    #[schema(minimum = 0.0, maximum = 1000.0)]
    pub voltage_kv: f64,
    #[schema(minimum = 0.0, maximum = 10000000.0)]
    pub capacity_kva: f64,
    #[serde(default)]
    pub dual_source: bool,
    #[serde(default)]
    pub residential: bool,
    /// Contractor codes (编号) of the customer's designer and builder.
    #[serde(default)]
    #[schema(max_length = 40)]
    pub designer: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub builder: String,
    /// The customer manager's 工号.
    #[schema(max_length = 40)]
    pub manager: String,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub order_id: String,
    /// `YYYY-MM-DD`; today when empty.
    #[serde(default)]
    #[schema(max_length = 10)]
    pub accepted_on: String,
}

/// Registers a project (受理): its customer registered too when new; designer and builder
/// checked against the voltage (their licence level).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])), request_body = ProjectIn,
    responses((status = 201, body = ProjectDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "A contractor's licence does not cover the voltage, or the application is already registered", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<ProjectIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let input = ProjectInput {
        account_no: p.account_no,
        customer_name: p.customer_name,
        address: p.address,
        unit_id: UnitId::new(p.unit_id),
        kind: p.kind,
        voltage_kv: p.voltage_kv.to_string(),
        capacity_kva: p.capacity_kva.to_string(),
        dual_source: p.dual_source,
        residential: p.residential,
        designer: p.designer,
        builder: p.builder,
        manager: p.manager,
        order_id: p.order_id,
        accepted_on: p.accepted_on,
    };
    let id = auth.checked(&state, projects::register(state.app(), &cap, &auth.meta, input, None).await).await?;
    let d = projects::project(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(ProjectDetailOut::from(d))).into_response())
}

/// One project with its stages against their limits, its waits, inspections and defects.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = ProjectDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<Json<ProjectDetailOut>, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    Ok(Json(auth.checked(&state, projects::project(state.app(), &cap, id).await).await?.into()))
}

fn document(base64: Option<String>, name: Option<String>) -> Result<Option<(String, Vec<u8>)>, gridsafe_app::AppError> {
    match base64 {
        None => Ok(None),
        Some(text) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| gridsafe_app::AppError::invalid("document_base64", "field-base64"))?;
            Ok(Some((name.unwrap_or_else(|| "document".to_owned()), bytes)))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectStepIn {
    /// `survey`, `reply`, `submit` (the customer's drawings, application or completion report),
    /// `pause` and `resume` (waiting on the customer), `energise`, `cancel`.
    #[schema(schema_with = step_values)]
    pub step: String,
    /// `YYYY-MM-DD`; today when empty.
    #[serde(default)]
    #[schema(max_length = 10)]
    pub on: String,
    /// The reply's content; the reason of a wait or a cancellation (required for those).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
    /// The step's document, base64 (JPEG, PNG, WebP or PDF).
    #[serde(default)]
    pub document_base64: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub document_name: Option<String>,
}

/// Takes a step of the customer manager's; refused by the stage rules (each named), or 200 with
/// the project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/steps", tag = "projects", security(("bearer" = [])), request_body = ProjectStepIn,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = ProjectDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule, named", body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(s): ApiJson<ProjectStepIn>,
) -> Result<Json<ProjectDetailOut>, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    auth.checked(&state, projects::project(state.app(), &cap, id).await).await?;
    let step = ProjectStep::from_code(s.step.trim())
        .filter(|s| *s != ProjectStep::Inspect)
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("step", "field-project-step")))?;
    let input = StepInput { on: s.on, note: s.note, document: document(s.document_base64, s.document_name)? };
    auth.checked(&state, projects::take_step(state.app(), &cap, &auth.meta, id, step, input).await).await?;
    Ok(Json(projects::project(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecheckIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub defect: i64,
    pub rectified: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInspectionIn {
    /// The inspector's person id (an inspector qualification covering the voltage).
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub inspector: i64,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub on: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub conclusion: String,
    /// A re-inspection answers every open defect of the stage's list.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub rechecks: Vec<RecheckIn>,
    /// Defects found now.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub new_defects: Vec<String>,
    #[serde(default)]
    pub document_base64: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub document_name: Option<String>,
}

/// Records an inspection of the current stage under 首检负责制; a failed one gets its written
/// notice number and the project waits on the customer.
#[utoipa::path(post, path = "/api/v1/projects/{id}/inspections", tag = "projects", security(("bearer" = [])), request_body = ProjectInspectionIn,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = ProjectDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule (stage, qualification, a defect of the first list not answered)", body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn inspect(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(i): ApiJson<ProjectInspectionIn>,
) -> Result<Json<ProjectDetailOut>, AppError> {
    let cap = auth.require::<perm::ProjectsInspect>(&state).await?;
    if i.rechecks.len() > projects::MAX_DEFECTS || i.new_defects.len() > projects::MAX_DEFECTS {
        let problem =
            gridsafe_app::FieldProblem::new("new_defects", "field-project-defects").with("max", projects::MAX_DEFECTS);
        return Err(gridsafe_app::AppError::Invalid(vec![problem]).into());
    }
    if i.new_defects.iter().any(|d| d.contains('\n') || d.chars().count() > projects::MAX_TEXT) {
        let problem =
            gridsafe_app::FieldProblem::new("new_defects", "field-project-defects").with("max", projects::MAX_DEFECTS);
        return Err(gridsafe_app::AppError::Invalid(vec![problem]).into());
    }
    let input = InspectionInput {
        inspector: PersonId::new(i.inspector),
        on: i.on,
        conclusion: i.conclusion,
        rechecks: i.rechecks.iter().map(|r| Recheck { defect: r.defect, rectified: r.rectified }).collect(),
        new_defects: i.new_defects.join("\n"),
        document: document(i.document_base64, i.document_name)?,
    };
    auth.checked(&state, projects::inspect(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Json(projects::project(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    /// Who signed for the notice on the customer's side.
    #[schema(max_length = 50)]
    pub signed_by: String,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub on: String,
}

/// Records the customer's receipt of a failed inspection's written notice.
#[utoipa::path(post, path = "/api/v1/projects/{id}/notices/{inspection}", tag = "projects", security(("bearer" = [])), request_body = ReceiptIn,
    params(("id" = i64, Path, description = "Project id"), ("inspection" = i64, Path, description = "Inspection id")),
    responses((status = 200, body = ProjectDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Already signed for", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn receipt(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, inspection)): ApiPath<(ProjectId, i64)>,
    ApiJson(r): ApiJson<ReceiptIn>,
) -> Result<Json<ProjectDetailOut>, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let done = projects::sign_notice(state.app(), &cap, &auth.meta, id, inspection, &r.signed_by, &r.on).await;
    auth.checked(&state, done).await?;
    Ok(Json(projects::project(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageCountOut {
    /// None for the total line.
    pub stage: Option<String>,
    pub open: usize,
    pub overdue: usize,
    pub finished: usize,
    pub on_time: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectorMissesOut {
    pub inspector: String,
    pub first_inspections: usize,
    /// Defects later found that the first inspection missed (首检负责制).
    pub missed: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDashboardOut {
    #[schema(example = "2026-12")]
    pub month: String,
    pub stages: Vec<StageCountOut>,
    pub registered: usize,
    pub energised: usize,
    pub first_inspections: usize,
    pub first_defects: usize,
    pub failed_inspections: usize,
    pub inspectors: Vec<InspectorMissesOut>,
}

impl From<Dashboard> for ProjectDashboardOut {
    fn from(d: Dashboard) -> Self {
        Self {
            month: d.month,
            stages: d
                .stages
                .into_iter()
                .map(|s| StageCountOut {
                    stage: s.stage.map(|st| st.code().to_owned()),
                    open: s.open,
                    overdue: s.overdue,
                    finished: s.finished,
                    on_time: s.on_time,
                })
                .collect(),
            registered: d.registered,
            energised: d.energised,
            first_inspections: d.first_inspections,
            first_defects: d.first_defects,
            failed_inspections: d.failed_inspections,
            inspectors: d
                .inspectors
                .into_iter()
                .map(|m| InspectorMissesOut {
                    inspector: m.inspector,
                    first_inspections: m.first_inspections,
                    missed: m.missed,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month when absent.
    #[param(example = "2026-12", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

/// The month's measures: open and overdue per stage, stages finished on time, defects per first
/// acceptance, first-inspection misses per inspector.
#[utoipa::path(get, path = "/api/v1/projects/dashboard", tag = "projects", security(("bearer" = [])), params(MonthQuery),
    responses((status = 200, body = ProjectDashboardOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn dashboard(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Json<ProjectDashboardOut>, AppError> {
    let cap = auth.require::<perm::ProjectsView>(&state).await?;
    let first = match q.month.as_deref() {
        None => crate::outages::month_of("", state.app().today()),
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
            .map_err(|_| AppError::from(gridsafe_app::AppError::invalid("month", "field-month")))?,
    };
    Ok(Json(projects::dashboard(state.app(), &cap, first).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsIn {
    /// The day the new limits apply from, `YYYY-MM-DD`; stages already running keep theirs.
    #[schema(max_length = 10)]
    pub valid_from: String,
    /// Where the new values come from (a document, a notice).
    #[schema(max_length = 500)]
    pub origin: String,
    /// Working days per `stage:customer_class` key, as the limits page names them (at most 200).
    pub days: std::collections::BTreeMap<String, String>,
}

/// Stores a new version of the limits table (业扩环节时限).
#[utoipa::path(put, path = "/api/v1/projects/limits", tag = "projects", security(("bearer" = [])), request_body = LimitsIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn set_limits(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(l): ApiJson<LimitsIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::ProjectsConfigure>(&state).await?;
    let input = gridsafe_app::projects::LimitsInput {
        valid_from: l.valid_from,
        origin: l.origin,
        days: l.days.into_iter().take(200).filter(|(k, _)| k.contains(':')).collect(),
    };
    auth.checked(&state, gridsafe_app::projects::set_limits(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(StatusCode::NO_CONTENT)
}
