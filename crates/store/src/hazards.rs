//! Hazards' rows: grades, hazards with their steps and plan tasks, seals, escalation and
//! deadline extensions. The closed loop's rules are the domain's (`gridsafe_domain::hazards`).

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::hazards::{HazardState, Responsibility};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, scope_clause};

const T: &str = "hazards";

/// A grade of the lookup table, with its default deadline and origin.
#[derive(Debug, Clone, Serialize)]
pub struct GradeRow {
    pub code: String,
    pub name: String,
    pub deadline_days: i64,
    /// Grid-side hazards of this grade are filed with the power authority too.
    pub files: bool,
    pub origin: String,
    pub changed_by: Option<String>,
}

pub async fn grades(conn: &mut Conn) -> Result<Vec<GradeRow>, StoreError> {
    sqlx::query("SELECT code, name, deadline_days, origin, changed_by, files FROM hazard_grades ORDER BY position")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(GradeRow {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                deadline_days: r.try_get("deadline_days")?,
                origin: r.try_get("origin")?,
                changed_by: r.try_get("changed_by")?,
                files: r.try_get::<i64, _>("files")? != 0,
            })
        })
        .collect()
}

/// Changes a grade; false when there is no such grade.
pub async fn set_grade(
    conn: &mut Conn,
    code: &str,
    deadline_days: i64,
    files: bool,
    by: &str,
) -> Result<bool, StoreError> {
    let changed =
        sqlx::query("UPDATE hazard_grades SET deadline_days = $1, files = $2, changed_by = $3 WHERE code = $4")
            .bind(deadline_days)
            .bind(i64::from(files))
            .bind(by)
            .bind(code)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok(changed == 1)
}

/// A grade's days to rectify.
pub async fn grade_days(conn: &mut Conn, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT deadline_days FROM hazard_grades WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?)
}

/// A hazard as stored; the use cases work out its deadline, limit, due day and whether it is
/// overdue from these and the settings.
#[derive(Debug, Clone)]
pub struct StoredHazard {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub customer_no: Option<String>,
    pub customer_name: Option<String>,
    pub inspection_id: Option<i64>,
    pub source_kind: String,
    pub source_id: Option<i64>,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    pub title: String,
    pub description: String,
    pub grade: String,
    pub grade_name: String,
    pub grade_days: i64,
    pub grade_files: bool,
    pub responsibility: Responsibility,
    pub state: HazardState,
    pub registered_on: NaiveDate,
    /// Set by a plan, a notice or an approved extension; until then the grade's.
    pub deadline: Option<NaiveDate>,
    pub approved_limit: Option<NaiveDate>,
    pub owner: Option<String>,
    pub receipt_by: Option<String>,
    pub refused_on: Option<String>,
    pub refusal_delivery: Option<String>,
    pub refusal_witness: Option<String>,
    pub filed_on: Option<String>,
    pub filing_reference: Option<String>,
    pub extension_to: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub extension_by: Option<String>,
    pub approved_by: Option<String>,
    pub escalation: i64,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

const HAZARD_COLUMNS: &str = "h.id, h.number, h.customer_id, c.account_no AS customer_no, c.name AS customer_name, \
    h.inspection_id, h.unit_id, u.name AS unit_name, u.path AS unit_path, h.title, h.description, h.grade, g.name AS grade_name, \
    h.responsibility, h.state, h.deadline, h.owner, h.receipt_by, h.filed_on, h.filing_reference, h.escalation, h.created_at, \
    h.closed_at, g.files, g.deadline_days, h.source_kind, h.source_id, h.registered_on, h.extension_to, h.extension_reason, \
    h.extension_by, h.approved_limit, h.approved_by, h.refused_on, h.refusal_delivery, h.refusal_witness";
const HAZARD_FROM: &str = "hazards h JOIN org_units u ON u.id = h.unit_id JOIN hazard_grades g ON g.code = h.grade \
    LEFT JOIN customers c ON c.id = h.customer_id";

fn hazard_from(r: &AnyRow) -> Result<StoredHazard, StoreError> {
    Ok(StoredHazard {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        customer_id: r.try_get("customer_id")?,
        customer_no: r.try_get("customer_no")?,
        customer_name: r.try_get("customer_name")?,
        inspection_id: r.try_get("inspection_id")?,
        source_kind: r.try_get("source_kind")?,
        source_id: r.try_get("source_id")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        grade: r.try_get("grade")?,
        grade_name: r.try_get("grade_name")?,
        grade_days: r.try_get("deadline_days")?,
        grade_files: r.try_get::<i64, _>("files")? != 0,
        responsibility: code(T, "responsibility", r.try_get("responsibility")?, Responsibility::from_code)?,
        state: code(T, "state", r.try_get("state")?, HazardState::from_code)?,
        registered_on: day(T, "registered_on", r.try_get("registered_on")?)?,
        deadline: opt_day(T, "deadline", r.try_get("deadline")?)?,
        approved_limit: opt_day(T, "approved_limit", r.try_get("approved_limit")?)?,
        owner: r.try_get("owner")?,
        receipt_by: r.try_get("receipt_by")?,
        refused_on: r.try_get("refused_on")?,
        refusal_delivery: r.try_get("refusal_delivery")?,
        refusal_witness: r.try_get("refusal_witness")?,
        filed_on: r.try_get("filed_on")?,
        filing_reference: r.try_get("filing_reference")?,
        extension_to: opt_day(T, "extension_to", r.try_get("extension_to")?)?,
        extension_reason: r.try_get("extension_reason")?,
        extension_by: r.try_get("extension_by")?,
        approved_by: r.try_get("approved_by")?,
        escalation: r.try_get("escalation")?,
        created_at: stamp(T, "created_at", r.try_get("created_at")?)?,
        closed_at: opt_stamp(T, "closed_at", r.try_get("closed_at")?)?,
    })
}

/// Which hazards a list reads.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<String>,
    pub responsibility: Option<String>,
    pub grade: Option<String>,
    pub customer_id: Option<i64>,
    /// Only open ones escalated (督办).
    pub escalated: bool,
    /// Only those of this source; `None` for all.
    pub source: Option<&'static str>,
    /// Only open ones.
    pub open: bool,
}

