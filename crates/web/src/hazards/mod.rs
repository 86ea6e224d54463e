//! Hazards (隐患闭环) in pages: the list with overdue and escalated ones, registration from an
//! inspection or ad hoc, the steps of the closed loop, the printed rectification notice, photos,
//! sealed equipment, and the safety dashboard with its charts and export.

use crate::form::Form;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::customers::{
    self, GradeRow, HazardDetail, HazardFilter, HazardInput, HazardRow, SealRow, StepInput, UnitDashboard,
};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::hazards::{HazardState, HazardStepKind};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/hazards", list_page)
        .post("/hazards", create)
        .get("/hazards.xlsx", export)
        .get("/hazards/new", new_page)
        .get("/hazards/{id}", detail_page)
        .post("/hazards/{id}/steps", step)
        .post("/hazards/{id}/refusal", refusal)
        .post("/hazards/{id}/extension", request_extension)
        .post("/hazards/{id}/extension/decision", decide_extension)
        .get("/hazards/{id}/notice", notice_page)
        .post("/hazards/{id}/photos", add_photo)
        .post("/hazards/{id}/seals", seal)
        .get("/seals", seals_page)
        .post("/seals/{id}/unseal", unseal)
        .get("/safety", dashboard_page)
        .get("/safety.xlsx", dashboard_export)
}

pub const STATES: [&str; 9] = [
    "registered",
    "planned",
    "notified",
    "receipt_signed",
    "receipt_refused",
    "filed",
    "rectifying",
    "reviewing",
    "closed",
];

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    responsibility: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    escalated: String,
    #[serde(default)]
    source: String,
    /// Where the page starts: after this hazard in the list's order (open ones first, then by
    /// due day and id): `0_2026-12-01_42`.
    #[serde(default)]
    after: String,
}

/// Rows per page of the hazard list.
const PAGE: usize = 100;

/// A hazard's place in the list's order: open ones first, then by due day and id.
impl ListQuery {
    fn filter(&self) -> HazardFilter {
        HazardFilter {
            state: STATES.contains(&self.state.as_str()).then(|| self.state.clone()),
            responsibility: ["grid", "customer"]
                .contains(&self.responsibility.as_str())
                .then(|| self.responsibility.clone()),
            grade: Some(self.grade.clone()).filter(|g| !g.is_empty()),
            customer_id: None,
            overdue: self.overdue == "1",
            escalated: self.escalated == "1",
            source: customers::SOURCES.contains(&self.source.as_str()).then(|| self.source.clone()),
        }
    }
}

#[derive(Template)]
#[template(path = "hazards/list.html")]
struct ListPage {
    chrome: Chrome,
    hazards: Vec<HazardRow>,
    grades: Vec<GradeRow>,
    q: ListQuery,
    query_string: String,
    can_record: bool,
    /// How many the filter selects, and the link to the page after this one.
    total: u64,
    next: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    // Judged (overdue, escalated) before it is paged: a page is the rows after the last one of
    // the page before, in the list's order.
    let mut parts = q.after.splitn(3, '_');
    let after = (|| Some((parts.next()? == "1", parts.next()?.parse().ok()?, parts.next()?.parse::<i64>().ok()?)))();
    let (hazards, total) = customers::hazards_page(state.app(), &cap, &q.filter(), after, PAGE).await?;
    let query_string = format!(
        "state={}&responsibility={}&grade={}&overdue={}&escalated={}&source={}",
        crate::auth::url_encode(&q.state),
        crate::auth::url_encode(&q.responsibility),
        crate::auth::url_encode(&q.grade),
        crate::auth::url_encode(&q.overdue),
        crate::auth::url_encode(&q.escalated),
        crate::auth::url_encode(&q.source)
    );
    let next = crate::layout::next_page(&hazards, PAGE, &query_string, |h| {
        let (closed, due, id) = h.key();
        format!("{}_{due}_{id}", u8::from(closed))
    });
    Ok(render(&ListPage {
        total,
        next,
        chrome: Chrome::for_user(ctx, &auth.user),
        hazards,
        grades: customers::grades(state.app()).await?,
        query_string,
        can_record: auth.user.principal.authorize::<perm::InspectionsRecord>().is_ok(),
        q,
    }))
}

