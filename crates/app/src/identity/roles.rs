//! Roles as data: which permissions each grants, changeable without a deploy.

use gridsafe_domain::access::{Capability, Permission, perm};
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

/// Replaces the permissions `role` grants. Takes effect on the next request of every holder.
pub async fn set_role_permissions(
    app: &App,
    cap: &Capability<perm::RolesManage>,
    meta: &RequestMeta,
    role: &str,
    permissions: &[Permission],
) -> Result<(), AppError> {
    let before = list_roles(app).await?.into_iter().find(|r| r.code == role).ok_or(AppError::NotFound)?;
    let mut tx = app.db().begin_write().await?;
    sqlx::query("DELETE FROM role_permissions WHERE role_code = $1").bind(role).execute(&mut *tx).await?;
    let mut after: Vec<Permission> = permissions.to_vec();
    after.sort();
    after.dedup();
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
    append(&mut tx, app.db().backend(), cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}
