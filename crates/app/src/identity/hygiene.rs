//! Account hygiene (营销信息安全 §6.2): dormant accounts, permission reviews, unlocking, and the
//! first administrator of a new installation.

use gridsafe_domain::access::{Actor, Capability, Channel, UnitKind, UnitPath, perm};
use gridsafe_domain::account::DormancyStep;
use gridsafe_domain::ids::UnitId;
use gridsafe_store::identity as store;
use serde::Serialize;

use super::UserSummary;
use super::users::users_in_scope;
use crate::audit::NewEvent;
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
    let accounts = store::enabled_accounts(&mut *app.db().read().await?).await?;
    let actor = Actor { user_id: None, name: "job:dormant-accounts".into(), channel: Channel::Job };
    let mut report = DormancyReport::default();
    for a in accounts {
        let step = policy.step(a.last, a.flagged, now);
        let rule = serde_json::json!({ "rule": gridsafe_domain::rules::DORMANT_ACCOUNT.code, "last_activity": a.last.to_db(), "username": a.username });
        let event = match step {
            DormancyStep::Nothing => continue,
            DormancyStep::Flag => NewEvent::new("user.dormant_flagged", "user", a.id),
            DormancyStep::Disable => NewEvent::new("user.disabled", "user", a.id),
        };
        let mut work = app.begin(&actor, meta).await?;
        if step == DormancyStep::Flag {
            store::flag_dormant(work.conn(), a.id, now).await?;
            report.flagged.push(a.username);
        } else {
            store::disable(work.conn(), a.id, "dormant", now).await?;
            store::delete_sessions_of(work.conn(), a.id).await?;
            report.disabled.push(a.username);
        }
        work.audit(event.unit(a.unit_id).summary(rule)).await?;
        work.commit().await?;
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
) -> Result<(String, UnitId), AppError> {
    let user = store::user(&mut *app.db().read().await?, user_id, app.now()).await?.ok_or(AppError::NotFound)?;
    let path = UnitPath::parse(&user.unit_path).ok_or(gridsafe_store::StoreError::Corrupt {
        table: "org_units",
        column: "path",
        value: user.unit_path.clone(),
    })?;
    cap.check(&path)?;
    Ok((user.username, user.unit_id))
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    store::record_review(work.conn(), user_id, &cap.actor().name, now).await?;
    work.audit(
        NewEvent::new("user.permissions_reviewed", "user", user_id)
            .unit(unit_id)
            .summary(serde_json::json!({ "username": username, "note": note.trim() })),
    )
    .await?;
    work.commit().await
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
    let mut work = app.begin(cap.actor(), meta).await?;
    admin.check_act(work.conn(), user_id, None).await?;
    store::clear_guard(work.conn(), &username).await?;
    work.audit(
        NewEvent::new("user.unlocked", "user", user_id)
            .unit(unit_id)
            .summary(serde_json::json!({ "username": username })),
    )
    .await?;
    work.commit().await
}

/// On a first start with no users: creates the root unit (if none) and one system
/// administrator with a random password that must be changed at first sign-in. Returns the
/// username and password to print once; `None` when users already exist.
pub async fn bootstrap_admin(
    app: &App,
    meta: &RequestMeta,
    root_name: &str,
) -> Result<Option<(String, String)>, AppError> {
    if store::user_count(&mut *app.db().read().await?).await? > 0 {
        return Ok(None);
    }
    let password = generate_password()?;
    let hash = app.hashing().hash(password.clone()).await?;
    let actor = Actor { user_id: None, name: "gridsafe serve (first start)".into(), channel: Channel::Cli };
    let mut work = app.begin(&actor, meta).await?;
    let now = work.now();
    // Another instance may have won the race between the count and this unit of work.
    if store::user_count(work.conn()).await? > 0 {
        return Ok(None);
    }
    let root_id = match store::root_unit(work.conn()).await? {
        Some(root) => root.id,
        None => {
            let (id, _) = store::insert_unit(work.conn(), "ROOT", root_name, UnitKind::Province, None, now).await?;
            work.audit(
                NewEvent::new("unit.created", "org_unit", id)
                    .unit(id)
                    .summary(serde_json::json!({ "code": "ROOT", "name": root_name })),
            )
            .await?;
            id
        }
    };
    // Two instances starting at once on PostgreSQL: the second finds `admin` taken and goes on.
    let user_id = match store::insert_user(work.conn(), "admin", "系统管理员", root_id, &hash, now).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    store::insert_grant(work.conn(), user_id, "system_admin", root_id, &actor.name, now).await?;
    work.audit(
        NewEvent::new("user.created", "user", user_id)
            .unit(root_id)
            .summary(serde_json::json!({ "username": "admin", "role": "system_admin", "first_start": true })),
    )
    .await?;
    work.commit().await?;
    Ok(Some(("admin".to_owned(), password)))
}
