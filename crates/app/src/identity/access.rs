//! Access decisions and their record: every refusal, whether the capability was missing or the
//! record lies outside the caller's units, is written to the audit trail here, by the use-case
//! layer; pages and the API only render the answer.

use gridsafe_domain::access::{Capability, Denied, PermissionMarker};

use super::CurrentUser;
use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};

/// The capability for permission `P`, or the refusal, recorded.
pub async fn authorize<P: PermissionMarker>(
    app: &App,
    user: &CurrentUser,
    meta: &RequestMeta,
) -> Result<Capability<P>, AppError> {
    match user.principal.authorize::<P>() {
        Ok(cap) => Ok(cap),
        Err(denied) => Err(deny(app, user, meta, denied, "-").await),
    }
}

/// Records a refusal of `user` (on `record`) and answers it.
pub async fn deny(app: &App, user: &CurrentUser, meta: &RequestMeta, denied: Denied, record: &str) -> AppError {
    let permission = match denied {
        Denied::NotGranted(p) | Denied::OutsideScope(p) => p,
    };
    let event = NewEvent::new("access.denied", "permission", permission.code())
        .unit(user.unit_id)
        .summary(serde_json::json!({ "reason": denied.to_string(), "record": record }));
    match app.record(user.principal.actor(), meta, event).await {
        Ok(_) => AppError::Denied(denied),
        Err(error) => error,
    }
}

/// `result` as the use case answered, a refusal inside it (a record outside the user's units)
/// recorded first.
pub async fn checked<T>(
    app: &App,
    user: &CurrentUser,
    meta: &RequestMeta,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    match result {
        Err(AppError::Denied(denied)) => Err(deny(app, user, meta, denied, "scoped record").await),
        other => other,
    }
}

/// Refuses, and records, an account action (password, tokens, sign-out) asked with an API token:
/// a leaked token cannot make itself permanent.
pub async fn session_only(app: &App, user: &CurrentUser, meta: &RequestMeta) -> Result<(), AppError> {
    let event = NewEvent::new("access.denied", "account", user.id)
        .unit(user.unit_id)
        .summary(serde_json::json!({ "reason": "api token used for an account action" }));
    app.record(user.principal.actor(), meta, event).await?;
    Ok(())
}
