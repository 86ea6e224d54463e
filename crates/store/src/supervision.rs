//! On-site supervision's rows: managers' stays at sites (到岗到位), the violation register (违章)
//! with its review meetings, and re-admissions. The rules are the domain's
//! (`gridsafe_domain::supervision`).

use std::collections::BTreeMap;

use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::supervision::{Class, Offender, Severity, StartedTicket, Strike};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, id, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, real_text, scope_clause};

// ---- 到岗到位 ------------------------------------------------------------------------------

/// The role codes account `user_id` holds at `unit` or a unit above it.
pub async fn roles_for(conn: &mut Conn, user_id: i64, unit: &UnitPath) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT ur.role_code FROM user_roles ur JOIN org_units u ON u.id = ur.unit_id \
         WHERE ur.user_id = $1 AND $2 LIKE u.path || '%' ORDER BY ur.role_code",
    )
    .bind(user_id)
    .bind(unit.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Holds account `user_id`'s row until the transaction ends (PostgreSQL), so that one manager's
/// arrivals are recorded one after the other.
pub async fn hold_user(conn: &mut Conn, user_id: i64) -> Result<(), StoreError> {
    let lock = for_update(backend_of(conn));
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM users WHERE id = $1{lock}")))
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}

/// A manager's stay at a site.
#[derive(Debug, Clone, Serialize)]
pub struct Stay {
    pub id: i64,
    pub ticket_id: TicketId,
    pub ticket_number: Option<String>,
    #[serde(skip)]
    pub user_id: i64,
    pub who: String,
    pub roles: Vec<String>,
    pub arrived_at: Timestamp,
    pub arrived_lat: Option<f64>,
    pub arrived_lon: Option<f64>,
    pub arrived_accuracy_m: Option<f64>,
    pub departed_at: Option<Timestamp>,
    pub note: Option<String>,
    /// The photo taken on arrival (an attachment's id).
    pub photo: Option<i64>,
}

const STAY: &str = "SELECT a.id, a.ticket_id, t.number, a.user_id, a.who, a.roles, a.arrived_at, a.arrived_lat, \
    a.arrived_lon, a.arrived_accuracy_m, a.departed_at, a.note, (SELECT MIN(f.id) FROM attachments f \
    WHERE f.owner_kind = 'attendance' AND f.owner_id = a.id) AS photo FROM site_attendance a JOIN tickets t ON t.id = a.ticket_id";

fn stay(r: &AnyRow) -> Result<Stay, StoreError> {
    let t = "site_attendance";
    let roles: String = r.try_get("roles")?;
    Ok(Stay {
        id: r.try_get("id")?,
        ticket_id: id(r, "ticket_id")?,
        ticket_number: r.try_get("number")?,
        user_id: r.try_get("user_id")?,
        who: r.try_get("who")?,
        roles: roles.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        arrived_at: stamp(t, "arrived_at", r.try_get("arrived_at")?)?,
        arrived_lat: r.try_get("arrived_lat")?,
        arrived_lon: r.try_get("arrived_lon")?,
        arrived_accuracy_m: r.try_get("arrived_accuracy_m")?,
        departed_at: opt_stamp(t, "departed_at", r.try_get("departed_at")?)?,
        note: r.try_get("note")?,
        photo: r.try_get("photo")?,
    })
}

/// The stays at ticket `ticket`'s site, first arrival first.
pub async fn stays(conn: &mut Conn, ticket: TicketId) -> Result<Vec<Stay>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{STAY} WHERE a.ticket_id = $1 ORDER BY a.arrived_at, a.id")))
        .bind(ticket.get())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(stay)
        .collect()
}

/// The stay account `user_id` has not ended, at any site.
pub async fn open_stay(conn: &mut Conn, user_id: i64) -> Result<Option<Stay>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{STAY} WHERE a.user_id = $1 AND a.departed_at IS NULL ORDER BY a.arrived_at DESC, a.id DESC"
    )))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(stay)
    .transpose()
}

/// Where the phone was, as the browser gave it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

