//! Work tickets and cards (工作票/工作卡): list, draft, lifecycle steps, briefing, evaluation,
//! monthly pass rate, print, catalogue. Every handler calls the same `gridsafe_app::tickets`
//! functions as the API and the CLI.

pub mod api;
mod catalogue;

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use gridsafe_app::tickets::{
    self, DocumentTypeRow, EvalReason, StepInput, TicketDetail, TicketFilter, TicketInput, TicketRow, UnitMonth,
};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::tickets::State as TicketState;
use gridsafe_domain::tickets::evaluation::Verdict;
use gridsafe_domain::time::Timestamp;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, Refusal, refusal};
use crate::i18n::Lang;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/tickets", list_page)
        .post("/tickets", create)
        .get("/tickets/new", new_page)
        .get("/tickets/evaluation", stats_page)
        .get("/tickets/evaluation.xlsx", stats_export)
        .get("/tickets/{id}", detail_page)
        .post("/tickets/{id}", update)
        .get("/tickets/{id}/print", print_page)
        .post("/tickets/{id}/hazards", add_hazard)
        .post("/tickets/{id}/hazards/{hid}/delete", delete_hazard)
        .post("/tickets/{id}/survey", survey)
        .post("/tickets/{id}/unplanned-approval", approve_unplanned)
        .post("/tickets/{id}/steps", step)
        .post("/tickets/{id}/evaluation", evaluate)
        .merge(catalogue::routes())
}

/// A risk grade in words: `三级（带电作业、重要客户）`.
pub fn risk_label(lang: Lang, g: &gridsafe_domain::risk::Grade) -> String {
    let level = lang.t(&format!("risk-level-{}", g.level));
    if g.raised_by.is_empty() {
        return level;
    }
    let why: Vec<String> = g.raised_by.iter().map(|c| lang.t(&format!("risk-condition-{}", c.code()))).collect();
    format!("{level}（{}）", why.join(&lang.t("list-separator")))
}

/// A state's name in the user's language.
pub fn state_name(lang: Lang, state: TicketState) -> String {
    lang.t(&format!("ticket-state-{}", state.code()))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    unevaluated: Option<String>,
    /// A unit (with those below it) within reach.
    #[serde(default)]
    unit: String,
    /// The planned start's first and last month, `YYYY-MM`.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `oldest` for oldest first; newest first otherwise.
    #[serde(default)]
    order: String,
    /// Where the page starts: the last row of the one before (its planned start and id,
    /// separated by U+001F).
    #[serde(default)]
    after: String,
}

/// Where a list's page starts after `ticket`: its planned start and id, separated by U+001F.
fn cursor_of(ticket: &TicketRow) -> String {
    format!("{}\u{1f}{}", ticket.planned_start.to_db(), ticket.id)
}

/// The ticket a cursor written by [`cursor_of`] names, if it is one.
fn cursor(text: &str) -> Option<(Timestamp, TicketId)> {
    let (start, id) = text.split_once('\u{1f}')?;
    Some((Timestamp::from_db(start)?, id.parse().ok()?))
}

/// Rows per page of the ticket list.
const PAGE: u32 = 100;

impl ListQuery {
    /// The first day of a `YYYY-MM` month, if it is one.
    fn month(text: &str) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").ok()
    }

    /// The planned starts the period covers: from the first day of `from` to the end of `to`.
    fn starting(&self) -> Option<(Timestamp, Timestamp)> {
        let (from, to) = (Self::month(&self.from), Self::month(&self.to));
        if from.is_none() && to.is_none() {
            return None;
        }
        let from = from.map_or(Timestamp::from_utc(chrono::DateTime::UNIX_EPOCH), Timestamp::start_of_local_day);
        let to = to
            .and_then(|m| m.checked_add_months(chrono::Months::new(1)))
            .map_or(Timestamp::from_utc(chrono::DateTime::<chrono::Utc>::MAX_UTC), Timestamp::start_of_local_day);
        Some((from, to))
    }

    fn after(&self) -> Option<(Timestamp, TicketId)> {
        cursor(&self.after)
    }

    /// The filter's part of a link (everything but the page).
    fn query_string(&self) -> String {
        let e = crate::auth::url_encode;
        format!(
            "q={}&state={}&unit={}&from={}&to={}&order={}{}{}",
            e(&self.q),
            e(&self.state),
            e(&self.unit),
            e(&self.from),
            e(&self.to),
            e(&self.order),
            if self.mine.is_some() { "&mine=1" } else { "" },
            if self.unevaluated.is_some() { "&unevaluated=1" } else { "" },
        )
    }
}

