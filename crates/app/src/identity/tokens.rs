//! API tokens for integrations: a subset of the creator's permissions, shown once, stored
//! hashed, with an expiry, revocable, last use recorded.

use gridsafe_domain::access::Permission;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::identity as store;

use super::auth::CurrentUser;
use crate::audit::NewEvent;
use crate::secret::{random_hex, token_hash};
use crate::{App, AppError, FieldProblem, RequestMeta};
pub use gridsafe_store::identity::TokenInfo;

/// Why an account's tokens were all revoked: a security event of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRevocation {
    PasswordChanged,
    PasswordReset,
    AccountDisabled,
    RoleRevoked,
}

impl TokenRevocation {
    pub fn code(self) -> &'static str {
        match self {
            TokenRevocation::PasswordChanged => "password_changed",
            TokenRevocation::PasswordReset => "password_reset",
            TokenRevocation::AccountDisabled => "account_disabled",
            TokenRevocation::RoleRevoked => "role_revoked",
        }
    }
}

/// Revokes every live token of `user_id` in the caller's transaction, which audits the event
/// (with the count returned). Re-enabling the account later brings none of them back.
pub(crate) async fn revoke_all(
    tx: &mut gridsafe_store::Conn,
    user_id: i64,
    why: TokenRevocation,
    now: Timestamp,
) -> Result<u64, AppError> {
    Ok(store::revoke_tokens_of(tx, user_id, why.code(), now).await?)
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub permissions: Vec<String>,
    pub valid_days: u32,
}

/// Creates a token for `user`. Returns its record and the secret, which is never shown again.
pub async fn create_token(
    app: &App,
    meta: &RequestMeta,
    user: &CurrentUser,
    input: NewToken,
) -> Result<(TokenInfo, String), AppError> {
    let mut problems = Vec::new();
    super::units::check_name("name", &input.name, &mut problems);
    let held = user.principal.permissions();
    let mut permissions = Vec::new();
    for code in &input.permissions {
        match Permission::from_code(code) {
            Some(p) if held.contains(&p) => permissions.push(p),
            // Nobody hands on a permission they do not hold.
            Some(p) => return Err(gridsafe_domain::access::Denied::NotGranted(p).into()),
            None => {
                problems.push(FieldProblem::new("permissions", "token-permission-unknown").with("permission", code))
            }
        }
    }
    if permissions.is_empty() && problems.is_empty() {
        problems.push(FieldProblem::new("permissions", "field-required"));
    }
    let max = app.security().api_token_max_days;
    if input.valid_days == 0 || input.valid_days > max {
        problems.push(FieldProblem::new("valid_days", "token-valid-days").with("max", max));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    permissions.sort();
    permissions.dedup();
    let codes: Vec<String> = permissions.iter().map(|p| p.code().to_owned()).collect();
    let secret = format!("gst_{}", random_hex(20)?);
    let now = app.now();
    let expires = Timestamp::from_utc(now.as_utc() + chrono::Duration::days(i64::from(input.valid_days)));
    let mut work = app.begin(user.principal.actor(), meta).await?;
    let token = store::NewToken {
        user_id: user.id,
        name: trim_blank(&input.name),
        hash: &token_hash(&secret),
        permissions: &codes,
        created_at: now,
        expires_at: expires,
    };
    let id = store::insert_token(work.conn(), &token).await?;
    work.audit(NewEvent::new("api_token.created", "api_token", id).unit(user.unit_id).summary(
        serde_json::json!({ "name": trim_blank(&input.name), "permissions": codes, "expires_at": expires.to_db() }),
    ))
    .await?;
    work.commit().await?;
    let info = TokenInfo {
        id,
        name: trim_blank(&input.name).to_owned(),
        permissions: codes,
        created_at: now.to_db(),
        expires_at: expires.to_db(),
        revoked_at: None,
        revoked_reason: None,
        last_used_at: None,
    };
    Ok((info, secret))
}

pub async fn list_tokens(app: &App, user: &CurrentUser) -> Result<Vec<TokenInfo>, AppError> {
    Ok(store::tokens_of(&mut *app.db().read().await?, user.id).await?)
}

/// Revokes one of the user's own tokens, effective at once.
pub async fn revoke_token(app: &App, meta: &RequestMeta, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut work = app.begin(user.principal.actor(), meta).await?;
    let now = work.now();
    if !store::revoke_token(work.conn(), id, user.id, now).await? {
        return Err(AppError::NotFound);
    }
    work.audit(NewEvent::new("api_token.revoked", "api_token", id).unit(user.unit_id)).await?;
    work.commit().await
}
