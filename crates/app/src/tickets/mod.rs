//! Work tickets and cards (工作票/工作卡): drafts, the lifecycle, evaluation.
//!
//! A ticket belongs to a unit and is seen by those whose `tickets.*` capability reaches it.
//! Drafts are filled in freely (`tickets.write`); from then on it changes only by lifecycle
//! steps (`tickets.sign`), each taken by the person linked to the signed-in account, checked by
//! the domain's state machine and signed in `ticket_steps`.

mod catalogue;
mod evaluation;
mod steps;

pub use catalogue::{
    DocumentTypeInput, DocumentTypeRow, EvalReason, HazardTemplate, add_document_type, add_hazard_template,
    delete_hazard_template, document_type, document_types, eval_reasons, hazard_templates, save_document_type,
    save_eval_reason,
};
pub use evaluation::{UnitMonth, evaluate, month_stats};
pub(crate) use steps::take_step_by;
pub use steps::{PersonCheck, StepInput, lapse_overdue, parse_step, people_check, take_step};

use gridsafe_domain::access::{Actor, Capability, PermissionMarker, perm};
use gridsafe_domain::orders::{ORDER_TYPES, OrderType};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::{DocumentType, State, Times};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::identity::unit_by_id;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The order type of `marketing-export.md` named by its code or Chinese name.
pub fn order_type(text: &str) -> Option<&'static str> {
    OrderType::parse(text).map(OrderType::code)
}

/// Every order type code, in the export's order.
pub fn order_types() -> Vec<&'static str> {
    ORDER_TYPES.iter().map(|(c, _, _)| *c).collect()
}

/// A person named on a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub id: i64,
    /// 工号
    pub code: String,
    pub name: String,
    pub contractor: Option<String>,
}

