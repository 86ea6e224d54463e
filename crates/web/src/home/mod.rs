//! The home page: where a user lands after signing in.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::AppState;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    chrome: Chrome,
    version: &'static str,
    backend: &'static str,
    schema_version: i64,
}

async fn home(State(state): State<AppState>, ctx: PageContext) -> Result<Response, AppError> {
    let schema_version = match state.db().schema_status().await? {
        gridsafe_store::SchemaStatus::UpToDate { version } => version,
        gridsafe_store::SchemaStatus::Behind { current, .. } => current,
    };
    Ok(render(&HomePage {
        chrome: Chrome::from_context(ctx),
        version: env!("CARGO_PKG_VERSION"),
        backend: state.db().backend().name(),
        schema_version,
    }))
}
