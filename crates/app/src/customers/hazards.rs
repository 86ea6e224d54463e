//! Hazards (隐患) and their closed loop on top of the domain's state machine; sealed equipment
//! (封存) held until its hazard is closed; overdue escalation (督办) to the units above.

use chrono::NaiveDate;
use gridsafe_domain::access::{Actor, Capability, perm};
use gridsafe_domain::hazards::{self as machine, HazardState, HazardStep, HazardStepKind, Responsibility, Road};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::Conn;
use gridsafe_store::hazards::{self as store, StoredHazard};
use serde::Serialize;
use std::collections::BTreeMap;

use super::files::{self, AttachmentMeta};
use super::{CustomersReach, HazardsReach, customer};
use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

pub use gridsafe_store::hazards::{GradeRow, SealRow, StepRow};

pub async fn grades(app: &App) -> Result<Vec<GradeRow>, AppError> {
    Ok(store::grades(&mut *app.db().read().await?).await?)
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
    let mut work = app.begin(cap.actor(), meta).await?;
    if !store::set_grade(work.conn(), code, deadline_days, files, &cap.actor().name).await? {
        return Err(AppError::NotFound);
    }
    work.audit(
        NewEvent::new("hazard.grade_changed", "hazard_grade", code)
            .summary(serde_json::json!({ "deadline_days": deadline_days, "files": files })),
    )
    .await?;
    work.commit().await
}

/// Where a hazard came from.
pub const SOURCES: [&str; 4] = ["inspection", "finding", "violation", "adhoc"];

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
    pub unit_id: UnitId,
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

/// Where a stored hazard stands `today`: its deadline, limit, due day, and the unit it is
/// escalated to (from `names`, the units above it).
fn hazard_row(app: &App, h: StoredHazard, today: NaiveDate, names: &BTreeMap<UnitId, String>) -> HazardRow {
    // Every hazard has a deadline: its grade's days from registration until a plan or notice sets one.
    let by_grade = h.registered_on + chrono::Duration::days(h.grade_days);
    let deadline = h.deadline.unwrap_or(by_grade);
    let limit = h.approved_limit.unwrap_or(by_grade).max(by_grade);
    let road = Road { responsibility: h.responsibility, grade_files: h.grade_files };
    let due = machine::due(road, h.state, h.registered_on, deadline, app.inspections_config().plan_within_days);
    let escalated_to = escalation_unit(&h.unit_path, h.escalation).and_then(|id| names.get(&id).cloned());
    HazardRow {
        id: h.id,
        number: h.number,
        customer_id: h.customer_id,
        customer_no: h.customer_no,
        customer_name: h.customer_name,
        inspection_id: h.inspection_id,
        unit_id: h.unit_id,
        unit_name: h.unit_name,
        unit_path: h.unit_path,
        title: h.title,
        description: h.description,
        grade: h.grade,
        grade_name: h.grade_name,
        responsibility: h.responsibility,
        files: road.files(),
        overdue: h.state != HazardState::Closed && today > due,
        state: h.state,
        registered_on: h.registered_on,
        deadline,
        limit,
        due,
        source_kind: h.source_kind,
        source_id: h.source_id,
        owner: h.owner,
        receipt_by: h.receipt_by,
        refused_on: h.refused_on,
        refusal_delivery: h.refusal_delivery,
        refusal_witness: h.refusal_witness,
        filed_on: h.filed_on,
        filing_reference: h.filing_reference,
        extension_to: h.extension_to,
        extension_reason: h.extension_reason,
        extension_by: h.extension_by,
        approved_by: h.approved_by,
        escalation: h.escalation,
        escalated_to,
        created_at: h.created_at.local_display(),
        closed_at: h.closed_at.map(|t| t.local_display()),
    }
}

/// The id of the unit `levels` above the one at `path` (the root when the tree is shallower);
/// none when not escalated.
fn escalation_unit(path: &str, levels: i64) -> Option<UnitId> {
    if levels <= 0 {
        return None;
    }
    let ids: Vec<i64> = path.split('/').filter_map(|p| p.parse().ok()).collect();
    let index = ids.len().saturating_sub(1).saturating_sub(usize::try_from(levels).unwrap_or(0));
    ids.get(index).copied().map(UnitId::new)
}

