//! User accounts and the roles they hold at units.

use gridsafe_domain::text::trim_blank;
use std::collections::BTreeMap;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use gridsafe_domain::access::{Capability, UnitPath, check_separation, perm};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::scope_clause;
use super::units::{check_name, unit_by_id};
use crate::audit::{NewEvent, append};
use crate::secret::generate_password;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Hashes a password with Argon2id, off the async runtime.
pub(crate) async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("password hash: {e}")))
    })
    .await
    .map_err(|e| AppError::internal(format!("hashing task: {e}")))?
}

/// A hash no password matches, verified when the account does not exist, so that the answer
/// takes as long for unknown usernames as for known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kQ9hJpuoVsyvTgJXUy3ok4xGQuKSC2ml9X6tJ0E7Zlk";

/// Checks a password against a stored hash, off the async runtime.
pub(crate) async fn verify_password(hash: Option<String>, password: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
        ok && known
    })
    .await
    .map_err(|e| AppError::internal(format!("hashing task: {e}")))
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role: String,
    pub unit_id: i64,
    pub unit_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Locked,
    Dormant,
    Disabled,
}

impl UserStatus {
    pub fn code(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Locked => "locked",
            UserStatus::Dormant => "dormant",
            UserStatus::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub status: UserStatus,
    pub last_login_at: Option<String>,
    pub dormant_flagged_at: Option<String>,
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    pub last_review_at: Option<String>,
    pub last_review_by: Option<String>,
    pub roles: Vec<RoleGrant>,
    #[serde(skip)]
    pub unit_path: String,
}

const USER_COLUMNS: &str = "us.id, us.username, us.display_name, us.unit_id, u.name, u.path, us.last_login_at, \
    us.dormant_flagged_at, us.disabled_at, us.disabled_reason, us.last_review_at, us.last_review_by, us.locked_until";

fn summary_from_row(row: &sqlx::any::AnyRow, now: Timestamp) -> Result<UserSummary, AppError> {
    let disabled_at: Option<String> = row.try_get(8)?;
    let dormant: Option<String> = row.try_get(7)?;
    let locked_until: Option<String> = row.try_get(12)?;
    let locked = locked_until.as_deref().and_then(Timestamp::from_db).is_some_and(|t| now < t);
    let status = if disabled_at.is_some() {
        UserStatus::Disabled
    } else if locked {
        UserStatus::Locked
    } else if dormant.is_some() {
        UserStatus::Dormant
    } else {
        UserStatus::Active
    };
    Ok(UserSummary {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        display_name: row.try_get(2)?,
        unit_id: row.try_get(3)?,
        unit_name: row.try_get(4)?,
        unit_path: row.try_get(5)?,
        last_login_at: row.try_get(6)?,
        dormant_flagged_at: dormant,
        disabled_at,
        disabled_reason: row.try_get(9)?,
        last_review_at: row.try_get(10)?,
        last_review_by: row.try_get(11)?,
        status,
        roles: Vec::new(),
    })
}

async fn attach_roles(app: &App, users: &mut [UserSummary]) -> Result<(), AppError> {
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    let sql = format!(
        "SELECT ur.user_id, ur.role_code, ur.unit_id, u.name FROM user_roles ur JOIN org_units u ON u.id = ur.unit_id \
         JOIN roles r ON r.code = ur.role_code WHERE ur.user_id IN ({}) ORDER BY r.sort_order, u.path",
        ids.join(", ")
    );
    let mut by_user: BTreeMap<i64, Vec<RoleGrant>> = BTreeMap::new();
    for row in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(app.db().pool()).await? {
        by_user.entry(row.try_get(0)?).or_default().push(RoleGrant {
            role: row.try_get(1)?,
            unit_id: row.try_get(2)?,
            unit_name: row.try_get(3)?,
        });
    }
    for user in users {
        user.roles = by_user.remove(&user.id).unwrap_or_default();
    }
    Ok(())
}

/// Users of the units in `scope`, by unit then username. `query` matches username or name.
pub(crate) async fn users_in_scope(
    app: &App,
    scope: &[UnitPath],
    query: Option<&str>,
) -> Result<Vec<UserSummary>, AppError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {USER_COLUMNS} FROM users us JOIN org_units u ON u.id = us.unit_id WHERE {clause}");
    if let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) {
        binds.push(format!("%{q}%"));
        sql.push_str(&format!(" AND (us.username LIKE ${n} OR us.display_name LIKE ${n})", n = binds.len()));
    }
    sql.push_str(" ORDER BY u.path, us.username LIMIT 2000");
    let q = gridsafe_store::bound(sql, &binds);
    let now = app.now();
    let mut users: Vec<UserSummary> =
        q.fetch_all(app.db().pool()).await?.iter().map(|r| summary_from_row(r, now)).collect::<Result<_, _>>()?;
    attach_roles(app, &mut users).await?;
    Ok(users)
}

