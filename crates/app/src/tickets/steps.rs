//! Lifecycle steps: gather the facts, ask the domain, write the step and its signature.

use gridsafe_domain::access::{Actor, Capability, Channel, perm};
use gridsafe_domain::ids::{PersonId, TicketId};
use gridsafe_domain::people::FieldRole;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::{self, Member, Roster, State, Step, StepKind};
use gridsafe_store::Conn;
use gridsafe_store::tickets::{self as store, Signature, Stamp};

use super::{TicketDetail, load, person_of};
use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta, Work};

/// A step as a form or a request names it: the step, and what it carries.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub step: StepKind,
    /// 延期: the new end, local time.
    pub to: String,
    /// 变更负责人 / 增减成员: the person's 工号.
    pub person: String,
    /// 终结: every safety measure restored (接地线已拆除).
    pub measures_restored: bool,
}

/// The step a form names by its code; an unknown one is an input error.
pub fn step_kind(code: &str) -> Result<StepKind, AppError> {
    StepKind::from_code(code.trim())
        .ok_or_else(|| AppError::Invalid(vec![FieldProblem::new("step", "field-step").with("value", code.trim())]))
}

/// Reads a step; unknown times and people are input errors.
pub async fn parse_step(app: &App, input: &StepInput) -> Result<Step, AppError> {
    let person = || async {
        let code = input.person.trim();
        let id = gridsafe_store::people::id_by_code(&mut *app.db().read().await?, code).await?;
        id.ok_or_else(|| AppError::Invalid(vec![FieldProblem::new("person", "field-person-code").with("value", code)]))
    };
    Ok(match input.step {
        StepKind::CoSign => Step::CoSign,
        StepKind::Issue => Step::Issue,
        StepKind::Receive => Step::Receive,
        StepKind::Permit => Step::Permit,
        StepKind::Acknowledge => Step::Acknowledge,
        StepKind::Start => Step::Start,
        StepKind::Interrupt => Step::Interrupt,
        StepKind::Resume => Step::Resume,
        StepKind::Extend => Step::Extend { to: super::parse_local("to", &input.to)? },
        StepKind::EndWork => Step::EndWork,
        StepKind::Close => Step::Close { measures_restored: input.measures_restored },
        StepKind::NotExecuted => Step::NotExecuted,
        StepKind::Void => Step::Void,
        StepKind::ChangeLeader => Step::ChangeLeader { to: person().await? },
        StepKind::AddCrew => Step::AddCrew { person: person().await? },
        StepKind::RemoveCrew => Step::RemoveCrew { person: person().await? },
    })
}

/// Whether each person the ticket names holds their role on `day`, and if not, why.
pub async fn people_check(app: &App, t: &TicketDetail, day: chrono::NaiveDate) -> Result<Vec<PersonCheck>, AppError> {
    let roster = roster(&mut *app.db().read().await?, t, None).await?;
    let rules = app.people_config().role_rules();
    let mut named: Vec<(PersonId, FieldRole)> = Vec::new();
    named.extend(t.issuer.as_ref().map(|p| (p.id, FieldRole::TicketIssuer)));
    named.extend(t.co_issuer.as_ref().map(|p| (p.id, FieldRole::TicketIssuer)));
    named.extend(t.permitter.as_ref().map(|p| (p.id, FieldRole::WorkPermitter)));
    named.extend(t.leader.as_ref().map(|p| (p.id, FieldRole::WorkLeader)));
    named.extend(t.crew.iter().map(|c| (c.person.id, FieldRole::CrewMember)));
    Ok(named
        .into_iter()
        .filter_map(|(id, role)| {
            let m = roster.get(&id)?;
            let mut refusals = gridsafe_domain::people::may_act(
                &gridsafe_domain::people::PersonFacts { contractor: None, ..m.facts.clone() },
                role,
                day,
                &rules,
            )
            .err()
            .unwrap_or_default();
            if let Some(c) = &m.facts.contractor {
                refusals.extend(
                    gridsafe_domain::people::contractor_may_work(
                        c,
                        day,
                        t.voltage_kv,
                        gridsafe_domain::people::Work::At { customer: t.row.customer_id.as_deref() },
                        &rules,
                    )
                    .err()
                    .unwrap_or_default(),
                );
            }
            Some(PersonCheck { label: m.label.clone(), role, refusals })
        })
        .collect())
}

