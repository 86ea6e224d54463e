//! Work plans (作业计划): drafting a unit's weekly or daily plan, merging shared sites under an
//! organiser, approving and publishing, and changes after publication with their reason. The
//! rules are the domain's (`gridsafe_domain::plans`); every check reads the plan inside the unit
//! of work that writes it, with the plan's row held.

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::plans::{self, Conflict, Merge, PlanKind, PlanState, PlanStep};
use gridsafe_domain::rules::{self, Violation};
use gridsafe_domain::text::trim_blank;
use gridsafe_store::Conn;
use gridsafe_store::plans as store;
use serde::Serialize;

pub use gridsafe_store::plans::{ChangeRow, DayItem, ItemRow, PlanRow};

use crate::audit::NewEvent;
use crate::identity::{check_stored_path, unit_by_id};
use crate::tickets::{local_time, split_items};
use crate::{App, AppError, FieldProblem, RequestMeta, Work};

mod import;
pub use import::{COLUMNS as IMPORT_COLUMNS, import_items};

/// The units a plan capability reaches.
pub trait PlansReach: PermissionMarker {}
impl PlansReach for perm::PlansView {}
impl PlansReach for perm::PlansWrite {}
impl PlansReach for perm::PlansApprove {}

/// Plans in reach, the latest period first.
pub async fn list_plans<P: PlansReach>(app: &App, cap: &Capability<P>, limit: u32) -> Result<Vec<PlanRow>, AppError> {
    Ok(store::list(&mut *app.db().read().await?, cap.scope(), limit).await?)
}

/// Plans in reach waiting to be approved or published, the earliest period first, at most
/// `limit`.
pub async fn plans_awaiting(
    app: &App,
    cap: &Capability<perm::PlansApprove>,
    limit: u32,
) -> Result<Vec<PlanRow>, AppError> {
    Ok(store::awaiting(&mut *app.db().read().await?, cap.scope(), limit).await?)
}

/// A plan with everything on it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanDetail {
    pub plan: PlanRow,
    pub items: Vec<ItemRow>,
    pub merges: Vec<Merge>,
    /// Shared sites (merged or not) and people planned twice at once.
    pub conflicts: Vec<Conflict>,
    pub changes: Vec<ChangeRow>,
    /// The risk grade of each item, in the order of `items` (graded for reading, by [`plan`]).
    pub risks: Vec<gridsafe_domain::risk::Grade>,
}

/// Plan `id` read on `conn`, refused unless `cap` reaches its unit; with `hold`, held.
async fn load<P: PlansReach>(
    conn: &mut Conn,
    cap: &Capability<P>,
    id: i64,
    hold: bool,
) -> Result<PlanDetail, AppError> {
    let plan = store::get(conn, id, hold).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &plan.unit_path)?;
    let items = store::items(conn, id).await?;
    let merges = store::merges(conn, id).await?;
    let facts: Vec<plans::Item> = items.iter().map(|i| i.item.clone()).collect();
    let conflicts = plans::conflicts(&facts, &merges);
    let changes = store::changes(conn, id).await?;
    Ok(PlanDetail { plan, items, merges, conflicts, changes, risks: Vec::new() })
}

/// What grading reads of a plan item: its kind, outage, crew, and whether it shares its site.
fn risk_work(i: &ItemRow, conflicts: &[Conflict]) -> gridsafe_domain::risk::Work {
    gridsafe_domain::risk::Work {
        contractor_crew: i.contractor_crew,
        several_teams: conflicts
            .iter()
            .any(|c| matches!(c, Conflict::SharedSite { items, .. } if items.contains(&i.item.id))),
        outage: i.outage,
        ..gridsafe_domain::risk::Work::of(i.item.work_kind)
    }
}

pub async fn plan<P: PlansReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<PlanDetail, AppError> {
    let mut d = load(&mut *app.db().read().await?, cap, id, false).await?;
    let table = app.plans_config().risk_table();
    d.risks = d.items.iter().map(|i| gridsafe_domain::risk::grade(&risk_work(i, &d.conflicts), &table)).collect();
    Ok(d)
}

