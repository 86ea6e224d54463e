//! People and contractors as the rules see them: what each holds, confirmed, on the supply
//! company's side. Drafts a contractor recorded himself are not loaded: they satisfy no rule.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::people::{Agreement, ContractorFacts, Held, PersonFacts, QualificationKind};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, opt_stamp, small};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, like, scope_clause};

/// A person with the facts the role question needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub code: String,
    pub name: String,
    pub contractor_id: Option<i64>,
    pub facts: PersonFacts,
}

impl Person {
    /// `工号 姓名`, as messages name a person.
    pub fn label(&self) -> String {
        format!("{} {}", self.code, self.name)
    }
}

/// The people of `ids` that exist, with their facts: six statements however many people.
pub async fn facts(conn: &mut Conn, ids: &[PersonId]) -> Result<BTreeMap<PersonId, Person>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list = id_list(ids);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, code, name, active, contractor_id FROM people WHERE id IN ({list})"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut held: BTreeMap<PersonId, Vec<Held>> = BTreeMap::new();
    let qualifications = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT person_id, kind, valid_from, valid_to, level FROM qualifications \
         WHERE person_id IN ({list}) AND passed = 1 AND confirmed_at IS NOT NULL"
    )))
    .fetch_all(&mut *conn)
    .await?;
    for q in qualifications {
        let t = "qualifications";
        held.entry(id(&q, "person_id")?).or_default().push(Held {
            kind: code(t, "kind", q.try_get("kind")?, QualificationKind::from_code)?,
            valid_from: day(t, "valid_from", q.try_get("valid_from")?)?,
            valid_to: day(t, "valid_to", q.try_get("valid_to")?)?,
            level: small(t, "level", q.try_get("level")?)?,
        });
    }
    let contractor_ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<Option<i64>, _>("contractor_id"))
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
    let contractors = contractor_facts(conn, &contractor_ids).await?;
    let (mut strikes, readmitted) = crate::supervision::strikes(conn, ids).await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let person: PersonId = id(&r, "id")?;
        let contractor_id: Option<i64> = r.try_get("contractor_id")?;
        let facts = PersonFacts {
            active: r.try_get::<i64, _>("active")? != 0,
            held: held.remove(&person).unwrap_or_default(),
            contractor: contractor_id.and_then(|c| contractors.get(&c).cloned()),
            strikes: strikes.remove(&person).unwrap_or_default(),
            readmitted: readmitted.get(&person).copied(),
        };
        out.insert(person, Person { code: r.try_get("code")?, name: r.try_get("name")?, contractor_id, facts });
    }
    Ok(out)
}

/// The contractors of `ids` with their licence, blacklisting and confirmed agreements: two
/// statements however many.
pub async fn contractor_facts(conn: &mut Conn, ids: &[i64]) -> Result<BTreeMap<i64, ContractorFacts>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list = id_list(ids);
    let t = "safety_agreements";
    let mut agreements: BTreeMap<i64, Vec<Agreement>> = BTreeMap::new();
    for a in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT contractor_id, customer_no, valid_from, valid_to FROM safety_agreements \
         WHERE contractor_id IN ({list}) AND confirmed_at IS NOT NULL ORDER BY valid_to DESC, id DESC"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        agreements.entry(a.try_get("contractor_id")?).or_default().push(Agreement {
            valid_from: day(t, "valid_from", a.try_get("valid_from")?)?,
            valid_to: day(t, "valid_to", a.try_get("valid_to")?)?,
            customer: a.try_get("customer_no")?,
        });
    }
    let t = "contractors";
    let mut out = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, name, blacklisted_on, license_level, license_valid_to FROM contractors WHERE id IN ({list})"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        let id: i64 = r.try_get("id")?;
        out.insert(
            id,
            ContractorFacts {
                name: r.try_get("name")?,
                blacklisted_on: opt_day(t, "blacklisted_on", r.try_get("blacklisted_on")?)?,
                license_level: small(t, "license_level", r.try_get("license_level")?)?,
                license_valid_to: opt_day(t, "license_valid_to", r.try_get("license_valid_to")?)?,
                agreements: agreements.remove(&id).unwrap_or_default(),
            },
        );
    }
    Ok(out)
}

/// Holds the rows of `ids` until the transaction ends (PostgreSQL; SQLite's write transaction
/// already holds the one writer lock), in id order so two transactions never wait on each other
/// in a circle. Rules about a person's other work (one ticket at a time) are checked under it.
pub async fn lock(conn: &mut Conn, ids: &[PersonId]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let lock = for_update(backend_of(conn));
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM people WHERE id IN ({}) ORDER BY id{lock}", id_list(ids))))
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// The id of the person with 工号 `code`.
pub async fn id_by_code(conn: &mut Conn, code: &str) -> Result<Option<PersonId>, StoreError> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM people WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    Ok(id.map(PersonId::new))
}

