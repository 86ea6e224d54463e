//! The JSON API of the fault database.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::faults::{self, FaultInput, FaultView};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct FaultOut {
    pub id: i64,
    /// `GZK-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub system: String,
    pub module: String,
    /// Local time `YYYY-MM-DD HH:MM`.
    pub started_at: String,
    pub ended_at: Option<String>,
    pub minutes_to_restore: Option<i64>,
    pub customers_affected: i64,
    pub orders_affected: i64,
    /// The cause category's code (`hardware`, `software`, `network`, `data`, `human`, `external`…).
    pub cause: String,
    pub root_cause: String,
    pub countermeasure: String,
    pub accountable: Option<String>,
    pub assessment: Option<String>,
    /// The earlier fault's number when the same system failed for the same cause within the window.
    pub recurs: Option<String>,
    /// Numbers of the hazards tracking the countermeasure.
    pub hazards: Vec<String>,
}

impl From<FaultView> for FaultOut {
    fn from(v: FaultView) -> Self {
        let f = v.fault;
        Self {
            id: f.id,
            number: f.number,
            unit_id: f.unit_id.get(),
            unit_name: f.unit_name,
            system: f.system,
            module: f.module,
            started_at: f.started_at.local_display(),
            ended_at: f.ended_at.map(|e| e.local_display()),
            minutes_to_restore: v.minutes_to_restore,
            customers_affected: f.customers_affected,
            orders_affected: f.orders_affected,
            cause: f.cause,
            root_cause: f.root_cause,
            countermeasure: f.countermeasure,
            accountable: f.accountable_label,
            assessment: f.assessment,
            recurs: v.recurs.map(|r| r.1),
            hazards: v.hazards.into_iter().map(|h| h.1).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Text in the system, module or root cause.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// A cause category's code.
    #[param(max_length = 40)]
    pub cause: Option<String>,
}

/// Faults of the caller's units, the latest first, each with its recurrence.
#[utoipa::path(get, path = "/api/v1/faults", tag = "faults", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = [FaultOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<FaultOut>>, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let rows =
        faults::list_faults(state.app(), &cap, q.q.as_deref(), q.cause.as_deref().filter(|c| !c.is_empty())).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// One fault.
#[utoipa::path(get, path = "/api/v1/faults/{id}", tag = "faults", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Fault id")),
    responses((status = 200, body = FaultOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FaultOut>, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    Ok(Json(auth.checked(&state, faults::fault(state.app(), &cap, id).await).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(max_length = 100)]
    pub system: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub module: String,
    /// Local time `YYYY-MM-DD HH:MM`.
    #[schema(max_length = 16)]
    pub started_at: String,
    #[serde(default)]
    #[schema(max_length = 16)]
    pub ended_at: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000000)]
    pub customers_affected: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000000)]
    pub orders_affected: i64,
    #[schema(max_length = 40)]
    pub cause: String,
    #[schema(max_length = 2000)]
    pub root_cause: String,
    #[schema(max_length = 2000)]
    pub countermeasure: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub accountable: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub assessment: String,
    /// 工号 of the person who carries the countermeasure out, and by when (tracked as a hazard).
    #[serde(default)]
    #[schema(max_length = 60)]
    pub responsible: String,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub deadline: String,
}

