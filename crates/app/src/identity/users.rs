//! User accounts and the roles they hold at units.

use gridsafe_domain::ids::UnitId;
use gridsafe_domain::text::trim_blank;

use gridsafe_domain::access::{
    AccountActor, Actor, AdminClass, Capability, Denied, Permission, UnitPath, check_account_act, check_separation,
    perm,
};
use gridsafe_store::Conn;
use gridsafe_store::identity as store;

use super::tokens::{TokenRevocation, revoke_all};
use super::units::{check_name, unit_by_id};
use crate::audit::NewEvent;
use crate::secret::generate_password;
use crate::{App, AppError, FieldProblem, RequestMeta};
pub use gridsafe_store::identity::{RoleGrant, UserStatus, UserSummary};

/// Users of the units in `scope`, by unit then username. `query` matches username or name.
pub(crate) async fn users_in_scope(
    app: &App,
    scope: &[UnitPath],
    query: Option<&str>,
) -> Result<Vec<UserSummary>, AppError> {
    let pattern = crate::search::contains("q", query)?;
    Ok(store::users(&mut *app.db().read().await?, scope, pattern, app.now()).await?)
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
    let user = store::user(&mut *app.db().read().await?, id, app.now()).await?;
    Ok(user.filter(|u| UnitPath::parse(&u.unit_path).is_some_and(|path| scope.iter().any(|s| path.is_within(s)))))
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
    let path = store::user_path(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
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
        let path = store::user_path(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
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
    pub(crate) async fn check_act(&self, conn: &mut Conn, target: i64, adding: Option<&str>) -> Result<(), AppError> {
        let grants = store::grants_by_role(conn).await?;
        let mut roles = store::roles_of(conn, target).await?;
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
        let checked = self.check_act(&mut *app.db().read().await?, target, adding).await;
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
    pub unit_id: UnitId,
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let id = store::insert_user(work.conn(), &username, trim_blank(&input.display_name), unit.id, &hash, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-username"))?;
    work.audit(
        NewEvent::new("user.created", "user", id)
            .unit(unit.id)
            .summary(serde_json::json!({ "username": username, "unit_id": unit.id })),
    )
    .await?;
    work.commit().await?;
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
    unit_id: UnitId,
) -> Result<(), AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    admin.check_unit(&unit.path)?;
    admin.permit(app, meta, user_id, Some(role), "grant_role").await?;
    let mut work = app.begin(admin.actor(), meta).await?;
    // Load, with every role held: two grants to one account wait for each other.
    store::hold_roles(work.conn()).await?;
    if !store::role_exists(work.conn(), role).await? {
        return Err(AppError::NotFound);
    }
    admin.check_act(work.conn(), user_id, Some(role)).await?;
    // Separation holds on what the roles grant, the new one with those held (三权分立).
    let grants = store::grants_by_role(work.conn()).await?;
    let mut roles = store::roles_of(work.conn(), user_id).await?;
    roles.push(role.to_owned());
    check_separation(roles.iter().flat_map(|r| grants.get(r).cloned().unwrap_or_default()))?;
    let now = work.now();
    store::insert_grant(work.conn(), user_id, role, unit_id, &admin.actor().name, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-role-held"))?;
    work.audit(
        NewEvent::new("user.role_granted", "user", user_id)
            .unit(user.unit_id)
            .summary(serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id })),
    )
    .await?;
    work.commit().await
}

/// Revokes `role` at `unit_id`. The account's API tokens are revoked with it: they were issued
/// on the permissions the account held.
pub async fn revoke_role(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
    role: &str,
    unit_id: UnitId,
) -> Result<(), AppError> {
    let admin = admin.into();
    let user = admin.load(app, user_id).await?;
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    admin.check_unit(&unit.path)?;
    admin.permit(app, meta, user_id, None, "revoke_role").await?;
    let mut work = app.begin(admin.actor(), meta).await?;
    admin.check_act(work.conn(), user_id, None).await?;
    if !store::delete_grant(work.conn(), user_id, role, unit_id).await? {
        return Err(AppError::NotFound);
    }
    let now = work.now();
    let tokens = revoke_all(work.conn(), user_id, TokenRevocation::RoleRevoked, now).await?;
    work.audit(NewEvent::new("user.role_revoked", "user", user_id).unit(user.unit_id).summary(
        serde_json::json!({ "username": user.username, "role": role, "at_unit": unit_id, "tokens_revoked": tokens }),
    ))
    .await?;
    work.commit().await
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
    let mut work = app.begin(admin.actor(), meta).await?;
    let now = work.now();
    admin.check_act(work.conn(), user_id, None).await?;
    let mut tokens = 0;
    if disabled {
        store::disable(work.conn(), user_id, reason.trim(), now).await?;
        store::delete_sessions_of(work.conn(), user_id).await?;
        tokens = revoke_all(work.conn(), user_id, TokenRevocation::AccountDisabled, now).await?;
    } else {
        // Re-enabling restarts the dormancy clock: the owner has a fresh period to sign in.
        store::enable(work.conn(), user_id, now).await?;
    }
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    work.audit(
        NewEvent::new(action, "user", user_id).unit(user.unit_id).summary(
            serde_json::json!({ "username": user.username, "reason": reason.trim(), "tokens_revoked": tokens }),
        ),
    )
    .await?;
    work.commit().await
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
    let mut work = app.begin(admin.actor(), meta).await?;
    let now = work.now();
    admin.check_act(work.conn(), user_id, None).await?;
    store::set_password(work.conn(), user_id, &hash, true, now).await?;
    store::delete_sessions_of(work.conn(), user_id).await?;
    store::clear_guard(work.conn(), &user.username).await?;
    let tokens = revoke_all(work.conn(), user_id, TokenRevocation::PasswordReset, now).await?;
    work.audit(
        NewEvent::new("user.password_reset", "user", user_id)
            .unit(user.unit_id)
            .summary(serde_json::json!({ "username": user.username, "tokens_revoked": tokens })),
    )
    .await?;
    work.commit().await?;
    Ok(password)
}