/// Stored hazards as rows, with the names of the units they are escalated to: one statement
/// for those names however many hazards.
async fn hazard_rows(app: &App, conn: &mut Conn, stored: Vec<StoredHazard>) -> Result<Vec<HazardRow>, AppError> {
    let units: Vec<UnitId> = stored.iter().filter_map(|h| escalation_unit(&h.unit_path, h.escalation)).collect();
    let names = gridsafe_store::identity::unit_names(conn, &units).await?;
    let today = app.today();
    Ok(stored.into_iter().map(|h| hazard_row(app, h, today, &names)).collect())
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

impl HazardFilter {
    /// The store's filter for capability `P`; `None` when `P` reads no hazard of the source asked.
    fn stored<P: HazardsReach>(&self) -> Option<store::Filter> {
        let wanted = self.source.as_deref().and_then(|s| SOURCES.iter().find(|k| **k == s).copied());
        let source = match (P::FINDINGS_ONLY, wanted) {
            (true, Some(s)) if s != "finding" => return None,
            (true, _) => Some("finding"),
            (false, s) => s,
        };
        Some(store::Filter {
            state: self.state.clone(),
            responsibility: self.responsibility.clone(),
            grade: self.grade.clone(),
            customer_id: self.customer_id,
            escalated: self.escalated,
            source,
            open: false,
        })
    }
}

/// Calls `each` with every hazard of `scope` (all units for `None`) that `filter` takes, judged
/// (due, overdue), by id, reading the ledger on `conn` a batch at a time: memory does not grow
/// with the ledger, and nothing past a first batch is left out.
async fn each_stored(
    app: &App,
    conn: &mut Conn,
    scope: Option<&[gridsafe_domain::access::UnitPath]>,
    filter: &store::Filter,
    mut each: impl FnMut(HazardRow),
) -> Result<(), AppError> {
    let mut batches = crate::batches::Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::hazards(conn, scope, filter, after, crate::batches::BATCH).await?;
        batches.read(&rows, |h| h.id);
        hazard_rows(app, conn, rows).await?.into_iter().for_each(&mut each);
    }
    Ok(())
}

/// Calls `each` with every hazard in reach that `filter` takes, by id, from one snapshot.
pub async fn each_hazard<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &HazardFilter,
    mut each: impl FnMut(HazardRow),
) -> Result<(), AppError> {
    let Some(stored) = filter.stored::<P>() else { return Ok(()) };
    let mut snapshot = app.db().snapshot().await?;
    each_stored(app, &mut snapshot, Some(cap.scope()), &stored, |h| {
        if !filter.overdue || h.overdue {
            each(h);
        }
    })
    .await
}

/// Where a hazard stands in the ledger's order: open ones first, the most urgent first.
pub type HazardKey = (bool, NaiveDate, i64);

impl HazardRow {
    pub fn key(&self) -> HazardKey {
        (self.state == HazardState::Closed, self.due, self.id)
    }
}

/// Hazards in reach: open ones first, by deadline (what an export writes).
pub async fn list_hazards<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &HazardFilter,
) -> Result<Vec<HazardRow>, AppError> {
    let mut out = Vec::new();
    each_hazard(app, cap, filter, |h| out.push(h)).await?;
    out.sort_by_key(HazardRow::key);
    Ok(out)
}

/// At most `limit` hazards in reach that `filter` takes, after `after` in the ledger's order
/// (open first, by deadline), and how many it takes in all. The order is judged, so the whole
/// ledger in reach is gone through, keeping no more than the page.
pub async fn hazards_page<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &HazardFilter,
    after: Option<HazardKey>,
    limit: usize,
) -> Result<(Vec<HazardRow>, u64), AppError> {
    let mut page = crate::batches::Least::new(limit);
    let mut total = 0u64;
    each_hazard(app, cap, filter, |h| {
        total += 1;
        let key = h.key();
        if after.is_none_or(|a| key > a) {
            page.offer(key, h);
        }
    })
    .await?;
    Ok((page.into_sorted(), total))
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
    let mut conn = app.db().read().await?;
    load(app, &mut conn, cap, id, false).await
}

