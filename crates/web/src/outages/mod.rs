//! Outages (停电申请) and restoration (送电) pages: a unit's outages over a period with their
//! measures, the customer manager's request, one outage with its customers' notices and its
//! tickets, the printed outage notice (停电通知书), and the steps: approval of a late request,
//! the cut, the restoration that waits for every crew, the cancellation.

pub mod api;

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate};
use gridsafe_app::outages::{
    self, CustomerNotice, NoticeInput, OutageDetail, OutageInput, OutageRow, OutageStats, TicketOn,
};
use gridsafe_app::tickets::UnitMonth;
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::TicketId;
use gridsafe_domain::outages::{OutageKind, OutageState, OutageStep};
use gridsafe_domain::time::Timestamp;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/outages", list_page)
        .get("/outages.xlsx", export)
        .get("/outages/new", new_page)
        .post("/outages", create)
        .get("/outages/{id}", detail_page)
        .get("/outages/{id}/notice/{customer}", notice_page)
        .post("/outages/{id}/notices", record_notice)
        .post("/outages/{id}/steps", step)
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    /// `YYYY-MM`; this month when absent or unreadable.
    #[serde(default)]
    month: String,
}

#[derive(Template)]
#[template(path = "outages/list.html")]
struct ListPage {
    chrome: Chrome,
    month: String,
    previous: String,
    next: String,
    outages: Vec<OutageRow>,
    stats: OutageStats,
    /// The month's share of executed tickets that carried out a plan item, for those who see tickets.
    planned_share: Option<String>,
    /// Per unit: notices on time and, for those who see tickets, the share planned, as bars.
    chart: Vec<UnitBars>,
    can_request: bool,
}

/// One unit's two bars on the dashboard: `(width, label)` of notices on time and share planned.
struct UnitBars {
    label: String,
    y: usize,
    notice: (u32, String),
    planned: (u32, String),
}

/// The bars of each unit with outages or executed tickets this month, 4 px to the percent.
fn unit_bars(rows: &[OutageRow], rule: gridsafe_domain::outages::NoticeRule, tickets: &[UnitMonth]) -> Vec<UnitBars> {
    let bar = |rate: Option<f64>| (rate.map_or(0, |r| (r.clamp(0.0, 100.0) * 4.0) as u32), crate::tickets::rate(rate));
    let mut units: BTreeMap<&str, (Vec<OutageRow>, Option<f64>)> = BTreeMap::new();
    for o in rows {
        units.entry(o.unit_name.as_str()).or_default().0.push(o.clone());
    }
    for t in tickets.iter().filter(|t| !t.is_total() && t.stats.executed > 0) {
        units.entry(t.unit_name.as_str()).or_default().1 = t.stats.planned_share();
    }
    units
        .into_iter()
        .enumerate()
        .map(|(i, (label, (outages, planned)))| {
            let s = outages::stats(&outages, rule);
            let notice = (s.notice_needed > 0).then(|| s.notice_on_time as f64 * 100.0 / s.notice_needed as f64);
            UnitBars { label: label.to_owned(), y: 10 + i * 48, notice: bar(notice), planned: bar(planned) }
        })
        .collect()
}

impl ListPage {
    fn percent(&self, part: &usize, whole: &usize) -> String {
        let (part, whole) = (*part, *whole);
        if whole == 0 { "—".to_owned() } else { format!("{:.0}%", part as f64 * 100.0 / whole as f64) }
    }

    fn overrun(&self, o: &OutageRow) -> bool {
        o.restored_at.is_some_and(|r| gridsafe_domain::outages::overrun(o.end, r).is_some())
    }
}

/// The first day of the month `text` names (`YYYY-MM`), or of `today`'s.
pub(crate) fn month_of(text: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .unwrap_or_else(|_| today.with_day(1).unwrap_or(today))
}

