//! Identity's rows: organisation units, accounts and their grants, sign-in guards, sessions,
//! API tokens and roles. The use cases (`gridsafe_app::identity`) decide; this module reads and
//! writes.

use std::collections::BTreeMap;

use gridsafe_domain::access::{Permission, UnitKind, UnitPath};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{Fields, code, id, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, packed, scope_clause};

// ---- Organisation units -------------------------------------------------------------------

/// An organisation unit: the tree every record and every role hangs from.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    #[serde(skip)]
    pub path: UnitPath,
}

impl Unit {
    /// 0 for a root.
    pub fn depth(&self) -> usize {
        self.path.depth()
    }
}

const UNIT_COLUMNS: &str = "id, code, name, kind, parent_id, path";

fn unit_from(r: &impl Fields) -> Result<Unit, StoreError> {
    Ok(Unit {
        id: id(r, "id")?,
        code: r.field("code")?,
        name: r.field("name")?,
        kind: code("org_units", "kind", r.field("kind")?, UnitKind::from_code)?,
        parent_id: opt_id(r, "parent_id")?,
        path: code("org_units", "path", r.field("path")?, UnitPath::parse)?,
    })
}

/// The units of `scope` (each with its subtree), in tree order.
pub async fn units(conn: &mut Conn, scope: &[UnitPath]) -> Result<Vec<Unit>, StoreError> {
    let (clause, binds) = scope_clause("path", scope, 1);
    // Every page with a unit filter reads these: one packed value, not a row at a time.
    let rest = format!("FROM org_units WHERE {clause}");
    let mut units = packed(conn, "org_units", UNIT_COLUMNS, &rest, &binds, |r| unit_from(r)).await?;
    // Text order of "/1/10/" and "/1/9/" is not tree order; sort by the numeric path.
    units.sort_by_key(|u| u.path.as_str().split('/').filter_map(|p| p.parse::<i64>().ok()).collect::<Vec<_>>());
    Ok(units)
}

pub async fn unit_by_id(conn: &mut Conn, id: UnitId) -> Result<Option<Unit>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE id = $1")))
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(unit_from)
        .transpose()
}

pub async fn unit_by_code(conn: &mut Conn, code: &str) -> Result<Option<Unit>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE code = $1")))
        .bind(code.trim())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(unit_from)
        .transpose()
}

/// A unit by its code or its name (a register names units either way); the first by id when two
/// share a name.
pub async fn unit_by_name_or_code(conn: &mut Conn, text: &str) -> Result<Option<Unit>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM org_units WHERE code = $1 OR name = $1 ORDER BY id LIMIT 1"
    )))
    .bind(text.trim())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(unit_from)
    .transpose()
}

pub async fn unit_count(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM org_units").fetch_one(&mut *conn).await?)
}

/// Stores a new unit under `parent` (a root without one); its id and path. A taken code is
/// the database's unique violation.
pub async fn insert_unit(
    conn: &mut Conn,
    code: &str,
    name: &str,
    kind: UnitKind,
    parent: Option<&Unit>,
    at: Timestamp,
) -> Result<(UnitId, UnitPath), StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO org_units (code, name, kind, parent_id, path, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(code)
    .bind(name)
    .bind(kind.code())
    .bind(parent.map(|p| p.id.get()))
    .bind(format!("/pending-{code}/"))
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    let id = UnitId::new(id);
    let path = match parent {
        Some(parent) => parent.path.child(id),
        None => UnitPath::root_of(id),
    };
    sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2")
        .bind(path.as_str())
        .bind(id.get())
        .execute(&mut *conn)
        .await?;
    Ok((id, path))
}

pub async fn rename_unit(conn: &mut Conn, id: UnitId, name: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE org_units SET name = $1 WHERE id = $2").bind(name).bind(id.get()).execute(&mut *conn).await?;
    Ok(())
}

// ---- Accounts and sign-in -----------------------------------------------------------------

/// An account as sign-in and authentication read it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
    pub password_hash: String,
    pub must_change_password: bool,
    pub password_changed_at: Timestamp,
    pub disabled: bool,
}

const ACCOUNT_COLUMNS: &str =
    "id, username, display_name, unit_id, password_hash, must_change_password, password_changed_at, disabled_at";

