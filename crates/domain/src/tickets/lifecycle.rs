//! The ticket lifecycle: which step may be taken, by whom, when; and the automatic stamp of a
//! ticket whose validity lapsed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{DocumentType, State, Times};
use crate::ids::PersonId;
use crate::orders::OrderType;
use crate::people::{self, FieldRole, PersonFacts, RoleRules, Work};
use crate::rules::{self, Violation};
use crate::time::Timestamp;

/// A person the ticket names, with what GridSafe knows of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// `工号 姓名`, for messages.
    pub label: String,
    pub facts: PersonFacts,
    pub contractor_id: Option<i64>,
}

/// Everyone a step may concern, by person id.
pub type Roster = BTreeMap<PersonId, Member>;

/// Another ticket that holds people for its window.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    pub number: String,
    pub people: Vec<PersonId>,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Busy {
    /// The ticket `number` holding `people` for the span [`Times::holds`] gives, if any.
    pub fn of(number: String, people: Vec<PersonId>, times: &Times) -> Option<Self> {
        let (start, end) = times.holds()?;
        Some(Self { number, people, start, end })
    }
}

/// What the lifecycle needs to know of a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub state: State,
    pub doc: DocumentType,
    pub issuer: Option<PersonId>,
    /// The contractor's issuer (双签发), when contractor workers are on it.
    pub co_issuer: Option<PersonId>,
    pub co_signed: bool,
    pub leader: Option<PersonId>,
    pub permitter: Option<PersonId>,
    /// Crew members, not counting the leader.
    pub crew: Vec<PersonId>,
    /// Crew members who acknowledged the briefing.
    pub acknowledged: Vec<PersonId>,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub extended_to: Option<Timestamp>,
    pub permitted_at: Option<Timestamp>,
    pub work_ended_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Hazard points with a pre-control measure.
    pub hazards: usize,
    pub survey_done: bool,
    /// The kind of work the ticket is for.
    pub work_kind: OrderType,
    /// Types of the marketing work orders it covers.
    pub order_types: Vec<OrderType>,
    /// The work's voltage: the customer register's when the customer is registered.
    pub voltage_kv: Option<f64>,
    /// The customer (户号) whose site the work is at.
    pub customer: Option<String>,
    /// Where the work stands against the work plan.
    pub planning: Planning,
    /// Who must be on site before the work starts (到岗到位), and who is.
    pub on_site: crate::supervision::OnSite,
    /// The open customer projects (业扩) of its customer: supply is not given while one's
    /// acceptance has not passed or a defect is open (the energising gate).
    pub projects: Vec<crate::projects::Gate>,
}

/// Where a ticket's work stands against the work plan (作业计划).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// It names an item of a work plan: the day the item is planned for, and whether its plan
    /// is published.
    Item { day: chrono::NaiveDate, published: bool },
    /// 计划外作业: no plan item. `approved` once the unit's manager approved its recorded
    /// reason; `required` whether the deployment asks for that approval before this document
    /// is issued (emergency repair is unplanned by nature).
    Unplanned { approved: bool, required: bool },
}

impl Ticket {
    /// The end of the validity: the extension's, else the planned end.
    pub fn end(&self) -> Timestamp {
        self.times().end()
    }

    pub fn times(&self) -> Times {
        Times {
            state: self.state,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            extended_to: self.extended_to,
            permitted_at: self.permitted_at,
            work_ended_at: self.work_ended_at,
            finished_at: self.finished_at,
        }
    }

