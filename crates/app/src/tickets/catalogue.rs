//! The document catalogue (票种目录), hazard templates (危险点模板) and evaluation reasons
//! (不合格原因): configuration kept as data, each change audited.

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::DocumentType;
use gridsafe_store::tickets as store;

use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

pub use gridsafe_store::tickets::{DocumentTypeRow, EvalReason, HazardTemplate};

/// The whole catalogue, in its order.
pub async fn document_types(app: &App) -> Result<Vec<DocumentTypeRow>, AppError> {
    Ok(store::document_types(&mut *app.db().read().await?).await?)
}

pub async fn document_type(app: &App, code: &str) -> Result<Option<DocumentTypeRow>, AppError> {
    Ok(store::document_type(&mut *app.db().read().await?, code).await?)
}

/// A change to a catalogue entry. Its code stays as it is.
#[derive(Debug, Clone, Default)]
pub struct DocumentTypeInput {
    pub name: String,
    /// Numbers are `PREFIX-YYYYMM-NNNN`: 1–8 capital letters or digits, one per document type.
    pub prefix: String,
    pub covers: Vec<String>,
    pub extendable: bool,
    pub needs_survey: bool,
    pub live_work: bool,
    pub min_people: i64,
    pub active: bool,
}

/// Changes a catalogue entry; the origin then says who changed it.
pub async fn save_document_type(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    code: &str,
    input: DocumentTypeInput,
) -> Result<(), AppError> {
    let before = document_type(app, code).await?.ok_or(AppError::NotFound)?;
    let mut problems = Vec::new();
    crate::identity::check_name("name", &input.name, &mut problems);
    for c in &input.covers {
        if super::order_type(c).is_none() {
            problems.push(FieldProblem::new("covers", "field-order-type").with("value", c));
        }
    }
    if !(1..=20).contains(&input.min_people) {
        problems.push(FieldProblem::new("min_people", "field-min-people"));
    }
    let prefix = input.prefix.trim().to_owned();
    check_prefix(&prefix, &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    // The origin keeps where the default came from, and says who changed it last.
    let base = before.origin.split(CHANGED).next().unwrap_or_default();
    let origin = format!("{base}{CHANGED}{} {}", cap.actor().name, app.today());
    let doc = DocumentType {
        code: code.to_owned(),
        name: trim_blank(&input.name).to_owned(),
        covers: input.covers.clone(),
        extendable: input.extendable && !input.live_work,
        needs_survey: input.needs_survey,
        live_work: input.live_work,
        prefix: prefix.clone(),
        min_people: u32::try_from(input.min_people).unwrap_or(2),
    };
    let mut work = app.begin(cap.actor(), meta).await?;
    store::update_document_type(work.conn(), &doc, input.active, &origin)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-ticket-prefix"))?;
    work.audit(NewEvent::new("ticket_type.updated", "ticket_type", code).summary(serde_json::json!({
        "code": code, "prefix": prefix, "covers": input.covers, "extendable": doc.extendable,
        "needs_survey": input.needs_survey, "live_work": input.live_work, "min_people": input.min_people,
        "active": input.active,
    })))
    .await?;
    work.commit().await
}

/// Where a changed entry's origin says who changed it.
const CHANGED: &str = "；修改：";

fn check_prefix(prefix: &str, problems: &mut Vec<FieldProblem>) {
    if !(1..=8).contains(&prefix.len()) || !prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        problems.push(FieldProblem::new("prefix", "field-ticket-prefix"));
    }
}

/// Adds a document to the catalogue (e.g. a province's 分组工作任务单): not extendable, no survey,
/// covering nothing and needing two people until it is edited.
pub async fn add_document_type(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    code: &str,
    name: &str,
    prefix: &str,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    let code = code.trim();
    if !(1..=30).contains(&code.len())
        || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        problems.push(FieldProblem::new("code", "field-ticket-type-code"));
    }
    crate::identity::check_name("name", name, &mut problems);
    check_prefix(prefix.trim(), &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let origin = format!("本单位新增{CHANGED}{} {}", cap.actor().name, app.today());
    let mut work = app.begin(cap.actor(), meta).await?;
    store::insert_document_type(work.conn(), code, trim_blank(name), prefix.trim(), &origin)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-ticket-type"))?;
    work.audit(
        NewEvent::new("ticket_type.created", "ticket_type", code)
            .summary(serde_json::json!({ "code": code, "name": trim_blank(name), "prefix": prefix.trim() })),
    )
    .await?;
    work.commit().await
}

/// Templates for one kind of work, or all.
pub async fn hazard_templates(app: &App, work_kind: Option<&str>) -> Result<Vec<HazardTemplate>, AppError> {
    Ok(store::hazard_templates(&mut *app.db().read().await?, work_kind).await?)
}

/// A hazard point and its measure, as entered: both needed, each at most 300 characters.
pub(crate) fn check_hazard(hazard: &str, measure: &str) -> Result<(String, String), AppError> {
    let mut problems = Vec::new();
    for (field, text) in [("hazard", hazard), ("measure", measure)] {
        // Empty means blank; too long counts what was sent, as the API's schema does.
        if trim_blank(text).is_empty() {
            problems.push(FieldProblem::new(field, "field-required"));
        } else if text.chars().count() > 300 {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", 300));
        }
    }
    if problems.is_empty() {
        Ok((trim_blank(hazard).to_owned(), trim_blank(measure).to_owned()))
    } else {
        Err(AppError::Invalid(problems))
    }
}

pub async fn add_hazard_template(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    work_kind: &str,
    hazard: &str,
    measure: &str,
) -> Result<i64, AppError> {
    if super::order_type(work_kind).is_none() {
        return Err(AppError::Invalid(vec![
            FieldProblem::new("work_kind", "field-order-type").with("value", work_kind),
        ]));
    }
    let (hazard, measure) = check_hazard(hazard, measure)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let id = store::insert_hazard_template(work.conn(), work_kind, &hazard, &measure).await?;
    work.audit(
        NewEvent::new("hazard_template.created", "hazard_template", id)
            .summary(serde_json::json!({ "work_kind": work_kind, "hazard": hazard, "measure": measure })),
    )
    .await?;
    work.commit().await?;
    Ok(id)
}

pub async fn delete_hazard_template(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    id: i64,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    if !store::delete_hazard_template(work.conn(), id).await? {
        return Err(AppError::NotFound);
    }
    work.audit(NewEvent::new("hazard_template.deleted", "hazard_template", id)).await?;
    work.commit().await
}

/// The reasons a ticket may be 不合格, in their order.
pub async fn eval_reasons(app: &App) -> Result<Vec<EvalReason>, AppError> {
    Ok(store::eval_reasons(&mut *app.db().read().await?).await?)
}

/// Adds a reason (a new code) or changes one's text and whether it is offered.
pub async fn save_eval_reason(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    code: &str,
    text: &str,
    active: bool,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    let code = code.trim();
    if !(1..=10).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        problems.push(FieldProblem::new("code", "field-record-code-format"));
    }
    if trim_blank(text).is_empty() || text.chars().count() > 200 {
        problems.push(FieldProblem::new("text", "field-name-length").with("max", 200));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    store::save_eval_reason(work.conn(), code, trim_blank(text), active).await?;
    work.audit(
        NewEvent::new("ticket_eval_reason.saved", "ticket_eval_reason", code)
            .summary(serde_json::json!({ "code": code, "text": trim_blank(text), "active": active })),
    )
    .await?;
    work.commit().await
}
