//! The home page: where a user lands after signing in.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().get("/", home)
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    chrome: Chrome,
    display_name: String,
    version: &'static str,
    backend: &'static str,
    schema_version: i64,
}

async fn home(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let schema_version = match state.db().schema_status().await? {
        gridsafe_store::SchemaStatus::UpToDate { version } => version,
        gridsafe_store::SchemaStatus::Behind { current, .. } => current,
    };
    Ok(render(&HomePage {
        display_name: auth.user.display_name.clone(),
        chrome: Chrome::for_user(ctx, &auth),
        version: env!("CARGO_PKG_VERSION"),
        backend: state.db().backend().name(),
        schema_version,
    }))
}