    /// The work kind and the linked orders' types, each once: what the document must cover.
    pub fn kinds_of_work(&self) -> Vec<OrderType> {
        let mut kinds = vec![self.work_kind];
        for k in &self.order_types {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        kinds
    }

    /// Whether its work kind or a linked order is of a kind whose tickets must all be evaluated.
    pub fn must_evaluate(&self, set: crate::orders::OrderTypeSet) -> bool {
        self.kinds_of_work().into_iter().any(|k| set.contains(k))
    }

    /// The leader and the crew: the people who do the work.
    pub fn workers(&self) -> Vec<PersonId> {
        self.leader.into_iter().chain(self.crew.iter().copied()).collect()
    }
}

/// A step of the lifecycle, with what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    /// 会签: the contractor's issuer signs (双签发).
    CoSign,
    /// 签发
    Issue,
    /// 接票
    Receive,
    /// 许可
    Permit,
    /// 交底确认: a crew member acknowledges the briefing.
    Acknowledge,
    /// 开工
    Start,
    /// 间断
    Interrupt,
    /// 复工
    Resume,
    /// 延期 to a new end.
    Extend { to: Timestamp },
    /// 工作终结
    EndWork,
    /// 工作票终结, once every safety measure is restored.
    Close { measures_restored: bool },
    /// 未执行
    NotExecuted,
    /// 作废
    Void,
    /// 变更工作负责人 (by the issuer).
    ChangeLeader { to: PersonId },
    /// 增加工作班成员
    AddCrew { person: PersonId },
    /// 减少工作班成员
    RemoveCrew { person: PersonId },
}

/// The kind of a step, without what it carries: the one list of step codes, which forms, the
/// API and the signature table use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    CoSign,
    Issue,
    Receive,
    Permit,
    Acknowledge,
    Start,
    Interrupt,
    Resume,
    Extend,
    EndWork,
    Close,
    NotExecuted,
    Void,
    ChangeLeader,
    AddCrew,
    RemoveCrew,
}

impl StepKind {
    /// Every kind, in the order of the lifecycle.
    pub const ALL: [StepKind; 16] = [
        StepKind::CoSign,
        StepKind::Issue,
        StepKind::Receive,
        StepKind::Permit,
        StepKind::Acknowledge,
        StepKind::Start,
        StepKind::Interrupt,
        StepKind::Resume,
        StepKind::Extend,
        StepKind::EndWork,
        StepKind::Close,
        StepKind::NotExecuted,
        StepKind::Void,
        StepKind::ChangeLeader,
        StepKind::AddCrew,
        StepKind::RemoveCrew,
    ];

    /// Steps that grant or end work (签发、会签、许可、工作终结、工作票终结): signed in a browser
    /// with the signer's password typed again unless he proved it a short while ago, so that a
    /// session left open on a shared computer does not sign work in his name.
    pub fn grants_work(self) -> bool {
        matches!(self, StepKind::CoSign | StepKind::Issue | StepKind::Permit | StepKind::EndWork | StepKind::Close)
    }