pub struct NewArrival<'a> {
    pub ticket: TicketId,
    pub user_id: i64,
    pub who: &'a str,
    pub roles: &'a [String],
    pub position: Option<Position>,
    pub note: Option<&'a str>,
}

pub async fn insert_arrival(conn: &mut Conn, a: &NewArrival<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO site_attendance (ticket_id, user_id, who, roles, arrived_at, arrived_lat, arrived_lon, \
         arrived_accuracy_m, note) VALUES ($1, $2, $3, $4, $5, CAST($6 AS DOUBLE PRECISION), \
         CAST($7 AS DOUBLE PRECISION), CAST($8 AS DOUBLE PRECISION), $9) RETURNING id",
    )
    .bind(a.ticket.get())
    .bind(a.user_id)
    .bind(a.who)
    .bind(a.roles.join(","))
    .bind(at.to_db())
    .bind(real_text(a.position.map(|p| p.lat)))
    .bind(real_text(a.position.map(|p| p.lon)))
    .bind(real_text(a.position.and_then(|p| p.accuracy_m)))
    .bind(a.note)
    .fetch_one(&mut *conn)
    .await?)
}

/// Ends stay `id`; false when it had ended already.
pub async fn depart(conn: &mut Conn, id: i64, position: Option<Position>, at: Timestamp) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE site_attendance SET departed_at = $1, departed_lat = CAST($2 AS DOUBLE PRECISION), \
         departed_lon = CAST($3 AS DOUBLE PRECISION) WHERE id = $4 AND departed_at IS NULL",
    )
    .bind(at.to_db())
    .bind(real_text(position.map(|p| p.lat)))
    .bind(real_text(position.map(|p| p.lon)))
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Records, at 开工, the work's grade and whether a required manager was on site.
pub async fn mark_start(conn: &mut Conn, ticket: TicketId, grade: u8, attended: bool) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET start_grade = $1, start_attended = $2 WHERE id = $3")
        .bind(i64::from(grade))
        .bind(i64::from(attended))
        .bind(ticket.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every started ticket whose grade needed a manager on site, as the attendance audit reads it.
pub async fn started(conn: &mut Conn) -> Result<Vec<StartedTicket>, StoreError> {
    sqlx::query(
        "SELECT number, start_grade, start_attended FROM tickets \
         WHERE start_grade IS NOT NULL AND start_attended IS NOT NULL AND number IS NOT NULL ORDER BY number",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(StartedTicket {
            number: r.try_get("number")?,
            grade: u8::try_from(r.try_get::<i64, _>("start_grade")?).unwrap_or(u8::MAX),
            attended: r.try_get::<i64, _>("start_attended")? != 0,
        })
    })
    .collect()
}

/// Attendance by grade in `scope` over `[from, to)` (by planned start): for each grade, the
/// tickets started with a required manager and how many had one on site.
pub async fn attendance_by_grade(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
) -> Result<BTreeMap<u8, (i64, i64)>, StoreError> {
    let (clause, mut values) = scope_clause("u.path", scope, 3);
    values.insert(0, to.to_db());
    values.insert(0, from.to_db());
    let sql = format!(
        "SELECT t.start_grade, COUNT(*) AS started, CAST(SUM(t.start_attended) AS BIGINT) AS attended FROM tickets t \
         JOIN org_units u ON u.id = t.unit_id WHERE t.start_grade IS NOT NULL AND t.planned_start >= $1 \
         AND t.planned_start < $2 AND {clause} GROUP BY t.start_grade"
    );
    let mut out = BTreeMap::new();
    for r in bound(sql, &values).fetch_all(&mut *conn).await? {
        let grade = u8::try_from(r.try_get::<i64, _>("start_grade")?).unwrap_or(u8::MAX);
        out.insert(grade, (r.try_get::<i64, _>("started")?, r.try_get::<Option<i64>, _>("attended")?.unwrap_or(0)));
    }
    Ok(out)
}

// ---- 违章 ----------------------------------------------------------------------------------

/// An entry of the violation catalogue (严重违章清单 and the like).
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueEntry {
    pub code: String,
    pub title: String,
    pub class: Class,
    pub severity: Severity,
    pub origin: String,
}