/// The person with 工号 `code`, and how messages name him (`工号 姓名`).
pub async fn named(conn: &mut Conn, code: &str) -> Result<Option<(PersonId, String)>, StoreError> {
    let row =
        sqlx::query("SELECT id, code, name FROM people WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    row.map(|r| {
        let (code, name): (String, String) = (r.try_get("code")?, r.try_get("name")?);
        Ok((PersonId::new(r.try_get("id")?), format!("{code} {name}")))
    })
    .transpose()
}

/// The person linked to account `user_id`.
pub async fn id_of_user(conn: &mut Conn, user_id: i64) -> Result<Option<PersonId>, StoreError> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1").bind(user_id).fetch_optional(&mut *conn).await?;
    Ok(id.map(PersonId::new))
}

// ---- Reach --------------------------------------------------------------------------------

/// Which people and contractors a query covers: the units of a scope (with their subtrees), or
/// one contractor's own (for its administrator).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Units(&'a [UnitPath]),
    Contractor(i64),
}

impl Scope<'_> {
    /// The SQL condition for rows whose unit path is `path_col` and contractor `contractor_col`,
    /// and its bind values (numbered from `first`).
    fn clause(&self, path_col: &str, contractor_col: &str, first: usize) -> (String, Vec<String>) {
        match self {
            // An integer from the database, not user input.
            Scope::Contractor(id) => (format!("{contractor_col} = {id}"), Vec::new()),
            Scope::Units(units) => scope_clause(path_col, units, first),
        }
    }
}

// ---- People -------------------------------------------------------------------------------

/// A person in a list or on their page.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRow {
    pub id: PersonId,
    pub code: String,
    pub name: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub contractor_id: Option<i64>,
    pub contractor_name: Option<String>,
    pub phone: Option<String>,
    pub post: Option<String>,
    pub active: bool,
    /// The account linked to the person, if any.
    pub username: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

const PERSON_COLUMNS: &str = "p.id, p.code, p.name, p.unit_id, u.name AS unit_name, u.path AS unit_path, p.contractor_id, \
    c.name AS contractor_name, p.phone, p.post, p.active, us.username";
const PERSON_FROM: &str = "people p JOIN org_units u ON u.id = p.unit_id LEFT JOIN contractors c ON c.id = p.contractor_id \
    LEFT JOIN users us ON us.id = p.user_id";

fn person_from(r: &AnyRow) -> Result<PersonRow, StoreError> {
    Ok(PersonRow {
        id: id(r, "id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        contractor_id: r.try_get("contractor_id")?,
        contractor_name: r.try_get("contractor_name")?,
        phone: r.try_get("phone")?,
        post: r.try_get("post")?,
        active: r.try_get::<i64, _>("active")? != 0,
        username: r.try_get("username")?,
    })
}

/// People in `scope`, by unit and 工号, at most `limit`; `pattern` over 工号 and name.
pub async fn list(
    conn: &mut Conn,
    scope: Scope<'_>,
    pattern: Option<String>,
    limit: u32,
) -> Result<Vec<PersonRow>, StoreError> {
    page(conn, scope, pattern, None, limit).await
}

/// As [`list`], from after the person at (unit path, 工号) in its order: a keyset page, as
/// cheap however deep.
pub async fn page(
    conn: &mut Conn,
    scope: Scope<'_>,
    pattern: Option<String>,
    after: Option<(&str, &str)>,
    limit: u32,
) -> Result<Vec<PersonRow>, StoreError> {
    let (clause, mut binds) = selection(scope, pattern);
    let mut sql = format!("SELECT {PERSON_COLUMNS} FROM {PERSON_FROM} WHERE {clause}");
    if let Some((path, code)) = after {
        binds.push(path.to_owned());
        binds.push(code.to_owned());
        let (p, c) = (binds.len() - 1, binds.len());
        sql.push_str(&format!(" AND (u.path > ${p} OR (u.path = ${p} AND p.code > ${c}))"));
    }
    sql.push_str(&format!(" ORDER BY u.path, p.code LIMIT {}", limit.clamp(1, 200_000)));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(person_from).collect()
}

/// How many people of `scope` the pattern finds.
pub async fn count(conn: &mut Conn, scope: Scope<'_>, pattern: Option<String>) -> Result<i64, StoreError> {
    let (clause, binds) = selection(scope, pattern);
    let sql = format!("SELECT COUNT(*) AS n FROM {PERSON_FROM} WHERE {clause}");
    Ok(bound(sql, &binds).fetch_one(&mut *conn).await?.try_get("n")?)
}

fn selection(scope: Scope<'_>, pattern: Option<String>) -> (String, Vec<String>) {
    let (mut clause, mut binds) = scope.clause("u.path", "p.contractor_id", 1);
    if let Some(pattern) = pattern {
        binds.push(pattern);
        let n = binds.len();
        clause.push_str(&format!(" AND ({} OR {})", like("p.code", n), like("p.name", n)));
    }
    (clause, binds)
}

pub async fn person(conn: &mut Conn, id: PersonId) -> Result<Option<PersonRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM {PERSON_FROM} WHERE p.id = $1")))
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(person_from)
        .transpose()
}

