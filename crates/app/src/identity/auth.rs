//! Sign-in, sessions, sign-out, password change, and API-token authentication.

use gridsafe_domain::access::{Actor, Channel, Permission, Principal, UnitPath};
use gridsafe_domain::account::{LockoutPolicy, SessionState};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::Conn;
use gridsafe_store::identity::{self as store, Account};

use super::tokens::TokenRevocation;
use crate::audit::{NewEvent, append};
use crate::cache::Version;
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

/// A session as read with its account and grants, kept by [`App::sessions`].
#[derive(Clone)]
pub(crate) struct SignedIn(std::sync::Arc<(store::Session, Account, Grants)>);

/// What an account holds: each permission with the unit it reaches.
type Grants = Vec<(Permission, UnitPath)>;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
    /// Must set a new password before doing anything else (first sign-in, reset, or expiry).
    pub must_change_password: bool,
    pub principal: Principal,
    /// When a browser session last proved the password (sign-in, or a signature that asked);
    /// `None` for an API token.
    pub authenticated_at: Option<Timestamp>,
}

fn actor_of(user: &Account, channel: Channel) -> Actor {
    Actor { user_id: Some(user.id), name: user.username.clone(), channel }
}

async fn current_user(app: &App, conn: &mut Conn, user: Account, channel: Channel) -> Result<CurrentUser, AppError> {
    let grants = store::grants(conn, user.id).await?;
    Ok(current_user_with(app, user, grants, channel, app.now()))
}

fn current_user_with(
    app: &App,
    user: Account,
    grants: Grants,
    channel: Channel,
    authenticated_at: Timestamp,
) -> CurrentUser {
    let expired = app.security().password_policy().is_expired(user.password_changed_at, app.now());
    CurrentUser {
        principal: Principal::new(actor_of(&user, channel), grants),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        unit_id: user.unit_id,
        must_change_password: user.must_change_password || expired,
        authenticated_at: Some(authenticated_at),
    }
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
    let failures = store::client_failures(&mut *app.db().read().await?, client, start).await?;
    if failures >= i64::from(app.security().login_attempts_per_window) {
        return Err(AppError::RateLimited { retry_after_seconds: u64::try_from(retry).unwrap_or(1) });
    }
    Ok(())
}

/// Counts one failed sign-in of `client` in `tx`; audits the moment the client reaches its limit.
async fn count_client_failure(tx: &mut Conn, app: &App, meta: &RequestMeta, client: &str) -> Result<(), AppError> {
    let (start, _) = client_window(app);
    let failures = store::count_client_failure(tx, client, start).await?;
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
    let policy = app.security().lockout_policy();
    let actor = Actor { user_id: None, name: username.to_owned(), channel: Channel::Web };
    let mut work = app.begin(&actor, meta).await?;
    let now = work.now();
    let (failures, locked_until) = store::hold_guard(work.conn(), username, now).await?;
    if LockoutPolicy::is_locked(locked_until, now) {
        let until = locked_until.unwrap_or(now);
        work.audit(NewEvent::new("login.refused_locked", "user", username)).await?;
        work.commit().await?;
        return Err(AppError::Login(LoginRefusal::Locked { until }));
    }
    let after = policy.after_failure(failures, now);
    store::set_guard(work.conn(), username, after.failures, after.locked_until, now).await?;
    work.commit().await?;
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
    let user = store::account_by_username(&mut *app.db().read().await?, &username).await?;
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
    let actor = actor_of(&user, Channel::Web);
    let mut work = app.begin(&actor, meta).await?;
    store::insert_session(work.conn(), &token_hash(&token), user.id, now).await?;
    store::mark_login(work.conn(), user.id, now).await?;
    // Success clears the name's count (and a lock its own attempt set).
    store::clear_guard(work.conn(), &username).await?;
    work.audit(NewEvent::new("login", "user", user.id).unit(user.unit_id)).await?;
    let current = current_user(app, work.conn(), user, Channel::Web).await?;
    work.commit().await?;
    Ok((token, current))
}