#[derive(Template)]
#[template(path = "tickets/list.html")]
struct ListPage {
    chrome: Chrome,
    tickets: Vec<TicketRow>,
    q: ListQuery,
    mine: bool,
    unevaluated: bool,
    states: Vec<&'static str>,
    units: Vec<crate::admin::UnitOption>,
    can_write: bool,
    can_evaluate: bool,
    /// How many the filter selects, the link to the page after this one, and whether this is
    /// the first.
    total: i64,
    next: Option<String>,
    first_page: bool,
    query_string: String,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    uri: axum::extract::OriginalUri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    // The list shows stored tickets as they are, judged against no clock: kept while no commit
    // changes the data.
    let keeping = match state.pages().lookup(&auth, &ctx, &uri.0) {
        Ok(kept) => return Ok(kept),
        Err(keeping) => keeping,
    };
    let person = if q.mine.is_some() { tickets::person_of(state.app(), cap.actor()).await? } else { None };
    let filter = TicketFilter {
        state: TicketState::from_code(&q.state),
        query: Some(q.q.clone()),
        unevaluated: q.unevaluated.is_some(),
        // Someone with no person of their own has no tickets of their own.
        person: if q.mine.is_some() { Some(person.unwrap_or(PersonId::new(-1))) } else { None },
        starting: q.starting(),
        awaiting_unplanned: false,
        unit: q.unit.trim().parse().ok(),
        oldest_first: q.order == "oldest",
        after: q.after(),
    };
    let rows = auth.checked(&state, tickets::list_tickets(state.app(), &cap, &filter, PAGE).await).await?;
    let total = tickets::count_tickets(state.app(), &cap, &TicketFilter { after: None, ..filter }).await?;
    let held = auth.user.principal.permissions();
    let query_string = q.query_string();
    let next = crate::layout::next_page(&rows, PAGE as usize, &query_string, cursor_of);
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(keeping.render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        tickets: rows,
        mine: q.mine.is_some(),
        unevaluated: q.unevaluated.is_some(),
        states: TicketState::ALL.iter().map(|s| s.code()).collect(),
        units,
        can_write: held.contains(&gridsafe_domain::access::Permission::TicketsWrite),
        can_evaluate: held.contains(&gridsafe_domain::access::Permission::TicketsEvaluate),
        total,
        next,
        first_page: q.after.is_empty(),
        query_string,
        q,
    }))
}

/// The fields of the draft form, shared by the new and the detail page.
#[derive(Debug, Default, Deserialize)]
struct TicketForm {
    #[serde(default)]
    type_code: String,
    #[serde(default)]
    unit_id: Option<UnitId>,
    #[serde(default)]
    work_kind: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    customer_name: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    voltage_kv: String,
    #[serde(default)]
    planned_start: String,
    #[serde(default)]
    planned_end: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    co_issuer: String,
    #[serde(default)]
    leader: String,
    #[serde(default)]
    permitter: String,
    #[serde(default)]
    crew: String,
    #[serde(default)]
    orders: String,
    #[serde(default)]
    plan_item: String,
    #[serde(default)]
    unplanned_reason: String,
}

impl TicketForm {
    fn input(self) -> TicketInput {
        TicketInput {
            type_code: self.type_code,
            unit_id: self.unit_id.unwrap_or_default(),
            work_kind: self.work_kind,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            location: self.location,
            content: self.content,
            voltage_kv: self.voltage_kv,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            issuer: self.issuer,
            co_issuer: self.co_issuer,
            leader: self.leader,
            permitter: self.permitter,
            crew: self.crew,
            orders: self.orders,
            plan_item: self.plan_item,
            unplanned_reason: self.unplanned_reason,
        }
    }