/// The hazard ledger (隐患台账) as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth, Query(q): Query<ListQuery>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let rows = customers::list_hazards(state.app(), &cap, &q.filter()).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "hazard-number",
        "hazard-title",
        "customer-col-account_no",
        "customer-col-name",
        "finding-unit",
        "hazard-grade",
        "hazard-responsibility",
        "hazard-state",
        "hazard-deadline",
        "hazard-owner",
        "hazard-receipt-by",
        "hazard-filed-on",
        "hazard-filing-reference",
        "due-overdue",
        "hazard-escalated-to",
        "hazard-closed-at",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|h| {
            vec![
                h.number.into(),
                h.title.into(),
                h.customer_no.into(),
                h.customer_name.into(),
                h.unit_name.into(),
                h.grade_name.into(),
                lang.t(&format!("responsibility-{}", h.responsibility.code())).into(),
                lang.t(&format!("hazard-state-{}", h.state.code())).into(),
                Value::from(h.deadline.to_string()),
                h.owner.into(),
                h.receipt_by.into(),
                h.filed_on.into(),
                h.filing_reference.into(),
                Value::from(if h.overdue { lang.t("ledger-yes") } else { String::new() }),
                h.escalated_to.into(),
                h.closed_at.into(),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("hazards.xlsx", xlsx::ledger(&lang.t("hazards-title"), &headers, &data)?))
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    inspection: String,
}

#[derive(Template)]
#[template(path = "hazards/new.html")]
struct NewPage {
    chrome: Chrome,
    customer: Option<customers::CustomerRow>,
    inspection: Option<i64>,
    grades: Vec<GradeRow>,
    units: Vec<crate::admin::UnitOption>,
}

async fn new_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let app = state.app();
    let inspection = q.inspection.trim().parse::<i64>().ok();
    let customer_id = match inspection {
        Some(i) => Some(auth.checked(&state, customers::inspection(app, &cap, i).await).await?.customer.id),
        None => q.customer.trim().parse::<i64>().ok(),
    };
    let customer = match customer_id {
        Some(c) => Some(auth.checked(&state, customers::customer(app, &cap, c).await).await?),
        None => None,
    };
    Ok(render(&NewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        customer,
        inspection,
        grades: customers::grades(app).await?,
        units: crate::admin::unit_options(&gridsafe_app::identity::list_units(app, cap.scope()).await?),
    }))
}

#[derive(Debug, Deserialize)]
struct NewForm {
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    inspection_id: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    responsibility: String,
}