/// A person's fields, as checked by the use case.
#[derive(Debug, Clone)]
pub struct PersonFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit_id: UnitId,
    pub contractor_id: Option<i64>,
    pub phone: Option<&'a str>,
    pub post: Option<&'a str>,
    pub active: bool,
}

/// Stores a new person (`id` = `None`) or changes one; its id. A taken 工号 is the database's
/// unique violation.
pub async fn save_person(
    conn: &mut Conn,
    id: Option<PersonId>,
    p: &PersonFields<'_>,
    at: Timestamp,
) -> Result<PersonId, StoreError> {
    let sql = match id {
        None => {
            "INSERT INTO people (code, name, unit_id, contractor_id, phone, post, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id"
        }
        Some(_) => {
            "UPDATE people SET code = $1, name = $2, unit_id = $3, contractor_id = $4, phone = $5, post = $6, active = $7, \
             updated_at = $8 WHERE id = $9 RETURNING id"
        }
    };
    let q = sqlx::query_scalar(sql)
        .bind(p.code)
        .bind(p.name)
        .bind(p.unit_id.get())
        .bind(p.contractor_id)
        .bind(p.phone)
        .bind(p.post)
        .bind(i64::from(p.active))
        .bind(at.to_db());
    let id: i64 = match id {
        None => q.fetch_one(&mut *conn).await?,
        Some(id) => q.bind(id.get()).fetch_one(&mut *conn).await?,
    };
    Ok(PersonId::new(id))
}

/// The person of 工号 `code` as linking an account reads it, held until the transaction ends.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub id: PersonId,
    pub name: String,
    pub unit_id: UnitId,
    pub unit_path: UnitPath,
    /// The account already linked to the person.
    pub username: Option<String>,
}

pub async fn hold_for_link(conn: &mut Conn, code: &str) -> Result<Option<LinkTarget>, StoreError> {
    let lock = for_update(backend_of(conn));
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.name, p.unit_id, (SELECT u.path FROM org_units u WHERE u.id = p.unit_id) AS unit_path, \
         (SELECT us.username FROM users us WHERE us.id = p.user_id) AS username FROM people p WHERE p.code = $1{lock}"
    )))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(LinkTarget {
        id: id(&r, "id")?,
        name: r.try_get("name")?,
        unit_id: id(&r, "unit_id")?,
        unit_path: crate::decode::code("org_units", "path", r.try_get("unit_path")?, UnitPath::parse)?,
        username: r.try_get("username")?,
    }))
}

/// The person (id and 工号) linked to account `user_id`.
pub async fn linked_to(conn: &mut Conn, user_id: i64) -> Result<Option<(PersonId, String)>, StoreError> {
    let Some(r) =
        sqlx::query("SELECT id, code FROM people WHERE user_id = $1").bind(user_id).fetch_optional(&mut *conn).await?
    else {
        return Ok(None);
    };
    Ok(Some((id(&r, "id")?, r.try_get("code")?)))
}

/// Links person `id` to account `user_id` (or unlinks it). An account already linked to another
/// person is the database's unique violation.
pub async fn set_account(conn: &mut Conn, id: PersonId, user_id: Option<i64>, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE people SET user_id = $1, updated_at = $2 WHERE id = $3")
        .bind(user_id)
        .bind(at.to_db())
        .bind(id.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The contractor of the person linked to account `user_id`: a contractor administrator's own.
pub async fn contractor_of_account(conn: &mut Conn, user_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT contractor_id FROM people WHERE user_id = $1 AND contractor_id IS NOT NULL")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?)
}

// ---- Qualifications -----------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct QualificationRow {
    pub id: i64,
    pub person_id: PersonId,
    pub kind: String,
    pub title: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub level: Option<i64>,
    pub score: Option<i64>,
    pub passed: bool,
    pub list_year: Option<i64>,
    pub certificate_no: Option<String>,
    pub hours: Option<i64>,
    pub recorded_by: Option<String>,
    /// Confirmed on the supply company's side; until then a draft that satisfies no rule.
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

impl QualificationRow {
    pub fn is_draft(&self) -> bool {
        self.confirmed_at.is_none()
    }
}

pub async fn qualifications_of(conn: &mut Conn, person_id: PersonId) -> Result<Vec<QualificationRow>, StoreError> {
    sqlx::query(
        "SELECT id, person_id, kind, title, valid_from, valid_to, level, score, passed, list_year, certificate_no, hours, \
         recorded_by, confirmed_at, confirmed_by FROM qualifications WHERE person_id = $1 ORDER BY valid_to DESC, id",
    )
    .bind(person_id.get())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(QualificationRow {
            id: r.try_get("id")?,
            person_id: id(r, "person_id")?,
            kind: r.try_get("kind")?,
            title: r.try_get("title")?,
            valid_from: r.try_get("valid_from")?,
            valid_to: r.try_get("valid_to")?,
            level: r.try_get("level")?,
            score: r.try_get("score")?,
            passed: r.try_get::<i64, _>("passed")? != 0,
            list_year: r.try_get("list_year")?,
            certificate_no: r.try_get("certificate_no")?,
            hours: r.try_get("hours")?,
            recorded_by: r.try_get("recorded_by")?,
            confirmed_at: opt_stamp("qualifications", "confirmed_at", r.try_get("confirmed_at")?)?.map(|t| t.local_display()),
            confirmed_by: r.try_get("confirmed_by")?,
        })
    })
    .collect()
}

