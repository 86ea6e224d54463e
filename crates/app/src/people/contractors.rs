//! Contractors (外包单位): licence, safety agreements, ratings, blacklist.

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::people::ContractorFacts;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::people as store;

use super::{Manage, Reach, outside, parse_day};
use crate::audit::NewEvent;
use crate::identity::unit_by_id;
use crate::{App, AppError, FieldProblem, RequestMeta};

pub use gridsafe_store::people::{AgreementRow, ContractorRow, RatingRow};

pub async fn list_contractors<M>(app: &App, reach: &Reach<M>) -> Result<Vec<ContractorRow>, AppError> {
    Ok(store::contractors(&mut *app.db().read().await?, reach.scope()).await?)
}

pub async fn contractor<M>(app: &App, reach: &Reach<M>, id: i64) -> Result<ContractorRow, AppError> {
    let c = store::contractor(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
    let path = super::stored_path(&c.unit_path)?;
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
    pub unit_id: UnitId,
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
    let name = trim_blank(&input.name);
    let fields = store::ContractorFields {
        code: &code,
        name,
        unit_id: unit.id,
        license_no: Some(trim_blank(&input.license_no)).filter(|s| !s.is_empty()),
        license_level: input.license_level,
        license_valid_to: valid_to,
    };
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let saved = store::save_contractor(work.conn(), id, &fields, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-contractor-code"))?;
    let action = if id.is_some() { "contractor.updated" } else { "contractor.created" };
    work.audit(NewEvent::new(action, "contractor", saved).unit(unit.id).summary(serde_json::json!({
        "code": code, "name": name, "license_level": input.license_level, "license_valid_to": valid_to.map(|d| d.to_string()),
    })))
    .await?;
    work.commit().await?;
    Ok(saved)
}

pub async fn agreements_of(app: &App, contractor_id: i64) -> Result<Vec<AgreementRow>, AppError> {
    Ok(store::agreements_of(&mut *app.db().read().await?, contractor_id).await?)
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
    let project = Some(trim_blank(&input.project)).filter(|s| !s.is_empty());
    let customer_no = Some(customer_no).filter(|s| !s.is_empty());
    let draft = reach.contractor().is_some();
    let recorded_by = reach.actor().name.as_str();
    let agreement = store::NewAgreement {
        code: &code,
        contractor_id,
        project,
        customer_no,
        valid_from: from,
        valid_to: to,
        recorded_by,
        confirmed_by: (!draft).then_some(recorded_by),
    };
    let mut work = app.begin(reach.actor(), meta).await?;
    let now = work.now();
    let id = store::insert_agreement(work.conn(), &agreement, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-agreement-code"))?;
    work.audit(NewEvent::new("agreement.added", "contractor", contractor_id).unit(c.unit_id).summary(
        serde_json::json!({
            "code": code, "project": project, "customer_no": customer_no, "valid_from": from.to_string(),
            "valid_to": to.to_string(), "draft": draft,
        }),
    ))
    .await?;
    work.commit().await?;
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
    let contractor_id =
        store::agreement_contractor(&mut *app.db().read().await?, agreement_id).await?.ok_or(AppError::NotFound)?;
    let c = managed(app, cap, contractor_id).await?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    if !store::confirm_agreement(work.conn(), agreement_id, &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-already-confirmed"));
    }
    work.audit(
        NewEvent::new("agreement.confirmed", "contractor", contractor_id)
            .unit(c.unit_id)
            .summary(serde_json::json!({ "agreement": agreement_id, "contractor": c.code })),
    )
    .await?;
    work.commit().await
}

pub const RATINGS: [&str; 4] = ["excellent", "good", "fair", "poor"];

pub async fn ratings_of(app: &App, contractor_id: i64) -> Result<Vec<RatingRow>, AppError> {
    Ok(store::ratings_of(&mut *app.db().read().await?, contractor_id).await?)
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
    let note = Some(trim_blank(note)).filter(|s| !s.is_empty());
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let by = &cap.actor().name;
    store::insert_rating(work.conn(), contractor_id, trim_blank(project), rating, now.local_date(), by, note, now)
        .await?;
    work.audit(
        NewEvent::new("contractor.rated", "contractor", contractor_id)
            .unit(c.unit_id)
            .summary(serde_json::json!({ "project": trim_blank(project), "rating": rating })),
    )
    .await?;
    work.commit().await
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    store::set_blacklist(work.conn(), contractor_id, day, day.map(|_| trim_blank(reason)), now).await?;
    let action = if day.is_some() { "contractor.blacklisted" } else { "contractor.unblacklisted" };
    work.audit(NewEvent::new(action, "contractor", contractor_id).unit(c.unit_id).summary(
        serde_json::json!({ "code": c.code, "on": day.map(|d| d.to_string()), "reason": trim_blank(reason) }),
    ))
    .await?;
    work.commit().await
}

/// What the role question needs to know of a contractor.
pub async fn contractor_facts(app: &App, contractor_id: i64) -> Result<ContractorFacts, AppError> {
    let mut facts = store::contractor_facts(&mut *app.db().read().await?, &[contractor_id]).await?;
    facts.remove(&contractor_id).ok_or(AppError::NotFound)
}