fn account_from(r: &AnyRow) -> Result<Account, StoreError> {
    Ok(Account {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        unit_id: id(r, "unit_id")?,
        password_hash: r.try_get("password_hash")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        password_changed_at: stamp("users", "password_changed_at", r.try_get("password_changed_at")?)?,
        disabled: r.try_get::<Option<String>, _>("disabled_at")?.is_some(),
    })
}

pub async fn account_by_id(conn: &mut Conn, id: i64) -> Result<Option<Account>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(account_from)
        .transpose()
}

pub async fn account_by_username(conn: &mut Conn, username: &str) -> Result<Option<Account>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = $1")))
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(account_from)
        .transpose()
}

/// Every permission account `user_id` holds, with the unit it holds it at. A permission removed
/// from the code but still in data grants nothing.
pub async fn grants(conn: &mut Conn, user_id: i64) -> Result<Vec<(Permission, UnitPath)>, StoreError> {
    let sql = format!("SELECT {} FROM users u WHERE u.id = $1", grants_column(conn));
    let text: Option<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_optional(&mut *conn).await?.flatten();
    parse_grants(text)
}

/// Failed sign-ins of `client` in the window starting at `window`.
pub async fn client_failures(conn: &mut Conn, client: &str, window: Timestamp) -> Result<i64, StoreError> {
    let n: Option<i64> =
        sqlx::query_scalar("SELECT attempts FROM login_attempts WHERE client_key = $1 AND window_start = $2")
            .bind(client)
            .bind(window.to_db())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(n.unwrap_or(0))
}

/// Counts one failed sign-in of `client` in the window at `window`; the count after it.
pub async fn count_client_failure(conn: &mut Conn, client: &str, window: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO login_attempts (client_key, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (client_key, window_start) DO UPDATE SET attempts = login_attempts.attempts + 1 RETURNING attempts",
    )
    .bind(client)
    .bind(window.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// The sign-in guard of `username` (known or not), created on first use and held until the
/// transaction ends: its failures so far and the end of its lock.
pub async fn hold_guard(
    conn: &mut Conn,
    username: &str,
    at: Timestamp,
) -> Result<(u32, Option<Timestamp>), StoreError> {
    sqlx::query(
        "INSERT INTO login_guard (username, failures, locked_until, updated_at) VALUES ($1, 0, NULL, $2) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    let lock = for_update(backend_of(conn));
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT failures, locked_until FROM login_guard WHERE username = $1{lock}"
    )))
    .bind(username)
    .fetch_one(&mut *conn)
    .await?;
    let failures = u32::try_from(r.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX);
    Ok((failures, opt_stamp("login_guard", "locked_until", r.try_get("locked_until")?)?))
}

