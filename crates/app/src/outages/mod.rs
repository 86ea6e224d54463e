//! Outages for customer work (停电申请) and restoration (送电): the customer manager's request,
//! the notice to each customer, the manager's approval of a late request, the cut, and the
//! restoration that waits for every crew to report work ended. The rules are the domain's
//! (`gridsafe_domain::outages`); every step reads the outage, its customers, notices and tickets
//! inside the unit of work that writes it, with the outage's row held.

use std::collections::BTreeMap;

use chrono::Duration;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::inspections::Importance;
use gridsafe_domain::outages::{self, Facts, Notified, OnOutage, OutageKind, OutageState, OutageStep};
use gridsafe_domain::rules::Violation;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::Conn;
use gridsafe_store::outages as store;
use gridsafe_store::plans::Nameable;
use serde::Serialize;

pub use gridsafe_store::outages::{CustomerOn, NoticeRow, OutageRow, PlanItemRef, TicketOn};

use crate::audit::NewEvent;
use crate::customers::AttachmentMeta;
use crate::home::Todo;
use crate::identity::{check_stored_path, unit_by_id};
use crate::tickets::{local_time, split_items};
use crate::{App, AppError, FieldProblem, RequestMeta, Work};

/// Most customers one request names.
pub const MAX_CUSTOMERS: usize = 200;
/// Most tickets one request names.
pub const MAX_TICKETS: usize = 50;
/// Longest outage window one request asks for.
pub const MAX_WINDOW_HOURS: i64 = 72;

/// The units an outage capability reaches.
pub trait OutagesReach: PermissionMarker {}
impl OutagesReach for perm::OutagesView {}
impl OutagesReach for perm::OutagesRequest {}
impl OutagesReach for perm::OutagesApprove {}
impl OutagesReach for perm::OutagesOperate {}

/// Outages in reach whose window starts in `[from, to)`, by start.
pub async fn list_outages<P: OutagesReach>(
    app: &App,
    cap: &Capability<P>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<OutageRow>, AppError> {
    Ok(store::list(&mut *app.db().read().await?, cap.scope(), from, to, 2000).await?)
}

/// Where one customer's notice stands.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerNotice {
    pub customer: CustomerOn,
    pub important: bool,
    /// The notices recorded for it, the first first.
    pub notices: Vec<NoticeRow>,
}

impl CustomerNotice {
    /// Signed for (an important customer's written notice).
    pub fn signed(&self) -> bool {
        self.notices.iter().any(|n| n.purpose == "outage" && n.channel == "signed")
    }

    /// Told another way before the cut.
    pub fn told(&self) -> bool {
        self.notices.iter().any(|n| n.purpose == "outage")
    }

    /// Its notice is all the cut needs.
    pub fn ready(&self) -> bool {
        if self.important { self.signed() } else { self.told() }
    }
}

/// An outage with everything on it.
#[derive(Debug, Clone, Serialize)]
pub struct OutageDetail {
    pub outage: OutageRow,
    pub customers: Vec<CustomerNotice>,
    pub tickets: Vec<TicketOn>,
    /// The plan items the outage serves.
    pub plan_items: Vec<PlanItemRef>,
    /// The scans of signed notices, by notice id.
    pub scans: BTreeMap<i64, AttachmentMeta>,
    /// Minutes supply stayed (or has so far stayed) off beyond the announced end.
    pub overrun_minutes: Option<i64>,
}

impl OutageDetail {
    fn facts(&self) -> Facts {
        Facts {
            customers: self
                .customers
                .iter()
                .map(|c| Notified {
                    account_no: c.customer.account_no.clone(),
                    important: c.important,
                    signed: c.signed(),
                    told: c.told(),
                })
                .collect(),
            tickets: self.tickets.iter().map(|t| OnOutage { number: t.label(), state: t.state }).collect(),
        }
    }
}

