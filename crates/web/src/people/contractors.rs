//! Contractor pages and API: licence, agreements, workers, ratings, blacklist, ledger.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::form::Form;
use gridsafe_app::people::{self, AgreementInput, AgreementRow, ContractorInput, ContractorRow, PersonRow, RatingRow};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Refusal, contractor_view_reach, documents_reach, refusal};
use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorEnvelope};
use crate::i18n::Lang;
use crate::json::{ApiJson, ApiPath};
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/contractors", list_page)
        .post("/contractors", create)
        .get("/contractors/export.xlsx", export)
        .get("/contractors/{id}", detail_page)
        .post("/contractors/{id}", update)
        .post("/contractors/{id}/agreements", add_agreement)
        .post("/contractors/{id}/agreements/{agreement}/confirm", confirm_agreement)
        .post("/contractors/{id}/ratings", add_rating)
        .post("/contractors/{id}/blacklist", blacklist)
        .post("/contractors/{id}/unblacklist", unblacklist)
}

#[derive(Template)]
#[template(path = "people/contractors.html")]
struct ListPage {
    chrome: Chrome,
    contractors: Vec<ContractorRow>,
    can_manage: bool,
    units: Vec<crate::admin::UnitOption>,
    today: String,
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let reach = contractor_view_reach(&state, &auth).await?;
    let contractors = people::list_contractors(state.app(), &reach).await?;
    let manage = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
    let units = match &manage {
        Some(cap) => crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?),
        None => Vec::new(),
    };
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        contractors,
        can_manage: manage.is_some(),
        units,
        today: state.app().today().to_string(),
    }))
}

#[derive(Debug, Deserialize)]
struct ContractorForm {
    code: String,
    name: String,
    unit_id: UnitId,
    #[serde(default)]
    license_no: String,
    #[serde(default)]
    license_level: String,
    #[serde(default)]
    license_valid_to: String,
}

impl ContractorForm {
    fn input(self) -> ContractorInput {
        ContractorInput {
            code: self.code,
            name: self.name,
            unit_id: self.unit_id,
            license_no: self.license_no,
            license_level: self.license_level.trim().parse().ok(),
            license_valid_to: self.license_valid_to,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<ContractorForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    let id =
        auth.checked(&state, people::save_contractor(state.app(), &cap, &auth.meta, None, form.input()).await).await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<ContractorForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    auth.checked(&state, people::save_contractor(state.app(), &cap, &auth.meta, Some(id), form.input()).await).await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "people/contractor.html")]
struct DetailPage {
    chrome: Chrome,
    contractor: ContractorRow,
    agreements: Vec<AgreementRow>,
    ratings: Vec<RatingRow>,
    workers: Vec<PersonRow>,
    refusals: Vec<Refusal>,
    can_manage: bool,
    can_documents: bool,
    units: Vec<crate::admin::UnitOption>,
    today: String,
    ratings_allowed: Vec<&'static str>,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let reach = contractor_view_reach(&state, &auth).await?;
    let contractor = auth.checked(&state, people::contractor(state.app(), &reach, id).await).await?;
    let facts = people::contractor_facts(state.app(), id).await?;
    let today = state.app().today();
    let rules = state.app().people_config().role_rules();
    let refusals =
        gridsafe_domain::people::contractor_may_work(&facts, today, None, gridsafe_domain::people::Work::Any, &rules)
            .err()
            .unwrap_or_default();
    let manage = auth.user.principal.authorize::<perm::ContractorsManage>().ok();
    let units = match &manage {
        Some(cap) => crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?),
        None => Vec::new(),
    };
    let workers = people::list_people(state.app(), &reach, None, 5000)
        .await?
        .into_iter()
        .filter(|p| p.contractor_id == Some(id))
        .collect();
    let can_documents = manage.is_some() || reach.contractor() == Some(id);
    Ok(render(&DetailPage {
        refusals: refusals.iter().map(|v| refusal(ctx.lang, v)).collect(),
        chrome: Chrome::for_user(ctx, &auth.user),
        agreements: people::agreements_of(state.app(), id).await?,
        ratings: people::ratings_of(state.app(), id).await?,
        workers,
        contractor,
        can_manage: manage.is_some(),
        can_documents,
        units,
        today: today.to_string(),
        ratings_allowed: people::RATINGS.to_vec(),
    }))
}

#[derive(Debug, Deserialize)]
struct AgreementForm {
    code: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    customer_no: String,
    valid_from: String,
    valid_to: String,
}