pub async fn set_guard(
    conn: &mut Conn,
    username: &str,
    failures: u32,
    locked_until: Option<Timestamp>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE login_guard SET failures = $1, locked_until = $2, updated_at = $3 WHERE username = $4")
        .bind(i64::from(failures))
        .bind(locked_until.map(|t| t.to_db()))
        .bind(at.to_db())
        .bind(username)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets the failures (and a lock) of `username`.
pub async fn clear_guard(conn: &mut Conn, username: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_guard WHERE username = $1").bind(username).execute(&mut *conn).await?;
    Ok(())
}

/// Records a successful sign-in: the account is in use again.
pub async fn mark_login(conn: &mut Conn, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_login_at = $1, dormant_flagged_at = NULL WHERE id = $2")
        .bind(at.to_db())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets a password hash; `must_change` forces a new one at the next sign-in.
pub async fn set_password(
    conn: &mut Conn,
    user_id: i64,
    hash: &str,
    must_change: bool,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3 WHERE id = $4",
    )
    .bind(hash)
    .bind(i64::from(must_change))
    .bind(at.to_db())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- Sessions -----------------------------------------------------------------------------

/// A stored session: whose, since when, last seen when.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub user_id: i64,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// When the session last proved its password: at sign-in, or at a signature that asked.
    pub authenticated_at: Timestamp,
}

pub async fn insert_session(conn: &mut Conn, id_hash: &str, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(id_hash)
        .bind(user_id)
        .bind(at.to_db())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn touch_session(conn: &mut Conn, id_hash: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(at.to_db())
        .bind(id_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut Conn, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *conn).await?;
    Ok(())
}

/// Ends every session of `user_id`.
/// The session proved its password again at `at` (a signature that asked for it).
pub async fn mark_authenticated(conn: &mut Conn, id_hash: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET authenticated_at = $1 WHERE id_hash = $2")
        .bind(at.to_db())
        .bind(id_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_sessions_of(conn: &mut Conn, user_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(())
}

// ---- API tokens ---------------------------------------------------------------------------

/// A token as its owner sees it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// Why it was revoked, when the system revoked it (a password change, …).
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<String>,
}

/// A token as authentication reads it.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub id: i64,
    pub user_id: i64,
    pub permissions: Vec<Permission>,
    pub expires_at: Timestamp,
    pub revoked: bool,
    pub last_used_at: Option<Timestamp>,
}

pub async fn touch_token(conn: &mut Conn, id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(at.to_db())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub hash: &'a str,
    pub permissions: &'a [String],
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub async fn insert_token(conn: &mut Conn, t: &NewToken<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, permissions, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.hash)
    .bind(t.permissions.join(","))
    .bind(t.created_at.to_db())
    .bind(t.expires_at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn tokens_of(conn: &mut Conn, user_id: i64) -> Result<Vec<TokenInfo>, StoreError> {
    sqlx::query(
        "SELECT id, name, permissions, created_at, expires_at, revoked_at, last_used_at, revoked_reason FROM api_tokens \
         WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(TokenInfo {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            permissions: r.try_get::<String, _>("permissions")?.split(',').map(str::to_owned).collect(),
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
            revoked_reason: r.try_get("revoked_reason")?,
            last_used_at: r.try_get("last_used_at")?,
        })
    })
    .collect()
}

/// Revokes token `id` of `user_id`; false when there is no such live token.
pub async fn revoke_token(conn: &mut Conn, id: i64, user_id: i64, at: Timestamp) -> Result<bool, StoreError> {
    let changed =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(at.to_db())
            .bind(id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok(changed == 1)
}

/// Revokes every live token of `user_id` for `reason`; how many.
pub async fn revoke_tokens_of(conn: &mut Conn, user_id: i64, reason: &str, at: Timestamp) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoked_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL",
    )
    .bind(at.to_db())
    .bind(reason)
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

// ---- Roles --------------------------------------------------------------------------------

/// A role and the permissions it grants.
#[derive(Debug, Clone, Serialize)]
pub struct RoleInfo {
    pub code: String,
    /// `system`, `security` or `audit` for the three administrator roles (三员).
    pub admin_class: Option<String>,
    pub permissions: Vec<Permission>,
}

pub async fn roles(conn: &mut Conn) -> Result<Vec<RoleInfo>, StoreError> {
    let rows = sqlx::query("SELECT code, admin_class FROM roles ORDER BY sort_order").fetch_all(&mut *conn).await?;
    let mut grants = grants_by_role(conn).await?;
    rows.iter()
        .map(|r| {
            let code: String = r.try_get("code")?;
            let mut permissions = grants.remove(&code).unwrap_or_default();
            permissions.sort();
            Ok(RoleInfo { code, admin_class: r.try_get("admin_class")?, permissions })
        })
        .collect()
}

/// Holds every role until the transaction ends: grants and role changes that must see each
/// other (the separation of the administrator roles) happen one at a time.
pub async fn hold_roles(conn: &mut Conn) -> Result<(), StoreError> {
    let lock = for_update(backend_of(conn));
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT code FROM roles ORDER BY code{lock}")))
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// The permissions of every role, by role code.
pub async fn grants_by_role(conn: &mut Conn) -> Result<BTreeMap<String, Vec<Permission>>, StoreError> {
    let mut out: BTreeMap<String, Vec<Permission>> = BTreeMap::new();
    for r in sqlx::query("SELECT role_code, permission FROM role_permissions").fetch_all(&mut *conn).await? {
        let p = code("role_permissions", "permission", r.try_get("permission")?, Permission::from_code)?;
        out.entry(r.try_get("role_code")?).or_default().push(p);
    }
    Ok(out)
}

pub async fn role_exists(conn: &mut Conn, role: &str) -> Result<bool, StoreError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT code FROM roles WHERE code = $1").bind(role).fetch_optional(&mut *conn).await?;
    Ok(found.is_some())
}

/// The accounts holding `role` anywhere.
pub async fn holders_of(conn: &mut Conn, role: &str) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT DISTINCT user_id FROM user_roles WHERE role_code = $1")
        .bind(role)
        .fetch_all(&mut *conn)
        .await?)
}