impl PersonRef {
    pub fn label(&self) -> String {
        format!("{} {}", self.code, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CrewMember {
    pub person: PersonRef,
    pub acknowledged_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hazard {
    pub id: i64,
    pub hazard: String,
    pub measure: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLink {
    pub order_id: String,
    pub order_type: String,
}

/// A signed step, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub person: Option<String>,
    pub username: Option<String>,
    pub channel: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub at: String,
    pub detail: Option<String>,
}

/// A ticket in a list.
#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    pub id: i64,
    pub number: String,
    pub type_code: String,
    pub type_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub state: State,
    pub work_kind: OrderType,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub location: String,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub extended_to: Option<Timestamp>,
    pub leader: Option<String>,
    pub verdict: Option<String>,
    /// The signed 许可, 工作终结 and 终结/未执行/作废.
    #[serde(skip)]
    pub permitted: Option<Timestamp>,
    #[serde(skip)]
    pub work_ended: Option<Timestamp>,
    #[serde(skip)]
    pub finished: Option<Timestamp>,
    #[serde(skip)]
    pub unit_path: String,
}

impl TicketRow {
    pub fn end(&self) -> Timestamp {
        self.times().end()
    }

    pub fn times(&self) -> Times {
        Times {
            state: self.state,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            extended_to: self.extended_to,
            permitted_at: self.permitted,
            work_ended_at: self.work_ended,
            finished_at: self.finished,
        }
    }

    /// Left at 工作终结 past its validity: its permit giver has yet to close it.
    pub fn close_overdue(&self, now: Timestamp) -> bool {
        self.times().close_overdue(now)
    }
}

/// A ticket with everything on it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub row: TicketRow,
    pub doc: DocumentType,
    pub content: String,
    pub voltage_kv: Option<f64>,
    pub issuer: Option<PersonRef>,
    pub co_issuer: Option<PersonRef>,
    pub co_signed_at: Option<String>,
    pub leader: Option<PersonRef>,
    pub permitter: Option<PersonRef>,
    pub crew: Vec<CrewMember>,
    pub hazards: Vec<Hazard>,
    pub orders: Vec<OrderLink>,
    pub survey: Option<String>,
    pub survey_at: Option<String>,
    pub survey_by: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub steps: Vec<StepRecord>,
    pub verdict_reasons: Vec<String>,
    pub evaluated_by: Option<String>,
    pub evaluated_at: Option<String>,
    pub evaluation_note: Option<String>,
    /// Tickets of these order types must all be evaluated.
    pub must_evaluate: bool,
}

impl TicketDetail {
    /// What the lifecycle needs to know.
    pub fn facts(&self) -> gridsafe_domain::tickets::Ticket {
        gridsafe_domain::tickets::Ticket {
            state: self.row.state,
            doc: self.doc.clone(),
            issuer: self.issuer.as_ref().map(|p| p.id),
            co_issuer: self.co_issuer.as_ref().map(|p| p.id),
            co_signed: self.co_signed_at.is_some(),
            leader: self.leader.as_ref().map(|p| p.id),
            permitter: self.permitter.as_ref().map(|p| p.id),
            crew: self.crew.iter().map(|c| c.person.id).collect(),
            acknowledged: self.crew.iter().filter(|c| c.acknowledged_at.is_some()).map(|c| c.person.id).collect(),
            planned_start: self.row.planned_start,
            planned_end: self.row.planned_end,
            extended_to: self.row.extended_to,
            permitted_at: self.row.permitted,
            work_ended_at: self.row.work_ended,
            finished_at: self.row.finished,
            hazards: self.hazards.len(),
            survey_done: self.survey.is_some(),
            work_kind: self.row.work_kind,
            order_types: self.orders.iter().filter_map(|o| OrderType::parse(&o.order_type)).collect(),
            voltage_kv: self.voltage_kv,
            customer: self.row.customer_id.clone(),
        }
    }

    /// Everyone the ticket names, in its roles.
    pub fn people(&self) -> Vec<&PersonRef> {
        [&self.issuer, &self.co_issuer, &self.leader, &self.permitter]
            .into_iter()
            .flatten()
            .chain(self.crew.iter().map(|c| &c.person))
            .collect()
    }
}

/// The units a ticket capability reaches.
pub trait TicketReach: PermissionMarker {}
impl TicketReach for perm::TicketsView {}
impl TicketReach for perm::TicketsWrite {}
impl TicketReach for perm::TicketsSign {}
impl TicketReach for perm::TicketsEvaluate {}

const ROW_COLUMNS: &str = "t.id, t.number, t.type_code, tt.name, t.unit_id, u.name, u.path, t.state, t.work_kind, \
    t.customer_id, t.customer_name, t.location, t.planned_start, t.planned_end, t.extended_to, lp.code, lp.name, t.verdict, \
    t.permitted_at, t.work_ended_at, t.finished_at AS row_finished_at";
const ROW_FROM: &str = "tickets t JOIN ticket_types tt ON tt.code = t.type_code JOIN org_units u ON u.id = t.unit_id \
    LEFT JOIN people lp ON lp.id = t.leader_id";

fn stamp(text: Option<String>) -> Result<Option<Timestamp>, sqlx::Error> {
    text.map(|t| Timestamp::from_db(&t).ok_or_else(|| sqlx::Error::Decode("timestamp".into()))).transpose()
}

fn row_from(r: &sqlx::any::AnyRow) -> Result<TicketRow, sqlx::Error> {
    let state: String = r.try_get(7)?;
    let leader = match (r.try_get::<Option<String>, _>(15)?, r.try_get::<Option<String>, _>(16)?) {
        (Some(code), Some(name)) => Some(format!("{code} {name}")),
        _ => None,
    };
    let kind: String = r.try_get(8)?;
    Ok(TicketRow {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        type_code: r.try_get(2)?,
        type_name: r.try_get(3)?,
        unit_id: r.try_get(4)?,
        unit_name: r.try_get(5)?,
        unit_path: r.try_get(6)?,
        state: State::from_code(&state).ok_or_else(|| sqlx::Error::Decode("ticket state".into()))?,
        work_kind: OrderType::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("work kind {kind}").into()))?,
        customer_id: r.try_get(9)?,
        customer_name: r.try_get(10)?,
        location: r.try_get(11)?,
        planned_start: stamp(Some(r.try_get(12)?))?
            .unwrap_or_else(|| Timestamp::from_utc(chrono::DateTime::UNIX_EPOCH)),
        planned_end: stamp(Some(r.try_get(13)?))?.unwrap_or_else(|| Timestamp::from_utc(chrono::DateTime::UNIX_EPOCH)),
        extended_to: stamp(r.try_get(14)?)?,
        leader,
        verdict: r.try_get(17)?,
        permitted: stamp(r.try_get("permitted_at")?)?,
        work_ended: stamp(r.try_get("work_ended_at")?)?,
        finished: stamp(r.try_get("row_finished_at")?)?,
    })
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub state: Option<State>,
    /// Part of the number, customer, location or leader.
    pub query: Option<String>,
    /// Executed tickets without a verdict (the evaluation backlog).
    pub unevaluated: bool,
    /// Only tickets naming this person.
    pub person: Option<i64>,
}