pub async fn catalogue(conn: &mut Conn) -> Result<Vec<CatalogueEntry>, StoreError> {
    let t = "violation_catalogue";
    sqlx::query("SELECT code, title, class, severity, origin FROM violation_catalogue ORDER BY sort_order, code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CatalogueEntry {
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                class: code(t, "class", r.try_get("class")?, Class::from_code)?,
                severity: code(t, "severity", r.try_get("severity")?, Severity::from_code)?,
                origin: r.try_get("origin")?,
            })
        })
        .collect()
}

/// A violation in the register.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationRow {
    pub id: i64,
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub offender: Offender,
    pub person_id: Option<PersonId>,
    /// `工号 姓名` of the person.
    pub person: Option<String>,
    pub contractor_id: Option<i64>,
    pub contractor: Option<String>,
    pub customer_id: Option<i64>,
    /// `户号 名称` of the customer.
    pub customer: Option<String>,
    pub team: Option<String>,
    pub ticket_id: Option<TicketId>,
    pub ticket_number: Option<String>,
    pub plan_item_id: Option<i64>,
    pub occurred_at: Timestamp,
    pub place: String,
    pub class: Class,
    pub severity: Severity,
    pub points: i64,
    pub catalogue_code: Option<String>,
    pub rule_broken: String,
    pub description: String,
    pub hazard_id: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub reviewed_at: Option<Timestamp>,
    pub review_note: Option<String>,
    pub reviewed_by: Option<String>,
}

const VIOLATION: &str = "SELECT v.id, v.number, v.unit_id, u.name AS unit_name, u.path AS unit_path, v.offender_kind, \
    v.person_id, p.code AS person_code, p.name AS person_name, v.contractor_id, c.name AS contractor_name, \
    v.customer_id, k.account_no, k.name AS customer_name, v.team, v.ticket_id, t.number AS ticket_number, \
    v.plan_item_id, v.occurred_at, v.place, v.class, v.severity, v.points, v.catalogue_code, v.rule_broken, \
    v.description, v.hazard_id, v.recorded_by, v.recorded_at, v.reviewed_at, v.review_note, v.reviewed_by \
    FROM violations v JOIN org_units u ON u.id = v.unit_id LEFT JOIN people p ON p.id = v.person_id \
    LEFT JOIN contractors c ON c.id = v.contractor_id LEFT JOIN customers k ON k.id = v.customer_id \
    LEFT JOIN tickets t ON t.id = v.ticket_id";

fn violation(r: &AnyRow) -> Result<ViolationRow, StoreError> {
    let t = "violations";
    let person_code: Option<String> = r.try_get("person_code")?;
    let person_name: Option<String> = r.try_get("person_name")?;
    let account: Option<String> = r.try_get("account_no")?;
    let customer_name: Option<String> = r.try_get("customer_name")?;
    Ok(ViolationRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        offender: code(t, "offender_kind", r.try_get("offender_kind")?, Offender::from_code)?,
        person_id: opt_id(r, "person_id")?,
        person: person_code.map(|c| format!("{c} {}", person_name.unwrap_or_default())),
        contractor_id: r.try_get("contractor_id")?,
        contractor: r.try_get("contractor_name")?,
        customer_id: r.try_get("customer_id")?,
        customer: account.map(|a| format!("{a} {}", customer_name.unwrap_or_default())),
        team: r.try_get("team")?,
        ticket_id: opt_id(r, "ticket_id")?,
        ticket_number: r.try_get("ticket_number")?,
        plan_item_id: r.try_get("plan_item_id")?,
        occurred_at: stamp(t, "occurred_at", r.try_get("occurred_at")?)?,
        place: r.try_get("place")?,
        class: code(t, "class", r.try_get("class")?, Class::from_code)?,
        severity: code(t, "severity", r.try_get("severity")?, Severity::from_code)?,
        points: r.try_get("points")?,
        catalogue_code: r.try_get("catalogue_code")?,
        rule_broken: r.try_get("rule_broken")?,
        description: r.try_get("description")?,
        hazard_id: r.try_get("hazard_id")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: stamp(t, "recorded_at", r.try_get("recorded_at")?)?,
        reviewed_at: opt_stamp(t, "reviewed_at", r.try_get("reviewed_at")?)?,
        review_note: r.try_get("review_note")?,
        reviewed_by: r.try_get("reviewed_by")?,
    })
}