/// The roles account `user_id` holds anywhere.
pub async fn roles_of(conn: &mut Conn, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT DISTINCT role_code FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// Replaces the permissions `role` grants.
pub async fn set_role_permissions(conn: &mut Conn, role: &str, permissions: &[Permission]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM role_permissions WHERE role_code = $1").bind(role).execute(&mut *conn).await?;
    for p in permissions {
        sqlx::query("INSERT INTO role_permissions (role_code, permission) VALUES ($1, $2)")
            .bind(role)
            .bind(p.code())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// ---- Accounts as administrators see them --------------------------------------------------

/// A role an account holds at a unit.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role: String,
    pub unit_id: UnitId,
    pub unit_name: String,
}

/// What an administrator sees of an account at a glance.
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

/// An account with its unit, state, review and roles.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
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

const USER_COLUMNS: &str = "us.id, us.username, us.display_name, us.unit_id, u.name AS unit_name, u.path AS unit_path, \
    us.last_login_at, us.dormant_flagged_at, us.disabled_at, us.disabled_reason, us.last_review_at, us.last_review_by, \
    (SELECT lg.locked_until FROM login_guard lg WHERE lg.username = us.username) AS locked_until, \
    (SELECT p.code || ' ' || p.name FROM people p WHERE p.user_id = us.id) AS person";

fn summary_from(r: &AnyRow, now: Timestamp) -> Result<UserSummary, StoreError> {
    let disabled_at: Option<String> = r.try_get("disabled_at")?;
    let dormant: Option<String> = r.try_get("dormant_flagged_at")?;
    let locked = opt_stamp("login_guard", "locked_until", r.try_get("locked_until")?)?.is_some_and(|t| now < t);
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
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        last_login_at: r.try_get("last_login_at")?,
        dormant_flagged_at: dormant,
        disabled_at,
        disabled_reason: r.try_get("disabled_reason")?,
        last_review_at: r.try_get("last_review_at")?,
        last_review_by: r.try_get("last_review_by")?,
        status,
        roles: Vec::new(),
        person: r.try_get("person")?,
    })
}

async fn attach_roles(conn: &mut Conn, users: &mut [UserSummary]) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let sql = format!(
        "SELECT ur.user_id, ur.role_code, ur.unit_id, u.name FROM user_roles ur JOIN org_units u ON u.id = ur.unit_id \
         JOIN roles r ON r.code = ur.role_code WHERE ur.user_id IN ({}) ORDER BY r.sort_order, u.path",
        crate::id_list(&ids)
    );
    let mut by_user: BTreeMap<i64, Vec<RoleGrant>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        by_user.entry(r.try_get("user_id")?).or_default().push(RoleGrant {
            role: r.try_get("role_code")?,
            unit_id: id(&r, "unit_id")?,
            unit_name: r.try_get("name")?,
        });
    }
    for user in users {
        user.roles = by_user.remove(&user.id).unwrap_or_default();
    }
    Ok(())
}

/// Accounts of the units in `scope` (at most 2,000), by unit then username, with their roles;
/// `pattern` (a `LIKE` pattern) over username and name.
pub async fn users(
    conn: &mut Conn,
    scope: &[UnitPath],
    pattern: Option<String>,
    now: Timestamp,
) -> Result<Vec<UserSummary>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {USER_COLUMNS} FROM users us JOIN org_units u ON u.id = us.unit_id WHERE {clause}");
    if let Some(pattern) = pattern {
        binds.push(pattern);
        let n = binds.len();
        sql.push_str(&format!(" AND ({} OR {})", crate::like("us.username", n), crate::like("us.display_name", n)));
    }
    sql.push_str(" ORDER BY u.path, us.username LIMIT 2000");
    let mut users: Vec<UserSummary> = bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| summary_from(r, now))
        .collect::<Result<_, _>>()?;
    attach_roles(conn, &mut users).await?;
    Ok(users)
}

