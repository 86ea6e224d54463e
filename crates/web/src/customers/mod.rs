//! Customers' safe use of electricity (客户用电安全): the register, the inspection plan,
//! inspections with their checklist, photos and result notice, the cycle table and templates.
//! Hazards, seals and the dashboard are in `hazards/`.

pub mod api;

use std::collections::HashMap;

use crate::form::Form;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::customers::{
    self, ChecklistItem, CustomerFilter, CustomerRow, CycleRow, GradeRow, InspectionDetail, InspectionInput,
    InspectionRow, Plan,
};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::customers::{COLUMNS, INDUSTRIES, emergency_code, importance_code};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::inspections::{DueState, SECTIONS};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorCode, ErrorInfo};
use crate::i18n::{Arg, Lang};
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/customers", list_page)
        .post("/customers", create)
        .get("/customers.xlsx", export)
        .get("/customers/import", import_page)
        .post("/customers/import", import)
        .post("/customers/import/{token}", confirm_import)
        .get("/customers/new", new_page)
        .get("/customers/{id}", detail_page)
        .post("/customers/{id}", update)
        .get("/customers/{id}/edit", edit_page)
        .get("/customers/{id}/inspect", inspect_page)
        .post("/customers/{id}/inspections", record)
        .get("/inspections/plan", plan_page)
        .get("/inspections/settings", settings_page)
        .post("/inspections/settings/cycles", set_cycle)
        .post("/inspections/settings/checklist", set_checklist)
        .post("/inspections/settings/grades", set_grade)
        .get("/inspections/{id}", inspection_page)
        .get("/inspections/{id}/notice", notice_page)
        .post("/inspections/{id}/photos", add_photo)
        .post("/inspections/{id}/signed", signed)
        .get("/attachments/{id}", attachment)
}

pub const IMPORTANCE: [&str; 5] = ["none", "special", "first", "second", "temporary"];
pub const EMERGENCY: [&str; 3] = ["none", "registered", "suspected"];

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    importance: String,
    #[serde(default)]
    due: String,
    /// Where the page starts: after this 户号 (the list's order).
    #[serde(default)]
    after: String,
}

/// Rows per page of the customer register.
const PAGE: usize = 100;

impl ListQuery {
    fn filter(&self) -> CustomerFilter {
        CustomerFilter {
            text: Some(self.q.clone()),
            unit_id: self.unit.trim().parse().ok(),
            importance: IMPORTANCE.contains(&self.importance.as_str()).then(|| self.importance.clone()),
            due: match self.due.as_str() {
                "overdue" => Some(DueState::Overdue),
                "due" => Some(DueState::DueThisMonth),
                _ => None,
            },
        }
    }
}

/// Where a track stands, as a message-key suffix (`due-…`).
pub fn due_code(s: Option<DueState>) -> &'static str {
    match s {
        Some(DueState::Overdue) => "overdue",
        Some(DueState::DueThisMonth) => "due",
        Some(DueState::NotDue) => "not_due",
        None => "no_cycle",
    }
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListPage {
    chrome: Chrome,
    customers: Vec<CustomerRow>,
    q: ListQuery,
    units: Vec<crate::admin::UnitOption>,
    can_manage: bool,
    query_string: String,
    /// How many the filter selects, and the link to the page after this one.
    total: u64,
    next: Option<String>,
}

impl ListPage {
    fn due(&self, c: &customers::Cycle) -> &'static str {
        due_code(c.due_state)
    }
    fn importance(&self, c: &CustomerRow) -> &'static str {
        importance_code(c.record.importance)
    }
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    // The register in 户号 order, judged by the inspection rules (due, overdue): a page is the
    // rows after the last 户号 of the one before.
    let after = Some(q.after.as_str()).filter(|a| !a.is_empty());
    let (customers, total) = customers::customers_page(state.app(), &cap, &q.filter(), after, PAGE as u32).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let query_string = format!(
        "q={}&unit={}&importance={}&due={}",
        crate::auth::url_encode(&q.q),
        crate::auth::url_encode(&q.unit),
        crate::auth::url_encode(&q.importance),
        crate::auth::url_encode(&q.due)
    );
    let next = crate::layout::next_page(&customers, PAGE, &query_string, |c| c.record.account_no.clone());
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        total,
        next,
        customers,
        units,
        can_manage: auth.user.principal.authorize::<perm::CustomersManage>().is_ok(),
        query_string,
        q,
    }))
}

