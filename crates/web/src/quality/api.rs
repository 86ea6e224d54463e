//! The JSON API of the quality indicators and the monthly supervision reports.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::quality::{self, ReportView};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath};

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityIndicatorOut {
    pub code: String,
    pub name: String,
    /// Arithmetic over the measures (`tickets_passed`, `field_orders`…).
    pub formula: String,
    pub unit_label: String,
    pub target: Option<f64>,
    /// `higher` or `lower`: which way is better.
    pub direction: String,
    pub origin: String,
}

/// The indicators, as defined now.
#[utoipa::path(get, path = "/api/v1/quality/indicators", tag = "quality", security(("bearer" = [])),
    responses((status = 200, body = [QualityIndicatorOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn indicators(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<QualityIndicatorOut>>, AppError> {
    auth.require::<perm::QualityView>(&state).await?;
    Ok(Json(
        quality::indicators(state.app())
            .await?
            .into_iter()
            .map(|i| QualityIndicatorOut {
                code: i.row.code,
                name: i.row.name,
                formula: i.row.formula,
                unit_label: i.row.unit_label,
                target: i.row.target,
                direction: i.row.direction,
                origin: i.row.origin,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityReportRowOut {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// `YYYY-MM`
    pub month: String,
    pub version: i64,
    /// `draft`, `issued` or `replaced`.
    pub state: String,
    /// SHA-256 of the frozen report, once issued.
    pub hash: Option<String>,
    /// Why this version was reissued.
    pub reason: Option<String>,
}

impl From<gridsafe_store::quality::ReportRow> for QualityReportRowOut {
    fn from(r: gridsafe_store::quality::ReportRow) -> Self {
        Self {
            id: r.id,
            unit_id: r.unit_id.get(),
            unit_name: r.unit_name,
            month: r.month,
            version: r.version,
            state: r.state,
            hash: r.hash,
            reason: r.reason,
        }
    }
}

/// Reports of the caller's units, newest month first.
#[utoipa::path(get, path = "/api/v1/quality/reports", tag = "quality", security(("bearer" = [])),
    responses((status = 200, body = [QualityReportRowOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<QualityReportRowOut>>, AppError> {
    let cap = auth.require::<perm::QualityView>(&state).await?;
    Ok(Json(quality::reports(state.app(), &cap).await?.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityLineOut {
    pub code: String,
    pub name: String,
    pub unit_label: String,
    pub target: Option<f64>,
    pub direction: String,
    pub value: Option<f64>,
    pub last_month: Option<f64>,
    pub last_year: Option<f64>,
    /// Whether the value meets the target (none without either).
    pub met: Option<bool>,
    /// The last 13 months, oldest first.
    pub trend: Vec<Option<f64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityRankOut {
    pub unit_id: i64,
    pub unit_name: String,
    pub met: usize,
    pub missed: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityReportOut {
    #[serde(flatten)]
    pub row: QualityReportRowOut,
    /// Whether the frozen snapshot still hashes to the hash the audit trail recorded (issued ones).
    pub intact: Option<bool>,
    pub months: Vec<String>,
    pub lines: Vec<QualityLineOut>,
    pub ranking: Vec<QualityRankOut>,
    /// The safety auditor's text per section (`overview`, `trends`, `ranking`, `problems`, `faults`).
    pub texts: std::collections::BTreeMap<String, String>,
    pub findings: usize,
    pub overdue_hazards: usize,
    pub faults: usize,
}

fn report_out(v: ReportView) -> QualityReportOut {
    let intact = v.verification.map(|c| c.intact());
    let r = v.report;
    QualityReportOut {
        row: v.row.into(),
        intact,
        months: r.months,
        lines: r
            .lines
            .into_iter()
            .map(|l| QualityLineOut {
                code: l.code,
                name: l.name,
                unit_label: l.unit_label,
                target: l.target,
                direction: l.direction.code().to_owned(),
                value: l.figure.value,
                last_month: l.figure.last_month,
                last_year: l.figure.last_year,
                met: l.figure.met,
                trend: l.trend,
            })
            .collect(),
        ranking: r
            .ranking
            .into_iter()
            .map(|u| QualityRankOut { unit_id: u.unit_id, unit_name: u.unit_name, met: u.met, missed: u.missed })
            .collect(),
        texts: r.texts,
        findings: r.findings.len(),
        overdue_hazards: r.overdue.len(),
        faults: r.faults.len(),
    }
}

/// One report: the frozen figures once issued, the live ones while a draft.
#[utoipa::path(get, path = "/api/v1/quality/reports/{id}", tag = "quality", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = QualityReportOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<QualityReportOut>, AppError> {
    let cap = auth.require::<perm::QualityView>(&state).await?;
    let v = auth.checked(&state, quality::report(state.app(), &cap, id).await).await?;
    Ok(Json(report_out(v)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityReportIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// `YYYY-MM`, not after this month.
    #[schema(max_length = 7)]
    pub month: String,
}

/// Starts a unit's report for a month (the existing one when there is one).
#[utoipa::path(post, path = "/api/v1/quality/reports", tag = "quality", security(("bearer" = [])), request_body = QualityReportIn,
    responses((status = 201, body = QualityReportRowOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(f): ApiJson<QualityReportIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let result = quality::create(state.app(), &cap, &auth.meta, UnitId::new(f.unit_id), &f.month).await;
    let id = auth.checked(&state, result).await?;
    let v = quality::report(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(QualityReportRowOut::from(v.row))).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualityIssuedOut {
    /// SHA-256 of the frozen report, as written to the audit trail.
    pub hash: String,
}

/// Issues a draft: the report is frozen and its hash written to the audit trail.
#[utoipa::path(post, path = "/api/v1/quality/reports/{id}/issue", tag = "quality", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = QualityIssuedOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "Already issued or changed meanwhile", body = ErrorEnvelope),
        (status = 422, description = "The month is not over", body = ErrorEnvelope)))]
pub async fn issue(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<QualityIssuedOut>, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let hash = auth.checked(&state, quality::issue(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(Json(QualityIssuedOut { hash }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityTextsIn {
    /// The safety auditor's text per section (`overview`, `trends`, `ranking`, `problems`,
    /// `faults`), each at most 2,000 characters; a section left out is empty.
    pub texts: std::collections::BTreeMap<String, String>,
}

/// Saves a draft's texts.
#[utoipa::path(post, path = "/api/v1/quality/reports/{id}/texts", tag = "quality", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")), request_body = QualityTextsIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "Already issued", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn texts(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(f): ApiJson<QualityTextsIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    auth.checked(&state, quality::save_texts(state.app(), &cap, &auth.meta, id, &f.texts).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityReissueIn {
    /// Why the issued report is reissued (required).
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Opens the next version of an issued report, with the reason; the issued one stays in force
/// until the new one is issued.
#[utoipa::path(post, path = "/api/v1/quality/reports/{id}/reissue", tag = "quality", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")), request_body = QualityReissueIn,
    responses((status = 201, body = QualityReportRowOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "Not the issued version", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn reissue(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(f): ApiJson<QualityReissueIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let new = auth.checked(&state, quality::reissue(state.app(), &cap, &auth.meta, id, &f.reason).await).await?;
    let v = quality::report(state.app(), &cap, new).await?;
    Ok((StatusCode::CREATED, Json(QualityReportRowOut::from(v.row))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityIndicatorIn {
    /// Arithmetic (`+ - * /`, numbers, parentheses) over the measures.
    #[schema(max_length = 300)]
    pub formula: String,
    /// Empty or absent: no target.
    #[serde(default)]
    pub target: Option<f64>,
    /// `higher` or `lower`.
    #[schema(max_length = 10)]
    pub direction: String,
}

/// Changes an indicator's formula, target and direction.
#[utoipa::path(put, path = "/api/v1/quality/indicators/{code}", tag = "quality", security(("bearer" = [])),
    params(("code" = String, Path, description = "Indicator code")), request_body = QualityIndicatorIn,
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, description = "The formula, with where it is wrong", body = ErrorEnvelope)))]
pub async fn set_indicator(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(f): ApiJson<QualityIndicatorIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let target = f.target.map(|t| t.to_string()).unwrap_or_default();
    let result = quality::set_indicator(state.app(), &cap, &auth.meta, &code, &f.formula, &target, &f.direction).await;
    auth.checked(&state, result).await?;
    Ok(StatusCode::NO_CONTENT)
}
