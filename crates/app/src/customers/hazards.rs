//! Hazards (隐患) and their closed loop on top of the domain's state machine; sealed equipment
//! (封存) held until its hazard is closed; overdue escalation (督办) to the units above.

use chrono::NaiveDate;
use gridsafe_domain::access::{Actor, Capability, perm};
use gridsafe_domain::hazards::{self as machine, HazardState, HazardStep, Responsibility, Road};
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use super::files::{self, AttachmentMeta};
use super::{CustomersReach, HazardsReach, customer};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// A grade of the lookup table, with its default deadline and origin.
#[derive(Debug, Clone, Serialize)]
pub struct GradeRow {
    pub code: String,
    pub name: String,
    pub deadline_days: i64,
    /// Grid-side hazards of this grade are filed with the power authority too.
    pub files: bool,
    pub origin: String,
    pub changed_by: Option<String>,
}

pub async fn grades(app: &App) -> Result<Vec<GradeRow>, AppError> {
    let rows =
        sqlx::query("SELECT code, name, deadline_days, origin, changed_by, files FROM hazard_grades ORDER BY position")
            .fetch_all(app.db().pool())
            .await?;
    rows.iter()
        .map(|r| {
            Ok(GradeRow {
                code: r.try_get(0)?,
                name: r.try_get(1)?,
                deadline_days: r.try_get(2)?,
                origin: r.try_get(3)?,
                changed_by: r.try_get(4)?,
                files: r.try_get::<i64, _>(5)? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Changes a grade's default rectification deadline (days).
pub async fn set_grade(
    app: &App,
    cap: &Capability<perm::InspectionsConfigure>,
    meta: &RequestMeta,
    code: &str,
    deadline_days: i64,
    files: bool,
) -> Result<(), AppError> {
    if !(1..=730).contains(&deadline_days) {
        return Err(AppError::invalid("deadline_days", "field-grade-days"));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let changed =
        sqlx::query("UPDATE hazard_grades SET deadline_days = $1, files = $2, changed_by = $3 WHERE code = $4")
            .bind(deadline_days)
            .bind(i64::from(files))
            .bind(&cap.actor().name)
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    let event = NewEvent::new("hazard.grade_changed", "hazard_grade", code)
        .summary(serde_json::json!({ "deadline_days": deadline_days, "files": files }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Where a hazard came from.
pub const SOURCES: [&str; 3] = ["inspection", "finding", "adhoc"];

#[derive(Debug, Clone, Serialize)]
pub struct HazardRow {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub customer_no: Option<String>,
    pub customer_name: Option<String>,
    pub inspection_id: Option<i64>,
    /// `inspection`, `finding` (a confirmed cross-audit finding) or `adhoc`.
    pub source_kind: String,
    pub source_id: Option<i64>,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub description: String,
    pub grade: String,
    pub grade_name: String,
    pub responsibility: Responsibility,
    /// Filed with the power authority before rectification (customer side, or by its grade).
    pub files: bool,
    pub state: HazardState,
    /// The day it was registered: its grade's days count from it.
    pub registered_on: NaiveDate,
    /// The rectification deadline in force (from the grade until a plan or notice sets one).
    pub deadline: NaiveDate,
    /// The latest deadline allowed: the grade's days from registration, or a later day approved.
    pub limit: NaiveDate,
    /// The day the next thing is due: the plan for a grid-side hazard still without one, else the
    /// deadline. Overdue and escalation count from it.
    pub due: NaiveDate,
    pub owner: Option<String>,
    pub receipt_by: Option<String>,
    /// The customer refused to sign: the day, how the notice was delivered, the witness.
    pub refused_on: Option<String>,
    pub refusal_delivery: Option<String>,
    pub refusal_witness: Option<String>,
    pub filed_on: Option<String>,
    pub filing_reference: Option<String>,
    /// A later deadline asked for, with its reason and who asked, awaiting a manager.
    pub extension_to: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub extension_by: Option<String>,
    pub approved_by: Option<String>,
    pub overdue: bool,
    /// Levels escalated so far, and the unit it is escalated to.
    pub escalation: i64,
    pub escalated_to: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

impl HazardRow {
    /// The road through the closed loop (filing for the customer side and the grades that say so).
    pub fn road(&self) -> Road {
        Road { responsibility: self.responsibility, grade_files: self.files }
    }
}

const HAZARD_COLUMNS: &str = "h.id, h.number, h.customer_id, c.account_no, c.name, h.inspection_id, h.unit_id, u.name, u.path, \
    h.title, h.description, h.grade, g.name AS grade_name, h.responsibility, h.state, h.deadline, h.owner, h.receipt_by, h.filed_on, \
    h.filing_reference, h.escalation, h.created_at, h.closed_at, g.files, g.deadline_days, h.source_kind, h.source_id, \
    h.registered_on, h.extension_to, h.extension_reason, h.extension_by, h.approved_limit, h.approved_by, h.refused_on, \
    h.refusal_delivery, h.refusal_witness";
const HAZARD_FROM: &str = "hazards h JOIN org_units u ON u.id = h.unit_id JOIN hazard_grades g ON g.code = h.grade \
    LEFT JOIN customers c ON c.id = h.customer_id";

async fn hazard_from(app: &App, r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<HazardRow, AppError> {
    let decode = |w: &str| AppError::internal(format!("hazard {w}"));
    let state = HazardState::from_code(&r.try_get::<String, _>(14)?).ok_or_else(|| decode("state"))?;
    let responsibility =
        Responsibility::from_code(&r.try_get::<String, _>(13)?).ok_or_else(|| decode("responsibility"))?;
    let stored = |c: &str| -> Result<Option<NaiveDate>, AppError> {
        Ok(r.try_get::<Option<String>, _>(c)?.as_deref().and_then(crate::people::stored_day))
    };
    let registered_on = stored("registered_on")?.ok_or_else(|| decode("registered_on"))?;
    let grade_days: i64 = r.try_get("deadline_days")?;
    // Every hazard has a deadline: its grade's days from registration until a plan or notice sets one.
    let by_grade = registered_on + chrono::Duration::days(grade_days);
    let deadline = stored("deadline")?.unwrap_or(by_grade);
    let limit = stored("approved_limit")?.unwrap_or(by_grade).max(by_grade);
    let road = Road { responsibility, grade_files: r.try_get::<i64, _>(23)? != 0 };
    let due = machine::due(road, state, registered_on, deadline, app.inspections_config().plan_within_days);
    let path: String = r.try_get(8)?;
    let escalation: i64 = r.try_get(20)?;
    let escalated_to = match escalation {
        0 => None,
        n => escalation_unit(app, &path, n).await?,
    };
    let display =
        |t: String| gridsafe_domain::time::Timestamp::from_db(&t).map(|t| t.local_display()).unwrap_or_default();
    Ok(HazardRow {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        customer_id: r.try_get(2)?,
        customer_no: r.try_get(3)?,
        customer_name: r.try_get(4)?,
        inspection_id: r.try_get(5)?,
        unit_id: r.try_get(6)?,
        unit_name: r.try_get(7)?,
        unit_path: path,
        title: r.try_get(9)?,
        description: r.try_get(10)?,
        grade: r.try_get(11)?,
        grade_name: r.try_get("grade_name")?,
        responsibility,
        files: road.files(),
        overdue: state != HazardState::Closed && today > due,
        state,
        registered_on,
        deadline,
        limit,
        due,
        source_kind: r.try_get("source_kind")?,
        source_id: r.try_get("source_id")?,
        owner: r.try_get(16)?,
        receipt_by: r.try_get(17)?,
        refused_on: r.try_get("refused_on")?,
        refusal_delivery: r.try_get("refusal_delivery")?,
        refusal_witness: r.try_get("refusal_witness")?,
        filed_on: r.try_get(18)?,
        filing_reference: r.try_get(19)?,
        extension_to: stored("extension_to")?,
        extension_reason: r.try_get("extension_reason")?,
        extension_by: r.try_get("extension_by")?,
        approved_by: r.try_get("approved_by")?,
        escalation,
        escalated_to,
        created_at: display(r.try_get(21)?),
        closed_at: r.try_get::<Option<String>, _>(22)?.map(display),
    })
}

/// The unit `levels` above the one at `path` (the root when the tree is shallower).
async fn escalation_unit(app: &App, path: &str, levels: i64) -> Result<Option<String>, AppError> {
    let ids: Vec<i64> = path.split('/').filter_map(|p| p.parse().ok()).collect();
    let index = ids.len().saturating_sub(1).saturating_sub(usize::try_from(levels).unwrap_or(0));
    let Some(id) = ids.get(index) else { return Ok(None) };
    Ok(crate::identity::unit_by_id(app, *id).await?.map(|u| u.name))
}

/// Which hazards a list shows.
#[derive(Debug, Clone, Default)]
pub struct HazardFilter {
    pub state: Option<String>,
    pub responsibility: Option<String>,
    pub grade: Option<String>,
    pub customer_id: Option<i64>,
    /// Only open hazards past their deadline.
    pub overdue: bool,
    /// Only those escalated (督办).
    pub escalated: bool,
    /// Only those from this source (`inspection`, `finding`, `adhoc`).
    pub source: Option<String>,
}

/// Hazards in reach: open ones first, by deadline.
pub async fn list_hazards<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &HazardFilter,
) -> Result<Vec<HazardRow>, AppError> {
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let mut sql = format!("SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE {clause}");
    for (column, value) in
        [("h.state", &filter.state), ("h.responsibility", &filter.responsibility), ("h.grade", &filter.grade)]
    {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    if let Some(c) = filter.customer_id {
        sql.push_str(&format!(" AND h.customer_id = {c}"));
    }
    if filter.escalated {
        sql.push_str(" AND h.escalation > 0 AND h.state <> 'closed'");
    }
    if let Some(source) = filter.source.as_deref().filter(|s| SOURCES.contains(s)) {
        sql.push_str(&format!(" AND h.source_kind = '{source}'"));
    }
    if P::FINDINGS_ONLY {
        sql.push_str(" AND h.source_kind = 'finding'");
    }
    sql.push_str(" ORDER BY CASE WHEN h.state = 'closed' THEN 1 ELSE 0 END, h.id LIMIT 5000");
    let today = app.today();
    let mut out = Vec::new();
    for r in gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await? {
        let h = hazard_from(app, &r, today).await?;
        if !filter.overdue || h.overdue {
            out.push(h);
        }
    }
    // Open ones first, the most urgent first.
    out.sort_by_key(|h| (h.state == HazardState::Closed, h.due, h.id));
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: String,
    pub detail: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SealRow {
    pub id: i64,
    pub customer_id: i64,
    pub customer_no: String,
    pub customer_name: String,
    pub hazard_id: i64,
    pub hazard_number: String,
    pub hazard_state: HazardState,
    pub unit_name: String,
    pub equipment: String,
    pub seal_number: String,
    pub sealed_on: String,
    pub sealed_by: String,
    pub unsealed_on: Option<String>,
    pub unsealed_by: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HazardDetail {
    pub hazard: HazardRow,
    pub steps: Vec<StepRow>,
    /// The rectification plan's tasks (grid side): (id, title, responsible, deadline, open).
    pub tasks: Vec<(i64, String, String, String, bool)>,
    pub seals: Vec<SealRow>,
    pub photos: Vec<AttachmentMeta>,
    /// The steps the machine allows next.
    pub next: Vec<&'static str>,
}

/// One hazard in reach with its history.
pub async fn hazard<P: HazardsReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<HazardDetail, AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE h.id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let hazard = hazard_from(app, &r, app.today()).await?;
    crate::identity::check_stored_path(cap, &hazard.unit_path)?;
    if P::FINDINGS_ONLY && hazard.source_kind != "finding" {
        return Err(
            gridsafe_domain::access::Denied::NotGranted(gridsafe_domain::access::Permission::CustomersView).into()
        );
    }
    let pool = app.db().pool();
    let steps = sqlx::query("SELECT step, detail, by_name, at FROM hazard_steps WHERE hazard_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|s| {
            Ok(StepRow {
                step: s.try_get(0)?,
                detail: s.try_get(1)?,
                by: s.try_get(2)?,
                at: gridsafe_domain::time::Timestamp::from_db(&s.try_get::<String, _>(3)?)
                    .map(|t| t.local_display())
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let tasks = sqlx::query(
        "SELECT id, title, responsible, deadline, state FROM rectification_tasks WHERE source_kind = 'hazard' AND source_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|t| Ok((t.try_get(0)?, t.try_get(1)?, t.try_get(2)?, t.try_get(3)?, t.try_get::<String, _>(4)? == "open")))
    .collect::<Result<_, sqlx::Error>>()?;
    let seals = seals_where(app, &format!("s.hazard_id = {id}"), &[]).await?;
    let next = machine::next_steps(hazard.road(), hazard.state).to_vec();
    Ok(HazardDetail { photos: files::attachments_of(app, "hazard", id).await?, hazard, steps, tasks, seals, next })
}

/// What registering a hazard takes.
#[derive(Debug, Clone, Default)]
pub struct HazardInput {
    pub customer_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// The unit of an ad hoc grid-side hazard with no customer.
    pub unit_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub grade: String,
    pub responsibility: String,
}

/// Registers (登记) a hazard from an inspection or ad hoc.
pub async fn register_hazard(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    input: HazardInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let title = trim_blank(&input.title);
    if title.is_empty() || input.title.chars().count() > 100 {
        problems.push(FieldProblem::new("title", "field-name-length").with("max", 100));
    }
    if input.description.chars().count() > 2000 {
        problems.push(FieldProblem::new("description", "field-name-length").with("max", 2000));
    }
    let responsibility = Responsibility::from_code(&input.responsibility);
    if responsibility.is_none() {
        problems.push(FieldProblem::new("responsibility", "field-invalid"));
    }
    if !grades(app).await?.iter().any(|g| g.code == input.grade) {
        problems.push(FieldProblem::new("grade", "field-invalid"));
    }
    // From an inspection: its customer. Otherwise the customer named, or a unit for grid work.
    let customer_id = match input.inspection_id {
        Some(i) => Some(super::inspection(app, cap, i).await?.inspection.customer_id),
        None => input.customer_id,
    };
    let unit_id = match (customer_id, input.unit_id) {
        (Some(c), _) => Some(customer(app, cap, c).await?.unit_id),
        (None, Some(u)) => {
            let unit =
                crate::identity::unit_by_id(app, u).await?.ok_or_else(|| AppError::invalid("unit_id", "field-unit"))?;
            cap.check(&unit.path)?;
            Some(unit.id)
        }
        (None, None) => None,
    };
    if unit_id.is_none() {
        problems.push(FieldProblem::new("customer_id", "field-hazard-where"));
    }
    if customer_id.is_none() && responsibility == Some(Responsibility::Customer) {
        problems.push(FieldProblem::new("customer_id", "field-hazard-customer"));
    }
    let (Some(unit_id), Some(responsibility), true) = (unit_id, responsibility, problems.is_empty()) else {
        return Err(AppError::Invalid(problems));
    };
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let (source_kind, source_id) = match input.inspection_id {
        Some(i) => ("inspection", Some(i)),
        None => ("adhoc", None),
    };
    let new = NewHazard {
        customer_id,
        inspection_id: input.inspection_id,
        source_kind,
        source_id,
        unit_id,
        title: title.to_owned(),
        description: trim_blank(&input.description).to_owned(),
        grade: input.grade.clone(),
        responsibility,
        plan: None,
    };
    let (id, number) = insert_hazard(&mut tx, cap.actor(), &new, now).await?;
    let event = NewEvent::new("hazard.registered", "hazard", id).unit(unit_id).summary(serde_json::json!({
        "number": number, "grade": input.grade, "responsibility": responsibility.code(),
        "customer": customer_id, "inspection": input.inspection_id,
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// A hazard to register, from wherever it comes.
pub(crate) struct NewHazard {
    pub customer_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub source_kind: &'static str,
    pub source_id: Option<i64>,
    pub unit_id: i64,
    pub title: String,
    pub description: String,
    pub grade: String,
    pub responsibility: Responsibility,
    /// Registered with its rectification plan at once: (owner, deadline, the task).
    pub plan: Option<(String, NaiveDate, String)>,
}

/// Registers a hazard in `tx`: its number, the day (its grade's days count from it), its
/// deadline from the grade, and the plan when it comes with one. Answers its id and number.
pub(crate) async fn insert_hazard(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
    h: &NewHazard,
    now: gridsafe_domain::time::Timestamp,
) -> Result<(i64, String), AppError> {
    let today = now.local_date();
    let days: i64 = sqlx::query_scalar("SELECT deadline_days FROM hazard_grades WHERE code = $1")
        .bind(&h.grade)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| AppError::invalid("grade", "field-invalid"))?;
    let by_grade = today + chrono::Duration::days(days);
    let (state, deadline, owner) = match &h.plan {
        Some((owner, deadline, _)) => {
            let road = Road { responsibility: h.responsibility, grade_files: false };
            machine::step(road, HazardState::Registered, &HazardStep::Plan { deadline: *deadline }, today, by_grade)?;
            (HazardState::Planned, *deadline, Some(owner.clone()))
        }
        None => (HazardState::Registered, by_grade, None),
    };
    let number = crate::numbers::next(tx, "YH", today).await?;
    let at = now.to_db();
    let id: i64 = sqlx::query(
        "INSERT INTO hazards (number, customer_id, inspection_id, unit_id, title, description, grade, responsibility, state, \
         deadline, owner, escalation, created_by, created_at, source_kind, source_id, registered_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(&number)
    .bind(h.customer_id)
    .bind(h.inspection_id)
    .bind(h.unit_id)
    .bind(&h.title)
    .bind(&h.description)
    .bind(&h.grade)
    .bind(h.responsibility.code())
    .bind(state.code())
    .bind(deadline.to_string())
    .bind(&owner)
    .bind(&actor.name)
    .bind(&at)
    .bind(h.source_kind)
    .bind(h.source_id)
    .bind(today.to_string())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    record_step(tx, id, "register", &h.title, actor, &at).await?;
    if let Some((owner, deadline, task)) = &h.plan {
        add_plan_tasks(tx, id, h.unit_id, std::iter::once(task.as_str()), owner, *deadline, actor, &at).await?;
        record_step(tx, id, "plan", &format!("{deadline} {owner}"), actor, &at).await?;
    }
    Ok((id, number))
}

/// The rectification plan's tasks.
#[expect(clippy::too_many_arguments, reason = "one row per task of the plan")]
async fn add_plan_tasks<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    hazard_id: i64,
    unit_id: i64,
    tasks: impl Iterator<Item = &'a str>,
    owner: &str,
    deadline: NaiveDate,
    actor: &Actor,
    at: &str,
) -> Result<(), AppError> {
    for task in tasks {
        sqlx::query(
            "INSERT INTO rectification_tasks (source_kind, source_id, unit_id, title, responsible, deadline, state, created_at, created_by) \
             VALUES ('hazard', $1, $2, $3, $4, $5, 'open', $6, $7)",
        )
        .bind(hazard_id)
        .bind(unit_id)
        .bind(task)
        .bind(owner)
        .bind(deadline.to_string())
        .bind(at)
        .bind(&actor.name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn record_step(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    hazard_id: i64,
    step: &str,
    detail: &str,
    actor: &Actor,
    at: &str,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO hazard_steps (hazard_id, step, detail, by_name, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(hazard_id)
        .bind(step)
        .bind(detail)
        .bind(&actor.name)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A step as a form or the API sends it; which fields count depends on the step.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub step: String,
    /// plan, notify: `YYYY-MM-DD`
    pub deadline: String,
    /// plan: the person or post responsible.
    pub owner: String,
    /// plan: one task per line.
    pub tasks: String,
    /// sign_receipt: who signed for the customer.
    pub receipt_by: String,
    /// file: the day filed and the reference.
    pub filed_on: String,
    pub reference: String,
    /// review: passed or not, and the evidence (or the reason it failed).
    pub passed: bool,
    pub evidence: String,
    /// refuse_receipt: the day, how the notice was delivered (当面送达, 留置送达 …), the witness,
    /// and the photo of the delivery (name and bytes) when the form sends one.
    pub refused_on: String,
    pub delivery: String,
    pub witness: String,
    pub photo: Option<(String, Vec<u8>)>,
}

/// Who takes the field steps of the closed loop: the inspector for any hazard; for a hazard
/// that came from a confirmed cross-audit finding, also the safety auditor who follows it up.
pub trait HazardWorker: HazardsReach {
    const ANY_SOURCE: bool;
}
impl HazardWorker for perm::InspectionsRecord {
    const ANY_SOURCE: bool = true;
}
impl HazardWorker for perm::FindingsReview {
    const ANY_SOURCE: bool = false;
}

/// Takes a step of the closed loop other than the review: plan, notify, sign_receipt,
/// refuse_receipt, file, rectify, submit_for_review.
pub async fn take_step<P: HazardWorker>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    input: &StepInput,
) -> Result<HazardState, AppError> {
    if input.step == "review" {
        return Err(AppError::invalid("step", "field-step-review"));
    }
    apply(app, cap, meta, id, input).await
}

/// The review (复查) by the safety auditor: passed closes the hazard (销号) with evidence,
/// failed returns it to rectification.
pub async fn review_hazard(
    app: &App,
    cap: &Capability<perm::HazardsReview>,
    meta: &RequestMeta,
    id: i64,
    input: &StepInput,
) -> Result<HazardState, AppError> {
    apply(app, cap, meta, id, &StepInput { step: "review".into(), ..input.clone() }).await
}

async fn apply<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    input: &StepInput,
) -> Result<HazardState, AppError> {
    let d = hazard(app, cap, id).await?;
    let h = &d.hazard;
    if P::PERMISSION == gridsafe_domain::access::Permission::FindingsReview
        && input.step != "review"
        && h.source_kind != "finding"
    {
        return Err(gridsafe_domain::access::Denied::NotGranted(
            gridsafe_domain::access::Permission::InspectionsRecord,
        )
        .into());
    }
    let today = app.today();
    let mut problems = Vec::new();
    let day = |field: &'static str, text: &str, problems: &mut Vec<FieldProblem>| {
        crate::people::parse_day(field, text, problems).unwrap_or(today)
    };
    let too_long = |field: &'static str, text: &str, max: usize, problems: &mut Vec<FieldProblem>| {
        if text.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
    };
    // Every field within its bounds, whichever step it belongs to (the API documents them all).
    for (field, text, max) in [
        ("owner", &input.owner, 100),
        ("tasks", &input.tasks, 2000),
        ("receipt_by", &input.receipt_by, 50),
        ("delivery", &input.delivery, 50),
        ("witness", &input.witness, 50),
        ("reference", &input.reference, 100),
        ("evidence", &input.evidence, 2000),
    ] {
        too_long(field, text, max, &mut problems);
    }
    let step = match input.step.as_str() {
        "plan" => {
            if trim_blank(&input.owner).is_empty() {
                problems.push(FieldProblem::new("owner", "field-required"));
            }
            if input.tasks.lines().all(|l| l.trim().is_empty()) {
                problems.push(FieldProblem::new("tasks", "field-required"));
            }
            HazardStep::Plan { deadline: day("deadline", &input.deadline, &mut problems) }
        }
        "notify" => HazardStep::Notify { deadline: day("deadline", &input.deadline, &mut problems) },
        "sign_receipt" => {
            if trim_blank(&input.receipt_by).is_empty() {
                problems.push(FieldProblem::new("receipt_by", "field-required"));
            }
            HazardStep::SignReceipt
        }
        "refuse_receipt" => {
            // The delivery's photo: sent with the step, or added to the hazard since its notice.
            // (Both are local `YYYY-MM-DD HH:MM`, which sorts as time.)
            let noticed = d.steps.iter().rev().find(|s| s.step == "notify").map(|s| s.at.clone());
            let earlier = d.photos.iter().any(|p| noticed.as_deref().is_some_and(|n| p.uploaded_at.as_str() >= n));
            if let Some((_, bytes)) = &input.photo {
                files::check_upload(app, "photo", bytes, false)?;
            }
            HazardStep::RefuseReceipt {
                on: day("refused_on", &input.refused_on, &mut problems),
                delivery: input.delivery.clone(),
                witness: input.witness.clone(),
                photo: input.photo.is_some() || earlier,
            }
        }
        "file" => {
            HazardStep::File { on: day("filed_on", &input.filed_on, &mut problems), reference: input.reference.clone() }
        }
        "rectify" => HazardStep::Rectify,
        "submit_for_review" => HazardStep::SubmitForReview,
        "review" => {
            let evidence = !trim_blank(&input.evidence).is_empty() || !d.photos.is_empty();
            if !input.passed && trim_blank(&input.evidence).is_empty() {
                problems.push(FieldProblem::new("evidence", "field-review-reason"));
            }
            HazardStep::Review { passed: input.passed, evidence }
        }
        other => {
            return Err(AppError::Invalid(vec![FieldProblem::new("step", "field-step").with("value", other)]));
        }
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = app.now();
    let at = now.to_db();
    let next = match machine::step(h.road(), h.state, &step, today, h.limit) {
        Ok(next) => next,
        Err(v) => {
            // A refused step is a record too: who tried what, against which rule.
            let mut tx = app.db().begin_write().await?;
            let event = NewEvent::new("hazard.step_refused", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
                "number": h.number, "step": step.code(), "state": h.state.code(), "rule": v.rule.code,
            }));
            append(&mut tx, cap.actor(), meta, now, event).await?;
            tx.commit().await?;
            return Err(v.into());
        }
    };
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query("UPDATE hazards SET state = $1 WHERE id = $2 AND state = $3")
        .bind(next.code())
        .bind(id)
        .bind(h.state.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    let detail = match &step {
        HazardStep::Plan { deadline } | HazardStep::Notify { deadline } => {
            let owner = trim_blank(&input.owner);
            sqlx::query("UPDATE hazards SET deadline = $1, owner = $2 WHERE id = $3")
                .bind(deadline.to_string())
                .bind((!owner.is_empty()).then_some(&owner))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let tasks = input.tasks.lines().map(str::trim).filter(|l| !l.is_empty());
            add_plan_tasks(&mut tx, id, h.unit_id, tasks, owner, *deadline, cap.actor(), &at).await?;
            format!("{deadline} {owner}").trim().to_owned()
        }
        HazardStep::SignReceipt => {
            let by = trim_blank(&input.receipt_by).to_owned();
            sqlx::query("UPDATE hazards SET receipt_by = $1 WHERE id = $2")
                .bind(&by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            by
        }
        HazardStep::RefuseReceipt { on, delivery, witness, .. } => {
            sqlx::query(
                "UPDATE hazards SET refused_on = $1, refusal_delivery = $2, refusal_witness = $3 WHERE id = $4",
            )
            .bind(on.to_string())
            .bind(trim_blank(delivery))
            .bind(trim_blank(witness))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some((name, bytes)) = &input.photo {
                let content_type = files::check_upload(app, "photo", bytes, false)?;
                files::store(&mut tx, "hazard", id, h.unit_id, name, content_type, bytes, &cap.actor().name, now)
                    .await?;
            }
            format!("{on} {} {}", trim_blank(delivery), trim_blank(witness))
        }
        HazardStep::File { on, reference } => {
            sqlx::query("UPDATE hazards SET filed_on = $1, filing_reference = $2 WHERE id = $3")
                .bind(on.to_string())
                .bind(trim_blank(reference))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            format!("{on} {}", trim_blank(reference))
        }
        HazardStep::Review { passed: true, .. } => {
            let evidence = trim_blank(&input.evidence).to_owned();
            sqlx::query("UPDATE hazards SET closed_at = $1 WHERE id = $2").bind(&at).bind(id).execute(&mut *tx).await?;
            // 销号 closes what is left of the plan with the same evidence.
            sqlx::query(
                "UPDATE rectification_tasks SET state = 'closed', evidence = $1, closed_at = $2, closed_by = $3 \
                 WHERE source_kind = 'hazard' AND source_id = $4 AND state = 'open'",
            )
            .bind(if evidence.is_empty() { "照片佐证".to_owned() } else { evidence.clone() })
            .bind(&at)
            .bind(&cap.actor().name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            evidence
        }
        HazardStep::Review { passed: false, .. } => trim_blank(&input.evidence).to_owned(),
        HazardStep::Rectify | HazardStep::SubmitForReview => String::new(),
    };
    let step_code = match &step {
        HazardStep::Review { passed: true, .. } => "close",
        HazardStep::Review { passed: false, .. } => "review_failed",
        other => other.code(),
    };
    record_step(&mut tx, id, step_code, &detail, cap.actor(), &at).await?;
    let event = NewEvent::new("hazard.step", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "step": step_code, "from": h.state.code(), "to": next.code(),
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(next)
}

/// Seals matching `condition` (integers written into it, text as `binds`).
async fn seals_where(app: &App, condition: &str, binds: &[String]) -> Result<Vec<SealRow>, AppError> {
    let rows = gridsafe_store::bound(format!(
        "SELECT s.id, s.customer_id, c.account_no, c.name, s.hazard_id, h.number, h.state, u.name, u.path, s.equipment, \
         s.seal_number, s.sealed_on, s.sealed_by, s.unsealed_on, s.unsealed_by FROM seals s \
         JOIN customers c ON c.id = s.customer_id JOIN hazards h ON h.id = s.hazard_id JOIN org_units u ON u.id = s.unit_id \
         WHERE {condition} ORDER BY CASE WHEN s.unsealed_on IS NULL THEN 0 ELSE 1 END, s.sealed_on DESC, s.id"
    ), binds)
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SealRow {
                id: r.try_get(0)?,
                customer_id: r.try_get(1)?,
                customer_no: r.try_get(2)?,
                customer_name: r.try_get(3)?,
                hazard_id: r.try_get(4)?,
                hazard_number: r.try_get(5)?,
                hazard_state: HazardState::from_code(&r.try_get::<String, _>(6)?)
                    .ok_or_else(|| AppError::internal("hazard state"))?,
                unit_name: r.try_get(7)?,
                unit_path: r.try_get(8)?,
                equipment: r.try_get(9)?,
                seal_number: r.try_get(10)?,
                sealed_on: r.try_get(11)?,
                sealed_by: r.try_get(12)?,
                unsealed_on: r.try_get(13)?,
                unsealed_by: r.try_get(14)?,
            })
        })
        .collect()
}

/// Sealed equipment in reach (still sealed first).
pub async fn list_seals<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    unit_id: Option<i64>,
    only_sealed: bool,
) -> Result<Vec<SealRow>, AppError> {
    let (mut condition, binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    if let Some(unit) = unit_id {
        condition.push_str(&format!(" AND u.path LIKE (SELECT path FROM org_units WHERE id = {unit}) || '%'"));
    }
    if only_sealed {
        condition.push_str(" AND s.unsealed_on IS NULL");
    }
    seals_where(app, &condition, &binds).await
}

/// Seals a customer's equipment for an open hazard of that customer.
pub async fn seal(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    hazard_id: i64,
    equipment: &str,
    seal_number: &str,
    sealed_on: &str,
) -> Result<i64, AppError> {
    let d = hazard(app, cap, hazard_id).await?;
    let h = &d.hazard;
    let mut problems = Vec::new();
    for (field, text, max) in [("equipment", equipment, 100), ("seal_number", seal_number, 50)] {
        if trim_blank(text).is_empty() || text.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
    }
    let day = crate::people::parse_day("sealed_on", sealed_on, &mut problems);
    if day.is_some_and(|d| d > app.today()) {
        problems.push(FieldProblem::new("sealed_on", "field-signed-on"));
    }
    // 封存 is for a violating customer's equipment only.
    machine::check_seal(h.responsibility, h.state)?;
    let Some(customer_id) = h.customer_id else {
        problems.push(FieldProblem::new("hazard", "field-hazard-customer"));
        return Err(AppError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO seals (customer_id, hazard_id, unit_id, equipment, seal_number, sealed_on, sealed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(customer_id)
    .bind(hazard_id)
    .bind(h.unit_id)
    .bind(trim_blank(equipment))
    .bind(trim_blank(seal_number))
    .bind(day.map(|d| d.to_string()))
    .bind(&cap.actor().name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    record_step(
        &mut tx,
        hazard_id,
        "seal",
        &format!("{} {}", trim_blank(equipment), trim_blank(seal_number)),
        cap.actor(),
        &now.to_db(),
    )
    .await?;
    let event = NewEvent::new("seal.sealed", "seal", id).unit(h.unit_id).summary(serde_json::json!({
        "hazard": h.number, "customer": h.customer_no, "equipment": trim_blank(equipment), "seal": trim_blank(seal_number),
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Unseals equipment: refused (SEAL_HAZARD_OPEN) until its hazard is closed.
pub async fn unseal(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    seal_id: i64,
) -> Result<(), AppError> {
    let s = seals_where(app, &format!("s.id = {seal_id}"), &[]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &s.unit_path)?;
    if s.unsealed_on.is_some() {
        return Err(AppError::Conflict("conflict-seal-unsealed"));
    }
    let now = app.now();
    if let Err(v) = machine::check_unseal(s.hazard_state) {
        // The refusal is a record too: someone tried to take a seal off an open hazard.
        let mut tx = app.db().begin_write().await?;
        let event = NewEvent::new("seal.unseal_refused", "seal", seal_id)
            .summary(serde_json::json!({ "hazard": s.hazard_number, "rule": v.rule.code }));
        append(&mut tx, cap.actor(), meta, now, event).await?;
        tx.commit().await?;
        return Err(v.with("hazard", &s.hazard_number).into());
    }
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE seals SET unsealed_on = $1, unsealed_by = $2 WHERE id = $3 AND unsealed_on IS NULL")
        .bind(app.today().to_string())
        .bind(&cap.actor().name)
        .bind(seal_id)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("seal.unsealed", "seal", seal_id)
        .summary(serde_json::json!({ "hazard": s.hazard_number, "equipment": s.equipment }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Escalates (督办) every open hazard past its deadline by the configured days per level; each
/// rise is an audit event naming the unit it now reaches. Answers how many rose.
pub async fn escalate_overdue(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let cfg = app.inspections_config();
    let today = app.today();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE h.state <> 'closed'"
    )))
    .fetch_all(app.db().pool())
    .await?;
    let actor =
        Actor { user_id: None, name: "job:hazard-escalation".into(), channel: gridsafe_domain::access::Channel::Job };
    let mut risen = 0;
    for r in rows {
        let h = hazard_from(app, &r, today).await?;
        let id = h.id;
        let path = h.unit_path.clone();
        // Never beyond the root.
        let depth = u32::try_from(path.matches('/').count().saturating_sub(2)).unwrap_or(0);
        // Overdue from the day after it was due: the deadline, or a grid-side hazard's plan.
        let level = machine::escalation(
            h.state,
            Some(h.due),
            today,
            cfg.escalate_every_days,
            cfg.escalate_max_levels.min(depth),
        );
        let stored = h.escalation;
        if i64::from(level) <= stored {
            continue;
        }
        let to = escalation_unit(app, &path, i64::from(level)).await?;
        let now = app.now();
        let mut tx = app.db().begin_write().await?;
        sqlx::query("UPDATE hazards SET escalation = $1 WHERE id = $2")
            .bind(i64::from(level))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_step(&mut tx, id, "escalate", to.as_deref().unwrap_or(""), &actor, &now.to_db()).await?;
        let event = NewEvent::new("hazard.escalated", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
            "number": h.number, "level": level, "to": to, "due": h.due.to_string(),
            "waiting_for_plan": h.due < h.deadline,
        }));
        append(&mut tx, &actor, meta, now, event).await?;
        tx.commit().await?;
        risen += 1;
    }
    Ok(risen)
}

/// Asks for a later rectification deadline than the one in force, with the reason (设备到货, 停电
/// 窗口 …). Nothing changes until a manager approves it ([`decide_extension`]).
pub async fn request_extension<P: HazardWorker>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    to: &str,
    reason: &str,
) -> Result<(), AppError> {
    let d = hazard(app, cap, id).await?;
    let h = &d.hazard;
    if !P::ANY_SOURCE && h.source_kind != "finding" {
        return Err(gridsafe_domain::access::Denied::NotGranted(
            gridsafe_domain::access::Permission::InspectionsRecord,
        )
        .into());
    }
    let mut problems = Vec::new();
    let day = crate::people::parse_day("extension_to", to, &mut problems);
    if reason.chars().count() > 500 {
        problems.push(FieldProblem::new("reason", "field-name-length").with("max", 500));
    }
    let Some(day) = day.filter(|_| problems.is_empty()) else { return Err(AppError::Invalid(problems)) };
    machine::check_extension(h.state, h.deadline, day, reason)?;
    let now = app.now();
    let at = now.to_db();
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query(
        "UPDATE hazards SET extension_to = $1, extension_reason = $2, extension_by = $3 WHERE id = $4 AND state <> 'closed'",
    )
    .bind(day.to_string())
    .bind(trim_blank(reason))
    .bind(&cap.actor().name)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    record_step(&mut tx, id, "extension_requested", &format!("{day} {}", trim_blank(reason)), cap.actor(), &at).await?;
    let event = NewEvent::new("hazard.extension_requested", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "from": h.deadline.to_string(), "to": day.to_string(),
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// A manager's decision on a requested later deadline: approved, it becomes the deadline and
/// the new limit; refused, the deadline stays. Never by the one who asked.
pub async fn decide_extension(
    app: &App,
    cap: &Capability<perm::HazardsApprove>,
    meta: &RequestMeta,
    id: i64,
    approve: bool,
) -> Result<(), AppError> {
    let d = hazard(app, cap, id).await?;
    let h = &d.hazard;
    let (Some(to), Some(by)) = (h.extension_to, h.extension_by.as_deref()) else {
        return Err(AppError::Conflict("conflict-no-extension"));
    };
    machine::check_approval(by, &cap.actor().name)?;
    let now = app.now();
    let at = now.to_db();
    let mut tx = app.db().begin_write().await?;
    let sql = if approve {
        "UPDATE hazards SET deadline = extension_to, approved_limit = extension_to, approved_by = $1, extension_to = NULL, \
         extension_reason = NULL, extension_by = NULL WHERE id = $2 AND extension_to = $3"
    } else {
        "UPDATE hazards SET extension_to = NULL, extension_reason = NULL, extension_by = NULL \
         WHERE id = $2 AND extension_to = $3 AND $1 = $1"
    };
    let changed =
        sqlx::query(sql).bind(&cap.actor().name).bind(id).bind(to.to_string()).execute(&mut *tx).await?.rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    let (step, action) = if approve {
        ("extension_approved", "hazard.extension_approved")
    } else {
        ("extension_refused", "hazard.extension_refused")
    };
    record_step(&mut tx, id, step, &to.to_string(), cap.actor(), &at).await?;
    let event = NewEvent::new(action, "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "to": to.to_string(), "requested_by": by,
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}
