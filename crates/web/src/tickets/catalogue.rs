//! The catalogue page: document types, hazard templates, evaluation reasons.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::tickets::{self, DocumentTypeInput, DocumentTypeRow, EvalReason, HazardTemplate};
use gridsafe_domain::access::perm;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/tickets/catalogue", page)
        .post("/tickets/catalogue/types", add_type)
        .post("/tickets/catalogue/types/{code}", save_type)
        .post("/tickets/catalogue/templates", add_template)
        .post("/tickets/catalogue/templates/{id}/delete", delete_template)
        .post("/tickets/catalogue/reasons", save_reason)
}

#[derive(Template)]
#[template(path = "tickets/catalogue.html")]
struct Page {
    chrome: Chrome,
    types: Vec<DocumentTypeRow>,
    templates: Vec<HazardTemplate>,
    reasons: Vec<EvalReason>,
    kinds: Vec<&'static str>,
    can_configure: bool,
}

impl Page {
    fn covers(&self, t: &DocumentTypeRow, kind: &str) -> bool {
        t.doc.covers.iter().any(|c| c == kind)
    }
}

async fn page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::TicketsView>(&state).await?;
    let app = state.app();
    Ok(render(&Page {
        chrome: Chrome::for_user(ctx, &auth.user),
        types: tickets::document_types(app).await?,
        templates: tickets::hazard_templates(app, None).await?,
        reasons: tickets::eval_reasons(app).await?,
        kinds: tickets::order_types(),
        can_configure: auth.user.principal.authorize::<perm::TicketsConfigure>().is_ok(),
    }))
}

/// A catalogue entry's form; `covers` repeats.
async fn save_type(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let input = DocumentTypeInput {
        name: value("name").unwrap_or_default(),
        prefix: value("prefix").unwrap_or_default(),
        covers: pairs.iter().filter(|(k, _)| k == "covers").map(|(_, v)| v.clone()).collect(),
        extendable: value("extendable").is_some(),
        needs_survey: value("needs_survey").is_some(),
        live_work: value("live_work").is_some(),
        min_people: value("min_people").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
        active: value("active").is_some(),
    };
    tickets::save_document_type(state.app(), &cap, &auth.meta, &code, input).await?;
    Ok(Redirect::to("/tickets/catalogue").into_response())
}

#[derive(Debug, Deserialize)]
struct NewTypeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    prefix: String,
}

async fn add_type(State(state): State<AppState>, auth: Auth, Form(f): Form<NewTypeForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::add_document_type(state.app(), &cap, &auth.meta, &f.code, &f.name, &f.prefix).await?;
    Ok(Redirect::to("/tickets/catalogue").into_response())
}

#[derive(Debug, Deserialize)]
struct TemplateForm {
    #[serde(default)]
    work_kind: String,
    #[serde(default)]
    hazard: String,
    #[serde(default)]
    measure: String,
}

async fn add_template(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::add_hazard_template(state.app(), &cap, &auth.meta, &f.work_kind, &f.hazard, &f.measure).await?;
    Ok(Redirect::to("/tickets/catalogue#templates").into_response())
}

async fn delete_template(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::delete_hazard_template(state.app(), &cap, &auth.meta, id).await?;
    Ok(Redirect::to("/tickets/catalogue#templates").into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    active: Option<String>,
}

async fn save_reason(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::save_eval_reason(state.app(), &cap, &auth.meta, &f.code, &f.text, f.active.is_some()).await?;
    Ok(Redirect::to("/tickets/catalogue#reasons").into_response())
}