/// A qualification as recorded; `confirmed_by` is `None` for a contractor's draft.
#[derive(Debug, Clone)]
pub struct NewQualification<'a> {
    pub person_id: PersonId,
    pub kind: QualificationKind,
    pub title: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub level: Option<i64>,
    pub score: Option<i64>,
    pub passed: bool,
    pub list_year: Option<i64>,
    pub certificate_no: Option<&'a str>,
    pub hours: Option<i64>,
    pub recorded_by: &'a str,
    pub confirmed_by: Option<&'a str>,
}

pub async fn insert_qualification(conn: &mut Conn, q: &NewQualification<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO qualifications (person_id, kind, title, valid_from, valid_to, level, score, passed, list_year, \
         certificate_no, hours, created_at, recorded_by, confirmed_at, confirmed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(q.person_id.get())
    .bind(q.kind.code())
    .bind(q.title)
    .bind(q.valid_from.to_string())
    .bind(q.valid_to.to_string())
    .bind(q.level)
    .bind(q.score)
    .bind(i64::from(q.passed))
    .bind(q.list_year)
    .bind(q.certificate_no)
    .bind(q.hours)
    .bind(at.to_db())
    .bind(q.recorded_by)
    .bind(q.confirmed_by.map(|_| at.to_db()))
    .bind(q.confirmed_by)
    .fetch_one(&mut *conn)
    .await?)
}

/// What confirming a draft found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    Now,
    Already,
    Missing,
}

/// Confirms qualification `id` of `person_id` in one statement, so that of two confirmations at
/// once exactly one does.
pub async fn confirm_qualification(
    conn: &mut Conn,
    id: i64,
    person_id: PersonId,
    by: &str,
    at: Timestamp,
) -> Result<Confirmed, StoreError> {
    let person_id = person_id.get();
    let changed = sqlx::query(
        "UPDATE qualifications SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND person_id = $4 AND confirmed_at IS NULL",
    )
    .bind(at.to_db())
    .bind(by)
    .bind(id)
    .bind(person_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 1 {
        return Ok(Confirmed::Now);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM qualifications WHERE id = $1 AND person_id = $2")
        .bind(id)
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(if exists.is_some() { Confirmed::Already } else { Confirmed::Missing })
}

pub async fn delete_qualification(conn: &mut Conn, id: i64, person_id: PersonId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM qualifications WHERE id = $1 AND person_id = $2")
        .bind(id)
        .bind(person_id.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---- Contractors --------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct ContractorRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub license_no: Option<String>,
    pub license_level: Option<i64>,
    pub license_valid_to: Option<String>,
    pub blacklisted_on: Option<String>,
    pub blacklist_reason: Option<String>,
    /// How many people work for it.
    pub workers: i64,
    #[serde(skip)]
    pub unit_path: String,
}

const CONTRACTOR_SELECT: &str = "SELECT c.id, c.code, c.name, c.unit_id, u.name AS unit_name, u.path AS unit_path, \
    c.license_no, c.license_level, c.license_valid_to, c.blacklisted_on, c.blacklist_reason, \
    (SELECT COUNT(*) FROM people p WHERE p.contractor_id = c.id) AS workers FROM contractors c JOIN org_units u ON u.id = c.unit_id";

fn contractor_from(r: &AnyRow) -> Result<ContractorRow, StoreError> {
    Ok(ContractorRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        license_no: r.try_get("license_no")?,
        license_level: r.try_get("license_level")?,
        license_valid_to: r.try_get("license_valid_to")?,
        blacklisted_on: r.try_get("blacklisted_on")?,
        blacklist_reason: r.try_get("blacklist_reason")?,
        workers: r.try_get("workers")?,
    })
}

pub async fn contractors(conn: &mut Conn, scope: Scope<'_>) -> Result<Vec<ContractorRow>, StoreError> {
    let (clause, binds) = scope.clause("u.path", "c.id", 1);
    bound(format!("{CONTRACTOR_SELECT} WHERE {clause} ORDER BY c.code"), &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(contractor_from)
        .collect()
}

pub async fn contractor(conn: &mut Conn, id: i64) -> Result<Option<ContractorRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{CONTRACTOR_SELECT} WHERE c.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(contractor_from)
        .transpose()
}

/// A contractor's fields, as checked by the use case.
#[derive(Debug, Clone)]
pub struct ContractorFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit_id: UnitId,
    pub license_no: Option<&'a str>,
    pub license_level: Option<i64>,
    pub license_valid_to: Option<NaiveDate>,
}

/// Stores a new contractor (`id` = `None`) or changes one; its id. A taken code is the
/// database's unique violation.
pub async fn save_contractor(
    conn: &mut Conn,
    id: Option<i64>,
    c: &ContractorFields<'_>,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let sql = match id {
        None => {
            "INSERT INTO contractors (code, name, unit_id, license_no, license_level, license_valid_to, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"
        }
        Some(_) => {
            "UPDATE contractors SET code = $1, name = $2, unit_id = $3, license_no = $4, license_level = $5, \
             license_valid_to = $6, updated_at = $7 WHERE id = $8 RETURNING id"
        }
    };
    let q = sqlx::query_scalar(sql)
        .bind(c.code)
        .bind(c.name)
        .bind(c.unit_id.get())
        .bind(c.license_no)
        .bind(c.license_level)
        .bind(c.license_valid_to.map(|d| d.to_string()))
        .bind(at.to_db());
    Ok(match id {
        None => q.fetch_one(&mut *conn).await?,
        Some(id) => q.bind(id).fetch_one(&mut *conn).await?,
    })
}

