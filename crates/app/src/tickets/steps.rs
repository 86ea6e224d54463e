//! Lifecycle steps: gather the facts, ask the domain, write the step and its signature.

use gridsafe_domain::access::{Actor, Capability, Channel, perm};
use gridsafe_domain::people::FieldRole;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::{self, Busy, Member, Roster, State, Step, Times};
use gridsafe_domain::time::Timestamp;
use sqlx::Row;

use super::{TicketDetail, person_of, ticket};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// A step as a form or a request names it: the step's code, and what it carries.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub step: String,
    /// 延期: the new end, local time.
    pub to: String,
    /// 变更负责人 / 增减成员: the person's 工号.
    pub person: String,
    /// 终结: every safety measure restored (接地线已拆除).
    pub measures_restored: bool,
}

/// Reads a step; unknown steps, times and people are input errors.
pub async fn parse_step(app: &App, input: &StepInput) -> Result<Step, AppError> {
    let person = || async {
        let code = input.person.trim();
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE code = $1")
            .bind(code)
            .fetch_optional(app.db().pool())
            .await?;
        id.ok_or_else(|| AppError::Invalid(vec![FieldProblem::new("person", "field-person-code").with("value", code)]))
    };
    Ok(match input.step.trim() {
        "co_sign" => Step::CoSign,
        "issue" => Step::Issue,
        "receive" => Step::Receive,
        "permit" => Step::Permit,
        "acknowledge" => Step::Acknowledge,
        "start" => Step::Start,
        "interrupt" => Step::Interrupt,
        "resume" => Step::Resume,
        "extend" => Step::Extend { to: super::parse_local("to", &input.to)? },
        "end_work" => Step::EndWork,
        "close" => Step::Close { measures_restored: input.measures_restored },
        "not_executed" => Step::NotExecuted,
        "void" => Step::Void,
        "change_leader" => Step::ChangeLeader { to: person().await? },
        "add_crew" => Step::AddCrew { person: person().await? },
        "remove_crew" => Step::RemoveCrew { person: person().await? },
        other => return Err(AppError::Invalid(vec![FieldProblem::new("step", "field-step").with("value", other)])),
    })
}

/// Whether each person the ticket names holds their role on `day`, and if not, why.
pub async fn people_check(app: &App, t: &TicketDetail, day: chrono::NaiveDate) -> Result<Vec<PersonCheck>, AppError> {
    let roster = roster(app, t, None).await?;
    let rules = app.people_config().role_rules();
    let mut named: Vec<(i64, FieldRole)> = Vec::new();
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

/// One line of [`people_check`].
#[derive(Debug, Clone)]
pub struct PersonCheck {
    pub label: String,
    pub role: FieldRole,
    pub refusals: Vec<gridsafe_domain::rules::Violation>,
}

/// The audit action of a step.
fn action(step: &Step) -> &'static str {
    match step {
        Step::CoSign => "ticket.co_signed",
        Step::Issue => "ticket.issued",
        Step::Receive => "ticket.received",
        Step::Permit => "ticket.permitted",
        Step::Acknowledge => "ticket.briefing_acknowledged",
        Step::Start => "ticket.started",
        Step::Interrupt => "ticket.interrupted",
        Step::Resume => "ticket.resumed",
        Step::Extend { .. } => "ticket.extended",
        Step::EndWork => "ticket.work_ended",
        Step::Close { .. } => "ticket.closed",
        Step::NotExecuted => "ticket.not_executed",
        Step::Void => "ticket.voided",
        Step::ChangeLeader { .. } => "ticket.leader_changed",
        Step::AddCrew { .. } => "ticket.crew_added",
        Step::RemoveCrew { .. } => "ticket.crew_removed",
    }
}