/// The user of a session cookie, if the session is still valid. Ends idle or expired sessions.
/// `version` is where the data stood before this request read anything ([`App::version`]).
pub async fn authenticate_session(app: &App, token: &str, version: &Version) -> Result<CurrentUser, AppError> {
    let hash = token_hash(token);
    // One statement: the session, its account and the account's grants; kept while no commit
    // changes the data (a sign-out, a role taken away, a disabled account all commit).
    let signed_in = match app.sessions().get(version, &hash) {
        Some(kept) => kept,
        None => {
            let found = store::signed_in(&mut *app.db().read().await?, &hash).await?;
            let signed_in = SignedIn(std::sync::Arc::new(found.ok_or(AppError::Unauthenticated)?));
            app.sessions().put(version.clone(), hash.clone(), signed_in.clone());
            signed_in
        }
    };
    let (session, user, grants) = (*signed_in.0).clone();
    let now = app.now();
    let state = app.security().session_policy().state(session.created_at, session.last_seen_at, now);
    if user.disabled || state != SessionState::Active {
        let mut tx = app.db().begin_write().await?;
        store::delete_session(&mut tx, &hash).await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    // Refresh the idle clock at most once a minute: one write per page view would be waste.
    if now.as_utc() - session.last_seen_at.as_utc() >= chrono::Duration::seconds(60) {
        let mut tx = app.db().begin_write().await?;
        store::touch_session(&mut tx, &hash, now).await?;
        tx.commit().await?;
    }
    Ok(current_user_with(app, user, grants, Channel::Web, session.authenticated_at))
}

/// The user of an API token (`Authorization: Bearer gst_…`), holding only the token's
/// permissions among those the user still holds.
pub async fn authenticate_token(app: &App, token: &str) -> Result<CurrentUser, AppError> {
    // One statement: the token, its account and the account's grants.
    let found = store::token_user(&mut *app.db().read().await?, &token_hash(token)).await?;
    let (t, user, grants) = found.ok_or(AppError::Unauthenticated)?;
    let now = app.now();
    if t.revoked || now >= t.expires_at || user.disabled {
        return Err(AppError::Unauthenticated);
    }
    let grants = grants.into_iter().filter(|(p, _)| t.permissions.contains(p)).collect();
    if t.last_used_at.is_none_or(|used| now.as_utc() - used.as_utc() >= chrono::Duration::seconds(60)) {
        let mut tx = app.db().begin_write().await?;
        store::touch_token(&mut tx, t.id, now).await?;
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
        authenticated_at: None,
    })
}

/// Whether a signature that grants or ends work (签发、许可、终结), made now, must ask for the
/// password: in a browser session whose password was last proved longer ago than the window.
/// An API token is its own proof and is never asked.
pub fn signature_asks_password(app: &App, user: &CurrentUser) -> bool {
    user.authenticated_at.is_some_and(|at| app.security().signature_policy().asks_password(at, app.now()))
}

/// Proves the password of a browser session before a signature that asks for it (see
/// [`signature_asks_password`]); nothing to do when it does not ask. A wrong password counts
/// towards the account's lockout like a failed sign-in (so an open session cannot be used to
/// guess it) and is recorded; the right one renews the session's proof.
pub async fn confirm_signature(
    app: &App,
    meta: &RequestMeta,
    user: &CurrentUser,
    session: Option<&str>,
    password: &str,
) -> Result<(), AppError> {
    let Some(session) = session.filter(|_| signature_asks_password(app, user)) else {
        return Ok(());
    };
    if password.is_empty() {
        return Err(AppError::invalid("password", "signature-password-required"));
    }
    if password.chars().count() > 200 {
        return Err(AppError::invalid("password", "signature-password-wrong"));
    }
    let attempts_left = take_attempt(app, meta, &user.username).await?;
    let row = store::account_by_id(&mut *app.db().read().await?, user.id).await?.ok_or(AppError::Unauthenticated)?;
    let ok = app.hashing().verify(Some(row.password_hash), password.to_owned()).await?;
    let mut work = app.begin(user.principal.actor(), meta).await?;
    if !ok {
        work.audit(
            NewEvent::new("signature.password_refused", "user", user.id)
                .unit(user.unit_id)
                .summary(serde_json::json!({ "attempts_left": attempts_left })),
        )
        .await?;
        if attempts_left == 0 {
            // The attempt that locked the name ends this session too: whoever holds it does not
            // know the password.
            store::delete_session(work.conn(), &token_hash(session)).await?;
        }
        work.commit().await?;
        return Err(AppError::Invalid(vec![
            FieldProblem::new("password", "signature-password-wrong").with("left", attempts_left),
        ]));
    }
    store::clear_guard(work.conn(), &user.username).await?;
    let now = work.now();
    store::mark_authenticated(work.conn(), &token_hash(session), now).await?;
    work.audit(NewEvent::new("signature.password_proved", "user", user.id).unit(user.unit_id)).await?;
    work.commit().await
}

/// Ends the session of `token`.
pub async fn logout(app: &App, meta: &RequestMeta, user: &CurrentUser, token: &str) -> Result<(), AppError> {
    let mut work = app.begin(user.principal.actor(), meta).await?;
    store::delete_session(work.conn(), &token_hash(token)).await?;
    work.audit(NewEvent::new("logout", "user", user.id).unit(user.unit_id)).await?;
    work.commit().await
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
    let row = store::account_by_id(&mut *app.db().read().await?, user.id).await?.ok_or(AppError::Unauthenticated)?;
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
    let mut work = app.begin(user.principal.actor(), meta).await?;
    let now = work.now();
    store::set_password(work.conn(), user.id, &hash, false, now).await?;
    store::delete_sessions_of(work.conn(), user.id).await?;
    store::insert_session(work.conn(), &token_hash(&token), user.id, now).await?;
    let revoked = super::tokens::revoke_all(work.conn(), user.id, TokenRevocation::PasswordChanged, now).await?;
    work.audit(
        NewEvent::new("user.password_changed", "user", user.id)
            .unit(user.unit_id)
            .summary(serde_json::json!({ "tokens_revoked": revoked })),
    )
    .await?;
    work.commit().await?;
    Ok(token)
}
