//! The API twins of the pages' spreadsheet imports: the same multipart upload (`files`, CSV or
//! `.xlsx`, and the form's one field), the same use case, rules and audit; a refused file is 422
//! with every problem by file, line and column as the error's details, and nothing written.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::customers::RowProblem;
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorEnvelope};
use crate::i18n::Lang;
use crate::json::ApiPath;

/// A refused import as the API answers it.
pub fn refused(lang: Lang, problems: &[RowProblem]) -> AppError {
    let fields = problems
        .iter()
        .take(200)
        .map(|p| {
            gridsafe_app::FieldProblem::new("files", "import-problem")
                .with("text", crate::customers::row_problem(lang, p))
        })
        .collect();
    gridsafe_app::AppError::Invalid(fields).into()
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The upload of a unit's file: `unit_id` and one or more `files`.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct UnitUpload {
    pub unit_id: i64,
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// The upload of files alone.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct FilesUpload {
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedCount {
    pub imported: i64,
}

/// Imports a unit's fault ledger (故障库): all of it or nothing.
#[utoipa::path(post, path = "/api/v1/faults/import", tag = "faults", security(("bearer" = [])),
    request_body(content = UnitUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportedCount), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn faults(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = UnitId::new(unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default());
    let result = gridsafe_app::faults::import_faults(state.app(), &cap, &auth.meta, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(n) => Ok((StatusCode::CREATED, Json(ImportedCount { imported: count(n) })).into_response()),
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintsImported {
    pub imported: i64,
    /// 工单编号 already kept, left as they were.
    pub known: i64,
    /// Rows of other categories, left out.
    pub not_safety: i64,
}

/// Imports safety-related complaints (95598 工单) from the customer service export.
#[utoipa::path(post, path = "/api/v1/feedback/import", tag = "emergency", security(("bearer" = [])),
    request_body(content = FilesUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ComplaintsImported), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn complaints(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "note").await?;
    let result = gridsafe_app::emergency::import_complaints(state.app(), &cap, &auth.meta, &files).await;
    match auth.checked(&state, result).await? {
        Ok(d) => {
            let out = ComplaintsImported {
                imported: count(d.imported),
                known: count(d.known),
                not_safety: count(d.not_safety),
            };
            Ok((StatusCode::CREATED, Json(out)).into_response())
        }
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueImported {
    pub added: i64,
    pub updated: i64,
}

/// Imports the violation list (违章清单): new entries added, known ones updated.
#[utoipa::path(post, path = "/api/v1/violations/catalogue", tag = "supervision", security(("bearer" = [])),
    request_body(content = FilesUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = CatalogueImported), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn violation_list(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "note").await?;
    let result = gridsafe_app::supervision::import_catalogue(state.app(), &cap, &auth.meta, &files).await;
    match auth.checked(&state, result).await? {
        Ok((added, updated)) => {
            Ok((StatusCode::CREATED, Json(CatalogueImported { added: count(added), updated: count(updated) }))
                .into_response())
        }
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectsImported {
    pub registered: i64,
    /// Applications already registered, left as they were.
    pub known: i64,
}

/// Imports customer projects (业扩) from the marketing system's export.
#[utoipa::path(post, path = "/api/v1/projects/import", tag = "projects", security(("bearer" = [])),
    request_body(content = UnitUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ProjectsImported), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn projects(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsManage>(&state).await?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default();
    let result = gridsafe_app::projects::import_projects(state.app(), &cap, &auth.meta, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(d) => {
            Ok((StatusCode::CREATED, Json(ProjectsImported { registered: count(d.registered), known: count(d.known) }))
                .into_response())
        }
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}

/// The upload of a year's working-day calendar: `year` and the `files`.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct CalendarUpload {
    pub year: i32,
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarImported {
    pub year: i32,
    pub holidays: i64,
    pub workdays: i64,
}

/// Imports a year's holidays and working weekends (the State Council's notice), replacing that
/// year's calendar.
#[utoipa::path(post, path = "/api/v1/projects/calendar", tag = "projects", security(("bearer" = [])),
    request_body(content = CalendarUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = CalendarImported), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn calendar(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ProjectsConfigure>(&state).await?;
    let (files, year) = crate::people::upload_form(&mut multipart, "year").await?;
    let year: i32 = year.and_then(|y| y.trim().parse().ok()).unwrap_or_default();
    let result = gridsafe_app::projects::import_calendar(state.app(), &cap, &auth.meta, year, &files).await;
    match auth.checked(&state, result).await? {
        Ok(d) => {
            let out = CalendarImported { year: d.year, holidays: count(d.holidays), workdays: count(d.workdays) };
            Ok((StatusCode::CREATED, Json(out)).into_response())
        }
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}

/// The upload of a plan's items: the `files` and, for a published plan, the `reason` of the change.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct PlanUpload {
    pub reason: Option<String>,
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// Imports items into a work plan (作业计划), under the plan's rules.
#[utoipa::path(post, path = "/api/v1/plans/{id}/import", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Plan id")),
    request_body(content = PlanUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportedCount), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "Every problem by file, line and column", body = ErrorEnvelope)))]
pub async fn plan_items(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let (files, reason) = crate::people::upload_form(&mut multipart, "reason").await?;
    let reason = reason.unwrap_or_default();
    let result = gridsafe_app::plans::import_items(state.app(), &cap, &auth.meta, id, &files, &reason).await;
    match auth.checked(&state, result).await? {
        Ok(n) => Ok((StatusCode::CREATED, Json(ImportedCount { imported: count(n) })).into_response()),
        Err(problems) => Err(refused(ctx.lang, &problems)),
    }
}