pub async fn list_users(
    app: &App,
    cap: &Capability<perm::UsersView>,
    query: Option<&str>,
) -> Result<Vec<UserSummary>, AppError> {
    users_in_scope(app, cap.scope(), query).await
}

/// One user, if within the scope of `scope`; `Denied` (to be audited) when outside.
pub(crate) async fn user_in_scope(app: &App, scope: &[UnitPath], id: i64) -> Result<Option<UserSummary>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1"
    )))
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut user = summary_from_row(&row, app.now())?;
    let path = UnitPath::parse(&user.unit_path).ok_or_else(|| AppError::internal("unit path"))?;
    if !scope.iter().any(|s| path.is_within(s)) {
        return Ok(None);
    }
    attach_roles(app, std::slice::from_mut(&mut user)).await?;
    Ok(Some(user))
}

/// One user. A user outside the caller's units is refused as [`AppError::Denied`].
pub async fn get_user(app: &App, cap: &Capability<perm::UsersView>, id: i64) -> Result<UserSummary, AppError> {
    load_checked(app, cap, id).await
}

async fn load_checked<P: gridsafe_domain::access::PermissionMarker>(
    app: &App,
    cap: &Capability<P>,
    id: i64,
) -> Result<UserSummary, AppError> {
    // Load regardless of scope first, to tell "no such user" from "not yours".
    let row = sqlx::query("SELECT u.path FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1")
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?;
    let Some(row) = row else { return Err(AppError::NotFound) };
    let path: String = row.try_get(0)?;
    let path = UnitPath::parse(&path).ok_or_else(|| AppError::internal("unit path"))?;
    cap.check(&path)?;
    user_in_scope(app, cap.scope(), id).await?.ok_or(AppError::NotFound)
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    /// `None`: a password is generated, to be handed over and changed at first sign-in.
    pub password: Option<String>,
}

fn check_username(username: &str, problems: &mut Vec<FieldProblem>) {
    let ok = (2..=40).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !ok {
        problems.push(FieldProblem::new("username", "field-username-format"));
    }
}