/// At most `limit` hazards of `scope` (all units for `None`) that `filter` takes, by id after
/// `after`.
pub async fn hazards(
    conn: &mut Conn,
    scope: Option<&[UnitPath]>,
    filter: &Filter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredHazard>, StoreError> {
    let (clause, mut binds) = match scope {
        Some(scope) => scope_clause("u.path", scope, 1),
        None => ("1 = 1".to_owned(), Vec::new()),
    };
    let mut sql = format!("SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE {clause}");
    for (column, value) in
        [("h.state", &filter.state), ("h.responsibility", &filter.responsibility), ("h.grade", &filter.grade)]
    {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    if let Some(c) = filter.customer_id {
        sql.push_str(&format!(" AND h.customer_id = {c}"));
    }
    if filter.escalated {
        sql.push_str(" AND h.escalation > 0 AND h.state <> 'closed'");
    }
    if filter.open {
        sql.push_str(" AND h.state <> 'closed'");
    }
    if let Some(source) = filter.source {
        binds.push(source.to_owned());
        sql.push_str(&format!(" AND h.source_kind = ${}", binds.len()));
    }
    // Integers, not user text.
    if let Some(after) = after {
        sql.push_str(&format!(" AND h.id > {after}"));
    }
    sql.push_str(&format!(" ORDER BY h.id LIMIT {limit}"));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(hazard_from).collect()
}

/// Hazard `id`; with `hold`, held until the transaction ends.
pub async fn hazard(conn: &mut Conn, id: i64, hold: bool) -> Result<Option<StoredHazard>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM hazards WHERE id = $1{lock}")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {HAZARD_COLUMNS} FROM {HAZARD_FROM} WHERE h.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(hazard_from)
        .transpose()
}

/// A step of a hazard's history.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: String,
    pub detail: String,
    pub by: String,
    /// Local time.
    pub at: String,
}

pub async fn steps(conn: &mut Conn, id: i64) -> Result<Vec<StepRow>, StoreError> {
    sqlx::query("SELECT step, detail, by_name, at FROM hazard_steps WHERE hazard_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|s| {
            Ok(StepRow {
                step: s.try_get("step")?,
                detail: s.try_get("detail")?,
                by: s.try_get("by_name")?,
                at: stamp("hazard_steps", "at", s.try_get("at")?)?.local_display(),
            })
        })
        .collect()
}

