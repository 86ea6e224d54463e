//! The fault database (故障库) pages: the list with its search and recurrences, a fault, the form and
//! the spreadsheet import.

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::faults::{self, CauseRow, FaultInput, FaultView};
use gridsafe_domain::access::perm;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/faults", list_page)
        .post("/faults", create)
        .post("/faults/import", import)
        .get("/faults/{id}", detail_page)
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    imported: Option<i64>,
}

#[derive(Template)]
#[template(path = "faults/list.html")]
struct ListPage {
    chrome: Chrome,
    faults: Vec<FaultView>,
    causes: Vec<CauseRow>,
    units: Vec<crate::admin::UnitOption>,
    q: String,
    cause: String,
    can_record: bool,
    imported: Option<String>,
    problems: Vec<String>,
    now_input: String,
    origin: &'static str,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let imported = q.imported.map(|n| ctx.lang.t_args("faults-imported", &[("count", n.into())]));
    list_view(&state, ctx, &auth, &q.q, &q.cause, imported, Vec::new()).await
}

async fn list_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    q: &str,
    cause: &str,
    imported: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsView>(state).await?;
    let query = Some(q.trim()).filter(|t| !t.is_empty());
    let chosen = Some(cause.trim()).filter(|t| !t.is_empty());
    let rows = auth.checked(state, faults::list_faults(state.app(), &cap, query, chosen).await).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let refused = !problems.is_empty();
    let mut response = render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        faults: rows,
        causes: faults::causes(state.app()).await?,
        units,
        q: q.to_owned(),
        cause: cause.to_owned(),
        can_record: auth.user.principal.authorize::<perm::FaultsRecord>().is_ok(),
        imported,
        problems,
        now_input: state.app().now().local_input(),
        origin: gridsafe_domain::faults::RECURRENCE_ORIGIN,
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub(crate) fn fault_input(fields: Vec<(String, String)>) -> FaultInput {
    let mut input = FaultInput::default();
    for (name, value) in fields {
        match name.as_str() {
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            "system" => input.system = value,
            "module" => input.module = value,
            "started_at" => input.started_at = value,
            "ended_at" => input.ended_at = value,
            "customers_affected" => input.customers_affected = value,
            "orders_affected" => input.orders_affected = value,
            "cause" => input.cause = value,
            "root_cause" => input.root_cause = value,
            "countermeasure" => input.countermeasure = value,
            "accountable" => input.accountable = value,
            "assessment" => input.assessment = value,
            "responsible" => input.responsible = value,
            "deadline" => input.deadline = value,
            _ => {}
        }
    }
    input
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let id = auth.checked(&state, faults::record_fault(state.app(), &cap, &auth.meta, fault_input(f)).await).await?;
    Ok(Redirect::to(&format!("/faults/{id}")).into_response())
}

async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default();
    let result = faults::import_faults(state.app(), &cap, &auth.meta, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(n) => Ok(Redirect::to(&format!("/faults?imported={n}")).into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            list_view(&state, ctx, &auth, "", "", None, words).await
        }
    }
}

#[derive(Template)]
#[template(path = "faults/detail.html")]
struct DetailPage {
    chrome: Chrome,
    v: FaultView,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let v = auth.checked(&state, faults::fault(state.app(), &cap, id).await).await?;
    Ok(render(&DetailPage { chrome: Chrome::for_user(ctx, &auth.user), v }))
}