/// Creates an account that must change its password at first sign-in. Returns the id and the
/// initial password (generated when none was given), to be shown once.
pub async fn create_user(
    app: &App,
    cap: &Capability<perm::UsersManage>,
    meta: &RequestMeta,
    input: NewUser,
) -> Result<(i64, String), AppError> {
    let username = input.username.trim().to_lowercase();
    let mut problems = Vec::new();
    check_username(&username, &mut problems);
    check_name("display_name", &input.display_name, &mut problems);
    let password = match input.password.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => generate_password()?,
    };
    for problem in app.security().password_policy().problems(&username, &password) {
        problems.push(FieldProblem::new("password", problem.message_key()));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let unit = unit_by_id(app, input.unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let hash = hash_password(password.clone()).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO users (username, display_name, unit_id, password_hash, must_change_password, password_changed_at, \
         failed_logins, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6) RETURNING id",
    )
    .bind(&username)
    .bind(trim_blank(&input.display_name))
    .bind(unit.id)
    .bind(&hash)
    .bind(1_i64)
    .bind(now.to_db())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-username"))?
    .try_get(0)?;
    let event = NewEvent::new("user.created", "user", id)
        .unit(unit.id)
        .summary(serde_json::json!({ "username": username, "unit_id": unit.id }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok((id, password))
}

/// Grants `role` at `unit_id`. Refused (ADMIN_SEPARATION) when the account would then hold the
/// permissions of two administrator classes, or an administrator's with business ones.
pub async fn grant_role(
    app: &App,
    cap: &Capability<perm::UsersManage>,
    meta: &RequestMeta,
    user_id: i64,
    role: &str,
    unit_id: i64,
) -> Result<(), AppError> {
    let user = load_checked(app, cap, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut tx = app.db().begin_write().await?;
    super::roles::lock_roles(&mut tx, app).await?;
    let known: Option<String> =
        sqlx::query_scalar("SELECT code FROM roles WHERE code = $1").bind(role).fetch_optional(&mut *tx).await?;
    if known.is_none() {
        return Err(AppError::NotFound);
    }
    // Separation holds on what the roles grant, the new one with those held (三权分立).
    let grants = super::roles::grants_in(&mut tx).await?;
    let mut roles: Vec<String> = sqlx::query_scalar("SELECT DISTINCT role_code FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
    roles.push(role.to_owned());
    check_separation(roles.iter().flat_map(|r| grants.get(r).cloned().unwrap_or_default()))?;
    sqlx::query(
        "INSERT INTO user_roles (user_id, role_code, unit_id, granted_at, granted_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(role)
    .bind(unit_id)
    .bind(app.now().to_db())
    .bind(&cap.actor().name)
    .execute(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-role-held"))?;
    let event = NewEvent::new("user.role_granted", "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revoke_role(
    app: &App,
    cap: &Capability<perm::UsersManage>,
    meta: &RequestMeta,
    user_id: i64,
    role: &str,
    unit_id: i64,
) -> Result<(), AppError> {
    let user = load_checked(app, cap, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut tx = app.db().begin_write().await?;
    let removed = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role_code = $2 AND unit_id = $3")
        .bind(user_id)
        .bind(role)
        .bind(unit_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    let event = NewEvent::new("user.role_revoked", "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (ending every session and token use at once) or re-enables an account.
pub async fn set_disabled(
    app: &App,
    cap: &Capability<perm::UsersManage>,
    meta: &RequestMeta,
    user_id: i64,
    disabled: bool,
    reason: &str,
) -> Result<(), AppError> {
    let user = load_checked(app, cap, user_id).await?;
    if disabled && reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "field-required"));
    }
    if cap.actor().user_id == Some(user_id) && disabled {
        return Err(AppError::Conflict("conflict-disable-self"));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    if disabled {
        sqlx::query("UPDATE users SET disabled_at = $1, disabled_reason = $2 WHERE id = $3")
            .bind(now.to_db())
            .bind(reason.trim())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    } else {
        // Re-enabling restarts the dormancy clock: the owner has a fresh period to sign in.
        sqlx::query(
            "UPDATE users SET disabled_at = NULL, disabled_reason = NULL, dormant_flagged_at = NULL, last_login_at = $1 WHERE id = $2",
        )
        .bind(now.to_db())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    }
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    let event = NewEvent::new(action, "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username, "reason": reason.trim() }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new generated password that must be changed at next sign-in; ends the user's sessions.
pub async fn reset_password(
    app: &App,
    cap: &Capability<perm::UsersManage>,
    meta: &RequestMeta,
    user_id: i64,
) -> Result<String, AppError> {
    let user = load_checked(app, cap, user_id).await?;
    let password = generate_password()?;
    let hash = hash_password(password.clone()).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, failed_logins = 0, locked_until = NULL WHERE id = $4")
        .bind(&hash)
        .bind(1_i64)
        .bind(now.to_db())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let event = NewEvent::new("user.password_reset", "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(password)
}