/// Which violations a list shows.
#[derive(Debug, Clone, Default)]
pub struct ViolationFilter {
    pub person: Option<PersonId>,
    pub contractor: Option<i64>,
    /// Occurred from this instant on.
    pub from: Option<Timestamp>,
    /// …and before this one.
    pub to: Option<Timestamp>,
    /// Serious ones whose review meeting is not recorded.
    pub awaiting_review: bool,
    /// Only those after this (moment, id) in the latest-first order: a page's start.
    pub before: Option<(Timestamp, i64)>,
}

/// Violations in `scope`, latest first, at most `limit`.
pub async fn list(
    conn: &mut Conn,
    scope: &[UnitPath],
    filter: &ViolationFilter,
    limit: i64,
) -> Result<Vec<ViolationRow>, StoreError> {
    let (mut sql, values) = select(scope, filter);
    sql.push_str(&format!(" ORDER BY v.occurred_at DESC, v.id DESC LIMIT {}", limit.clamp(1, 10_000)));
    bound(sql, &values).fetch_all(&mut *conn).await?.iter().map(violation).collect()
}

/// At most `limit` violations in `scope` that `filter` takes, by id after `after`.
pub async fn by_id(
    conn: &mut Conn,
    scope: &[UnitPath],
    filter: &ViolationFilter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<ViolationRow>, StoreError> {
    let (mut sql, values) = select(scope, filter);
    // Integers, not user text.
    if let Some(after) = after {
        sql.push_str(&format!(" AND v.id > {after}"));
    }
    sql.push_str(&format!(" ORDER BY v.id LIMIT {limit}"));
    bound(sql, &values).fetch_all(&mut *conn).await?.iter().map(violation).collect()
}

/// The `SELECT` of the violations in `scope` that `filter` takes, and its binds.
fn select(scope: &[UnitPath], filter: &ViolationFilter) -> (String, Vec<String>) {
    let (clause, mut values) = scope_clause("u.path", scope, 1);
    let mut sql = format!("{VIOLATION} WHERE {clause}");
    if let Some(p) = filter.person {
        values.push(p.get().to_string());
        sql.push_str(&format!(" AND v.person_id = CAST(${} AS BIGINT)", values.len()));
    }
    if let Some(c) = filter.contractor {
        values.push(c.to_string());
        sql.push_str(&format!(" AND v.contractor_id = CAST(${} AS BIGINT)", values.len()));
    }
    if let Some(from) = filter.from {
        values.push(from.to_db());
        sql.push_str(&format!(" AND v.occurred_at >= ${}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(to.to_db());
        sql.push_str(&format!(" AND v.occurred_at < ${}", values.len()));
    }
    if filter.awaiting_review {
        sql.push_str(" AND v.severity IN ('grave', 'serious') AND v.reviewed_at IS NULL");
    }
    if let Some((at, id)) = filter.before {
        values.push(at.to_db());
        let n = values.len();
        // The id is an integer, not user text.
        sql.push_str(&format!(" AND (v.occurred_at < ${n} OR (v.occurred_at = ${n} AND v.id < {id}))"));
    }
    (sql, values)
}

/// Violation `id`; with `hold`, held until the transaction ends.
pub async fn get(conn: &mut Conn, id: i64, hold: bool) -> Result<Option<ViolationRow>, StoreError> {
    let lock = if hold { for_update(backend_of(conn)) } else { "" };
    let lock = if lock.is_empty() { String::new() } else { format!("{lock} OF v") };
    sqlx::query(sqlx::AssertSqlSafe(format!("{VIOLATION} WHERE v.id = $1{lock}")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(violation)
        .transpose()
}

pub struct NewViolation<'a> {
    pub number: &'a str,
    pub unit_id: UnitId,
    pub offender: Offender,
    pub person_id: Option<PersonId>,
    pub contractor_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub team: Option<&'a str>,
    pub ticket_id: Option<TicketId>,
    pub plan_item_id: Option<i64>,
    pub occurred_at: Timestamp,
    pub place: &'a str,
    pub class: Class,
    pub severity: Severity,
    pub points: u32,
    pub catalogue_code: Option<&'a str>,
    pub rule_broken: &'a str,
    pub description: &'a str,
    pub recorded_by: &'a str,
}

pub async fn insert(conn: &mut Conn, v: &NewViolation<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO violations (number, unit_id, offender_kind, person_id, contractor_id, customer_id, team, ticket_id, \
         plan_item_id, occurred_at, place, class, severity, points, catalogue_code, rule_broken, description, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19) RETURNING id",
    )
    .bind(v.number)
    .bind(v.unit_id.get())
    .bind(v.offender.code())
    .bind(v.person_id.map(PersonId::get))
    .bind(v.contractor_id)
    .bind(v.customer_id)
    .bind(v.team)
    .bind(v.ticket_id.map(TicketId::get))
    .bind(v.plan_item_id)
    .bind(v.occurred_at.to_db())
    .bind(v.place)
    .bind(v.class.code())
    .bind(v.severity.code())
    .bind(i64::from(v.points))
    .bind(v.catalogue_code)
    .bind(v.rule_broken)
    .bind(v.description)
    .bind(v.recorded_by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn set_hazard(conn: &mut Conn, id: i64, hazard: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE violations SET hazard_id = $1 WHERE id = $2").bind(hazard).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Records the review meeting (说清楚) of violation `id`; false when it was recorded already.
pub async fn record_review(conn: &mut Conn, id: i64, note: &str, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE violations SET reviewed_at = $1, review_note = $2, reviewed_by = $3 WHERE id = $4 AND reviewed_at IS NULL",
    )
    .bind(at.to_db())
    .bind(note)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The violations counted against each person of `ids` (list of `IN`) since his last
/// re-admission, and that re-admission: two statements however many people.
pub async fn strikes(
    conn: &mut Conn,
    ids: &[PersonId],
) -> Result<(BTreeMap<PersonId, Vec<Strike>>, BTreeMap<PersonId, Timestamp>), StoreError> {
    let mut strikes: BTreeMap<PersonId, Vec<Strike>> = BTreeMap::new();
    let mut readmitted = BTreeMap::new();
    if ids.is_empty() {
        return Ok((strikes, readmitted));
    }
    let list = id_list(ids);
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT person_id, MAX(recorded_at) AS at FROM readmissions WHERE person_id IN ({list}) GROUP BY person_id"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        readmitted.insert(id(&r, "person_id")?, stamp("readmissions", "recorded_at", r.try_get("at")?)?);
    }
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT v.person_id, v.number, v.occurred_at, v.points FROM violations v WHERE v.person_id IN ({list}) \
         AND v.occurred_at > COALESCE((SELECT MAX(a.recorded_at) FROM readmissions a WHERE a.person_id = v.person_id), '') \
         ORDER BY v.occurred_at"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        strikes.entry(id(&r, "person_id")?).or_default().push(Strike {
            number: r.try_get("number")?,
            at: stamp("violations", "occurred_at", r.try_get("occurred_at")?)?,
            points: u32::try_from(r.try_get::<i64, _>("points")?).unwrap_or(0),
        });
    }
    Ok((strikes, readmitted))
}

/// Serious violations of person `person` after his last re-admission whose review meeting is
/// not recorded, by number.
pub async fn unreviewed_of(conn: &mut Conn, person: PersonId) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT v.number FROM violations v WHERE v.person_id = $1 AND v.severity IN ('grave', 'serious') \
         AND v.reviewed_at IS NULL ORDER BY v.occurred_at",
    )
    .bind(person.get())
    .fetch_all(&mut *conn)
    .await?)
}

