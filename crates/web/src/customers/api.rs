//! The JSON API of customers' safe use of electricity: the register, the inspection plan, hazards
//! and their steps.

use axum::Json;
use axum::extract::State;
use gridsafe_app::customers::{self, CustomerFilter, CustomerRow, HazardFilter, HazardRow, StepInput};
use gridsafe_domain::access::perm;
use gridsafe_domain::customers::{emergency_code, importance_code};
use gridsafe_domain::hazards::HazardStepKind;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::inspections::DueState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

fn invalid(field: &'static str) -> AppError {
    AppError::from(gridsafe_app::AppError::invalid(field, "field-invalid"))
}

fn due_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["overdue", "due"])
}

fn state_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(crate::hazards::STATES)
}

fn responsibility_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["grid", "customer"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: i64,
    /// 户号
    pub account_no: String,
    pub name: String,
    pub address: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub voltage_kv: f64,
    /// `special`, `first`, `second`, `temporary` or `none`.
    pub importance: String,
    pub importance_document: Option<String>,
    pub industry: String,
    pub supply_sources: u32,
    /// `none`, `registered` or `suspected`.
    pub emergency_power: String,
    pub preventive_test_due: Option<String>,
    /// The periodic cycle (周期检查): the last inspection that completed it.
    pub last_inspected: Option<String>,
    /// The deciding row of the cycle table and its months (none: no fixed cycle).
    pub cycle_rule: Option<String>,
    pub cycle_months: Option<u32>,
    pub due: Option<String>,
    /// `overdue`, `due` (this month), `not_due` or none.
    pub due_state: Option<String>,
    /// The special check of self-provided emergency power (自备应急电源专项检查), a track of its
    /// own: completed only by an emergency-power check or an inspection that checked that section.
    pub emergency_rule: Option<String>,
    pub emergency_months: Option<u32>,
    pub emergency_last_checked: Option<String>,
    pub emergency_due: Option<String>,
    /// `overdue`, `due` (this month), `not_due` or none.
    pub emergency_due_state: Option<String>,
    pub open_hazards: i64,
    pub sealed: i64,
}

fn due_code(s: DueState) -> String {
    match s {
        DueState::Overdue => "overdue",
        DueState::DueThisMonth => "due",
        DueState::NotDue => "not_due",
    }
    .to_owned()
}