    /// The form filled with a ticket's values.
    fn of(t: &TicketDetail) -> Self {
        let code = |p: &Option<tickets::PersonRef>| p.as_ref().map(|p| p.code.clone()).unwrap_or_default();
        Self {
            type_code: t.doc.code.clone(),
            unit_id: Some(t.row.unit_id),
            work_kind: t.row.work_kind.code().to_owned(),
            customer_id: t.row.customer_id.clone().unwrap_or_default(),
            customer_name: t.row.customer_name.clone().unwrap_or_default(),
            location: t.row.location.clone(),
            content: t.content.clone(),
            voltage_kv: t.voltage_kv.map(|v| v.to_string()).unwrap_or_default(),
            planned_start: t.row.planned_start.local_input(),
            planned_end: t.row.planned_end.local_input(),
            issuer: code(&t.issuer),
            co_issuer: code(&t.co_issuer),
            leader: code(&t.leader),
            permitter: code(&t.permitter),
            crew: t.crew.iter().map(|c| c.person.code.clone()).collect::<Vec<_>>().join(" "),
            orders: t.orders.iter().map(|o| format!("{}:{}", o.order_id, o.order_type)).collect::<Vec<_>>().join("\n"),
            plan_item: t.plan.item.as_ref().map(|i| i.id.to_string()).unwrap_or_default(),
            unplanned_reason: t.plan.unplanned_reason.clone().unwrap_or_default(),
        }
    }
}

/// What the draft form offers to choose from.
struct FormChoices {
    types: Vec<DocumentTypeRow>,
    units: Vec<crate::admin::UnitOption>,
    kinds: Vec<&'static str>,
    /// Items of published plans the ticket may carry out, as `(id, label)`.
    items: Vec<(String, String)>,
}

async fn form_choices(
    state: &AppState,
    cap: &gridsafe_domain::access::Capability<perm::TicketsWrite>,
) -> Result<FormChoices, AppError> {
    let types = tickets::document_types(state.app()).await?.into_iter().filter(|t| t.active).collect();
    let units = gridsafe_app::identity::list_units(state.app(), cap.scope()).await?;
    let items = tickets::plan_item_choices(state.app(), cap)
        .await?
        .into_iter()
        .map(|i| (i.id.to_string(), format!("{} – {} {}", i.start.local_display(), i.end.local_display(), i.site)))
        .collect();
    Ok(FormChoices { types, units: crate::admin::unit_options(&units), kinds: tickets::order_types(), items })
}

#[derive(Template)]
#[template(path = "tickets/new.html")]
struct NewPage {
    chrome: Chrome,
    form: TicketForm,
    choices: Option<FormChoices>,
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    let choices = form_choices(&state, &cap).await?;
    let now = state.app().now();
    let later = gridsafe_domain::time::Timestamp::from_utc(now.as_utc() + chrono::Duration::hours(4));
    let form = TicketForm {
        unit_id: choices.units.first().map(|u| u.id),
        planned_start: now.local_input(),
        planned_end: later.local_input(),
        leader: own_code(&state, &auth).await?,
        ..TicketForm::default()
    };
    Ok(render(&NewPage { chrome: Chrome::for_user(ctx, &auth.user), form, choices: Some(choices) }))
}

/// The 工号 of the person linked to the signed-in account, if any.
async fn own_code(state: &AppState, auth: &Auth) -> Result<String, AppError> {
    Ok(tickets::own_person(state.app(), auth.user.principal.actor()).await?.map(|p| p.code).unwrap_or_default())
}