async fn create(State(state): State<AppState>, auth: Auth, Form(f): Form<NewForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let input = HazardInput {
        customer_id: f.customer_id.trim().parse().ok(),
        inspection_id: f.inspection_id.trim().parse().ok(),
        unit_id: f.unit_id.trim().parse().ok(),
        title: f.title,
        description: f.description,
        grade: f.grade,
        responsibility: f.responsibility,
    };
    let id = auth.checked(&state, customers::register_hazard(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/hazards/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "hazards/detail.html")]
struct DetailPage {
    chrome: Chrome,
    d: HazardDetail,
    /// Where a hazard of an old ledger came from.
    imported: Option<String>,
    /// May take the field steps (the inspector; the safety auditor for a finding's hazard).
    can_record: bool,
    can_review: bool,
    can_approve: bool,
    /// The account may not decide its own request.
    own_request: bool,
    today: String,
    max_mb: String,
}

impl DetailPage {
    fn offers(&self, step: &str) -> bool {
        self.d.next.contains(&step)
    }
}

/// A hazard as the caller may read it: every hazard with `customers.view`, a finding's hazard
/// with `findings.view`.
async fn readable(state: &AppState, auth: &Auth, id: i64) -> Result<HazardDetail, AppError> {
    let app = state.app();
    let p = &auth.user.principal;
    // The person responsible for it reads it, whatever else he may read.
    if p.authorize::<perm::CustomersView>().is_err()
        && let Ok(d) = customers::hazard_assigned(app, p, id).await
    {
        return Ok(d);
    }
    if p.authorize::<perm::CustomersView>().is_err()
        && let Ok(cap) = p.authorize::<perm::FindingsView>()
    {
        return auth.checked(state, customers::hazard(app, &cap, id).await).await;
    }
    let cap = auth.require::<perm::CustomersView>(state).await?;
    auth.checked(state, customers::hazard(app, &cap, id).await).await
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = readable(&state, &auth, id).await?;
    let app = state.app();
    let p = &auth.user.principal;
    let from_finding = d.hazard.source_kind == "finding";
    let imported = crate::history::origin_note(&state, ctx.lang, gridsafe_app::history::Record::Hazard, id).await?;
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        imported,
        can_record: p.authorize::<perm::InspectionsRecord>().is_ok()
            || (from_finding && p.authorize::<perm::FindingsReview>().is_ok()),
        can_review: p.authorize::<perm::HazardsReview>().is_ok(),
        can_approve: p.authorize::<perm::HazardsApprove>().is_ok(),
        own_request: d.hazard.extension_by.as_deref() == Some(p.actor().name.as_str()),
        today: app.today().to_string(),
        max_mb: format!("{:.0}", app.inspections_config().max_upload_mib()),
        d,
    }))
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    tasks: String,
    #[serde(default)]
    receipt_by: String,
    #[serde(default)]
    filed_on: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    passed: String,
    #[serde(default)]
    evidence: String,
    /// The receipt's confirmation box (`1`).
    #[serde(default)]
    confirm: String,
}

impl TryFrom<StepForm> for StepInput {
    type Error = AppError;

    fn try_from(f: StepForm) -> Result<Self, AppError> {
        Ok(StepInput {
            deadline: f.deadline,
            owner: f.owner,
            tasks: f.tasks,
            receipt_by: f.receipt_by,
            filed_on: f.filed_on,
            reference: f.reference,
            passed: f.passed == "1",
            evidence: f.evidence,
            ..StepInput::of(customers::step_kind(&f.step)?)
        })
    }
}

/// Takes a step: the review by the safety auditor (hazards.review); the others by inspectors, or
/// for a hazard that came from a finding also by the safety auditor following it up.
pub async fn take(state: &AppState, auth: &Auth, id: i64, input: StepInput) -> Result<HazardState, AppError> {
    let app = state.app();
    let p = &auth.user.principal;
    if input.step == HazardStepKind::Review {
        let cap = auth.require::<perm::HazardsReview>(state).await?;
        auth.checked(state, customers::review_hazard(app, &cap, &auth.meta, id, &input).await).await
    } else if p.authorize::<perm::InspectionsRecord>().is_err()
        && let Ok(cap) = p.authorize::<perm::FindingsReview>()
    {
        auth.checked(state, customers::take_step(app, &cap, &auth.meta, id, &input).await).await
    } else {
        let cap = auth.require::<perm::InspectionsRecord>(state).await?;
        auth.checked(state, customers::take_step(app, &cap, &auth.meta, id, &input).await).await
    }
}

