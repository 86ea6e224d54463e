//! Security administration (安全管理员): account review, dormant and locked accounts.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::identity::{self, UserSummary};
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
        .get("/security/accounts", accounts_page)
        .post("/security/accounts/{id}/review", review)
        .post("/security/accounts/{id}/unlock", unlock)
}

#[derive(Template)]
#[template(path = "security/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    attention: Vec<UserSummary>,
    others: Vec<UserSummary>,
    dormant_days: u32,
    notice_days: u32,
}

async fn accounts_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AccountsReview>(&state).await?;
    let (attention, others) = identity::accounts_for_review(state.app(), &cap)
        .await?
        .into_iter()
        .partition(|u| u.status != identity::UserStatus::Active);
    let security = state.app().security();
    Ok(render(&AccountsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        attention,
        others,
        dormant_days: security.dormant_after_days,
        notice_days: security.dormant_notice_days,
    }))
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    note: String,
}

async fn review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AccountsReview>(&state).await?;
    auth.checked(&state, identity::record_review(state.app(), &cap, &auth.meta, id, &form.note).await).await?;
    Ok(Redirect::to("/security/accounts").into_response())
}

async fn unlock(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AccountsReview>(&state).await?;
    auth.checked(&state, identity::unlock(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(Redirect::to("/security/accounts").into_response())
}
