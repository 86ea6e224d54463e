//! Emergency plans and drills, rural pilots and their library, complaints and evaluations: the
//! overview with the drills due and the month's complaints and evaluations per unit, the plans
//! and a plan's drills, a drill with the hazards its problems opened, the pilots' page, and the
//! customers' voice.

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::emergency::{
    self, ComplaintInput, DocumentInput, DrillDetail, DrillInput, DueDrill, EvaluationInput, Feedback, HazardInput,
    Indicators, PilotInput, PlanDetail, PlanInput, PlanRow, RiskRow,
};
use gridsafe_domain::access::perm;
use gridsafe_domain::emergency::{DrillRating, EvaluationKind, PlanKind};
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
        .get("/emergency", overview_page)
        .get("/emergency.xlsx", export)
        .get("/emergency/plans", plans_page)
        .post("/emergency/plans", create_plan)
        .get("/emergency/plans/{id}", plan_page)
        .post("/emergency/plans/{id}/drills", record_drill)
        .get("/emergency/drills/{id}", drill_page)
        .get("/emergency/pilots", pilots_page)
        .post("/emergency/pilots", create_pilot)
        .post("/emergency/pilots/documents", publish_document)
        .get("/feedback", feedback_page)
        .post("/feedback/complaints", record_complaint)
        .post("/feedback/import", import_complaints)
        .post("/feedback/complaints/{id}/hazard", complaint_hazard)
        .post("/feedback/evaluations", record_evaluation)
        .post("/feedback/evaluations/{id}/hazard", evaluation_hazard)
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// A bar of a chart: label, top, width, the words beside it.
pub(crate) struct Bar {
    label: String,
    y: usize,
    width: u32,
    text: String,
}

fn bars(values: &[(String, usize)]) -> Vec<Bar> {
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    values
        .iter()
        .enumerate()
        .map(|(i, (label, n))| Bar {
            label: label.clone(),
            y: 10 + i * 28,
            width: u32::try_from(n * 400 / max).unwrap_or(400),
            text: n.to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "emergency/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    due: Vec<DueDrill>,
    past_review: Vec<PlanRow>,
    feedback: Feedback,
    unit_bars: Vec<Bar>,
    trend_bars: Vec<Bar>,
    previous: String,
    next: String,
    /// The drill cycles in force, in months, and where their defaults come from.
    cycles: gridsafe_domain::emergency::DrillCycles,
    origin: &'static str,
}

impl OverviewPage {
    fn cycles_text(&self) -> String {
        let c = self.cycles;
        self.chrome.t_args(
            "emergency-cycles",
            &[
                ("unit", c.unit_months.into()),
                ("onsite", c.onsite_months.into()),
                ("customer", c.customer_months.into()),
            ],
        )
    }
}

async fn overview_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let today = state.app().today();
    let first = crate::outages::month_of(&q.month, today);
    let due = emergency::schedule(state.app(), &cap).await?;
    let past_review = emergency::plans(state.app(), &cap)
        .await?
        .into_iter()
        .filter(|p| p.retired_on.is_none() && gridsafe_domain::emergency::review_overdue(p.review_due, today))
        .collect();
    let feedback = emergency::feedback(state.app(), &cap, first).await?;
    let unit_bars = bars(&feedback.units.iter().map(|u| (u.unit_name.clone(), u.complaints)).collect::<Vec<_>>());
    let trend_bars = bars(&feedback.trend);
    Ok(render(&OverviewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        due,
        past_review,
        feedback,
        unit_bars,
        trend_bars,
        previous: (first - chrono::Duration::days(1)).format("%Y-%m").to_string(),
        next: crate::outages::next_month(first).format("%Y-%m").to_string(),
        cycles: state.app().emergency_config().cycles(),
        origin: gridsafe_domain::emergency::CYCLES_ORIGIN,
    }))
}

