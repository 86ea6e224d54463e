//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document generated from the code.
//!
//! Every route is declared here through `utoipa_axum::routes!`, so a route cannot exist
//! without its documentation. Errors use one envelope ([`crate::error::ErrorEnvelope`]) with
//! stable codes.

use std::sync::LazyLock;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod audit;
mod identity;
pub mod imports;
pub mod paging;
pub mod reference;

use crate::AppState;
use crate::error::ErrorEnvelope;
use crate::i18n::Lang;
use crate::system;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "GridSafe API",
        description = "营销安全管控平台 JSON API. Errors share one envelope with a stable `code`; \
                       messages follow `Accept-Language` (zh-CN by default, en).",
    ),
    components(schemas(ErrorEnvelope, crate::webhooks::api::WebhookDelivery)),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health, readiness and metadata"),
        (name = "identity", description = "The caller, organisation units, users and API tokens"),
        (name = "audit", description = "The tamper-evident audit trail (痕迹管理)"),
        (name = "people", description = "People, qualifications, contractors, and the role question"),
        (name = "findings", description = "Cross-audit findings, their review, rectification tasks (营销倒查)"),
        (name = "customers", description = "Customers, inspection cycles, hazards and their closed loop (客户用电安全)"),
        (name = "tickets", description = "Work tickets and cards: drafts, every lifecycle step, evaluation (工作票)"),
        (name = "plans", description = "Weekly and daily work plans, shared sites merged, approval and publication (作业计划)"),
        (name = "outages", description = "Outage requests, customers' notices, cut and restoration (停送电)"),
        (name = "emergency", description = "Emergency plans and drills, safety-related complaints (95598) and service evaluations"),
        (name = "faults", description = "The fault database of the marketing information systems (故障库)"),
        (name = "quality", description = "Quality indicators and the monthly supervision report (运行质量监督报告): frozen when issued, its hash in the audit trail"),
        (name = "projects", description = "Customer projects (业扩报装): stages in working days, inspections under 首检负责制, the energising gate"),
        (name = "history", description = "The registers kept before GridSafe (ticket register, hazard ledger, inspection history) imported with their real dates"),
        (name = "webhooks", description = "Other systems told when something happens: subscriptions per unit, signed deliveries (see the WebhookDelivery schema), retries and the delivery log"),
        (name = "supervision", description = "Managers on site (到岗到位), the violation register (违章), review meetings and re-admission"),
    )
)]
struct ApiDoc;