/// Hazard `id` for the person responsible for its rectification, who reads what is assigned to
/// him without reading the customer register: not found unless its responsible person is the one
/// linked to `principal`'s account.
pub async fn hazard_assigned(
    app: &App,
    principal: &gridsafe_domain::access::Principal,
    id: i64,
) -> Result<HazardDetail, AppError> {
    let mut conn = app.db().read().await?;
    let user = principal.user_id().ok_or(AppError::NotFound)?;
    let me = gridsafe_store::people::id_of_user(&mut conn, user).await?;
    if me.is_none() || store::owner_person(&mut conn, id).await? != me {
        return Err(AppError::NotFound);
    }
    let stored = store::hazard(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
    let hazard = hazard_rows(app, &mut conn, vec![stored]).await?.remove(0);
    detail(&mut conn, hazard).await
}

/// Hazard `id` read on `conn` with its history, refused unless `cap` reaches it; with `hold`,
/// held until the transaction ends.
async fn load<P: HazardsReach>(
    app: &App,
    conn: &mut Conn,
    cap: &Capability<P>,
    id: i64,
    hold: bool,
) -> Result<HazardDetail, AppError> {
    let stored = store::hazard(conn, id, hold).await?.ok_or(AppError::NotFound)?;
    let hazard = hazard_rows(app, conn, vec![stored]).await?.remove(0);
    crate::identity::check_stored_path(cap, &hazard.unit_path)?;
    if P::FINDINGS_ONLY && hazard.source_kind != "finding" {
        return Err(
            gridsafe_domain::access::Denied::NotGranted(gridsafe_domain::access::Permission::CustomersView).into()
        );
    }
    detail(conn, hazard).await
}

/// A hazard's history, plan, seals and photos, and the steps it may take next.
async fn detail(conn: &mut Conn, hazard: HazardRow) -> Result<HazardDetail, AppError> {
    let id = hazard.id;
    let steps = store::steps(conn, id).await?;
    let tasks = store::tasks(conn, id).await?;
    let seals = store::seals(conn, store::Seals::OfHazard(id)).await?;
    let photos = gridsafe_store::customers::attachments_of(conn, "hazard", id).await?;
    let next = machine::next_steps(hazard.road(), hazard.state).to_vec();
    Ok(HazardDetail { photos, hazard, steps, tasks, seals, next })
}

/// What registering a hazard takes.
#[derive(Debug, Clone, Default)]
pub struct HazardInput {
    pub customer_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// The unit of an ad hoc grid-side hazard with no customer.
    pub unit_id: Option<UnitId>,
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
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
    let (id, number) = insert_hazard(work.conn(), cap.actor(), &new, now).await?;
    work.audit(NewEvent::new("hazard.registered", "hazard", id).unit(unit_id).summary(serde_json::json!({
        "number": number, "grade": input.grade, "responsibility": responsibility.code(),
        "customer": customer_id, "inspection": input.inspection_id,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// A hazard to register, from wherever it comes.
pub(crate) struct NewHazard {
    pub customer_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub source_kind: &'static str,
    pub source_id: Option<i64>,
    pub unit_id: UnitId,
    pub title: String,
    pub description: String,
    pub grade: String,
    pub responsibility: Responsibility,
    /// Registered with its rectification plan at once.
    pub plan: Option<HazardPlan>,
}

/// A rectification plan registered with its hazard: the register's person responsible (and how
/// he is named), the deadline, the task.
#[derive(Debug, Clone)]
pub(crate) struct HazardPlan {
    pub owner: gridsafe_domain::ids::PersonId,
    pub owner_label: String,
    pub deadline: NaiveDate,
    pub task: String,
}

/// Registers a hazard in `tx`: its number, the day (its grade's days count from it), its
/// deadline from the grade, and the plan when it comes with one. Answers its id and number.
pub(crate) async fn insert_hazard(
    conn: &mut Conn,
    actor: &Actor,
    h: &NewHazard,
    now: gridsafe_domain::time::Timestamp,
) -> Result<(i64, String), AppError> {
    let today = now.local_date();
    let days = store::grade_days(conn, &h.grade).await?.ok_or_else(|| AppError::invalid("grade", "field-invalid"))?;
    let by_grade = today + chrono::Duration::days(days);
    let (state, deadline, owner) = match &h.plan {
        Some(plan) => {
            let road = Road { responsibility: h.responsibility, grade_files: false };
            machine::step(
                road,
                HazardState::Registered,
                &HazardStep::Plan { deadline: plan.deadline },
                today,
                by_grade,
            )?;
            (HazardState::Planned, plan.deadline, Some(plan.owner_label.as_str()))
        }
        None => (HazardState::Registered, by_grade, None),
    };
    let number = gridsafe_store::numbers::next(conn, "YH", today).await?;
    let row = store::NewHazard {
        number: &number,
        customer_id: h.customer_id,
        inspection_id: h.inspection_id,
        source_kind: h.source_kind,
        source_id: h.source_id,
        unit_id: h.unit_id,
        title: &h.title,
        description: &h.description,
        grade: &h.grade,
        responsibility: h.responsibility,
        state,
        deadline,
        owner,
        owner_person: h.plan.as_ref().map(|p| p.owner),
        by: &actor.name,
    };
    let id = store::insert_hazard(conn, &row, now).await?;
    store::record_step(conn, id, "register", &h.title, &actor.name, now).await?;
    if let Some(plan) = &h.plan {
        let (owner, deadline) = (&plan.owner_label, plan.deadline);
        store::add_tasks(conn, id, h.unit_id, &[plan.task.as_str()], owner, deadline, &actor.name, now).await?;
        store::record_step(conn, id, "plan", &format!("{deadline} {owner}"), &actor.name, now).await?;
    }
    Ok((id, number))
}

/// A step as a form or the API sends it; which fields count depends on the step.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub step: HazardStepKind,
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

impl StepInput {
    /// Step `step`, with every field empty.
    pub fn of(step: HazardStepKind) -> Self {
        Self {
            step,
            deadline: String::new(),
            owner: String::new(),
            tasks: String::new(),
            receipt_by: String::new(),
            filed_on: String::new(),
            reference: String::new(),
            passed: false,
            evidence: String::new(),
            refused_on: String::new(),
            delivery: String::new(),
            witness: String::new(),
            photo: None,
        }
    }
}

/// The step a form names by its code; an unknown one is an input error.
pub fn step_kind(code: &str) -> Result<HazardStepKind, AppError> {
    HazardStepKind::from_code(code.trim())
        .ok_or_else(|| AppError::Invalid(vec![FieldProblem::new("step", "field-step").with("value", code.trim())]))
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
    if input.step == HazardStepKind::Review {
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
    apply(app, cap, meta, id, &StepInput { step: HazardStepKind::Review, ..input.clone() }).await
}

async fn apply<P: HazardsReach>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    input: &StepInput,
) -> Result<HazardState, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(app, work.conn(), cap, id, true).await?;
    let h = &d.hazard;
    if P::PERMISSION == gridsafe_domain::access::Permission::FindingsReview
        && input.step != HazardStepKind::Review
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
    let step = match input.step {
        HazardStepKind::Plan => {
            if trim_blank(&input.owner).is_empty() {
                problems.push(FieldProblem::new("owner", "field-required"));
            }
            if input.tasks.lines().all(|l| l.trim().is_empty()) {
                problems.push(FieldProblem::new("tasks", "field-required"));
            }
            HazardStep::Plan { deadline: day("deadline", &input.deadline, &mut problems) }
        }
        HazardStepKind::Notify => HazardStep::Notify { deadline: day("deadline", &input.deadline, &mut problems) },
        HazardStepKind::SignReceipt => {
            if trim_blank(&input.receipt_by).is_empty() {
                problems.push(FieldProblem::new("receipt_by", "field-required"));
            }
            HazardStep::SignReceipt
        }
        HazardStepKind::RefuseReceipt => {
            // The delivery's photo: sent with the step, or added to the hazard since its notice.
            // (Both are local `YYYY-MM-DD HH:MM`, which sorts as time.)
            let noticed = d.steps.iter().rev().find(|s| s.step == HazardStepKind::Notify.code()).map(|s| s.at.clone());
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
        HazardStepKind::File => {
            HazardStep::File { on: day("filed_on", &input.filed_on, &mut problems), reference: input.reference.clone() }
        }
        HazardStepKind::Rectify => HazardStep::Rectify,
        HazardStepKind::SubmitForReview => HazardStep::SubmitForReview,
        HazardStepKind::Review => {
            let evidence = !trim_blank(&input.evidence).is_empty() || !d.photos.is_empty();
            if !input.passed && trim_blank(&input.evidence).is_empty() {
                problems.push(FieldProblem::new("evidence", "field-review-reason"));
            }
            HazardStep::Review { passed: input.passed, evidence }
        }
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = work.now();
    let by = cap.actor().name.as_str();
    let next = match machine::step(h.road(), h.state, &step, today, h.limit) {
        Ok(next) => next,
        Err(v) => {
            // A refused step is a record too: who tried what, against which rule.
            work.audit(NewEvent::new("hazard.step_refused", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
                "number": h.number, "step": step.code(), "state": h.state.code(), "rule": v.rule.code,
            })))
            .await?;
            work.commit().await?;
            return Err(v.into());
        }
    };
    if !store::set_state(work.conn(), id, h.state, next).await? {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    let detail = match &step {
        HazardStep::Plan { deadline } | HazardStep::Notify { deadline } => {
            // The supply company's own rectification is a person's of the register; a notice to
            // a customer names the customer's side in words.
            let (owner_person, label) = match step {
                HazardStep::Plan { .. } => {
                    let (id, label) = crate::people::responsible(work.conn(), "owner", &input.owner).await?;
                    (Some(id), label)
                }
                _ => (None, trim_blank(&input.owner).to_owned()),
            };
            let owner = label.as_str();
            let stamp = store::Stamp::Deadline {
                deadline: *deadline,
                owner: Some(owner).filter(|o| !o.is_empty()),
                owner_person,
            };
            store::stamp_step(work.conn(), id, stamp, now).await?;
            let tasks: Vec<&str> = input.tasks.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            store::add_tasks(work.conn(), id, h.unit_id, &tasks, owner, *deadline, by, now).await?;
            format!("{deadline} {owner}").trim().to_owned()
        }
        HazardStep::SignReceipt => {
            let receipt_by = trim_blank(&input.receipt_by).to_owned();
            store::stamp_step(work.conn(), id, store::Stamp::Receipt { by: &receipt_by }, now).await?;
            receipt_by
        }
        HazardStep::RefuseReceipt { on, delivery, witness, .. } => {
            let refusal =
                store::Stamp::Refusal { on: *on, delivery: trim_blank(delivery), witness: trim_blank(witness) };
            store::stamp_step(work.conn(), id, refusal, now).await?;
            if let Some((name, bytes)) = &input.photo {
                let content_type = files::check_upload(app, "photo", bytes, false)?;
                files::store(work.conn(), "hazard", id, h.unit_id, name, content_type, bytes, by, now).await?;
            }
            format!("{on} {} {}", trim_blank(delivery), trim_blank(witness))
        }
        HazardStep::File { on, reference } => {
            let filing = store::Stamp::Filing { on: *on, reference: trim_blank(reference) };
            store::stamp_step(work.conn(), id, filing, now).await?;
            format!("{on} {}", trim_blank(reference))
        }
        HazardStep::Review { passed: true, .. } => {
            let evidence = trim_blank(&input.evidence).to_owned();
            // 销号 closes what is left of the plan with the same evidence.
            let shown = if evidence.is_empty() { "照片佐证" } else { evidence.as_str() };
            store::stamp_step(work.conn(), id, store::Stamp::Closed { evidence: shown, by }, now).await?;
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
    store::record_step(work.conn(), id, step_code, &detail, by, now).await?;
    work.audit(NewEvent::new("hazard.step", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "step": step_code, "from": h.state.code(), "to": next.code(),
    })))
    .await?;
    work.commit().await?;
    Ok(next)
}

/// Sealed equipment in reach (still sealed first).
pub async fn list_seals<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    unit_id: Option<UnitId>,
    only_sealed: bool,
) -> Result<Vec<SealRow>, AppError> {
    let which = store::Seals::In { scope: cap.scope(), unit_id, only_sealed };
    Ok(store::seals(&mut *app.db().read().await?, which).await?)
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
    let mut work = app.begin(cap.actor(), meta).await?;
    // The hazard held: one closed meanwhile is seen, and refused.
    let d = load(app, work.conn(), cap, hazard_id, true).await?;
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
    let now = work.now();
    let new = store::NewSeal {
        customer_id,
        hazard_id,
        unit_id: h.unit_id,
        equipment: trim_blank(equipment),
        seal_number: trim_blank(seal_number),
        sealed_on: day,
        by: &cap.actor().name,
    };
    let id = store::insert_seal(work.conn(), &new).await?;
    let detail = format!("{} {}", trim_blank(equipment), trim_blank(seal_number));
    store::record_step(work.conn(), hazard_id, "seal", &detail, &cap.actor().name, now).await?;
    work.audit(NewEvent::new("seal.sealed", "seal", id).unit(h.unit_id).summary(serde_json::json!({
        "hazard": h.number, "customer": h.customer_no, "equipment": trim_blank(equipment), "seal": trim_blank(seal_number),
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// Unseals equipment: refused (SEAL_HAZARD_OPEN) until its hazard is closed.
pub async fn unseal(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    seal_id: i64,
    input: &UnsealInput,
) -> Result<(), AppError> {
    let reason = input.reason.trim();
    let witness = input.witness.trim();
    let mut problems = Vec::new();
    let on = chrono::NaiveDate::parse_from_str(input.on.trim(), "%Y-%m-%d");
    if on.is_err() {
        problems.push(FieldProblem::new("on", "field-date"));
    }
    if let Ok(on) = on
        && on > app.today()
    {
        problems.push(FieldProblem::new("on", "field-date-future"));
    }
    for (field, value, max) in [("reason", reason, 500), ("witness", witness, 100)] {
        if value.is_empty() {
            problems.push(FieldProblem::new(field, "field-required"));
        } else if value.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
    }
    let Ok(on) = on else { return Err(AppError::Invalid(problems)) };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    // Load the seal with its hazard's state inside the unit of work: a hazard reopened
    // meanwhile is seen.
    let s =
        store::seals(work.conn(), store::Seals::One(seal_id)).await?.into_iter().next().ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &s.unit_path)?;
    if s.unsealed_on.is_some() {
        return Err(AppError::Conflict("conflict-seal-unsealed"));
    }
    if on.to_string() < s.sealed_on {
        return Err(AppError::Invalid(vec![
            FieldProblem::new("on", "field-unseal-before-seal").with("sealed", &s.sealed_on),
        ]));
    }
    if let Err(v) = machine::check_unseal(s.hazard_state) {
        // The refusal is a record too: someone tried to take a seal off an open hazard.
        work.audit(
            NewEvent::new("seal.unseal_refused", "seal", seal_id)
                .summary(serde_json::json!({ "hazard": s.hazard_number, "rule": v.rule.code })),
        )
        .await?;
        work.commit().await?;
        return Err(v.with("hazard", &s.hazard_number).into());
    }
    if !store::unseal(work.conn(), seal_id, on, &cap.actor().name, reason, witness).await? {
        return Err(AppError::Conflict("conflict-seal-unsealed"));
    }
    work.audit(NewEvent::new("seal.unsealed", "seal", seal_id).summary(serde_json::json!({
        "hazard": s.hazard_number, "equipment": s.equipment, "on": on.to_string(), "reason": reason, "witness": witness,
    })))
    .await?;
    work.commit().await
}

/// Taking a seal off (启封): the day, why, and who witnessed it.
#[derive(Debug, Clone, Default)]
pub struct UnsealInput {
    /// The day the seal was taken off, `YYYY-MM-DD`; not in the future nor before it was put on.
    pub on: String,
    pub reason: String,
    pub witness: String,
}

/// Escalates (督办) every open hazard past its deadline by the configured days per level; each
/// rise is an audit event naming the unit it now reaches. Answers how many rose.
pub async fn escalate_overdue(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let cfg = app.inspections_config();
    let today = app.today();
    let mut conn = app.db().read().await?;
    let rises = |h: &HazardRow| {
        // Never beyond the root.
        let depth = u32::try_from(h.unit_path.matches('/').count().saturating_sub(2)).unwrap_or(0);
        // Overdue from the day after it was due: the deadline, or a grid-side hazard's plan.
        let level = machine::escalation(
            h.state,
            Some(h.due),
            today,
            cfg.escalate_every_days,
            cfg.escalate_max_levels.min(depth),
        );
        (i64::from(level) > h.escalation).then_some(level)
    };
    // Only the open hazards whose level rises are kept, however many are open.
    let mut open = Vec::new();
    let filter = store::Filter { open: true, ..store::Filter::default() };
    each_stored(app, &mut conn, None, &filter, |h| {
        if rises(&h).is_some() {
            open.push(h);
        }
    })
    .await?;
    drop(conn);
    let actor =
        Actor { user_id: None, name: "job:hazard-escalation".into(), channel: gridsafe_domain::access::Channel::Job };
    let mut risen = 0;
    for h in open {
        let Some(level) = rises(&h) else { continue };
        let mut work = app.begin(&actor, meta).await?;
        let now = work.now();
        let to = match escalation_unit(&h.unit_path, i64::from(level)) {
            Some(unit) => gridsafe_store::identity::unit_names(work.conn(), &[unit]).await?.remove(&unit),
            None => None,
        };
        store::set_escalation(work.conn(), h.id, i64::from(level)).await?;
        store::record_step(work.conn(), h.id, "escalate", to.as_deref().unwrap_or(""), &actor.name, now).await?;
        work.audit(NewEvent::new("hazard.escalated", "hazard", h.id).unit(h.unit_id).summary(serde_json::json!({
            "number": h.number, "level": level, "to": to, "due": h.due.to_string(),
            "waiting_for_plan": h.due < h.deadline,
        })))
        .await?;
        work.commit().await?;
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(app, work.conn(), cap, id, true).await?;
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
    let now = work.now();
    let by = cap.actor().name.as_str();
    if !store::request_extension(work.conn(), id, day, trim_blank(reason), by).await? {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    store::record_step(work.conn(), id, "extension_requested", &format!("{day} {}", trim_blank(reason)), by, now)
        .await?;
    work.audit(NewEvent::new("hazard.extension_requested", "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "from": h.deadline.to_string(), "to": day.to_string(),
    })))
    .await?;
    work.commit().await
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(app, work.conn(), cap, id, true).await?;
    let h = &d.hazard;
    let (Some(to), Some(by)) = (h.extension_to, h.extension_by.as_deref()) else {
        return Err(AppError::Conflict("conflict-no-extension"));
    };
    machine::check_approval(by, &cap.actor().name)?;
    let now = work.now();
    if !store::decide_extension(work.conn(), id, to, approve, &cap.actor().name).await? {
        return Err(AppError::Conflict("conflict-hazard-changed"));
    }
    let (step, action) = if approve {
        ("extension_approved", "hazard.extension_approved")
    } else {
        ("extension_refused", "hazard.extension_refused")
    };
    store::record_step(work.conn(), id, step, &to.to_string(), &cap.actor().name, now).await?;
    work.audit(NewEvent::new(action, "hazard", id).unit(h.unit_id).summary(serde_json::json!({
        "number": h.number, "to": to.to_string(), "requested_by": by,
    })))
    .await?;
    work.commit().await
}
