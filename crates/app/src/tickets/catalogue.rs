//! The document catalogue (票种目录), hazard templates (危险点模板) and evaluation reasons
//! (不合格原因): configuration kept as data, each change audited.

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::DocumentType;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// A catalogue entry as shown: the type and where its defaults come from.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTypeRow {
    #[serde(flatten)]
    pub doc: DocumentType,
    pub origin: String,
    pub active: bool,
}

const TYPE_COLUMNS: &str =
    "code, name, covers, extendable, needs_survey, live_work, prefix, min_people, origin, active";

fn type_from_row(r: &sqlx::any::AnyRow) -> Result<DocumentTypeRow, sqlx::Error> {
    let covers: String = r.try_get(2)?;
    Ok(DocumentTypeRow {
        doc: DocumentType {
            code: r.try_get(0)?,
            name: r.try_get(1)?,
            covers: covers.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            extendable: r.try_get::<i64, _>(3)? != 0,
            needs_survey: r.try_get::<i64, _>(4)? != 0,
            live_work: r.try_get::<i64, _>(5)? != 0,
            prefix: r.try_get(6)?,
            min_people: u32::try_from(r.try_get::<i64, _>(7)?).unwrap_or(2),
        },
        origin: r.try_get(8)?,
        active: r.try_get::<i64, _>(9)? != 0,
    })
}

/// The whole catalogue, in its order.
pub async fn document_types(app: &App) -> Result<Vec<DocumentTypeRow>, AppError> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TYPE_COLUMNS} FROM ticket_types ORDER BY sort_order, code")))
            .fetch_all(app.db().pool())
            .await?;
    Ok(rows.iter().map(type_from_row).collect::<Result<_, _>>()?)
}

pub async fn document_type(app: &App, code: &str) -> Result<Option<DocumentTypeRow>, AppError> {
    document_type_on(&mut *app.db().pool().acquire().await?, code).await
}

/// [`document_type`] read on `conn` (inside a unit of work, or a pooled connection).
pub(super) async fn document_type_on(
    conn: &mut gridsafe_store::Conn,
    code: &str,
) -> Result<Option<DocumentTypeRow>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TYPE_COLUMNS} FROM ticket_types WHERE code = $1")))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(type_from_row).transpose()?)
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
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "UPDATE ticket_types SET name = $1, covers = $2, extendable = $3, needs_survey = $4, live_work = $5, \
         min_people = $6, active = $7, origin = $8, prefix = $9 WHERE code = $10",
    )
    .bind(trim_blank(&input.name))
    .bind(input.covers.join(","))
    .bind(i64::from(input.extendable && !input.live_work))
    .bind(i64::from(input.needs_survey))
    .bind(i64::from(input.live_work))
    .bind(input.min_people)
    .bind(i64::from(input.active))
    .bind(&origin)
    .bind(&prefix)
    .bind(code)
    .execute(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-ticket-prefix"))?;
    let event = NewEvent::new("ticket_type.updated", "ticket_type", code).summary(serde_json::json!({
        "code": code, "prefix": prefix, "covers": input.covers, "extendable": input.extendable && !input.live_work,
        "needs_survey": input.needs_survey, "live_work": input.live_work, "min_people": input.min_people,
        "active": input.active,
    }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
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
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "INSERT INTO ticket_types (code, name, covers, extendable, needs_survey, live_work, prefix, min_people, origin, active, sort_order) \
         VALUES ($1, $2, '', 0, 0, 0, $3, 2, $4, 1, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM ticket_types))",
    )
    .bind(code)
    .bind(trim_blank(name))
    .bind(prefix.trim())
    .bind(&origin)
    .execute(&mut *tx)
    .await
    .map_err(|e| AppError::from_insert(e, "conflict-ticket-type"))?;
    let event = NewEvent::new("ticket_type.created", "ticket_type", code)
        .summary(serde_json::json!({ "code": code, "name": trim_blank(name), "prefix": prefix.trim() }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct HazardTemplate {
    pub id: i64,
    pub work_kind: String,
    pub hazard: String,
    pub measure: String,
}

/// Templates for one kind of work, or all.
pub async fn hazard_templates(app: &App, work_kind: Option<&str>) -> Result<Vec<HazardTemplate>, AppError> {
    let rows = match work_kind {
        Some(kind) => sqlx::query(
            "SELECT id, work_kind, hazard, measure FROM hazard_templates WHERE work_kind = $1 ORDER BY sort_order, id",
        )
        .bind(kind)
        .fetch_all(app.db().pool())
        .await?,
        None => {
            sqlx::query(
                "SELECT id, work_kind, hazard, measure FROM hazard_templates ORDER BY work_kind, sort_order, id",
            )
            .fetch_all(app.db().pool())
            .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(HazardTemplate {
                id: r.try_get(0)?,
                work_kind: r.try_get(1)?,
                hazard: r.try_get(2)?,
                measure: r.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
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
    let mut tx = app.db().begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO hazard_templates (work_kind, hazard, measure, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM hazard_templates WHERE work_kind = $1)) RETURNING id",
    )
    .bind(work_kind)
    .bind(&hazard)
    .bind(&measure)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let event = NewEvent::new("hazard_template.created", "hazard_template", id)
        .summary(serde_json::json!({ "work_kind": work_kind, "hazard": hazard, "measure": measure }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_hazard_template(
    app: &App,
    cap: &Capability<perm::TicketsConfigure>,
    meta: &RequestMeta,
    id: i64,
) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    let gone =
        sqlx::query("DELETE FROM hazard_templates WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    append(&mut tx, cap.actor(), meta, app.now(), NewEvent::new("hazard_template.deleted", "hazard_template", id))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReason {
    pub code: String,
    pub text: String,
    pub active: bool,
}

/// The reasons a ticket may be 不合格, in their order.
pub async fn eval_reasons(app: &App) -> Result<Vec<EvalReason>, AppError> {
    let rows = sqlx::query("SELECT code, text, active FROM ticket_eval_reasons ORDER BY sort_order, code")
        .fetch_all(app.db().pool())
        .await?;
    rows.iter()
        .map(|r| Ok(EvalReason { code: r.try_get(0)?, text: r.try_get(1)?, active: r.try_get::<i64, _>(2)? != 0 }))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
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
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "INSERT INTO ticket_eval_reasons (code, text, active, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM ticket_eval_reasons)) \
         ON CONFLICT (code) DO UPDATE SET text = excluded.text, active = excluded.active",
    )
    .bind(code)
    .bind(trim_blank(text))
    .bind(i64::from(active))
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new("ticket_eval_reason.saved", "ticket_eval_reason", code)
        .summary(serde_json::json!({ "code": code, "text": trim_blank(text), "active": active }));
    append(&mut tx, cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}