/// API tokens are sent as `Authorization: Bearer gst_…`; pages use the session cookie.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Every API route, with its documentation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(meta))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(identity::me))
        .routes(routes!(identity::list_units, identity::create_unit))
        .routes(routes!(identity::list_users, identity::create_user))
        .routes(routes!(identity::get_user))
        .routes(routes!(identity::grant_role))
        .routes(routes!(identity::rename_unit))
        .routes(routes!(identity::set_role_permissions))
        .routes(routes!(identity::revoke_role))
        .routes(routes!(identity::disable_user))
        .routes(routes!(identity::enable_user))
        .routes(routes!(identity::review_user))
        .routes(routes!(identity::unlock_user))
        .routes(routes!(identity::reset_password))
        .routes(routes!(identity::link_person))
        .routes(routes!(identity::list_tokens, identity::create_token))
        .routes(routes!(identity::revoke_token))
        .routes(routes!(audit::events))
        .routes(routes!(audit::verify))
        .routes(routes!(crate::people::person_api::list, crate::people::person_api::create))
        .routes(routes!(crate::people::person_api::get, crate::people::person_api::update))
        .routes(routes!(crate::people::person_api::remove_qualification))
        .routes(routes!(crate::people::import_api::upload))
        .routes(routes!(crate::people::import_api::confirm))
        .routes(routes!(crate::people::person_api::add_qualification))
        .routes(routes!(crate::people::person_api::confirm_qualification))
        .routes(routes!(crate::people::person_api::may_act))
        .routes(routes!(crate::people::person_api::expiring))
        .routes(routes!(crate::people::contractor_api::list, crate::people::contractor_api::create))
        .routes(routes!(crate::people::contractor_api::update))
        .routes(routes!(crate::people::contractor_api::add_agreement))
        .routes(routes!(crate::people::contractor_api::confirm_agreement))
        .routes(routes!(crate::people::contractor_api::add_rating))
        .routes(routes!(crate::people::contractor_api::blacklist))
        .routes(routes!(crate::people::contractor_api::unblacklist))
        .routes(routes!(crate::tickets::api::types))
        .routes(routes!(crate::tickets::api::list, crate::tickets::api::create))
        .routes(routes!(crate::tickets::api::get, crate::tickets::api::update))
        .routes(routes!(crate::tickets::api::step))
        .routes(routes!(crate::tickets::api::add_hazard))
        .routes(routes!(crate::tickets::api::remove_hazard))
        .routes(routes!(crate::tickets::api::add_document_type))
        .routes(routes!(crate::tickets::api::save_document_type))
        .routes(routes!(crate::tickets::api::add_hazard_template))
        .routes(routes!(crate::tickets::api::delete_hazard_template))
        .routes(routes!(crate::tickets::api::save_eval_reason))
        .routes(routes!(crate::tickets::api::survey))
        .routes(routes!(crate::tickets::api::approve_unplanned))
        .routes(routes!(crate::tickets::api::evaluate))
        .routes(routes!(crate::tickets::api::stats))
        .routes(routes!(crate::findings::api::list))
        .routes(routes!(crate::findings::api::get))
        .routes(routes!(crate::findings::api::review))
        .routes(routes!(crate::findings::api::tasks))
        .routes(routes!(crate::findings::api::close))
        .routes(routes!(crate::customers::api::list, crate::customers::api::create))
        .routes(routes!(crate::customers::api::get, crate::customers::api::update))
        .routes(routes!(crate::customers::api::hazards, crate::customers::api::create_hazard))
        .routes(routes!(crate::customers::api::hazard))
        .routes(routes!(crate::customers::api::step))
        .routes(routes!(crate::customers::api::request_extension))
        .routes(routes!(crate::customers::api::decide_extension))
        .routes(routes!(crate::customers::api::unseal))
        .routes(routes!(crate::customers::api::import))
        .routes(routes!(crate::customers::api::confirm_import))
        .routes(routes!(crate::customers::api::hazard_photo))
        .routes(routes!(crate::customers::api::inspection_photo))
        .routes(routes!(crate::customers::api::notice_signed))
        .routes(routes!(crate::customers::api::refusal))
        .routes(routes!(crate::customers::api::seal))
        .routes(routes!(crate::customers::api::record_inspection))
        .routes(routes!(crate::customers::api::set_cycle))
        .routes(routes!(crate::customers::api::set_checklist))
        .routes(routes!(crate::customers::api::set_grade))
        .routes(routes!(crate::plans::api::list, crate::plans::api::create))
        .routes(routes!(crate::plans::api::get))
        .routes(routes!(crate::plans::api::add_item))
        .routes(routes!(crate::plans::api::remove_item))
        .routes(routes!(crate::plans::api::merge))
        .routes(routes!(crate::plans::api::step))
        .routes(routes!(crate::outages::api::list, crate::outages::api::create))
        .routes(routes!(crate::outages::api::get))
        .routes(routes!(crate::outages::api::notice))
        .routes(routes!(crate::outages::api::step))
        .routes(routes!(crate::supervision::api::arrive))
        .routes(routes!(crate::supervision::api::depart))
        .routes(routes!(crate::supervision::api::list, crate::supervision::api::create))
        .routes(routes!(crate::supervision::api::get))
        .routes(routes!(crate::supervision::api::review))
        .routes(routes!(crate::supervision::api::readmit))
        .routes(routes!(crate::supervision::api::dashboard))
        .routes(routes!(crate::supervision::api::templates))
        .routes(routes!(crate::supervision::api::record_check))
        .routes(routes!(crate::supervision::api::get_check))
        .routes(routes!(crate::projects::api::list, crate::projects::api::create))
        .routes(routes!(crate::projects::api::dashboard))
        .routes(routes!(crate::projects::api::set_limits))
        .routes(routes!(crate::projects::api::get))
        .routes(routes!(crate::projects::api::step))
        .routes(routes!(crate::projects::api::inspect))
        .routes(routes!(crate::projects::api::receipt))
        .routes(routes!(crate::emergency::api::schedule))
        .routes(routes!(crate::emergency::api::plans, crate::emergency::api::create_plan))
        .routes(routes!(crate::emergency::api::record_drill))
        .routes(routes!(crate::emergency::api::drill))
        .routes(routes!(crate::emergency::api::feedback))
        .routes(routes!(crate::emergency::api::complaint))
        .routes(routes!(crate::emergency::api::evaluation))
        .routes(routes!(crate::emergency::api::complaint_hazard))
        .routes(routes!(crate::emergency::api::create_pilot))
        .routes(routes!(crate::emergency::api::publish_document))
        .routes(routes!(crate::emergency::api::evaluation_hazard))
        .routes(routes!(crate::faults::api::list, crate::faults::api::create))
        .routes(routes!(crate::faults::api::get))
        .routes(routes!(crate::faults::api::checks, crate::faults::api::record_check))
        .routes(routes!(crate::faults::api::check))
        .routes(routes!(crate::findings::api::push_orders))
        .routes(routes!(crate::findings::api::run))
        .routes(routes!(crate::findings::api::push_events))
        .routes(routes!(crate::quality::api::indicators))
        .routes(routes!(crate::quality::api::list, crate::quality::api::create))
        .routes(routes!(crate::quality::api::get))
        .routes(routes!(crate::quality::api::issue))
        .routes(routes!(crate::quality::api::texts))
        .routes(routes!(crate::quality::api::reissue))
        .routes(routes!(crate::quality::api::set_indicator))
        .routes(routes!(crate::webhooks::api::list, crate::webhooks::api::create))
        .routes(routes!(crate::webhooks::api::get, crate::webhooks::api::update))
        .routes(routes!(crate::webhooks::api::redeliver))
        .routes(routes!(crate::history::api::import))
        .routes(routes!(imports::faults))
        .routes(routes!(imports::complaints))
        .routes(routes!(imports::violation_list))
        .routes(routes!(imports::projects))
        .routes(routes!(imports::calendar))
        .routes(routes!(imports::plan_items))
}

/// The OpenAPI document, as generated from the routes.
pub fn openapi() -> OpenApiDoc {
    router().split_for_parts().1
}

static OPENAPI_JSON: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().unwrap_or_else(|_| "{}".to_owned()));

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI_JSON.as_str()).into_response()
}

/// What this server is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    #[schema(example = "GridSafe")]
    pub product: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Languages messages are available in, the default first.
    pub languages: Vec<&'static str>,
}

/// Product, version and languages.
#[utoipa::path(get, path = "/api/v1/meta", tag = "system",
    responses((status = 200, description = "What this server is", body = Meta)))]
async fn meta() -> Json<Meta> {
    Json(Meta {
        product: "GridSafe",
        version: env!("CARGO_PKG_VERSION"),
        languages: Lang::ALL.iter().map(|l| l.tag()).collect(),
    })
}