async fn create(State(state): State<AppState>, auth: Auth, Form(form): Form<TicketForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    let id = auth.checked(&state, tickets::create_ticket(state.app(), &cap, &auth.meta, form.input()).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(form): Form<TicketForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::update_draft(state.app(), &cap, &auth.meta, id, form.input()).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
}

/// A step the signed-in person may sign that needs nothing typed, as the page offers it: with
/// what it leads to, or why the rules refuse it now.
struct SignOffer {
    code: &'static str,
    /// The state the ticket reaches, in words; empty when refused.
    next: String,
    refusals: Vec<Refusal>,
    /// The signature asks for the password again (签发、许可、终结 after the window).
    password: bool,
}

/// One person's line in the qualification table of a ticket.
struct CheckLine {
    label: String,
    role: String,
    refusals: Vec<Refusal>,
}

#[derive(Template)]
#[template(path = "tickets/detail.html")]
struct DetailPage {
    chrome: Chrome,
    t: TicketDetail,
    /// Where a ticket of an old register came from.
    imported: Option<String>,
    state_label: String,
    checks: Vec<CheckLine>,
    /// Steps the signed-in person may take.
    offered: Vec<&'static str>,
    /// Of those, the ones that need nothing typed, checked against the rules now.
    signable: Vec<SignOffer>,
    /// The signer as the signature will name him.
    signer: String,
    /// Minutes a password proved counts for a signature.
    signature_window: u32,
    /// A signature that grants or ends work asks for the password now.
    asks_password: bool,
    has_person: bool,
    can_sign: bool,
    can_edit: bool,
    can_evaluate: bool,
    /// The unit's manager may approve its unplanned work now.
    can_approve_unplanned: bool,
    risk: String,
    /// The roles one of which must be on site, in words; empty when none.
    onsite_roles: String,
    /// The caller may record his arrival; his stay here not yet ended.
    can_arrive: bool,
    my_stay: Option<i64>,
    can_record_violation: bool,
    form: TicketForm,
    choices: Option<FormChoices>,
    reasons: Vec<EvalReason>,
    end_input: String,
}

impl DetailPage {
    fn offers(&self, step: &str) -> bool {
        self.offered.contains(&step)
    }

    fn marked(&self, code: &str) -> bool {
        self.t.verdict_reasons.iter().any(|r| r == code)
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<TicketId>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let t = auth.checked(&state, tickets::ticket(state.app(), &cap, id).await).await?;
    let lang = ctx.lang;
    let p = &auth.user.principal;
    let today = state.app().today();
    let checks = tickets::people_check(state.app(), &t, today)
        .await?
        .into_iter()
        .map(|c| CheckLine {
            label: c.label,
            role: lang.t(&format!("field-role-{}", c.role.code())),
            refusals: c.refusals.iter().map(|v| refusal(lang, v)).collect(),
        })
        .collect();
    let person = tickets::person_of(state.app(), p.actor()).await?;
    let can_sign = p.authorize::<perm::TicketsSign>().is_ok();
    let offered = match person {
        Some(me) if can_sign => gridsafe_domain::tickets::offered(&t.facts(), me).iter().map(|s| s.code()).collect(),
        _ => Vec::new(),
    };
    let asks_password = gridsafe_app::identity::signature_asks_password(state.app(), &auth.user);
    let signable = match person {
        Some(me) if can_sign => tickets::preview_steps(state.app(), &t, me)
            .await?
            .into_iter()
            .map(|(kind, answer)| {
                let (next, refusals) = match answer {
                    Ok(next) => (state_name(lang, next), Vec::new()),
                    Err(v) => (String::new(), v.iter().map(|v| refusal(lang, v)).collect()),
                };
                SignOffer { code: kind.code(), next, refusals, password: kind.grants_work() && asks_password }
            })
            .collect(),
        _ => Vec::new(),
    };
    let signer =
        t.people().iter().find(|p| Some(p.id) == person).map_or_else(|| auth.user.display_name.clone(), |p| p.label());
    let write = p.authorize::<perm::TicketsWrite>().ok();
    let can_edit = write.is_some() && t.row.state == TicketState::Draft;
    let choices = match (&write, can_edit) {
        (Some(cap), true) => Some(form_choices(&state, cap).await?),
        _ => None,
    };
    let can_evaluate = p.authorize::<perm::TicketsEvaluate>().is_ok() && t.row.state == TicketState::Closed;
    let can_approve_unplanned = tickets::may_approve_unplanned(&t, p);
    let reasons = if can_evaluate { tickets::eval_reasons(state.app()).await? } else { Vec::new() };
    let end_input =
        gridsafe_domain::time::Timestamp::from_utc(t.row.end().as_utc() + chrono::Duration::hours(2)).local_input();
    let imported =
        crate::history::origin_note(&state, lang, gridsafe_app::history::Record::Ticket, t.row.id.get()).await?;
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        imported,
        state_label: state_name(lang, t.row.state),
        checks,
        offered,
        signable,
        signer,
        signature_window: state.app().security().signature_window_minutes,
        asks_password,
        has_person: person.is_some(),
        can_sign,
        can_edit,
        can_evaluate,
        can_approve_unplanned,
        risk: risk_label(lang, &t.risk),
        onsite_roles: t.on_site.required.iter().map(|r| lang.t(&format!("role-{r}"))).collect::<Vec<_>>().join("、"),
        can_arrive: gridsafe_app::supervision::may_arrive(&t, p),
        my_stay: gridsafe_app::supervision::own_open_stay(&t, p).map(|s| s.id),
        can_record_violation: p.authorize::<perm::ViolationsRecord>().is_ok(),
        form: TicketForm::of(&t),
        choices,
        reasons,
        end_input,
        t,
    }))
}

