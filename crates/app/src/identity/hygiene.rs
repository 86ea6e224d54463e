//! Account hygiene (营销信息安全 §6.2): dormant accounts, permission reviews, unlocking, and the
//! first administrator of a new installation.

use gridsafe_domain::access::{Actor, Capability, Channel, perm};
use gridsafe_domain::account::DormancyStep;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::UserSummary;
use super::users::users_in_scope;
use crate::audit::{NewEvent, append};
use crate::secret::generate_password;
use crate::{App, AppError, RequestMeta};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DormancyReport {
    pub flagged: Vec<String>,
    pub disabled: Vec<String>,
}

/// The daily dormancy job: flags accounts with no sign-in for the configured days, and
/// disables flagged accounts once the notice period has passed.
pub async fn run_dormancy(app: &App, meta: &RequestMeta) -> Result<DormancyReport, AppError> {
    let policy = app.security().dormancy_policy();
    let now = app.now();
    let rows = sqlx::query("SELECT id, username, unit_id, COALESCE(last_login_at, created_at), dormant_flagged_at FROM users WHERE disabled_at IS NULL")
        .fetch_all(app.db().pool())
        .await?;
    let actor = Actor { user_id: None, name: "job:dormant-accounts".into(), channel: Channel::Job };
    let mut report = DormancyReport::default();
    for row in rows {
        let (id, username, unit_id): (i64, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let last: String = row.try_get(3)?;
        let flagged: Option<String> = row.try_get(4)?;
        let Some(last) = Timestamp::from_db(&last) else { continue };
        let step = policy.step(last, flagged.as_deref().and_then(Timestamp::from_db), now);
        let rule = serde_json::json!({ "rule": gridsafe_domain::rules::DORMANT_ACCOUNT.code, "last_activity": last.to_db(), "username": username });
        let mut tx = app.db().begin_write().await?;
        match step {
            DormancyStep::Nothing => continue,
            DormancyStep::Flag => {
                sqlx::query("UPDATE users SET dormant_flagged_at = $1 WHERE id = $2")
                    .bind(now.to_db())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                append(
                    &mut tx,
                    &actor,
                    meta,
                    now,
                    NewEvent::new("user.dormant_flagged", "user", id).unit(unit_id).summary(rule),
                )
                .await?;
                report.flagged.push(username);
            }
            DormancyStep::Disable => {
                sqlx::query("UPDATE users SET disabled_at = $1, disabled_reason = $2 WHERE id = $3")
                    .bind(now.to_db())
                    .bind("dormant")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                append(
                    &mut tx,
                    &actor,
                    meta,
                    now,
                    NewEvent::new("user.disabled", "user", id).unit(unit_id).summary(rule),
                )
                .await?;
                report.disabled.push(username);
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// Every account of the reviewer's units with its status, roles and last review.
pub async fn accounts_for_review(
    app: &App,
    cap: &Capability<perm::AccountsReview>,
) -> Result<Vec<UserSummary>, AppError> {
    users_in_scope(app, cap.scope(), None).await
}

async fn user_unit_checked(
    app: &App,
    cap: &Capability<perm::AccountsReview>,
    user_id: i64,
) -> Result<(String, i64), AppError> {
    let row = sqlx::query(
        "SELECT us.username, us.unit_id, u.path FROM users us JOIN org_units u ON u.id = us.unit_id WHERE us.id = $1",
    )
    .bind(user_id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let path: String = row.try_get(2)?;
    let path = gridsafe_domain::access::UnitPath::parse(&path).ok_or_else(|| AppError::internal("unit path"))?;
    cap.check(&path)?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Records that the user's permissions were reviewed (an audited action).
pub async fn record_review(
    app: &App,
    cap: &Capability<perm::AccountsReview>,
    meta: &RequestMeta,
    user_id: i64,
    note: &str,
) -> Result<(), AppError> {
    let (username, unit_id) = user_unit_checked(app, cap, user_id).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE users SET last_review_at = $1, last_review_by = $2 WHERE id = $3")
        .bind(now.to_db())
        .bind(&cap.actor().name)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("user.permissions_reviewed", "user", user_id)
        .unit(unit_id)
        .summary(serde_json::json!({ "username": username, "note": note.trim() }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Lifts a lockout before it runs out.
pub async fn unlock(
    app: &App,
    cap: &Capability<perm::AccountsReview>,
    meta: &RequestMeta,
    user_id: i64,
) -> Result<(), AppError> {
    let (username, unit_id) = user_unit_checked(app, cap, user_id).await?;
    let admin = super::users::AccountAdmin::from(cap);
    admin.permit(app, meta, user_id, None, "unlock").await?;
    let mut tx = app.db().begin_write().await?;
    admin.check_act(&mut tx, user_id, None).await?;
    sqlx::query("DELETE FROM login_guard WHERE username = $1").bind(&username).execute(&mut *tx).await?;
    append(
        &mut tx,
        cap.actor(),
        meta,
        app.now(),
        NewEvent::new("user.unlocked", "user", user_id)
            .unit(unit_id)
            .summary(serde_json::json!({ "username": username })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// On a first start with no users: creates the root unit (if none) and one system
/// administrator with a random password that must be changed at first sign-in. Returns the
/// username and password to print once; `None` when users already exist.
pub async fn bootstrap_admin(
    app: &App,
    meta: &RequestMeta,
    root_name: &str,
) -> Result<Option<(String, String)>, AppError> {
    let users: i64 = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(app.db().pool()).await?.try_get(0)?;
    if users > 0 {
        return Ok(None);
    }
    let password = generate_password()?;
    let hash = app.hashing().hash(password.clone()).await?;
    let now = app.now();
    let actor = Actor { user_id: None, name: "gridsafe serve (first start)".into(), channel: Channel::Cli };
    let mut tx = app.db().begin_write().await?;
    // Another instance may have won the race between the count and this transaction.
    let users: i64 = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?.try_get(0)?;
    if users > 0 {
        return Ok(None);
    }
    let root = sqlx::query("SELECT id FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    let root_id: i64 = match root {
        Some(row) => row.try_get(0)?,
        None => {
            let id: i64 = sqlx::query("INSERT INTO org_units (code, name, kind, parent_id, path, created_at) VALUES ('ROOT', $1, 'province', NULL, '/pending/', $2) RETURNING id")
                .bind(root_name)
                .bind(now.to_db())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2")
                .bind(format!("/{id}/"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            append(
                &mut tx,
                &actor,
                meta,
                now,
                NewEvent::new("unit.created", "org_unit", id)
                    .unit(id)
                    .summary(serde_json::json!({ "code": "ROOT", "name": root_name })),
            )
            .await?;
            id
        }
    };
    let user_id = sqlx::query(
        "INSERT INTO users (username, display_name, unit_id, password_hash, must_change_password, password_changed_at, created_at) \
         VALUES ('admin', $1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind("系统管理员")
    .bind(root_id)
    .bind(&hash)
    .bind(1_i64)
    .bind(now.to_db())
    .fetch_one(&mut *tx)
    .await;
    // Two instances starting at once on PostgreSQL: the second finds `admin` taken and goes on.
    let user_id: i64 = match user_id {
        Ok(row) => row.try_get(0)?,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    sqlx::query("INSERT INTO user_roles (user_id, role_code, unit_id, granted_at, granted_by) VALUES ($1, 'system_admin', $2, $3, $4)")
        .bind(user_id)
        .bind(root_id)
        .bind(now.to_db())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("user.created", "user", user_id)
        .unit(root_id)
        .summary(serde_json::json!({ "username": "admin", "role": "system_admin", "first_start": true }));
    append(&mut tx, &actor, meta, now, event).await?;
    tx.commit().await?;
    Ok(Some(("admin".to_owned(), password)))
}
