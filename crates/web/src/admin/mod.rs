//! System administration (系统管理员): the unit tree, user accounts and their roles, and which
//! permissions each role grants.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::identity::{self, NewUnit, NewUser, RoleInfo, Unit, UnitKind, UserSummary};
use gridsafe_domain::access::{Permission, perm};
use gridsafe_domain::ids::UnitId;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/admin/units", units_page)
        .post("/admin/units", units_create)
        .post("/admin/units/{id}", units_rename)
        .get("/admin/users", users_page)
        .post("/admin/users", users_create)
        .get("/admin/users/{id}", user_page)
        .post("/admin/users/{id}/roles", user_grant)
        .post("/admin/users/{id}/roles/revoke", user_revoke)
        .post("/admin/users/{id}/disable", user_disable)
        .post("/admin/users/{id}/enable", user_enable)
        .post("/admin/users/{id}/reset-password", user_reset)
        .post("/admin/users/{id}/person", user_link_person)
        .get("/admin/roles", roles_page)
        .post("/admin/roles/{code}", roles_save)
}

/// A unit as an option of a select, indented by depth.
pub struct UnitOption {
    pub id: UnitId,
    pub label: String,
}

/// Whether the unit filter's text (`unit=` of a query) chooses unit `id`.
pub fn unit_chosen(choice: &str, id: &UnitId) -> bool {
    choice.trim().parse::<UnitId>().ok() == Some(*id)
}

pub fn unit_options(units: &[Unit]) -> Vec<UnitOption> {
    units
        .iter()
        .map(|u| UnitOption { id: u.id, label: format!("{}{}", "　".repeat(u.depth().saturating_sub(1)), u.name) })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    chrome: Chrome,
    units: Vec<Unit>,
    options: Vec<UnitOption>,
    kinds: Vec<&'static str>,
}

async fn units_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    let units = identity::list_units(state.app(), cap.scope()).await?;
    Ok(render(&UnitsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        options: unit_options(&units),
        units,
        kinds: UnitKind::ALL.iter().map(|k| k.code()).collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct UnitForm {
    code: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
}

async fn units_create(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<UnitForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    let parent_id = form.parent_id.as_deref().and_then(|p| p.parse().ok());
    let input = NewUnit { code: form.code, name: form.name, kind: form.kind, parent_id };
    auth.checked(&state, identity::create_unit(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/admin/units").into_response())
}

#[derive(Debug, Deserialize)]
struct RenameForm {
    name: String,
}

async fn units_rename(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<UnitId>,
    Form(form): Form<RenameForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    auth.checked(&state, identity::rename_unit(state.app(), &cap, &auth.meta, id, &form.name).await).await?;
    Ok(Redirect::to("/admin/units").into_response())
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserSummary>,
    q: String,
    can_manage: bool,
    options: Vec<UnitOption>,
    created: Option<(String, String)>,
}

#[derive(Debug, Deserialize)]
struct UsersQuery {
    q: Option<String>,
}

async fn users_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(query): Query<UsersQuery>,
) -> Result<Response, AppError> {
    users_view(&state, ctx, &auth, query.q.unwrap_or_default(), None).await
}

async fn users_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    q: String,
    created: Option<(String, String)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UsersView>(state).await?;
    let users = identity::list_users(state.app(), &cap, Some(&q)).await?;
    let manage = auth.user.principal.authorize::<perm::UsersManage>().ok();
    let options = match &manage {
        Some(m) => unit_options(&identity::list_units(state.app(), m.scope()).await?),
        None => Vec::new(),
    };
    Ok(render(&UsersPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        users,
        q,
        can_manage: manage.is_some(),
        options,
        created,
    }))
}

#[derive(Debug, Deserialize)]
struct UserForm {
    username: String,
    display_name: String,
    unit_id: UnitId,
}

async fn users_create(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(form): Form<UserForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UsersManage>(&state).await?;
    let username = form.username.trim().to_lowercase();
    let input = NewUser {
        username: form.username,
        display_name: form.display_name,
        unit_id: form.unit_id,
        // Always generated: an administrator never chooses a user's password.
        password: None,
    };
    let (_, password) = auth.checked(&state, identity::create_user(state.app(), &cap, &auth.meta, input).await).await?;
    // The initial password is shown once, on this response only.
    users_view(&state, ctx, &auth, String::new(), Some((username, password))).await
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    chrome: Chrome,
    account: UserSummary,
    can_manage: bool,
    roles: Vec<RoleInfo>,
    options: Vec<UnitOption>,
    new_password: Option<String>,
}

async fn user_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    user_view(&state, ctx, &auth, id, None).await
}

async fn user_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    id: i64,
    new_password: Option<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UsersView>(state).await?;
    let user = auth.checked(state, identity::get_user(state.app(), &cap, id).await).await?;
    let manage = auth.is_account_admin();
    let options = match &manage {
        Some(m) => unit_options(&identity::list_units(state.app(), m.scope()).await?),
        None => Vec::new(),
    };
    Ok(render(&UserPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        account: user,
        can_manage: manage.is_some(),
        roles: identity::list_roles(state.app()).await?,
        options,
        new_password,
    }))
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
    unit_id: UnitId,
}

async fn user_grant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::grant_role(state.app(), admin, &auth.meta, id, &form.role, form.unit_id).await)
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn user_revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::revoke_role(state.app(), admin, &auth.meta, id, &form.role, form.unit_id).await)
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn user_disable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::set_disabled(state.app(), admin, &auth.meta, id, true, &form.reason).await).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn user_enable(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::set_disabled(state.app(), admin, &auth.meta, id, false, "").await).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn user_reset(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    let password = auth.checked(&state, identity::reset_password(state.app(), admin, &auth.meta, id).await).await?;
    user_view(&state, ctx, &auth, id, Some(password)).await
}

#[derive(Debug, Deserialize)]
struct PersonLinkForm {
    #[serde(default)]
    person_code: String,
}

/// Links the account to the person it acts as in the field (empty: unlinks it).
async fn user_link_person(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<PersonLinkForm>,
) -> Result<Response, AppError> {
    let admin = auth.account_admin(&state).await?;
    let code = Some(form.person_code.as_str());
    auth.checked(&state, gridsafe_app::people::link_account(state.app(), admin, &auth.meta, id, code).await).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleInfo>,
    permissions: Vec<Permission>,
}

async fn roles_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::RolesManage>(&state).await?;
    Ok(render(&RolesPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        roles: identity::list_roles(state.app()).await?,
        permissions: Permission::ALL.to_vec(),
    }))
}

async fn roles_save(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::RolesManage>(&state).await?;
    let permissions: Vec<Permission> =
        fields.iter().filter(|(k, _)| k == "permission").filter_map(|(_, v)| Permission::from_code(v)).collect();
    identity::set_role_permissions(state.app(), &cap, &auth.meta, &code, &permissions).await?;
    Ok(Redirect::to("/admin/roles").into_response())
}
