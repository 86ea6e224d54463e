//! The JSON API of emergency plans and drills, complaints and evaluations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::emergency::{self, ComplaintInput, DrillInput, EvaluationInput, PlanInput};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

fn kind_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["comprehensive", "special", "onsite", "customer"])
}

fn rating_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["good", "adequate", "poor"])
}

fn evaluation_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["third_party", "conduct", "visit"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueOut {
    pub unit_id: i64,
    pub unit_name: String,
    /// The plan whose drill is due; none for a unit's yearly drill of its 综合 or 专项 plans.
    pub plan_id: Option<i64>,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    pub months: u32,
    pub last: Option<String>,
    pub due: String,
    pub overdue: bool,
}

/// The drills due in the caller's units, soonest first.
#[utoipa::path(get, path = "/api/v1/emergency/schedule", tag = "emergency", security(("bearer" = [])),
    responses((status = 200, body = [DueOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn schedule(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<DueOut>>, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let due = emergency::schedule(state.app(), &cap).await?;
    Ok(Json(
        due.into_iter()
            .map(|d| DueOut {
                unit_id: d.due.unit_id,
                unit_name: d.unit_name,
                plan_id: d.due.plan_id,
                kind: d.due.kind.code().to_owned(),
                months: d.due.months,
                last: d.due.last.map(|l| l.to_string()),
                due: d.due.due.to_string(),
                overdue: d.due.overdue,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmergencyPlanOut {
    pub id: i64,
    /// `YA-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// 户号 of an important customer's own plan.
    pub customer: Option<String>,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    pub title: String,
    /// Codes of the risks it covers.
    pub risks: Vec<String>,
    pub version: String,
    pub approved_by: String,
    pub approved_on: String,
    pub review_due: String,
}

impl From<emergency::PlanRow> for EmergencyPlanOut {
    fn from(p: emergency::PlanRow) -> Self {
        Self {
            id: p.id,
            number: p.number,
            unit_id: p.unit_id.get(),
            unit_name: p.unit_name,
            customer: p.customer.map(|c| c.1),
            kind: p.kind.code().to_owned(),
            title: p.title,
            risks: p.risks,
            version: p.version,
            approved_by: p.approved_by,
            approved_on: p.approved_on.to_string(),
            review_due: p.review_due.to_string(),
        }
    }
}

/// The plans of the caller's units.
#[utoipa::path(get, path = "/api/v1/emergency/plans", tag = "emergency", security(("bearer" = [])),
    responses((status = 200, body = [EmergencyPlanOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn plans(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<EmergencyPlanOut>>, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    Ok(Json(emergency::plans(state.app(), &cap).await?.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyPlanIn {
    #[serde(default, deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    /// 户号 of the important customer (kind `customer`).
    #[serde(default)]
    #[schema(max_length = 40)]
    pub customer: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_items = 20)]
    pub risks: Vec<String>,
    #[schema(max_length = 40)]
    pub version: String,
    #[schema(max_length = 100)]
    pub approved_by: String,
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub approved_on: String,
    #[schema(max_length = 10)]
    pub review_due: String,
}

/// Records an approved plan.
#[utoipa::path(post, path = "/api/v1/emergency/plans", tag = "emergency", security(("bearer" = [])), request_body = EmergencyPlanIn,
    responses((status = 201, body = EmergencyPlanOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "The review day is outside the plan's validity", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<EmergencyPlanIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    if p.risks.len() > 20 {
        return Err(gridsafe_app::AppError::invalid("risks", "field-emergency-risks").into());
    }
    let input = PlanInput {
        unit_id: UnitId::new(p.unit_id),
        kind: p.kind,
        customer: p.customer,
        title: p.title,
        risks: p.risks,
        version: p.version,
        approved_by: p.approved_by,
        approved_on: p.approved_on,
        review_due: p.review_due,
        document: None,
    };
    let id = auth.checked(&state, emergency::create_plan(state.app(), &cap, &auth.meta, input).await).await?;
    let d = emergency::plan(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(EmergencyPlanOut::from(d.plan))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillIn {
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub held_on: String,
    #[schema(max_length = 500)]
    pub scenario: String,
    /// 工号 of the participants.
    #[schema(max_items = 200)]
    pub people: Vec<String>,
    #[schema(schema_with = rating_values)]
    pub rating: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub evaluation: String,
    /// Problems found: each becomes a hazard in the closed loop.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub problems: Vec<String>,
    /// 工号 of the person who answers for the problems, and by when.
    #[serde(default)]
    #[schema(max_length = 60)]
    pub responsible: String,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub deadline: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrillOut {
    pub id: i64,
    /// `YL-YYYYMM-NNNN`
    pub number: String,
    pub plan_id: i64,
    pub held_on: String,
    pub scenario: String,
    #[schema(schema_with = rating_values)]
    pub rating: String,
    pub people: Vec<String>,
    /// Numbers of the hazards its problems opened.
    pub hazards: Vec<String>,
}

impl From<emergency::DrillDetail> for DrillOut {
    fn from(d: emergency::DrillDetail) -> Self {
        Self {
            id: d.drill.id,
            number: d.drill.number,
            plan_id: d.drill.plan_id,
            held_on: d.drill.held_on.to_string(),
            scenario: d.drill.scenario,
            rating: d.drill.rating.code().to_owned(),
            people: d.drill.people,
            hazards: d.hazards.into_iter().map(|h| h.1).collect(),
        }
    }
}

/// Records a drill of a plan; each problem opens a hazard assigned to the responsible person.
#[utoipa::path(post, path = "/api/v1/emergency/plans/{id}/drills", tag = "emergency", security(("bearer" = [])), request_body = DrillIn,
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 201, body = DrillOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Held before the plan's approval or in the future", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn record_drill(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DrillIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    if d.people.len() > emergency::MAX_PEOPLE
        || d.problems.len() > emergency::MAX_PROBLEMS
        || d.problems.iter().any(|p| p.contains('\n'))
    {
        return Err(gridsafe_app::AppError::invalid("problems", "field-emergency-problems").into());
    }
    let input = DrillInput {
        held_on: d.held_on,
        scenario: d.scenario,
        people: d.people.join(" "),
        rating: d.rating,
        evaluation: d.evaluation,
        problems: d.problems.join("\n"),
        responsible: d.responsible,
        deadline: d.deadline,
        photo: None,
    };
    let drill = auth.checked(&state, emergency::record_drill(state.app(), &cap, &auth.meta, id, input).await).await?;
    let detail = emergency::drill(state.app(), &cap, drill).await?;
    Ok((StatusCode::CREATED, Json(DrillOut::from(detail))).into_response())
}

/// One drill with the hazards its problems opened.
#[utoipa::path(get, path = "/api/v1/emergency/drills/{id}", tag = "emergency", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Drill id")),
    responses((status = 200, body = DrillOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn drill(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DrillOut>, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    Ok(Json(auth.checked(&state, emergency::drill(state.app(), &cap, id).await).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitFeedbackOut {
    pub unit_name: String,
    pub complaints: usize,
    pub with_hazard: usize,
    pub evaluations: usize,
    pub average_score: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    #[schema(example = "2026-12")]
    pub month: String,
    pub units: Vec<UnitFeedbackOut>,
    /// Complaints per month, the five before and this one.
    pub trend: Vec<(String, usize)>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month when absent.
    #[param(example = "2026-12", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

/// The month's complaints and evaluations per unit, with the complaints' six months.
#[utoipa::path(get, path = "/api/v1/feedback", tag = "emergency", security(("bearer" = [])), params(MonthQuery),
    responses((status = 200, body = FeedbackOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn feedback(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Json<FeedbackOut>, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let first = match q.month.as_deref() {
        None => crate::outages::month_of("", state.app().today()),
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
            .map_err(|_| AppError::from(gridsafe_app::AppError::invalid("month", "field-month")))?,
    };
    let f = emergency::feedback(state.app(), &cap, first).await?;
    Ok(Json(FeedbackOut {
        month: f.month,
        units: f
            .units
            .into_iter()
            .map(|u| UnitFeedbackOut {
                unit_name: u.unit_name,
                complaints: u.complaints,
                with_hazard: u.with_hazard,
                evaluations: u.evaluations,
                average_score: u.average_score,
            })
            .collect(),
        trend: f.trend,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintIn {
    /// 工单编号
    #[schema(max_length = 40)]
    pub ticket_no: String,
    /// Local time `YYYY-MM-DD HH:MM`.
    #[schema(max_length = 16)]
    pub received_at: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub account_no: String,
    #[schema(max_length = 40)]
    pub category: String,
    #[schema(max_length = 2000)]
    pub content: String,
    /// The unit when the customer is not in the register.
    #[serde(default, deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOut {
    pub id: i64,
}

/// Records a safety-related complaint.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "emergency", security(("bearer" = [])), request_body = ComplaintIn,
    responses((status = 201, body = CreatedOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn complaint(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(c): ApiJson<ComplaintIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let input = ComplaintInput {
        ticket_no: c.ticket_no,
        received_at: c.received_at,
        account_no: c.account_no,
        category: c.category,
        content: c.content,
        unit_id: UnitId::new(c.unit_id),
    };
    let id = auth.checked(&state, emergency::record_complaint(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(CreatedOut { id })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEvaluationIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// `YYYY-MM`
    #[schema(max_length = 7)]
    pub period: String,
    #[schema(schema_with = evaluation_values)]
    pub kind: String,
    #[schema(minimum = 0.0, maximum = 100.0)]
    pub score: f64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub remarks: String,
    #[schema(max_length = 100)]
    pub evaluator: String,
}

/// Records an evaluation of a unit's service for a month.
#[utoipa::path(post, path = "/api/v1/evaluations", tag = "emergency", security(("bearer" = [])), request_body = ServiceEvaluationIn,
    responses((status = 201, body = CreatedOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn evaluation(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(e): ApiJson<ServiceEvaluationIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let input = EvaluationInput {
        unit_id: UnitId::new(e.unit_id),
        period: e.period,
        kind: e.kind,
        score: e.score.to_string(),
        remarks: e.remarks,
        evaluator: e.evaluator,
        hazard: None,
    };
    let id = auth.checked(&state, emergency::record_evaluation(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(CreatedOut { id })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackHazardIn {
    /// What is to be put right.
    #[schema(max_length = 200)]
    pub title: String,
    /// The person responsible, by 工号.
    #[schema(max_length = 40)]
    pub responsible: String,
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub deadline: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HazardOpened {
    /// The hazard opened in the closed loop.
    pub hazard_id: i64,
}

/// Opens a hazard in the closed loop from a safety-related complaint (95598).
#[utoipa::path(post, path = "/api/v1/feedback/complaints/{id}/hazard", tag = "emergency", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Complaint id")), request_body = FeedbackHazardIn,
    responses((status = 201, body = HazardOpened), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn complaint_hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<FeedbackHazardIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let input = emergency::HazardInput { title: h.title, responsible: h.responsible, deadline: h.deadline };
    let hazard_id =
        auth.checked(&state, emergency::complaint_hazard(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok((StatusCode::CREATED, Json(HazardOpened { hazard_id })).into_response())
}

/// Opens a hazard in the closed loop from a service evaluation.
#[utoipa::path(post, path = "/api/v1/feedback/evaluations/{id}/hazard", tag = "emergency", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Evaluation id")), request_body = FeedbackHazardIn,
    responses((status = 201, body = HazardOpened), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn evaluation_hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<FeedbackHazardIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let input = emergency::HazardInput { title: h.title, responsible: h.responsible, deadline: h.deadline };
    let hazard_id =
        auth.checked(&state, emergency::evaluation_hazard(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok((StatusCode::CREATED, Json(HazardOpened { hazard_id })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PilotIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(max_length = 100)]
    pub name: String,
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub starts_on: String,
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub ends_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PilotCreated {
    pub id: i64,
}

/// Starts a rural electricity-safety pilot (农村用电安全试点) of a unit.
#[utoipa::path(post, path = "/api/v1/emergency/pilots", tag = "emergency", security(("bearer" = [])), request_body = PilotIn,
    responses((status = 201, body = PilotCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn create_pilot(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<PilotIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    let input = emergency::PilotInput {
        unit_id: UnitId::new(p.unit_id),
        name: p.name,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
    };
    let id = auth.checked(&state, emergency::create_pilot(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(PilotCreated { id })).into_response())
}

/// A document of a pilot's library: its fields and the `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct PilotDocumentUpload {
    pub pilot_id: i64,
    pub kind: String,
    pub title: String,
    pub tags: Option<String>,
    pub summary: Option<String>,
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentPublished {
    pub id: i64,
    /// The version of its title this makes.
    pub version: i64,
}

/// Publishes a document in a pilot's library: the next version of its title.
#[utoipa::path(post, path = "/api/v1/emergency/pilots/documents", tag = "emergency", security(("bearer" = [])),
    request_body(content = PilotDocumentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = DocumentPublished), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn publish_document(
    State(state): State<AppState>,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "file").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = emergency::DocumentInput {
        pilot_id: field("pilot_id").trim().parse().unwrap_or_default(),
        kind: field("kind"),
        title: field("title"),
        tags: field("tags"),
        summary: field("summary"),
        file,
    };
    let (id, version) =
        auth.checked(&state, emergency::publish_document(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(DocumentPublished { id, version })).into_response())
}
