//! People and their qualifications.

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::people::{self, FieldRole, PersonFacts, QualificationKind};
use gridsafe_domain::rules::Violation;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::people as store;

use super::{Manage, Reach, outside, parse_day};
use crate::audit::NewEvent;
use crate::identity::{AccountAdmin, unit_by_id};
use crate::{App, AppError, FieldProblem, RequestMeta};

pub use gridsafe_store::people::{PersonRow, QualificationRow};

/// People in reach, by unit and 工号. `query` matches 工号 or name; `limit` bounds the page.
pub async fn list_people<M>(
    app: &App,
    reach: &Reach<M>,
    query: Option<&str>,
    limit: u32,
) -> Result<Vec<PersonRow>, AppError> {
    if let Some(q) = query.filter(|q| crate::search::is_initials(q)) {
        // A few letters: pinyin initials (zw → 张伟) or part of a 工号, matched here over the
        // register in reach, read once and at most INITIALS_SCAN people.
        let q = q.trim().to_ascii_lowercase();
        let all = store::list(&mut *app.db().read().await?, reach.scope(), None, INITIALS_SCAN).await?;
        return Ok(all
            .into_iter()
            .filter(|p| crate::search::initials(&p.name).starts_with(&q) || p.code.to_ascii_lowercase().contains(&q))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect());
    }
    let pattern = crate::search::contains("q", query)?;
    Ok(store::list(&mut *app.db().read().await?, reach.scope(), pattern, limit).await?)
}

/// One page of the people in reach that `query` finds, after the person at (unit path, 工号) in
/// the list's order, and how many it finds in all.
pub async fn people_page<M>(
    app: &App,
    reach: &Reach<M>,
    query: Option<&str>,
    after: Option<(&str, &str)>,
    limit: u32,
) -> Result<(Vec<PersonRow>, i64), AppError> {
    if query.is_some_and(crate::search::is_initials) {
        // Its own connection: one held here as well would wait on the pool for a second.
        let found = list_people(app, reach, query, INITIALS_SCAN).await?;
        let total = i64::try_from(found.len()).unwrap_or(i64::MAX);
        let rows = found
            .into_iter()
            .filter(|p| after.is_none_or(|(path, code)| (p.unit_path.as_str(), p.code.as_str()) > (path, code)))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        return Ok((rows, total));
    }
    let pattern = crate::search::contains("q", query)?;
    let mut conn = app.db().read().await?;
    let rows = store::page(&mut conn, reach.scope(), pattern.clone(), after, limit).await?;
    Ok((rows, store::count(&mut conn, reach.scope(), pattern).await?))
}

/// The most people a search by pinyin initials reads.
pub const INITIALS_SCAN: u32 = 20_000;

/// The person picker: at most `limit` people in reach that `query` finds (工号, name or pinyin
/// initials), each with the role question's answer for `role` on `day` when one is asked (empty:
/// may act). The facts of all of them are read at once.
pub async fn pick<M>(
    app: &App,
    reach: &Reach<M>,
    query: &str,
    role: Option<FieldRole>,
    day: NaiveDate,
    limit: u32,
) -> Result<Vec<(PersonRow, Option<Vec<Violation>>)>, AppError> {
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<PersonRow> =
        list_people(app, reach, Some(query), limit).await?.into_iter().filter(|p| p.active).collect();
    let Some(role) = role else { return Ok(found.into_iter().map(|p| (p, None)).collect()) };
    let ids: Vec<PersonId> = found.iter().map(|p| p.id).collect();
    let facts = store::facts(&mut *app.db().read().await?, &ids).await?;
    let rules = app.people_config().role_rules();
    Ok(found
        .into_iter()
        .map(|p| {
            let answer =
                facts.get(&p.id).map(|f| people::may_act(&f.facts, role, day, &rules).err().unwrap_or_default());
            (p, answer)
        })
        .collect())
}