/// What the rules would answer now to each step `by` is offered that needs nothing typed (签发、
/// 许可、开工…), checked as [`take_step`] checks it but on a read, holding nothing: the page
/// offers the steps the rules allow and says why the others are not available. A step allowed
/// here may still be refused when taken (someone else acted meanwhile); one refused here is
/// refused when taken unless something changes first.
pub async fn preview_steps(
    app: &App,
    t: &TicketDetail,
    by: PersonId,
) -> Result<Vec<(StepKind, Result<State, Vec<gridsafe_domain::rules::Violation>>)>, AppError> {
    let mut facts = t.facts();
    let steps: Vec<Step> = tickets::offered(&facts, by)
        .into_iter()
        .filter(|s| {
            matches!(
                s,
                Step::CoSign
                    | Step::Issue
                    | Step::Receive
                    | Step::Permit
                    | Step::Acknowledge
                    | Step::Start
                    | Step::Interrupt
                    | Step::Resume
                    | Step::EndWork
            )
        })
        .collect();
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = app.db().read().await?;
    let roster = roster(&mut conn, t, None).await?;
    register_voltage(&mut conn, &mut facts).await?;
    let now = app.now();
    let people = facts.workers();
    let busy = store::busy(&mut conn, t.row.id, &people, facts.planned_start.min(now)).await?;
    let rules = app.people_config().role_rules();
    Ok(steps.iter().map(|s| (s.kind(), tickets::check(&facts, s, Some(by), now, &roster, &busy, &rules))).collect())
}

/// One line of [`people_check`].
#[derive(Debug, Clone)]
pub struct PersonCheck {
    pub label: String,
    pub role: FieldRole,
    pub refusals: Vec<gridsafe_domain::rules::Violation>,
}

/// Everyone the ticket and the step name, with their facts: a fixed number of statements
/// however large the crew.
async fn roster(conn: &mut Conn, t: &TicketDetail, extra: Option<PersonId>) -> Result<Roster, AppError> {
    let mut ids: Vec<PersonId> = t.people().iter().map(|p| p.id).collect();
    ids.extend(extra);
    Ok(gridsafe_store::people::facts(conn, &ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id, Member { label: p.label(), facts: p.facts, contractor_id: p.contractor_id }))
        .collect())
}

/// The register's voltage, as it is now, for a ticket of a registered customer: the rules judge
/// the licence at it, whatever the draft said.
async fn register_voltage(conn: &mut Conn, facts: &mut tickets::Ticket) -> Result<(), AppError> {
    if let Some(no) = &facts.customer
        && let Some(c) = gridsafe_store::customers::registered(conn, no).await?
    {
        facts.voltage_kv = Some(c.voltage_kv);
    }
    Ok(())
}

/// Takes `step` on ticket `id` as the person linked to the caller's account, now. A refusal
/// names every rule that says no and is itself recorded in the audit trail. `note` is the
/// reason of 作废/未执行 (required) or a remark on other steps.
pub async fn take_step(
    app: &App,
    cap: &Capability<perm::TicketsSign>,
    meta: &RequestMeta,
    id: TicketId,
    step: Step,
    note: &str,
) -> Result<State, AppError> {
    let by = person_of(app, cap.actor()).await?;
    take_step_by(app, cap, meta, id, step, note, by).await
}

