//! Webhook pages: the unit's subscriptions with the form to add one (its secret shown once),
//! and a subscription's delivery log with redelivery by hand.

pub mod api;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::webhooks::{self, DeliveryRow, SubscriptionInput, SubscriptionRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::webhooks::EventKind;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/webhooks", list_page)
        .post("/webhooks", create)
        .get("/webhooks/{id}", detail_page)
        .post("/webhooks/{id}", update)
        .post("/webhooks/{id}/deliveries/{delivery}/redeliver", redeliver)
}

/// The event codes a form offers, in order.
fn event_codes() -> Vec<&'static str> {
    EventKind::ALL.iter().map(|k| k.code()).collect()
}

/// `webhooks-event-finding-opened` for `finding.opened`.
pub fn event_key(code: &str) -> String {
    format!("webhooks-event-{}", code.replace(['.', '_'], "-"))
}

#[derive(Template)]
#[template(path = "webhooks/list.html")]
struct ListPage {
    chrome: Chrome,
    subscriptions: Vec<SubscriptionRow>,
    units: Vec<crate::admin::UnitOption>,
    events: Vec<&'static str>,
    /// The secret of the subscription just made, shown this once.
    created: Option<(i64, String)>,
    retry_origin: String,
}

impl ListPage {
    fn event_name(&self, code: &str) -> String {
        self.chrome.t(&event_key(code)).into_owned()
    }
}

async fn list_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    created: Option<(i64, String)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(state).await?;
    let subscriptions = webhooks::list(state.app(), &cap).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let minutes = state.app().webhooks_config().retry_minutes.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let retry_origin = ctx.lang.t_args("webhooks-retry-origin", &[("minutes", minutes.into())]);
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        subscriptions,
        units,
        events: event_codes(),
        created,
        retry_origin,
    }))
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    list_view(&state, ctx, &auth, None).await
}

async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let mut input = SubscriptionInput::default();
    for (name, value) in fields {
        match name.as_str() {
            "unit_id" => input.unit_id = UnitId::new(value.trim().parse().unwrap_or_default()),
            "name" => input.name = value,
            "url" => input.url = value,
            "format" => input.format = value,
            "events" if input.events.len() < EventKind::ALL.len() => input.events.push(value),
            _ => {}
        }
    }
    let created = auth.checked(&state, webhooks::create(state.app(), &cap, &auth.meta, input).await).await?;
    // The secret is in this answer only: never in an address, a log or a later page.
    list_view(&state, ctx, &auth, Some((created.id, created.secret))).await
}

#[derive(Template)]
#[template(path = "webhooks/detail.html")]
struct DetailPage {
    chrome: Chrome,
    s: SubscriptionRow,
    deliveries: Vec<DeliveryRow>,
    events: Vec<&'static str>,
}

impl DetailPage {
    fn event_name(&self, code: &str) -> String {
        self.chrome.t(&event_key(code)).into_owned()
    }

    fn hears(&self, code: &str) -> bool {
        self.s.events.iter().any(|e| e == code)
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let (s, deliveries) =
        auth.checked(&state, webhooks::get(state.app(), &cap, id, api::DELIVERIES_SHOWN).await).await?;
    Ok(render(&DetailPage { chrome: Chrome::for_user(ctx, &auth.user), s, deliveries, events: event_codes() }))
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let mut events = Vec::new();
    let mut enabled = false;
    for (name, value) in fields {
        match name.as_str() {
            "events" if events.len() < EventKind::ALL.len() => events.push(value),
            "enabled" => enabled = value == "on" || value == "true",
            _ => {}
        }
    }
    let result = webhooks::update(state.app(), &cap, &auth.meta, id, &events, enabled).await;
    auth.checked(&state, result).await?;
    Ok(Redirect::to(&format!("/webhooks/{id}")).into_response())
}

async fn redeliver(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, delivery)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let result = webhooks::redeliver(state.app(), &cap, &auth.meta, id, delivery).await;
    auth.checked(&state, result).await?;
    Ok(Redirect::to(&format!("/webhooks/{id}#delivery-{delivery}")).into_response())
}