/// The rectification plan's tasks: (id, title, responsible, deadline, open).
pub async fn tasks(conn: &mut Conn, id: i64) -> Result<Vec<(i64, String, String, String, bool)>, StoreError> {
    sqlx::query(
        "SELECT id, title, responsible, deadline, state FROM rectification_tasks WHERE source_kind = 'hazard' AND source_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|t| {
        Ok((
            t.try_get("id")?,
            t.try_get("title")?,
            t.try_get("responsible")?,
            t.try_get("deadline")?,
            t.try_get::<String, _>("state")? == "open",
        ))
    })
    .collect()
}

/// A hazard as registered.
#[derive(Debug, Clone)]
pub struct NewHazard<'a> {
    pub number: &'a str,
    pub customer_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub source_kind: &'a str,
    pub source_id: Option<i64>,
    pub unit_id: UnitId,
    pub title: &'a str,
    pub description: &'a str,
    pub grade: &'a str,
    pub responsibility: Responsibility,
    pub state: HazardState,
    pub deadline: NaiveDate,
    pub owner: Option<&'a str>,
    /// The register's person responsible for the rectification, when one is.
    pub owner_person: Option<PersonId>,
    pub by: &'a str,
}

pub async fn insert_hazard(conn: &mut Conn, h: &NewHazard<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO hazards (number, customer_id, inspection_id, unit_id, title, description, grade, responsibility, state, \
         deadline, owner, escalation, created_by, created_at, source_kind, source_id, registered_on, owner_person_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(h.number)
    .bind(h.customer_id)
    .bind(h.inspection_id)
    .bind(h.unit_id.get())
    .bind(h.title)
    .bind(h.description)
    .bind(h.grade)
    .bind(h.responsibility.code())
    .bind(h.state.code())
    .bind(h.deadline.to_string())
    .bind(h.owner)
    .bind(h.by)
    .bind(at.to_db())
    .bind(h.source_kind)
    .bind(h.source_id)
    .bind(at.local_date().to_string())
    .bind(h.owner_person.map(PersonId::get))
    .fetch_one(&mut *conn)
    .await?)
}

/// An open hazard whose rectification is a person's: what his home page lists.
#[derive(Debug, Clone)]
pub struct Assigned {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub deadline: NaiveDate,
    pub state: HazardState,
}

/// The register's person responsible for hazard `id`, if one is.
pub async fn owner_person(conn: &mut Conn, id: i64) -> Result<Option<PersonId>, StoreError> {
    let owner: Option<Option<i64>> = sqlx::query_scalar("SELECT owner_person_id FROM hazards WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(owner.flatten().map(PersonId::new))
}

/// The open hazards whose responsible person is `person`, earliest deadline first.
pub async fn assigned_to(conn: &mut Conn, person: PersonId) -> Result<Vec<Assigned>, StoreError> {
    const T: &str = "hazards";
    let rows = sqlx::query(
        "SELECT id, number, title, deadline, state FROM hazards WHERE owner_person_id = $1 AND state <> 'closed' \
         ORDER BY deadline, id LIMIT 50",
    )
    .bind(person.get())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Assigned {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                deadline: day(T, "deadline", r.try_get("deadline")?)?,
                state: code(T, "state", r.try_get("state")?, HazardState::from_code)?,
            })
        })
        .collect()
}