/// Points per contractor (its own violations and its workers') in `[from, to)`.
pub async fn contractor_points(
    conn: &mut Conn,
    from: Timestamp,
    to: Timestamp,
) -> Result<BTreeMap<i64, (String, i64)>, StoreError> {
    let mut out = BTreeMap::new();
    for r in sqlx::query(
        "SELECT v.contractor_id, c.name, CAST(SUM(v.points) AS BIGINT) AS points FROM violations v JOIN contractors c ON c.id = v.contractor_id \
         WHERE v.occurred_at >= $1 AND v.occurred_at < $2 GROUP BY v.contractor_id, c.name",
    )
    .bind(from.to_db())
    .bind(to.to_db())
    .fetch_all(&mut *conn)
    .await?
    {
        out.insert(r.try_get("contractor_id")?, (r.try_get("name")?, r.try_get("points")?));
    }
    Ok(out)
}

pub struct NewReadmission<'a> {
    pub person: PersonId,
    pub trained_on: chrono::NaiveDate,
    pub exam_on: chrono::NaiveDate,
    pub score: Option<i64>,
    pub note: &'a str,
    pub recorded_by: &'a str,
}

pub async fn insert_readmission(conn: &mut Conn, r: &NewReadmission<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO readmissions (person_id, trained_on, exam_on, score, note, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(r.person.get())
    .bind(r.trained_on.to_string())
    .bind(r.exam_on.to_string())
    .bind(r.score)
    .bind(r.note)
    .bind(r.recorded_by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// A re-admission, as a person's page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Readmission {
    pub trained_on: String,
    pub exam_on: String,
    pub score: Option<i64>,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

pub async fn readmissions_of(conn: &mut Conn, person: PersonId) -> Result<Vec<Readmission>, StoreError> {
    sqlx::query(
        "SELECT trained_on, exam_on, score, note, recorded_by, recorded_at FROM readmissions WHERE person_id = $1 \
         ORDER BY recorded_at DESC",
    )
    .bind(person.get())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Readmission {
            trained_on: r.try_get("trained_on")?,
            exam_on: r.try_get("exam_on")?,
            score: r.try_get("score")?,
            note: r.try_get("note")?,
            recorded_by: r.try_get("recorded_by")?,
            recorded_at: stamp("readmissions", "recorded_at", r.try_get("recorded_at")?)?,
        })
    })
    .collect()
}