/// Outage `id` read on `conn` at `now`, refused unless `cap` reaches its unit; with `hold`, held.
async fn load<P: OutagesReach>(
    conn: &mut Conn,
    cap: &Capability<P>,
    id: i64,
    hold: bool,
    now: Timestamp,
) -> Result<OutageDetail, AppError> {
    let outage = store::get(conn, id, hold).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &outage.unit_path)?;
    let mut notices: BTreeMap<i64, Vec<NoticeRow>> = BTreeMap::new();
    for n in store::notices(conn, id).await? {
        notices.entry(n.customer_id).or_default().push(n);
    }
    let customers = store::customers(conn, id)
        .await?
        .into_iter()
        .map(|c| CustomerNotice {
            important: c.importance != Importance::None,
            notices: notices.remove(&c.id).unwrap_or_default(),
            customer: c,
        })
        .collect();
    let tickets = store::tickets(conn, id).await?;
    let plan_items = store::plan_items(conn, id).await?;
    let scans = store::scans(conn, id).await?.into_iter().map(|a| (a.owner_id, a)).collect();
    let back = match outage.state {
        OutageState::Restored => outage.restored_at,
        OutageState::Cut => Some(now),
        _ => None,
    };
    let overrun_minutes = back.and_then(|b| outages::overrun(outage.end, b)).map(|d| d.num_minutes().max(1));
    Ok(OutageDetail { outage, customers, tickets, plan_items, scans, overrun_minutes })
}

pub async fn outage<P: OutagesReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<OutageDetail, AppError> {
    load(&mut *app.db().read().await?, cap, id, false, app.now()).await
}

/// The tickets a request may name: not finished, in reach, their window not yet over.
pub async fn ticket_choices(app: &App, cap: &Capability<perm::OutagesRequest>) -> Result<Vec<TicketOn>, AppError> {
    let now = app.now();
    Ok(store::open_tickets(&mut *app.db().read().await?, cap.scope(), now, 200).await?)
}

/// The plan items needing an outage a request may name: in reach, from today for 30 days.
pub async fn plan_item_choices(
    app: &App,
    cap: &Capability<perm::OutagesRequest>,
) -> Result<Vec<PlanItemRef>, AppError> {
    let from = Timestamp::start_of_local_day(app.today());
    let to = Timestamp::start_of_local_day(app.today() + Duration::days(30));
    let mut conn = app.db().read().await?;
    Ok(gridsafe_store::plans::nameable_items(&mut conn, cap.scope(), Nameable::ByOutage, from, to, 200).await?)
}

/// A request as entered: times as local wall-clock text, customers by 户号.
#[derive(Debug, Clone, Default)]
pub struct OutageInput {
    pub unit_id: UnitId,
    /// `planned`, `temporary` or `fault`.
    pub kind: String,
    /// The feeder or transformer (线路、台区).
    pub equipment: String,
    pub start: String,
    pub end: String,
    /// What the work is (停电原因、工作内容).
    pub reason: String,
    /// Why the request is later than the notice allows (then the unit's manager approves it).
    pub late_reason: String,
    /// 户号, separated by blanks, commas or 、.
    pub customers: String,
    pub tickets: Vec<TicketId>,
    /// Ids of the plan items the outage serves.
    pub plan_items: Vec<i64>,
}