/// The drill schedule and the plans (应急预案及演练台账) as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    use gridsafe_app::xlsx::{self, Value};
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let lang = crate::i18n::Lang::ZhCn;
    let headers: Vec<String> =
        ["people-unit", "emergency-kind", "emergency-plan", "emergency-last-drill", "emergency-due", "emergency-state"]
            .iter()
            .map(|k| lang.t(k))
            .collect();
    let data: Vec<Vec<Value>> = emergency::schedule(state.app(), &cap)
        .await?
        .into_iter()
        .map(|d| {
            vec![
                d.unit_name.into(),
                lang.t(&format!("emergency-kind-{}", d.due.kind.code())).into(),
                d.plan.map(|p| format!("{} {}", p.number, p.title)).into(),
                d.due.last.map(|l| l.to_string()).into(),
                d.due.due.to_string().into(),
                lang.t(if d.due.overdue { "emergency-overdue" } else { "emergency-on-schedule" }).into(),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("emergency.xlsx", xlsx::ledger(&lang.t("emergency-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "emergency/plans.html")]
struct PlansPage {
    chrome: Chrome,
    plans: Vec<PlanRow>,
    risks: Vec<RiskRow>,
    kinds: [PlanKind; 4],
    units: Vec<crate::admin::UnitOption>,
    can_manage: bool,
    today: String,
}

impl PlansPage {
    fn risk_names(&self, p: &PlanRow) -> String {
        p.risks
            .iter()
            .map(|c| self.risks.iter().find(|r| &r.code == c).map_or_else(|| c.clone(), |r| r.name.clone()))
            .collect::<Vec<_>>()
            .join("、")
    }
}

async fn plans_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&PlansPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        plans: emergency::plans(state.app(), &cap).await?,
        risks: emergency::risks(state.app()).await?,
        kinds: PlanKind::ALL,
        units,
        can_manage: auth.user.principal.authorize::<perm::EmergencyManage>().is_ok(),
        today: state.app().today().to_string(),
    }))
}

async fn create_plan(
    State(state): State<AppState>,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "document").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = PlanInput {
        unit_id: field("unit_id").trim().parse().unwrap_or_default(),
        kind: field("kind"),
        customer: field("customer"),
        title: field("title"),
        risks: fields.keys().filter_map(|k| k.strip_prefix("risk_")).map(str::to_owned).collect(),
        version: field("version"),
        approved_by: field("approved_by"),
        approved_on: field("approved_on"),
        review_due: field("review_due"),
        document: file,
    };
    let id = auth.checked(&state, emergency::create_plan(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/emergency/plans/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "emergency/plan.html")]
struct PlanPage {
    chrome: Chrome,
    d: PlanDetail,
    risks: Vec<RiskRow>,
    ratings: [DrillRating; 3],
    can_manage: bool,
    today: String,
}

impl PlanPage {
    fn risk_names(&self) -> String {
        self.d
            .plan
            .risks
            .iter()
            .map(|c| self.risks.iter().find(|r| &r.code == c).map_or_else(|| c.clone(), |r| r.name.clone()))
            .collect::<Vec<_>>()
            .join("、")
    }
}

async fn plan_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let d = auth.checked(&state, emergency::plan(state.app(), &cap, id).await).await?;
    Ok(render(&PlanPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        risks: emergency::risks(state.app()).await?,
        ratings: DrillRating::ALL,
        can_manage: auth.user.principal.authorize::<perm::EmergencyManage>().is_ok(),
        today: state.app().today().to_string(),
    }))
}

async fn record_drill(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    auth.checked(&state, emergency::plan(state.app(), &cap, id).await).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "photo").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = DrillInput {
        held_on: field("held_on"),
        scenario: field("scenario"),
        people: field("people"),
        rating: field("rating"),
        evaluation: field("evaluation"),
        problems: field("problems"),
        responsible: field("responsible"),
        deadline: field("deadline"),
        photo: file,
    };
    let drill = auth.checked(&state, emergency::record_drill(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/emergency/drills/{drill}")).into_response())
}

#[derive(Template)]
#[template(path = "emergency/drill.html")]
struct DrillPage {
    chrome: Chrome,
    d: DrillDetail,
}

async fn drill_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let d = auth.checked(&state, emergency::drill(state.app(), &cap, id).await).await?;
    Ok(render(&DrillPage { chrome: Chrome::for_user(ctx, &auth.user), d }))
}

#[derive(Debug, Default, Deserialize)]
struct LibraryQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "emergency/pilots.html")]
struct PilotsPage {
    chrome: Chrome,
    pilots: Vec<emergency::PilotRow>,
    documents: Vec<emergency::DocumentRow>,
    indicators: Option<Indicators>,
    units: Vec<crate::admin::UnitOption>,
    q: String,
    can_manage: bool,
    today: String,
}

impl PilotsPage {
    fn rate(&self, r: Option<f64>) -> String {
        r.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
    }
}

async fn pilots_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<LibraryQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(&state).await?;
    let query = Some(q.q.trim()).filter(|t| !t.is_empty());
    let documents = auth.checked(&state, emergency::library(state.app(), query).await).await?;
    let indicators = match auth.user.principal.authorize::<perm::CustomersView>() {
        Ok(c) => Some(emergency::indicators(state.app(), &c, state.app().today()).await?),
        Err(_) => None,
    };
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&PilotsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        pilots: emergency::pilots(state.app()).await?,
        documents,
        indicators,
        units,
        q: q.q,
        can_manage: auth.user.principal.authorize::<perm::EmergencyManage>().is_ok(),
        today: state.app().today().to_string(),
    }))
}