#[derive(Template)]
#[template(path = "tickets/print.html")]
struct PrintPage {
    chrome: Chrome,
    t: TicketDetail,
    state_label: String,
    risk: String,
}

impl PrintPage {
    /// When `step` was last signed, or a blank to fill in by hand.
    fn signed_at(&self, step: &str) -> String {
        self.t.steps.iter().rev().find(|s| s.step == step).map_or_else(|| "＿＿＿＿".to_owned(), |s| s.at.clone())
    }

    /// Who signed `step` last, and when: `张伟 2026-11-26 09:00`.
    fn signed(&self, step: &str) -> String {
        self.t
            .steps
            .iter()
            .rev()
            .find(|s| s.step == step)
            .map(|s| format!("{} {}", s.person.as_deref().unwrap_or_default(), s.at))
            .unwrap_or_default()
    }
}

async fn print_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<TicketId>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let t = auth.checked(&state, tickets::ticket(state.app(), &cap, id).await).await?;
    let state_label = state_name(ctx.lang, t.row.state);
    let risk = risk_label(ctx.lang, &t.risk);
    Ok(render(&PrintPage { chrome: Chrome::for_user(ctx, &auth.user), state_label, risk, t }))
}

#[derive(Debug, Deserialize)]
struct HazardForm {
    #[serde(default)]
    hazard: String,
    #[serde(default)]
    measure: String,
}

async fn add_hazard(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(f): Form<HazardForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::add_hazard(state.app(), &cap, &auth.meta, id, &f.hazard, &f.measure).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#hazards")).into_response())
}

async fn delete_hazard(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, hid)): Path<(TicketId, i64)>,
    Form(f): Form<crate::form::ReasonForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::delete_hazard(state.app(), &cap, &auth.meta, id, hid, &f.reason).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#hazards")).into_response())
}

#[derive(Debug, Deserialize)]
struct SurveyForm {
    #[serde(default)]
    survey: String,
}

async fn survey(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(f): Form<SurveyForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::record_survey(state.app(), &cap, &auth.meta, id, &f.survey).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#survey")).into_response())
}

async fn approve_unplanned(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansApprove>(&state).await?;
    auth.checked(&state, tickets::approve_unplanned(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#plan")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    measures_restored: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    password: String,
}

async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(f): Form<StepForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsSign>(&state).await?;
    let input = StepInput {
        step: tickets::step_kind(&f.step)?,
        to: f.to,
        person: f.person,
        measures_restored: f.measures_restored.is_some(),
    };
    let step = tickets::parse_step(state.app(), &input).await?;
    auth.confirm_signature(&state, step.kind().grants_work(), &f.password).await?;
    auth.checked(&state, tickets::take_step(state.app(), &cap, &auth.meta, id, step, &f.note).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
}

/// The evaluation form: a verdict and, for 不合格, the reason codes (repeated `reason` fields).
async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsEvaluate>(&state).await?;
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    crate::form::confirmed(value("confirm"))?;
    let verdict = Verdict::from_code(value("verdict"))
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("verdict", "field-verdict")))?;
    let reasons: Vec<String> = pairs.iter().filter(|(k, _)| k == "reason").map(|(_, v)| v.clone()).collect();
    auth.checked(&state, tickets::evaluate(state.app(), &cap, &auth.meta, id, verdict, &reasons, value("note")).await)
        .await?;
    Ok(Redirect::to(&format!("/tickets/{id}#evaluation")).into_response())
}