/// A new plan as entered.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub unit_id: UnitId,
    /// `weekly` or `daily`.
    pub kind: String,
    /// The first day (`YYYY-MM-DD`); a weekly plan starts on a Monday.
    pub first_day: String,
}

/// Opens a draft plan for a unit in reach; its id.
pub async fn create_plan(
    app: &App,
    cap: &Capability<perm::PlansWrite>,
    meta: &RequestMeta,
    input: PlanInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let kind = PlanKind::from_code(input.kind.trim());
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-plan-kind").with("value", input.kind.trim()));
    }
    let first = NaiveDate::parse_from_str(input.first_day.trim(), "%Y-%m-%d").ok();
    match (kind, first) {
        (_, None) => problems.push(FieldProblem::new("first_day", "field-date").with("value", input.first_day.trim())),
        (Some(PlanKind::Weekly), Some(day)) if chrono::Datelike::weekday(&day) != chrono::Weekday::Mon => {
            problems.push(FieldProblem::new("first_day", "field-plan-monday").with("value", day))
        }
        _ => {}
    }
    let unit = unit_by_id(app, input.unit_id).await?;
    if unit.is_none() {
        problems.push(FieldProblem::new("unit_id", "field-unit"));
    }
    let (Some(kind), Some(first), Some(unit), true) = (kind, first, unit, problems.is_empty()) else {
        return Err(AppError::Invalid(problems));
    };
    cap.check(&unit.path)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let id = store::insert(work.conn(), unit.id, kind, first, &cap.actor().name, cap.actor().user_id, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-plan-period"))?;
    work.audit(NewEvent::new("plan.created", "work_plan", id).unit(unit.id).summary(serde_json::json!({
        "kind": kind.code(), "first_day": first.to_string(), "unit": unit.name,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// An item as entered: times as local wall-clock text, people by 工号.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub start: String,
    pub end: String,
    pub site: String,
    pub work_kind: String,
    pub team_id: UnitId,
    /// 工号 of the work leader.
    pub leader: String,
    /// 工号 of the crew besides the leader, separated by blanks, commas or 、.
    pub crew: String,
    pub outage: bool,
    pub note: String,
    /// Why a published plan changes (required then, ignored in a draft).
    pub reason: String,
}

/// The people of `codes` by id, in order; a problem for each unknown 工号.
async fn people_by_code(
    conn: &mut Conn,
    field: &'static str,
    codes: &[&str],
    problems: &mut Vec<FieldProblem>,
) -> Result<Vec<PersonId>, AppError> {
    let mut out = Vec::new();
    for code in codes {
        match gridsafe_store::people::id_by_code(conn, code).await? {
            Some(id) if !out.contains(&id) => out.push(id),
            Some(_) => {}
            None => problems.push(FieldProblem::new(field, "field-person-code").with("value", *code)),
        }
    }
    Ok(out)
}

/// The plan in reach, held for this unit of work, with `edit` allowed in its state.
async fn editable(
    work: &mut Work<'_>,
    cap: &Capability<perm::PlansWrite>,
    id: i64,
    reason: &str,
) -> Result<PlanDetail, AppError> {
    let d = load(work.conn(), cap, id, true).await?;
    plans::check_edit(d.plan.state, Some(reason))?;
    Ok(d)
}

/// An item checked against its plan: what the store writes.
#[derive(Debug, Clone)]
pub(crate) struct CheckedItem {
    start: gridsafe_domain::time::Timestamp,
    end: gridsafe_domain::time::Timestamp,
    site: String,
    work_kind: OrderType,
    team: gridsafe_store::identity::Unit,
    leader: Option<PersonId>,
    people: Vec<PersonId>,
    outage: bool,
    note: Option<String>,
}

/// Checks `input` as an item of plan `d` (whose row the caller holds), with its team as found
/// by the caller: every problem at once, by field.
async fn check_item(
    conn: &mut Conn,
    d: &PlanDetail,
    input: &ItemInput,
    team: Option<gridsafe_store::identity::Unit>,
) -> Result<Result<CheckedItem, Vec<FieldProblem>>, AppError> {
    let mut problems = Vec::new();
    let start = local_time("start", &input.start, &mut problems);
    let end = local_time("end", &input.end, &mut problems);
    let site = trim_blank(&input.site).to_owned();
    if site.is_empty() || site.chars().count() > 200 {
        problems.push(FieldProblem::new("site", "field-name-length").with("max", 200));
    }
    let work_kind = OrderType::parse(&input.work_kind);
    if work_kind.is_none() {
        problems.push(FieldProblem::new("work_kind", "field-order-type").with("value", input.work_kind.trim()));
    }
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        problems.push(FieldProblem::new("end", "field-end-before-start"));
    }
    if input.note.chars().count() > 500 {
        problems.push(FieldProblem::new("note", "field-name-length").with("max", 500));
    }
    let plan_path = crate::people::stored_path(&d.plan.unit_path)?;
    match &team {
        None => problems.push(FieldProblem::new("team_id", "field-unit")),
        // The team is the plan's unit or one below it.
        Some(t) if !t.path.is_within(&plan_path) => problems.push(FieldProblem::new("team_id", "field-plan-team")),
        Some(_) => {}
    }
    let leader_code = input.leader.trim();
    let leader = if leader_code.is_empty() {
        None
    } else {
        people_by_code(conn, "leader", &[leader_code], &mut problems).await?.first().copied()
    };
    let crew: Vec<&str> = split_items(&input.crew).collect();
    if crew.len() > 50 {
        problems.push(FieldProblem::new("crew", "field-plan-crew").with("max", 50));
    }
    let mut people: Vec<PersonId> = leader.into_iter().collect();
    for p in people_by_code(conn, "crew", &crew[..crew.len().min(50)], &mut problems).await? {
        if !people.contains(&p) {
            people.push(p);
        }
    }
    let period_end = d.plan.first_day + chrono::Duration::days(d.plan.kind.days());
    if let Some(s) = start
        && (s.local_date() < d.plan.first_day || s.local_date() >= period_end)
    {
        problems.push(FieldProblem::new("start", "field-plan-period").with("value", d.plan.first_day));
    }
    Ok(match (start, end, work_kind, team, problems.is_empty()) {
        (Some(start), Some(end), Some(work_kind), Some(team), true) => Ok(CheckedItem {
            start,
            end,
            site,
            work_kind,
            team,
            leader,
            people,
            outage: input.outage,
            note: Some(trim_blank(&input.note).to_owned()).filter(|n| !n.is_empty()),
        }),
        _ => Err(problems),
    })
}

/// Writes a checked item (and, in a published plan, the change with its reason); its id.
async fn insert_checked(
    work: &mut Work<'_>,
    d: &PlanDetail,
    item: &CheckedItem,
    reason: &str,
) -> Result<i64, AppError> {
    let now = work.now();
    let new = store::NewItem {
        start: item.start,
        end: item.end,
        site: &item.site,
        work_kind: item.work_kind,
        team: item.team.id,
        leader: item.leader,
        people: &item.people,
        outage: item.outage,
        note: item.note.as_deref(),
    };
    let item_id = store::insert_item(work.conn(), d.plan.id, &new, now).await?;
    if d.plan.state == PlanState::Published {
        let by = work.actor().name.clone();
        store::record_change(work.conn(), d.plan.id, Some(item_id), "item_added", trim_blank(reason), &by, now).await?;
    }
    Ok(item_id)
}

/// Adds an item to a plan; its id. In a published plan the change needs its reason and is
/// recorded.
pub async fn add_item(
    app: &App,
    cap: &Capability<perm::PlansWrite>,
    meta: &RequestMeta,
    plan_id: i64,
    input: ItemInput,
) -> Result<i64, AppError> {
    let team = unit_by_id(app, input.team_id).await?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = editable(&mut work, cap, plan_id, &input.reason).await?;
    let item = check_item(work.conn(), &d, &input, team).await?.map_err(AppError::Invalid)?;
    let item_id = insert_checked(&mut work, &d, &item, &input.reason).await?;
    let published = d.plan.state == PlanState::Published;
    work.audit(NewEvent::new("plan.item_added", "work_plan", plan_id).unit(d.plan.unit_id).summary(
        serde_json::json!({
            "item": item_id, "site": item.site, "start": item.start.to_db(), "end": item.end.to_db(),
            "team": item.team.name, "people": item.people.len(),
            "reason": published.then(|| trim_blank(&input.reason)),
        }),
    ))
    .await?;
    work.commit().await?;
    Ok(item_id)
}

/// Removes an item; in a published plan with its reason, recorded.
pub async fn remove_item(
    app: &App,
    cap: &Capability<perm::PlansWrite>,
    meta: &RequestMeta,
    plan_id: i64,
    item_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = editable(&mut work, cap, plan_id, reason).await?;
    let now = work.now();
    // A ticket or an outage that names the item keeps it: change those first.
    if store::item_in_use(work.conn(), item_id).await? {
        return Err(AppError::Conflict("conflict-plan-item-in-use"));
    }
    if !store::delete_item(work.conn(), plan_id, item_id).await? {
        return Err(AppError::NotFound);
    }
    let published = d.plan.state == PlanState::Published;
    if published {
        store::record_change(
            work.conn(),
            plan_id,
            Some(item_id),
            "item_removed",
            trim_blank(reason),
            &cap.actor().name,
            now,
        )
        .await?;
    }
    work.audit(
        NewEvent::new("plan.item_removed", "work_plan", plan_id)
            .unit(d.plan.unit_id)
            .summary(serde_json::json!({ "item": item_id, "reason": published.then(|| trim_blank(reason)) })),
    )
    .await?;
    work.commit().await
}

/// A shared site to merge, as entered: the day, the site as written, the organiser's 工号 and
/// the teams' shared safety measures.
#[derive(Debug, Clone, Default)]
pub struct MergeInput {
    pub day: String,
    pub site: String,
    pub organiser: String,
    pub measures: String,
}

/// Merges a shared site of a plan under an organiser with the teams' shared measures.
pub async fn merge_site(
    app: &App,
    cap: &Capability<perm::PlansWrite>,
    meta: &RequestMeta,
    plan_id: i64,
    input: &MergeInput,
) -> Result<(), AppError> {
    let MergeInput { day, site, organiser, measures } = input;
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::Invalid(vec![FieldProblem::new("day", "field-date").with("value", day.trim())]))?;
    if measures.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("measures", "field-name-length").with("max", 2000)]));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(work.conn(), cap, plan_id, true).await?;
    // Merged while a draft or waiting for publication; a published plan is frozen.
    if d.plan.state == PlanState::Published {
        return Err(Violation::of(rules::PLAN_FROZEN).into());
    }
    let key = plans::site_key(site);
    let shared = d
        .conflicts
        .iter()
        .any(|c| matches!(c, Conflict::SharedSite { day: on, site: s, .. } if *on == day && *s == key));
    if !shared {
        return Err(AppError::invalid("site", "field-plan-not-shared"));
    }
    let organiser_id = gridsafe_store::people::id_by_code(work.conn(), organiser.trim()).await?;
    let facts = match organiser_id {
        Some(id) => gridsafe_store::people::facts(work.conn(), &[id]).await?.remove(&id).map(|p| p.facts),
        None => None,
    };
    let merge = Merge {
        day,
        site: key,
        organiser: organiser_id.unwrap_or_default(),
        measures: trim_blank(measures).to_owned(),
    };
    plans::check_merge(&merge, facts.as_ref(), &app.people_config().role_rules()).map_err(AppError::Rules)?;
    let now = work.now();
    store::save_merge(work.conn(), plan_id, &merge, &cap.actor().name, now).await?;
    work.audit(NewEvent::new("plan.site_merged", "work_plan", plan_id).unit(d.plan.unit_id).summary(
        serde_json::json!({
            "day": day.to_string(), "site": merge.site, "organiser": organiser.trim(), "measures": merge.measures,
        }),
    ))
    .await?;
    work.commit().await
}