impl From<CustomerRow> for CustomerOut {
    fn from(c: CustomerRow) -> Self {
        let r = c.record;
        Self {
            id: c.id,
            account_no: r.account_no,
            name: r.name,
            address: r.address,
            unit_id: c.unit_id.get(),
            unit_name: c.unit_name,
            voltage_kv: r.voltage_kv,
            importance: importance_code(r.importance).to_owned(),
            importance_document: r.importance_document,
            industry: r.industry,
            supply_sources: r.supply_sources,
            emergency_power: emergency_code(r.emergency_power).to_owned(),
            preventive_test_due: r.preventive_test_due.map(|d| d.to_string()),
            last_inspected: c.periodic.last.map(|d| d.to_string()),
            cycle_rule: c.periodic.rule,
            cycle_months: c.periodic.months,
            due: c.periodic.due.map(|d| d.to_string()),
            due_state: c.periodic.due_state.map(due_code),
            emergency_rule: c.emergency.rule,
            emergency_months: c.emergency.months,
            emergency_last_checked: c.emergency.last.map(|d| d.to_string()),
            emergency_due: c.emergency.due.map(|d| d.to_string()),
            emergency_due_state: c.emergency.due_state.map(due_code),
            open_hazards: c.open_hazards,
            sealed: c.sealed,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomersQuery {
    /// Part of the 户号, name or address.
    pub q: Option<String>,
    /// A unit and the units below it.
    #[param(value_type = Option<i64>)]
    pub unit_id: Option<String>,
    /// `overdue` or `due` (this month).
    #[param(schema_with = due_values)]
    pub due: Option<String>,
}

/// Customers in the caller's units, with their cycle and due day.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), params(CustomersQuery),
    responses((status = 200, body = Vec<CustomerOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CustomersQuery>,
) -> Result<Json<Vec<CustomerOut>>, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let unit_id = match q.unit_id.as_deref() {
        None => None,
        Some(t) => Some(crate::json::whole(t).ok_or_else(|| invalid("unit_id"))?),
    };
    let due = match q.due.as_deref() {
        None => None,
        Some("overdue") => Some(DueState::Overdue),
        Some("due") => Some(DueState::DueThisMonth),
        Some(_) => return Err(invalid("due")),
    };
    let filter = CustomerFilter { text: q.q, unit_id: unit_id.map(UnitId::new), importance: None, due };
    Ok(Json(customers::list_customers(state.app(), &cap, &filter).await?.into_iter().map(CustomerOut::from).collect()))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CustomerOut>, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    Ok(Json(auth.checked(&state, customers::customer(state.app(), &cap, id).await).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HazardRecordOut {
    pub id: i64,
    /// `YH-YYYYMM-NNNN`
    pub number: String,
    pub customer_id: Option<i64>,
    pub customer_no: Option<String>,
    pub inspection_id: Option<i64>,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    /// A code of the grade table (`major`, `serious`, `general` by default).
    pub grade: String,
    /// `grid` or `customer`.
    pub responsibility: String,
    /// registered, planned, notified, receipt_signed, receipt_refused, filed, rectifying, reviewing, closed.
    pub state: String,
    /// `inspection`, `finding` (a confirmed cross-audit finding) or `adhoc`.
    pub source: String,
    /// The rectification deadline in force: from the grade until a plan or notice sets one.
    #[schema(format = Date)]
    pub deadline: String,
    /// The latest deadline allowed: the grade's days, or a later day a manager approved.
    #[schema(format = Date)]
    pub deadline_limit: String,
    /// When the next thing is due: a grid-side hazard's plan, else the deadline.
    #[schema(format = Date)]
    pub due: String,
    pub overdue: bool,
    /// Levels escalated (督办) and the unit it reached.
    pub escalation: i64,
    pub escalated_to: Option<String>,
    pub receipt_by: Option<String>,
    pub filed_on: Option<String>,
    pub filing_reference: Option<String>,
}

impl From<HazardRow> for HazardRecordOut {
    fn from(h: HazardRow) -> Self {
        Self {
            id: h.id,
            number: h.number,
            customer_id: h.customer_id,
            customer_no: h.customer_no,
            inspection_id: h.inspection_id,
            unit_id: h.unit_id.get(),
            unit_name: h.unit_name,
            title: h.title,
            grade: h.grade,
            responsibility: h.responsibility.code().to_owned(),
            state: h.state.code().to_owned(),
            source: h.source_kind,
            deadline: h.deadline.to_string(),
            deadline_limit: h.limit.to_string(),
            due: h.due.to_string(),
            overdue: h.overdue,
            escalation: h.escalation,
            escalated_to: h.escalated_to,
            receipt_by: h.receipt_by,
            filed_on: h.filed_on,
            filing_reference: h.filing_reference,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HazardsQuery {
    #[param(schema_with = state_values)]
    pub state: Option<String>,
    /// `grid` or `customer`.
    #[param(schema_with = responsibility_values)]
    pub responsibility: Option<String>,
    /// `true`: only open hazards past their deadline.
    pub overdue: Option<bool>,
}

/// Hazards in the caller's units, open ones first by deadline.
#[utoipa::path(get, path = "/api/v1/hazards", tag = "customers", security(("bearer" = [])), params(HazardsQuery),
    responses((status = 200, body = Vec<HazardRecordOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn hazards(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HazardsQuery>,
) -> Result<Json<Vec<HazardRecordOut>>, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    // Values outside the enumerations (an empty one too) are refused, as the schema says.
    let state_filter = q.state;
    let responsibility = q.responsibility;
    if state_filter.as_deref().is_some_and(|s| !crate::hazards::STATES.contains(&s)) {
        return Err(invalid("state"));
    }
    if responsibility.as_deref().is_some_and(|r| !["grid", "customer"].contains(&r)) {
        return Err(invalid("responsibility"));
    }
    let filter = HazardFilter {
        state: state_filter,
        responsibility,
        overdue: q.overdue.unwrap_or(false),
        ..HazardFilter::default()
    };
    Ok(Json(
        customers::list_hazards(state.app(), &cap, &filter).await?.into_iter().map(HazardRecordOut::from).collect(),
    ))
}

/// One hazard.
#[utoipa::path(get, path = "/api/v1/hazards/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")),
    responses((status = 200, body = HazardRecordOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<HazardRecordOut>, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    Ok(Json(auth.checked(&state, customers::hazard(state.app(), &cap, id).await).await?.hazard.into()))
}

/// The domain's [`HazardStepKind`], read straight from the request; its schema lists the
/// domain's codes.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct HazardStepName(HazardStepKind);

impl utoipa::ToSchema for HazardStepName {}

impl utoipa::PartialSchema for HazardStepName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(HazardStepKind::ALL.iter().map(|k| k.code())))
            .into()
    }
}

/// A step of the closed loop. Which fields count depends on the step: `plan` (deadline, owner,
/// tasks), `notify` (deadline), `sign_receipt` (receipt_by), `refuse_receipt` (refused_on,
/// delivery, witness; a photo of the delivery added to the hazard since its notice), `file`
/// (filed_on, reference), `review` (passed, evidence; by the safety auditor).
#[derive(Debug, Deserialize, ToSchema)]
pub struct HazardStepIn {
    pub step: HazardStepName,
    /// `YYYY-MM-DD`, today or later.
    #[serde(default)]
    #[schema(format = Date)]
    pub deadline: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub owner: String,
    /// One task per line.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub tasks: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub receipt_by: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub filed_on: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub reference: String,
    #[serde(default)]
    pub passed: bool,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub evidence: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub refused_on: String,
    /// How the refused notice was delivered (当面送达, 留置送达, 邮寄送达 …).
    #[serde(default)]
    #[schema(max_length = 50)]
    pub delivery: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub witness: String,
}

/// Takes a step of a hazard's closed loop; a refusal names every rule (409).
#[utoipa::path(post, path = "/api/v1/hazards/{id}/steps", tag = "customers", security(("bearer" = [])), request_body = HazardStepIn,
    params(("id" = i64, Path, description = "Hazard id")),
    responses((status = 200, body = HazardRecordOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule of the closed loop (HAZARD_STATE, HAZARD_FILING, HAZARD_DEADLINE, HAZARD_DEADLINE_LIMIT, HAZARD_RECEIPT_REFUSED, TASK_CLOSE)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<HazardStepIn>,
) -> Result<Json<HazardRecordOut>, AppError> {
    let input = StepInput {
        step: s.step.0,
        deadline: s.deadline,
        owner: s.owner,
        tasks: s.tasks,
        receipt_by: s.receipt_by,
        filed_on: s.filed_on,
        reference: s.reference,
        passed: s.passed,
        evidence: s.evidence,
        refused_on: s.refused_on,
        delivery: s.delivery,
        witness: s.witness,
        photo: None,
    };
    crate::hazards::take(&state, &auth, id, input).await?;
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    Ok(Json(customers::hazard(state.app(), &cap, id).await?.hazard.into()))
}
