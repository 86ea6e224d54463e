//! Work tickets and cards (工作票/工作卡): drafts, the lifecycle, evaluation.
//!
//! A ticket belongs to a unit and is seen by those whose `tickets.*` capability reaches it.
//! Drafts are filled in freely (`tickets.write`); from then on it changes only by lifecycle
//! steps (`tickets.sign`), each taken by the person linked to the signed-in account, checked by
//! the domain's state machine and signed in `ticket_steps`.

mod catalogue;
mod evaluation;
mod steps;

pub use catalogue::{
    DocumentTypeInput, DocumentTypeRow, EvalReason, HazardTemplate, add_document_type, add_hazard_template,
    delete_hazard_template, document_type, document_types, eval_reasons, hazard_templates, save_document_type,
    save_eval_reason,
};
pub use evaluation::{UnitMonth, evaluate, month_stats};
pub(crate) use steps::take_step_by;
pub use steps::{PersonCheck, StepInput, lapse_overdue, parse_step, people_check, preview_steps, step_kind, take_step};

use gridsafe_domain::access::{Actor, Capability, PermissionMarker, perm};
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::orders::{ORDER_TYPES, OrderType};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::{DocumentType, Planning, State};
use gridsafe_domain::time::Timestamp;
use gridsafe_store::tickets as store;
use serde::Serialize;

use crate::audit::NewEvent;
use crate::identity::unit_by_id;
use crate::{App, AppError, FieldProblem, RequestMeta, Work};

/// The order type of `marketing-export.md` named by its code or Chinese name.
pub fn order_type(text: &str) -> Option<&'static str> {
    OrderType::parse(text).map(OrderType::code)
}

/// Every order type code, in the export's order.
pub fn order_types() -> Vec<&'static str> {
    ORDER_TYPES.iter().map(|(c, _, _)| *c).collect()
}

pub use gridsafe_store::tickets::{
    CrewMember, Hazard, OrderLink, PersonRef, PlanItemRef, StepRecord, TicketPlan, TicketRow,
};

/// A ticket with everything on it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub row: TicketRow,
    pub doc: DocumentType,
    pub content: String,
    pub voltage_kv: Option<f64>,
    pub issuer: Option<PersonRef>,
    pub co_issuer: Option<PersonRef>,
    pub co_signed_at: Option<String>,
    pub leader: Option<PersonRef>,
    pub permitter: Option<PersonRef>,
    pub crew: Vec<CrewMember>,
    pub hazards: Vec<Hazard>,
    pub orders: Vec<OrderLink>,
    pub survey: Option<String>,
    pub survey_at: Option<String>,
    pub survey_by: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub steps: Vec<StepRecord>,
    pub verdict_reasons: Vec<String>,
    pub evaluated_by: Option<String>,
    pub evaluated_at: Option<String>,
    pub evaluation_note: Option<String>,
    /// Tickets of these order types must all be evaluated.
    pub must_evaluate: bool,
    /// The plan item it carries out, or why it is unplanned and who approved that.
    pub plan: TicketPlan,
    /// Whether, naming no plan item, it needs the manager's approval before issue (the setting
    /// and its document type).
    pub unplanned_needs_approval: bool,
    /// Its risk grade (作业风险等级) and the conditions that raised it.
    pub risk: gridsafe_domain::risk::Grade,
    /// Who must be on site at its grade (到岗到位), and the managers' recorded stays.
    pub on_site: OnSiteDetail,
    /// The open customer projects (业扩) of its customer, when its work gives supply (装表接电,
    /// 送电): the energising gate.
    pub projects: Vec<gridsafe_domain::projects::Gate>,
}

/// A ticket's on-site supervision: the roles one of which must be on site at its grade, whether
/// 开工 waits for one (the setting), and who came and left.
#[derive(Debug, Clone, Serialize)]
pub struct OnSiteDetail {
    pub required: Vec<String>,
    pub start_waits: bool,
    pub stays: Vec<gridsafe_store::supervision::Stay>,
    /// The on-site checks of its site (现场检查), latest first.
    pub checks: Vec<gridsafe_store::supervision::CheckRow>,
}