/// Everyone the ticket and the step name, with their facts.
async fn roster(app: &App, t: &TicketDetail, extra: Option<i64>) -> Result<Roster, AppError> {
    let mut ids: Vec<i64> = t.people().iter().map(|p| p.id).collect();
    ids.extend(extra);
    let mut roster = Roster::new();
    for id in ids {
        if roster.contains_key(&id) {
            continue;
        }
        let row = sqlx::query("SELECT code, name, contractor_id FROM people WHERE id = $1")
            .bind(id)
            .fetch_optional(app.db().pool())
            .await?;
        let Some(row) = row else { continue };
        let label = format!("{} {}", row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        let facts = crate::people::person_facts(app, id).await?;
        roster.insert(id, Member { label, facts, contractor_id: row.try_get(2)? });
    }
    Ok(roster)
}

/// The other tickets that hold any of `people` from `since` on, each for the span
/// [`Times::holds`] gives (one definition for the lifecycle and the cross-audit).
async fn busy(app: &App, ticket_id: i64, people: &[i64], since: Timestamp) -> Result<Vec<Busy>, AppError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    // Integers from the database, not user input.
    let list = people.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.number, t.state, t.planned_start, t.planned_end, t.extended_to, t.permitted_at, t.work_ended_at, \
         t.finished_at, t.leader_id FROM tickets t \
         WHERE t.id <> $1 AND t.state IN ('issued', 'received', 'permitted', 'started', 'interrupted', 'work_ended', 'closed') \
         AND COALESCE(t.work_ended_at, t.extended_to, t.planned_end) > $2 \
         AND (t.leader_id IN ({list}) OR EXISTS (SELECT 1 FROM ticket_crew c WHERE c.ticket_id = t.id AND c.person_id IN ({list})))"
    )))
    .bind(ticket_id)
    .bind(since.to_db())
    .fetch_all(app.db().pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let mut held: Vec<i64> = sqlx::query_scalar("SELECT person_id FROM ticket_crew WHERE ticket_id = $1")
            .bind(id)
            .fetch_all(app.db().pool())
            .await?;
        held.extend(r.try_get::<Option<i64>, _>("leader_id")?);
        let time = |c: &str| -> Result<Option<Timestamp>, AppError> {
            r.try_get::<Option<String>, _>(c)?
                .map(|text| Timestamp::from_db(&text).ok_or_else(|| AppError::internal("ticket time")))
                .transpose()
        };
        let state: String = r.try_get("state")?;
        let times = Times {
            state: State::from_code(&state).ok_or_else(|| AppError::internal("ticket state"))?,
            planned_start: time("planned_start")?.ok_or_else(|| AppError::internal("ticket time"))?,
            planned_end: time("planned_end")?.ok_or_else(|| AppError::internal("ticket time"))?,
            extended_to: time("extended_to")?,
            permitted_at: time("permitted_at")?,
            work_ended_at: time("work_ended_at")?,
            finished_at: time("finished_at")?,
        };
        out.extend(Busy::of(r.try_get("number")?, held, &times));
    }
    Ok(out)
}