/// Approves, publishes or returns a plan: the plan, its items and merges are read with its row
/// held, so two steps at once cannot both pass, and a merge cannot slip in between.
pub async fn take_step(
    app: &App,
    cap: &Capability<perm::PlansApprove>,
    meta: &RequestMeta,
    plan_id: i64,
    step: PlanStep,
    reason: &str,
) -> Result<PlanState, AppError> {
    if step == PlanStep::Return && trim_blank(reason).is_empty() {
        return Err(AppError::invalid("reason", "field-required"));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(work.conn(), cap, plan_id, true).await?;
    let by_author = d.plan.created_by_user.is_some() && d.plan.created_by_user == cap.actor().user_id;
    let facts: Vec<plans::Item> = d.items.iter().map(|i| i.item.clone()).collect();
    let next = plans::check_step(d.plan.state, step, by_author, &facts, &d.merges).map_err(AppError::Rules)?;
    let now = work.now();
    if !store::set_state(work.conn(), plan_id, d.plan.state, next, &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-plan-changed"));
    }
    work.audit(NewEvent::new(step_action(step), "work_plan", plan_id).unit(d.plan.unit_id).summary(
        serde_json::json!({
            "from": d.plan.state.code(), "to": next.code(), "items": d.items.len(),
            "reason": (step == PlanStep::Return).then(|| trim_blank(reason)),
        }),
    ))
    .await?;
    work.commit().await?;
    Ok(next)
}

fn step_action(step: PlanStep) -> &'static str {
    match step {
        PlanStep::Approve => "plan.approved",
        PlanStep::Publish => "plan.published",
        PlanStep::Return => "plan.returned",
    }
}