#[derive(Debug, Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// `YYYY-MM` as its first day; the current month when absent or unreadable.
fn month_of(text: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").unwrap_or_else(|_| {
        use chrono::Datelike;
        today.with_day(1).unwrap_or(today)
    })
}

#[derive(Template)]
#[template(path = "tickets/stats.html")]
struct StatsPage {
    chrome: Chrome,
    month: String,
    rows: Vec<UnitMonth>,
    backlog: Vec<TicketRow>,
    must_evaluate: String,
}

impl StatsPage {
    fn rate(&self, r: &Option<f64>) -> String {
        rate(*r)
    }
}

async fn stats_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let month = month_of(&q.month, state.app().today());
    let rows = tickets::month_stats(state.app(), &cap, month).await?;
    let backlog =
        tickets::list_tickets(state.app(), &cap, &TicketFilter { unevaluated: true, ..TicketFilter::default() }, 200)
            .await?;
    let lang = ctx.lang;
    let must_evaluate = state
        .app()
        .tickets_config()
        .must_evaluate
        .iter()
        .map(|k| lang.t(&format!("order-type-{k}")))
        .collect::<Vec<_>>()
        .join("、");
    Ok(render(&StatsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        month: month.format("%Y-%m").to_string(),
        rows,
        backlog,
        must_evaluate,
    }))
}

async fn stats_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let month = month_of(&q.month, state.app().today());
    let rows = tickets::month_stats(state.app(), &cap, month).await?;
    let name = format!("ticket-pass-rate-{}.xlsx", month.format("%Y-%m"));
    Ok(crate::people::xlsx_file(&name, stats_workbook(Lang::ZhCn, month, &rows)?))
}

/// The month's pass rate per unit as a workbook (the page's export and `gridsafe tickets stats`).
pub fn stats_workbook(lang: Lang, month: NaiveDate, rows: &[UnitMonth]) -> Result<Vec<u8>, gridsafe_app::AppError> {
    let headers: Vec<String> = STATS_COLUMNS.iter().map(|k| lang.t(k)).collect();
    let count = |n: u64| Value::from(i64::try_from(n).unwrap_or(i64::MAX));
    let data: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| {
            vec![
                if r.is_total() { lang.t("stats-total") } else { r.unit_name.clone() }.into(),
                count(r.stats.executed),
                count(r.stats.passed),
                count(r.stats.failed),
                count(r.stats.unevaluated),
                count(r.stats.must_unevaluated),
                rate(r.pass_rate).into(),
                count(r.stats.not_executed),
                count(r.stats.void),
                count(r.left_unclosed),
                count(r.stats.unplanned),
                rate(r.stats.planned_share()).into(),
            ]
        })
        .collect();
    xlsx::ledger(&format!("{} {}", lang.t("stats-title"), month.format("%Y-%m")), &headers, &data)
}

/// The statistics' columns, as message keys.
pub const STATS_COLUMNS: [&str; 12] = [
    "stats-unit",
    "stats-executed",
    "stats-passed",
    "stats-failed",
    "stats-unevaluated",
    "stats-must-unevaluated",
    "stats-rate",
    "stats-not-executed",
    "stats-void",
    "stats-left-unclosed",
    "stats-unplanned",
    "stats-planned-share",
];

/// A pass rate as shown: `97.5%`, or `—` when nothing was executed.
pub fn rate(r: Option<f64>) -> String {
    r.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".to_owned())
}
