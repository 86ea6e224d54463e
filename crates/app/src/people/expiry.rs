//! Expiry warnings: qualifications, licences and agreements expired or running out within N days.

use chrono::NaiveDate;
use gridsafe_domain::access::{Actor, Channel};
use gridsafe_domain::webhooks::EventKind;

use super::{Reach, View};
use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};

pub use gridsafe_store::people::Expiring;

/// Everything in reach that ends by `today + days` and has not been renewed, soonest first:
/// expired items stay (first) until a later one is recorded or their holder is retired.
pub async fn expiring<M>(app: &App, reach: &Reach<M>, today: NaiveDate, days: u32) -> Result<Vec<Expiring>, AppError> {
    let until = today + chrono::Duration::days(i64::from(days));
    Ok(gridsafe_store::people::expiring(&mut *app.db().read().await?, reach.scope(), today, until).await?)
}

/// The daily job: records today's warnings for every unit (once per record and day) and
/// writes one audit event with their number.
pub async fn record_expiry_warnings(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let operator = gridsafe_domain::access::Principal::operator("job:expiry-warnings", Channel::Job);
    let cap = operator.authorize::<gridsafe_domain::access::perm::PeopleView>()?;
    let today = app.today();
    let items = expiring(app, &Reach::<View>::units(&cap), today, app.people_config().expiry_warning_days).await?;
    let actor = Actor { user_id: None, name: "job:expiry-warnings".into(), channel: Channel::Job };
    let mut work = app.begin(&actor, meta).await?;
    let mut recorded = 0;
    let now = work.now();
    let announce =
        gridsafe_store::webhooks::anyone_listens(work.conn(), EventKind::QualificationExpired.code()).await?;
    for item in &items {
        recorded += usize::from(gridsafe_store::people::record_warning(work.conn(), today, item).await?);
        if announce && item.expired() {
            // Announced once per record and last valid day (a renewal that lapses again is news).
            let key = format!("qualification.expired:{}:{}:{}", item.kind, item.record_id, item.valid_to);
            let data = serde_json::json!({
                "kind": item.kind, "record": item.record_id, "subject": item.subject, "detail": item.detail,
                "title": item.title, "valid_to": item.valid_to,
            });
            crate::webhooks::enqueue(work.conn(), EventKind::QualificationExpired, item.unit_id, &key, data, now)
                .await?;
        }
    }
    work.audit(NewEvent::new("expiry.recorded", "expiry_warnings", today).summary(
        serde_json::json!({ "day": today.to_string(), "warnings": recorded, "within_days": app.people_config().expiry_warning_days }),
    ))
    .await?;
    work.commit().await?;
    Ok(recorded)
}
