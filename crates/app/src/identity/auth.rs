//! Sign-in, sessions, sign-out, password change, and API-token authentication.

use gridsafe_domain::access::{Actor, Channel, Permission, Principal, UnitPath};
use gridsafe_domain::account::{LockoutPolicy, SessionState};
use gridsafe_domain::time::Timestamp;
use sqlx::Row;

use super::tokens::TokenRevocation;
use crate::audit::{NewEvent, append};
use crate::secret::{random_hex, token_hash};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gs_session";

/// Why a sign-in was refused. An unknown username, a wrong password and a disabled account get
/// the same answer, and an unknown username locks like a known one: nothing tells an attacker
/// which names exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown username, wrong password or disabled account (never told apart), with the
    /// attempts left before the name is locked.
    BadCredentials { attempts_left: u32 },
    /// Too many failures: locked until then.
    Locked { until: Timestamp },
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    /// Must set a new password before doing anything else (first sign-in, reset, or expiry).
    pub must_change_password: bool,
    pub principal: Principal,
}

async fn load_grants(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<Vec<(Permission, UnitPath)>, AppError> {
    let rows = sqlx::query(
        "SELECT DISTINCT rp.permission, u.path FROM user_roles ur JOIN role_permissions rp ON rp.role_code = ur.role_code \
         JOIN org_units u ON u.id = ur.unit_id WHERE ur.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for row in rows {
        let (code, path): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        // A permission removed from the code but still in data grants nothing.
        if let (Some(p), Some(path)) = (Permission::from_code(&code), UnitPath::parse(&path)) {
            grants.push((p, path));
        }
    }
    Ok(grants)
}

struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    unit_id: i64,
    password_hash: String,
    must_change_password: bool,
    password_changed_at: String,
    disabled: bool,
}

