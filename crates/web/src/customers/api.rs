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
use crate::api::paging::{self, Page};
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
    /// Customers a page holds at most (the default and the most: 20000).
    #[param(minimum = 1, maximum = 20000)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor in the `Link` header of the page before.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    pub after: Option<String>,
}

/// Customers a page of the API holds at most.
const MAX_PAGE: u32 = 20_000;

/// Customers in the caller's units, with their cycle and due day, a page at a time.
///
/// By 户号; when more follow, the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), params(CustomersQuery),
    responses((status = 200, body = Vec<CustomerOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more customers follow"))),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CustomersQuery>,
) -> Result<Page<CustomerOut>, AppError> {
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
    let limit = paging::limit(q.limit, MAX_PAGE)?;
    // The cursor: the 户号 of the last customer shown.
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(paging::read_text_cursor::<1>(text).ok_or_else(paging::bad_cursor)?),
    };
    let query = paging::kept(&[("q", q.q.as_deref()), ("unit_id", q.unit_id.as_deref()), ("due", q.due.as_deref())]);
    let filter = CustomerFilter { text: q.q, unit_id: unit_id.map(UnitId::new), importance: None, due };
    let after = after.as_ref().map(|[account_no]| account_no.as_str());
    let (rows, _) = customers::customers_page(state.app(), &cap, &filter, after, limit + 1).await?;
    let page = Page::of(rows, limit, "/api/v1/customers", &query, |c| paging::text_cursor(&[&c.record.account_no]));
    Ok(Page { rows: page.rows.into_iter().map(CustomerOut::from).collect(), next: page.next })
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
    /// Hazards a page holds at most (the default and the most: 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor in the `Link` header of the page before.
    #[param(pattern = "^[01]~-?[0-9]{1,7}~[0-9]{1,18}$")]
    pub after: Option<String>,
}

/// Hazards a page of the API holds at most.
const MAX_HAZARDS_PAGE: u32 = 5000;

/// A hazard's place in the ledger's order as a cursor: closed (0 or 1), the day it is due (days
/// from 1 January of year 1) and its id, joined by `~`.
fn hazard_cursor(h: &customers::HazardRow) -> String {
    use chrono::Datelike;
    let (closed, due, id) = h.key();
    format!("{}~{}~{id}", u8::from(closed), due.num_days_from_ce())
}