/// Tickets in reach, newest first.
pub async fn list_tickets<P: TicketReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &TicketFilter,
    limit: u32,
) -> Result<Vec<TicketRow>, AppError> {
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let mut sql = format!("SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE {clause}");
    if let Some(state) = filter.state {
        binds.push(state.code().to_owned());
        sql.push_str(&format!(" AND t.state = ${}", binds.len()));
    }
    if filter.unevaluated {
        sql.push_str(" AND t.state = 'closed' AND t.verdict IS NULL");
    }
    if let Some(pattern) = crate::search::contains("q", filter.query.as_deref())? {
        binds.push(pattern);
        let n = binds.len();
        let terms: Vec<String> = ["t.number", "t.customer_id", "t.customer_name", "t.location", "lp.name"]
            .into_iter()
            .map(|column| crate::search::like(column, n))
            .collect();
        sql.push_str(&format!(" AND ({})", terms.join(" OR ")));
    }
    if let Some(person) = filter.person {
        // An integer from the database, not user input.
        sql.push_str(&format!(
            " AND (t.issuer_id = {person} OR t.co_issuer_id = {person} OR t.leader_id = {person} OR t.permitter_id = {person} \
             OR EXISTS (SELECT 1 FROM ticket_crew c WHERE c.ticket_id = t.id AND c.person_id = {person}))"
        ));
    }
    sql.push_str(&format!(" ORDER BY t.planned_start DESC, t.id DESC LIMIT {}", limit.clamp(1, 100_000)));
    let rows = gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await?;
    Ok(rows.iter().map(row_from).collect::<Result<_, _>>()?)
}

async fn person_ref(app: &App, id: Option<i64>) -> Result<Option<PersonRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let r = sqlx::query(
        "SELECT p.id, p.code, p.name, c.name FROM people p LEFT JOIN contractors c ON c.id = p.contractor_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_one(app.db().pool())
    .await?;
    Ok(Some(PersonRef { id: r.try_get(0)?, code: r.try_get(1)?, name: r.try_get(2)?, contractor: r.try_get(3)? }))
}

