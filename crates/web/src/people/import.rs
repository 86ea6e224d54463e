//! Import of people, qualifications, contractors and agreements: upload, preview, confirm.

use crate::form::Form;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use gridsafe_app::people::{self, Counts, ImportOptions};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use gridsafe_sheet::InputError;
use serde::Deserialize;

use super::manage_reach;
use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorCode, ErrorInfo, upload_error};
use crate::i18n::{Arg, Lang};
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/people/import", form_page)
        .post("/people/import", upload)
        .post("/people/import/{token}", confirm)
}

#[derive(Template)]
#[template(path = "people/import.html")]
struct FormPage {
    chrome: Chrome,
    units: Vec<crate::admin::UnitOption>,
}

/// Only staff who manage people import registers.
async fn importer(
    state: &AppState,
    auth: &Auth,
) -> Result<gridsafe_domain::access::Capability<perm::PeopleManage>, AppError> {
    auth.require::<perm::PeopleManage>(state).await
}

async fn form_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = importer(&state, &auth).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&FormPage { chrome: Chrome::for_user(ctx, &auth.user), units }))
}

/// One problem of a file, in words.
pub fn problem_line(lang: Lang, e: &InputError) -> String {
    let mut place = e.file.clone();
    if let Some(line) = e.line {
        place.push_str(&lang.t_args("input-at-line", &[("line", Arg::Number(i64::try_from(line).unwrap_or(0)))]));
    }
    if let Some(column) = &e.column {
        place.push_str(&lang.t_args("input-at-column", &[("column", Arg::from(column.as_str()))]));
    }
    let first_line = match e.problem {
        gridsafe_sheet::Problem::Duplicate { first_line } => i64::try_from(first_line).unwrap_or(0),
        _ => 0,
    };
    let what = lang.t_args(
        e.problem.message_key(),
        &[("value", Arg::from(e.value.clone().unwrap_or_default())), ("first", Arg::Number(first_line))],
    );
    format!("{place}：{what}")
}

#[derive(Template)]
#[template(path = "people/preview.html")]
struct PreviewPage {
    chrome: Chrome,
    token: String,
    counts: Counts,
    problems: Vec<String>,
    more_problems: usize,
    bad_rows: usize,
    rows: usize,
    contractor_unit: UnitId,
    applied: bool,
}

async fn preview(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    token: String,
    contractor_unit: UnitId,
    applied: Option<Counts>,
) -> Result<Response, AppError> {
    let cap = importer(state, auth).await?;
    let reach = gridsafe_app::people::Reach::units(&cap);
    let contractors_cap = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
    let files = auth.checked(state, people::load_upload(state.app(), auth.user.id, &token).await).await?;
    let plan = people::plan_import(state.app(), &reach, contractors_cap.as_ref(), people::read_upload(&files)).await?;
    let lang = ctx.lang;
    let problems: Vec<String> = plan.errors.iter().take(200).map(|e| problem_line(lang, e)).collect();
    Ok(render(&PreviewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        token,
        more_problems: plan.errors.len().saturating_sub(200),
        problems,
        bad_rows: plan.bad_rows,
        rows: plan.rows(),
        applied: applied.is_some(),
        counts: applied.unwrap_or(plan.counts),
        contractor_unit,
    }))
}

/// Receives the files and shows what importing them would change.
async fn upload(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    importer(&state, &auth).await?;
    let (files, unit) = upload_form(&mut multipart, "contractor_unit").await?;
    let contractor_unit = unit.and_then(|u| u.trim().parse().ok()).unwrap_or(auth.user.unit_id);
    let token = people::store_upload(state.app(), auth.user.principal.actor(), &auth.meta, &files).await?;
    preview(&state, ctx, &auth, token, contractor_unit, None).await
}

/// The files of an upload form (`files`, CSV or workbooks) and the value of one other field.
pub async fn upload_form(
    multipart: &mut Multipart,
    field_name: &str,
) -> Result<(Vec<(String, Vec<u8>)>, Option<String>), AppError> {
    fn bad_upload() -> AppError {
        AppError::Client(ErrorInfo::new(ErrorCode::InvalidRequest).detail("import-bad-upload", Vec::new()))
    }
    let mut files = Vec::new();
    let mut value = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| upload_error(&e, bad_upload))? {
        match field.name() {
            Some("files") => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field.bytes().await.map_err(|e| upload_error(&e, bad_upload))?;
                if name.is_empty() || bytes.is_empty() {
                    continue;
                }
                let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
                if !matches!(ext.as_str(), "csv" | "xlsx") {
                    return Err(AppError::Client(
                        ErrorInfo::new(ErrorCode::UnsupportedMediaType)
                            .detail("import-bad-type", vec![("name", Arg::from(name))]),
                    ));
                }
                files.push((name, bytes.to_vec()));
            }
            Some(name) if name == field_name => {
                value = Some(field.text().await.map_err(|e| upload_error(&e, bad_upload))?)
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(bad_upload());
    }
    Ok((files, value))
}

#[derive(Debug, Deserialize)]
struct ConfirmForm {
    contractor_unit: UnitId,
    #[serde(default)]
    skip_invalid: Option<String>,
}

/// Imports the previewed files: all or nothing, or the good rows when asked.
async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(token): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let reach = manage_reach(&state, &auth).await?;
    let cap = importer(&state, &auth).await?;
    let contractors_cap = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
    let files = auth.checked(&state, people::load_upload(state.app(), auth.user.id, &token).await).await?;
    let plan = people::plan_import(
        state.app(),
        &gridsafe_app::people::Reach::units(&cap),
        contractors_cap.as_ref(),
        people::read_upload(&files),
    )
    .await?;
    let options = ImportOptions { skip_invalid: form.skip_invalid.is_some(), contractor_unit: form.contractor_unit };
    let report =
        auth.checked(&state, people::apply_import(state.app(), &reach, &auth.meta, plan, options).await).await?;
    let page = preview(&state, ctx, &auth, token.clone(), form.contractor_unit, Some(report.counts)).await;
    people::forget_upload(state.app(), &token).await?;
    page
}