    pub fn code(self) -> &'static str {
        match self {
            StepKind::CoSign => "co_sign",
            StepKind::Issue => "issue",
            StepKind::Receive => "receive",
            StepKind::Permit => "permit",
            StepKind::Acknowledge => "acknowledge",
            StepKind::Start => "start",
            StepKind::Interrupt => "interrupt",
            StepKind::Resume => "resume",
            StepKind::Extend => "extend",
            StepKind::EndWork => "end_work",
            StepKind::Close => "close",
            StepKind::NotExecuted => "not_executed",
            StepKind::Void => "void",
            StepKind::ChangeLeader => "change_leader",
            StepKind::AddCrew => "add_crew",
            StepKind::RemoveCrew => "remove_crew",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The audit trail's name for a step taken.
    pub fn action(self) -> &'static str {
        match self {
            StepKind::CoSign => "ticket.co_signed",
            StepKind::Issue => "ticket.issued",
            StepKind::Receive => "ticket.received",
            StepKind::Permit => "ticket.permitted",
            StepKind::Acknowledge => "ticket.briefing_acknowledged",
            StepKind::Start => "ticket.started",
            StepKind::Interrupt => "ticket.interrupted",
            StepKind::Resume => "ticket.resumed",
            StepKind::Extend => "ticket.extended",
            StepKind::EndWork => "ticket.work_ended",
            StepKind::Close => "ticket.closed",
            StepKind::NotExecuted => "ticket.not_executed",
            StepKind::Void => "ticket.voided",
            StepKind::ChangeLeader => "ticket.leader_changed",
            StepKind::AddCrew => "ticket.crew_added",
            StepKind::RemoveCrew => "ticket.crew_removed",
        }
    }
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::CoSign => StepKind::CoSign,
            Step::Issue => StepKind::Issue,
            Step::Receive => StepKind::Receive,
            Step::Permit => StepKind::Permit,
            Step::Acknowledge => StepKind::Acknowledge,
            Step::Start => StepKind::Start,
            Step::Interrupt => StepKind::Interrupt,
            Step::Resume => StepKind::Resume,
            Step::Extend { .. } => StepKind::Extend,
            Step::EndWork => StepKind::EndWork,
            Step::Close { .. } => StepKind::Close,
            Step::NotExecuted => StepKind::NotExecuted,
            Step::Void => StepKind::Void,
            Step::ChangeLeader { .. } => StepKind::ChangeLeader,
            Step::AddCrew { .. } => StepKind::AddCrew,
            Step::RemoveCrew { .. } => StepKind::RemoveCrew,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The states it may be taken from.
    pub fn from_states(&self) -> &'static [State] {
        use State::*;
        match self {
            Step::CoSign | Step::Issue => &[Draft],
            Step::Receive => &[Issued],
            Step::Permit => &[Received],
            Step::Acknowledge | Step::Extend { .. } => &[Permitted, Started, Interrupted],
            Step::Start => &[Permitted],
            Step::Interrupt | Step::EndWork => &[Started],
            Step::Resume => &[Interrupted],
            Step::Close { .. } => &[WorkEnded],
            Step::NotExecuted => &[Draft, Issued, Received],
            Step::Void => &[Draft, Issued, Received, Permitted, Started, Interrupted, WorkEnded],
            Step::ChangeLeader { .. } | Step::AddCrew { .. } | Step::RemoveCrew { .. } => {
                &[Issued, Received, Permitted, Started, Interrupted]
            }
        }
    }

    /// The role on the ticket that signs this step.
    pub fn signer(&self) -> FieldRole {
        match self {
            Step::CoSign | Step::Issue | Step::NotExecuted | Step::Void | Step::ChangeLeader { .. } => {
                FieldRole::TicketIssuer
            }
            Step::Permit | Step::Close { .. } => FieldRole::WorkPermitter,
            Step::Acknowledge => FieldRole::CrewMember,
            Step::Receive
            | Step::Start
            | Step::Interrupt
            | Step::Resume
            | Step::Extend { .. }
            | Step::EndWork
            | Step::AddCrew { .. }
            | Step::RemoveCrew { .. } => FieldRole::WorkLeader,
        }
    }

    fn next(&self, from: State) -> State {
        match self {
            Step::Issue => State::Issued,
            Step::Receive => State::Received,
            Step::Permit => State::Permitted,
            Step::Start | Step::Resume => State::Started,
            Step::Interrupt => State::Interrupted,
            Step::EndWork => State::WorkEnded,
            Step::Close { .. } => State::Closed,
            Step::NotExecuted => State::NotExecuted,
            Step::Void => State::Void,
            Step::CoSign
            | Step::Acknowledge
            | Step::Extend { .. }
            | Step::ChangeLeader { .. }
            | Step::AddCrew { .. }
            | Step::RemoveCrew { .. } => from,
        }
    }
}

/// The steps `person` holds the role for on `t` in its current state, to offer them (whether
/// they are allowed is still for [`check`] to say).
pub fn offered(t: &Ticket, person: PersonId) -> Vec<Step> {
    let end = t.end();
    let all = [
        Step::CoSign,
        Step::Issue,
        Step::Receive,
        Step::Permit,
        Step::Acknowledge,
        Step::Start,
        Step::Interrupt,
        Step::Resume,
        Step::Extend { to: end },
        Step::EndWork,
        Step::Close { measures_restored: true },
        Step::NotExecuted,
        Step::Void,
        Step::ChangeLeader { to: person },
        Step::AddCrew { person },
        Step::RemoveCrew { person },
    ];
    all.into_iter()
        .filter(|s| s.from_states().contains(&t.state))
        .filter(|s| in_role(t, s, person))
        .filter(|s| match s {
            Step::CoSign => !t.co_signed,
            Step::Acknowledge => !t.acknowledged.contains(&person),
            Step::Extend { .. } => t.doc.extendable && !t.doc.live_work && t.extended_to.is_none(),
            _ => true,
        })
        .collect()
}