/// Records a fault.
#[utoipa::path(post, path = "/api/v1/faults", tag = "faults", security(("bearer" = [])), request_body = FaultIn,
    responses((status = 201, body = FaultOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "A human-factors fault without its accountable person and assessment", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(f): ApiJson<FaultIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let input = FaultInput {
        unit_id: UnitId::new(f.unit_id),
        system: f.system,
        module: f.module,
        started_at: f.started_at,
        ended_at: f.ended_at,
        customers_affected: f.customers_affected.to_string(),
        orders_affected: f.orders_affected.to_string(),
        cause: f.cause,
        root_cause: f.root_cause,
        countermeasure: f.countermeasure,
        accountable: f.accountable,
        assessment: f.assessment,
        responsible: f.responsible,
        deadline: f.deadline,
    };
    let id = auth.checked(&state, faults::record_fault(state.app(), &cap, &auth.meta, input).await).await?;
    let view = faults::fault(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(FaultOut::from(view))).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceKindOut {
    /// `rounds`, `accounts`, `backend`, `release`…
    pub code: String,
    pub name: String,
    /// Months between checks; none for a check at each change or release.
    pub months: Option<u32>,
    /// The checklist: (position, text).
    pub items: Vec<ComplianceItemOut>,
    /// The last check of this kind in reach (for accounts, a permission review counts too).
    pub last: Option<String>,
    pub due: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceItemOut {
    pub position: i64,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceAnswerOut {
    pub position: i64,
    pub text: String,
    /// `pass`, `fail` or `not_applicable`.
    pub result: String,
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceCheckOut {
    pub id: i64,
    /// `HG-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub kind: String,
    /// `YYYY-MM-DD`
    pub checked_on: String,
    pub checker: String,
    pub note: String,
    pub answers: Vec<ComplianceAnswerOut>,
    /// Numbers of the hazards correcting the failed items (only when one check is asked for).
    pub hazards: Vec<String>,
}

fn check_out(c: gridsafe_store::faults::CheckRow, hazards: Vec<String>) -> ComplianceCheckOut {
    ComplianceCheckOut {
        id: c.id,
        number: c.number,
        unit_id: c.unit_id.get(),
        unit_name: c.unit_name,
        kind: c.kind,
        checked_on: c.checked_on.to_string(),
        checker: c.checker,
        note: c.note,
        answers: c
            .answers
            .into_iter()
            .map(|(position, text, result, note)| ComplianceAnswerOut { position, text, result, note })
            .collect(),
        hazards,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceOut {
    /// Each kind of check with its checklist and when the next is due.
    pub kinds: Vec<ComplianceKindOut>,
    /// The checks made in the caller's units, the latest first.
    pub checks: Vec<ComplianceCheckOut>,
}

/// The compliance checks of the marketing information systems: their schedule and those made.
#[utoipa::path(get, path = "/api/v1/compliance-checks", tag = "faults", security(("bearer" = [])),
    responses((status = 200, body = ComplianceOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn checks(State(state): State<AppState>, auth: Auth) -> Result<Json<ComplianceOut>, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let (due, made) = faults::checks(state.app(), &cap).await?;
    Ok(Json(ComplianceOut {
        kinds: due
            .into_iter()
            .map(|d| ComplianceKindOut {
                code: d.kind.code,
                name: d.kind.name,
                months: d.kind.months,
                items: d.kind.items.into_iter().map(|(position, text)| ComplianceItemOut { position, text }).collect(),
                last: d.last.map(|l| l.to_string()),
                due: d.due.map(|l| l.to_string()),
                overdue: d.overdue,
            })
            .collect(),
        checks: made.into_iter().map(|c| check_out(c, Vec::new())).collect(),
    }))
}

/// One compliance check with its answers and the hazards correcting its failed items.
#[utoipa::path(get, path = "/api/v1/compliance-checks/{id}", tag = "faults", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Check id")),
    responses((status = 200, body = ComplianceCheckOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn check(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ComplianceCheckOut>, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let (c, hazards) = auth.checked(&state, faults::check(state.app(), &cap, id).await).await?;
    Ok(Json(check_out(c, hazards.into_iter().map(|h| h.1).collect())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceAnswerIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub position: i64,
    /// `pass`, `fail` or `not_applicable`.
    #[schema(max_length = 20)]
    pub result: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceCheckIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// A kind's code (`rounds`, `accounts`, `backend`, `release`…).
    #[schema(max_length = 40)]
    pub kind: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(max_length = 10)]
    pub checked_on: String,
    #[schema(max_length = 100)]
    pub checker: String,
    /// Every item of the kind's checklist, answered.
    #[schema(max_items = 100)]
    pub answers: Vec<ComplianceAnswerIn>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// 工号 of who corrects the failed items, and by when (each failed item becomes a hazard).
    #[serde(default)]
    #[schema(max_length = 60)]
    pub responsible: String,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub deadline: String,
}

/// Records a compliance check; each failed item's correction is a hazard in the closed loop.
#[utoipa::path(post, path = "/api/v1/compliance-checks", tag = "faults", security(("bearer" = [])), request_body = ComplianceCheckIn,
    responses((status = 201, body = ComplianceCheckOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn record_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(f): ApiJson<ComplianceCheckIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let input = faults::CheckInput {
        unit_id: UnitId::new(f.unit_id),
        kind: f.kind,
        checked_on: f.checked_on,
        checker: f.checker,
        note: f.note,
        answers: f.answers.into_iter().take(100).map(|a| (a.position, a.result, a.note)).collect(),
        responsible: f.responsible,
        deadline: f.deadline,
    };
    let id = auth.checked(&state, faults::record_check(state.app(), &cap, &auth.meta, input).await).await?;
    let (c, hazards) = faults::check(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(check_out(c, hazards.into_iter().map(|h| h.1).collect()))).into_response())
}
