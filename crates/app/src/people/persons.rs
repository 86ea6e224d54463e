//! People and their qualifications.

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, UnitPath, perm};
use gridsafe_domain::people::{self, FieldRole, Held, PersonFacts, QualificationKind};
use gridsafe_domain::rules::Violation;
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use super::{Manage, Reach, outside, parse_day, stored_day};
use crate::audit::{NewEvent, append};
use crate::identity::{AccountAdmin, unit_by_id};
use crate::{App, AppError, FieldProblem, RequestMeta};

#[derive(Debug, Clone, Serialize)]
pub struct PersonRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub contractor_id: Option<i64>,
    pub contractor_name: Option<String>,
    pub phone: Option<String>,
    pub post: Option<String>,
    pub active: bool,
    pub username: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

const PERSON_COLUMNS: &str =
    "p.id, p.code, p.name, p.unit_id, u.name, u.path, p.contractor_id, c.name, p.phone, p.post, p.active, us.username";
const PERSON_FROM: &str = "people p JOIN org_units u ON u.id = p.unit_id LEFT JOIN contractors c ON c.id = p.contractor_id LEFT JOIN users us ON us.id = p.user_id";

fn person_from_row(r: &sqlx::any::AnyRow) -> Result<PersonRow, sqlx::Error> {
    Ok(PersonRow {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        name: r.try_get(2)?,
        unit_id: r.try_get(3)?,
        unit_name: r.try_get(4)?,
        unit_path: r.try_get(5)?,
        contractor_id: r.try_get(6)?,
        contractor_name: r.try_get(7)?,
        phone: r.try_get(8)?,
        post: r.try_get(9)?,
        active: r.try_get::<i64, _>(10)? != 0,
        username: r.try_get(11)?,
    })
}

/// People in reach, by unit and 工号. `query` matches 工号 or name; `limit` bounds the page.
pub async fn list_people<M>(
    app: &App,
    reach: &Reach<M>,
    query: Option<&str>,
    limit: u32,
) -> Result<Vec<PersonRow>, AppError> {
    let (clause, mut binds) = reach.filter("u.path", "p.contractor_id", 1);
    let mut sql = format!("SELECT {PERSON_COLUMNS} FROM {PERSON_FROM} WHERE {clause}");
    if let Some(pattern) = crate::search::contains("q", query)? {
        binds.push(pattern);
        let n = binds.len();
        sql.push_str(&format!(" AND ({} OR {})", crate::search::like("p.code", n), crate::search::like("p.name", n)));
    }
    sql.push_str(&format!(" ORDER BY u.path, p.code LIMIT {}", limit.clamp(1, 200_000)));
    let q = gridsafe_store::bound(sql, &binds);
    Ok(q.fetch_all(app.db().pool()).await?.iter().map(person_from_row).collect::<Result<_, _>>()?)
}

/// One person in reach.
pub async fn person<M>(app: &App, reach: &Reach<M>, id: i64) -> Result<PersonRow, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM {PERSON_FROM} WHERE p.id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let p = person_from_row(&row)?;
    let path = UnitPath::parse(&p.unit_path).ok_or_else(|| AppError::internal("unit path"))?;
    if reach.covers(&path, p.contractor_id) { Ok(p) } else { Err(outside()) }
}

#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub code: String,
    pub name: String,
    pub unit_id: i64,
    pub contractor_id: Option<i64>,
    pub phone: String,
    pub post: String,
    pub active: bool,
}