/// Whether `person` holds the role on `t` that signs `step`.
fn in_role(t: &Ticket, step: &Step, person: PersonId) -> bool {
    match step {
        Step::CoSign => t.co_issuer == Some(person),
        Step::Acknowledge => t.crew.contains(&person),
        other => match other.signer() {
            FieldRole::TicketIssuer => t.issuer == Some(person),
            FieldRole::WorkPermitter => t.permitter == Some(person),
            _ => t.leader == Some(person),
        },
    }
}

/// Whether person `by` may take `step` on `t` at `at`; the state it leads to, or every reason
/// why not. `roster` holds everyone the ticket (and the step) names; `busy` the other tickets
/// that hold people.
pub fn check(
    t: &Ticket,
    step: &Step,
    by: Option<PersonId>,
    at: Timestamp,
    roster: &Roster,
    busy: &[Busy],
    rules: &RoleRules,
) -> Result<State, Vec<Violation>> {
    if !step.from_states().contains(&t.state) {
        return Err(vec![Violation::of(rules::TICKET_STATE).with("step", step.code()).with("state", t.state.code())]);
    }
    let terminal_step = matches!(step, Step::NotExecuted | Step::Void);
    if !terminal_step && t.state != State::Draft && t.state != State::WorkEnded && at > t.end() {
        return Err(vec![Violation::of(rules::TICKET_VALIDITY).with("until", t.end().local_display())]);
    }
    let day = at.local_date();
    let mut refusals = signer(t, step, by, day, roster, rules);
    // Someone other than the step's person: that is the answer; the rest would be noise.
    if refusals.iter().any(|v| v.rule == rules::TICKET_SIGNER || v.rule == rules::TICKET_LEADER_CHANGE) {
        return Err(refusals);
    }
    let label = |id: PersonId| roster.get(&id).map_or_else(|| id.to_string(), |m| m.label.clone());
    match step {
        Step::CoSign => {
            if t.co_signed {
                refusals.push(Violation::of(rules::TICKET_STATE).with("step", step.code()).with("state", "co_signed"));
            }
        }
        Step::Issue => {
            if t.planned_end <= t.planned_start || t.planned_end <= at {
                refusals.push(Violation::of(rules::TICKET_WINDOW).with("until", t.planned_end.local_display()));
            }
            refusals.extend(composition(t, t.planned_start.local_date(), roster, rules));
            if t.planned_end.local_date() != t.planned_start.local_date() {
                for v in composition(t, t.planned_end.local_date(), roster, rules) {
                    if !refusals.contains(&v) {
                        refusals.push(v);
                    }
                }
            }
            if needs_co_issuer(t, roster)
                && !t.co_signed
                && !refusals.iter().any(|v| v.rule == rules::TICKET_DUAL_ISSUE)
            {
                refusals.push(Violation::of(rules::TICKET_DUAL_ISSUE).with("step", Step::CoSign.code()));
            }
            if t.doc.needs_survey && !t.survey_done {
                refusals.push(Violation::of(rules::TICKET_SURVEY).with("document", &t.doc.name));
            }
            if t.hazards == 0 {
                refusals.push(Violation::of(rules::TICKET_HAZARDS));
            }
            refusals.extend(planned(t));
            for kind in t.kinds_of_work() {
                if !t.doc.covers.iter().any(|c| c == kind.code()) {
                    refusals.push(
                        Violation::of(rules::TICKET_TYPE_COVERS)
                            .with("document", &t.doc.name)
                            .with("order_type", kind.code()),
                    );
                }
            }
            refusals.extend(overlaps(&t.workers(), t.planned_start, t.end(), busy, roster));
        }
        Step::Permit | Step::Resume | Step::Start => {
            if at < t.planned_start {
                refusals.push(Violation::of(rules::TICKET_WINDOW).with("from", t.planned_start.local_display()));
            }
            if matches!(step, Step::Permit) {
                refusals.extend(qualified(t, day, roster, rules));
                if t.kinds_of_work().into_iter().any(OrderType::energises) {
                    refusals.extend(t.projects.iter().flat_map(crate::projects::Gate::check));
                }
            }
            if matches!(step, Step::Start) {
                let missing: Vec<String> =
                    t.crew.iter().filter(|c| !t.acknowledged.contains(c)).map(|c| label(*c)).collect();
                if !missing.is_empty() {
                    refusals.push(Violation::of(rules::TICKET_BRIEFING).with("people", missing.join("、")));
                }
                refusals.extend(t.on_site.check_start(at));
            }
        }
        Step::Acknowledge => {
            if let Some(p) = by
                && t.acknowledged.contains(&p)
            {
                refusals
                    .push(Violation::of(rules::TICKET_STATE).with("step", step.code()).with("state", "acknowledged"));
            }
        }
        Step::Extend { to } => {
            if !t.doc.extendable || t.doc.live_work {
                refusals.push(Violation::of(rules::TICKET_EXTENSION).with("document", &t.doc.name));
            } else if t.extended_to.is_some() {
                refusals.push(Violation::of(rules::TICKET_EXTENSION).with("extended", t.end().local_display()));
            } else if *to <= t.end() {
                refusals.push(Violation::of(rules::TICKET_EXTENSION).with("until", t.end().local_display()));
            } else {
                refusals.extend(overlaps(&t.workers(), t.end(), *to, busy, roster));
            }
        }
        Step::Close { measures_restored } => {
            if !measures_restored {
                refusals.push(Violation::of(rules::TICKET_MEASURES));
            }
        }
        Step::ChangeLeader { to } => {
            let mut after = t.clone();
            after.crew.retain(|c| c != to);
            after.leader = Some(*to);
            refusals.extend(change(t, &after, *to, at, roster, busy, rules));
        }
        Step::AddCrew { person } => {
            if t.workers().contains(person) {
                refusals
                    .push(Violation::of(rules::TICKET_STATE).with("step", step.code()).with("person", label(*person)));
            }
            let mut after = t.clone();
            after.crew.push(*person);
            refusals.extend(change(t, &after, *person, at, roster, busy, rules));
        }
        Step::RemoveCrew { person } => {
            if !t.crew.contains(person) {
                refusals
                    .push(Violation::of(rules::TICKET_STATE).with("step", step.code()).with("person", label(*person)));
            }
            let mut after = t.clone();
            after.crew.retain(|c| c != person);
            refusals.extend(min_people(&after));
        }
        Step::Receive | Step::Interrupt | Step::EndWork | Step::NotExecuted | Step::Void => {}
    }
    if refusals.is_empty() { Ok(step.next(t.state)) } else { Err(refusals) }
}