/// One person in reach.
pub async fn person<M>(app: &App, reach: &Reach<M>, id: PersonId) -> Result<PersonRow, AppError> {
    let p = store::person(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
    let path = super::stored_path(&p.unit_path)?;
    if reach.covers(&path, p.contractor_id) { Ok(p) } else { Err(outside()) }
}

#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub code: String,
    pub name: String,
    pub unit_id: UnitId,
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
    id: Option<PersonId>,
    mut input: PersonInput,
) -> Result<PersonId, AppError> {
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
    let mut conn = app.db().read().await?;
    if let Some(own) = reach.contractor() {
        input.contractor_id = Some(own);
        input.unit_id = store::contractor(&mut conn, own).await?.ok_or(AppError::NotFound)?.unit_id;
    }
    if let Some(contractor) = input.contractor_id {
        store::contractor(&mut conn, contractor).await?.ok_or(AppError::NotFound)?;
    }
    drop(conn);
    let unit = unit_by_id(app, input.unit_id).await?.ok_or(AppError::NotFound)?;
    if !reach.covers(&unit.path, input.contractor_id) {
        return Err(outside());
    }
    if let Some(existing) = id {
        person(app, reach, existing).await?;
    }
    let name = trim_blank(&input.name).to_owned();
    fn opt(s: &str) -> Option<&str> {
        Some(trim_blank(s)).filter(|s| !s.is_empty())
    }
    let fields = store::PersonFields {
        code: &code,
        name: &name,
        unit_id: unit.id,
        contractor_id: input.contractor_id,
        phone: opt(&phone),
        post: opt(&input.post),
        active: input.active,
    };
    let mut work = app.begin(reach.actor(), meta).await?;
    let now = work.now();
    // What it was, read inside the unit of work, for the trail's before/after.
    let before = match id {
        Some(existing) => store::person(work.conn(), existing).await?,
        None => None,
    };
    let saved = store::save_person(work.conn(), id, &fields, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-person-code"))?;
    let action = if id.is_some() { "person.updated" } else { "person.created" };
    // The summary names the record, not the phone number: personal data stays out of the trail's text.
    let mut summary =
        serde_json::json!({ "code": code, "name": name, "contractor_id": input.contractor_id, "active": input.active });
    if let Some(b) = before {
        summary["before"] = serde_json::json!({
            "code": b.code, "name": b.name, "unit": b.unit_name, "post": b.post, "active": b.active,
        });
        summary["after"] = serde_json::json!({
            "code": code, "name": name, "unit": unit.name, "post": opt(&input.post), "active": input.active,
        });
    }
    work.audit(NewEvent::new(action, "person", saved).unit(unit.id).summary(summary)).await?;
    work.commit().await?;
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
    let mut work = app.begin(admin.actor(), meta).await?;
    admin.check_act(work.conn(), user_id, None).await?;
    // The person's row is held, so two administrators cannot link it to two accounts at once.
    let person = match code {
        Some(code) => {
            let target = store::hold_for_link(work.conn(), code).await?.ok_or(AppError::NotFound)?;
            admin.check_unit(&target.unit_path)?;
            if target.username.as_ref().is_some_and(|u| *u != account.username) {
                return Err(AppError::Conflict("conflict-person-has-account"));
            }
            Some((target.id, code.to_owned(), target.name, target.unit_id))
        }
        None => None,
    };
    let before = store::linked_to(work.conn(), user_id).await?;
    if let (Some((before_id, _)), Some((id, ..))) = (&before, &person)
        && before_id != id
    {
        return Err(AppError::Conflict("conflict-account-linked"));
    }
    let now = work.now();
    let (action, target) = match &person {
        Some((id, ..)) => {
            store::set_account(work.conn(), *id, Some(user_id), now)
                .await
                .map_err(|e| AppError::from_insert(e, "conflict-account-linked"))?;
            ("person.account_linked", *id)
        }
        None => {
            let Some((id, _)) = &before else { return Ok(()) };
            store::set_account(work.conn(), *id, None, now).await?;
            ("person.account_unlinked", *id)
        }
    };
    work.audit(NewEvent::new(action, "person", target).unit(person.as_ref().map_or(account.unit_id, |p| p.3)).summary(
        serde_json::json!({
            "username": account.username,
            "person": person.as_ref().map(|p| format!("{} {}", p.1, p.2)),
            "before": before.map(|b| b.1),
        }),
    ))
    .await?;
    work.commit().await
}

pub async fn qualifications_of(app: &App, person_id: PersonId) -> Result<Vec<QualificationRow>, AppError> {
    Ok(store::qualifications_of(&mut *app.db().read().await?, person_id).await?)
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
    person_id: PersonId,
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
    fn opt(s: &str) -> Option<&str> {
        Some(trim_blank(s)).filter(|s| !s.is_empty())
    }
    let passed = kind != QualificationKind::SafetyExam || input.passed;
    let draft = reach.contractor().is_some();
    let recorded_by = reach.actor().name.as_str();
    let q = store::NewQualification {
        person_id,
        kind,
        title: opt(&input.title),
        valid_from: from,
        valid_to: to,
        level: input.level,
        score: input.score,
        passed,
        list_year: input.list_year,
        certificate_no: opt(&input.certificate_no),
        hours: input.hours,
        recorded_by,
        confirmed_by: (!draft).then_some(recorded_by),
    };
    let mut work = app.begin(reach.actor(), meta).await?;
    let now = work.now();
    let id = store::insert_qualification(work.conn(), &q, now).await?;
    work.audit(NewEvent::new("qualification.added", "person", person_id).unit(p.unit_id).summary(serde_json::json!({
        "code": p.code, "kind": kind.code(), "valid_from": from.to_string(), "valid_to": to.to_string(), "level": input.level,
        "score": input.score, "passed": passed, "draft": draft,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// Confirms a contractor's draft qualification on the supply company's side, after checking the
/// certificate, exam record or list it claims: from then on it counts.
pub async fn confirm_qualification(
    app: &App,
    cap: &Capability<perm::PeopleManage>,
    meta: &RequestMeta,
    person_id: PersonId,
    id: i64,
) -> Result<(), AppError> {
    let reach = Reach::units(cap);
    let p = person(app, &reach, person_id).await?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    match store::confirm_qualification(work.conn(), id, person_id, &cap.actor().name, now).await? {
        store::Confirmed::Now => {}
        store::Confirmed::Already => return Err(AppError::Conflict("conflict-already-confirmed")),
        store::Confirmed::Missing => return Err(AppError::NotFound),
    }
    work.audit(
        NewEvent::new("qualification.confirmed", "person", person_id)
            .unit(p.unit_id)
            .summary(serde_json::json!({ "code": p.code, "qualification": id })),
    )
    .await?;
    work.commit().await
}

pub async fn delete_qualification(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    person_id: PersonId,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let p = person(app, reach, person_id).await?;
    let q = qualifications_of(app, person_id).await?.into_iter().find(|q| q.id == id).ok_or(AppError::NotFound)?;
    let reason = crate::stated_reason("reason", reason)?;
    let mut work = app.begin(reach.actor(), meta).await?;
    store::delete_qualification(work.conn(), id, person_id).await?;
    work.audit(NewEvent::new("qualification.deleted", "person", person_id).unit(p.unit_id).summary(
        serde_json::json!({
            "code": p.code, "kind": q.kind, "valid_from": q.valid_from, "valid_to": q.valid_to, "reason": reason,
        }),
    ))
    .await?;
    work.commit().await
}

/// Everything the role question needs to know of a person.
pub async fn person_facts(app: &App, person_id: PersonId) -> Result<PersonFacts, AppError> {
    let mut people = store::facts(&mut *app.db().read().await?, &[person_id]).await?;
    Ok(people.remove(&person_id).ok_or(AppError::NotFound)?.facts)
}

/// "May this person act as `role` on `day`?": empty when yes, else every rule that says no.
pub async fn may_act<M>(
    app: &App,
    reach: &Reach<M>,
    person_id: PersonId,
    role: FieldRole,
    on: NaiveDate,
) -> Result<Vec<Violation>, AppError> {
    person(app, reach, person_id).await?;
    let facts = person_facts(app, person_id).await?;
    Ok(people::may_act(&facts, role, on, &app.people_config().role_rules()).err().unwrap_or_default())
}