impl OnSiteDetail {
    /// What the start rule decides on; `gated` false leaves the requirement out (reported as a
    /// finding instead, when the setting is off).
    pub fn facts(&self, grade: u8, gated: bool) -> gridsafe_domain::supervision::OnSite {
        gridsafe_domain::supervision::OnSite {
            grade,
            required: if gated { self.required.clone() } else { Vec::new() },
            present: self
                .stays
                .iter()
                .map(|s| gridsafe_domain::supervision::Presence {
                    who: s.who.clone(),
                    roles: s.roles.clone(),
                    arrived: s.arrived_at,
                    departed: s.departed_at,
                })
                .collect(),
        }
    }

    /// Whether someone is on site now-ish: a stay not ended.
    pub fn open(&self) -> impl Iterator<Item = &gridsafe_store::supervision::Stay> {
        self.stays.iter().filter(|s| s.departed_at.is_none())
    }
}

impl TicketDetail {
    /// What the lifecycle needs to know.
    pub fn facts(&self) -> gridsafe_domain::tickets::Ticket {
        gridsafe_domain::tickets::Ticket {
            state: self.row.state,
            doc: self.doc.clone(),
            issuer: self.issuer.as_ref().map(|p| p.id),
            co_issuer: self.co_issuer.as_ref().map(|p| p.id),
            co_signed: self.co_signed_at.is_some(),
            leader: self.leader.as_ref().map(|p| p.id),
            permitter: self.permitter.as_ref().map(|p| p.id),
            crew: self.crew.iter().map(|c| c.person.id).collect(),
            acknowledged: self.crew.iter().filter(|c| c.acknowledged_at.is_some()).map(|c| c.person.id).collect(),
            planned_start: self.row.planned_start,
            planned_end: self.row.planned_end,
            extended_to: self.row.extended_to,
            permitted_at: self.row.permitted,
            work_ended_at: self.row.work_ended,
            finished_at: self.row.finished,
            hazards: self.hazards.len(),
            survey_done: self.survey.is_some(),
            work_kind: self.row.work_kind,
            order_types: self.orders.iter().filter_map(|o| OrderType::parse(&o.order_type)).collect(),
            voltage_kv: self.voltage_kv,
            customer: self.row.customer_id.clone(),
            planning: match &self.plan.item {
                Some(item) => Planning::Item {
                    day: item.start.local_date(),
                    published: item.plan_state == gridsafe_domain::plans::PlanState::Published,
                },
                None => Planning::Unplanned {
                    approved: self.plan.approved_at.is_some(),
                    required: self.unplanned_needs_approval,
                },
            },
            on_site: self.on_site.facts(self.risk.level, self.on_site.start_waits),
            projects: self.projects.clone(),
        }
    }

    /// Everyone the ticket names, in its roles.
    pub fn people(&self) -> Vec<&PersonRef> {
        [&self.issuer, &self.co_issuer, &self.leader, &self.permitter]
            .into_iter()
            .flatten()
            .chain(self.crew.iter().map(|c| &c.person))
            .collect()
    }
}

/// The units a ticket capability reaches.
pub trait TicketReach: PermissionMarker {}
impl TicketReach for perm::TicketsView {}
impl TicketReach for perm::TicketsWrite {}
impl TicketReach for perm::TicketsSign {}
impl TicketReach for perm::TicketsEvaluate {}
/// The unit's manager approves unplanned work on the tickets of the units his plans reach.
impl TicketReach for perm::PlansApprove {}
impl TicketReach for perm::SupervisionAttend {}
impl TicketReach for perm::ViolationsRecord {}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub state: Option<State>,
    /// Part of the number, customer, location or leader.
    pub query: Option<String>,
    /// Executed tickets without a verdict (the evaluation backlog).
    pub unevaluated: bool,
    /// Only tickets naming this person.
    pub person: Option<PersonId>,
    /// Only tickets planned to start in `[from, to)`.
    pub starting: Option<(Timestamp, Timestamp)>,
    /// Only drafts of unplanned work whose reason waits for the manager's approval.
    pub awaiting_unplanned: bool,
    /// Only tickets of this unit and those below it (within reach).
    pub unit: Option<gridsafe_domain::ids::UnitId>,
    /// Oldest planned start first (the default is newest first).
    pub oldest_first: bool,
    /// Where a page starts: after this ticket (its planned start and id) in the list's order.
    pub after: Option<(Timestamp, TicketId)>,
}