/// A ticket is issued for planned work: its plan item is published and for the ticket's day,
/// or, being 计划外作业, its reason was approved by the unit's manager.
fn planned(t: &Ticket) -> Option<Violation> {
    match t.planning {
        Planning::Item { published: false, .. } => {
            Some(Violation::of(rules::TICKET_PLAN_ITEM).with("missing", "published"))
        }
        Planning::Item { day, .. } if day != t.planned_start.local_date() => Some(
            Violation::of(rules::TICKET_PLAN_ITEM)
                .with("plan_day", day)
                .with("ticket_day", t.planned_start.local_date()),
        ),
        Planning::Unplanned { approved: false, required: true } => Some(Violation::of(rules::TICKET_UNPLANNED)),
        _ => None,
    }
}

/// Whether the unit's manager may approve the unplanned work (计划外作业) of `t`: still a draft,
/// naming no plan item, its reason written and not yet approved, and the approver not the one
/// who wrote the reason (`by_writer`). `approved_by` names an earlier approval.
pub fn check_unplanned_approval(
    t: &Ticket,
    reason: Option<&str>,
    approved_by: Option<&str>,
    by_writer: bool,
) -> Result<(), Violation> {
    let refuse = || Violation::of(rules::TICKET_UNPLANNED_APPROVAL);
    if t.state != State::Draft {
        return Err(refuse().with("state", t.state.code()));
    }
    if let Planning::Item { day, .. } = t.planning {
        return Err(refuse().with("plan_day", day));
    }
    if reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(refuse().with("missing", "reason"));
    }
    if let Some(by) = approved_by {
        return Err(refuse().with("approved", by));
    }
    if by_writer {
        return Err(refuse().with("missing", "approver"));
    }
    Ok(())
}

/// The stamp a ticket gets when its validity lapsed at `now`: 未执行 when work was never
/// permitted, 作废 when it was and was not ended in time.
pub fn lapse(t: &Ticket, now: Timestamp) -> Option<State> {
    lapse_state(t.state, t.end(), now)
}