#[derive(Debug, Deserialize)]
struct PilotForm {
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

async fn create_pilot(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<PilotForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    let input = PilotInput {
        unit_id: f.unit_id.trim().parse().unwrap_or_default(),
        name: f.name,
        starts_on: f.starts_on,
        ends_on: f.ends_on,
    };
    auth.checked(&state, emergency::create_pilot(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/emergency/pilots").into_response())
}

async fn publish_document(
    State(state): State<AppState>,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyManage>(&state).await?;
    let (fields, file) = crate::customers::file_form(&mut multipart, "file").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = DocumentInput {
        pilot_id: field("pilot_id").trim().parse().unwrap_or_default(),
        kind: field("kind"),
        title: field("title"),
        tags: field("tags"),
        summary: field("summary"),
        file,
    };
    auth.checked(&state, emergency::publish_document(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/emergency/pilots#library").into_response())
}

#[derive(Template)]
#[template(path = "emergency/feedback.html")]
struct FeedbackPage {
    chrome: Chrome,
    f: Feedback,
    units: Vec<crate::admin::UnitOption>,
    kinds: [EvaluationKind; 3],
    can_record: bool,
    imported: Option<String>,
    problems: Vec<String>,
    previous: String,
    next: String,
    now_input: String,
}

#[derive(Debug, Default, Deserialize)]
struct FeedbackQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    imported: Option<i64>,
    #[serde(default)]
    known: Option<i64>,
    #[serde(default)]
    left: Option<i64>,
}

async fn feedback_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<FeedbackQuery>,
) -> Result<Response, AppError> {
    let imported = match (q.imported, q.known, q.left) {
        (Some(i), Some(k), Some(l)) => Some(
            ctx.lang.t_args("feedback-imported", &[("imported", i.into()), ("known", k.into()), ("left", l.into())]),
        ),
        _ => None,
    };
    feedback_view(&state, ctx, &auth, &q.month, imported, Vec::new()).await
}

async fn feedback_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    month: &str,
    imported: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::EmergencyView>(state).await?;
    let first = crate::outages::month_of(month, state.app().today());
    let f = emergency::feedback(state.app(), &cap, first).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let refused = !problems.is_empty();
    let mut response = render(&FeedbackPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        f,
        units,
        kinds: EvaluationKind::ALL,
        can_record: auth.user.principal.authorize::<perm::FeedbackRecord>().is_ok(),
        imported,
        problems,
        previous: (first - chrono::Duration::days(1)).format("%Y-%m").to_string(),
        next: crate::outages::next_month(first).format("%Y-%m").to_string(),
        now_input: state.app().now().local_input(),
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn record_complaint(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let mut input = ComplaintInput::default();
    for (name, value) in f {
        match name.as_str() {
            "ticket_no" => input.ticket_no = value,
            "received_at" => input.received_at = value,
            "account_no" => input.account_no = value,
            "category" => input.category = value,
            "content" => input.content = value,
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            _ => {}
        }
    }
    auth.checked(&state, emergency::record_complaint(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/feedback#complaints").into_response())
}

/// The customer-service system's export: all its safety-related rows, or every problem shown.
async fn import_complaints(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "note").await?;
    let result = emergency::import_complaints(state.app(), &cap, &auth.meta, &files).await;
    match auth.checked(&state, result).await? {
        Ok(done) => Ok(Redirect::to(&format!(
            "/feedback?imported={}&known={}&left={}",
            done.imported, done.known, done.not_safety
        ))
        .into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            feedback_view(&state, ctx, &auth, "", None, words).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct HazardForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    deadline: String,
}

impl HazardForm {
    fn input(self) -> HazardInput {
        HazardInput { title: self.title, responsible: self.responsible, deadline: self.deadline }
    }
}

async fn complaint_hazard(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HazardForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let hazard =
        auth.checked(&state, emergency::complaint_hazard(state.app(), &cap, &auth.meta, id, f.input()).await).await?;
    Ok(Redirect::to(&format!("/hazards/{hazard}")).into_response())
}

async fn record_evaluation(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let mut input = EvaluationInput::default();
    let mut hazard = HazardInput::default();
    for (name, value) in f {
        match name.as_str() {
            "unit_id" => input.unit_id = value.trim().parse().unwrap_or_default(),
            "period" => input.period = value,
            "kind" => input.kind = value,
            "score" => input.score = value,
            "remarks" => input.remarks = value,
            "evaluator" => input.evaluator = value,
            "hazard_title" => hazard.title = value,
            "responsible" => hazard.responsible = value,
            "deadline" => hazard.deadline = value,
            _ => {}
        }
    }
    if !hazard.title.trim().is_empty() {
        input.hazard = Some(hazard);
    }
    auth.checked(&state, emergency::record_evaluation(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to("/feedback#evaluations").into_response())
}

async fn evaluation_hazard(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HazardForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FeedbackRecord>(&state).await?;
    let hazard =
        auth.checked(&state, emergency::evaluation_hazard(state.app(), &cap, &auth.meta, id, f.input()).await).await?;
    Ok(Redirect::to(&format!("/hazards/{hazard}")).into_response())
}