/// Tickets in reach, newest first.
pub async fn list_tickets<P: TicketReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &TicketFilter,
    limit: u32,
) -> Result<Vec<TicketRow>, AppError> {
    let (scope, filter) = selection(app, cap, filter).await?;
    let mut conn = app.db().read().await?;
    Ok(store::list(&mut conn, &scope, &filter, limit).await?)
}

/// How many tickets in reach the filter selects (all pages).
pub async fn count_tickets<P: TicketReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &TicketFilter,
) -> Result<i64, AppError> {
    let (scope, filter) = selection(app, cap, filter).await?;
    Ok(store::count(&mut *app.db().read().await?, &scope, &filter).await?)
}

/// The units a list covers (a chosen unit within reach, or all of it) and the store's filter.
async fn selection<P: TicketReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &TicketFilter,
) -> Result<(Vec<gridsafe_domain::access::UnitPath>, store::Filter), AppError> {
    let scope = match filter.unit {
        Some(unit) => {
            let unit = crate::identity::unit_by_id(app, unit).await?.ok_or(AppError::NotFound)?;
            cap.check(&unit.path)?;
            vec![unit.path]
        }
        None => cap.scope().to_vec(),
    };
    let stored = store::Filter {
        state: filter.state,
        pattern: crate::search::contains("q", filter.query.as_deref())?,
        unevaluated: filter.unevaluated,
        person: filter.person,
        starting: filter.starting,
        awaiting_unplanned: filter.awaiting_unplanned,
        oldest_first: filter.oldest_first,
        after: filter.after,
    };
    Ok((scope, stored))
}

/// One ticket in reach, with everything on it.
pub async fn ticket<P: TicketReach>(app: &App, cap: &Capability<P>, id: TicketId) -> Result<TicketDetail, AppError> {
    let mut conn = app.db().read().await?;
    load(app, &mut conn, cap, id, false).await
}

/// Ticket `id` read on `conn`, refused unless `cap` reaches its unit; with `hold`, held until
/// the transaction ends. A fixed number of statements however long its lists.
pub(crate) async fn load<P: TicketReach>(
    app: &App,
    conn: &mut gridsafe_store::Conn,
    cap: &Capability<P>,
    id: TicketId,
    hold: bool,
) -> Result<TicketDetail, AppError> {
    let s = store::get(conn, id, hold).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &s.row.unit_path)?;
    let doc = store::document_type(conn, &s.row.type_code).await?.ok_or(AppError::NotFound)?.doc;
    let lists = store::lists(conn, id).await?;
    let named: Vec<PersonId> =
        [s.issuer_id, s.co_issuer_id, s.leader_id, s.permitter_id].into_iter().flatten().collect();
    let people = store::people(conn, &named).await?;
    let person = |id: Option<PersonId>| id.and_then(|i| people.get(&i).cloned());
    let must = app.tickets_config().must_evaluate_set();
    let must_evaluate = std::iter::once(s.row.work_kind)
        .chain(lists.orders.iter().filter_map(|o| OrderType::parse(&o.order_type)))
        .any(|k| must.contains(k));
    let (important_customer, outage) = store::risk_facts(conn, id, s.row.customer_id.as_deref()).await?;
    let work = gridsafe_domain::risk::Work {
        kind: s.row.work_kind,
        voltage_kv: s.voltage_kv,
        live_work: doc.live_work,
        contractor_crew: s
            .leader_id
            .and_then(|l| people.get(&l))
            .into_iter()
            .chain(lists.crew.iter().map(|c| &c.person))
            .any(|p| p.contractor.is_some()),
        important_customer,
        several_teams: false,
        outage,
    };
    let risk = gridsafe_domain::risk::grade(&work, &app.plans_config().risk_table());
    let on_site = OnSiteDetail {
        required: app.plans_config().onsite_table().required(risk.level).to_vec(),
        start_waits: app.plans_config().start_needs_onsite,
        stays: gridsafe_store::supervision::stays(conn, id).await?,
        checks: gridsafe_store::supervision::checks_of(conn, id).await?,
    };
    let energises = std::iter::once(s.row.work_kind)
        .chain(lists.orders.iter().filter_map(|o| OrderType::parse(&o.order_type)))
        .any(OrderType::energises);
    // The gate decides 许可 only, which a received ticket waits for.
    let projects = match (&s.row.customer_id, energises && s.row.state == gridsafe_domain::tickets::State::Received) {
        (Some(customer), true) => crate::projects::gates(conn, customer).await?,
        _ => Vec::new(),
    };
    Ok(TicketDetail {
        on_site,
        projects,
        doc,
        content: s.content,
        voltage_kv: s.voltage_kv,
        issuer: person(s.issuer_id),
        co_issuer: person(s.co_issuer_id),
        co_signed_at: s.co_signed_at,
        leader: person(s.leader_id),
        permitter: person(s.permitter_id),
        survey: s.survey,
        survey_at: s.survey_at,
        survey_by: s.survey_by,
        finished_at: s.finished_at,
        finish_reason: s.finish_reason,
        evaluated_by: s.evaluated_by,
        evaluated_at: s.evaluated_at,
        evaluation_note: s.evaluation_note,
        crew: lists.crew,
        hazards: lists.hazards,
        orders: lists.orders,
        steps: lists.steps,
        verdict_reasons: lists.verdict_reasons,
        must_evaluate,
        unplanned_needs_approval: app.plans_config().unplanned_needs_approval(&s.row.type_code),
        risk,
        plan: s.plan,
        row: s.row,
    })
}

