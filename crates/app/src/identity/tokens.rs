//! API tokens for integrations: a subset of the creator's permissions, shown once, stored
//! hashed, with an expiry, revocable, last use recorded.

use gridsafe_domain::access::Permission;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::auth::CurrentUser;
use crate::audit::{NewEvent, append};
use crate::secret::{random_hex, token_hash};
use crate::{App, AppError, FieldProblem, RequestMeta};

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// Why it was revoked when not by its owner: `password_changed`, `password_reset`,
    /// `account_disabled` or `role_revoked`.
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<String>,
}

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
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    why: TokenRevocation,
    now: Timestamp,
) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoked_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now.to_db())
    .bind(why.code())
    .bind(user_id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
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
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, token_hash, permissions, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.id)
    .bind(trim_blank(&input.name))
    .bind(token_hash(&secret))
    .bind(codes.join(","))
    .bind(now.to_db())
    .bind(expires.to_db())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let event = NewEvent::new("api_token.created", "api_token", id).unit(user.unit_id).summary(
        serde_json::json!({ "name": trim_blank(&input.name), "permissions": codes, "expires_at": expires.to_db() }),
    );
    append(&mut tx, user.principal.actor(), meta, now, event).await?;
    tx.commit().await?;
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
    let rows = sqlx::query(
        "SELECT id, name, permissions, created_at, expires_at, revoked_at, last_used_at, revoked_reason FROM api_tokens \
         WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user.id)
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenInfo {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                permissions: r.try_get::<String, _>(2)?.split(',').map(str::to_owned).collect(),
                created_at: r.try_get(3)?,
                expires_at: r.try_get(4)?,
                revoked_at: r.try_get(5)?,
                revoked_reason: r.try_get(7)?,
                last_used_at: r.try_get(6)?,
            })
        })
        .collect()
}

/// Revokes one of the user's own tokens, effective at once.
pub async fn revoke_token(app: &App, meta: &RequestMeta, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    let changed =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(app.now().to_db())
            .bind(id)
            .bind(user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    append(
        &mut tx,
        user.principal.actor(),
        meta,
        app.now(),
        NewEvent::new("api_token.revoked", "api_token", id).unit(user.unit_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