/// One line of a hazard's history.
pub async fn record_step(
    conn: &mut Conn,
    hazard_id: i64,
    step: &str,
    detail: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO hazard_steps (hazard_id, step, detail, by_name, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(hazard_id)
        .bind(step)
        .bind(detail)
        .bind(by)
        .bind(at.to_db())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds the rectification plan's tasks.
#[expect(clippy::too_many_arguments, reason = "one row per task of the plan")]
pub async fn add_tasks(
    conn: &mut Conn,
    hazard_id: i64,
    unit_id: UnitId,
    tasks: &[&str],
    owner: &str,
    deadline: NaiveDate,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    for task in tasks {
        sqlx::query(
            "INSERT INTO rectification_tasks (source_kind, source_id, unit_id, title, responsible, deadline, state, created_at, created_by) \
             VALUES ('hazard', $1, $2, $3, $4, $5, 'open', $6, $7)",
        )
        .bind(hazard_id)
        .bind(unit_id.get())
        .bind(*task)
        .bind(owner)
        .bind(deadline.to_string())
        .bind(at.to_db())
        .bind(by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves hazard `id` from `from` to `to`; false when it was no longer in `from`.
pub async fn set_state(conn: &mut Conn, id: i64, from: HazardState, to: HazardState) -> Result<bool, StoreError> {
    let changed = sqlx::query("UPDATE hazards SET state = $1 WHERE id = $2 AND state = $3")
        .bind(to.code())
        .bind(id)
        .bind(from.code())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(changed == 1)
}

/// What a step of the closed loop leaves on the hazard besides its state.
#[derive(Debug, Clone, Copy)]
pub enum Stamp<'a> {
    Deadline {
        deadline: NaiveDate,
        owner: Option<&'a str>,
        /// The register's person responsible, when the owner is one.
        owner_person: Option<PersonId>,
    },
    Receipt {
        by: &'a str,
    },
    Refusal {
        on: NaiveDate,
        delivery: &'a str,
        witness: &'a str,
    },
    Filing {
        on: NaiveDate,
        reference: &'a str,
    },
    /// 销号: closed, with what is left of the plan closed on the same evidence.
    Closed {
        evidence: &'a str,
        by: &'a str,
    },
}

pub async fn stamp_step(conn: &mut Conn, id: i64, what: Stamp<'_>, at: Timestamp) -> Result<(), StoreError> {
    match what {
        Stamp::Deadline { deadline, owner, owner_person } => {
            sqlx::query("UPDATE hazards SET deadline = $1, owner = $2, owner_person_id = $3 WHERE id = $4")
                .bind(deadline.to_string())
                .bind(owner)
                .bind(owner_person.map(PersonId::get))
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Stamp::Receipt { by } => {
            sqlx::query("UPDATE hazards SET receipt_by = $1 WHERE id = $2")
                .bind(by)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Stamp::Refusal { on, delivery, witness } => {
            sqlx::query(
                "UPDATE hazards SET refused_on = $1, refusal_delivery = $2, refusal_witness = $3 WHERE id = $4",
            )
            .bind(on.to_string())
            .bind(delivery)
            .bind(witness)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        Stamp::Filing { on, reference } => {
            sqlx::query("UPDATE hazards SET filed_on = $1, filing_reference = $2 WHERE id = $3")
                .bind(on.to_string())
                .bind(reference)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Stamp::Closed { evidence, by } => {
            sqlx::query("UPDATE hazards SET closed_at = $1 WHERE id = $2")
                .bind(at.to_db())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE rectification_tasks SET state = 'closed', evidence = $1, closed_at = $2, closed_by = $3 \
                 WHERE source_kind = 'hazard' AND source_id = $4 AND state = 'open'",
            )
            .bind(evidence)
            .bind(at.to_db())
            .bind(by)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn set_escalation(conn: &mut Conn, id: i64, level: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE hazards SET escalation = $1 WHERE id = $2").bind(level).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Records a requested later deadline on an open hazard; false when it is closed.
pub async fn request_extension(
    conn: &mut Conn,
    id: i64,
    to: NaiveDate,
    reason: &str,
    by: &str,
) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE hazards SET extension_to = $1, extension_reason = $2, extension_by = $3 WHERE id = $4 AND state <> 'closed'",
    )
    .bind(to.to_string())
    .bind(reason)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Approves (the requested day becomes deadline and limit) or refuses the extension to `to`;
/// false when that request is no longer there.
pub async fn decide_extension(
    conn: &mut Conn,
    id: i64,
    to: NaiveDate,
    approve: bool,
    by: &str,
) -> Result<bool, StoreError> {
    let sql = if approve {
        "UPDATE hazards SET deadline = extension_to, approved_limit = extension_to, approved_by = $1, extension_to = NULL, \
         extension_reason = NULL, extension_by = NULL WHERE id = $2 AND extension_to = $3"
    } else {
        "UPDATE hazards SET extension_to = NULL, extension_reason = NULL, extension_by = NULL \
         WHERE id = $2 AND extension_to = $3 AND $1 = $1"
    };
    let changed = sqlx::query(sql).bind(by).bind(id).bind(to.to_string()).execute(&mut *conn).await?.rows_affected();
    Ok(changed == 1)
}

// ---- Seals --------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct SealRow {
    pub id: i64,
    pub customer_id: i64,
    pub customer_no: String,
    pub customer_name: String,
    pub hazard_id: i64,
    pub hazard_number: String,
    pub hazard_state: HazardState,
    pub unit_name: String,
    pub equipment: String,
    pub seal_number: String,
    pub sealed_on: String,
    pub sealed_by: String,
    pub unsealed_on: Option<String>,
    pub unsealed_by: Option<String>,
    /// Why the seal was taken off, and who witnessed it.
    pub unseal_reason: Option<String>,
    pub unseal_witness: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

/// Which seals to read.
#[derive(Debug, Clone, Copy)]
pub enum Seals<'a> {
    OfHazard(i64),
    One(i64),
    /// Of the units in scope (under one unit), still sealed only or all.
    In {
        scope: &'a [UnitPath],
        unit_id: Option<UnitId>,
        only_sealed: bool,
    },
}

/// Seals, still sealed first.
pub async fn seals(conn: &mut Conn, which: Seals<'_>) -> Result<Vec<SealRow>, StoreError> {
    // Integers are written into the condition; text is bound.
    let (condition, binds) = match which {
        Seals::OfHazard(id) => (format!("s.hazard_id = {id}"), Vec::new()),
        Seals::One(id) => (format!("s.id = {id}"), Vec::new()),
        Seals::In { scope, unit_id, only_sealed } => {
            let (mut condition, binds) = scope_clause("u.path", scope, 1);
            if let Some(unit) = unit_id {
                condition.push_str(&format!(" AND u.path LIKE (SELECT path FROM org_units WHERE id = {unit}) || '%'"));
            }
            if only_sealed {
                condition.push_str(" AND s.unsealed_on IS NULL");
            }
            (condition, binds)
        }
    };
    bound(
        format!(
            "SELECT s.id, s.customer_id, c.account_no, c.name AS customer_name, s.hazard_id, h.number, h.state, u.name AS unit_name, \
             u.path, s.equipment, s.seal_number, s.sealed_on, s.sealed_by, s.unsealed_on, s.unsealed_by, s.unseal_reason, s.unseal_witness FROM seals s \
             JOIN customers c ON c.id = s.customer_id JOIN hazards h ON h.id = s.hazard_id JOIN org_units u ON u.id = s.unit_id \
             WHERE {condition} ORDER BY CASE WHEN s.unsealed_on IS NULL THEN 0 ELSE 1 END, s.sealed_on DESC, s.id"
        ),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(SealRow {
            id: r.try_get("id")?,
            customer_id: r.try_get("customer_id")?,
            customer_no: r.try_get("account_no")?,
            customer_name: r.try_get("customer_name")?,
            hazard_id: r.try_get("hazard_id")?,
            hazard_number: r.try_get("number")?,
            hazard_state: code(T, "state", r.try_get("state")?, HazardState::from_code)?,
            unit_name: r.try_get("unit_name")?,
            unit_path: r.try_get("path")?,
            equipment: r.try_get("equipment")?,
            seal_number: r.try_get("seal_number")?,
            sealed_on: r.try_get("sealed_on")?,
            sealed_by: r.try_get("sealed_by")?,
            unsealed_on: r.try_get("unsealed_on")?,
            unsealed_by: r.try_get("unsealed_by")?,
            unseal_reason: r.try_get("unseal_reason")?,
            unseal_witness: r.try_get("unseal_witness")?,
        })
    })
    .collect()
}

/// A seal as put on.
#[derive(Debug, Clone)]
pub struct NewSeal<'a> {
    pub customer_id: i64,
    pub hazard_id: i64,
    pub unit_id: UnitId,
    pub equipment: &'a str,
    pub seal_number: &'a str,
    pub sealed_on: Option<NaiveDate>,
    pub by: &'a str,
}

pub async fn insert_seal(conn: &mut Conn, s: &NewSeal<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO seals (customer_id, hazard_id, unit_id, equipment, seal_number, sealed_on, sealed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(s.customer_id)
    .bind(s.hazard_id)
    .bind(s.unit_id.get())
    .bind(s.equipment)
    .bind(s.seal_number)
    .bind(s.sealed_on.map(|d| d.to_string()))
    .bind(s.by)
    .fetch_one(&mut *conn)
    .await?)
}

/// Takes seal `id` off on `on`; false when it already was.
pub async fn unseal(
    conn: &mut Conn,
    id: i64,
    on: NaiveDate,
    by: &str,
    reason: &str,
    witness: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE seals SET unsealed_on = $1, unsealed_by = $2, unseal_reason = $3, unseal_witness = $4 \
         WHERE id = $5 AND unsealed_on IS NULL",
    )
    .bind(on.to_string())
    .bind(by)
    .bind(reason)
    .bind(witness)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