/// A draft as filled in: people by 工号, times as local wall-clock text.
#[derive(Debug, Clone, Default)]
pub struct TicketInput {
    pub type_code: String,
    pub unit_id: UnitId,
    /// The kind of work (an order type), which picks the hazard templates.
    pub work_kind: String,
    pub customer_id: String,
    pub customer_name: String,
    pub location: String,
    pub content: String,
    pub voltage_kv: String,
    pub planned_start: String,
    pub planned_end: String,
    pub issuer: String,
    pub co_issuer: String,
    pub leader: String,
    pub permitter: String,
    /// 工号 separated by spaces, commas or semicolons.
    pub crew: String,
    /// Work orders as `ID:type` (type as code or Chinese name), separated by spaces, commas,
    /// semicolons or lines.
    pub orders: String,
    /// The id of the plan item the ticket carries out; empty for unplanned work.
    pub plan_item: String,
    /// Why the work is not in the plan (计划外作业), when it names no plan item.
    pub unplanned_reason: String,
}

/// A draft after its fields were checked.
struct Draft {
    doc: DocumentType,
    unit: crate::identity::Unit,
    work_kind: OrderType,
    customer_id: Option<String>,
    customer_name: Option<String>,
    location: String,
    content: String,
    voltage_kv: Option<f64>,
    start: Timestamp,
    end: Timestamp,
    issuer: Option<PersonId>,
    co_issuer: Option<PersonId>,
    leader: Option<PersonId>,
    permitter: Option<PersonId>,
    crew: Vec<PersonId>,
    orders: Vec<(String, OrderType)>,
    plan_item: Option<i64>,
    unplanned_reason: Option<String>,
}

pub(crate) fn local_time(field: &'static str, text: &str, problems: &mut Vec<FieldProblem>) -> Option<Timestamp> {
    let cell = gridsafe_sheet::Cell::Text(text.trim().to_owned());
    match gridsafe_sheet::parse_datetime(&cell) {
        Ok(local) => Some(Timestamp::from_local(local)),
        Err(_) => {
            problems.push(FieldProblem::new(field, "field-datetime").with("value", text.trim()));
            None
        }
    }
}

pub(crate) fn split_items(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', ';', '\n', '\r', '\t', '，', '；', '、']).map(str::trim).filter(|s| !s.is_empty())
}

/// The person with this 工号, if any.
async fn person_by_code(
    app: &App,
    field: &'static str,
    code: &str,
    problems: &mut Vec<FieldProblem>,
) -> Result<Option<PersonId>, AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let id = gridsafe_store::people::id_by_code(&mut *app.db().read().await?, code).await?;
    if id.is_none() {
        problems.push(FieldProblem::new(field, "field-person-code").with("value", code));
    }
    Ok(id)
}

