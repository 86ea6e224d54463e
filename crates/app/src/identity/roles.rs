//! Roles as data: which permissions each grants, changeable without a deploy.

use gridsafe_domain::access::{Capability, Permission, check_separation, perm};
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, RequestMeta};

#[derive(Debug, Clone, Serialize)]
pub struct RoleInfo {
    pub code: String,
    pub admin_class: Option<String>,
    pub permissions: Vec<Permission>,
}

pub async fn list_roles(app: &App) -> Result<Vec<RoleInfo>, AppError> {
    let rows =
        sqlx::query("SELECT code, admin_class FROM roles ORDER BY sort_order").fetch_all(app.db().pool()).await?;
    let grants = sqlx::query("SELECT role_code, permission FROM role_permissions").fetch_all(app.db().pool()).await?;
    let mut roles = Vec::with_capacity(rows.len());
    for row in rows {
        let code: String = row.try_get(0)?;
        let mut permissions: Vec<Permission> = grants
            .iter()
            .filter(|g| g.try_get::<String, _>(0).is_ok_and(|r| r == code))
            .filter_map(|g| g.try_get::<String, _>(1).ok().and_then(|p| Permission::from_code(&p)))
            .collect();
        permissions.sort();
        roles.push(RoleInfo { code, admin_class: row.try_get(1)?, permissions });
    }
    Ok(roles)
}

/// Locks the role table for a change of what roles grant or who holds them, so that two such
/// changes at once cannot together break the separation of administrators (PostgreSQL row locks;
/// SQLite's writer lock already serialises them).
pub(crate) async fn lock_roles(tx: &mut sqlx::Transaction<'_, sqlx::Any>, app: &App) -> Result<(), AppError> {
    let sql = format!("SELECT code FROM roles ORDER BY code{}", gridsafe_store::for_update(app.db().backend()));
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    Ok(())
}

/// The permissions each role grants, read in `tx`.
pub(crate) async fn grants_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<std::collections::BTreeMap<String, Vec<Permission>>, AppError> {
    let mut out: std::collections::BTreeMap<String, Vec<Permission>> = std::collections::BTreeMap::new();
    for r in sqlx::query("SELECT role_code, permission FROM role_permissions").fetch_all(&mut **tx).await? {
        let code: String = r.try_get("permission")?;
        let p = Permission::from_code(&code).ok_or_else(|| AppError::internal(format!("permission {code}")))?;
        out.entry(r.try_get("role_code")?).or_default().push(p);
    }
    Ok(out)
}

/// Replaces the permissions `role` grants. Takes effect on the next request of every holder.
/// Refused (ADMIN_SEPARATION) when the role, or any account through all its roles, would then
/// hold permissions of two administrator classes, or an administrator's with business ones.
pub async fn set_role_permissions(
    app: &App,
    cap: &Capability<perm::RolesManage>,
    meta: &RequestMeta,
    role: &str,
    permissions: &[Permission],
) -> Result<(), AppError> {
    let before = list_roles(app).await?.into_iter().find(|r| r.code == role).ok_or(AppError::NotFound)?;
    let mut after: Vec<Permission> = permissions.to_vec();
    after.sort();
    after.dedup();
    let mut tx = app.db().begin_write().await?;
    lock_roles(&mut tx, app).await?;
    let mut grants = grants_in(&mut tx).await?;
    grants.insert(role.to_owned(), after.clone());
    check_separation(after.iter().copied())?;
    // Every account holding this role, with all its other roles.
    let holders = sqlx::query("SELECT DISTINCT user_id FROM user_roles WHERE role_code = $1")
        .bind(role)
        .fetch_all(&mut *tx)
        .await?;
    for h in holders {
        let user: i64 = h.try_get(0)?;
        let roles: Vec<String> = sqlx::query_scalar("SELECT DISTINCT role_code FROM user_roles WHERE user_id = $1")
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
        check_separation(roles.iter().flat_map(|r| grants.get(r).cloned().unwrap_or_default()))?;
    }
    sqlx::query("DELETE FROM role_permissions WHERE role_code = $1").bind(role).execute(&mut *tx).await?;
    for p in &after {
        sqlx::query("INSERT INTO role_permissions (role_code, permission) VALUES ($1, $2)")
            .bind(role)
            .bind(p.code())
            .execute(&mut *tx)
            .await?;
    }
    let codes = |ps: &[Permission]| ps.iter().map(|p| p.code()).collect::<Vec<_>>();
    let event = NewEvent::new("role.permissions_changed", "role", role)
        .summary(serde_json::json!({ "before": codes(&before.permissions), "after": codes(&after) }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}