async fn user_row(
    conn: &mut sqlx::AnyConnection,
    clause: &str,
    key: impl ToString,
) -> Result<Option<UserRow>, AppError> {
    let sql = format!(
        "SELECT id, username, display_name, unit_id, password_hash, must_change_password, password_changed_at, \
         disabled_at FROM users WHERE {clause} = $1"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
    let key = key.to_string();
    let query = if clause == "id" { query.bind(key.parse::<i64>().unwrap_or(-1)) } else { query.bind(key) };
    let Some(row) = query.fetch_optional(&mut *conn).await? else { return Ok(None) };
    Ok(Some(UserRow {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        display_name: row.try_get(2)?,
        unit_id: row.try_get(3)?,
        password_hash: row.try_get(4)?,
        must_change_password: row.try_get::<i64, _>(5)? != 0,
        password_changed_at: row.try_get(6)?,
        disabled: row.try_get::<Option<String>, _>(7)?.is_some(),
    }))
}

fn actor_of(user: &UserRow, channel: Channel) -> Actor {
    Actor { user_id: Some(user.id), name: user.username.clone(), channel }
}

async fn current_user(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    user: UserRow,
    channel: Channel,
) -> Result<CurrentUser, AppError> {
    let grants = load_grants(conn, user.id).await?;
    let expired = Timestamp::from_db(&user.password_changed_at)
        .is_some_and(|changed| app.security().password_policy().is_expired(changed, app.now()));
    Ok(CurrentUser {
        principal: Principal::new(actor_of(&user, channel), grants),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        unit_id: user.unit_id,
        must_change_password: user.must_change_password || expired,
    })
}

/// The current window of the per-client limit: its start, and the seconds until the next.
fn client_window(app: &App) -> (Timestamp, i64) {
    let window = i64::from(app.security().login_window_seconds);
    let now = app.now();
    let start_secs = now.as_utc().timestamp().div_euclid(window) * window;
    let start = chrono::DateTime::from_timestamp(start_secs, 0).map(Timestamp::from_utc).unwrap_or(now);
    (start, (start_secs + window - now.as_utc().timestamp()).max(1))
}

/// Refuses a client (an IP address) that failed too often in the current window. Only
/// failures count: an office of many people behind one address signs in every morning.
async fn check_client(app: &App, client: &str) -> Result<(), AppError> {
    let (start, retry) = client_window(app);
    let failures: Option<i64> =
        sqlx::query_scalar("SELECT attempts FROM login_attempts WHERE client_key = $1 AND window_start = $2")
            .bind(client)
            .bind(start.to_db())
            .fetch_optional(app.db().pool())
            .await?;
    if failures.is_some_and(|f| f >= i64::from(app.security().login_attempts_per_window)) {
        return Err(AppError::RateLimited { retry_after_seconds: u64::try_from(retry).unwrap_or(1) });
    }
    Ok(())
}

/// Counts one failed sign-in of `client` in `tx`; audits the moment the client reaches its limit.
async fn count_client_failure(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &App,
    meta: &RequestMeta,
    client: &str,
) -> Result<(), AppError> {
    let (start, _) = client_window(app);
    let failures: i64 = sqlx::query(
        "INSERT INTO login_attempts (client_key, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (client_key, window_start) DO UPDATE SET attempts = login_attempts.attempts + 1 RETURNING attempts",
    )
    .bind(client)
    .bind(start.to_db())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let limit = i64::from(app.security().login_attempts_per_window);
    if failures == limit {
        let actor = Actor { user_id: None, name: "anonymous".into(), channel: Channel::Web };
        let event = NewEvent::new("login.rate_limited", "client", client).summary(serde_json::json!({
            "limit": limit, "window_seconds": app.security().login_window_seconds,
        }));
        append(tx, &actor, meta, app.now(), event).await?;
    }
    Ok(())
}

/// Takes one attempt for `username` (known or not) before its password is checked, in a write
/// transaction that locks the name's row: refused while the name is locked; otherwise counted as
/// a failure until it succeeds, and the attempt that reaches the policy's number locks the name.
/// So however many arrive at once, no more than the policy's attempts are checked.
async fn take_attempt(app: &App, meta: &RequestMeta, username: &str) -> Result<u32, AppError> {
    let now = app.now();
    let policy = app.security().lockout_policy();
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "INSERT INTO login_guard (username, failures, locked_until, updated_at) VALUES ($1, 0, NULL, $2) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(now.to_db())
    .execute(&mut *tx)
    .await?;
    let sql = format!(
        "SELECT failures, locked_until FROM login_guard WHERE username = $1{}",
        gridsafe_store::for_update(app.db().backend())
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_one(&mut *tx).await?;
    let failures = u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX);
    let locked_until = row.try_get::<Option<String>, _>(1)?.as_deref().and_then(Timestamp::from_db);
    if LockoutPolicy::is_locked(locked_until, now) {
        let until = locked_until.unwrap_or(now);
        let actor = Actor { user_id: None, name: username.to_owned(), channel: Channel::Web };
        append(&mut tx, &actor, meta, now, NewEvent::new("login.refused_locked", "user", username)).await?;
        tx.commit().await?;
        return Err(AppError::Login(LoginRefusal::Locked { until }));
    }
    let after = policy.after_failure(failures, now);
    sqlx::query("UPDATE login_guard SET failures = $1, locked_until = $2, updated_at = $3 WHERE username = $4")
        .bind(i64::from(after.failures))
        .bind(after.locked_until.map(|t| t.to_db()))
        .bind(now.to_db())
        .bind(username)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(match after.locked_until {
        Some(_) => 0,
        None => policy.max_failures.saturating_sub(after.failures),
    })
}

/// Signs in. Returns the new session's token (for the cookie) and the user.
pub async fn login(
    app: &App,
    meta: &RequestMeta,
    client: &str,
    username: &str,
    password: &str,
) -> Result<(String, CurrentUser), AppError> {
    check_client(app, client).await?;
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.chars().count() > 100 {
        return Err(AppError::Login(LoginRefusal::BadCredentials { attempts_left: app.security().lockout_failures }));
    }
    let attempts_left = take_attempt(app, meta, &username).await?;
    let mut conn = app.db().pool().acquire().await?;
    let user = user_row(&mut conn, "username", &username).await?;
    drop(conn);
    let ok = app.hashing().verify(user.as_ref().map(|u| u.password_hash.clone()), password.to_owned()).await?;
    let now = app.now();
    let user = match user {
        Some(user) if ok && !user.disabled => user,
        user => {
            // Wrong password, unknown name or disabled account: one answer for all three.
            let mut tx = app.db().begin_write().await?;
            count_client_failure(&mut tx, app, meta, client).await?;
            let (actor, record, unit) = match &user {
                Some(u) => (actor_of(u, Channel::Web), u.id.to_string(), Some(u.unit_id)),
                None => (Actor { user_id: None, name: username.clone(), channel: Channel::Web }, "-".to_owned(), None),
            };
            let action =
                if user.as_ref().is_some_and(|u| ok && u.disabled) { "login.refused_disabled" } else { "login.failed" };
            let mut event = NewEvent::new(action, "user", &record);
            if let Some(unit) = unit {
                event = event.unit(unit);
            }
            append(&mut tx, &actor, meta, now, event).await?;
            if attempts_left == 0 {
                let mut event = NewEvent::new("login.locked_out", "user", &record).summary(serde_json::json!({
                    "minutes": app.security().lockout_minutes, "rule": gridsafe_domain::rules::LOGIN_LOCKOUT.code,
                }));
                if let Some(unit) = unit {
                    event = event.unit(unit);
                }
                append(&mut tx, &actor, meta, now, event).await?;
            }
            tx.commit().await?;
            return Err(AppError::Login(LoginRefusal::BadCredentials { attempts_left }));
        }
    };
    let token = random_hex(32)?;
    let mut tx = app.db().begin_write().await?;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(now.to_db())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE users SET last_login_at = $1, dormant_flagged_at = NULL WHERE id = $2")
        .bind(now.to_db())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    // Success clears the name's count (and a lock its own attempt set).
    sqlx::query("DELETE FROM login_guard WHERE username = $1").bind(&username).execute(&mut *tx).await?;
    append(
        &mut tx,
        &actor_of(&user, Channel::Web),
        meta,
        now,
        NewEvent::new("login", "user", user.id).unit(user.unit_id),
    )
    .await?;
    let current = current_user(app, &mut tx, user, Channel::Web).await?;
    tx.commit().await?;
    Ok((token, current))
}

/// The user of a session cookie, if the session is still valid. Ends idle or expired sessions.
pub async fn authenticate_session(app: &App, token: &str) -> Result<CurrentUser, AppError> {
    let hash = token_hash(token);
    let mut conn = app.db().pool().acquire().await?;
    let row = sqlx::query("SELECT user_id, created_at, last_seen_at FROM sessions WHERE id_hash = $1")
        .bind(&hash)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let (user_id, created, last_seen): (i64, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let now = app.now();
    let (Some(created), Some(last_seen)) = (Timestamp::from_db(&created), Timestamp::from_db(&last_seen)) else {
        return Err(AppError::Unauthenticated);
    };
    let user = user_row(&mut conn, "id", user_id).await?;
    drop(conn);
    let state = app.security().session_policy().state(created, last_seen, now);
    let Some(user) = user.filter(|u| !u.disabled && state == SessionState::Active) else {
        let mut tx = app.db().begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&hash).execute(&mut *tx).await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    };
    // Refresh the idle clock at most once a minute: one write per page view would be waste.
    if now.as_utc() - last_seen.as_utc() >= chrono::Duration::seconds(60) {
        let mut tx = app.db().begin_write().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now.to_db())
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let mut conn = app.db().pool().acquire().await?;
    current_user(app, &mut conn, user, Channel::Web).await
}

/// The user of an API token (`Authorization: Bearer gst_…`), holding only the token's
/// permissions among those the user still holds.
pub async fn authenticate_token(app: &App, token: &str) -> Result<CurrentUser, AppError> {
    let mut conn = app.db().pool().acquire().await?;
    let row = sqlx::query(
        "SELECT id, user_id, permissions, expires_at, revoked_at, last_used_at FROM api_tokens WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::Unauthenticated)?;
    let now = app.now();
    let id: i64 = row.try_get(0)?;
    let user_id: i64 = row.try_get(1)?;
    let permissions: String = row.try_get(2)?;
    let expires: String = row.try_get(3)?;
    let revoked: Option<String> = row.try_get(4)?;
    let last_used: Option<String> = row.try_get(5)?;
    if revoked.is_some() || Timestamp::from_db(&expires).is_none_or(|e| now >= e) {
        return Err(AppError::Unauthenticated);
    }
    let user = user_row(&mut conn, "id", user_id).await?.filter(|u| !u.disabled).ok_or(AppError::Unauthenticated)?;
    let allowed: Vec<Permission> = permissions.split(',').filter_map(Permission::from_code).collect();
    let grants = load_grants(&mut conn, user_id).await?.into_iter().filter(|(p, _)| allowed.contains(p)).collect();
    drop(conn);
    if last_used
        .as_deref()
        .and_then(Timestamp::from_db)
        .is_none_or(|t| now.as_utc() - t.as_utc() >= chrono::Duration::seconds(60))
    {
        let mut tx = app.db().begin_write().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now.to_db())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(CurrentUser {
        principal: Principal::new(actor_of(&user, Channel::Api), grants),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        unit_id: user.unit_id,
        // A token is issued by a user who already chose a password.
        must_change_password: false,
    })
}

/// Ends the session of `token`.
pub async fn logout(app: &App, meta: &RequestMeta, user: &CurrentUser, token: &str) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(token_hash(token)).execute(&mut *tx).await?;
    append(
        &mut tx,
        user.principal.actor(),
        meta,
        app.now(),
        NewEvent::new("logout", "user", user.id).unit(user.unit_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the user's own password. Every session of the user ends; a fresh one is returned
/// for the browser that made the change.
pub async fn change_password(
    app: &App,
    meta: &RequestMeta,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<String, AppError> {
    let mut conn = app.db().pool().acquire().await?;
    let row = user_row(&mut conn, "id", user.id).await?.ok_or(AppError::Unauthenticated)?;
    drop(conn);
    if !app.hashing().verify(Some(row.password_hash.clone()), current.to_owned()).await? {
        return Err(AppError::invalid("current", "password-current-wrong"));
    }
    let mut problems: Vec<FieldProblem> = app
        .security()
        .password_policy()
        .problems(&user.username, new)
        .into_iter()
        .map(|p| FieldProblem::new("new", p.message_key()))
        .collect();
    if problems.is_empty() && app.hashing().verify(Some(row.password_hash), new.to_owned()).await? {
        problems.push(FieldProblem::new("new", "password-same-as-old"));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let hash = app.hashing().hash(new.to_owned()).await?;
    let token = random_hex(32)?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3 WHERE id = $4",
    )
    .bind(&hash)
    .bind(0_i64)
    .bind(now.to_db())
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(now.to_db())
        .execute(&mut *tx)
        .await?;
    let revoked = super::tokens::revoke_all(&mut tx, user.id, TokenRevocation::PasswordChanged, now).await?;
    append(
        &mut tx,
        user.principal.actor(),
        meta,
        now,
        NewEvent::new("user.password_changed", "user", user.id)
            .unit(user.unit_id)
            .summary(serde_json::json!({ "tokens_revoked": revoked })),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}