async fn check_draft(app: &App, input: &TicketInput) -> Result<Draft, AppError> {
    let mut problems = Vec::new();
    let doc = document_type(app, input.type_code.trim()).await?.filter(|d| d.active);
    if doc.is_none() {
        problems.push(FieldProblem::new("type_code", "field-ticket-type"));
    }
    let work_kind = OrderType::parse(&input.work_kind);
    if work_kind.is_none() {
        problems.push(FieldProblem::new("work_kind", "field-order-type").with("value", input.work_kind.trim()));
    }
    let unit = unit_by_id(app, input.unit_id).await?;
    if unit.is_none() {
        problems.push(FieldProblem::new("unit_id", "field-unit"));
    }
    for (field, text, max) in [("location", &input.location, 200), ("content", &input.content, 1000)] {
        if trim_blank(text).is_empty() {
            problems.push(FieldProblem::new(field, "field-required"));
        } else if text.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
    }
    for (field, text) in [("customer_id", &input.customer_id), ("customer_name", &input.customer_name)] {
        if text.chars().count() > 100 {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", 100));
        }
    }
    let stated = match input.voltage_kv.trim() {
        "" => None,
        v => match v.parse::<f64>() {
            Ok(kv) if kv.is_finite() && kv > 0.0 && kv <= 1000.0 => Some(kv),
            _ => {
                problems.push(FieldProblem::new("voltage_kv", "field-voltage").with("value", v));
                None
            }
        },
    };
    // A registered customer's voltage is the register's: the licence check never goes without it.
    let registered = match trim_blank(&input.customer_id) {
        "" => None,
        no => crate::customers::registered_customer(app, no).await?,
    };
    let voltage_kv = match (&registered, stated) {
        (Some(c), Some(v)) if (c.voltage_kv - v).abs() > 1e-9 => {
            problems.push(
                FieldProblem::new("voltage_kv", "field-voltage-register")
                    .with("value", v)
                    .with("register", c.voltage_kv),
            );
            None
        }
        (Some(c), _) => Some(c.voltage_kv),
        (None, v) => v,
    };
    let start = local_time("planned_start", &input.planned_start, &mut problems);
    let end = local_time("planned_end", &input.planned_end, &mut problems);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        problems.push(FieldProblem::new("planned_end", "field-window"));
    }
    let issuer = person_by_code(app, "issuer", &input.issuer, &mut problems).await?;
    let co_issuer = person_by_code(app, "co_issuer", &input.co_issuer, &mut problems).await?;
    let leader = person_by_code(app, "leader", &input.leader, &mut problems).await?;
    let permitter = person_by_code(app, "permitter", &input.permitter, &mut problems).await?;
    let mut crew = Vec::new();
    for code in split_items(&input.crew) {
        if let Some(id) = person_by_code(app, "crew", code, &mut problems).await?
            && !crew.contains(&id)
        {
            crew.push(id);
        }
    }
    let mut orders: Vec<(String, OrderType)> = Vec::new();
    for item in split_items(&input.orders) {
        let parsed = item.split_once([':', '：']).and_then(|(id, kind)| Some((id.trim(), OrderType::parse(kind)?)));
        match parsed {
            Some((id, kind)) if (1..=40).contains(&id.chars().count()) => {
                if !orders.iter().any(|(o, _)| o == id) {
                    orders.push((id.to_owned(), kind));
                }
            }
            _ => problems.push(FieldProblem::new("orders", "field-order").with("value", item)),
        }
    }
    let plan_item = check_plan_item(app, input, unit.as_ref(), &mut problems).await?;
    let unplanned_reason = trim_blank(&input.unplanned_reason);
    if input.unplanned_reason.chars().count() > 500 {
        problems.push(FieldProblem::new("unplanned_reason", "field-name-length").with("max", 500));
    } else if plan_item.is_some() && !unplanned_reason.is_empty() {
        problems.push(FieldProblem::new("unplanned_reason", "field-unplanned-with-item"));
    }
    match (doc, work_kind, unit, start, end) {
        (Some(doc), Some(work_kind), Some(unit), Some(start), Some(end)) if problems.is_empty() => {
            let opt = |s: &str| (!trim_blank(s).is_empty()).then(|| trim_blank(s).to_owned());
            Ok(Draft {
                doc: doc.doc,
                unit,
                work_kind,
                customer_id: opt(&input.customer_id),
                customer_name: opt(&input.customer_name).or_else(|| registered.map(|c| c.name)),
                location: trim_blank(&input.location).to_owned(),
                content: trim_blank(&input.content).to_owned(),
                voltage_kv,
                start,
                end,
                issuer,
                co_issuer,
                leader,
                permitter,
                crew,
                orders,
                plan_item,
                unplanned_reason: opt(unplanned_reason),
            })
        }
        _ => Err(AppError::Invalid(problems)),
    }
}

