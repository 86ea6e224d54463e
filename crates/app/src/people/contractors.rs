//! Contractors (外包单位): licence, safety agreements, ratings, blacklist.

use gridsafe_domain::access::{Capability, UnitPath, perm};
use gridsafe_domain::people::{Agreement, ContractorFacts};
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use super::{Manage, Reach, outside, parse_day, stored_day};
use crate::audit::{NewEvent, append};
use crate::identity::unit_by_id;
use crate::{App, AppError, FieldProblem, RequestMeta};

#[derive(Debug, Clone, Serialize)]
pub struct ContractorRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub license_no: Option<String>,
    pub license_level: Option<i64>,
    pub license_valid_to: Option<String>,
    pub blacklisted_on: Option<String>,
    pub blacklist_reason: Option<String>,
    pub workers: i64,
    #[serde(skip)]
    pub unit_path: String,
}

const CONTRACTOR_SELECT: &str = "SELECT c.id, c.code, c.name, c.unit_id, u.name, u.path, c.license_no, c.license_level, c.license_valid_to, \
     c.blacklisted_on, c.blacklist_reason, (SELECT COUNT(*) FROM people p WHERE p.contractor_id = c.id) \
     FROM contractors c JOIN org_units u ON u.id = c.unit_id";

fn contractor_from_row(r: &sqlx::any::AnyRow) -> Result<ContractorRow, sqlx::Error> {
    Ok(ContractorRow {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        name: r.try_get(2)?,
        unit_id: r.try_get(3)?,
        unit_name: r.try_get(4)?,
        unit_path: r.try_get(5)?,
        license_no: r.try_get(6)?,
        license_level: r.try_get(7)?,
        license_valid_to: r.try_get(8)?,
        blacklisted_on: r.try_get(9)?,
        blacklist_reason: r.try_get(10)?,
        workers: r.try_get(11)?,
    })
}

pub async fn list_contractors<M>(app: &App, reach: &Reach<M>) -> Result<Vec<ContractorRow>, AppError> {
    let (clause, binds) = reach.filter("u.path", "c.id", 1);
    let q = gridsafe_store::bound(format!("{CONTRACTOR_SELECT} WHERE {clause} ORDER BY c.code"), &binds);
    Ok(q.fetch_all(app.db().pool()).await?.iter().map(contractor_from_row).collect::<Result<_, _>>()?)
}

pub async fn contractor<M>(app: &App, reach: &Reach<M>, id: i64) -> Result<ContractorRow, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{CONTRACTOR_SELECT} WHERE c.id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let c = contractor_from_row(&row)?;
    let path = UnitPath::parse(&c.unit_path).ok_or_else(|| AppError::internal("unit path"))?;
    if reach.covers(&path, Some(c.id)) { Ok(c) } else { Err(outside()) }
}

/// A contractor managed by a unit in `cap`'s scope (for the actions only staff may take).
async fn managed(app: &App, cap: &Capability<perm::ContractorsManage>, id: i64) -> Result<ContractorRow, AppError> {
    contractor(app, &Reach::<Manage>::units(cap), id).await
}

#[derive(Debug, Clone, Default)]
pub struct ContractorInput {
    pub code: String,
    pub name: String,
    pub unit_id: i64,
    pub license_no: String,
    pub license_level: Option<i64>,
    pub license_valid_to: String,
}

