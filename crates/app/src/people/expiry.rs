//! Expiry warnings: qualifications, licences and agreements running out within N days.

use chrono::NaiveDate;
use gridsafe_domain::access::{Actor, Channel};
use serde::Serialize;
use sqlx::Row;

use super::{Reach, View};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, RequestMeta};

#[derive(Debug, Clone, Serialize)]
pub struct Expiring {
    /// `qualification`, `license` or `agreement`.
    pub kind: &'static str,
    pub record_id: i64,
    /// The person (工号 and name) or contractor it belongs to.
    pub subject: String,
    /// The qualification kind, or the agreement's number.
    pub detail: String,
    pub valid_to: String,
    pub days_left: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// The page to act on it.
    pub link: String,
}

/// Everything in reach that ends between `today` and `today + days`, soonest first. A
/// qualification or agreement already followed by a later one is not listed.
pub async fn expiring<M>(app: &App, reach: &Reach<M>, today: NaiveDate, days: u32) -> Result<Vec<Expiring>, AppError> {
    let until = (today + chrono::Duration::days(i64::from(days))).to_string();
    let today_s = today.to_string();
    let mut out = Vec::new();
    let (clause, binds) = reach.filter("u.path", "p.contractor_id", 3);
    let sql = format!(
        "SELECT q.id, p.id, p.code, p.name, q.kind, q.title, q.valid_to, u.id, u.name FROM qualifications q \
         JOIN people p ON p.id = q.person_id JOIN org_units u ON u.id = p.unit_id \
         WHERE q.valid_to >= $1 AND q.valid_to <= $2 AND q.passed = 1 AND q.confirmed_at IS NOT NULL AND p.active = 1 AND {clause} \
         AND NOT EXISTS (SELECT 1 FROM qualifications q2 WHERE q2.person_id = q.person_id AND q2.kind = q.kind \
         AND q2.confirmed_at IS NOT NULL AND q2.valid_to > q.valid_to)"
    );
    let values: Vec<String> = [today_s.clone(), until.clone()].into_iter().chain(binds.iter().cloned()).collect();
    for r in gridsafe_store::bound(sql, &values).fetch_all(app.db().pool()).await? {
        let valid_to: String = r.try_get(6)?;
        let kind: String = r.try_get(4)?;
        out.push(Expiring {
            kind: "qualification",
            record_id: r.try_get(0)?,
            subject: format!("{} {}", r.try_get::<String, _>(2)?, r.try_get::<String, _>(3)?),
            detail: r.try_get::<Option<String>, _>(5)?.unwrap_or(kind),
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: r.try_get(7)?,
            unit_name: r.try_get(8)?,
            link: format!("/people/{}", r.try_get::<i64, _>(1)?),
        });
    }
    let (clause, binds) = reach.filter("u.path", "c.id", 3);
    let sql = format!(
        "SELECT c.id, c.code, c.name, c.license_valid_to, u.id, u.name FROM contractors c JOIN org_units u ON u.id = c.unit_id \
         WHERE c.license_valid_to >= $1 AND c.license_valid_to <= $2 AND c.blacklisted_on IS NULL AND {clause}"
    );
    let values: Vec<String> = [today_s.clone(), until.clone()].into_iter().chain(binds.iter().cloned()).collect();
    for r in gridsafe_store::bound(sql, &values).fetch_all(app.db().pool()).await? {
        let valid_to: String = r.try_get(3)?;
        let id: i64 = r.try_get(0)?;
        out.push(Expiring {
            kind: "license",
            record_id: id,
            subject: format!("{} {}", r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?),
            detail: String::new(),
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: r.try_get(4)?,
            unit_name: r.try_get(5)?,
            link: format!("/contractors/{id}"),
        });
    }
    let sql = format!(
        "SELECT a.id, a.code, c.id, c.code, c.name, a.valid_to, u.id, u.name FROM safety_agreements a \
         JOIN contractors c ON c.id = a.contractor_id JOIN org_units u ON u.id = c.unit_id \
         WHERE a.valid_to >= $1 AND a.valid_to <= $2 AND c.blacklisted_on IS NULL AND {clause} \
         AND NOT EXISTS (SELECT 1 FROM safety_agreements a2 WHERE a2.contractor_id = a.contractor_id AND a2.valid_to > a.valid_to)"
    );
    let values: Vec<String> = [today_s.clone(), until.clone()].into_iter().chain(binds.iter().cloned()).collect();
    for r in gridsafe_store::bound(sql, &values).fetch_all(app.db().pool()).await? {
        let valid_to: String = r.try_get(5)?;
        out.push(Expiring {
            kind: "agreement",
            record_id: r.try_get(0)?,
            subject: format!("{} {}", r.try_get::<String, _>(3)?, r.try_get::<String, _>(4)?),
            detail: r.try_get(1)?,
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: r.try_get(6)?,
            unit_name: r.try_get(7)?,
            link: format!("/contractors/{}", r.try_get::<i64, _>(2)?),
        });
    }
    out.sort_by(|a, b| a.valid_to.cmp(&b.valid_to).then(a.subject.cmp(&b.subject)));
    Ok(out)
}

fn days_between(today: NaiveDate, end: &str) -> i64 {
    super::stored_day(end).map_or(0, |e| (e - today).num_days())
}

/// The daily job: records today's warnings for every unit (once per record and day) and
/// writes one audit event with their number.
pub async fn record_expiry_warnings(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let operator = gridsafe_domain::access::Principal::operator("job:expiry-warnings", Channel::Job);
    let cap = operator.authorize::<gridsafe_domain::access::perm::PeopleView>()?;
    let today = app.today();
    let items = expiring(app, &Reach::<View>::units(&cap), today, app.people_config().expiry_warning_days).await?;
    let mut tx = app.db().begin_write().await?;
    let mut recorded = 0;
    for item in &items {
        recorded += sqlx::query(
            "INSERT INTO expiry_warnings (day, kind, record_id, unit_id, valid_to) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day, kind, record_id) DO NOTHING",
        )
        .bind(today.to_string())
        .bind(item.kind)
        .bind(item.record_id)
        .bind(item.unit_id)
        .bind(&item.valid_to)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    }
    let actor = Actor { user_id: None, name: "job:expiry-warnings".into(), channel: Channel::Job };
    let event = NewEvent::new("expiry.recorded", "expiry_warnings", today)
        .summary(serde_json::json!({ "day": today.to_string(), "warnings": recorded, "within_days": app.people_config().expiry_warning_days }));
    append(&mut tx, &actor, meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(recorded)
}
