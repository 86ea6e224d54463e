//! People and contractors as the rules see them: what each holds, confirmed, on the supply
//! company's side. Drafts a contractor recorded himself are not loaded: they satisfy no rule.

use std::collections::BTreeMap;

use gridsafe_domain::people::{Agreement, ContractorFacts, Held, PersonFacts, QualificationKind};
use sqlx::Row;

use crate::decode::{code, day, opt_day, small};
use crate::{Conn, StoreError, backend_of, for_update, id_list};

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

/// The people of `ids` that exist, with their facts: four statements however many people.
pub async fn facts(conn: &mut Conn, ids: &[i64]) -> Result<BTreeMap<i64, Person>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list = id_list(ids);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, code, name, active, contractor_id FROM people WHERE id IN ({list})"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut held: BTreeMap<i64, Vec<Held>> = BTreeMap::new();
    let qualifications = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT person_id, kind, valid_from, valid_to, level FROM qualifications \
         WHERE person_id IN ({list}) AND passed = 1 AND confirmed_at IS NOT NULL"
    )))
    .fetch_all(&mut *conn)
    .await?;
    for q in qualifications {
        let t = "qualifications";
        held.entry(q.try_get("person_id")?).or_default().push(Held {
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
    let mut out = BTreeMap::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let contractor_id: Option<i64> = r.try_get("contractor_id")?;
        let facts = PersonFacts {
            active: r.try_get::<i64, _>("active")? != 0,
            held: held.remove(&id).unwrap_or_default(),
            contractor: contractor_id.and_then(|c| contractors.get(&c).cloned()),
        };
        out.insert(id, Person { code: r.try_get("code")?, name: r.try_get("name")?, contractor_id, facts });
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
pub async fn lock(conn: &mut Conn, ids: &[i64]) -> Result<(), StoreError> {
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
pub async fn id_by_code(conn: &mut Conn, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM people WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?)
}

/// The person linked to account `user_id`.
pub async fn id_of_user(conn: &mut Conn, user_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1").bind(user_id).fetch_optional(&mut *conn).await?)
}