pub(crate) fn next_month(first: NaiveDate) -> NaiveDate {
    (first + Duration::days(32)).with_day(1).unwrap_or(first)
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    let first = month_of(&q.month, state.app().today());
    let next = next_month(first);
    let previous = (first - Duration::days(1)).with_day(1).unwrap_or(first);
    let rows = outages::list_outages(
        state.app(),
        &cap,
        Timestamp::start_of_local_day(first),
        Timestamp::start_of_local_day(next),
    )
    .await?;
    let stats = outages::stats(&rows, state.app().plans_config().notice_rule());
    let tickets = match auth.user.principal.authorize::<perm::TicketsView>() {
        Ok(cap) => Some(gridsafe_app::tickets::month_stats(state.app(), &cap, first).await?),
        Err(_) => None,
    };
    let planned_share =
        tickets.as_ref().and_then(|t| t.last()).map(|total| crate::tickets::rate(total.stats.planned_share()));
    let chart = unit_bars(&rows, state.app().plans_config().notice_rule(), tickets.as_deref().unwrap_or_default());
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        month: first.format("%Y-%m").to_string(),
        previous: previous.format("%Y-%m").to_string(),
        next: next.format("%Y-%m").to_string(),
        outages: rows,
        stats,
        planned_share,
        chart,
        can_request: auth.user.principal.authorize::<perm::OutagesRequest>().is_ok(),
    }))
}