/// Takes `step` on ticket `id` as the person linked to the caller's account, now. A refusal
/// names every rule that says no and is itself recorded in the audit trail. `note` is the
/// reason of 作废/未执行 (required) or a remark on other steps.
pub async fn take_step(
    app: &App,
    cap: &Capability<perm::TicketsSign>,
    meta: &RequestMeta,
    id: i64,
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
    id: i64,
    step: Step,
    note: &str,
    by: Option<i64>,
) -> Result<State, AppError> {
    let t = ticket(app, cap, id).await?;
    if note.chars().count() > 500 {
        return Err(AppError::Invalid(vec![FieldProblem::new("note", "field-name-length").with("max", 500)]));
    }
    let note = trim_blank(note);
    if matches!(step, Step::Void | Step::NotExecuted) && note.is_empty() {
        return Err(AppError::Invalid(vec![FieldProblem::new("note", "field-required")]));
    }
    let newcomer = match step {
        Step::ChangeLeader { to } => Some(to),
        Step::AddCrew { person } => Some(person),
        _ => None,
    };
    if let Some(p) = newcomer {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM people WHERE id = $1").bind(p).fetch_optional(app.db().pool()).await?;
        if exists.is_none() {
            return Err(AppError::Invalid(vec![FieldProblem::new("person", "field-person-code").with("value", p)]));
        }
    }
    let mut facts = t.facts();
    // The register's voltage, as it is now, for a registered customer.
    if let Some(no) = &facts.customer
        && let Some(c) = crate::customers::registered_customer(app, no).await?
    {
        facts.voltage_kv = Some(c.voltage_kv);
    }
    let roster = roster(app, &t, newcomer).await?;
    let mut people = facts.workers();
    people.extend(newcomer);
    let since = facts.planned_start.min(app.now());
    let busy = busy(app, id, &people, since).await?;
    let now = app.now();
    let rules = app.people_config().role_rules();
    let decided = tickets::check(&facts, &step, by, now, &roster, &busy, &rules);
    let mut tx = app.db().begin_write().await?;
    let next = match decided {
        Ok(next) => next,
        Err(refusals) => {
            let codes: Vec<&str> = refusals.iter().map(|v| v.rule.code).collect();
            let event = NewEvent::new("ticket.step_refused", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
                "number": t.row.number, "step": step.code(), "state": facts.state.code(), "person": by, "rules": codes,
            }));
            append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
            tx.commit().await?;
            return Err(AppError::Rules(refusals));
        }
    };
    let at = now.to_db();
    // The state is checked again in the update: a step taken meanwhile makes this one fail.
    let changed = sqlx::query("UPDATE tickets SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
        .bind(next.code())
        .bind(&at)
        .bind(id)
        .bind(facts.state.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    let mut detail = serde_json::Map::new();
    match &step {
        Step::CoSign => {
            sqlx::query("UPDATE tickets SET co_signed_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Step::Acknowledge => {
            sqlx::query("UPDATE ticket_crew SET acknowledged_at = $1 WHERE ticket_id = $2 AND person_id = $3")
                .bind(&at)
                .bind(id)
                .bind(by)
                .execute(&mut *tx)
                .await?;
        }
        Step::Extend { to } => {
            sqlx::query("UPDATE tickets SET extended_to = $1 WHERE id = $2")
                .bind(to.to_db())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            detail.insert("extended_to".into(), to.local_display().into());
        }
        Step::ChangeLeader { to } => {
            sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1 AND person_id = $2")
                .bind(id)
                .bind(to)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE tickets SET leader_id = $1 WHERE id = $2").bind(to).bind(id).execute(&mut *tx).await?;
            detail.insert("from".into(), roster_label(&roster, facts.leader).into());
            detail.insert("to".into(), roster_label(&roster, Some(*to)).into());
        }
        Step::AddCrew { person } => {
            sqlx::query("INSERT INTO ticket_crew (ticket_id, person_id) VALUES ($1, $2)")
                .bind(id)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            detail.insert("person".into(), roster_label(&roster, Some(*person)).into());
        }
        Step::RemoveCrew { person } => {
            sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1 AND person_id = $2")
                .bind(id)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            detail.insert("person".into(), roster_label(&roster, Some(*person)).into());
        }
        Step::Permit => {
            sqlx::query("UPDATE tickets SET permitted_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Step::EndWork => {
            sqlx::query("UPDATE tickets SET work_ended_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Step::Close { .. } | Step::NotExecuted | Step::Void => {
            sqlx::query("UPDATE tickets SET finished_at = $1, finish_reason = $2 WHERE id = $3")
                .bind(&at)
                .bind((!note.is_empty()).then_some(note))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        _ => {}
    }
    if !note.is_empty() {
        detail.insert("note".into(), note.into());
    }
    let detail = (!detail.is_empty()).then_some(serde_json::Value::Object(detail));
    record(&mut tx, id, step.code(), facts.state, next, by, cap.actor(), &at, detail.as_ref()).await?;
    let event = NewEvent::new(action(&step), "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "from": facts.state.code(), "to": next.code(), "person": by, "detail": detail,
    }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(next)
}

fn roster_label(roster: &Roster, id: Option<i64>) -> String {
    id.and_then(|i| roster.get(&i)).map(|m| m.label.clone()).unwrap_or_default()
}

/// Signs a step in `ticket_steps`: who, when, from which channel.
#[expect(clippy::too_many_arguments, reason = "one row of the signature table")]
async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    step: &str,
    from: State,
    to: State,
    person: Option<i64>,
    actor: &Actor,
    at: &str,
    detail: Option<&serde_json::Value>,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO ticket_steps (ticket_id, step, from_state, to_state, person_id, username, channel, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(step)
    .bind(from.code())
    .bind(to.code())
    .bind(person)
    .bind((actor.channel != Channel::Job).then(|| actor.name.clone()))
    .bind(actor.channel.code())
    .bind(at)
    .bind(detail.map(serde_json::Value::to_string))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stamps every ticket whose validity lapsed: 未执行 if work was never permitted, 作废 if it
/// was and did not end in time (the scheduler runs this every minute). Returns how many.
pub async fn lapse_overdue(app: &App, meta: &RequestMeta) -> Result<u64, AppError> {
    let now = app.now();
    let actor = Actor { user_id: None, name: "job:ticket-lapse".into(), channel: Channel::Job };
    let rows = sqlx::query(
        "SELECT t.id, t.number, t.unit_id, t.state, t.planned_end, t.extended_to FROM tickets t \
         WHERE t.state IN ('draft', 'issued', 'received', 'permitted', 'started', 'interrupted') \
         AND COALESCE(t.extended_to, t.planned_end) < $1",
    )
    .bind(now.to_db())
    .fetch_all(app.db().pool())
    .await?;
    let mut stamped = 0;
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let number: String = r.try_get(1)?;
        let unit: i64 = r.try_get(2)?;
        let state = State::from_code(&r.try_get::<String, _>(3)?).ok_or_else(|| AppError::internal("ticket state"))?;
        let end_text: String = r.try_get::<Option<String>, _>(5)?.map_or_else(|| r.try_get(4), Ok)?;
        let end = Timestamp::from_db(&end_text).ok_or_else(|| AppError::internal("ticket time"))?;
        let Some(next) = tickets::lifecycle::lapse_state(state, end, now) else { continue };
        let at = now.to_db();
        let mut tx = app.db().begin_write().await?;
        let changed = sqlx::query(
            "UPDATE tickets SET state = $1, finished_at = $2, finish_reason = $3, updated_at = $2 WHERE id = $4 AND state = $5",
        )
        .bind(next.code())
        .bind(&at)
        .bind("lapsed")
        .bind(id)
        .bind(state.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            continue;
        }
        let detail =
            serde_json::json!({ "rule": gridsafe_domain::rules::TICKET_VALIDITY.code, "until": end.local_display() });
        record(&mut tx, id, "lapse", state, next, None, &actor, &at, Some(&detail)).await?;
        let event = NewEvent::new("ticket.lapsed", "ticket", id).unit(unit).summary(serde_json::json!({
            "number": number, "from": state.code(), "to": next.code(), "until": end.to_db(),
        }));
        append(&mut tx, app.db().backend(), &actor, meta, now, event).await?;
        tx.commit().await?;
        stamped += 1;
    }
    Ok(stamped)
}