/// Requests an outage (the customer manager only: 一口对外); its id and the state it entered:
/// scheduled, or pending the manager's approval when later than the notice allows.
pub async fn request_outage(
    app: &App,
    cap: &Capability<perm::OutagesRequest>,
    meta: &RequestMeta,
    input: OutageInput,
) -> Result<(i64, OutageState), AppError> {
    let mut problems = Vec::new();
    let kind = OutageKind::from_code(input.kind.trim());
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-outage-kind").with("value", input.kind.trim()));
    }
    let equipment = trim_blank(&input.equipment).to_owned();
    if equipment.is_empty() || equipment.chars().count() > 100 {
        problems.push(FieldProblem::new("equipment", "field-name-length").with("max", 100));
    }
    let reason = trim_blank(&input.reason).to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        problems.push(FieldProblem::new("reason", "field-name-length").with("max", 500));
    }
    let late_reason = trim_blank(&input.late_reason).to_owned();
    if late_reason.chars().count() > 500 {
        problems.push(FieldProblem::new("late_reason", "field-name-length").with("max", 500));
    }
    let start = local_time("start", &input.start, &mut problems);
    let end = local_time("end", &input.end, &mut problems);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            problems.push(FieldProblem::new("end", "field-end-before-start"));
        } else if e.as_utc() - s.as_utc() > Duration::hours(MAX_WINDOW_HOURS) {
            problems.push(FieldProblem::new("end", "field-outage-window").with("max", MAX_WINDOW_HOURS));
        }
    }
    let accounts: Vec<&str> = split_items(&input.customers).collect();
    if accounts.is_empty() || accounts.len() > MAX_CUSTOMERS {
        problems.push(FieldProblem::new("customers", "field-outage-customers").with("max", MAX_CUSTOMERS));
    }
    let mut tickets = input.tickets.clone();
    tickets.sort();
    tickets.dedup();
    if tickets.len() > MAX_TICKETS {
        problems.push(FieldProblem::new("tickets", "field-outage-tickets").with("max", MAX_TICKETS));
    }
    let mut plan_items = input.plan_items.clone();
    plan_items.sort_unstable();
    plan_items.dedup();
    if plan_items.len() > MAX_TICKETS {
        problems.push(FieldProblem::new("plan_items", "field-outage-tickets").with("max", MAX_TICKETS));
    }
    let unit = unit_by_id(app, input.unit_id).await?;
    if unit.is_none() {
        problems.push(FieldProblem::new("unit_id", "field-unit"));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(kind), Some(start), Some(end), Some(unit)) = (kind, start, end, unit) else {
        return Err(AppError::Invalid(problems));
    };
    cap.check(&unit.path)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    // The customers and tickets named, each in reach.
    let mut customers = Vec::new();
    for account in accounts.iter().take(MAX_CUSTOMERS) {
        match store::customer_by_account(work.conn(), account).await? {
            Some((id, _, path)) if check_stored_path(cap, &path).is_ok() => {
                if !customers.contains(&id) {
                    customers.push(id);
                }
            }
            _ => problems.push(FieldProblem::new("customers", "field-outage-customer").with("value", *account)),
        }
    }
    for t in &tickets {
        match store::ticket(work.conn(), *t).await? {
            Some(on) if check_stored_path(cap, &on.unit_path).is_ok() && !on.state.is_final() => {}
            _ => problems.push(FieldProblem::new("tickets", "field-outage-ticket").with("value", t)),
        }
    }
    for i in &plan_items {
        match gridsafe_store::plans::item(work.conn(), *i).await? {
            Some(on) if check_stored_path(cap, &on.unit_path).is_ok() => {}
            _ => problems.push(FieldProblem::new("plan_items", "field-outage-plan-item").with("value", i)),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let state = outages::check_request(kind, now, start, app.plans_config().notice_rule(), &late_reason)?;
    let number = gridsafe_store::numbers::next(work.conn(), "TD", now.local_date()).await?;
    let late = (state == OutageState::Pending).then_some(late_reason.as_str());
    let new = store::NewOutage {
        number: &number,
        unit: unit.id,
        kind,
        state,
        equipment: &equipment,
        start,
        end,
        reason: &reason,
        late_reason: late,
        by: &cap.actor().name,
        by_user: cap.actor().user_id,
        customers: &customers,
        tickets: &tickets,
        plan_items: &plan_items,
    };
    let id = store::insert(work.conn(), &new, now).await?;
    work.audit(NewEvent::new("outage.requested", "outage", id).unit(unit.id).summary(serde_json::json!({
        "number": number, "kind": kind.code(), "state": state.code(), "equipment": equipment,
        "start": start.to_db(), "end": end.to_db(), "customers": customers.len(),
        "tickets": tickets.iter().map(|t| t.get()).collect::<Vec<_>>(), "plan_items": plan_items, "late_reason": late,
    })))
    .await?;
    work.commit().await?;
    Ok((id, state))
}

/// A notice as entered.
#[derive(Debug, Clone, Default)]
pub struct NoticeInput {
    pub customer_id: i64,
    /// `outage` (before the cut) or `overrun` (supply comes back late).
    pub purpose: String,
    /// `signed`, `phone`, `sms` or `announcement`.
    pub channel: String,
    /// Who signed for the written notice (required when `signed`).
    pub signed_by: String,
    /// When the customer was told, local time; empty for now.
    pub notified_at: String,
    /// The scan of the signed notice (required when `signed`).
    pub scan: Option<(String, Vec<u8>)>,
}

pub const CHANNELS: [&str; 4] = ["signed", "phone", "sms", "announcement"];

/// Records how one customer of the outage was told: the signed notice with its scan, or the
/// channel and time.
pub async fn record_notice(
    app: &App,
    cap: &Capability<perm::OutagesRequest>,
    meta: &RequestMeta,
    id: i64,
    input: NoticeInput,
) -> Result<(), AppError> {
    // In reach first: a record out of reach is refused whatever the form says.
    outage(app, cap, id).await?;
    let mut problems = Vec::new();
    let purpose = input.purpose.trim();
    if !matches!(purpose, "outage" | "overrun") {
        problems.push(FieldProblem::new("purpose", "field-outage-purpose"));
    }
    let channel = input.channel.trim();
    if !CHANNELS.contains(&channel) {
        problems.push(FieldProblem::new("channel", "field-outage-channel").with("value", channel));
    }
    let signer = trim_blank(&input.signed_by).to_owned();
    if signer.chars().count() > 50 || (channel == "signed" && signer.is_empty()) {
        problems.push(FieldProblem::new("signed_by", "field-name-length").with("max", 50));
    }
    let now = app.now();
    let at = if input.notified_at.trim().is_empty() {
        Some(now)
    } else {
        local_time("notified_at", &input.notified_at.replace('T', " "), &mut problems)
    };
    if at.is_some_and(|t| t > now) {
        problems.push(FieldProblem::new("notified_at", "field-outage-told-future"));
    }
    let scan = match (&input.scan, channel) {
        (Some((_, bytes)), _) => Some(crate::customers::files::check_upload(app, "scan", bytes, true)?),
        (None, "signed") => {
            problems.push(FieldProblem::new("scan", "field-outage-scan"));
            None
        }
        (None, _) => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let Some(at) = at else { return Err(AppError::Invalid(problems)) };
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = load(work.conn(), cap, id, true, now).await?;
    let customer = d.customers.iter().find(|c| c.customer.id == input.customer_id).ok_or(AppError::NotFound)?;
    let open = match purpose {
        "outage" => matches!(d.outage.state, OutageState::Pending | OutageState::Scheduled | OutageState::Cut),
        _ => matches!(d.outage.state, OutageState::Cut | OutageState::Restored),
    };
    if !open {
        return Err(Violation::of(gridsafe_domain::rules::OUTAGE_STATE)
            .with("outage_state", d.outage.state.code())
            .into());
    }
    let new = store::NewNotice {
        customer: input.customer_id,
        purpose,
        channel,
        signed_by: Some(signer.as_str()).filter(|s| !s.is_empty()),
        notified_at: at,
        by: &cap.actor().name,
    };
    let notice = store::insert_notice(work.conn(), id, &new, now).await?;
    let mut file = None;
    if let (Some((name, bytes)), Some(t)) = (&input.scan, scan) {
        file = Some(
            crate::customers::files::store(
                work.conn(),
                "outage_notice",
                notice,
                d.outage.unit_id,
                name,
                t,
                bytes,
                &cap.actor().name,
                now,
            )
            .await?,
        );
    }
    work.audit(NewEvent::new("outage.notice_recorded", "outage", id).unit(d.outage.unit_id).summary(
        serde_json::json!({
            "number": d.outage.number, "customer": customer.customer.account_no, "purpose": purpose,
            "channel": channel, "notified_at": at.to_db(), "scan": file,
        }),
    ))
    .await?;
    work.commit().await
}

/// The unit's manager approves a request made later than the notice allows.
pub async fn approve(
    app: &App,
    cap: &Capability<perm::OutagesApprove>,
    meta: &RequestMeta,
    id: i64,
) -> Result<OutageState, AppError> {
    take_step(app, cap, meta, id, OutageStep::Approve, "").await
}

/// The permit giver cuts supply (every notice in) or restores it (every crew's work ended).
pub async fn operate(
    app: &App,
    cap: &Capability<perm::OutagesOperate>,
    meta: &RequestMeta,
    id: i64,
    step: OutageStep,
) -> Result<OutageState, AppError> {
    if !matches!(step, OutageStep::Cut | OutageStep::Restore) {
        return Err(AppError::invalid("step", "field-outage-step"));
    }
    take_step(app, cap, meta, id, step, "").await
}

/// The customer manager cancels a request before supply is cut, with the reason.
pub async fn cancel(
    app: &App,
    cap: &Capability<perm::OutagesRequest>,
    meta: &RequestMeta,
    id: i64,
    reason: &str,
) -> Result<OutageState, AppError> {
    let reason = trim_blank(reason);
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::Invalid(vec![FieldProblem::new("reason", "field-name-length").with("max", 500)]));
    }
    take_step(app, cap, meta, id, OutageStep::Cancel, reason).await
}