/// The register (台账) as `.xlsx`, in the import template's columns.
async fn export(State(state): State<AppState>, auth: Auth, Query(q): Query<ListQuery>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let rows = customers::list_customers(state.app(), &cap, &q.filter()).await?;
    let lang = Lang::ZhCn;
    let mut headers: Vec<String> = COLUMNS.iter().map(|c| c.zh.to_owned()).collect();
    headers.extend(
        [
            "customer-last-inspected",
            "ledger-cycle-months",
            "customer-due",
            "customer-emergency-last",
            "ledger-emergency-months",
            "customer-emergency-due",
            "customer-open-hazards",
            "seals-title",
        ]
        .map(|k| lang.t(k)),
    );
    let opt = |d: Option<chrono::NaiveDate>| Value::from(d.map(|d| d.to_string()));
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|c| {
            let r = c.record;
            vec![
                r.account_no.into(),
                r.name.into(),
                r.address.into(),
                r.unit.into(),
                Value::from(format!("{}kV", r.voltage_kv)),
                lang.t(&format!("importance-{}", importance_code(r.importance))).into(),
                r.importance_document.into(),
                opt(r.importance_date),
                r.industry.into(),
                Value::from(i64::from(r.supply_sources)),
                r.supply_kind.into(),
                lang.t(&format!("emergency-{}", emergency_code(r.emergency_power))).into(),
                r.emergency_kind.into(),
                Value::from(r.emergency_capacity_kw.map(|k| k.to_string())),
                opt(r.emergency_last_test),
                r.electrician_name.into(),
                r.electrician_phone.into(),
                opt(r.preventive_test_due),
                opt(r.registered_on),
                opt(c.periodic.last),
                c.periodic.months.map_or(Value::Empty, |m| Value::from(i64::from(m))),
                opt(c.periodic.due),
                opt(c.emergency.last),
                c.emergency.months.map_or(Value::Empty, |m| Value::from(i64::from(m))),
                opt(c.emergency.due),
                Value::from(c.open_hazards),
                Value::from(c.sealed),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("customers.xlsx", xlsx::ledger(&lang.t("customers-title"), &headers, &data)?))
}

/// What a checked register would change, and the token to confirm it with.
struct Preview {
    counts: customers::RegisterImport,
    /// (户号, 户名, new)
    rows: Vec<(String, String, bool)>,
    token: String,
}

#[derive(Template)]
#[template(path = "customers/import.html")]
struct ImportPage {
    chrome: Chrome,
    columns: Vec<(&'static str, &'static str, bool)>,
    preview: Option<Preview>,
    result: Option<customers::RegisterImport>,
    problems: Vec<String>,
}

impl ImportPage {
    fn new(chrome: Chrome) -> Self {
        Self {
            chrome,
            columns: COLUMNS.iter().map(|c| (c.zh, c.key, c.required)).collect(),
            preview: None,
            result: None,
            problems: Vec::new(),
        }
    }
}

async fn import_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::CustomersManage>(&state).await?;
    Ok(render(&ImportPage::new(Chrome::for_user(ctx, &auth.user))))
}

/// The problems of a refused register, as a 422 page.
fn refused(ctx: PageContext, auth: &Auth, problems: &[customers::RowProblem]) -> Response {
    let lang = ctx.lang;
    let mut page = ImportPage::new(Chrome::for_user(ctx, &auth.user));
    page.problems = problems.iter().take(200).map(|p| row_problem(lang, p)).collect();
    let mut response = render(&page);
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// Checks an uploaded register and shows what it would change; nothing is written until the
/// confirmation.
async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "none").await?;
    let checked = match auth.checked(&state, customers::check_register(state.app(), &cap, &files).await).await? {
        Ok(checked) => checked,
        Err(problems) => return Ok(refused(ctx, &auth, &problems)),
    };
    let token = gridsafe_app::people::store_upload(state.app(), cap.actor(), &auth.meta, &files).await?;
    let rows = checked.rows().take(200).map(|(no, name, new)| (no.to_owned(), name.to_owned(), new)).collect();
    let mut page = ImportPage::new(Chrome::for_user(ctx, &auth.user));
    page.preview = Some(Preview { counts: checked.counts(), rows, token });
    Ok(render(&page))
}