/// The API twins of the people register's import: upload and preview, then confirm.
pub mod api {
    use axum::Json;
    use axum::extract::State;
    use gridsafe_app::people::{self, Counts, ImportOptions};
    use gridsafe_domain::access::perm;
    use gridsafe_domain::ids::UnitId;
    use serde::{Deserialize, Serialize};
    use utoipa::ToSchema;

    use super::{importer, problem_line, upload_form};
    use crate::AppState;
    use crate::auth::Auth;
    use crate::context::PageContext;
    use crate::error::{AppError, ErrorEnvelope};
    use crate::json::{ApiJson, ApiPath};
    use crate::people::manage_reach;

    /// New and updated records of one kind.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct NewUpdated {
        pub new: i64,
        pub updated: i64,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct PeopleCounts {
        pub persons: NewUpdated,
        pub qualifications: NewUpdated,
        pub contractors: NewUpdated,
        pub agreements: NewUpdated,
    }

    fn pair((new, updated): (usize, usize)) -> NewUpdated {
        NewUpdated { new: i64::try_from(new).unwrap_or(i64::MAX), updated: i64::try_from(updated).unwrap_or(i64::MAX) }
    }

    impl From<Counts> for PeopleCounts {
        fn from(c: Counts) -> Self {
            Self {
                persons: pair(c.persons),
                qualifications: pair(c.qualifications),
                contractors: pair(c.contractors),
                agreements: pair(c.agreements),
            }
        }
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct PeoplePreview {
        /// Confirm with `POST /api/v1/people/import/{token}`.
        pub token: String,
        pub rows: i64,
        /// Rows with a problem (left out when confirmed with `skip_invalid`).
        pub bad_rows: i64,
        /// The first 200 problems, by file, line and column.
        pub problems: Vec<String>,
        pub counts: PeopleCounts,
    }

    /// The register's files and the unit new contractors' people belong to.
    #[derive(Debug, ToSchema)]
    #[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
    pub struct PeopleUpload {
        pub contractor_unit: Option<i64>,
        #[schema(value_type = Vec<String>, format = Binary)]
        pub files: Vec<Vec<u8>>,
    }

    /// Checks a people register (persons, qualifications, contractors, agreements; CSV or
    /// `.xlsx`) and keeps it for confirmation: what it would add and change, and every problem.
    #[utoipa::path(post, path = "/api/v1/people/import", tag = "people", security(("bearer" = [])),
        request_body(content = PeopleUpload, content_type = "multipart/form-data"),
        responses((status = 200, body = PeoplePreview), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn upload(
        State(state): State<AppState>,
        ctx: PageContext,
        auth: Auth,
        crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
    ) -> Result<Json<PeoplePreview>, AppError> {
        let cap = importer(&state, &auth).await?;
        let (files, _) = upload_form(&mut multipart, "contractor_unit").await?;
        let token = people::store_upload(state.app(), auth.user.principal.actor(), &auth.meta, &files).await?;
        let reach = gridsafe_app::people::Reach::units(&cap);
        let contractors_cap = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
        let plan =
            people::plan_import(state.app(), &reach, contractors_cap.as_ref(), people::read_upload(&files)).await?;
        Ok(Json(PeoplePreview {
            token,
            rows: i64::try_from(plan.rows()).unwrap_or(i64::MAX),
            bad_rows: i64::try_from(plan.bad_rows).unwrap_or(i64::MAX),
            problems: plan.errors.iter().take(200).map(|e| problem_line(ctx.lang, e)).collect(),
            counts: plan.counts.into(),
        }))
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PeopleConfirm {
        /// The unit new contractors' people belong to.
        #[serde(deserialize_with = "crate::json::whole::i64")]
        pub contractor_unit: i64,
        /// Import the good rows and leave out those with a problem (otherwise all or nothing).
        #[serde(default)]
        pub skip_invalid: bool,
    }

    /// Imports the register checked under `token`, checked again against the database as it is now.
    #[utoipa::path(post, path = "/api/v1/people/import/{token}", tag = "people", security(("bearer" = [])),
        params(("token" = String, Path, description = "The preview's token")), request_body = PeopleConfirm,
        responses((status = 200, body = PeopleCounts), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn confirm(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(token): ApiPath<String>,
        ApiJson(c): ApiJson<PeopleConfirm>,
    ) -> Result<Json<PeopleCounts>, AppError> {
        let reach = manage_reach(&state, &auth).await?;
        let cap = importer(&state, &auth).await?;
        let contractors_cap = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
        let files = auth.checked(&state, people::load_upload(state.app(), auth.user.id, &token).await).await?;
        let plan = people::plan_import(
            state.app(),
            &gridsafe_app::people::Reach::units(&cap),
            contractors_cap.as_ref(),
            people::read_upload(&files),
        )
        .await?;
        let options = ImportOptions { skip_invalid: c.skip_invalid, contractor_unit: UnitId::new(c.contractor_unit) };
        let report =
            auth.checked(&state, people::apply_import(state.app(), &reach, &auth.meta, plan, options).await).await?;
        people::forget_upload(state.app(), &token).await?;
        Ok(Json(report.counts.into()))
    }
}