async fn take_step<P: OutagesReach>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    id: i64,
    step: OutageStep,
    reason: &str,
) -> Result<OutageState, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let d = load(work.conn(), cap, id, true, now).await?;
    // Tickets' states are read after the outage's row is held: a ticket that reports work ended
    // now is seen or waits.
    let by_requester = d.outage.requested_by_user.is_some() && d.outage.requested_by_user == cap.actor().user_id;
    let next = match outages::check_step(d.outage.state, d.outage.kind, step, by_requester, &d.facts()) {
        Ok(next) => next,
        Err(refusals) => {
            if step == OutageStep::Restore && d.outage.state == OutageState::Cut {
                drop(work);
                refused_restore(app, cap, meta, &d, &refusals).await?;
            }
            return Err(AppError::Rules(refusals));
        }
    };
    let reason = (step == OutageStep::Cancel).then_some(reason);
    if !store::set_state(work.conn(), id, d.outage.state, next, &cap.actor().name, reason, now).await? {
        return Err(AppError::Conflict("conflict-outage-changed"));
    }
    let overrun = match step {
        OutageStep::Restore => outages::overrun(d.outage.end, now).map(|o| o.num_minutes().max(1)),
        _ => None,
    };
    work.audit(NewEvent::new(step_action(step), "outage", id).unit(d.outage.unit_id).summary(serde_json::json!({
        "number": d.outage.number, "from": d.outage.state.code(), "to": next.code(),
        "tickets": d.tickets.iter().map(TicketOn::label).collect::<Vec<_>>(),
        "overrun_minutes": overrun, "reason": reason,
    })))
    .await?;
    work.commit().await?;
    Ok(next)
}

