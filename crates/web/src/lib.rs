//! GridSafe's web layer: server-rendered pages and the JSON API.
//!
//! Pages and API handlers are thin: they read the request, call the same service functions,
//! and render the answer as HTML or JSON. One folder per business area holds its pages, API
//! handlers and templates; `layout/` holds the base page, `system/` health and language, `api/`
//! the OpenAPI document and the error envelope.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod config;
pub mod context;
pub mod customers;
pub mod emergency;
pub mod error;
pub mod faults;
pub mod findings;
pub mod form;
pub mod hazards;
pub mod headers;
pub mod history;
pub mod home;
pub mod i18n;
pub mod json;
pub mod layout;
pub mod outages;
pub mod people;
pub mod plans;
pub mod projects;
pub mod quality;
pub mod routes;
pub mod security;
pub mod state;
pub mod supervision;
pub mod system;
pub mod tickets;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::WebConfig;
pub use state::AppState;

/// The request id header, set on every request and echoed on every response.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every page route, by business area.
fn pages() -> routes::Routes {
    routes::Routes::new()
        .merge(home::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(security::routes())
        .merge(audit::routes())
        .merge(people::routes())
        .merge(tickets::routes())
        .merge(findings::routes())
        .merge(supervision::routes())
        .merge(customers::routes())
        .merge(hazards::routes())
        .merge(plans::routes())
        .merge(outages::routes())
        .merge(projects::routes())
        .merge(emergency::routes())
        .merge(faults::routes())
        .merge(quality::routes())
        .merge(webhooks::routes())
        .merge(history::routes())
        .merge(system::routes())
}

/// Every route the application serves, as (method, path pattern): pages, then the API (from
/// its OpenAPI document), then static assets. The access-control matrix test checks it.
pub fn route_table() -> Vec<(String, String)> {
    let (_, pages) = pages().into_parts();
    let mut table: Vec<(String, String)> = pages.into_iter().map(|(m, p)| (m.to_owned(), p.to_owned())).collect();
    let doc = serde_json::to_value(api::openapi()).unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in item.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                table.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    table.extend(assets::ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())));
    table
}

/// The whole application: every page, the API and the layers around them.
pub fn router(state: AppState) -> Router {
    let (api_router, _) = api::router().split_for_parts();
    let (page_router, _) = pages().into_parts();
    let max_body = state.config().max_body_bytes;

    Router::new()
        .merge(page_router)
        .merge(assets::router())
        .merge(api_router)
        .fallback(error::fallback)
        .with_state(state)
        .layer(
            // Outermost first: the request id exists before the trace span that records it.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(axum::middleware::from_fn(headers::headers))
                .layer(axum::middleware::from_fn(error::localize_rejections))
                .layer(CsrfLayer::new())
                .layer(axum::middleware::from_fn(form::utf8_query))
                .layer(axum::middleware::from_fn(form::inline_redirects))
                .layer(DefaultBodyLimit::max(max_body)),
        )
}

/// One span per request. It names the route pattern, never the concrete path or query, which
/// may carry names, phone numbers or customer ids.
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let route = request.extensions().get::<MatchedPath>().map_or("-", MatchedPath::as_str);
    tracing::info_span!("request", request_id, method = %request.method(), route)
}