// ---- Who and where ------------------------------------------------------------------------

/// Person `id`'s unit (its path and id) and contractor.
pub async fn person_place(conn: &mut Conn, id: PersonId) -> Result<Option<(String, UnitId, Option<i64>)>, StoreError> {
    let row = sqlx::query(
        "SELECT u.path, p.unit_id, p.contractor_id FROM people p JOIN org_units u ON u.id = p.unit_id WHERE p.id = $1",
    )
    .bind(id.get())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.try_get("path")?, crate::decode::id(&r, "unit_id")?, r.try_get("contractor_id")?))).transpose()
}

/// The ticket numbered `number`: its id, unit (id and path) and plan item.
pub async fn ticket_by_number(
    conn: &mut Conn,
    number: &str,
) -> Result<Option<(TicketId, UnitId, String, Option<i64>)>, StoreError> {
    let row = sqlx::query(
        "SELECT t.id, t.unit_id, u.path, t.plan_item_id FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE t.number = $1",
    )
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok((
            crate::decode::id(&r, "id")?,
            crate::decode::id(&r, "unit_id")?,
            r.try_get("path")?,
            r.try_get("plan_item_id")?,
        ))
    })
    .transpose()
}

// ---- 现场检查 ------------------------------------------------------------------------------

/// A checklist template with its items.
#[derive(Debug, Clone, Serialize)]
pub struct CheckTemplate {
    pub code: String,
    pub name: String,
    /// Order type codes it is for; empty: every kind.
    pub work_kinds: Vec<String>,
    pub origin: String,
    pub items: Vec<CheckItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    pub position: i64,
    pub text: String,
    pub catalogue_code: Option<String>,
}