/// One day of a unit's week: its plan items, outages and tickets.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub items: Vec<DayItem>,
    pub outages: Vec<crate::outages::OutageRow>,
    pub tickets: Vec<crate::tickets::TicketRow>,
}

/// The seven days from `monday` as the calendar shows them: plan items in reach, and the
/// outages and tickets of those who may see them (`None`: not shown).
pub async fn week(
    app: &App,
    cap: &Capability<perm::PlansView>,
    outages: Option<&Capability<perm::OutagesView>>,
    tickets: Option<&Capability<perm::TicketsView>>,
    monday: NaiveDate,
) -> Result<Vec<Day>, AppError> {
    use gridsafe_domain::time::Timestamp;
    let from = Timestamp::start_of_local_day(monday);
    let to = Timestamp::start_of_local_day(monday + chrono::Duration::days(7));
    let items = store::items_between(&mut *app.db().read().await?, cap.scope(), from, to, 2000).await?;
    let outages = match outages {
        Some(c) => crate::outages::list_outages(app, c, from, to).await?,
        None => Vec::new(),
    };
    let tickets = match tickets {
        Some(c) => {
            let filter = crate::tickets::TicketFilter { starting: Some((from, to)), ..Default::default() };
            crate::tickets::list_tickets(app, c, &filter, 2000).await?
        }
        None => Vec::new(),
    };
    Ok((0..7)
        .map(|n| {
            let date = monday + chrono::Duration::days(n);
            let mut day_tickets: Vec<crate::tickets::TicketRow> =
                tickets.iter().filter(|t| t.planned_start.local_date() == date).cloned().collect();
            day_tickets.sort_by_key(|t| t.planned_start);
            Day {
                date,
                items: items.iter().filter(|i| i.start.local_date() == date).cloned().collect(),
                outages: outages.iter().filter(|o| o.start.local_date() == date).cloned().collect(),
                tickets: day_tickets,
            }
        })
        .collect())
}