/// The place a cursor names; `None` for a string not of its form. Every string of the
/// documented pattern reads (seven digits of days stay within the calendar).
fn read_hazard_cursor(text: &str) -> Option<customers::HazardKey> {
    let mut parts = text.split('~');
    let closed = match parts.next()? {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    let days = parts.next()?;
    let digits = days.strip_prefix('-').unwrap_or(days);
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let days = days.parse::<i32>().ok()?;
    let id = parts.next().filter(|i| i.len() <= 18 && i.bytes().all(|b| b.is_ascii_digit()))?.parse::<i64>().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((closed, chrono::NaiveDate::from_num_days_from_ce_opt(days)?, id))
}

/// Hazards in the caller's units, open ones first by deadline, a page at a time.
///
/// When more follow, the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/hazards", tag = "customers", security(("bearer" = [])), params(HazardsQuery),
    responses((status = 200, body = Vec<HazardRecordOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more hazards follow"))),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn hazards(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HazardsQuery>,
) -> Result<Page<HazardRecordOut>, AppError> {
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
    let limit = paging::limit(q.limit, MAX_HAZARDS_PAGE)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(read_hazard_cursor(text).ok_or_else(paging::bad_cursor)?),
    };
    let overdue = q.overdue.map(|o| o.to_string());
    let query = paging::kept(&[
        ("state", state_filter.as_deref()),
        ("responsibility", responsibility.as_deref()),
        ("overdue", overdue.as_deref()),
    ]);
    let filter = HazardFilter {
        state: state_filter,
        responsibility,
        overdue: q.overdue.unwrap_or(false),
        ..HazardFilter::default()
    };
    let (rows, _) = customers::hazards_page(state.app(), &cap, &filter, after, limit as usize + 1).await?;
    let page = Page::of(rows, limit, "/api/v1/hazards", &query, hazard_cursor);
    Ok(Page { rows: page.rows.into_iter().map(HazardRecordOut::from).collect(), next: page.next })
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

/// A customer as the register's form has it: the values as the register writes them (电压等级
/// `10kV` or `0.4`, 重要等级 `一级` or `first`, dates `YYYY-MM-DD`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    /// The supply unit (供电单位).
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// 户号
    #[schema(max_length = 40)]
    pub account_no: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub address: String,
    #[schema(max_length = 20)]
    pub voltage_kv: String,
    #[schema(max_length = 60)]
    pub industry: String,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub importance: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub importance_document: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub importance_date: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub supply_sources: Option<String>,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub supply_kind: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub emergency_power: Option<String>,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub emergency_kind: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub emergency_capacity_kw: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub emergency_last_test: Option<String>,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub electrician_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub electrician_phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub preventive_test_due: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub registered_on: Option<String>,
}

impl CustomerIn {
    /// The fields as the register's form sends them, to the same use case.
    fn fields(self) -> std::collections::HashMap<String, String> {
        let optional = [
            ("importance", self.importance),
            ("importance_document", self.importance_document),
            ("importance_date", self.importance_date),
            ("supply_sources", self.supply_sources),
            ("supply_kind", self.supply_kind),
            ("emergency_power", self.emergency_power),
            ("emergency_kind", self.emergency_kind),
            ("emergency_capacity_kw", self.emergency_capacity_kw),
            ("emergency_last_test", self.emergency_last_test),
            ("electrician_name", self.electrician_name),
            ("electrician_phone", self.electrician_phone),
            ("preventive_test_due", self.preventive_test_due),
            ("registered_on", self.registered_on),
        ];
        let mut fields: std::collections::HashMap<String, String> = [
            ("unit_id", self.unit_id.to_string()),
            ("account_no", self.account_no),
            ("name", self.name),
            ("address", self.address),
            ("voltage_kv", self.voltage_kv),
            ("industry", self.industry),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        fields.extend(optional.into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))));
        fields
    }
}