/// Every template with its items, in their order: two statements.
pub async fn templates(conn: &mut Conn) -> Result<Vec<CheckTemplate>, StoreError> {
    let mut items: BTreeMap<String, Vec<CheckItem>> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT template_code, position, text, catalogue_code FROM onsite_check_template_items ORDER BY template_code, position",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        items.entry(r.try_get("template_code")?).or_default().push(CheckItem {
            position: r.try_get("position")?,
            text: r.try_get("text")?,
            catalogue_code: r.try_get("catalogue_code")?,
        });
    }
    sqlx::query("SELECT code, name, work_kinds, origin FROM onsite_check_templates ORDER BY sort_order, code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let code: String = r.try_get("code")?;
            let kinds: String = r.try_get("work_kinds")?;
            Ok(CheckTemplate {
                items: items.remove(&code).unwrap_or_default(),
                code,
                name: r.try_get("name")?,
                work_kinds: kinds.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect(),
                origin: r.try_get("origin")?,
            })
        })
        .collect()
}

/// An item as answered.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub position: i64,
    pub text: String,
    pub catalogue_code: Option<String>,
    pub result: gridsafe_domain::supervision::Finding,
    pub note: Option<String>,
}

pub struct NewCheck<'a> {
    pub ticket: TicketId,
    pub unit_id: UnitId,
    pub template: &'a str,
    pub ticket_state: &'a str,
    pub results: &'a [CheckResult],
    pub note: Option<&'a str>,
    pub checked_by: &'a str,
}

/// Records a check with its answers; its id.
pub async fn insert_check(conn: &mut Conn, c: &NewCheck<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let failed = c.results.iter().filter(|r| r.result == gridsafe_domain::supervision::Finding::Fail).count();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO onsite_checks (ticket_id, unit_id, template_code, ticket_state, failed, note, checked_by, checked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(c.ticket.get())
    .bind(c.unit_id.get())
    .bind(c.template)
    .bind(c.ticket_state)
    .bind(i64::try_from(failed).unwrap_or(i64::MAX))
    .bind(c.note)
    .bind(c.checked_by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    for r in c.results {
        sqlx::query(
            "INSERT INTO onsite_check_results (check_id, position, text, catalogue_code, result, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(r.position)
        .bind(&r.text)
        .bind(&r.catalogue_code)
        .bind(r.result.code())
        .bind(&r.note)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// A recorded check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub id: i64,
    pub ticket_id: TicketId,
    pub ticket_number: String,
    pub location: String,
    pub unit_id: UnitId,
    #[serde(skip)]
    pub unit_path: String,
    pub template_code: String,
    pub template_name: String,
    pub ticket_state: String,
    pub failed: i64,
    pub note: Option<String>,
    pub checked_by: String,
    pub checked_at: Timestamp,
}

const CHECK: &str = "SELECT c.id, c.ticket_id, t.number, t.location, c.unit_id, u.path AS unit_path, c.template_code, \
    m.name AS template_name, c.ticket_state, c.failed, c.note, c.checked_by, c.checked_at FROM onsite_checks c \
    JOIN tickets t ON t.id = c.ticket_id JOIN org_units u ON u.id = c.unit_id \
    JOIN onsite_check_templates m ON m.code = c.template_code";

fn check_row(r: &AnyRow) -> Result<CheckRow, StoreError> {
    Ok(CheckRow {
        id: r.try_get("id")?,
        ticket_id: id(r, "ticket_id")?,
        ticket_number: r.try_get("number")?,
        location: r.try_get("location")?,
        unit_id: id(r, "unit_id")?,
        unit_path: r.try_get("unit_path")?,
        template_code: r.try_get("template_code")?,
        template_name: r.try_get("template_name")?,
        ticket_state: r.try_get("ticket_state")?,
        failed: r.try_get("failed")?,
        note: r.try_get("note")?,
        checked_by: r.try_get("checked_by")?,
        checked_at: stamp("onsite_checks", "checked_at", r.try_get("checked_at")?)?,
    })
}

/// Check `id` with its answers.
pub async fn check(conn: &mut Conn, check: i64) -> Result<Option<(CheckRow, Vec<CheckResult>)>, StoreError> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!("{CHECK} WHERE c.id = $1")))
        .bind(check)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let results = sqlx::query(
        "SELECT position, text, catalogue_code, result, note FROM onsite_check_results WHERE check_id = $1 ORDER BY position",
    )
    .bind(check)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(CheckResult {
            position: r.try_get("position")?,
            text: r.try_get("text")?,
            catalogue_code: r.try_get("catalogue_code")?,
            result: code("onsite_check_results", "result", r.try_get("result")?, gridsafe_domain::supervision::Finding::from_code)?,
            note: r.try_get("note")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some((check_row(&row)?, results)))
}

/// The checks of ticket `ticket`, latest first.
pub async fn checks_of(conn: &mut Conn, ticket: TicketId) -> Result<Vec<CheckRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{CHECK} WHERE c.ticket_id = $1 ORDER BY c.checked_at DESC, c.id DESC")))
        .bind(ticket.get())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(check_row)
        .collect()
}

/// The violations recorded from check `check`: (item position, id, number).
pub async fn violations_of_check(conn: &mut Conn, check: i64) -> Result<Vec<(i64, i64, String)>, StoreError> {
    sqlx::query("SELECT check_position, id, number FROM violations WHERE check_id = $1 ORDER BY id")
        .bind(check)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((r.try_get::<Option<i64>, _>("check_position")?.unwrap_or(0), r.try_get("id")?, r.try_get("number")?))
        })
        .collect()
}