/// Creates (`id` = `None`) or updates a person. A contractor's administrator can only add and
/// edit their own company's workers. The account a person signs in with is linked apart, by an
/// administrator of accounts ([`link_account`]).
pub async fn save_person(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    id: Option<i64>,
    mut input: PersonInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let code = input.code.trim().to_owned();
    super::check_code(&code, &mut problems);
    crate::identity::check_name("name", &input.name, &mut problems);
    let phone = input.phone.trim().to_owned();
    if phone.chars().count() > 20 || !phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ')) {
        problems.push(FieldProblem::new("phone", "field-phone"));
    }
    if input.post.chars().count() > 50 {
        problems.push(FieldProblem::new("post", "field-name-length").with("max", 50));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    if let Some(own) = reach.contractor() {
        input.contractor_id = Some(own);
        let unit: i64 = sqlx::query("SELECT unit_id FROM contractors WHERE id = $1")
            .bind(own)
            .fetch_one(app.db().pool())
            .await?
            .try_get(0)?;
        input.unit_id = unit;
    }
    let unit = unit_by_id(app, input.unit_id).await?.ok_or(AppError::NotFound)?;
    if let Some(contractor) = input.contractor_id {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM contractors WHERE id = $1")
            .bind(contractor)
            .fetch_optional(app.db().pool())
            .await?;
        known.ok_or(AppError::NotFound)?;
    }
    if !reach.covers(&unit.path, input.contractor_id) {
        return Err(outside());
    }
    if let Some(existing) = id {
        person(app, reach, existing).await?;
    }
    let now = app.now().to_db();
    let name = trim_blank(&input.name).to_owned();
    let opt = |s: &str| (!trim_blank(s).is_empty()).then(|| trim_blank(s).to_owned());
    let mut tx = app.db().begin_write().await?;
    let saved: i64 = match id {
        None => sqlx::query(
            "INSERT INTO people (code, name, unit_id, contractor_id, phone, post, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&code)
        .bind(&name)
        .bind(unit.id)
        .bind(input.contractor_id)
        .bind(opt(&phone))
        .bind(opt(&input.post))
        .bind(i64::from(input.active))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-person-code"))?
        .try_get(0)?,
        Some(id) => {
            sqlx::query(
                "UPDATE people SET code = $1, name = $2, unit_id = $3, contractor_id = $4, phone = $5, post = $6, active = $7, \
                 updated_at = $8 WHERE id = $9",
            )
            .bind(&code)
            .bind(&name)
            .bind(unit.id)
            .bind(input.contractor_id)
            .bind(opt(&phone))
            .bind(opt(&input.post))
            .bind(i64::from(input.active))
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| AppError::from_insert(e, "conflict-person-code"))?;
            id
        }
    };
    let action = if id.is_some() { "person.updated" } else { "person.created" };
    // The summary names the record, not the phone number: personal data stays out of the trail's text.
    let event = NewEvent::new(action, "person", saved).unit(unit.id).summary(
        serde_json::json!({ "code": code, "name": name, "contractor_id": input.contractor_id, "active": input.active }),
    );
    append(&mut tx, reach.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Links account `user_id` to the person whose 工号 is `person_code` (the person it signs ticket
/// steps and inspections as), or unlinks it (`None`). An act of the administrators of accounts,
/// audited with both names; an account is linked to at most one person and a person to at most
/// one account, and no administrator links his own account.
pub async fn link_account(
    app: &App,
    admin: impl Into<AccountAdmin>,
    meta: &RequestMeta,
    user_id: i64,
    person_code: Option<&str>,
) -> Result<(), AppError> {
    let admin = admin.into();
    let account = admin.load(app, user_id).await?;
    let code = person_code.map(str::trim).filter(|c| !c.is_empty());
    if code.is_some_and(|c| c.chars().count() > 40) {
        return Err(AppError::Invalid(vec![FieldProblem::new("person_code", "field-name-length").with("max", 40)]));
    }
    admin.permit(app, meta, user_id, None, "link_person").await?;
    let mut tx = app.db().begin_write().await?;
    admin.check_act(&mut tx, user_id, None).await?;
    // The person's row is locked, so two administrators cannot link it to two accounts at once.
    let person = match code {
        Some(code) => {
            let sql = format!(
                "SELECT p.id, p.name, (SELECT u.path FROM org_units u WHERE u.id = p.unit_id), p.unit_id, \
                 (SELECT us.username FROM users us WHERE us.id = p.user_id) FROM people p WHERE p.code = $1{}",
                gridsafe_store::for_update(app.db().backend())
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(AppError::NotFound)?;
            let path: String = row.try_get(2)?;
            admin.check_unit(&UnitPath::parse(&path).ok_or_else(|| AppError::internal("unit path"))?)?;
            let linked: Option<String> = row.try_get(4)?;
            if linked.is_some_and(|u| u != account.username) {
                return Err(AppError::Conflict("conflict-person-has-account"));
            }
            Some((row.try_get::<i64, _>(0)?, code.to_owned(), row.try_get::<String, _>(1)?, row.try_get::<i64, _>(3)?))
        }
        None => None,
    };
    let before: Option<(i64, String)> = sqlx::query("SELECT id, code FROM people WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?;
    if let (Some((before_id, _)), Some((id, ..))) = (&before, &person)
        && before_id != id
    {
        return Err(AppError::Conflict("conflict-account-linked"));
    }
    let (action, target) = match &person {
        Some((id, ..)) => {
            sqlx::query("UPDATE people SET user_id = $1, updated_at = $2 WHERE id = $3")
                .bind(user_id)
                .bind(app.now().to_db())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| AppError::from_insert(e, "conflict-account-linked"))?;
            ("person.account_linked", *id)
        }
        None => {
            let Some((id, _)) = &before else { return Ok(()) };
            sqlx::query("UPDATE people SET user_id = NULL, updated_at = $1 WHERE id = $2")
                .bind(app.now().to_db())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            ("person.account_unlinked", *id)
        }
    };
    let event = NewEvent::new(action, "person", target).unit(person.as_ref().map_or(account.unit_id, |p| p.3)).summary(
        serde_json::json!({
            "username": account.username,
            "person": person.as_ref().map(|p| format!("{} {}", p.1, p.2)),
            "before": before.map(|b| b.1),
        }),
    );
    append(&mut tx, admin.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct QualificationRow {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub title: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub level: Option<i64>,
    pub score: Option<i64>,
    pub passed: bool,
    pub list_year: Option<i64>,
    pub certificate_no: Option<String>,
    pub hours: Option<i64>,
    pub recorded_by: Option<String>,
    /// Confirmed on the supply company's side; until then a draft that satisfies no rule.
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

impl QualificationRow {
    pub fn is_draft(&self) -> bool {
        self.confirmed_at.is_none()
    }
}

pub async fn qualifications_of(app: &App, person_id: i64) -> Result<Vec<QualificationRow>, AppError> {
    let rows = sqlx::query(
        "SELECT id, person_id, kind, title, valid_from, valid_to, level, score, passed, list_year, certificate_no, hours, \
         recorded_by, confirmed_at, confirmed_by FROM qualifications WHERE person_id = $1 ORDER BY valid_to DESC, id",
    )
    .bind(person_id)
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(QualificationRow {
                id: r.try_get(0)?,
                person_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                title: r.try_get(3)?,
                valid_from: r.try_get(4)?,
                valid_to: r.try_get(5)?,
                level: r.try_get(6)?,
                score: r.try_get(7)?,
                passed: r.try_get::<i64, _>(8)? != 0,
                list_year: r.try_get(9)?,
                certificate_no: r.try_get(10)?,
                hours: r.try_get(11)?,
                recorded_by: r.try_get(12)?,
                confirmed_at: r
                    .try_get::<Option<String>, _>(13)?
                    .map(|t| gridsafe_domain::time::Timestamp::from_db(&t).map_or(t, |t| t.local_display())),
                confirmed_by: r.try_get(14)?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct QualificationInput {
    pub kind: String,
    pub title: String,
    pub valid_from: String,
    pub valid_to: String,
    pub level: Option<i64>,
    pub score: Option<i64>,
    /// For exams: whether it was passed. Only a passed exam qualifies.
    pub passed: bool,
    pub list_year: Option<i64>,
    pub certificate_no: String,
    pub hours: Option<i64>,
}

/// Records a qualification. Staff record it confirmed; what a contractor's own administrator
/// records for his workers is a draft until the supply company's side confirms it
/// ([`confirm_qualification`]): otherwise a contractor could certify his own people.
pub async fn add_qualification(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    person_id: i64,
    input: QualificationInput,
) -> Result<i64, AppError> {
    let p = person(app, reach, person_id).await?;
    let mut problems = Vec::new();
    let kind = QualificationKind::from_code(&input.kind);
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-qualification-kind"));
    }
    let from = parse_day("valid_from", &input.valid_from, &mut problems);
    let to = parse_day("valid_to", &input.valid_to, &mut problems);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        problems.push(FieldProblem::new("valid_to", "field-end-before-start"));
    }
    let level_ok = input.level.is_some_and(|l| (1..=3).contains(&l));
    if (input.level.is_some() || kind == Some(QualificationKind::Inspector)) && !level_ok {
        problems.push(FieldProblem::new("level", "field-inspector-level"));
    }
    if input.score.is_some_and(|s| !(0..=100).contains(&s)) {
        problems.push(FieldProblem::new("score", "field-score"));
    }
    if matches!(kind, Some(QualificationKind::Training | QualificationKind::Other))
        && trim_blank(&input.title).is_empty()
    {
        problems.push(FieldProblem::new("title", "field-required"));
    }
    for (field, text) in [("title", &input.title), ("certificate_no", &input.certificate_no)] {
        if text.chars().count() > 100 {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", 100));
        }
    }
    let (Some(kind), Some(from), Some(to), true) = (kind, from, to, problems.is_empty()) else {
        return Err(AppError::Invalid(problems));
    };
    let opt = |s: &str| (!trim_blank(s).is_empty()).then(|| trim_blank(s).to_owned());
    let passed = kind != QualificationKind::SafetyExam || input.passed;
    let draft = reach.contractor().is_some();
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO qualifications (person_id, kind, title, valid_from, valid_to, level, score, passed, list_year, \
         certificate_no, hours, created_at, recorded_by, confirmed_at, confirmed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(person_id)
    .bind(kind.code())
    .bind(opt(&input.title))
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(input.level)
    .bind(input.score)
    .bind(i64::from(passed))
    .bind(input.list_year)
    .bind(opt(&input.certificate_no))
    .bind(input.hours)
    .bind(now.to_db())
    .bind(&reach.actor().name)
    .bind((!draft).then(|| now.to_db()))
    .bind((!draft).then(|| reach.actor().name.clone()))
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let event = NewEvent::new("qualification.added", "person", person_id).unit(p.unit_id).summary(serde_json::json!({
        "code": p.code, "kind": kind.code(), "valid_from": from.to_string(), "valid_to": to.to_string(), "level": input.level,
        "score": input.score, "passed": passed, "draft": draft,
    }));
    append(&mut tx, reach.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Confirms a contractor's draft qualification on the supply company's side, after checking the
/// certificate, exam record or list it claims: from then on it counts.
pub async fn confirm_qualification(
    app: &App,
    cap: &Capability<perm::PeopleManage>,
    meta: &RequestMeta,
    person_id: i64,
    id: i64,
) -> Result<(), AppError> {
    let reach = Reach::units(cap);
    let p = person(app, &reach, person_id).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query(
        "UPDATE qualifications SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND person_id = $4 AND confirmed_at IS NULL",
    )
    .bind(now.to_db())
    .bind(&cap.actor().name)
    .bind(id)
    .bind(person_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM qualifications WHERE id = $1 AND person_id = $2")
            .bind(id)
            .bind(person_id)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(if exists.is_some() {
            AppError::Conflict("conflict-already-confirmed")
        } else {
            AppError::NotFound
        });
    }
    let event = NewEvent::new("qualification.confirmed", "person", person_id)
        .unit(p.unit_id)
        .summary(serde_json::json!({ "code": p.code, "qualification": id }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_qualification(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    person_id: i64,
    id: i64,
) -> Result<(), AppError> {
    let p = person(app, reach, person_id).await?;
    let q = qualifications_of(app, person_id).await?.into_iter().find(|q| q.id == id).ok_or(AppError::NotFound)?;
    let mut tx = app.db().begin_write().await?;
    sqlx::query("DELETE FROM qualifications WHERE id = $1 AND person_id = $2")
        .bind(id)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("qualification.deleted", "person", person_id).unit(p.unit_id).summary(
        serde_json::json!({ "code": p.code, "kind": q.kind, "valid_from": q.valid_from, "valid_to": q.valid_to }),
    );
    append(&mut tx, reach.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Everything the role question needs to know of a person.
pub async fn person_facts(app: &App, person_id: i64) -> Result<PersonFacts, AppError> {
    let row = sqlx::query("SELECT active, contractor_id FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let active = row.try_get::<i64, _>(0)? != 0;
    let contractor_id: Option<i64> = row.try_get(1)?;
    let held = qualifications_of(app, person_id)
        .await?
        .into_iter()
        .filter(|q| q.passed && !q.is_draft())
        .filter_map(|q| {
            Some(Held {
                kind: QualificationKind::from_code(&q.kind)?,
                valid_from: stored_day(&q.valid_from)?,
                valid_to: stored_day(&q.valid_to)?,
                level: q.level.and_then(|l| u8::try_from(l).ok()),
            })
        })
        .collect();
    let contractor = match contractor_id {
        Some(id) => Some(super::contractor_facts(app, id).await?),
        None => None,
    };
    Ok(PersonFacts { active, held, contractor })
}

/// "May this person act as `role` on `day`?": empty when yes, else every rule that says no.
pub async fn may_act<M>(
    app: &App,
    reach: &Reach<M>,
    person_id: i64,
    role: FieldRole,
    on: NaiveDate,
) -> Result<Vec<Violation>, AppError> {
    person(app, reach, person_id).await?;
    let facts = person_facts(app, person_id).await?;
    Ok(people::may_act(&facts, role, on, &app.people_config().role_rules()).err().unwrap_or_default())
}