pub async fn set_blacklist(
    conn: &mut Conn,
    id: i64,
    on: Option<NaiveDate>,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE contractors SET blacklisted_on = $1, blacklist_reason = $2, updated_at = $3 WHERE id = $4")
        .bind(on.map(|d| d.to_string()))
        .bind(reason)
        .bind(at.to_db())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementRow {
    pub id: i64,
    pub code: String,
    pub contractor_id: i64,
    pub project: Option<String>,
    /// 户号 of the only customer whose work it covers.
    pub customer_no: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    /// Who recorded it (the contractor's own administrator records drafts).
    pub recorded_by: Option<String>,
    /// Confirmed by the supply company's side: until then it is a draft that satisfies no rule.
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

impl AgreementRow {
    pub fn is_draft(&self) -> bool {
        self.confirmed_at.is_none()
    }
}

pub async fn agreements_of(conn: &mut Conn, contractor_id: i64) -> Result<Vec<AgreementRow>, StoreError> {
    sqlx::query(
        "SELECT id, code, contractor_id, project, customer_no, valid_from, valid_to, recorded_by, confirmed_at, confirmed_by \
         FROM safety_agreements WHERE contractor_id = $1 ORDER BY valid_to DESC, id DESC",
    )
    .bind(contractor_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(AgreementRow {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            contractor_id: r.try_get("contractor_id")?,
            project: r.try_get("project")?,
            customer_no: r.try_get("customer_no")?,
            valid_from: r.try_get("valid_from")?,
            valid_to: r.try_get("valid_to")?,
            recorded_by: r.try_get("recorded_by")?,
            confirmed_at: opt_stamp("safety_agreements", "confirmed_at", r.try_get("confirmed_at")?)?.map(|t| t.local_display()),
            confirmed_by: r.try_get("confirmed_by")?,
        })
    })
    .collect()
}

/// An agreement as recorded; `confirmed_by` is `None` for a contractor's draft.
#[derive(Debug, Clone)]
pub struct NewAgreement<'a> {
    pub code: &'a str,
    pub contractor_id: i64,
    pub project: Option<&'a str>,
    pub customer_no: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub recorded_by: &'a str,
    pub confirmed_by: Option<&'a str>,
}

/// Stores an agreement; a taken code is the database's unique violation.
pub async fn insert_agreement(conn: &mut Conn, a: &NewAgreement<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO safety_agreements (code, contractor_id, project, customer_no, valid_from, valid_to, created_at, \
         recorded_by, confirmed_at, confirmed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(a.code)
    .bind(a.contractor_id)
    .bind(a.project)
    .bind(a.customer_no)
    .bind(a.valid_from.to_string())
    .bind(a.valid_to.to_string())
    .bind(at.to_db())
    .bind(a.recorded_by)
    .bind(a.confirmed_by.map(|_| at.to_db()))
    .bind(a.confirmed_by)
    .fetch_one(&mut *conn)
    .await?)
}