/// The customer refused to sign the notice: the day, the delivery, the witness and the photo
/// (a multipart form, since the photo comes with it).
async fn refusal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (fields, file) = crate::customers::file_form(&mut multipart, "photo").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = StepInput {
        refused_on: field("refused_on"),
        delivery: field("delivery"),
        witness: field("witness"),
        photo: file.filter(|(_, bytes)| !bytes.is_empty()),
        ..StepInput::of(HazardStepKind::RefuseReceipt)
    };
    take(&state, &auth, id, input).await?;
    Ok(Redirect::to(&format!("/hazards/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct ExtensionForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// Asks for a later deadline, with the reason, for a manager to approve.
async fn request_extension(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ExtensionForm>,
) -> Result<Response, AppError> {
    let app = state.app();
    let p = &auth.user.principal;
    if p.authorize::<perm::InspectionsRecord>().is_err()
        && let Ok(cap) = p.authorize::<perm::FindingsReview>()
    {
        auth.checked(&state, customers::request_extension(app, &cap, &auth.meta, id, &f.to, &f.reason).await).await?;
    } else {
        let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
        auth.checked(&state, customers::request_extension(app, &cap, &auth.meta, id, &f.to, &f.reason).await).await?;
    }
    Ok(Redirect::to(&format!("/hazards/{id}#deadline")).into_response())
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    #[serde(default)]
    approve: String,
}

/// A manager approves or refuses the later deadline asked for.
async fn decide_extension(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::HazardsApprove>(&state).await?;
    let approve = f.approve == "1";
    auth.checked(&state, customers::decide_extension(state.app(), &cap, &auth.meta, id, approve).await).await?;
    Ok(Redirect::to(&format!("/hazards/{id}#deadline")).into_response())
}

async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, AppError> {
    if f.step == "sign_receipt" {
        crate::form::confirmed(&f.confirm)?;
    }
    take(&state, &auth, id, f.try_into()?).await?;
    Ok(Redirect::to(&format!("/hazards/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "hazards/notice.html")]
struct NoticePage {
    chrome: Chrome,
    d: HazardDetail,
    copies: [&'static str; 2],
}

/// The rectification notice (整改通知书) with its deadline, the customer's copy and the receipt.
async fn notice_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let d = auth.checked(&state, customers::hazard(state.app(), &cap, id).await).await?;
    Ok(render(&NoticePage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        copies: ["notice-copy-customer", "notice-copy-file"],
    }))
}

async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let (_, file) = crate::customers::file_form(&mut multipart, "photo").await?;
    let (name, bytes) = file.unwrap_or_default();
    auth.checked(&state, customers::attach_photo(state.app(), &cap, &auth.meta, "hazard", id, &name, &bytes).await)
        .await?;
    Ok(Redirect::to(&format!("/hazards/{id}#photos")).into_response())
}

#[derive(Debug, Deserialize)]
struct SealForm {
    #[serde(default)]
    equipment: String,
    #[serde(default)]
    seal_number: String,
    #[serde(default)]
    sealed_on: String,
}

async fn seal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<SealForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    auth.checked(
        &state,
        customers::seal(state.app(), &cap, &auth.meta, id, &f.equipment, &f.seal_number, &f.sealed_on).await,
    )
    .await?;
    Ok(Redirect::to(&format!("/hazards/{id}#seals")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SealsQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    sealed: String,
}

#[derive(Template)]
#[template(path = "hazards/seals.html")]
struct SealsPage {
    chrome: Chrome,
    seals: Vec<SealRow>,
    can_record: bool,
    units: Vec<crate::admin::UnitOption>,
    q: SealsQuery,
    /// Today, the latest day a seal may be taken off.
    today: String,
}

/// Sealed equipment per unit (a unit and those below it), still sealed first.
async fn seals_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<SealsQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let app = state.app();
    Ok(render(&SealsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        seals: customers::list_seals(app, &cap, q.unit.trim().parse().ok(), q.sealed == "1").await?,
        can_record: auth.user.principal.authorize::<perm::InspectionsRecord>().is_ok(),
        units: crate::admin::unit_options(&gridsafe_app::identity::list_units(app, cap.scope()).await?),
        q,
        today: app.today().to_string(),
    }))
}

#[derive(Debug, Deserialize)]
struct UnsealForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    witness: String,
}

async fn unseal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<UnsealForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let input = customers::UnsealInput { on: f.on, reason: f.reason, witness: f.witness };
    auth.checked(&state, customers::unseal(state.app(), &cap, &auth.meta, id, &input).await).await?;
    Ok(Redirect::to("/seals").into_response())
}

/// One bar group of the chart: a unit and its open, overdue and closed hazards, as rectangles.
struct Bars {
    label: String,
    x: u32,
    bars: Vec<(&'static str, u32, u32, u64)>,
}

#[derive(Template)]
#[template(path = "hazards/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    rows: Vec<UnitDashboard>,
    bars: Vec<Bars>,
    max: u64,
    rates: Vec<(String, u32, u32, String)>,
}

async fn dashboard_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let rows = customers::dashboard(state.app(), &cap).await?;
    let max = rows
        .iter()
        .map(|r| {
            let t = r.hazard_total();
            t.open.max(t.closed)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    // Plot area 40..600 × 20..200; three bars per unit.
    let width = 560 / u32::try_from(rows.len().max(1)).unwrap_or(1);
    let bar = (width / 4).max(4);
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = r.hazard_total();
            let x = 40 + u32::try_from(i).unwrap_or(0) * width;
            let h = |v: u64| u32::try_from(v * 180 / max).unwrap_or(180);
            Bars {
                label: r.unit_name.clone(),
                x: x + width / 2,
                bars: vec![
                    ("bar-a", x + bar / 2, h(t.open), t.open),
                    ("bar-b", x + bar / 2 + bar, h(t.overdue), t.overdue),
                    ("bar-c", x + bar / 2 + 2 * bar, h(t.closed), t.closed),
                ],
            }
        })
        .collect();
    let rates = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rate = r.on_time_rate().unwrap_or(0.0);
            (
                r.unit_name.clone(),
                30 + u32::try_from(i).unwrap_or(0) * 28,
                (rate * 4.0) as u32,
                r.on_time_rate().map_or("—".into(), |v| format!("{v:.1}%")),
            )
        })
        .collect();
    Ok(render(&DashboardPage { chrome: Chrome::for_user(ctx, &auth.user), rows, bars, max, rates }))
}