/// Imports the register previewed under `token`, checked again against the database as it is now.
async fn confirm_import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let app = state.app();
    let files = auth.checked(&state, gridsafe_app::people::load_upload(app, auth.user.id, &token).await).await?;
    let checked = match auth.checked(&state, customers::check_register(app, &cap, &files).await).await? {
        Ok(checked) => checked,
        Err(problems) => return Ok(refused(ctx, &auth, &problems)),
    };
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let result = customers::apply_register(app, &cap, &auth.meta, &names, checked).await?;
    gridsafe_app::people::forget_upload(app, &token).await?;
    let mut page = ImportPage::new(Chrome::for_user(ctx, &auth.user));
    page.result = Some(result);
    Ok(render(&page))
}

/// One problem of an imported register, in words: file, line, column, value, what is wrong.
pub fn row_problem(lang: Lang, p: &customers::RowProblem) -> String {
    let mut place = p.file.clone();
    if p.line > 0 {
        place.push_str(&lang.t_args("input-at-line", &[("line", Arg::Number(i64::try_from(p.line).unwrap_or(0)))]));
    }
    if !p.column.is_empty() {
        place.push_str(&lang.t_args("input-at-column", &[("column", Arg::from(p.column.as_str()))]));
    }
    let mut args = vec![("value", Arg::from(p.value.clone())), ("first", Arg::Number(0))];
    args.extend(p.args.iter().map(|(k, v)| (*k, v.parse::<i64>().map_or_else(|_| Arg::from(v.clone()), Arg::Number))));
    let what = lang.t_args(p.message, &args);
    if p.value.trim().is_empty() || what.contains(p.value.as_str()) {
        format!("{place}：{what}")
    } else {
        format!("{place}：{what}（{}）", p.value)
    }
}

/// One input of the customer form.
struct Field {
    key: &'static str,
    value: String,
    kind: &'static str,
    required: bool,
    options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "customers/form.html")]
struct FormPage {
    chrome: Chrome,
    id: Option<i64>,
    fields: Vec<Field>,
    units: Vec<crate::admin::UnitOption>,
    unit_id: UnitId,
    industries: &'static [&'static str],
}

fn form_fields(lang: Lang, c: Option<&CustomerRow>) -> Vec<Field> {
    let r = c.map(|c| &c.record);
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    COLUMNS
        .iter()
        .filter(|col| col.key != "unit")
        .map(|col| {
            let value = match (col.key, r) {
                (_, None) => match col.key {
                    "supply_sources" => "1".into(),
                    _ => String::new(),
                },
                ("account_no", Some(r)) => r.account_no.clone(),
                ("name", Some(r)) => r.name.clone(),
                ("address", Some(r)) => r.address.clone(),
                ("voltage_kv", Some(r)) => r.voltage_kv.to_string(),
                ("importance", Some(r)) => importance_code(r.importance).into(),
                ("importance_document", Some(r)) => r.importance_document.clone().unwrap_or_default(),
                ("importance_date", Some(r)) => day(r.importance_date),
                ("industry", Some(r)) => r.industry.clone(),
                ("supply_sources", Some(r)) => r.supply_sources.to_string(),
                ("supply_kind", Some(r)) => r.supply_kind.clone().unwrap_or_default(),
                ("emergency_power", Some(r)) => emergency_code(r.emergency_power).into(),
                ("emergency_kind", Some(r)) => r.emergency_kind.clone().unwrap_or_default(),
                ("emergency_capacity_kw", Some(r)) => {
                    r.emergency_capacity_kw.map(|v| v.to_string()).unwrap_or_default()
                }
                ("emergency_last_test", Some(r)) => day(r.emergency_last_test),
                ("electrician_name", Some(r)) => r.electrician_name.clone().unwrap_or_default(),
                ("electrician_phone", Some(r)) => r.electrician_phone.clone().unwrap_or_default(),
                ("preventive_test_due", Some(r)) => day(r.preventive_test_due),
                ("registered_on", Some(r)) => day(r.registered_on),
                _ => String::new(),
            };
            let (kind, options) = match col.key {
                "importance" => (
                    "select",
                    IMPORTANCE.iter().map(|i| ((*i).to_owned(), lang.t(&format!("importance-{i}")))).collect(),
                ),
                "emergency_power" => {
                    ("select", EMERGENCY.iter().map(|i| ((*i).to_owned(), lang.t(&format!("emergency-{i}")))).collect())
                }
                k if k.ends_with("_date") || k.ends_with("_test") || k.ends_with("_due") || k == "registered_on" => {
                    ("date", Vec::new())
                }
                "supply_sources" | "emergency_capacity_kw" => ("number", Vec::new()),
                "electrician_phone" => ("tel", Vec::new()),
                _ => ("text", Vec::new()),
            };
            Field { key: col.key, value, kind, required: col.required, options }
        })
        .collect()
}

