//! `/api/v1` for the signed-in user, units, users and tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::identity::{self, NewToken, NewUnit, NewUser};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    /// Permission codes the caller holds (through this token, when called with one).
    pub permissions: Vec<String>,
}

/// Who the caller is and what they may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Password change required", body = ErrorEnvelope),
    ))]
pub async fn me(auth: Auth) -> Json<Me> {
    Json(Me {
        id: auth.user.id,
        username: auth.user.username.clone(),
        display_name: auth.user.display_name.clone(),
        unit_id: auth.user.unit_id.get(),
        permissions: auth.user.principal.permissions().into_iter().map(|p| p.code().to_owned()).collect(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitOut {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `province`, `city`, `county` or `team`.
    pub kind: String,
    pub parent_id: Option<i64>,
}

impl From<identity::Unit> for UnitOut {
    fn from(u: identity::Unit) -> Self {
        Self {
            id: u.id.get(),
            code: u.code,
            name: u.name,
            kind: u.kind.code().to_owned(),
            parent_id: u.parent_id.map(UnitId::get),
        }
    }
}

/// Organisation units within the caller's scope, in tree order.
#[utoipa::path(get, path = "/api/v1/units", tag = "identity", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<UnitOut>),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
    ))]
pub async fn list_units(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<UnitOut>>, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    Ok(Json(identity::list_units(state.app(), cap.scope()).await?.into_iter().map(UnitOut::from).collect()))
}

/// 省公司, 市公司, 县公司/供电中心, 班组.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitKindIn {
    Province,
    City,
    County,
    Team,
}