/// The month's outage ledger (停电台账) as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth, Query(q): Query<MonthQuery>) -> Result<Response, AppError> {
    use gridsafe_app::xlsx::{self, Value};
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    let first = month_of(&q.month, state.app().today());
    let (from, to) = (Timestamp::start_of_local_day(first), Timestamp::start_of_local_day(next_month(first)));
    let rows = outages::list_outages(state.app(), &cap, from, to).await?;
    let lang = crate::i18n::Lang::ZhCn;
    let headers: Vec<String> = [
        "outages-number",
        "people-unit",
        "outages-kind",
        "plans-state",
        "outages-equipment",
        "plans-start",
        "plans-end",
        "outages-reason",
        "outages-requested",
        "outages-late-reason",
        "outages-approved",
        "outages-cut-at",
        "outages-restored-at",
        "outages-kpi-overruns",
        "outages-kpi-timed",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|o| {
            let over = o
                .restored_at
                .and_then(|r| gridsafe_domain::outages::overrun(o.end, r))
                .map_or(Value::Empty, |d| Value::from(d.num_minutes().max(1)));
            vec![
                o.number.into(),
                o.unit_name.into(),
                lang.t(&format!("outage-kind-{}", o.kind.code())).into(),
                lang.t(&format!("outage-state-{}", o.state.code())).into(),
                o.equipment.into(),
                o.start.local_display().into(),
                o.end.local_display().into(),
                o.reason.into(),
                format!("{} {}", o.requested_by, o.requested_at.local_display()).into(),
                o.late_reason.into(),
                o.approved_by.into(),
                o.cut_at.map(|t| t.local_display()).into(),
                o.restored_at.map(|t| t.local_display()).into(),
                over,
                o.restore_refusals.into(),
            ]
        })
        .collect();
    let name = format!("outages-{}.xlsx", first.format("%Y-%m"));
    Ok(crate::people::xlsx_file(&name, xlsx::ledger(&lang.t("outages-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "outages/new.html")]
struct NewPage {
    chrome: Chrome,
    units: Vec<crate::admin::UnitOption>,
    tickets: Vec<TicketOn>,
    plan_items: Vec<gridsafe_app::outages::PlanItemRef>,
    kinds: [OutageKind; 3],
    planned_days: i64,
    temporary_hours: i64,
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesRequest>(&state).await?;
    let tickets = outages::ticket_choices(state.app(), &cap).await?;
    let plan_items = outages::plan_item_choices(state.app(), &cap).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let rule = state.app().plans_config().notice_rule();
    Ok(render(&NewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        units,
        tickets,
        plan_items,
        kinds: OutageKind::ALL,
        planned_days: rule.planned_hours / 24,
        temporary_hours: rule.temporary_hours,
    }))
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesRequest>(&state).await?;
    let mut input = OutageInput::default();
    for (name, value) in f {
        match name.as_str() {
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            "kind" => input.kind = value,
            "equipment" => input.equipment = value,
            "start" => input.start = value.replace('T', " "),
            "end" => input.end = value.replace('T', " "),
            "reason" => input.reason = value,
            "late_reason" => input.late_reason = value,
            "customers" => input.customers = value,
            "ticket" => {
                if let Ok(id) = value.trim().parse::<TicketId>() {
                    input.tickets.push(id);
                }
            }
            "plan_item" => {
                if let Ok(id) = value.trim().parse::<i64>() {
                    input.plan_items.push(id);
                }
            }
            _ => {}
        }
    }
    let (id, _) = auth.checked(&state, outages::request_outage(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/outages/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "outages/detail.html")]
struct DetailPage {
    chrome: Chrome,
    d: OutageDetail,
    can_request: bool,
    can_approve: bool,
    can_operate: bool,
    channels: [&'static str; 4],
    now_input: String,
}

impl DetailPage {
    fn state(&self) -> OutageState {
        self.d.outage.state
    }

    fn offers(&self, step: &str) -> bool {
        match (self.state(), step) {
            (OutageState::Pending, "approve") => self.can_approve,
            (OutageState::Scheduled, "cut") | (OutageState::Cut, "restore") => self.can_operate,
            (OutageState::Pending | OutageState::Scheduled, "cancel") => self.can_request,
            _ => false,
        }
    }

    /// Notices before the cut are recorded until supply is back; told of an overrun once it runs over.
    fn takes_notices(&self) -> bool {
        self.can_request && matches!(self.state(), OutageState::Pending | OutageState::Scheduled | OutageState::Cut)
    }

    fn takes_overrun_notices(&self) -> bool {
        self.can_request && self.d.overrun_minutes.is_some()
    }

    fn importance(&self, c: &CustomerNotice) -> String {
        let code = gridsafe_domain::customers::importance_code(c.customer.importance);
        self.chrome.t(&format!("importance-{code}")).into_owned()
    }

    fn scan_of(&self, notice: &i64) -> Option<i64> {
        self.d.scans.get(notice).map(|a| a.id)
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    let d = auth.checked(&state, outages::outage(state.app(), &cap, id).await).await?;
    let p = &auth.user.principal;
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        can_request: p.authorize::<perm::OutagesRequest>().is_ok(),
        can_approve: p.authorize::<perm::OutagesApprove>().is_ok(),
        can_operate: p.authorize::<perm::OutagesOperate>().is_ok(),
        channels: outages::CHANNELS,
        now_input: state.app().now().local_input(),
    }))
}

#[derive(Template)]
#[template(path = "outages/notice.html")]
struct NoticePage {
    chrome: Chrome,
    d: OutageDetail,
    c: CustomerNotice,
    copies: [&'static str; 2],
}

/// The outage notice (停电通知书) for one customer of the outage: the customer's copy and the
/// receipt the customer signs and the customer manager files.
async fn notice_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path((id, customer)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    let d = auth.checked(&state, outages::outage(state.app(), &cap, id).await).await?;
    let c = d.customers.iter().find(|c| c.customer.id == customer).cloned().ok_or_else(crate::auth::not_found)?;
    Ok(render(&NoticePage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        c,
        copies: ["notice-copy-customer", "notice-copy-file"],
    }))
}

/// How one customer was told: the signed notice with its scan (a multipart form), or the
/// channel and time.
async fn record_notice(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesRequest>(&state).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "scan").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    if field("confirm") != "1" {
        // Out of reach is said before an unticked box.
        auth.checked(&state, outages::outage(state.app(), &cap, id).await).await?;
        crate::form::confirmed(&field("confirm"))?;
    }
    let input = NoticeInput {
        customer_id: field("customer_id").trim().parse().unwrap_or_default(),
        purpose: field("purpose"),
        channel: field("channel"),
        signed_by: field("signed_by"),
        notified_at: field("notified_at"),
        scan: file,
    };
    auth.checked(&state, outages::record_notice(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/outages/{id}#customers")).into_response())
}

/// Takes a step with the capability it needs: approval the unit's manager's, cut and restore the
/// permit giver's, cancellation the customer manager's (pages and API alike).
pub(crate) async fn take_step(
    state: &AppState,
    auth: &Auth,
    id: i64,
    step: &str,
    reason: &str,
) -> Result<(), AppError> {
    let app = state.app();
    let step = OutageStep::from_code(step.trim())
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("step", "field-outage-step")))?;
    match step {
        OutageStep::Approve => {
            let cap = auth.require::<perm::OutagesApprove>(state).await?;
            auth.checked(state, outages::approve(app, &cap, &auth.meta, id).await).await?;
        }
        OutageStep::Cut | OutageStep::Restore => {
            let cap = auth.require::<perm::OutagesOperate>(state).await?;
            auth.checked(state, outages::operate(app, &cap, &auth.meta, id, step).await).await?;
        }
        OutageStep::Cancel => {
            let cap = auth.require::<perm::OutagesRequest>(state).await?;
            auth.checked(state, outages::cancel(app, &cap, &auth.meta, id, reason).await).await?;
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct StepForm {
    step: String,
    #[serde(default)]
    reason: String,
}

async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, AppError> {
    take_step(&state, &auth, id, &f.step, &f.reason).await?;
    Ok(Redirect::to(&format!("/outages/{id}")).into_response())
}