/// The contractor of agreement `id`.
pub async fn agreement_contractor(conn: &mut Conn, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT contractor_id FROM safety_agreements WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Confirms agreement `id` in one statement; false when it already was.
pub async fn confirm_agreement(conn: &mut Conn, id: i64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE safety_agreements SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND confirmed_at IS NULL",
    )
    .bind(at.to_db())
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingRow {
    pub project: String,
    /// `excellent`, `good`, `fair` or `poor` (优/良/一般/差).
    pub rating: String,
    pub rated_on: String,
    pub rated_by: String,
    pub note: Option<String>,
}

pub async fn ratings_of(conn: &mut Conn, contractor_id: i64) -> Result<Vec<RatingRow>, StoreError> {
    sqlx::query(
        "SELECT project, rating, rated_on, rated_by, note FROM contractor_ratings WHERE contractor_id = $1 \
         ORDER BY rated_on DESC, id DESC",
    )
    .bind(contractor_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(RatingRow {
            project: r.try_get("project")?,
            rating: r.try_get("rating")?,
            rated_on: r.try_get("rated_on")?,
            rated_by: r.try_get("rated_by")?,
            note: r.try_get("note")?,
        })
    })
    .collect()
}

#[expect(clippy::too_many_arguments, reason = "one row of the ratings table")]
pub async fn insert_rating(
    conn: &mut Conn,
    contractor_id: i64,
    project: &str,
    rating: &str,
    on: NaiveDate,
    by: &str,
    note: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contractor_ratings (contractor_id, project, rating, rated_on, rated_by, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(contractor_id)
    .bind(project)
    .bind(rating)
    .bind(on.to_string())
    .bind(by)
    .bind(note)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- Expiry -------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct Expiring {
    /// `qualification`, `license` or `agreement`.
    pub kind: &'static str,
    pub record_id: i64,
    /// The person (工号 and name) or contractor it belongs to.
    pub subject: String,
    /// The qualification kind's code, or the agreement's number.
    pub detail: String,
    /// The qualification's own title (an `other` kind's name), when it has one.
    pub title: Option<String>,
    pub valid_to: String,
    pub days_left: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    /// The page to act on it.
    pub link: String,
}

impl Expiring {
    /// Past its last valid day: shown first and in red until renewed or retired.
    pub fn expired(&self) -> bool {
        self.days_left < 0
    }
}

/// Everything in `scope` that ends by `until` and has not been renewed, soonest first: what
/// already expired stays listed (first, with negative days left) until a later one is recorded
/// or its holder retired (person inactive, contractor blacklisted).
pub async fn expiring(
    conn: &mut Conn,
    scope: Scope<'_>,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Expiring>, StoreError> {
    let until = until.to_string();
    let mut out = Vec::new();
    let (clause, binds) = scope.clause("u.path", "p.contractor_id", 2);
    let sql = format!(
        "SELECT q.id, p.id, p.code, p.name, q.kind, q.title, q.valid_to, u.id, u.name FROM qualifications q \
         JOIN people p ON p.id = q.person_id JOIN org_units u ON u.id = p.unit_id \
         WHERE q.valid_to <= $1 AND q.passed = 1 AND q.confirmed_at IS NOT NULL AND p.active = 1 AND {clause} \
         AND NOT EXISTS (SELECT 1 FROM qualifications q2 WHERE q2.person_id = q.person_id AND q2.kind = q.kind \
         AND q2.confirmed_at IS NOT NULL AND q2.valid_to > q.valid_to)"
    );
    let values: Vec<String> = std::iter::once(until.clone()).chain(binds.iter().cloned()).collect();
    for r in bound(sql, &values).fetch_all(&mut *conn).await? {
        let valid_to: String = r.try_get(6)?;
        let kind: String = r.try_get(4)?;
        out.push(Expiring {
            kind: "qualification",
            record_id: r.try_get(0)?,
            subject: format!("{} {}", r.try_get::<String, _>(2)?, r.try_get::<String, _>(3)?),
            detail: kind,
            title: r.try_get(5)?,
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: UnitId::new(r.try_get(7)?),
            unit_name: r.try_get(8)?,
            link: format!("/people/{}", r.try_get::<i64, _>(1)?),
        });
    }
    let (clause, binds) = scope.clause("u.path", "c.id", 2);
    let sql = format!(
        "SELECT c.id, c.code, c.name, c.license_valid_to, u.id, u.name FROM contractors c JOIN org_units u ON u.id = c.unit_id \
         WHERE c.license_valid_to <= $1 AND c.blacklisted_on IS NULL AND {clause}"
    );
    let values: Vec<String> = std::iter::once(until.clone()).chain(binds.iter().cloned()).collect();
    for r in bound(sql, &values).fetch_all(&mut *conn).await? {
        let valid_to: String = r.try_get(3)?;
        let id: i64 = r.try_get(0)?;
        out.push(Expiring {
            kind: "license",
            record_id: id,
            subject: format!("{} {}", r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?),
            detail: String::new(),
            title: None,
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: UnitId::new(r.try_get(4)?),
            unit_name: r.try_get(5)?,
            link: format!("/contractors/{id}"),
        });
    }
    let sql = format!(
        "SELECT a.id, a.code, c.id, c.code, c.name, a.valid_to, u.id, u.name FROM safety_agreements a \
         JOIN contractors c ON c.id = a.contractor_id JOIN org_units u ON u.id = c.unit_id \
         WHERE a.valid_to <= $1 AND c.blacklisted_on IS NULL AND {clause} \
         AND NOT EXISTS (SELECT 1 FROM safety_agreements a2 WHERE a2.contractor_id = a.contractor_id AND a2.valid_to > a.valid_to)"
    );
    let values: Vec<String> = std::iter::once(until.clone()).chain(binds.iter().cloned()).collect();
    for r in bound(sql, &values).fetch_all(&mut *conn).await? {
        let valid_to: String = r.try_get(5)?;
        out.push(Expiring {
            kind: "agreement",
            record_id: r.try_get(0)?,
            subject: format!("{} {}", r.try_get::<String, _>(3)?, r.try_get::<String, _>(4)?),
            detail: r.try_get(1)?,
            title: None,
            days_left: days_between(today, &valid_to),
            valid_to,
            unit_id: UnitId::new(r.try_get(6)?),
            unit_name: r.try_get(7)?,
            link: format!("/contractors/{}", r.try_get::<i64, _>(2)?),
        });
    }
    out.sort_by(|a, b| a.valid_to.cmp(&b.valid_to).then(a.subject.cmp(&b.subject)));
    Ok(out)
}

fn days_between(today: NaiveDate, end: &str) -> i64 {
    NaiveDate::parse_from_str(end, "%Y-%m-%d").map_or(0, |e| (e - today).num_days())
}

/// Records today's warning of one record; false when it was recorded already.
pub async fn record_warning(conn: &mut Conn, day: NaiveDate, item: &Expiring) -> Result<bool, StoreError> {
    let added = sqlx::query(
        "INSERT INTO expiry_warnings (day, kind, record_id, unit_id, valid_to) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (day, kind, record_id) DO NOTHING",
    )
    .bind(day.to_string())
    .bind(item.kind)
    .bind(item.record_id)
    .bind(item.unit_id.get())
    .bind(&item.valid_to)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(added == 1)
}

// ---- Import from the marketing system's registers -----------------------------------------

/// Rows per multi-row INSERT: well inside both backends' limits on bound values.
const BATCH: usize = 400;

/// `($1, …, $cols), (…)` for `rows` rows.
fn values(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=cols).map(|c| format!("${}", r * cols + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which register an import resolves its codes against.
#[derive(Debug, Clone, Copy)]
pub enum Register {
    People,
    Contractors,
    Agreements,
}

/// Every code of `register` with its id and its unit's path.
pub async fn codes(
    conn: &mut Conn,
    register: Register,
) -> Result<std::collections::HashMap<String, (i64, String)>, StoreError> {
    let sql = match register {
        Register::People => "SELECT p.code, p.id, u.path FROM people p JOIN org_units u ON u.id = p.unit_id",
        Register::Contractors => "SELECT c.code, c.id, u.path FROM contractors c JOIN org_units u ON u.id = c.unit_id",
        Register::Agreements => {
            "SELECT a.code, a.id, u.path FROM safety_agreements a JOIN contractors c ON c.id = a.contractor_id \
             JOIN org_units u ON u.id = c.unit_id"
        }
    };
    sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, (r.try_get("id")?, r.try_get("path")?))))
        .collect()
}

/// Ids by code, of people or contractors.
pub async fn ids_by_code(
    conn: &mut Conn,
    register: Register,
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    Ok(codes(conn, register).await?.into_iter().map(|(code, (id, _))| (code, id)).collect())
}

/// A contractor as an import brings it.
#[derive(Debug, Clone)]
pub struct ImportedContractor<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub license_level: Option<i64>,
    pub license_valid_to: NaiveDate,
}