impl UnitKindIn {
    fn code(self) -> &'static str {
        match self {
            UnitKindIn::Province => "province",
            UnitKindIn::City => "city",
            UnitKindIn::County => "county",
            UnitKindIn::Team => "team",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnitIn {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$", example = "XG-XN")]
    pub code: String,
    #[schema(pattern = "\\S", max_length = 100, example = "孝南供电中心")]
    pub name: String,
    pub kind: UnitKindIn,
    /// The parent unit; omit only for a top-level unit.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
    pub parent_id: Option<i64>,
}

/// Creates a unit below `parent_id`.
#[utoipa::path(post, path = "/api/v1/units", tag = "identity", security(("bearer" = [])), request_body = UnitIn,
    responses(
        (status = 201, body = UnitOut),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "No such parent unit", body = ErrorEnvelope),
        (status = 409, description = "Code taken, or a rule refused", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn create_unit(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<UnitIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    let input = NewUnit {
        code: input.code,
        name: input.name,
        kind: input.kind.code().to_owned(),
        parent_id: input.parent_id.map(UnitId::new),
    };
    let unit = auth.checked(&state, identity::create_unit(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(UnitOut::from(unit))).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleGrantOut {
    pub role: String,
    pub unit_id: i64,
    pub unit_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// `active`, `locked`, `dormant` or `disabled`.
    pub status: String,
    pub last_login_at: Option<String>,
    pub last_review_at: Option<String>,
    pub roles: Vec<RoleGrantOut>,
    /// The person (工号 and name) the account acts as in the field, if linked.
    pub person: Option<String>,
}

impl From<identity::UserSummary> for UserOut {
    fn from(u: identity::UserSummary) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            unit_id: u.unit_id.get(),
            unit_name: u.unit_name,
            status: u.status.code().to_owned(),
            last_login_at: u.last_login_at,
            last_review_at: u.last_review_at,
            roles: u
                .roles
                .into_iter()
                .map(|r| RoleGrantOut { role: r.role, unit_id: r.unit_id.get(), unit_name: r.unit_name })
                .collect(),
            person: u.person,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username or name.
    pub q: Option<String>,
}

/// Users of the caller's units.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity", security(("bearer" = [])), params(UserQuery),
    responses(
        (status = 200, body = Vec<UserOut>),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Vec<UserOut>>, AppError> {
    let cap = auth.require::<perm::UsersView>(&state).await?;
    Ok(Json(identity::list_users(state.app(), &cap, q.q.as_deref()).await?.into_iter().map(UserOut::from).collect()))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, body = UserOut),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "Not permitted, or the user belongs to another unit", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserOut>, AppError> {
    let cap = auth.require::<perm::UsersView>(&state).await?;
    let user = auth.checked(&state, identity::get_user(state.app(), &cap, id).await).await?;
    Ok(Json(UserOut::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserIn {
    #[schema(pattern = "^[A-Za-z0-9._-]{2,40}$", example = "zhangwei")]
    pub username: String,
    #[schema(pattern = "\\S", max_length = 100, example = "张伟")]
    pub display_name: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub id: i64,
    /// Shown once; the user must change it at first sign-in.
    pub initial_password: String,
}

/// Creates an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", security(("bearer" = [])), request_body = UserIn,
    responses(
        (status = 201, body = CreatedUser),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "No such unit", body = ErrorEnvelope),
        (status = 409, description = "Username taken", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<UserIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::UsersManage>(&state).await?;
    let input = NewUser {
        username: input.username,
        display_name: input.display_name,
        unit_id: UnitId::new(input.unit_id),
        // Always generated: an administrator never chooses a user's password.
        password: None,
    };
    let (id, initial_password) =
        auth.checked(&state, identity::create_user(state.app(), &cap, &auth.meta, input).await).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { id, initial_password })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleIn {
    /// A role code, e.g. `safety_auditor`.
    #[schema(min_length = 1, max_length = 40)]
    pub role: String,
    /// The unit the role is held at (it reaches the units below too).
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
}

/// Grants a role at a unit.
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "identity", security(("bearer" = [])), request_body = RoleIn,
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Granted"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Already held, the administrator roles would mix (ADMIN_SEPARATION), one's own account (ACCOUNT_SELF), or an administrator's account not by the security administrator (ADMIN_ACCOUNTS)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn grant_role(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RoleIn>,
) -> Result<StatusCode, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(
        &state,
        identity::grant_role(state.app(), admin, &auth.meta, id, &input.role, UnitId::new(input.unit_id)).await,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonLinkIn {
    /// 工号 of the person the account acts as; `null` or empty to unlink.
    #[schema(max_length = 40)]
    pub person_code: Option<String>,
}

/// Links the account to the person it acts as in the field (signing ticket steps), or unlinks
/// it: the system administrator for ordinary accounts, the security administrator for
/// administrators'; audited with both names.
#[utoipa::path(post, path = "/api/v1/users/{id}/person", tag = "identity", security(("bearer" = [])), request_body = PersonLinkIn,
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Linked or unlinked"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "No such account or person", body = ErrorEnvelope),
        (status = 409, description = "The person has another account or the account another person; one's own account (ACCOUNT_SELF); an administrator's account not by the security administrator (ADMIN_ACCOUNTS)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn link_person(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PersonLinkIn>,
) -> Result<StatusCode, AppError> {
    let admin = auth.account_admin(&state).await?;
    let code = input.person_code.as_deref();
    auth.checked(&state, gridsafe_app::people::link_account(state.app(), admin, &auth.meta, id, code).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// Set when the token was revoked by a security event of its account rather than by its
    /// owner: `password_changed`, `password_reset`, `account_disabled` or `role_revoked`.
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<identity::TokenInfo> for TokenOut {
    fn from(t: identity::TokenInfo) -> Self {
        Self {
            id: t.id,
            name: t.name,
            permissions: t.permissions,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            revoked_reason: t.revoked_reason,
            last_used_at: t.last_used_at,
        }
    }
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenOut>), (status = 401, body = ErrorEnvelope), (status = 403, description = "Called with an API token", body = ErrorEnvelope)))]
pub async fn list_tokens(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<TokenOut>>, AppError> {
    auth.require_session(&state).await?;
    Ok(Json(identity::list_tokens(state.app(), &auth.user).await?.into_iter().map(TokenOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenIn {
    #[schema(pattern = "\\S", max_length = 100, example = "营销系统对接")]
    pub name: String,
    /// Permission codes, each one the caller holds.
    #[schema(schema_with = permission_codes)]
    pub permissions: Vec<String>,
    /// Days until the token expires (at most `security.api_token_max_days`, 365 by default).
    #[schema(minimum = 1, maximum = 365, example = 90)]
    #[serde(deserialize_with = "crate::json::whole::u32")]
    pub valid_days: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenOut,
    /// Send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

/// The schema of a list of permission codes, generated from the one enum in the domain.
fn permission_codes() -> utoipa::openapi::schema::Array {
    let codes = gridsafe_domain::access::Permission::ALL.iter().map(|p| p.code());
    utoipa::openapi::schema::ArrayBuilder::new().items(crate::json::one_of(codes)).min_items(Some(1)).build()
}

/// The schema of a role's permission codes: any of the domain's, none at all too.
fn permission_list() -> utoipa::openapi::schema::Array {
    let codes = gridsafe_domain::access::Permission::ALL.iter().map(|p| p.code());
    let most = gridsafe_domain::access::Permission::ALL.len();
    utoipa::openapi::schema::ArrayBuilder::new().items(crate::json::one_of(codes)).max_items(Some(most)).build()
}

/// Creates an API token with a subset of the caller's permissions.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", security(("bearer" = [])), request_body = TokenIn,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorEnvelope), (status = 403, description = "Called with an API token, or a permission the caller does not hold", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TokenIn>,
) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    let input = NewToken { name: input.name, permissions: input.permissions, valid_days: input.valid_days };
    let (token, secret) =
        auth.checked(&state, identity::create_token(state.app(), &auth.meta, &auth.user, input).await).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token: token.into(), secret })).into_response())
}

/// Revokes one of the caller's tokens, effective at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorEnvelope), (status = 403, description = "Called with an API token", body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    auth.require_session(&state).await?;
    identity::revoke_token(state.app(), &auth.meta, &auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a role back (the same checks as granting it).
#[utoipa::path(post, path = "/api/v1/users/{id}/roles/revoke", tag = "identity", security(("bearer" = [])), request_body = RoleIn,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn revoke_role(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RoleIn>,
) -> Result<StatusCode, AppError> {
    let admin = auth.account_admin(&state).await?;
    let result =
        identity::revoke_role(state.app(), admin, &auth.meta, id, &input.role, UnitId::new(input.unit_id)).await;
    auth.checked(&state, result).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableIn {
    /// Why (on the account's record and in the audit trail).
    #[schema(pattern = "\\S", max_length = 200)]
    pub reason: String,
}

/// Disables an account: it cannot sign in, and its sessions and API tokens end.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "identity", security(("bearer" = [])), request_body = DisableIn,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Disabled"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn disable_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DisableIn>,
) -> Result<StatusCode, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::set_disabled(state.app(), admin, &auth.meta, id, true, &input.reason).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled account again (its old API tokens stay revoked).
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "identity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Enabled"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn enable_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let admin = auth.account_admin(&state).await?;
    auth.checked(&state, identity::set_disabled(state.app(), admin, &auth.meta, id, false, "").await).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountReviewIn {
    /// What the review found (权限审查).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Records a permission review of an account (the security administrator).
#[utoipa::path(post, path = "/api/v1/users/{id}/review", tag = "identity", security(("bearer" = [])), request_body = AccountReviewIn,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Recorded"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn review_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AccountReviewIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::AccountsReview>(&state).await?;
    auth.checked(&state, identity::record_review(state.app(), &cap, &auth.meta, id, &input.note).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlocks an account locked out by wrong passwords (the security administrator).
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "identity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Unlocked"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn unlock_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::AccountsReview>(&state).await?;
    auth.checked(&state, identity::unlock(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRenameIn {
    #[schema(pattern = "\\S", max_length = 100, example = "孝南供电中心")]
    pub name: String,
}

/// Renames a unit (its code, place in the tree and records stay).
#[utoipa::path(put, path = "/api/v1/units/{id}", tag = "identity", security(("bearer" = [])), request_body = UnitRenameIn,
    params(("id" = i64, Path, description = "Unit id")),
    responses((status = 204, description = "Renamed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn rename_unit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UnitRenameIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::UnitsManage>(&state).await?;
    auth.checked(&state, identity::rename_unit(state.app(), &cap, &auth.meta, UnitId::new(id), &input.name).await)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePermissionsIn {
    /// Every permission code the role grants from now on (none for a role that grants nothing).
    #[schema(schema_with = permission_list)]
    pub permissions: Vec<String>,
}

/// Changes what a role grants: the whole list, checked against the separation of the three
/// administrators (三员分立).
#[utoipa::path(put, path = "/api/v1/roles/{code}", tag = "identity", security(("bearer" = [])), request_body = RolePermissionsIn,
    params(("code" = String, Path, description = "Role code")),
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "The role would mix administrator classes or an administrator's and business permissions", body = ErrorEnvelope),
        (status = 422, description = "An unknown permission code", body = ErrorEnvelope)))]
pub async fn set_role_permissions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<RolePermissionsIn>,
) -> Result<StatusCode, AppError> {
    use gridsafe_domain::access::Permission;
    let cap = auth.require::<perm::RolesManage>(&state).await?;
    if input.permissions.len() > Permission::ALL.len() {
        let too_many = gridsafe_app::FieldProblem::new("permissions", "role-permissions-too-many")
            .with("max", Permission::ALL.len());
        return Err(gridsafe_app::AppError::Invalid(vec![too_many]).into());
    }
    let mut permissions = Vec::new();
    for code in &input.permissions {
        let p = Permission::from_code(code).ok_or_else(|| {
            gridsafe_app::AppError::Invalid(vec![
                gridsafe_app::FieldProblem::new("permissions", "role-permission-unknown")
                    .with("value", gridsafe_sheet::quoted(code)),
            ])
        })?;
        permissions.push(p);
    }
    auth.checked(&state, identity::set_role_permissions(state.app(), &cap, &auth.meta, &code, &permissions).await)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// The one-time password, shown this once: the account must change it at the next sign-in.
    pub password: String,
}

/// Resets an account's password to a one-time one (the same checks as the page: never one's
/// own, an administrator's only by the security administrator); its sessions and API tokens end.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "identity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = PasswordReset), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PasswordReset>, AppError> {
    let admin = auth.account_admin(&state).await?;
    let password = auth.checked(&state, identity::reset_password(state.app(), admin, &auth.meta, id).await).await?;
    Ok(Json(PasswordReset { password }))
}