/// Links violation `id` to the failed item `position` of check `check`.
pub async fn link_check(conn: &mut Conn, id: i64, check: i64, position: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE violations SET check_id = $1, check_position = $2 WHERE id = $3")
        .bind(check)
        .bind(position)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Checks in `scope` over `[from, to)`, and of the started tickets of each grade in that time
/// how many were checked on site.
pub async fn check_counts(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
) -> Result<(i64, BTreeMap<u8, i64>), StoreError> {
    let (clause, mut values) = scope_clause("u.path", scope, 3);
    values.insert(0, to.to_db());
    values.insert(0, from.to_db());
    let sql = format!(
        "SELECT COUNT(*) AS n FROM onsite_checks c JOIN org_units u ON u.id = c.unit_id \
         WHERE c.checked_at >= $1 AND c.checked_at < $2 AND {clause}"
    );
    let total: i64 = bound(sql, &values).fetch_one(&mut *conn).await?.try_get("n")?;
    let sql = format!(
        "SELECT t.start_grade, COUNT(*) AS checked FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE t.start_grade IS NOT NULL AND t.planned_start >= $1 AND t.planned_start < $2 AND {clause} \
         AND EXISTS (SELECT 1 FROM onsite_checks c WHERE c.ticket_id = t.id) GROUP BY t.start_grade"
    );
    let mut by_grade = BTreeMap::new();
    for r in bound(sql, &values).fetch_all(&mut *conn).await? {
        by_grade.insert(u8::try_from(r.try_get::<i64, _>("start_grade")?).unwrap_or(u8::MAX), r.try_get("checked")?);
    }
    Ok((total, by_grade))
}

/// Adds entries to the violation list, or updates those whose code it has (the published list
/// loaded again): after the last entry, in the given order.
pub async fn upsert_catalogue(conn: &mut Conn, entries: &[CatalogueEntry]) -> Result<(usize, usize), StoreError> {
    let (mut added, mut updated) = (0, 0);
    for e in entries {
        let done = sqlx::query(
            "UPDATE violation_catalogue SET title = $1, class = $2, severity = $3, origin = $4 WHERE code = $5",
        )
        .bind(&e.title)
        .bind(e.class.code())
        .bind(e.severity.code())
        .bind(&e.origin)
        .bind(&e.code)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if done == 1 {
            updated += 1;
            continue;
        }
        sqlx::query(
            "INSERT INTO violation_catalogue (code, title, class, severity, origin, sort_order) \
             VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM violation_catalogue))",
        )
        .bind(&e.code)
        .bind(&e.title)
        .bind(e.class.code())
        .bind(e.severity.code())
        .bind(&e.origin)
        .execute(&mut *conn)
        .await?;
        added += 1;
    }
    Ok((added, updated))
}