/// Creates or updates a contractor and its licence (staff only).
pub async fn save_contractor(
    app: &App,
    cap: &Capability<perm::ContractorsManage>,
    meta: &RequestMeta,
    id: Option<i64>,
    input: ContractorInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let code = input.code.trim().to_owned();
    super::check_code(&code, &mut problems);
    crate::identity::check_name("name", &input.name, &mut problems);
    if input.license_level.is_some_and(|l| !(1..=5).contains(&l)) {
        problems.push(FieldProblem::new("license_level", "field-license-level"));
    }
    let valid_to = match trim_blank(&input.license_valid_to) {
        "" => None,
        text => parse_day("license_valid_to", text, &mut problems),
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let unit = unit_by_id(app, input.unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    if let Some(id) = id {
        managed(app, cap, id).await?;
    }
    let now = app.now().to_db();
    let license_no = (!trim_blank(&input.license_no).is_empty()).then(|| trim_blank(&input.license_no).to_owned());
    let name = trim_blank(&input.name).to_owned();
    let mut tx = app.db().begin_write().await?;
    let saved = match id {
        None => sqlx::query(
            "INSERT INTO contractors (code, name, unit_id, license_no, license_level, license_valid_to, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&code)
        .bind(&name)
        .bind(unit.id)
        .bind(&license_no)
        .bind(input.license_level)
        .bind(valid_to.map(|d| d.to_string()))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-contractor-code"))?
        .try_get(0)?,
        Some(id) => {
            sqlx::query(
                "UPDATE contractors SET code = $1, name = $2, unit_id = $3, license_no = $4, license_level = $5, license_valid_to = $6, \
                 updated_at = $7 WHERE id = $8",
            )
            .bind(&code)
            .bind(&name)
            .bind(unit.id)
            .bind(&license_no)
            .bind(input.license_level)
            .bind(valid_to.map(|d| d.to_string()))
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| AppError::from_insert(e, "conflict-contractor-code"))?;
            id
        }
    };
    let action = if id.is_some() { "contractor.updated" } else { "contractor.created" };
    let event = NewEvent::new(action, "contractor", saved).unit(unit.id).summary(serde_json::json!({
        "code": code, "name": name, "license_level": input.license_level, "license_valid_to": valid_to.map(|d| d.to_string()),
    }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(saved)
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementRow {
    pub id: i64,
    pub code: String,
    pub contractor_id: i64,
    pub project: Option<String>,
    /// 户号 of the only customer whose work it covers.
    pub customer_no: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    /// Who recorded it (the contractor's own administrator records drafts).
    pub recorded_by: Option<String>,
    /// Confirmed by the supply company's side: until then it is a draft that satisfies no rule.
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

impl AgreementRow {
    pub fn is_draft(&self) -> bool {
        self.confirmed_at.is_none()
    }
}

pub async fn agreements_of(app: &App, contractor_id: i64) -> Result<Vec<AgreementRow>, AppError> {
    let rows = sqlx::query(
        "SELECT id, code, contractor_id, project, customer_no, valid_from, valid_to, recorded_by, confirmed_at, confirmed_by \
         FROM safety_agreements WHERE contractor_id = $1 ORDER BY valid_to DESC, id DESC",
    )
    .bind(contractor_id)
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AgreementRow {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                contractor_id: r.try_get("contractor_id")?,
                project: r.try_get("project")?,
                customer_no: r.try_get("customer_no")?,
                valid_from: r.try_get("valid_from")?,
                valid_to: r.try_get("valid_to")?,
                recorded_by: r.try_get("recorded_by")?,
                confirmed_at: r
                    .try_get::<Option<String>, _>("confirmed_at")?
                    .map(|t| gridsafe_domain::time::Timestamp::from_db(&t).map_or(t, |t| t.local_display())),
                confirmed_by: r.try_get("confirmed_by")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct AgreementInput {
    pub code: String,
    pub project: String,
    /// 户号 of the only customer whose work it covers; empty for all the contractor's work.
    pub customer_no: String,
    pub valid_from: String,
    pub valid_to: String,
}

/// Records a safety agreement. Staff record it confirmed; what a contractor's own administrator
/// records is a draft until the supply company's side confirms it ([`confirm_agreement`]).
pub async fn add_agreement(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    contractor_id: i64,
    input: AgreementInput,
) -> Result<i64, AppError> {
    let c = contractor(app, reach, contractor_id).await?;
    let mut problems = Vec::new();
    let code = input.code.trim().to_owned();
    if !(1..=40).contains(&code.chars().count()) {
        problems.push(FieldProblem::new("code", "field-code-format"));
    }
    let from = parse_day("valid_from", &input.valid_from, &mut problems);
    let to = parse_day("valid_to", &input.valid_to, &mut problems);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        problems.push(FieldProblem::new("valid_to", "field-end-before-start"));
    }
    if input.project.chars().count() > 100 {
        problems.push(FieldProblem::new("project", "field-name-length").with("max", 100));
    }
    let customer_no = trim_blank(&input.customer_no);
    if customer_no.chars().count() > 40 {
        problems.push(FieldProblem::new("customer_no", "field-name-length").with("max", 40));
    }
    let (Some(from), Some(to), true) = (from, to, problems.is_empty()) else {
        return Err(AppError::Invalid(problems));
    };
    let project = (!trim_blank(&input.project).is_empty()).then(|| trim_blank(&input.project).to_owned());
    let customer_no = (!customer_no.is_empty()).then(|| customer_no.to_owned());
    let draft = reach.contractor().is_some();
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO safety_agreements (code, contractor_id, project, customer_no, valid_from, valid_to, created_at, \
         recorded_by, confirmed_at, confirmed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&code)
    .bind(contractor_id)
    .bind(&project)
    .bind(&customer_no)
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(now.to_db())
    .bind(&reach.actor().name)
    .bind((!draft).then(|| now.to_db()))
    .bind((!draft).then(|| reach.actor().name.clone()))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-agreement-code"))?
    .try_get(0)?;
    let event =
        NewEvent::new("agreement.added", "contractor", contractor_id).unit(c.unit_id).summary(serde_json::json!({
            "code": code, "project": project, "customer_no": customer_no, "valid_from": from.to_string(),
            "valid_to": to.to_string(), "draft": draft,
        }));
    append(&mut tx, reach.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Confirms a contractor's draft agreement on the supply company's side, after checking the
/// signed original: from then on it counts.
pub async fn confirm_agreement(
    app: &App,
    cap: &Capability<perm::ContractorsManage>,
    meta: &RequestMeta,
    agreement_id: i64,
) -> Result<(), AppError> {
    let contractor_id: i64 = sqlx::query_scalar("SELECT contractor_id FROM safety_agreements WHERE id = $1")
        .bind(agreement_id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let c = managed(app, cap, contractor_id).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query(
        "UPDATE safety_agreements SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND confirmed_at IS NULL",
    )
    .bind(now.to_db())
    .bind(&cap.actor().name)
    .bind(agreement_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-already-confirmed"));
    }
    let event = NewEvent::new("agreement.confirmed", "contractor", contractor_id)
        .unit(c.unit_id)
        .summary(serde_json::json!({ "agreement": agreement_id, "contractor": c.code }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingRow {
    pub project: String,
    /// `excellent`, `good`, `fair` or `poor` (优/良/一般/差).
    pub rating: String,
    pub rated_on: String,
    pub rated_by: String,
    pub note: Option<String>,
}

pub const RATINGS: [&str; 4] = ["excellent", "good", "fair", "poor"];

pub async fn ratings_of(app: &App, contractor_id: i64) -> Result<Vec<RatingRow>, AppError> {
    let rows = sqlx::query("SELECT project, rating, rated_on, rated_by, note FROM contractor_ratings WHERE contractor_id = $1 ORDER BY rated_on DESC, id DESC")
        .bind(contractor_id)
        .fetch_all(app.db().pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RatingRow {
                project: r.try_get(0)?,
                rating: r.try_get(1)?,
                rated_on: r.try_get(2)?,
                rated_by: r.try_get(3)?,
                note: r.try_get(4)?,
            })
        })
        .collect()
}

/// Rates the contractor after a project (staff only).
pub async fn add_rating(
    app: &App,
    cap: &Capability<perm::ContractorsManage>,
    meta: &RequestMeta,
    contractor_id: i64,
    project: &str,
    rating: &str,
    note: &str,
) -> Result<(), AppError> {
    let c = managed(app, cap, contractor_id).await?;
    let mut problems = Vec::new();
    crate::identity::check_name("project", project, &mut problems);
    if !RATINGS.contains(&rating) {
        problems.push(FieldProblem::new("rating", "field-rating"));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let note = (!trim_blank(note).is_empty()).then(|| trim_blank(note).to_owned());
    let mut tx = app.db().begin_write().await?;
    sqlx::query("INSERT INTO contractor_ratings (contractor_id, project, rating, rated_on, rated_by, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(contractor_id)
        .bind(trim_blank(project))
        .bind(rating)
        .bind(app.today().to_string())
        .bind(&cap.actor().name)
        .bind(&note)
        .bind(app.now().to_db())
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("contractor.rated", "contractor", contractor_id)
        .unit(c.unit_id)
        .summary(serde_json::json!({ "project": trim_blank(project), "rating": rating }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a contractor on the blacklist from `on` (with a reason), or takes it off (`on` = `None`).
pub async fn set_blacklist(
    app: &App,
    cap: &Capability<perm::ContractorsManage>,
    meta: &RequestMeta,
    contractor_id: i64,
    on: Option<&str>,
    reason: &str,
) -> Result<(), AppError> {
    let c = managed(app, cap, contractor_id).await?;
    let mut problems = Vec::new();
    let day = on.and_then(|d| parse_day("on", d, &mut problems));
    if on.is_some() && trim_blank(reason).is_empty() {
        problems.push(FieldProblem::new("reason", "field-required"));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE contractors SET blacklisted_on = $1, blacklist_reason = $2, updated_at = $3 WHERE id = $4")
        .bind(day.map(|d| d.to_string()))
        .bind(day.map(|_| trim_blank(reason).to_owned()))
        .bind(app.now().to_db())
        .bind(contractor_id)
        .execute(&mut *tx)
        .await?;
    let action = if day.is_some() { "contractor.blacklisted" } else { "contractor.unblacklisted" };
    let event = NewEvent::new(action, "contractor", contractor_id)
        .unit(c.unit_id)
        .summary(serde_json::json!({ "code": c.code, "on": day.map(|d| d.to_string()), "reason": trim_blank(reason) }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// What the role question needs to know of a contractor.
pub async fn contractor_facts(app: &App, contractor_id: i64) -> Result<ContractorFacts, AppError> {
    let row =
        sqlx::query("SELECT name, blacklisted_on, license_level, license_valid_to FROM contractors WHERE id = $1")
            .bind(contractor_id)
            .fetch_optional(app.db().pool())
            .await?
            .ok_or(AppError::NotFound)?;
    // Drafts count for nothing until the supply company confirms them.
    let agreements = agreements_of(app, contractor_id)
        .await?
        .into_iter()
        .filter(|a| !a.is_draft())
        .filter_map(|a| {
            Some(Agreement {
                valid_from: stored_day(&a.valid_from)?,
                valid_to: stored_day(&a.valid_to)?,
                customer: a.customer_no,
            })
        })
        .collect();
    Ok(ContractorFacts {
        name: row.try_get(0)?,
        blacklisted_on: row.try_get::<Option<String>, _>(1)?.as_deref().and_then(stored_day),
        license_level: row.try_get::<Option<i64>, _>(2)?.and_then(|l| u8::try_from(l).ok()),
        license_valid_to: row.try_get::<Option<String>, _>(3)?.as_deref().and_then(stored_day),
        agreements,
    })
}