/// As [`lapse`], for a ticket in `state` valid until `end`.
pub fn lapse_state(state: State, end: Timestamp, now: Timestamp) -> Option<State> {
    if state.is_final() || state == State::WorkEnded || now <= end {
        return None;
    }
    Some(if state.permitted() { State::Void } else { State::NotExecuted })
}

/// The signer of `step` is the person in its role, and holds that role on `day`.
fn signer(
    t: &Ticket,
    step: &Step,
    by: Option<PersonId>,
    day: chrono::NaiveDate,
    roster: &Roster,
    rules: &RoleRules,
) -> Vec<Violation> {
    let role = step.signer();
    let refuse = || vec![Violation::of(rules::TICKET_SIGNER).with("step", step.code()).with("role", role.code())];
    let Some(by) = by else { return refuse() };
    if !in_role(t, step, by) {
        // The leader asking to change himself is the case the rule is about.
        if matches!(step, Step::ChangeLeader { .. }) {
            return vec![Violation::of(rules::TICKET_LEADER_CHANGE)];
        }
        return refuse();
    }
    may(by, role, day, None, roster, rules)
}

/// The work a ticket is for, as the contractor checks see it: at its customer.
fn work(t: &Ticket) -> Work<'_> {
    Work::At { customer: t.customer.as_deref() }
}

/// Whether `id` may act as `role` on `day` for the work of `t`: the contractor's licence checked
/// at the work's voltage and its agreement for the work's customer.
fn may(
    id: PersonId,
    role: FieldRole,
    day: chrono::NaiveDate,
    t: Option<&Ticket>,
    roster: &Roster,
    rules: &RoleRules,
) -> Vec<Violation> {
    let Some(m) = roster.get(&id) else {
        return vec![Violation::of(rules::TICKET_PEOPLE).with("person", id)];
    };
    let own = PersonFacts { contractor: None, ..m.facts.clone() };
    let mut refusals = people::may_act(&own, role, day, rules).err().unwrap_or_default();
    if let Some(c) = &m.facts.contractor {
        let (voltage, work) = t.map_or((None, Work::Any), |t| (t.voltage_kv, work(t)));
        refusals.extend(people::contractor_may_work(c, day, voltage, work, rules).err().unwrap_or_default());
    }
    refusals.into_iter().map(|v| v.with("person", &m.label).with("role", role.code())).collect()
}

/// Everyone on the ticket holds their role on `day`.
fn qualified(t: &Ticket, day: chrono::NaiveDate, roster: &Roster, rules: &RoleRules) -> Vec<Violation> {
    let mut named: Vec<(PersonId, FieldRole)> = Vec::new();
    named.extend(t.issuer.map(|p| (p, FieldRole::TicketIssuer)));
    named.extend(t.co_issuer.map(|p| (p, FieldRole::TicketIssuer)));
    named.extend(t.permitter.map(|p| (p, FieldRole::WorkPermitter)));
    named.extend(t.leader.map(|p| (p, FieldRole::WorkLeader)));
    named.extend(t.crew.iter().map(|p| (*p, FieldRole::CrewMember)));
    named.into_iter().flat_map(|(p, role)| may(p, role, day, Some(t), roster, rules)).collect()
}

fn min_people(t: &Ticket) -> Vec<Violation> {
    let have = t.workers().len();
    if have < t.doc.min_people as usize {
        vec![Violation::of(rules::TICKET_MIN_CREW).with("needed", t.doc.min_people).with("have", have)]
    } else {
        Vec::new()
    }
}

/// The contractor of the workers, and whether there is more than one.
fn contractors(t: &Ticket, roster: &Roster) -> BTreeSet<i64> {
    t.workers().iter().filter_map(|p| roster.get(p).and_then(|m| m.contractor_id)).collect()
}

fn needs_co_issuer(t: &Ticket, roster: &Roster) -> bool {
    !contractors(t, roster).is_empty()
}

