//! Roles as data: which permissions each grants, changeable without a deploy.

use gridsafe_domain::access::{Capability, Permission, check_separation, perm};
use gridsafe_store::identity as store;

use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};
pub use gridsafe_store::identity::RoleInfo;

/// Every role with its permissions, in display order.
pub async fn list_roles(app: &App) -> Result<Vec<RoleInfo>, AppError> {
    Ok(store::roles(&mut *app.db().read().await?).await?)
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
    let mut after: Vec<Permission> = permissions.to_vec();
    after.sort();
    after.dedup();
    let mut work = app.begin(cap.actor(), meta).await?;
    // Load, with every role held: grants meanwhile wait and then see this change.
    store::hold_roles(work.conn()).await?;
    let before = store::roles(work.conn()).await?.into_iter().find(|r| r.code == role).ok_or(AppError::NotFound)?;
    let mut grants = store::grants_by_role(work.conn()).await?;
    grants.insert(role.to_owned(), after.clone());
    // Check: the role itself, and every account holding it with all its other roles.
    check_separation(after.iter().copied())?;
    for user in store::holders_of(work.conn(), role).await? {
        let roles = store::roles_of(work.conn(), user).await?;
        check_separation(roles.iter().flat_map(|r| grants.get(r).cloned().unwrap_or_default()))?;
    }
    store::set_role_permissions(work.conn(), role, &after).await?;
    let codes = |ps: &[Permission]| ps.iter().map(|p| p.code()).collect::<Vec<_>>();
    work.audit(
        NewEvent::new("role.permissions_changed", "role", role)
            .summary(serde_json::json!({ "before": codes(&before.permissions), "after": codes(&after) })),
    )
    .await?;
    work.commit().await
}