/// As [`take_step`], signed by `by`. Only the demo calls this directly, to fill a history
/// that its fictional people signed; its signatures name the demo as the account.
pub(crate) async fn take_step_by(
    app: &App,
    cap: &Capability<perm::TicketsSign>,
    meta: &RequestMeta,
    id: TicketId,
    step: Step,
    note: &str,
    by: Option<PersonId>,
) -> Result<State, AppError> {
    if note.chars().count() > 500 {
        return Err(AppError::Invalid(vec![FieldProblem::new("note", "field-name-length").with("max", 500)]));
    }
    let note = trim_blank(note);
    if matches!(step, Step::Void | Step::NotExecuted) && note.is_empty() {
        return Err(AppError::Invalid(vec![FieldProblem::new("note", "field-required")]));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    // Load: the ticket, held; then its people, held in id order, so that a step on another
    // ticket naming any of them waits for this one and then sees it.
    let t = load(app, work.conn(), cap, id, true).await?;
    let newcomer = match step {
        Step::ChangeLeader { to } => Some(to),
        Step::AddCrew { person } => Some(person),
        _ => None,
    };
    let mut facts = t.facts();
    let mut people = facts.workers();
    people.extend(newcomer);
    gridsafe_store::people::lock(work.conn(), &people).await?;
    let roster = roster(work.conn(), &t, newcomer).await?;
    if let Some(p) = newcomer.filter(|p| !roster.contains_key(p)) {
        return Err(AppError::Invalid(vec![FieldProblem::new("person", "field-person-code").with("value", p)]));
    }
    register_voltage(work.conn(), &mut facts).await?;
    let now = work.now();
    let busy = store::busy(work.conn(), id, &people, facts.planned_start.min(now)).await?;
    // Check.
    let decided = tickets::check(&facts, &step, by, now, &roster, &busy, &app.people_config().role_rules());
    let next = match decided {
        Ok(next) => next,
        Err(refusals) => {
            let codes: Vec<&str> = refusals.iter().map(|v| v.rule.code).collect();
            work.audit(NewEvent::new("ticket.step_refused", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
                "number": t.row.number, "step": step.code(), "state": facts.state.code(), "person": by, "rules": codes,
            })))
            .await?;
            work.commit().await?;
            return Err(AppError::Rules(refusals));
        }
    };
    // Apply.
    if !store::set_state(work.conn(), id, facts.state, next, now).await? {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    if matches!(step, Step::Start) {
        // The grade and whether a required manager was there: the attendance audit reads them.
        let attended = t.on_site.facts(t.risk.level, true).satisfied_at(now);
        gridsafe_store::supervision::mark_start(work.conn(), id, t.risk.level, attended).await?;
    }
    let label = |id: Option<PersonId>| id.and_then(|i| roster.get(&i)).map(|m| m.label.clone()).unwrap_or_default();
    let mut detail = serde_json::Map::new();
    let stamp = match &step {
        Step::CoSign => Some(Stamp::CoSigned),
        Step::Acknowledge => Some(Stamp::Acknowledged { person: by }),
        Step::Permit => Some(Stamp::Permitted),
        Step::EndWork => Some(Stamp::WorkEnded),
        Step::Close { .. } | Step::NotExecuted | Step::Void => {
            Some(Stamp::Finished { reason: (!note.is_empty()).then_some(note) })
        }
        Step::Extend { to } => {
            detail.insert("extended_to".into(), to.local_display().into());
            Some(Stamp::Extended { to: *to })
        }
        Step::ChangeLeader { to } => {
            detail.insert("from".into(), label(facts.leader).into());
            detail.insert("to".into(), label(Some(*to)).into());
            Some(Stamp::LeaderChanged { to: *to })
        }
        Step::AddCrew { person } => {
            detail.insert("person".into(), label(Some(*person)).into());
            Some(Stamp::CrewAdded { person: *person })
        }
        Step::RemoveCrew { person } => {
            detail.insert("person".into(), label(Some(*person)).into());
            Some(Stamp::CrewRemoved { person: *person })
        }
        Step::Issue | Step::Receive | Step::Start | Step::Interrupt | Step::Resume => None,
    };
    if let Some(stamp) = stamp {
        store::stamp_step(work.conn(), id, stamp, now).await?;
    }
    if !note.is_empty() {
        detail.insert("note".into(), note.into());
    }
    let detail = (!detail.is_empty()).then_some(serde_json::Value::Object(detail));
    sign(&mut work, id, step.code(), facts.state, next, by, detail.as_ref()).await?;
    // Audit, commit.
    work.audit(NewEvent::new(step.kind().action(), "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "from": facts.state.code(), "to": next.code(), "person": by, "detail": detail,
    })))
    .await?;
    work.commit().await?;
    Ok(next)
}

/// Signs a step in `ticket_steps`: who, when, from which channel.
async fn sign(
    work: &mut Work<'_>,
    id: TicketId,
    step: &str,
    from: State,
    to: State,
    person: Option<PersonId>,
    detail: Option<&serde_json::Value>,
) -> Result<(), AppError> {
    let actor: &Actor = work.actor();
    let signature = Signature {
        ticket_id: id,
        step,
        from,
        to,
        person,
        username: (actor.channel != Channel::Job).then_some(actor.name.as_str()),
        channel: actor.channel.code(),
        at: work.now(),
        detail,
    };
    store::sign(work.conn(), &signature).await?;
    Ok(())
}

/// Stamps every ticket whose validity lapsed: 未执行 if work was never permitted, 作废 if it
/// was and did not end in time (the scheduler runs this every minute). Returns how many.
pub async fn lapse_overdue(app: &App, meta: &RequestMeta) -> Result<u64, AppError> {
    let now = app.now();
    let actor = Actor { user_id: None, name: "job:ticket-lapse".into(), channel: Channel::Job };
    let overdue = store::overdue(&mut *app.db().read().await?, now).await?;
    let mut stamped = 0;
    for t in overdue {
        let Some(next) = tickets::lifecycle::lapse_state(t.state, t.end, now) else { continue };
        let mut work = app.begin(&actor, meta).await?;
        let at = work.now();
        if !store::lapse(work.conn(), t.id, t.state, next, at).await? {
            continue;
        }
        let detail =
            serde_json::json!({ "rule": gridsafe_domain::rules::TICKET_VALIDITY.code, "until": t.end.local_display() });
        sign(&mut work, t.id, "lapse", t.state, next, None, Some(&detail)).await?;
        work.audit(NewEvent::new("ticket.lapsed", "ticket", t.id).unit(t.unit_id).summary(serde_json::json!({
            "number": t.number, "from": t.state.code(), "to": next.code(), "until": t.end.to_db(),
        })))
        .await?;
        work.commit().await?;
        stamped += 1;
    }
    Ok(stamped)
}