/// Adds or updates contractors by code, new ones under `unit_id`.
pub async fn upsert_contractors(
    conn: &mut Conn,
    rows: &[ImportedContractor<'_>],
    unit_id: UnitId,
    at: Timestamp,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), StoreError> {
    let now = at.to_db();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO contractors (code, name, unit_id, license_level, license_valid_to, created_at, updated_at) VALUES {} \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, license_valid_to = excluded.license_valid_to, \
             license_level = COALESCE(excluded.license_level, contractors.license_level), updated_at = excluded.updated_at",
            values(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(c.code)
                .bind(c.name)
                .bind(unit_id.get())
                .bind(c.license_level)
                .bind(c.license_valid_to.to_string());
            q = q.bind(now.clone()).bind(now.clone());
        }
        q.execute(&mut *conn).await?;
        progress(chunk.len());
    }
    Ok(())
}

/// A person as an import brings it.
#[derive(Debug, Clone)]
pub struct ImportedPerson<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit_id: UnitId,
    pub contractor_id: Option<i64>,
    pub phone: Option<&'a str>,
    pub post: Option<&'a str>,
}

/// Adds or updates people by 工号; a phone or post the import leaves empty is kept.
pub async fn upsert_people(
    conn: &mut Conn,
    rows: &[ImportedPerson<'_>],
    at: Timestamp,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), StoreError> {
    let now = at.to_db();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO people (code, name, unit_id, contractor_id, phone, post, active, created_at, updated_at) VALUES {} \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit_id = excluded.unit_id, contractor_id = excluded.contractor_id, \
             phone = COALESCE(excluded.phone, people.phone), post = COALESCE(excluded.post, people.post), updated_at = excluded.updated_at",
            values(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            q = q
                .bind(p.code)
                .bind(p.name)
                .bind(p.unit_id.get())
                .bind(p.contractor_id)
                .bind(p.phone)
                .bind(p.post)
                .bind(1_i64);
            q = q.bind(now.clone()).bind(now.clone());
        }
        q.execute(&mut *conn).await?;
        progress(chunk.len());
    }
    Ok(())
}