async fn form(state: &AppState, ctx: PageContext, auth: &Auth, c: Option<CustomerRow>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersManage>(state).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let lang = ctx.lang;
    Ok(render(&FormPage {
        fields: form_fields(lang, c.as_ref()),
        id: c.as_ref().map(|c| c.id),
        unit_id: c.as_ref().map_or(auth.user.unit_id, |c| c.unit_id),
        chrome: Chrome::for_user(ctx, &auth.user),
        units,
        industries: &INDUSTRIES,
    }))
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    form(&state, ctx, &auth, None).await
}

async fn edit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersManage>(&state).await?;
    let c = auth.checked(&state, customers::customer(state.app(), &cap, id).await).await?;
    form(&state, ctx, &auth, Some(c)).await
}

async fn save(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersManage>(state).await?;
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let id = auth.checked(state, customers::save_customer(state.app(), &cap, &auth.meta, id, &fields).await).await?;
    Ok(Redirect::to(&format!("/customers/{id}")).into_response())
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save(&state, &auth, None, f).await
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save(&state, &auth, Some(id), f).await
}

#[derive(Template)]
#[template(path = "customers/detail.html")]
struct DetailPage {
    chrome: Chrome,
    c: CustomerRow,
    inspections: Vec<InspectionRow>,
    hazards: Vec<customers::HazardRow>,
    seals: Vec<customers::SealRow>,
    can_manage: bool,
    can_record: bool,
}

impl DetailPage {
    fn due(&self, c: &customers::Cycle) -> &'static str {
        due_code(c.due_state)
    }
    fn importance(&self) -> &'static str {
        importance_code(self.c.record.importance)
    }
    fn emergency(&self) -> &'static str {
        emergency_code(self.c.record.emergency_power)
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let c = auth.checked(&state, customers::customer(state.app(), &cap, id).await).await?;
    let app = state.app();
    let filter = customers::HazardFilter { customer_id: Some(id), ..Default::default() };
    let seals =
        customers::list_seals(app, &cap, None, false).await?.into_iter().filter(|s| s.customer_id == id).collect();
    let p = &auth.user.principal;
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        inspections: customers::inspections_of(app, &cap, id).await?,
        hazards: customers::list_hazards(app, &cap, &filter).await?,
        seals,
        can_manage: p.authorize::<perm::CustomersManage>().is_ok(),
        can_record: p.authorize::<perm::InspectionsRecord>().is_ok(),
        c,
    }))
}

#[derive(Template)]
#[template(path = "customers/inspect.html")]
struct InspectPage {
    chrome: Chrome,
    c: CustomerRow,
    today: String,
    inspectors: Vec<(PersonId, String, String, bool)>,
    sections: Vec<(&'static str, Vec<ChecklistItem>)>,
    kinds: &'static [&'static str],
    /// The kind to preselect (from the plan's link).
    kind: String,
    departments: [&'static str; 3],
}

#[derive(Debug, Default, Deserialize)]
struct InspectQuery {
    #[serde(default)]
    kind: String,
}

fn sections(items: Vec<ChecklistItem>) -> Vec<(&'static str, Vec<ChecklistItem>)> {
    SECTIONS.iter().map(|s| (*s, items.iter().filter(|i| i.section == *s).cloned().collect())).collect()
}

async fn inspect_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<InspectQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let app = state.app();
    let c = auth.checked(&state, customers::customer(app, &cap, id).await).await?;
    let today = app.today();
    Ok(render(&InspectPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        inspectors: customers::inspector_choices(app, &cap, c.record.voltage_kv, today).await?,
        sections: sections(customers::checklist(app).await?),
        today: today.to_string(),
        kinds: &customers::KINDS,
        kind: if customers::KINDS.contains(&q.kind.as_str()) { q.kind } else { "periodic".into() },
        departments: ["生技", "检修", "运行"],
        c,
    }))
}