async fn add_agreement(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<AgreementForm>,
) -> Result<Response, AppError> {
    let reach = documents_reach(&state, &auth).await?;
    let input = AgreementInput {
        code: f.code,
        project: f.project,
        customer_no: f.customer_no,
        valid_from: f.valid_from,
        valid_to: f.valid_to,
    };
    auth.checked(&state, people::add_agreement(state.app(), &reach, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

/// The supply company confirms a contractor's draft agreement (after checking the signed original).
async fn confirm_agreement(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, agreement)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    auth.checked(&state, people::confirm_agreement(state.app(), &cap, &auth.meta, agreement).await).await?;
    Ok(Redirect::to(&format!("/contractors/{id}#agreements")).into_response())
}

#[derive(Debug, Deserialize)]
struct RatingForm {
    project: String,
    rating: String,
    #[serde(default)]
    note: String,
}

async fn add_rating(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<RatingForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    auth.checked(&state, people::add_rating(state.app(), &cap, &auth.meta, id, &f.project, &f.rating, &f.note).await)
        .await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct BlacklistForm {
    on: String,
    reason: String,
}

async fn blacklist(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<BlacklistForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    auth.checked(&state, people::set_blacklist(state.app(), &cap, &auth.meta, id, Some(&f.on), &f.reason).await)
        .await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

async fn unblacklist(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ContractorsManage>(&state).await?;
    auth.checked(&state, people::set_blacklist(state.app(), &cap, &auth.meta, id, None, "").await).await?;
    Ok(Redirect::to(&format!("/contractors/{id}")).into_response())
}

/// The contractor ledger (外包单位台账) as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let reach = contractor_view_reach(&state, &auth).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "contractors-code",
        "contractors-name",
        "people-unit",
        "contractors-license-level",
        "contractors-license-valid-to",
        "contractors-workers",
        "contractors-blacklisted",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let rows: Vec<Vec<Value>> = people::list_contractors(state.app(), &reach)
        .await?
        .into_iter()
        .map(|c| {
            vec![
                c.code.into(),
                c.name.into(),
                c.unit_name.into(),
                c.license_level.map_or(Value::Empty, Value::from),
                c.license_valid_to.into(),
                c.workers.into(),
                c.blacklisted_on.map(|d| format!("{d} {}", c.blacklist_reason.unwrap_or_default())).into(),
            ]
        })
        .collect();
    Ok(super::persons::xlsx_file("contractors.xlsx", xlsx::ledger(&lang.t("contractors-title"), &headers, &rows)?))
}

/// The JSON API of contractors.
pub mod api {
    use super::*;

    #[derive(Debug, Serialize, ToSchema)]
    pub struct ContractorOut {
        pub id: i64,
        pub code: String,
        pub name: String,
        pub unit_id: i64,
        pub license_level: Option<i64>,
        pub license_valid_to: Option<String>,
        pub blacklisted_on: Option<String>,
        pub workers: i64,
    }

    impl From<ContractorRow> for ContractorOut {
        fn from(c: ContractorRow) -> Self {
            Self {
                id: c.id,
                code: c.code,
                name: c.name,
                unit_id: c.unit_id.get(),
                license_level: c.license_level,
                license_valid_to: c.license_valid_to,
                blacklisted_on: c.blacklisted_on,
                workers: c.workers,
            }
        }
    }

    /// Contractors in reach.
    #[utoipa::path(get, path = "/api/v1/contractors", tag = "people", security(("bearer" = [])),
        responses((status = 200, body = Vec<ContractorOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
    pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<ContractorOut>>, AppError> {
        let reach = contractor_view_reach(&state, &auth).await?;
        Ok(Json(people::list_contractors(state.app(), &reach).await?.into_iter().map(ContractorOut::from).collect()))
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct AgreementIn {
        #[schema(min_length = 1, max_length = 40, example = "A2026-001")]
        pub code: String,
        #[serde(default)]
        #[schema(max_length = 100)]
        pub project: String,
        /// 户号 of the only customer whose work it covers; empty for all the contractor's work.
        #[serde(default)]
        #[schema(max_length = 40)]
        pub customer_no: String,
        #[schema(format = Date, example = "2026-01-01")]
        pub valid_from: String,
        #[schema(format = Date, example = "2026-12-31")]
        pub valid_to: String,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct CreatedAgreement {
        pub id: i64,
    }

    /// Records a safety agreement with the contractor.
    #[utoipa::path(post, path = "/api/v1/contractors/{id}/agreements", tag = "people", security(("bearer" = [])), request_body = AgreementIn,
        params(("id" = i64, Path, description = "Contractor id")),
        responses((status = 201, body = CreatedAgreement), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
            (status = 409, description = "Agreement number taken", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn add_agreement(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<i64>,
        ApiJson(a): ApiJson<AgreementIn>,
    ) -> Result<Response, AppError> {
        let reach = documents_reach(&state, &auth).await?;
        let input = AgreementInput {
            code: a.code,
            project: a.project,
            customer_no: a.customer_no,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
        };
        let aid = auth.checked(&state, people::add_agreement(state.app(), &reach, &auth.meta, id, input).await).await?;
        Ok((axum::http::StatusCode::CREATED, Json(CreatedAgreement { id: aid })).into_response())
    }

    /// Confirms a contractor's draft agreement on the supply company's side: only confirmed
    /// agreements satisfy the rules.
    #[utoipa::path(post, path = "/api/v1/contractors/{id}/agreements/{agreement}/confirm", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Contractor id"), ("agreement" = i64, Path, description = "Agreement id")),
        responses((status = 204, description = "Confirmed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
            (status = 409, description = "Already confirmed", body = ErrorEnvelope)))]
    pub async fn confirm_agreement(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath((_id, agreement)): ApiPath<(i64, i64)>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        auth.checked(&state, people::confirm_agreement(state.app(), &cap, &auth.meta, agreement).await).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RatingIn {
        /// The project or work the rating is for.
        #[schema(max_length = 100)]
        pub project: String,
        /// `good`, `fair` or `poor` (as the page's choices).
        #[schema(max_length = 10)]
        pub rating: String,
        #[serde(default)]
        #[schema(max_length = 500)]
        pub note: String,
    }

    /// Rates the contractor's work on a project (外包单位考核).
    #[utoipa::path(post, path = "/api/v1/contractors/{id}/ratings", tag = "people", security(("bearer" = [])), request_body = RatingIn,
        params(("id" = i64, Path, description = "Contractor id")),
        responses((status = 204, description = "Rated"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn add_rating(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<i64>,
        ApiJson(r): ApiJson<RatingIn>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        let result = people::add_rating(state.app(), &cap, &auth.meta, id, &r.project, &r.rating, &r.note).await;
        auth.checked(&state, result).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct BlacklistIn {
        /// The day, `YYYY-MM-DD`.
        #[schema(max_length = 10)]
        pub on: String,
        #[schema(max_length = 500)]
        pub reason: String,
    }

    /// Puts the contractor on the blacklist: its people may not work until it is taken off.
    #[utoipa::path(post, path = "/api/v1/contractors/{id}/blacklist", tag = "people", security(("bearer" = [])), request_body = BlacklistIn,
        params(("id" = i64, Path, description = "Contractor id")),
        responses((status = 204, description = "Blacklisted"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn blacklist(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<i64>,
        ApiJson(b): ApiJson<BlacklistIn>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        let result = people::set_blacklist(state.app(), &cap, &auth.meta, id, Some(&b.on), &b.reason).await;
        auth.checked(&state, result).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }

    /// Takes the contractor off the blacklist.
    #[utoipa::path(post, path = "/api/v1/contractors/{id}/unblacklist", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Contractor id")),
        responses((status = 204, description = "Taken off"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope)))]
    pub async fn unblacklist(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<i64>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        auth.checked(&state, people::set_blacklist(state.app(), &cap, &auth.meta, id, None, "").await).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ContractorIn {
        #[schema(pattern = "^[A-Za-z0-9._-]{1,40}$", example = "WB-001")]
        pub code: String,
        #[schema(pattern = "\\S", max_length = 100)]
        pub name: String,
        /// The unit that contracts it.
        #[serde(deserialize_with = "crate::json::whole::i64")]
        pub unit_id: i64,
        /// 承装（修、试）电力设施许可证 number.
        #[serde(default)]
        #[schema(max_length = 60)]
        pub license_no: String,
        /// The licence's level (1–5).
        #[serde(default)]
        #[schema(minimum = 1, maximum = 5)]
        pub license_level: Option<i64>,
        /// `YYYY-MM-DD`
        #[serde(default)]
        #[schema(max_length = 10)]
        pub license_valid_to: String,
    }

    impl ContractorIn {
        fn input(self) -> ContractorInput {
            ContractorInput {
                code: self.code,
                name: self.name,
                unit_id: UnitId::new(self.unit_id),
                license_no: self.license_no,
                license_level: self.license_level,
                license_valid_to: self.license_valid_to,
            }
        }
    }

    /// Registers a contractor with its licence (the supply company's side).
    #[utoipa::path(post, path = "/api/v1/contractors", tag = "people", security(("bearer" = [])), request_body = ContractorIn,
        responses((status = 201, body = crate::people::person_api::Created), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, description = "No such unit", body = ErrorEnvelope), (status = 409, description = "Code taken", body = ErrorEnvelope),
            (status = 422, body = ErrorEnvelope)))]
    pub async fn create(
        State(state): State<AppState>,
        auth: Auth,
        ApiJson(c): ApiJson<ContractorIn>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        let id =
            auth.checked(&state, people::save_contractor(state.app(), &cap, &auth.meta, None, c.input()).await).await?;
        Ok((axum::http::StatusCode::CREATED, Json(crate::people::person_api::Created { id })).into_response())
    }

    /// Changes a contractor's record and licence.
    #[utoipa::path(put, path = "/api/v1/contractors/{id}", tag = "people", security(("bearer" = [])), request_body = ContractorIn,
        params(("id" = i64, Path, description = "Contractor id")),
        responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn update(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<i64>,
        ApiJson(c): ApiJson<ContractorIn>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::ContractorsManage>(&state).await?;
        auth.checked(&state, people::save_contractor(state.app(), &cap, &auth.meta, Some(id), c.input()).await).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }
}