/// Registers a customer (客户档案), under the same rules as the register's form and import.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), request_body = CustomerIn,
    responses((status = 201, body = CustomerOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "The 户号 is already registered", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(c): ApiJson<CustomerIn>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let result = customers::save_customer(state.app(), &cap, &auth.meta, None, &c.fields()).await;
    let id = auth.checked(&state, result).await?;
    let out: CustomerOut = customers::customer(state.app(), &cap, id).await?.into();
    Ok((axum::http::StatusCode::CREATED, Json(out)).into_response())
}

/// Changes a customer's record; every field is given again, as the form sends it.
#[utoipa::path(put, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")), request_body = CustomerIn,
    responses((status = 200, body = CustomerOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CustomerIn>,
) -> Result<Json<CustomerOut>, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let result = customers::save_customer(state.app(), &cap, &auth.meta, Some(id), &c.fields()).await;
    let id = auth.checked(&state, result).await?;
    Ok(Json(customers::customer(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardRegisterIn {
    /// The customer whose installation has the hazard (its unit is the hazard's).
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The inspection that found it.
    #[serde(default)]
    pub inspection_id: Option<i64>,
    /// The unit of an ad hoc grid-side hazard with no customer.
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[schema(max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// A grade code of the hazard grades table (`major`, `serious`, `general`…).
    #[schema(max_length = 40)]
    pub grade: String,
    /// `customer` or `grid`.
    #[schema(max_length = 10)]
    pub responsibility: String,
}

/// Registers a hazard (隐患登记): of a customer, of an inspection, or an ad hoc grid-side one of a
/// unit. Its deadline and steps then follow as on the page.
#[utoipa::path(post, path = "/api/v1/hazards", tag = "customers", security(("bearer" = [])), request_body = HazardRegisterIn,
    responses((status = 201, body = HazardRecordOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(h): ApiJson<HazardRegisterIn>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let input = customers::HazardInput {
        customer_id: h.customer_id,
        inspection_id: h.inspection_id,
        unit_id: h.unit_id.map(UnitId::new),
        title: h.title,
        description: h.description,
        grade: h.grade,
        responsibility: h.responsibility,
    };
    let id = auth.checked(&state, customers::register_hazard(state.app(), &cap, &auth.meta, input).await).await?;
    let out: HazardRecordOut = customers::hazard(state.app(), &cap, id).await?.hazard.into();
    Ok((axum::http::StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionIn {
    /// The later deadline asked for, `YYYY-MM-DD`.
    #[schema(max_length = 10)]
    pub to: String,
    /// Why (设备到货, 停电窗口 …).
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Asks for a later rectification deadline; nothing changes until a manager decides.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/extension", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")), request_body = ExtensionIn,
    responses((status = 204, description = "Asked"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn request_extension(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<ExtensionIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let app = state.app();
    let p = &auth.user.principal;
    // As on the page: the inspector for any hazard, the safety auditor for a finding's.
    if p.authorize::<perm::InspectionsRecord>().is_err()
        && let Ok(cap) = p.authorize::<perm::FindingsReview>()
    {
        auth.checked(&state, customers::request_extension(app, &cap, &auth.meta, id, &e.to, &e.reason).await).await?;
    } else {
        let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
        auth.checked(&state, customers::request_extension(app, &cap, &auth.meta, id, &e.to, &e.reason).await).await?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionIn {
    pub approve: bool,
}

/// Approves or refuses a requested deadline (the unit's manager; never one's own request).
#[utoipa::path(post, path = "/api/v1/hazards/{id}/extension/decision", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")), request_body = ExtensionDecisionIn,
    responses((status = 204, description = "Decided"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn decide_extension(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<ExtensionDecisionIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::HazardsApprove>(&state).await?;
    auth.checked(&state, customers::decide_extension(state.app(), &cap, &auth.meta, id, d.approve).await).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnsealIn {
    /// The day, `YYYY-MM-DD`.
    #[schema(max_length = 10)]
    pub on: String,
    #[schema(max_length = 500)]
    pub reason: String,
    /// Who saw the seal removed.
    #[schema(max_length = 60)]
    pub witness: String,
}

/// Removes a seal (启封) once its hazard allows, with the reason and a witness.
#[utoipa::path(post, path = "/api/v1/seals/{id}/unseal", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Seal id")), request_body = UnsealIn,
    responses((status = 204, description = "Unsealed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn unseal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<UnsealIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let input = customers::UnsealInput { on: u.on, reason: u.reason, witness: u.witness };
    auth.checked(&state, customers::unseal(state.app(), &cap, &auth.meta, id, &input).await).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleIn {
    /// The rule of the cycle table.
    #[schema(max_length = 40)]
    pub code: String,
    /// Months between inspections; none for "on demand".
    #[serde(default)]
    #[schema(minimum = 1, maximum = 120)]
    pub months: Option<u32>,
}

/// Sets a rule of the inspection cycle table (周期检查): the months between inspections.
#[utoipa::path(put, path = "/api/v1/inspections/settings/cycles", tag = "customers", security(("bearer" = [])), request_body = CycleIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn set_cycle(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(c): ApiJson<CycleIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    auth.checked(&state, customers::set_cycle(state.app(), &cap, &auth.meta, &c.code, c.months).await).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistIn {
    /// The checklist's section.
    #[schema(max_length = 40)]
    pub section: String,
    /// Its items, one a line, in order.
    #[schema(max_length = 20000)]
    pub lines: String,
}

/// Replaces a section of the inspection checklist template (inspections already made keep theirs).
#[utoipa::path(put, path = "/api/v1/inspections/settings/checklist", tag = "customers", security(("bearer" = [])), request_body = ChecklistIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn set_checklist(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(c): ApiJson<ChecklistIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    auth.checked(&state, customers::set_checklist(state.app(), &cap, &auth.meta, &c.section, &c.lines).await).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeIn {
    /// The hazard grade's code.
    #[schema(max_length = 40)]
    pub code: String,
    /// Days to rectify a hazard of the grade.
    #[schema(minimum = 1, maximum = 730)]
    pub deadline_days: i64,
    /// Whether a grid-side hazard of the grade is filed with the power authority first.
    pub files: bool,
}

/// Sets a hazard grade's rectification days and filing.
#[utoipa::path(put, path = "/api/v1/inspections/settings/grades", tag = "customers", security(("bearer" = [])), request_body = GradeIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn set_grade(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(g): ApiJson<GradeIn>,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    let result = customers::set_grade(state.app(), &cap, &auth.meta, &g.code, g.deadline_days, g.files).await;
    auth.checked(&state, result).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterPreviewOut {
    /// Confirm with `POST /api/v1/customers/import/{token}`: the files are checked again then.
    pub token: String,
    /// Customers the register adds.
    pub created: i64,
    /// Customers already registered whose record it updates.
    pub updated: i64,
    /// The first 200 lines: 户号, 户名, whether new.
    pub rows: Vec<RegisterPreviewRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterPreviewRow {
    pub account_no: String,
    pub name: String,
    pub new: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterImportOut {
    pub created: i64,
    pub updated: i64,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Checks a customer register (客户档案, CSV or `.xlsx`) and keeps it for confirmation: what it
/// adds and updates, or every problem by file, line and column.
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "customers", security(("bearer" = [])),
    request_body(content = crate::api::imports::FilesUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = RegisterPreviewOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn import(
    State(state): State<AppState>,
    ctx: crate::context::PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Json<RegisterPreviewOut>, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "none").await?;
    let checked = match auth.checked(&state, customers::check_register(state.app(), &cap, &files).await).await? {
        Ok(checked) => checked,
        Err(problems) => return Err(crate::api::imports::refused(ctx.lang, &problems)),
    };
    let token = gridsafe_app::people::store_upload(state.app(), cap.actor(), &auth.meta, &files).await?;
    let rows = checked
        .rows()
        .take(200)
        .map(|(no, name, new)| RegisterPreviewRow { account_no: no.to_owned(), name: name.to_owned(), new })
        .collect();
    let counts = checked.counts();
    Ok(Json(RegisterPreviewOut { token, created: count(counts.created), updated: count(counts.updated), rows }))
}

/// Imports the register checked under `token`, checked again against the register as it is now.
#[utoipa::path(post, path = "/api/v1/customers/import/{token}", tag = "customers", security(("bearer" = [])),
    params(("token" = String, Path, description = "The preview's token")),
    responses((status = 200, body = RegisterImportOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, description = "No such upload of the caller's", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn confirm_import(
    State(state): State<AppState>,
    ctx: crate::context::PageContext,
    auth: Auth,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<RegisterImportOut>, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let app = state.app();
    let files = auth.checked(&state, gridsafe_app::people::load_upload(app, auth.user.id, &token).await).await?;
    let checked = match auth.checked(&state, customers::check_register(app, &cap, &files).await).await? {
        Ok(checked) => checked,
        Err(problems) => return Err(crate::api::imports::refused(ctx.lang, &problems)),
    };
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let result = customers::apply_register(app, &cap, &auth.meta, &names, checked).await?;
    gridsafe_app::people::forget_upload(app, &token).await?;
    Ok(Json(RegisterImportOut { created: count(result.created), updated: count(result.updated) }))
}

/// One photo (`photo`: JPEG, PNG or PDF within the upload limit).
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct PhotoUpload {
    #[schema(value_type = String, format = Binary)]
    pub photo: Vec<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentCreated {
    /// The attachment's id (`GET /attachments/{id}` shows it).
    pub id: i64,
}

async fn photo(
    state: &AppState,
    auth: &Auth,
    owner: &'static str,
    id: i64,
    mut multipart: axum::extract::Multipart,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let cap = auth.require::<perm::InspectionsRecord>(state).await?;
    let (_, file) = crate::customers::file_form(&mut multipart, "photo").await?;
    let (name, bytes) = file.unwrap_or_default();
    let result = customers::attach_photo(state.app(), &cap, &auth.meta, owner, id, &name, &bytes).await;
    let id = auth.checked(state, result).await?;
    Ok((axum::http::StatusCode::CREATED, Json(AttachmentCreated { id })).into_response())
}

/// Adds a photo to a hazard (its state before and after rectification).
#[utoipa::path(post, path = "/api/v1/hazards/{id}/photos", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")), request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn hazard_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::json::ApiMultipart(multipart): crate::json::ApiMultipart,
) -> Result<axum::response::Response, AppError> {
    photo(&state, &auth, "hazard", id, multipart).await
}

/// Adds a photo to an inspection.
#[utoipa::path(post, path = "/api/v1/inspections/{id}/photos", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Inspection id")), request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn inspection_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::json::ApiMultipart(multipart): crate::json::ApiMultipart,
) -> Result<axum::response::Response, AppError> {
    photo(&state, &auth, "inspection", id, multipart).await
}

/// The customer's signature on the inspection notice: who signed, when, and the signed copy.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct SignedNoticeUpload {
    pub signed_by: String,
    /// `YYYY-MM-DD`
    pub signed_on: String,
    /// `1`: the caller confirms the customer signed the notice.
    pub confirm: String,
    #[schema(value_type = Option<String>, format = Binary)]
    pub copy: Option<Vec<u8>>,
}

/// Records the customer's signature on the inspection notice (用电检查结果通知书), with its copy.
#[utoipa::path(post, path = "/api/v1/inspections/{id}/signed", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Inspection id")), request_body(content = SignedNoticeUpload, content_type = "multipart/form-data"),
    responses((status = 204, description = "Recorded"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn notice_signed(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<axum::http::StatusCode, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "copy").await?;
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if get("confirm") != "1" {
        auth.checked(&state, customers::inspection(state.app(), &cap, id).await).await?;
        crate::form::confirmed(&get("confirm"))?;
    }
    let copy = file.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    let result =
        customers::sign_notice(state.app(), &cap, &auth.meta, id, &get("signed_by"), &get("signed_on"), copy).await;
    auth.checked(&state, result).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The refusal of a hazard notice: the day, how it was delivered, the witness, and a photo.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct RefusalUpload {
    /// `YYYY-MM-DD`
    pub refused_on: String,
    pub delivery: String,
    pub witness: String,
    #[schema(value_type = Option<String>, format = Binary)]
    pub photo: Option<Vec<u8>>,
}

/// Records that the customer refused to sign the hazard notice (拒签), delivered before a witness.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/refusal", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")), request_body(content = RefusalUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = HazardRecordOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn refusal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Json<HazardRecordOut>, AppError> {
    let (fields, file) = crate::customers::file_form(&mut multipart, "photo").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = StepInput {
        refused_on: field("refused_on"),
        delivery: field("delivery"),
        witness: field("witness"),
        photo: file.filter(|(_, bytes)| !bytes.is_empty()),
        ..StepInput::of(HazardStepKind::RefuseReceipt)
    };
    crate::hazards::take(&state, &auth, id, input).await?;
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    Ok(Json(customers::hazard(state.app(), &cap, id).await?.hazard.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealIn {
    /// The equipment sealed (封停设备).
    #[schema(max_length = 200)]
    pub equipment: String,
    #[schema(max_length = 60)]
    pub seal_number: String,
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub sealed_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealCreated {
    pub id: i64,
}

/// Seals equipment for a hazard (封停): it stays sealed until the hazard allows unsealing.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/seals", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Hazard id")), request_body = SealIn,
    responses((status = 201, body = SealCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn seal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<SealIn>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let result = customers::seal(state.app(), &cap, &auth.meta, id, &s.equipment, &s.seal_number, &s.sealed_on).await;
    let seal = auth.checked(&state, result).await?;
    Ok((axum::http::StatusCode::CREATED, Json(SealCreated { id: seal })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistAnswer {
    /// The checklist item's id (the template as `GET /inspections/settings` shows it).
    pub item: i64,
    /// `pass`, `fail` or `na`.
    #[schema(max_length = 10)]
    pub outcome: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    #[schema(max_length = 40)]
    pub name: String,
    /// 生技, 检修, 运行 …
    #[schema(max_length = 40)]
    pub department: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionIn {
    /// `YYYY-MM-DD`
    #[schema(max_length = 10)]
    pub inspected_on: String,
    /// `periodic`, `emergency_power`, `special` or `campaign`.
    #[schema(max_length = 20)]
    pub kind: String,
    /// The inspectors by person id: at least two, qualified for the customer's voltage.
    #[schema(max_items = 20)]
    pub inspectors: Vec<i64>,
    /// Staff who joined the inspection (联合检查), not counted as inspectors.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub participants: Vec<Participant>,
    /// Every checklist item answered.
    #[schema(max_items = 500)]
    pub answers: Vec<ChecklistAnswer>,
    #[schema(max_length = 2000)]
    pub conclusion: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionCreated {
    pub id: i64,
}

/// Records an inspection of a customer with its checklist answers (用电检查), under the same
/// rules as the page (two qualified inspectors, every item answered); a failed item becomes a
/// hazard to register.
#[utoipa::path(post, path = "/api/v1/customers/{id}/inspections", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")), request_body = InspectionIn,
    responses((status = 201, body = InspectionCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "A rule refused it, named", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn record_inspection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<InspectionIn>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let input = customers::InspectionInput {
        customer_id: id,
        inspected_on: i.inspected_on,
        kind: i.kind,
        inspectors: i.inspectors.into_iter().take(20).map(gridsafe_domain::ids::PersonId::new).collect(),
        participants: i.participants.into_iter().take(20).map(|p| (p.name, p.department)).collect(),
        results: i.answers.into_iter().take(500).map(|a| (a.item, (a.outcome, a.note))).collect(),
        conclusion: i.conclusion,
    };
    let new = auth.checked(&state, customers::record_inspection(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((axum::http::StatusCode::CREATED, Json(InspectionCreated { id: new })).into_response())
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// Every string of the documented pattern is a hazard cursor (schema-valid input is
        /// accepted), and a place reads back as written.
        #[test]
        fn every_hazard_cursor_of_the_pattern_reads(closed in 0u8..2, days in -9_999_999i32..=9_999_999, id in 0i64..=999_999_999_999_999_999) {
            let text = format!("{closed}~{days}~{id}");
            let (c, due, i) = super::read_hazard_cursor(&text).expect("a cursor");
            use chrono::Datelike;
            proptest::prop_assert_eq!((u8::from(c), due.num_days_from_ce(), i), (closed, days, id));
        }
    }

    #[test]
    fn anything_else_is_no_hazard_cursor() {
        for bad in [
            "",
            "0",
            "0~1",
            "2~1~1",
            "0~~1",
            "0~1~",
            "0~+1~1",
            "0~12345678~1",
            "0~1~1234567890123456789",
            "0~1~1~1",
            "0~1~-1",
        ] {
            assert!(super::read_hazard_cursor(bad).is_none(), "{bad}");
        }
    }
}