async fn record(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let mut input = InspectionInput { customer_id: id, ..Default::default() };
    let (mut names, mut departments) = (Vec::new(), Vec::new());
    for (k, v) in pairs {
        match k.as_str() {
            "inspected_on" => input.inspected_on = v,
            "kind" => input.kind = v,
            "conclusion" => input.conclusion = v,
            "inspector" => input.inspectors.extend(v.trim().parse::<PersonId>().ok()),
            "participant_name" => names.push(v),
            "participant_department" => departments.push(v),
            _ => {
                if let Some(item) = k.strip_prefix("result_").and_then(|i| i.parse::<i64>().ok()) {
                    input.results.entry(item).or_default().0 = v;
                } else if let Some(item) = k.strip_prefix("note_").and_then(|i| i.parse::<i64>().ok()) {
                    input.results.entry(item).or_default().1 = v;
                }
            }
        }
    }
    input.participants = names.into_iter().zip(departments).collect();
    let new = auth.checked(&state, customers::record_inspection(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/inspections/{new}")).into_response())
}

#[derive(Template)]
#[template(path = "customers/inspection.html")]
struct InspectionPage {
    chrome: Chrome,
    d: InspectionDetail,
    can_record: bool,
    today: String,
    max_mb: String,
}

async fn inspection_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let d = auth.checked(&state, customers::inspection(state.app(), &cap, id).await).await?;
    Ok(render(&InspectionPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        can_record: auth.user.principal.authorize::<perm::InspectionsRecord>().is_ok(),
        today: state.app().today().to_string(),
        max_mb: format!("{:.0}", state.app().inspections_config().max_upload_mib()),
    }))
}

#[derive(Template)]
#[template(path = "customers/notice.html")]
struct NoticePage {
    chrome: Chrome,
    d: InspectionDetail,
    copies: [&'static str; 2],
}

impl NoticePage {
    /// Whether the inspection found anything to put right.
    fn has_problems(&self) -> bool {
        self.d.results.iter().any(|r| r.outcome == "defect")
    }
}

/// The result notice (用电检查结果通知书), two copies on one printout: the customer's and the file's.
async fn notice_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let d = auth.checked(&state, customers::inspection(state.app(), &cap, id).await).await?;
    Ok(render(&NoticePage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        copies: ["notice-copy-customer", "notice-copy-file"],
    }))
}

/// Reads a form with one file (`file_field`) and text fields; files never reach the log.
pub async fn file_form(
    multipart: &mut Multipart,
    file_field: &str,
) -> Result<(HashMap<String, String>, Option<(String, Vec<u8>)>), AppError> {
    fn bad() -> AppError {
        AppError::Client(ErrorInfo::new(ErrorCode::InvalidRequest).detail("import-bad-upload", Vec::new()))
    }
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| crate::error::upload_error(&e, bad))? {
        let name = field.name().unwrap_or("").to_owned();
        if name == file_field {
            let filename = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field.bytes().await.map_err(|e| crate::error::upload_error(&e, bad))?;
            if !bytes.is_empty() {
                file = Some((filename, bytes.to_vec()));
            }
        } else {
            fields.insert(name, field.text().await.map_err(|e| crate::error::upload_error(&e, bad))?);
        }
    }
    Ok((fields, file))
}

async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let (_, file) = file_form(&mut multipart, "photo").await?;
    let (name, bytes) = file.unwrap_or_default();
    auth.checked(&state, customers::attach_photo(state.app(), &cap, &auth.meta, "inspection", id, &name, &bytes).await)
        .await?;
    Ok(Redirect::to(&format!("/inspections/{id}#photos")).into_response())
}

async fn signed(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsRecord>(&state).await?;
    let (fields, file) = file_form(&mut multipart, "copy").await?;
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if get("confirm") != "1" {
        // Out of reach is said before an unticked box.
        auth.checked(&state, customers::inspection(state.app(), &cap, id).await).await?;
        crate::form::confirmed(&get("confirm"))?;
    }
    let copy = file.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    auth.checked(
        &state,
        customers::sign_notice(state.app(), &cap, &auth.meta, id, &get("signed_by"), &get("signed_on"), copy).await,
    )
    .await?;
    Ok(Redirect::to(&format!("/inspections/{id}")).into_response())
}

/// A photo or signed copy, shown in the page (images) or downloaded (PDF).
async fn attachment(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let a = auth.checked(&state, customers::attachment(state.app(), &cap, id).await).await?;
    let mut response = a.content.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = if a.content_type.starts_with("image/") { "inline" } else { "attachment" };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"attachment-{id}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
struct PlanQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    unit: String,
}

