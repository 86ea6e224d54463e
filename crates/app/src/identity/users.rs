//! User accounts and the roles they hold at units.

use gridsafe_domain::text::trim_blank;
use std::collections::BTreeMap;

use gridsafe_domain::access::{
    AccountActor, Actor, AdminClass, Capability, Denied, Permission, UnitPath, check_account_act, check_separation,
    perm,
};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::scope_clause;
use super::tokens::{TokenRevocation, revoke_all};
use super::units::{check_name, unit_by_id};
use crate::audit::{NewEvent, append};
use crate::secret::generate_password;
use crate::{App, AppError, FieldProblem, RequestMeta};

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
    /// The person (工号 and name) the account acts as in the field, if linked.
    pub person: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

const USER_COLUMNS: &str = "us.id, us.username, us.display_name, us.unit_id, u.name, u.path, us.last_login_at, \
    us.dormant_flagged_at, us.disabled_at, us.disabled_reason, us.last_review_at, us.last_review_by, \
    (SELECT lg.locked_until FROM login_guard lg WHERE lg.username = us.username), \
    (SELECT p.code || ' ' || p.name FROM people p WHERE p.user_id = us.id)";

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
        person: row.try_get(13)?,
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
    if let Some(pattern) = crate::search::contains("q", query)? {
        binds.push(pattern);
        let n = binds.len();
        sql.push_str(&format!(
            " AND ({} OR {})",
            crate::search::like("us.username", n),
            crate::search::like("us.display_name", n)
        ));
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

/// An administrator acting on accounts, with the class the act is judged by: the system
/// administrator (`users.manage`) handles ordinary accounts, the security administrator
/// (`accounts.review`) administrators' accounts ([`check_account_act`]).
#[derive(Debug, Clone)]
pub struct AccountAdmin {
    actor: Actor,
    scope: Vec<UnitPath>,
    class: AdminClass,
}

/// The permissions that administer accounts.
pub trait AccountAuthority: gridsafe_domain::access::PermissionMarker {
    const CLASS: AdminClass;
}
impl AccountAuthority for perm::UsersManage {
    const CLASS: AdminClass = AdminClass::System;
}
impl AccountAuthority for perm::AccountsReview {
    const CLASS: AdminClass = AdminClass::Security;
}

impl<P: AccountAuthority> From<&Capability<P>> for AccountAdmin {
    fn from(cap: &Capability<P>) -> Self {
        Self { actor: cap.actor().clone(), scope: cap.scope().to_vec(), class: P::CLASS }
    }
}

impl AccountAdmin {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn scope(&self) -> &[UnitPath] {
        &self.scope
    }

    fn who(&self) -> AccountActor {
        match self.actor.user_id {
            None => AccountActor::Console,
            Some(user_id) => AccountActor::Admin { user_id, class: self.class },
        }
    }

    fn permission(&self) -> Permission {
        match self.class {
            AdminClass::Security => Permission::AccountsReview,
            _ => Permission::UsersManage,
        }
    }

    /// The account, when within this administrator's units.
    pub(crate) async fn load(&self, app: &App, id: i64) -> Result<UserSummary, AppError> {
        let path: Option<String> =
            sqlx::query_scalar("SELECT u.path FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1")
                .bind(id)
                .fetch_optional(app.db().pool())
                .await?;
        let path = UnitPath::parse(&path.ok_or(AppError::NotFound)?).ok_or_else(|| AppError::internal("unit path"))?;
        self.check_unit(&path)?;
        user_in_scope(app, &self.scope, id).await?.ok_or(AppError::NotFound)
    }

    /// Refused (to be audited) when `path` is outside this administrator's units.
    pub(crate) fn check_unit(&self, path: &UnitPath) -> Result<(), AppError> {
        if self.scope.iter().any(|s| path.is_within(s)) {
            Ok(())
        } else {
            Err(Denied::OutsideScope(self.permission()).into())
        }
    }

    /// Whether this administrator may act on `target` (三员分立), judged in `tx` on what the
    /// account's roles grant, with `adding` (a role about to be granted).
    pub(crate) async fn check_act(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        target: i64,
        adding: Option<&str>,
    ) -> Result<(), AppError> {
        let grants = super::roles::grants_in(tx).await?;
        let mut roles: Vec<String> = sqlx::query_scalar("SELECT DISTINCT role_code FROM user_roles WHERE user_id = $1")
            .bind(target)
            .fetch_all(&mut **tx)
            .await?;
        roles.extend(adding.map(str::to_owned));
        let permissions = roles.iter().flat_map(|r| grants.get(r).cloned().unwrap_or_default());
        Ok(check_account_act(self.who(), target, permissions)?)
    }

    /// [`Self::check_act`] before the act, in a read: a refusal is audited (an administrator
    /// reaching for another class's account is what the log auditor looks for). The act checks
    /// again in its own write.
    pub(crate) async fn permit(
        &self,
        app: &App,
        meta: &RequestMeta,
        target: i64,
        adding: Option<&str>,
        act: &'static str,
    ) -> Result<(), AppError> {
        let mut tx = app.db().pool().begin().await?;
        let checked = self.check_act(&mut tx, target, adding).await;
        tx.rollback().await?;
        if let Err(AppError::Rule(violation)) = &checked {
            let event = NewEvent::new("account.act_refused", "user", target)
                .summary(serde_json::json!({ "act": act, "role": adding, "rule": violation.rule.code }));
            app.record(&self.actor, meta, event).await?;
        }
        checked
    }
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
    let hash = app.hashing().hash(password.clone()).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO users (username, display_name, unit_id, password_hash, must_change_password, password_changed_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
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
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok((id, password))
}

/// Grants `role` at `unit_id`. Refused (ADMIN_SEPARATION) when the account would then hold the
/// permissions of two administrator classes, or an administrator's with business ones.
pub async fn grant_role(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
    role: &str,
    unit_id: i64,
) -> Result<(), AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    admin.check_unit(&unit.path)?;
    admin.permit(app, meta, user_id, Some(role), "grant_role").await?;
    let mut tx = app.db().begin_write().await?;
    super::roles::lock_roles(&mut tx, app).await?;
    let known: Option<String> =
        sqlx::query_scalar("SELECT code FROM roles WHERE code = $1").bind(role).fetch_optional(&mut *tx).await?;
    if known.is_none() {
        return Err(AppError::NotFound);
    }
    admin.check_act(&mut tx, user_id, Some(role)).await?;
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
    .bind(&admin.actor().name)
    .execute(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-role-held"))?;
    let event = NewEvent::new("user.role_granted", "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id }));
    append(&mut tx, admin.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes `role` at `unit_id`. The account's API tokens are revoked with it: they were issued
/// on the permissions the account held.
pub async fn revoke_role(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
    role: &str,
    unit_id: i64,
) -> Result<(), AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    admin.check_unit(&unit.path)?;
    admin.permit(app, meta, user_id, None, "revoke_role").await?;
    let mut tx = app.db().begin_write().await?;
    admin.check_act(&mut tx, user_id, None).await?;
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
    let tokens = revoke_all(&mut tx, user_id, TokenRevocation::RoleRevoked, app.now()).await?;
    let event = NewEvent::new("user.role_revoked", "user", user_id).unit(user.unit_id).summary(
        serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id, "tokens_revoked": tokens }),
    );
    append(&mut tx, admin.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (ending every session and revoking every token at once) or re-enables an account
/// (whose revoked tokens stay revoked).
pub async fn set_disabled(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
    disabled: bool,
    reason: &str,
) -> Result<(), AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    if disabled && reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "field-required"));
    }
    if reason.chars().count() > 200 {
        return Err(AppError::Invalid(vec![FieldProblem::new("reason", "field-name-length").with("max", 200)]));
    }
    admin.permit(app, meta, user_id, None, if disabled { "disable" } else { "enable" }).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    admin.check_act(&mut tx, user_id, None).await?;
    let mut tokens = 0;
    if disabled {
        sqlx::query("UPDATE users SET disabled_at = $1, disabled_reason = $2 WHERE id = $3")
            .bind(now.to_db())
            .bind(reason.trim())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tokens = revoke_all(&mut tx, user_id, TokenRevocation::AccountDisabled, now).await?;
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
        .summary(serde_json::json!({ "username": user.username, "reason": reason.trim(), "tokens_revoked": tokens }));
    append(&mut tx, admin.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new generated password that must be changed at next sign-in; ends the user's sessions
/// and revokes the account's API tokens. The one-time password is returned once, to the
/// administrator who may act on the account ([`check_account_act`]): never its owner's own
/// class for an administrator's account.
pub async fn reset_password(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
) -> Result<String, AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    // Refused before the (bounded, costly) hash; checked again in the write below.
    admin.permit(app, meta, user_id, None, "reset_password").await?;
    let password = generate_password()?;
    let hash = app.hashing().hash(password.clone()).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    admin.check_act(&mut tx, user_id, None).await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3 WHERE id = $4",
    )
    .bind(&hash)
    .bind(1_i64)
    .bind(now.to_db())
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM login_guard WHERE username = $1").bind(&user.username).execute(&mut *tx).await?;
    let tokens = revoke_all(&mut tx, user_id, TokenRevocation::PasswordReset, now).await?;
    let event = NewEvent::new("user.password_reset", "user", user_id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "username": user.username, "tokens_revoked": tokens }));
    append(&mut tx, admin.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(password)
}