/// Account `id` with its roles, wherever it is.
pub async fn user(conn: &mut Conn, id: i64, now: Timestamp) -> Result<Option<UserSummary>, StoreError> {
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut user = summary_from(&r, now)?;
    attach_roles(conn, std::slice::from_mut(&mut user)).await?;
    Ok(Some(user))
}

/// The unit path of account `id`.
pub async fn user_path(conn: &mut Conn, id: i64) -> Result<Option<UnitPath>, StoreError> {
    let path: Option<String> =
        sqlx::query_scalar("SELECT u.path FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    path.map(|p| code("org_units", "path", p, UnitPath::parse)).transpose()
}

/// A new account that must change its password at first sign-in; its id. A taken username is
/// the database's unique violation.
pub async fn insert_user(
    conn: &mut Conn,
    username: &str,
    display_name: &str,
    unit_id: UnitId,
    hash: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (username, display_name, unit_id, password_hash, must_change_password, password_changed_at, \
         created_at) VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
    )
    .bind(username)
    .bind(display_name)
    .bind(unit_id.get())
    .bind(hash)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Grants `role` at `unit_id`; a role already held there is the database's unique violation.
pub async fn insert_grant(
    conn: &mut Conn,
    user_id: i64,
    role: &str,
    unit_id: UnitId,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_roles (user_id, role_code, unit_id, granted_at, granted_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(role)
    .bind(unit_id.get())
    .bind(at.to_db())
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes `role` at `unit_id`; false when not held there.
pub async fn delete_grant(conn: &mut Conn, user_id: i64, role: &str, unit_id: UnitId) -> Result<bool, StoreError> {
    let removed = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role_code = $2 AND unit_id = $3")
        .bind(user_id)
        .bind(role)
        .bind(unit_id.get())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(removed == 1)
}

pub async fn disable(conn: &mut Conn, user_id: i64, reason: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET disabled_at = $1, disabled_reason = $2 WHERE id = $3")
        .bind(at.to_db())
        .bind(reason)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Re-enables an account; its dormancy clock restarts at `at`.
pub async fn enable(conn: &mut Conn, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET disabled_at = NULL, disabled_reason = NULL, dormant_flagged_at = NULL, last_login_at = $1 WHERE id = $2",
    )
    .bind(at.to_db())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- Account hygiene ----------------------------------------------------------------------

/// An enabled account as the dormancy job sees it.
#[derive(Debug, Clone)]
pub struct Activity {
    pub id: i64,
    pub username: String,
    pub unit_id: UnitId,
    /// The last sign-in, or the creation of an account never used.
    pub last: Timestamp,
    pub flagged: Option<Timestamp>,
}

pub async fn enabled_accounts(conn: &mut Conn) -> Result<Vec<Activity>, StoreError> {
    sqlx::query(
        "SELECT id, username, unit_id, COALESCE(last_login_at, created_at) AS last, dormant_flagged_at FROM users \
         WHERE disabled_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Activity {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            unit_id: id(r, "unit_id")?,
            last: stamp("users", "last_login_at", r.try_get("last")?)?,
            flagged: opt_stamp("users", "dormant_flagged_at", r.try_get("dormant_flagged_at")?)?,
        })
    })
    .collect()
}

pub async fn flag_dormant(conn: &mut Conn, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET dormant_flagged_at = $1 WHERE id = $2")
        .bind(at.to_db())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn record_review(conn: &mut Conn, user_id: i64, by: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_review_at = $1, last_review_by = $2 WHERE id = $3")
        .bind(at.to_db())
        .bind(by)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn user_count(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *conn).await?)
}

/// The first root unit, if any.
pub async fn root_unit(conn: &mut Conn) -> Result<Option<Unit>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1"
    )))
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(unit_from)
    .transpose()
}

/// The names of units `ids`, by id: one statement.
pub async fn unit_names(conn: &mut Conn, ids: &[UnitId]) -> Result<BTreeMap<UnitId, String>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, name FROM org_units WHERE id IN ({})", crate::id_list(ids))))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((id(r, "id")?, r.try_get("name")?)))
        .collect()
}