#[derive(Template)]
#[template(path = "customers/plan.html")]
struct PlanPage {
    chrome: Chrome,
    plan: Plan,
    units: Vec<crate::admin::UnitOption>,
    unit: Option<UnitId>,
    previous: String,
    next: String,
    can_record: bool,
}

impl PlanPage {
    fn unit_selected(&self, id: &UnitId) -> bool {
        self.unit == Some(*id)
    }
}

async fn plan_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<PlanQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::CustomersView>(&state).await?;
    let today = state.app().today();
    let month = chrono::NaiveDate::parse_from_str(&format!("{}-01", q.month.trim()), "%Y-%m-%d")
        .unwrap_or_else(|_| today.with_day0(0).unwrap_or(today));
    use chrono::Datelike;
    let month = month.with_day(1).unwrap_or(month);
    let unit = q.unit.trim().parse().ok();
    let plan = customers::plan(state.app(), &cap, month, unit).await?;
    let shift = |m: i32| {
        let d = if m < 0 {
            month.checked_sub_months(chrono::Months::new(1))
        } else {
            month.checked_add_months(chrono::Months::new(1))
        };
        d.map(|d| d.format("%Y-%m").to_string()).unwrap_or_default()
    };
    Ok(render(&PlanPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        units: crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?),
        previous: shift(-1),
        next: shift(1),
        can_record: auth.user.principal.authorize::<perm::InspectionsRecord>().is_ok(),
        unit,
        plan,
    }))
}

#[derive(Template)]
#[template(path = "customers/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    cycles: Vec<CycleRow>,
    sections: Vec<(&'static str, Vec<ChecklistItem>)>,
    grades: Vec<GradeRow>,
    can_configure: bool,
    /// The industries on the six-month emergency-power check, with the list's origin.
    industries: Vec<String>,
    industries_origin: &'static str,
    plan_days: u32,
}

impl SettingsPage {
    fn on_track<'a>(&'a self, track: &str) -> Vec<&'a CycleRow> {
        self.cycles.iter().filter(|r| r.rule.track.code() == track).collect()
    }
    fn lines(&self, items: &[ChecklistItem]) -> String {
        items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>().join("\n")
    }
    fn months(&self, m: &Option<u32>) -> String {
        m.map(|m| m.to_string()).unwrap_or_default()
    }
}

async fn settings_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::CustomersView>(&state).await?;
    let app = state.app();
    Ok(render(&SettingsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        cycles: customers::cycle_table(app).await?,
        sections: sections(customers::checklist(app).await?),
        grades: customers::grades(app).await?,
        can_configure: auth.user.principal.authorize::<perm::InspectionsConfigure>().is_ok(),
        industries: app.inspections_config().emergency_power_industries.clone(),
        industries_origin: gridsafe_domain::inspections::SUSPECT_INDUSTRIES_ORIGIN,
        plan_days: app.inspections_config().plan_within_days,
    }))
}

#[derive(Debug, Deserialize)]
struct CycleForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    months: String,
}

async fn set_cycle(State(state): State<AppState>, auth: Auth, Form(f): Form<CycleForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    let months = match f.months.trim() {
        "" => None,
        t => Some(t.parse::<u32>().map_err(|_| gridsafe_app::AppError::invalid("months", "field-cycle-months"))?),
    };
    auth.checked(&state, customers::set_cycle(state.app(), &cap, &auth.meta, &f.code, months).await).await?;
    Ok(Redirect::to("/inspections/settings#cycles").into_response())
}

#[derive(Debug, Deserialize)]
struct ChecklistForm {
    #[serde(default)]
    section: String,
    #[serde(default)]
    lines: String,
}

async fn set_checklist(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<ChecklistForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    auth.checked(&state, customers::set_checklist(state.app(), &cap, &auth.meta, &f.section, &f.lines).await).await?;
    Ok(Redirect::to("/inspections/settings#checklist").into_response())
}

#[derive(Debug, Deserialize)]
struct GradeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    deadline_days: String,
    #[serde(default)]
    files: String,
}

async fn set_grade(State(state): State<AppState>, auth: Auth, Form(f): Form<GradeForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::InspectionsConfigure>(&state).await?;
    let days = f
        .deadline_days
        .trim()
        .parse()
        .map_err(|_| gridsafe_app::AppError::invalid("deadline_days", "field-grade-days"))?;
    auth.checked(&state, customers::set_grade(state.app(), &cap, &auth.meta, &f.code, days, f.files == "1").await)
        .await?;
    Ok(Redirect::to("/inspections/settings#grades").into_response())
}