/// Who is on the ticket, in which roles, and whether they may be, on `day`.
fn composition(t: &Ticket, day: chrono::NaiveDate, roster: &Roster, rules: &RoleRules) -> Vec<Violation> {
    let mut refusals = Vec::new();
    for (who, role) in [
        (t.issuer, FieldRole::TicketIssuer),
        (t.leader, FieldRole::WorkLeader),
        (t.permitter, FieldRole::WorkPermitter),
    ] {
        if who.is_none() {
            refusals.push(Violation::of(rules::TICKET_PEOPLE).with("role", role.code()));
        }
    }
    let label = |id: PersonId| roster.get(&id).map_or_else(|| id.to_string(), |m| m.label.clone());
    // Each of issuer, co-issuer, permit giver and leader is a different person, none on the crew.
    let heads: Vec<(PersonId, &'static str)> = [
        (t.issuer, "ticket_issuer"),
        (t.co_issuer, "co_issuer"),
        (t.permitter, "work_permitter"),
        (t.leader, "work_leader"),
    ]
    .into_iter()
    .filter_map(|(p, r)| p.map(|p| (p, r)))
    .collect();
    for (i, (p, role)) in heads.iter().enumerate() {
        if let Some((_, other)) = heads[..i].iter().find(|(q, _)| q == p) {
            refusals.push(
                Violation::of(rules::TICKET_THREE_PERSONS)
                    .with("person", label(*p))
                    .with("roles", format!("{other}+{role}")),
            );
        }
        if *role != "work_leader" && t.crew.contains(p) {
            refusals.push(
                Violation::of(rules::TICKET_THREE_PERSONS)
                    .with("person", label(*p))
                    .with("roles", format!("{role}+crew_member")),
            );
        }
    }
    if let Some(leader) = t.leader
        && t.crew.contains(&leader)
    {
        refusals.push(
            Violation::of(rules::TICKET_THREE_PERSONS)
                .with("person", label(leader))
                .with("roles", "work_leader+crew_member"),
        );
    }
    refusals.extend(min_people(t));
    let firms = contractors(t, roster);
    // Without a voltage the licence could not be judged: field work and contractor work state it.
    if t.voltage_kv.is_none() && (t.work_kind.is_field_work() || !firms.is_empty()) {
        refusals.push(Violation::of(rules::TICKET_VOLTAGE).with("order_type", t.work_kind.code()));
    }
    if firms.len() > 1 {
        refusals.push(Violation::of(rules::TICKET_ONE_CONTRACTOR).with("count", firms.len()));
    } else if let Some(firm) = firms.first() {
        let co = t.co_issuer.and_then(|c| roster.get(&c));
        if co.is_none_or(|m| m.contractor_id != Some(*firm)) {
            refusals.push(Violation::of(rules::TICKET_DUAL_ISSUE));
        }
    }
    refusals.extend(qualified(t, day, roster, rules));
    refusals
}

/// A change of people after issue: the new person may act, the ticket stays well formed, and
/// nobody new is busy elsewhere.
fn change(
    before: &Ticket,
    after: &Ticket,
    person: PersonId,
    at: Timestamp,
    roster: &Roster,
    busy: &[Busy],
    rules: &RoleRules,
) -> Vec<Violation> {
    let mut refusals = composition(after, at.local_date(), roster, rules);
    if needs_co_issuer(after, roster) && !before.co_signed {
        refusals.push(Violation::of(rules::TICKET_DUAL_ISSUE).with("step", Step::CoSign.code()));
    }
    let from = if at > after.planned_start { at } else { after.planned_start };
    refusals.extend(overlaps(&[person], from, after.end(), busy, roster));
    refusals
}

/// People among `people` on another ticket whose window overlaps `[start, end]`.
fn overlaps(people: &[PersonId], start: Timestamp, end: Timestamp, busy: &[Busy], roster: &Roster) -> Vec<Violation> {
    let mut refusals = Vec::new();
    for p in people {
        for b in busy.iter().filter(|b| b.people.contains(p) && b.start < end && start < b.end) {
            let name = roster.get(p).map_or_else(|| p.to_string(), |m| m.label.clone());
            refusals.push(
                Violation::of(rules::TICKET_OVERLAP)
                    .with("person", name)
                    .with("ticket", &b.number)
                    .with("from", b.start.local_display())
                    .with("until", b.end.local_display()),
            );
        }
    }
    refusals
}

#[cfg(test)]
mod tests;