/// Every (permission, unit path) the account of `u.id` holds, as one text column `grants`
/// (`permission path,permission path,…`): a sub-select for the one-row authentication queries.
fn grants_column(conn: &Conn) -> &'static str {
    match backend_of(conn) {
        crate::Backend::Sqlite => {
            "(SELECT group_concat(DISTINCT rp.permission || ' ' || ou.path) FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_code = ur.role_code JOIN org_units ou ON ou.id = ur.unit_id \
             WHERE ur.user_id = u.id) AS grants"
        }
        crate::Backend::Postgres => {
            "(SELECT string_agg(DISTINCT rp.permission || ' ' || ou.path, ',') FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_code = ur.role_code JOIN org_units ou ON ou.id = ur.unit_id \
             WHERE ur.user_id = u.id) AS grants"
        }
    }
}

/// The grants of a [`grants_column`].
fn parse_grants(text: Option<String>) -> Result<Vec<(Permission, UnitPath)>, StoreError> {
    let mut grants = Vec::new();
    for pair in text.as_deref().unwrap_or("").split(',').filter(|p| !p.is_empty()) {
        let (permission, path) = pair.split_once(' ').ok_or(StoreError::Corrupt {
            table: "role_permissions",
            column: "permission",
            value: pair.to_owned(),
        })?;
        let path = code("org_units", "path", path.to_owned(), UnitPath::parse)?;
        // A permission removed from the code but still in data grants nothing.
        if let Some(p) = Permission::from_code(permission) {
            grants.push((p, path));
        }
    }
    Ok(grants)
}

/// The session of `id_hash` with its account and every permission the account holds: one
/// statement, one row: what authenticating a page view costs.
pub async fn signed_in(
    conn: &mut Conn,
    id_hash: &str,
) -> Result<Option<(Session, Account, Vec<(Permission, UnitPath)>)>, StoreError> {
    let sql = format!(
        "SELECT s.user_id, s.created_at AS session_created_at, s.last_seen_at, \
         COALESCE(s.authenticated_at, s.created_at) AS authenticated_at, u.id, u.username, u.display_name, u.unit_id, \
         u.password_hash, u.must_change_password, u.password_changed_at, u.disabled_at, {} \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        grants_column(conn)
    );
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id_hash).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let session = Session {
        user_id: r.try_get("user_id")?,
        created_at: stamp("sessions", "created_at", r.try_get("session_created_at")?)?,
        last_seen_at: stamp("sessions", "last_seen_at", r.try_get("last_seen_at")?)?,
        authenticated_at: stamp("sessions", "authenticated_at", r.try_get("authenticated_at")?)?,
    };
    Ok(Some((session, account_from(&r)?, parse_grants(r.try_get("grants")?)?)))
}

/// The token of `hash` with its account and every permission the account holds: one statement,
/// one row.
pub async fn token_user(
    conn: &mut Conn,
    hash: &str,
) -> Result<Option<(StoredToken, Account, Vec<(Permission, UnitPath)>)>, StoreError> {
    let sql = format!(
        "SELECT t.id AS token_id, t.user_id, t.permissions AS token_permissions, t.expires_at, t.revoked_at, t.last_used_at, \
         u.id, u.username, u.display_name, u.unit_id, u.password_hash, u.must_change_password, u.password_changed_at, \
         u.disabled_at, {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        grants_column(conn)
    );
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let t = "api_tokens";
    let token = StoredToken {
        id: r.try_get("token_id")?,
        user_id: r.try_get("user_id")?,
        // A permission removed from the code but still in data grants nothing.
        permissions: r
            .try_get::<String, _>("token_permissions")?
            .split(',')
            .filter_map(Permission::from_code)
            .collect(),
        expires_at: stamp(t, "expires_at", r.try_get("expires_at")?)?,
        revoked: r.try_get::<Option<String>, _>("revoked_at")?.is_some(),
        last_used_at: opt_stamp(t, "last_used_at", r.try_get("last_used_at")?)?,
    };
    Ok(Some((token, account_from(&r)?, parse_grants(r.try_get("grants")?)?)))
}