/// Every qualification as `(person, title or kind, from, to)`: what an import must not repeat.
pub async fn qualification_keys(
    conn: &mut Conn,
) -> Result<std::collections::HashSet<(i64, String, String, String)>, StoreError> {
    sqlx::query("SELECT person_id, COALESCE(title, kind) AS what, valid_from, valid_to FROM qualifications")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("person_id")?, r.try_get("what")?, r.try_get("valid_from")?, r.try_get("valid_to")?)))
        .collect()
}

/// A qualification as an import brings it: `(person, kind, title, from, to)`.
pub type ImportedQualification = (i64, String, Option<String>, String, String);

/// Adds qualifications confirmed by `by` (the supply company's own register).
pub async fn insert_imported_qualifications(
    conn: &mut Conn,
    rows: &[ImportedQualification],
    by: &str,
    at: Timestamp,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), StoreError> {
    let now = at.to_db();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO qualifications (person_id, kind, title, valid_from, valid_to, passed, created_at, recorded_by, \
             confirmed_at, confirmed_by) VALUES {}",
            values(chunk.len(), 10)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (pid, kind, title, from, to) in chunk {
            q = q.bind(*pid).bind(kind).bind(title).bind(from).bind(to).bind(1_i64).bind(now.clone());
            q = q.bind(by).bind(now.clone()).bind(by);
        }
        q.execute(&mut *conn).await?;
        progress(chunk.len());
    }
    Ok(())
}

/// An agreement as an import brings it.
#[derive(Debug, Clone)]
pub struct ImportedAgreement<'a> {
    pub code: &'a str,
    pub contractor_id: i64,
    pub project: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// Adds or updates agreements by code, confirmed by `by` (the supply company's own register).
pub async fn upsert_agreements(
    conn: &mut Conn,
    rows: &[ImportedAgreement<'_>],
    by: &str,
    at: Timestamp,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), StoreError> {
    let now = at.to_db();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO safety_agreements (code, contractor_id, project, valid_from, valid_to, created_at, recorded_by, \
             confirmed_at, confirmed_by) VALUES {} \
             ON CONFLICT (code) DO UPDATE SET contractor_id = excluded.contractor_id, \
             project = COALESCE(excluded.project, safety_agreements.project), valid_from = excluded.valid_from, \
             valid_to = excluded.valid_to, confirmed_at = excluded.confirmed_at, confirmed_by = excluded.confirmed_by",
            values(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in chunk {
            q = q
                .bind(a.code)
                .bind(a.contractor_id)
                .bind(a.project)
                .bind(a.valid_from.to_string())
                .bind(a.valid_to.to_string());
            q = q.bind(now.clone()).bind(by).bind(now.clone()).bind(by);
        }
        q.execute(&mut *conn).await?;
        progress(chunk.len());
    }
    Ok(())
}

// ---- Uploads kept between preview and confirmation ----------------------------------------

pub async fn keep_upload(
    conn: &mut Conn,
    token: &str,
    user_id: i64,
    name: &str,
    content: &[u8],
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO uploads (token, user_id, name, content, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token)
        .bind(user_id)
        .bind(name)
        .bind(content)
        .bind(at.to_db())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The files kept under `token` for `user_id`, in the order they came.
pub async fn upload(conn: &mut Conn, token: &str, user_id: i64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    sqlx::query("SELECT name, content FROM uploads WHERE token = $1 AND user_id = $2 ORDER BY id")
        .bind(token)
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("content")?)))
        .collect()
}

pub async fn forget_upload(conn: &mut Conn, token: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM uploads WHERE token = $1").bind(token).execute(&mut *conn).await?;
    Ok(())
}

/// The id of the contractor with code `code`.
pub async fn contractor_id_by_code(conn: &mut Conn, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM contractors WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?)
}
