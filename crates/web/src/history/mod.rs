//! History moving in: the page to import the registers kept before GridSafe (ticket register,
//! hazard ledger, inspection history), the imports made, and the problems of a refused file.

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::history::{self, ImportRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::history::Register;
use gridsafe_domain::ids::UnitId;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().get("/history", page).post("/history/{register}", import)
}

/// "Imported from … by … on …" for a record that came in with an import, in the page's language.
pub async fn origin_note(
    state: &AppState,
    lang: crate::i18n::Lang,
    record: history::Record,
    id: i64,
) -> Result<Option<String>, AppError> {
    let origin = history::origin(state.app(), record, id).await?;
    Ok(origin.map(|o| {
        lang.t_args(
            "history-origin",
            &[("file", o.file_name.into()), ("by", o.imported_by.into()), ("at", o.imported_at.local_display().into())],
        )
    }))
}

/// A register as the page offers it: its code and the columns of its file.
pub struct RegisterForm {
    pub code: &'static str,
    pub columns: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "history/page.html")]
struct Page {
    chrome: Chrome,
    registers: Vec<RegisterForm>,
    units: Vec<crate::admin::UnitOption>,
    imports: Vec<ImportRow>,
    imported: Option<(String, i64)>,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    imported: Option<i64>,
}

fn registers() -> Vec<RegisterForm> {
    Register::ALL
        .into_iter()
        .map(|r| RegisterForm {
            code: r.code(),
            columns: match r {
                Register::Tickets => history::TICKET_COLUMNS.to_vec(),
                Register::Hazards => history::HAZARD_COLUMNS.to_vec(),
                Register::Inspections => history::INSPECTION_COLUMNS.to_vec(),
            },
        })
        .collect()
}

async fn view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    imported: Option<i64>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::HistoryImport>(state).await?;
    let imports = history::imports(state.app(), &cap).await?;
    let imported = imported.and_then(|id| imports.iter().find(|i| i.id == id)).map(|i| (i.kind.clone(), i.records));
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let refused = !problems.is_empty();
    let mut response = render(&Page {
        chrome: Chrome::for_user(ctx, &auth.user),
        registers: registers(),
        units,
        imports,
        imported,
        problems,
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    view(&state, ctx, &auth, q.imported, Vec::new()).await
}

async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(register): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::HistoryImport>(&state).await?;
    let register = Register::parse(&register).ok_or(gridsafe_app::AppError::NotFound)?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = UnitId::new(unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default());
    let result = history::import(state.app(), &cap, &auth.meta, register, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(done) => Ok(Redirect::to(&format!("/history?imported={}", done.id)).into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            view(&state, ctx, &auth, None, words).await
        }
    }
}