/// The plan item a draft names, by its id: one of a plan of the ticket's unit or a unit above it.
async fn check_plan_item(
    app: &App,
    input: &TicketInput,
    unit: Option<&crate::identity::Unit>,
    problems: &mut Vec<FieldProblem>,
) -> Result<Option<i64>, AppError> {
    let text = input.plan_item.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let item = match text.parse::<i64>() {
        Ok(id) if id > 0 => gridsafe_store::plans::item(&mut *app.db().read().await?, id).await?,
        _ => None,
    };
    let belongs = |i: &PlanItemRef| unit.is_none_or(|u| u.path.as_str().starts_with(i.unit_path.as_str()));
    match item {
        Some(i) if belongs(&i) => Ok(Some(i.id)),
        _ => {
            problems.push(FieldProblem::new("plan_item", "field-plan-item").with("value", text));
            Ok(None)
        }
    }
}

/// The plan items a ticket may name: of published plans in reach, from a week ago for four weeks.
pub async fn plan_item_choices<P: TicketReach>(app: &App, cap: &Capability<P>) -> Result<Vec<PlanItemRef>, AppError> {
    let from = Timestamp::start_of_local_day(app.today() - chrono::Duration::days(7));
    let to = Timestamp::start_of_local_day(app.today() + chrono::Duration::days(21));
    let mut conn = app.db().read().await?;
    let by = gridsafe_store::plans::Nameable::ByTicket;
    Ok(gridsafe_store::plans::nameable_items(&mut conn, cap.scope(), by, from, to, 300).await?)
}

