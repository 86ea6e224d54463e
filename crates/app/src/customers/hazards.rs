//! Hazards (隐患) and their closed loop on top of the domain's state machine; sealed equipment
//! (封存) held until its hazard is closed; overdue escalation (督办) to the units above.

use chrono::NaiveDate;
use gridsafe_domain::access::{Actor, Capability, PermissionMarker, perm};
use gridsafe_domain::hazards::{self as machine, HazardState, HazardStep, Responsibility, Road};
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use super::files::{self, AttachmentMeta};
use super::{CustomersReach, customer};
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
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct HazardRow {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub customer_no: Option<String>,
    pub customer_name: Option<String>,
    pub inspection_id: Option<i64>,
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
    pub deadline: Option<NaiveDate>,
    pub owner: Option<String>,
    pub receipt_by: Option<String>,
    pub filed_on: Option<String>,
    pub filing_reference: Option<String>,
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
    h.title, h.description, h.grade, g.name, h.responsibility, h.state, h.deadline, h.owner, h.receipt_by, h.filed_on, \
    h.filing_reference, h.escalation, h.created_at, h.closed_at, g.files";
const HAZARD_FROM: &str = "hazards h JOIN org_units u ON u.id = h.unit_id JOIN hazard_grades g ON g.code = h.grade \
    LEFT JOIN customers c ON c.id = h.customer_id";

async fn hazard_from(app: &App, r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<HazardRow, AppError> {
    let decode = |w: &str| AppError::internal(format!("hazard {w}"));
    let state = HazardState::from_code(&r.try_get::<String, _>(14)?).ok_or_else(|| decode("state"))?;
    let responsibility =
        Responsibility::from_code(&r.try_get::<String, _>(13)?).ok_or_else(|| decode("responsibility"))?;
    let deadline = r.try_get::<Option<String>, _>(15)?.as_deref().and_then(crate::people::stored_day);
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
        grade_name: r.try_get(12)?,
        responsibility,
        files: Road { responsibility, grade_files: r.try_get::<i64, _>(23)? != 0 }.files(),
        overdue: state != HazardState::Closed && deadline.is_some_and(|d| today > d),
        state,
        deadline,
        owner: r.try_get(16)?,
        receipt_by: r.try_get(17)?,
        filed_on: r.try_get(18)?,
        filing_reference: r.try_get(19)?,
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
}

/// Hazards in reach: open ones first, by deadline.
pub async fn list_hazards<P: CustomersReach>(
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
    sql.push_str(
        " ORDER BY CASE WHEN h.state = 'closed' THEN 1 ELSE 0 END, CASE WHEN h.deadline IS NULL THEN 1 ELSE 0 END, h.deadline, h.id LIMIT 5000",
    );
    let today = app.today();
    let mut out = Vec::new();
    for r in gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await? {
        let h = hazard_from(app, &r, today).await?;
        if !filter.overdue || h.overdue {
            out.push(h);
        }
    }
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
pub async fn hazard<P: CustomersReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<HazardDetail, AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE h.id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let hazard = hazard_from(app, &r, app.today()).await?;
    crate::identity::check_stored_path(cap, &hazard.unit_path)?;
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
    let number = crate::numbers::next(&mut tx, "YH", app.today()).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO hazards (number, customer_id, inspection_id, unit_id, title, description, grade, responsibility, state, \
         escalation, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'registered', 0, $9, $10) RETURNING id",
    )
    .bind(&number)
    .bind(customer_id)
    .bind(input.inspection_id)
    .bind(unit_id)
    .bind(title)
    .bind(trim_blank(&input.description))
    .bind(&input.grade)
    .bind(responsibility.code())
    .bind(&cap.actor().name)
    .bind(now.to_db())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    record_step(&mut tx, id, "register", title, cap.actor(), &now.to_db()).await?;
    let event = NewEvent::new("hazard.registered", "hazard", id).unit(unit_id).summary(serde_json::json!({
        "number": number, "grade": input.grade, "responsibility": responsibility.code(),
        "customer": customer_id, "inspection": input.inspection_id,
    }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
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
}

/// Takes a step of the closed loop other than the review: plan, notify, sign_receipt, file,
/// rectify, submit_for_review.
pub async fn take_step(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
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

async fn apply<P: CustomersReach + PermissionMarker>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    input: &StepInput,
) -> Result<HazardState, AppError> {
    let d = hazard(app, cap, id).await?;
    let h = &d.hazard;
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
    let step = match input.step.as_str() {
        "plan" => {
            if trim_blank(&input.owner).is_empty() {
                problems.push(FieldProblem::new("owner", "field-required"));
            }
            too_long("owner", &input.owner, 100, &mut problems);
            too_long("tasks", &input.tasks, 2000, &mut problems);
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
            too_long("receipt_by", &input.receipt_by, 50, &mut problems);
            HazardStep::SignReceipt
        }
        "file" => {
            too_long("reference", &input.reference, 100, &mut problems);
            HazardStep::File { on: day("filed_on", &input.filed_on, &mut problems), reference: input.reference.clone() }
        }
        "rectify" => HazardStep::Rectify,
        "submit_for_review" => HazardStep::SubmitForReview,
        "review" => {
            too_long("evidence", &input.evidence, 2000, &mut problems);
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
    let next = machine::step(h.road(), h.state, &step, today)?;
    let now = app.now();
    let at = now.to_db();
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
            for task in input.tasks.lines().map(str::trim).filter(|l| !l.is_empty()) {
                sqlx::query(
                    "INSERT INTO rectification_tasks (source_kind, source_id, unit_id, title, responsible, deadline, state, created_at, created_by) \
                     VALUES ('hazard', $1, $2, $3, $4, $5, 'open', $6, $7)",
                )
                .bind(id)
                .bind(h.unit_id)
                .bind(task)
                .bind(owner)
                .bind(deadline.to_string())
                .bind(&at)
                .bind(&cap.actor().name)
                .execute(&mut *tx)
                .await?;
            }
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
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
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
    let Some(customer_id) = h.customer_id else {
        problems.push(FieldProblem::new("hazard", "field-hazard-customer"));
        return Err(AppError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    if h.state == HazardState::Closed {
        return Err(gridsafe_domain::rules::Violation::of(gridsafe_domain::rules::HAZARD_STATE)
            .with("step", "seal")
            .with("state", h.state.code())
            .into());
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
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
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
        append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
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
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Escalates (督办) every open hazard past its deadline by the configured days per level; each
/// rise is an audit event naming the unit it now reaches. Answers how many rose.
pub async fn escalate_overdue(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let cfg = app.inspections_config();
    let today = app.today();
    let rows = sqlx::query(
        "SELECT h.id, h.number, h.state, h.deadline, h.escalation, h.unit_id, u.path FROM hazards h \
         JOIN org_units u ON u.id = h.unit_id WHERE h.state <> 'closed' AND h.deadline IS NOT NULL",
    )
    .fetch_all(app.db().pool())
    .await?;
    let actor =
        Actor { user_id: None, name: "job:hazard-escalation".into(), channel: gridsafe_domain::access::Channel::Job };
    let mut risen = 0;
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let state =
            HazardState::from_code(&r.try_get::<String, _>(2)?).ok_or_else(|| AppError::internal("hazard state"))?;
        let deadline = r.try_get::<Option<String>, _>(3)?.as_deref().and_then(crate::people::stored_day);
        let path: String = r.try_get(6)?;
        // Never beyond the root.
        let depth = u32::try_from(path.matches('/').count().saturating_sub(2)).unwrap_or(0);
        let level =
            machine::escalation(state, deadline, today, cfg.escalate_every_days, cfg.escalate_max_levels.min(depth));
        let stored: i64 = r.try_get(4)?;
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
        let event = NewEvent::new("hazard.escalated", "hazard", id).unit(r.try_get(5)?).summary(serde_json::json!({
            "number": r.try_get::<String, _>(1)?, "level": level, "to": to, "deadline": deadline.map(|d| d.to_string()),
        }));
        append(&mut tx, app.db().backend(), &actor, meta, now, event).await?;
        tx.commit().await?;
        risen += 1;
    }
    Ok(risen)
}