/// Counts a restoration refused because a crew had not reported work ended, and records it in
/// the audit trail: 约时送电 prevented is a measure the unit is judged on.
async fn refused_restore<P: OutagesReach>(
    app: &App,
    cap: &Capability<P>,
    meta: &RequestMeta,
    d: &OutageDetail,
    refusals: &[Violation],
) -> Result<(), AppError> {
    let mut work: Work<'_> = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    store::count_refusal(work.conn(), d.outage.id, now).await?;
    let open: Vec<String> = refusals
        .iter()
        .flat_map(|v| v.args.iter().filter(|(k, _)| *k == "open_ticket").map(|(_, t)| t.clone()))
        .collect();
    work.audit(
        NewEvent::new("outage.restore_refused", "outage", d.outage.id)
            .unit(d.outage.unit_id)
            .summary(serde_json::json!({ "number": d.outage.number, "open_tickets": open })),
    )
    .await?;
    work.commit().await
}

fn step_action(step: OutageStep) -> &'static str {
    match step {
        OutageStep::Approve => "outage.approved",
        OutageStep::Cut => "outage.cut",
        OutageStep::Restore => "outage.restored",
        OutageStep::Cancel => "outage.cancelled",
    }
}

/// A unit's outages over a period, as the dashboard counts them.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct OutageStats {
    pub outages: usize,
    /// Requested at least the notice ahead (faults excluded).
    pub notice_on_time: usize,
    /// Requests that needed notice (planned and temporary).
    pub notice_needed: usize,
    /// Restored later than announced.
    pub overruns: usize,
    /// Early restorations refused (约时送电 prevented).
    pub timed_refused: i64,
}

/// Counts `rows` as the dashboard shows them.
pub fn stats(rows: &[OutageRow], rule: outages::NoticeRule) -> OutageStats {
    let mut s = OutageStats { outages: rows.len(), ..OutageStats::default() };
    for o in rows {
        if let Some(needed) = rule.needed(o.kind) {
            s.notice_needed += 1;
            if o.start.as_utc() - o.requested_at.as_utc() >= needed {
                s.notice_on_time += 1;
            }
        }
        if o.restored_at.is_some_and(|r| outages::overrun(o.end, r).is_some()) {
            s.overruns += 1;
        }
        s.timed_refused += o.restore_refusals;
    }
    s
}