/// One ticket in reach, with everything on it.
pub async fn ticket<P: TicketReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<TicketDetail, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROW_COLUMNS}, t.content, t.voltage_kv, t.issuer_id, t.co_issuer_id, t.co_signed_at, t.leader_id, \
         t.permitter_id, t.survey, t.survey_at, t.survey_by, t.finished_at, t.finish_reason, t.evaluated_by, \
         t.evaluated_at, t.evaluation_note FROM {ROW_FROM} WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let summary = row_from(&row)?;
    crate::identity::check_stored_path(cap, &summary.unit_path)?;
    let doc = document_type(app, &summary.type_code).await?.ok_or(AppError::NotFound)?.doc;
    let crew_rows = sqlx::query(
        "SELECT p.id, p.code, p.name, c.name, k.acknowledged_at FROM ticket_crew k JOIN people p ON p.id = k.person_id \
         LEFT JOIN contractors c ON c.id = p.contractor_id WHERE k.ticket_id = $1 ORDER BY p.code",
    )
    .bind(id)
    .fetch_all(app.db().pool())
    .await?;
    let crew = crew_rows
        .iter()
        .map(|r| {
            Ok(CrewMember {
                person: PersonRef {
                    id: r.try_get(0)?,
                    code: r.try_get(1)?,
                    name: r.try_get(2)?,
                    contractor: r.try_get(3)?,
                },
                acknowledged_at: stamp(r.try_get(4)?)?.map(|t| t.local_display()),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let hazards =
        sqlx::query("SELECT id, hazard, measure FROM ticket_hazards WHERE ticket_id = $1 ORDER BY sort_order, id")
            .bind(id)
            .fetch_all(app.db().pool())
            .await?
            .iter()
            .map(|r| Ok(Hazard { id: r.try_get(0)?, hazard: r.try_get(1)?, measure: r.try_get(2)? }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let orders = sqlx::query("SELECT order_id, order_type FROM ticket_orders WHERE ticket_id = $1 ORDER BY order_id")
        .bind(id)
        .fetch_all(app.db().pool())
        .await?
        .iter()
        .map(|r| Ok(OrderLink { order_id: r.try_get(0)?, order_type: r.try_get(1)? }))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let steps = sqlx::query(
        "SELECT s.step, s.from_state, s.to_state, p.code, p.name, s.username, s.channel, s.at, s.detail \
         FROM ticket_steps s LEFT JOIN people p ON p.id = s.person_id WHERE s.ticket_id = $1 ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(app.db().pool())
    .await?
    .iter()
    .map(|r| {
        let person = match (r.try_get::<Option<String>, _>(3)?, r.try_get::<Option<String>, _>(4)?) {
            (Some(c), Some(n)) => Some(format!("{c} {n}")),
            _ => None,
        };
        Ok(StepRecord {
            step: r.try_get(0)?,
            from_state: r.try_get(1)?,
            to_state: r.try_get(2)?,
            person,
            username: r.try_get(5)?,
            channel: r.try_get(6)?,
            at: stamp(Some(r.try_get(7)?))?.map(|t| t.local_display()).unwrap_or_default(),
            detail: r.try_get(8)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let verdict_reasons =
        sqlx::query("SELECT reason_code FROM ticket_eval_marks WHERE ticket_id = $1 ORDER BY reason_code")
            .bind(id)
            .fetch_all(app.db().pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
    let must = app.tickets_config().must_evaluate_set();
    let must_evaluate = std::iter::once(summary.work_kind)
        .chain(orders.iter().filter_map(|o| OrderType::parse(&o.order_type)))
        .any(|k| must.contains(k));
    Ok(TicketDetail {
        doc,
        content: row.try_get(21)?,
        voltage_kv: row.try_get(22)?,
        issuer: person_ref(app, row.try_get(23)?).await?,
        co_issuer: person_ref(app, row.try_get(24)?).await?,
        co_signed_at: stamp(row.try_get(25)?)?.map(|t| t.local_display()),
        leader: person_ref(app, row.try_get(26)?).await?,
        permitter: person_ref(app, row.try_get(27)?).await?,
        survey: row.try_get(28)?,
        survey_at: stamp(row.try_get(29)?)?.map(|t| t.local_display()),
        survey_by: row.try_get(30)?,
        finished_at: stamp(row.try_get(31)?)?.map(|t| t.local_display()),
        finish_reason: row.try_get(32)?,
        evaluated_by: row.try_get(33)?,
        evaluated_at: stamp(row.try_get(34)?)?.map(|t| t.local_display()),
        evaluation_note: row.try_get(35)?,
        crew,
        hazards,
        orders,
        steps,
        verdict_reasons,
        must_evaluate,
        row: summary,
    })
}

/// A draft as filled in: people by 工号, times as local wall-clock text.
#[derive(Debug, Clone, Default)]
pub struct TicketInput {
    pub type_code: String,
    pub unit_id: i64,
    /// The kind of work (an order type), which picks the hazard templates.
    pub work_kind: String,
    pub customer_id: String,
    pub customer_name: String,
    pub location: String,
    pub content: String,
    pub voltage_kv: String,
    pub planned_start: String,
    pub planned_end: String,
    pub issuer: String,
    pub co_issuer: String,
    pub leader: String,
    pub permitter: String,
    /// 工号 separated by spaces, commas or semicolons.
    pub crew: String,
    /// Work orders as `ID:type` (type as code or Chinese name), separated by spaces, commas,
    /// semicolons or lines.
    pub orders: String,
}

/// A draft after its fields were checked.
struct Draft {
    doc: DocumentType,
    unit: crate::identity::Unit,
    work_kind: OrderType,
    customer_id: Option<String>,
    customer_name: Option<String>,
    location: String,
    content: String,
    voltage_kv: Option<f64>,
    start: Timestamp,
    end: Timestamp,
    issuer: Option<i64>,
    co_issuer: Option<i64>,
    leader: Option<i64>,
    permitter: Option<i64>,
    crew: Vec<i64>,
    orders: Vec<(String, OrderType)>,
}

fn local_time(field: &'static str, text: &str, problems: &mut Vec<FieldProblem>) -> Option<Timestamp> {
    let cell = gridsafe_crossaudit::input::Cell::Text(text.trim().to_owned());
    match gridsafe_crossaudit::input::parse_datetime(&cell) {
        Ok(local) => Some(Timestamp::from_local(local)),
        Err(_) => {
            problems.push(FieldProblem::new(field, "field-datetime").with("value", text.trim()));
            None
        }
    }
}

fn split_items(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', ';', '\n', '\r', '\t', '，', '；', '、']).map(str::trim).filter(|s| !s.is_empty())
}

/// The person with this 工号, if any.
async fn person_by_code(
    app: &App,
    field: &'static str,
    code: &str,
    problems: &mut Vec<FieldProblem>,
) -> Result<Option<i64>, AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM people WHERE code = $1").bind(code).fetch_optional(app.db().pool()).await?;
    if id.is_none() {
        problems.push(FieldProblem::new(field, "field-person-code").with("value", code));
    }
    Ok(id)
}

async fn check_draft(app: &App, input: &TicketInput) -> Result<Draft, AppError> {
    let mut problems = Vec::new();
    let doc = document_type(app, input.type_code.trim()).await?.filter(|d| d.active);
    if doc.is_none() {
        problems.push(FieldProblem::new("type_code", "field-ticket-type"));
    }
    let work_kind = OrderType::parse(&input.work_kind);
    if work_kind.is_none() {
        problems.push(FieldProblem::new("work_kind", "field-order-type").with("value", input.work_kind.trim()));
    }
    let unit = unit_by_id(app, input.unit_id).await?;
    if unit.is_none() {
        problems.push(FieldProblem::new("unit_id", "field-unit"));
    }
    for (field, text, max) in [("location", &input.location, 200), ("content", &input.content, 1000)] {
        if trim_blank(text).is_empty() {
            problems.push(FieldProblem::new(field, "field-required"));
        } else if text.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
    }
    for (field, text) in [("customer_id", &input.customer_id), ("customer_name", &input.customer_name)] {
        if text.chars().count() > 100 {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", 100));
        }
    }
    let stated = match input.voltage_kv.trim() {
        "" => None,
        v => match v.parse::<f64>() {
            Ok(kv) if kv.is_finite() && kv > 0.0 && kv <= 1000.0 => Some(kv),
            _ => {
                problems.push(FieldProblem::new("voltage_kv", "field-voltage").with("value", v));
                None
            }
        },
    };
    // A registered customer's voltage is the register's: the licence check never goes without it.
    let registered = match trim_blank(&input.customer_id) {
        "" => None,
        no => crate::customers::registered_customer(app, no).await?,
    };
    let voltage_kv = match (&registered, stated) {
        (Some(c), Some(v)) if (c.voltage_kv - v).abs() > 1e-9 => {
            problems.push(
                FieldProblem::new("voltage_kv", "field-voltage-register")
                    .with("value", v)
                    .with("register", c.voltage_kv),
            );
            None
        }
        (Some(c), _) => Some(c.voltage_kv),
        (None, v) => v,
    };
    let start = local_time("planned_start", &input.planned_start, &mut problems);
    let end = local_time("planned_end", &input.planned_end, &mut problems);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        problems.push(FieldProblem::new("planned_end", "field-window"));
    }
    let issuer = person_by_code(app, "issuer", &input.issuer, &mut problems).await?;
    let co_issuer = person_by_code(app, "co_issuer", &input.co_issuer, &mut problems).await?;
    let leader = person_by_code(app, "leader", &input.leader, &mut problems).await?;
    let permitter = person_by_code(app, "permitter", &input.permitter, &mut problems).await?;
    let mut crew = Vec::new();
    for code in split_items(&input.crew) {
        if let Some(id) = person_by_code(app, "crew", code, &mut problems).await?
            && !crew.contains(&id)
        {
            crew.push(id);
        }
    }
    let mut orders: Vec<(String, OrderType)> = Vec::new();
    for item in split_items(&input.orders) {
        let parsed = item.split_once([':', '：']).and_then(|(id, kind)| Some((id.trim(), OrderType::parse(kind)?)));
        match parsed {
            Some((id, kind)) if (1..=40).contains(&id.chars().count()) => {
                if !orders.iter().any(|(o, _)| o == id) {
                    orders.push((id.to_owned(), kind));
                }
            }
            _ => problems.push(FieldProblem::new("orders", "field-order").with("value", item)),
        }
    }
    match (doc, work_kind, unit, start, end) {
        (Some(doc), Some(work_kind), Some(unit), Some(start), Some(end)) if problems.is_empty() => {
            let opt = |s: &str| (!trim_blank(s).is_empty()).then(|| trim_blank(s).to_owned());
            Ok(Draft {
                doc: doc.doc,
                unit,
                work_kind,
                customer_id: opt(&input.customer_id),
                customer_name: opt(&input.customer_name).or_else(|| registered.map(|c| c.name)),
                location: trim_blank(&input.location).to_owned(),
                content: trim_blank(&input.content).to_owned(),
                voltage_kv,
                start,
                end,
                issuer,
                co_issuer,
                leader,
                permitter,
                crew,
                orders,
            })
        }
        _ => Err(AppError::Invalid(problems)),
    }
}

/// Writes a draft's fields (only while it is a draft); how many rows changed.
async fn write_draft(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    d: &Draft,
    now: Timestamp,
) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE tickets SET unit_id = $1, work_kind = $2, customer_id = $3, customer_name = $4, location = $5, content = $6, \
         voltage_kv = CAST($7 AS DOUBLE PRECISION), planned_start = $8, planned_end = $9, issuer_id = $10, co_issuer_id = $11, leader_id = $12, \
         permitter_id = $13, co_signed_at = NULL, updated_at = $14 WHERE id = $15 AND state = 'draft'",
    )
    .bind(d.unit.id)
    .bind(d.work_kind.code())
    .bind(&d.customer_id)
    .bind(&d.customer_name)
    .bind(&d.location)
    .bind(&d.content)
    .bind(gridsafe_store::real_text(d.voltage_kv))
    .bind(d.start.to_db())
    .bind(d.end.to_db())
    .bind(d.issuer)
    .bind(d.co_issuer)
    .bind(d.leader)
    .bind(d.permitter)
    .bind(now.to_db())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Writes the crew and orders of a draft (replacing what was there).
async fn write_lists(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: i64, d: &Draft) -> Result<(), AppError> {
    sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1").bind(id).execute(&mut **tx).await?;
    for p in d.crew.iter().filter(|p| Some(**p) != d.leader) {
        sqlx::query("INSERT INTO ticket_crew (ticket_id, person_id) VALUES ($1, $2)")
            .bind(id)
            .bind(p)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("DELETE FROM ticket_orders WHERE ticket_id = $1").bind(id).execute(&mut **tx).await?;
    for (order, kind) in &d.orders {
        sqlx::query("INSERT INTO ticket_orders (ticket_id, order_id, order_type) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(order)
            .bind(kind.code())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn draft_summary(number: &str, d: &Draft) -> serde_json::Value {
    serde_json::json!({
        "number": number, "type": d.doc.code, "work_kind": d.work_kind.code(), "customer_id": d.customer_id,
        "planned_start": d.start.to_db(), "planned_end": d.end.to_db(), "issuer": d.issuer, "co_issuer": d.co_issuer,
        "leader": d.leader, "permitter": d.permitter, "crew": d.crew,
        "orders": d.orders.iter().map(|(o, k)| format!("{o}:{}", k.code())).collect::<Vec<_>>(),
    })
}

/// Opens a draft (填写) with the next number of its type and the hazard points of its kind of
/// work from the templates.
pub async fn create_ticket(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    input: TicketInput,
) -> Result<i64, AppError> {
    let d = check_draft(app, &input).await?;
    cap.check(&d.unit.path)?;
    let now = app.now();
    let templates = hazard_templates(app, Some(d.work_kind.code())).await?;
    let mut tx = app.db().begin_write().await?;
    let number = crate::numbers::next(&mut tx, &d.doc.prefix, now.local_date()).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO tickets (number, type_code, unit_id, state, work_kind, location, content, planned_start, planned_end, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, '', '', $5, $5, $6, $5, $5) RETURNING id",
    )
    .bind(&number)
    .bind(&d.doc.code)
    .bind(d.unit.id)
    .bind(d.work_kind.code())
    .bind(now.to_db())
    .bind(&cap.actor().name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    write_draft(&mut tx, id, &d, now).await?;
    write_lists(&mut tx, id, &d).await?;
    for (i, t) in templates.iter().enumerate() {
        sqlx::query("INSERT INTO ticket_hazards (ticket_id, hazard, measure, sort_order) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&t.hazard)
            .bind(&t.measure)
            .bind(i64::try_from(i).unwrap_or(0) * 10)
            .execute(&mut *tx)
            .await?;
    }
    let event = NewEvent::new("ticket.created", "ticket", id).unit(d.unit.id).summary(draft_summary(&number, &d));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// The draft in reach, refused unless it is still a draft.
async fn draft_in_reach(app: &App, cap: &Capability<perm::TicketsWrite>, id: i64) -> Result<TicketDetail, AppError> {
    let t = ticket(app, cap, id).await?;
    if t.row.state != State::Draft {
        return Err(AppError::Rule(
            gridsafe_domain::rules::Violation::of(gridsafe_domain::rules::TICKET_STATE)
                .with("step", "edit")
                .with("state", t.row.state.code()),
        ));
    }
    Ok(t)
}

/// Changes a draft. After issue a ticket changes only by lifecycle steps.
pub async fn update_draft(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: i64,
    input: TicketInput,
) -> Result<(), AppError> {
    let before = draft_in_reach(app, cap, id).await?;
    let d = check_draft(app, &input).await?;
    cap.check(&d.unit.path)?;
    if d.doc.code != before.doc.code {
        return Err(AppError::invalid("type_code", "field-ticket-type-fixed"));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let changed = write_draft(&mut tx, id, &d, now).await?;
    if changed == 0 {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    write_lists(&mut tx, id, &d).await?;
    let event =
        NewEvent::new("ticket.updated", "ticket", id).unit(d.unit.id).summary(draft_summary(&before.row.number, &d));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a hazard point with its pre-control measure to a draft.
pub async fn add_hazard(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: i64,
    hazard: &str,
    measure: &str,
) -> Result<i64, AppError> {
    let t = draft_in_reach(app, cap, id).await?;
    let (hazard, measure) = catalogue::check_hazard(hazard, measure)?;
    let mut tx = app.db().begin_write().await?;
    let hid: i64 = sqlx::query(
        "INSERT INTO ticket_hazards (ticket_id, hazard, measure, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM ticket_hazards WHERE ticket_id = $1)) RETURNING id",
    )
    .bind(id)
    .bind(&hazard)
    .bind(&measure)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let event = NewEvent::new("ticket.hazard_added", "ticket", id)
        .unit(t.row.unit_id)
        .summary(serde_json::json!({ "number": t.row.number, "hazard": hazard, "measure": measure }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(hid)
}

pub async fn delete_hazard(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: i64,
    hazard_id: i64,
) -> Result<(), AppError> {
    let t = draft_in_reach(app, cap, id).await?;
    let mut tx = app.db().begin_write().await?;
    let gone = sqlx::query("DELETE FROM ticket_hazards WHERE id = $1 AND ticket_id = $2")
        .bind(hazard_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    let event = NewEvent::new("ticket.hazard_removed", "ticket", id)
        .unit(t.row.unit_id)
        .summary(serde_json::json!({ "number": t.row.number, "hazard_id": hazard_id }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Records the site survey (现场勘察记录) of a draft.
pub async fn record_survey(
    app: &App,
    cap: &Capability<perm::TicketsWrite>,
    meta: &RequestMeta,
    id: i64,
    record: &str,
) -> Result<(), AppError> {
    let t = draft_in_reach(app, cap, id).await?;
    let n = trim_blank(record).chars().count();
    if n == 0 || record.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("survey", "field-name-length").with("max", 2000)]));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE tickets SET survey = $1, survey_at = $2, survey_by = $3, updated_at = $2 WHERE id = $4")
        .bind(trim_blank(record))
        .bind(now.to_db())
        .bind(&cap.actor().name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("ticket.surveyed", "ticket", id)
        .unit(t.row.unit_id)
        .summary(serde_json::json!({ "number": t.row.number, "characters": n }));
    append(&mut tx, app.db().backend(), cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// The person linked to the account acting, if any.
pub async fn person_of(app: &App, actor: &Actor) -> Result<Option<i64>, AppError> {
    let Some(user) = actor.user_id else { return Ok(None) };
    Ok(sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1")
        .bind(user)
        .fetch_optional(app.db().pool())
        .await?)
}

/// The person linked to the account acting, as named on tickets.
pub async fn own_person(app: &App, actor: &Actor) -> Result<Option<PersonRef>, AppError> {
    let id = person_of(app, actor).await?;
    person_ref(app, id).await
}

/// A ticket waiting for the signed-in person's step.
#[derive(Debug, Clone, Serialize)]
pub struct Awaiting {
    pub ticket: TicketRow,
    pub steps: Vec<&'static str>,
    /// Left at 工作终结 past its validity: the permit giver's closing is late.
    pub late: bool,
}

/// Tickets waiting for the person linked to the caller to take a step on the main path (签发,
/// 接票, 许可, 交底确认, 开工, 工作终结, 终结 …), with those steps: the field worker's to-do list,
/// late ones first.
pub async fn awaiting(app: &App, cap: &Capability<perm::TicketsSign>) -> Result<Vec<Awaiting>, AppError> {
    let Some(me) = person_of(app, cap.actor()).await? else { return Ok(Vec::new()) };
    let filter = TicketFilter { person: Some(me), ..TicketFilter::default() };
    let mut out = Vec::new();
    for row in list_tickets(app, cap, &filter, 200).await?.into_iter().filter(|r| !r.state.is_final()) {
        let t = ticket(app, cap, row.id).await?;
        let steps: Vec<&'static str> = gridsafe_domain::tickets::offered(&t.facts(), me)
            .iter()
            .map(|s| s.code())
            .filter(|c| {
                !matches!(
                    *c,
                    "void" | "not_executed" | "change_leader" | "add_crew" | "remove_crew" | "extend" | "interrupt"
                )
            })
            .collect();
        if !steps.is_empty() {
            out.push(Awaiting { late: row.close_overdue(app.now()), ticket: row, steps });
        }
    }
    out.sort_by_key(|a| !a.late);
    Ok(out)
}

/// A local date-time as typed into a form, for steps that carry one (延期).
pub fn parse_local(field: &'static str, text: &str) -> Result<Timestamp, AppError> {
    let mut problems = Vec::new();
    local_time(field, text, &mut problems).ok_or(AppError::Invalid(problems))
}