/// The dashboard as `.xlsx`: one row per unit, and one per unit, grade and responsibility.
async fn dashboard_export(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let rows = customers::dashboard(state.app(), &cap).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "finding-unit",
        "hazard-grade",
        "hazard-responsibility",
        "safety-customers",
        "safety-with-cycle",
        "due-overdue",
        "due-due",
        "safety-emergency-overdue",
        "safety-emergency-due",
        "safety-inspections",
        "safety-on-time",
        "safety-notices-signed",
        "safety-open",
        "safety-overdue",
        "safety-closed",
        "safety-receipts",
        "safety-filings",
        "safety-escalated",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let mut data: Vec<Vec<Value>> = Vec::new();
    let n = |v: u64| Value::from(i64::try_from(v).unwrap_or(i64::MAX));
    for r in &rows {
        let t = r.hazard_total();
        data.push(vec![
            r.unit_name.clone().into(),
            lang.t("safety-all").into(),
            lang.t("safety-all").into(),
            n(r.customers),
            n(r.with_cycle),
            n(r.overdue_now),
            n(r.due_this_month),
            n(r.emergency_overdue),
            n(r.emergency_due),
            n(r.inspections),
            n(r.on_time),
            n(r.notices_signed),
            n(t.open),
            n(t.overdue),
            n(t.closed),
            n(r.receipts_signed),
            n(r.filings_made),
            n(r.escalated),
        ]);
        for ((grade, resp), c) in &r.hazards {
            let mut row = vec![
                r.unit_name.clone().into(),
                grade.clone().into(),
                lang.t(&format!("responsibility-{resp}")).into(),
            ];
            row.extend((0..9).map(|_| Value::Empty));
            row.extend([n(c.open), n(c.overdue), n(c.closed)]);
            row.extend((0..3).map(|_| Value::Empty));
            data.push(row);
        }
    }
    Ok(crate::people::xlsx_file("safety.xlsx", xlsx::ledger(&lang.t("safety-title"), &headers, &data)?))
}
