//! The fault database (故障库) pages: the list with its search and recurrences, a fault, the form and
//! the spreadsheet import.

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::faults::{self, CauseRow, CheckDue, CheckInput, CheckRow, FaultInput, FaultView};
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
        .get("/faults/checks", checks_page)
        .post("/faults/checks", record_check)
        .get("/faults/checks/{id}", check_page)
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

#[derive(Template)]
#[template(path = "faults/checks.html")]
struct ChecksPage {
    chrome: Chrome,
    due: Vec<CheckDue>,
    checks: Vec<CheckRow>,
    units: Vec<crate::admin::UnitOption>,
    can_record: bool,
    today: String,
}

impl ChecksPage {
    fn kind_name(&self, code: &str) -> String {
        self.due.iter().find(|d| d.kind.code == code).map_or_else(|| code.to_owned(), |d| d.kind.name.clone())
    }
}

async fn checks_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let (due, checks) = faults::checks(state.app(), &cap).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&ChecksPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        due,
        checks,
        units,
        can_record: auth.user.principal.authorize::<perm::FaultsRecord>().is_ok(),
        today: state.app().today().to_string(),
    }))
}

pub(crate) fn check_input(fields: Vec<(String, String)>) -> CheckInput {
    let mut input = CheckInput::default();
    let mut notes: Vec<(i64, String)> = Vec::new();
    for (name, value) in fields {
        match name.as_str() {
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            "kind" => input.kind = value,
            "checked_on" => input.checked_on = value,
            "checker" => input.checker = value,
            "note" => input.note = value,
            "responsible" => input.responsible = value,
            "deadline" => input.deadline = value,
            other => {
                if let Some(p) = other.strip_prefix("result_").and_then(|p| p.parse::<i64>().ok()) {
                    input.answers.push((p, value, String::new()));
                } else if let Some(p) = other.strip_prefix("note_").and_then(|p| p.parse::<i64>().ok()) {
                    notes.push((p, value));
                }
            }
        }
    }
    for (p, note) in notes {
        if let Some(a) = input.answers.iter_mut().find(|a| a.0 == p) {
            a.2 = note;
        }
    }
    input
}

async fn record_check(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsRecord>(&state).await?;
    let id = auth.checked(&state, faults::record_check(state.app(), &cap, &auth.meta, check_input(f)).await).await?;
    Ok(Redirect::to(&format!("/faults/checks/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "faults/check.html")]
struct CheckPage {
    chrome: Chrome,
    c: CheckRow,
    hazards: Vec<(i64, String, String, String)>,
}

async fn check_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FaultsView>(&state).await?;
    let (c, hazards) = auth.checked(&state, faults::check(state.app(), &cap, id).await).await?;
    Ok(render(&CheckPage { chrome: Chrome::for_user(ctx, &auth.user), c, hazards }))
}
