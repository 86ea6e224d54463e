//! Liveness and readiness for load balancers, and the language switch.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::form::Form;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::i18n::{LANG_COOKIE, Lang};

pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::new().post("/lang", switch_lang).get("/help/api", crate::api::reference::page)
}

/// How a health check answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency does not answer.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up. Touches nothing else, so a slow database never restarts a healthy process.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers within two seconds. Recovers by itself when the database returns.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db().ping_within(Duration::from_millis(1_500)).await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable" })).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// Remembers the chosen language in a cookie and returns to the page the user was on.
async fn switch_lang(Form(form): Form<LangForm>) -> Response {
    let lang = Lang::from_tag(&form.lang).unwrap_or_default();
    // Only a local path: never redirect to another site.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") && !form.back.contains('\\') {
        form.back
    } else {
        "/".to_owned()
    };
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", lang.tag());
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