/// What `principal` must do now about outages and plans in reach, late first.
pub async fn todo(app: &App, principal: &gridsafe_domain::access::Principal) -> Result<Vec<Todo>, AppError> {
    let now = app.now();
    let mut out = Vec::new();
    let request = principal.authorize::<perm::OutagesRequest>().ok();
    let approve = principal.authorize::<perm::OutagesApprove>().ok();
    let operate = principal.authorize::<perm::OutagesOperate>().ok();
    let Some(scope) = request
        .as_ref()
        .map(|c| c.scope().to_vec())
        .or_else(|| approve.as_ref().map(|c| c.scope().to_vec()))
        .or_else(|| operate.as_ref().map(|c| c.scope().to_vec()))
    else {
        return plans_todo(app, principal, now, out).await;
    };
    let mut conn = app.db().read().await?;
    for (o, unready) in store::open(&mut conn, &scope, 200).await? {
        let (may_request, may_approve, may_operate) =
            (reaches(&request, &o.unit_path), reaches(&approve, &o.unit_path), reaches(&operate, &o.unit_path));
        let mut push = |what: &'static str, due: Timestamp, late: bool| {
            out.push(Todo {
                what,
                link: format!("/outages/{}", o.id),
                subject: format!("{} · {}", o.number, o.equipment),
                word: None,
                due: due.local_display(),
                late,
            })
        };
        let started = o.start <= now;
        match o.state {
            OutageState::Pending if may_approve => push("home-todo-outage-approve", o.start, started),
            OutageState::Pending | OutageState::Scheduled if unready > 0 && may_request => {
                push("home-todo-outage-notices", o.start, started)
            }
            OutageState::Scheduled if unready == 0 && may_operate => push("home-todo-outage-cut", o.start, started),
            OutageState::Cut => {
                let over = o.end < now;
                if may_operate {
                    push("home-todo-outage-restore", o.end, over);
                }
                if over && may_request {
                    push("home-todo-outage-overrun", o.end, true);
                }
            }
            _ => {}
        }
    }
    drop(conn);
    plans_todo(app, principal, now, out).await
}

/// Whether `cap` is held and reaches the unit at `path`.
fn reaches<P: PermissionMarker>(cap: &Option<Capability<P>>, path: &str) -> bool {
    cap.as_ref().is_some_and(|c| check_stored_path(c, path).is_ok())
}

/// The plans the unit's manager must approve or publish, added to `out`; late first.
async fn plans_todo(
    app: &App,
    principal: &gridsafe_domain::access::Principal,
    now: Timestamp,
    mut out: Vec<Todo>,
) -> Result<Vec<Todo>, AppError> {
    if let Ok(cap) = principal.authorize::<perm::PlansApprove>() {
        // Those waiting, the late first: a plan not approved in time stays on the list however
        // many plans came after it.
        for p in crate::plans::plans_awaiting(app, &cap, 200).await? {
            let what = match p.state {
                gridsafe_domain::plans::PlanState::Draft if p.items > 0 => "home-todo-plan-approve",
                gridsafe_domain::plans::PlanState::Approved => "home-todo-plan-publish",
                _ => continue,
            };
            out.push(Todo {
                what,
                link: format!("/plans/{}", p.id),
                subject: format!("{} · {}", p.unit_name, p.first_day),
                word: None,
                due: p.first_day.to_string(),
                late: p.first_day <= now.local_date(),
            });
        }
        let waiting =
            crate::tickets::TicketFilter { awaiting_unplanned: true, oldest_first: true, ..Default::default() };
        for t in crate::tickets::list_tickets(app, &cap, &waiting, 200).await? {
            out.push(Todo {
                what: "home-todo-ticket-unplanned",
                link: format!("/tickets/{}#plan", t.id),
                subject: format!("{} · {}", t.number, t.location),
                word: None,
                due: t.planned_start.local_display(),
                late: t.planned_start <= now,
            });
        }
    }
    out.sort_by_key(|t| !t.late);
    Ok(out)
}