/// Approves the unplanned work of a draft (计划外作业): by the unit's manager, once, not by the
/// one who wrote its reason.
pub async fn approve_unplanned(
    app: &App,
    cap: &Capability<perm::PlansApprove>,
    meta: &RequestMeta,
    id: TicketId,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = load(app, work.conn(), cap, id, true).await?;
    let actor = cap.actor();
    check_approval(&t, actor).map_err(AppError::Rule)?;
    let now = work.now();
    if !store::approve_unplanned(work.conn(), id, &actor.name, now).await? {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    work.audit(NewEvent::new("ticket.unplanned_approved", "ticket", id).unit(t.row.unit_id).summary(
        serde_json::json!({ "number": t.row.number, "reason": t.plan.unplanned_reason, "written_by": t.plan.unplanned_by }),
    ))
    .await?;
    work.commit().await
}

/// Whether `actor` may approve the unplanned work of `t` by the rules (the domain's check, with
/// whether the actor wrote the reason).
fn check_approval(t: &TicketDetail, actor: &Actor) -> Result<(), gridsafe_domain::rules::Violation> {
    let wrote_reason = match (t.plan.unplanned_by_user, actor.user_id) {
        (Some(writer), Some(me)) => writer == me,
        _ => t.plan.unplanned_by.as_deref() == Some(actor.name.as_str()),
    };
    gridsafe_domain::tickets::lifecycle::check_unplanned_approval(
        &t.facts(),
        t.plan.unplanned_reason.as_deref(),
        t.plan.approved_by.as_deref(),
        wrote_reason,
    )
}

/// Whether `principal` may approve the unplanned work of `t` now: to offer the action only
/// where the rules allow it.
pub fn may_approve_unplanned(t: &TicketDetail, principal: &gridsafe_domain::access::Principal) -> bool {
    principal
        .authorize::<perm::PlansApprove>()
        .is_ok_and(|cap| crate::identity::check_stored_path(&cap, &t.row.unit_path).is_ok())
        && check_approval(t, principal.actor()).is_ok()
}

impl Draft {
    fn fields<'a>(&'a self, actor: &'a Actor) -> store::DraftFields<'a> {
        store::DraftFields {
            unit_id: self.unit.id,
            work_kind: self.work_kind,
            customer_id: self.customer_id.as_deref(),
            customer_name: self.customer_name.as_deref(),
            location: &self.location,
            content: &self.content,
            voltage_kv: self.voltage_kv,
            start: self.start,
            end: self.end,
            issuer: self.issuer,
            co_issuer: self.co_issuer,
            leader: self.leader,
            permitter: self.permitter,
            crew: &self.crew,
            orders: &self.orders,
            plan_item: self.plan_item,
            unplanned: self.unplanned_reason.as_deref().map(|reason| store::Unplanned {
                reason,
                by: &actor.name,
                by_user: actor.user_id,
            }),
        }
    }
}

fn draft_summary(number: &str, d: &Draft) -> serde_json::Value {
    serde_json::json!({
        "number": number, "type": d.doc.code, "work_kind": d.work_kind.code(), "customer_id": d.customer_id,
        "planned_start": d.start.to_db(), "planned_end": d.end.to_db(), "issuer": d.issuer, "co_issuer": d.co_issuer,
        "leader": d.leader, "permitter": d.permitter, "crew": d.crew,
        "orders": d.orders.iter().map(|(o, k)| format!("{o}:{}", k.code())).collect::<Vec<_>>(),
        "plan_item": d.plan_item, "unplanned_reason": d.unplanned_reason,
    })
}

/// Opens a draft (填写) with the next number of its type and the hazard points of its kind of
/// work from the templates.
pub async fn create_ticket(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    input: TicketInput,
) -> Result<TicketId, AppError> {
    let d = check_draft(app, &input).await?;
    cap.check(&d.unit.path)?;
    let templates = hazard_templates(app, Some(d.work_kind.code())).await?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let number = gridsafe_store::numbers::next(work.conn(), &d.doc.prefix, now.local_date()).await?;
    let id =
        store::insert_draft(work.conn(), &number, &d.doc.code, &cap.actor().name, &d.fields(cap.actor()), now).await?;
    for t in &templates {
        store::add_hazard(work.conn(), id, &t.hazard, &t.measure).await?;
    }
    work.audit(NewEvent::new("ticket.created", "ticket", id).unit(d.unit.id).summary(draft_summary(&number, &d)))
        .await?;
    work.commit().await?;
    Ok(id)
}

/// The draft in reach, held for this unit of work, refused unless it is still a draft.
async fn draft_in_reach(
    app: &App,
    work: &mut Work<'_>,
    cap: &Capability<perm::TicketsWrite>,
    id: TicketId,
) -> Result<TicketDetail, AppError> {
    let t = load(app, work.conn(), cap, id, true).await?;
    if t.row.state != State::Draft {
        return Err(AppError::Rule(
            gridsafe_domain::rules::Violation::of(gridsafe_domain::rules::TICKET_STATE)
                .with("step", "edit")
                .with("state", t.row.state.code()),
        ));
    }
    Ok(t)
}

/// Changes a draft. After issue a ticket changes only by lifecycle steps.
pub async fn update_draft(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: TicketId,
    input: TicketInput,
) -> Result<(), AppError> {
    let d = check_draft(app, &input).await?;
    cap.check(&d.unit.path)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let before = draft_in_reach(app, &mut work, cap, id).await?;
    if d.doc.code != before.doc.code {
        return Err(AppError::invalid("type_code", "field-ticket-type-fixed"));
    }
    let now = work.now();
    if !store::update_draft(work.conn(), id, &d.fields(cap.actor()), now).await? {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    work.audit(
        NewEvent::new("ticket.updated", "ticket", id).unit(d.unit.id).summary(draft_summary(&before.row.number, &d)),
    )
    .await?;
    work.commit().await
}

/// Adds a hazard point with its pre-control measure to a draft.
pub async fn add_hazard(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: TicketId,
    hazard: &str,
    measure: &str,
) -> Result<i64, AppError> {
    let (hazard, measure) = catalogue::check_hazard(hazard, measure)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = draft_in_reach(app, &mut work, cap, id).await?;
    let hid = store::add_hazard(work.conn(), id, &hazard, &measure).await?;
    work.audit(
        NewEvent::new("ticket.hazard_added", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": t.row.number, "hazard": hazard, "measure": measure })),
    )
    .await?;
    work.commit().await?;
    Ok(hid)
}

pub async fn delete_hazard(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: TicketId,
    hazard_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let reason = crate::stated_reason("reason", reason)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = draft_in_reach(app, &mut work, cap, id).await?;
    if !store::delete_hazard(work.conn(), id, hazard_id).await? {
        return Err(AppError::NotFound);
    }
    work.audit(
        NewEvent::new("ticket.hazard_removed", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": t.row.number, "hazard_id": hazard_id, "reason": reason })),
    )
    .await?;
    work.commit().await
}

/// Records the site survey (现场勘察记录) of a draft.
pub async fn record_survey(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: TicketId,
    record: &str,
) -> Result<(), AppError> {
    let n = trim_blank(record).chars().count();
    if n == 0 || record.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("survey", "field-name-length").with("max", 2000)]));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = draft_in_reach(app, &mut work, cap, id).await?;
    let now = work.now();
    store::record_survey(work.conn(), id, trim_blank(record), &cap.actor().name, now).await?;
    work.audit(
        NewEvent::new("ticket.surveyed", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": t.row.number, "characters": n })),
    )
    .await?;
    work.commit().await
}

/// The person linked to the account acting, if any.
pub async fn person_of(app: &App, actor: &Actor) -> Result<Option<PersonId>, AppError> {
    let Some(user) = actor.user_id else { return Ok(None) };
    Ok(gridsafe_store::people::id_of_user(&mut *app.db().read().await?, user).await?)
}

/// The person linked to the account acting, as named on tickets.
pub async fn own_person(app: &App, actor: &Actor) -> Result<Option<PersonRef>, AppError> {
    let Some(id) = person_of(app, actor).await? else { return Ok(None) };
    let mut conn = app.db().read().await?;
    Ok(store::people(&mut conn, &[id]).await?.remove(&id))
}

/// A ticket waiting for the signed-in person's step.
#[derive(Debug, Clone, Serialize)]
pub struct Awaiting {
    pub ticket: TicketRow,
    pub steps: Vec<&'static str>,
    /// Left at 工作终结 past its validity: the permit giver's closing is late.
    pub late: bool,
}

/// Tickets waiting for the person linked to the caller to take a step on the main path (签发,
/// 接票, 许可, 交底确认, 开工, 工作终结, 终结 …), with those steps: the field worker's to-do list,
/// late ones first.
pub async fn awaiting(app: &App, cap: &Capability<perm::TicketsSign>) -> Result<Vec<Awaiting>, AppError> {
    let Some(me) = person_of(app, cap.actor()).await? else { return Ok(Vec::new()) };
    let filter = TicketFilter { person: Some(me), ..TicketFilter::default() };
    let mut out = Vec::new();
    for row in list_tickets(app, cap, &filter, 200).await?.into_iter().filter(|r| !r.state.is_final()) {
        let t = ticket(app, cap, row.id).await?;
        let steps: Vec<&'static str> = gridsafe_domain::tickets::offered(&t.facts(), me)
            .iter()
            .map(|s| s.code())
            .filter(|c| {
                !matches!(
                    *c,
                    "void" | "not_executed" | "change_leader" | "add_crew" | "remove_crew" | "extend" | "interrupt"
                )
            })
            .collect();
        if !steps.is_empty() {
            out.push(Awaiting { late: row.close_overdue(app.now()), ticket: row, steps });
        }
    }
    out.sort_by_key(|a| !a.late);
    Ok(out)
}

/// A local date-time as typed into a form, for steps that carry one (延期).
pub fn parse_local(field: &'static str, text: &str) -> Result<Timestamp, AppError> {
    let mut problems = Vec::new();
    local_time(field, text, &mut problems).ok_or(AppError::Invalid(problems))
}
