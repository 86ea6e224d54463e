//! Work plans' rows: plans, their items and people, merged sites and the changes made after
//! publication. The rules are the domain's (`gridsafe_domain::plans`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::plans::{ExecutedTicket, Item, Merge, PlanKind, PlanState, PlannedItem};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, scope_clause};

const T: &str = "work_plans";

/// A plan in a list or on its page.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub id: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub kind: PlanKind,
    pub first_day: NaiveDate,
    pub state: PlanState,
    pub created_by: String,
    #[serde(skip)]
    pub created_by_user: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub published_by: Option<String>,
    pub published_at: Option<Timestamp>,
    pub items: i64,
    #[serde(skip)]
    pub unit_path: String,
}

const PLAN_COLUMNS: &str = "w.id, w.unit_id, u.name AS unit_name, u.path AS unit_path, w.kind, w.first_day, w.state, \
    w.created_by, w.created_by_user, w.approved_by, w.approved_at, w.published_by, w.published_at, \
    (SELECT COUNT(*) FROM plan_items i WHERE i.plan_id = w.id) AS items";

fn plan_from(r: &AnyRow) -> Result<PlanRow, StoreError> {
    Ok(PlanRow {
        id: r.try_get("id")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        kind: code(T, "kind", r.try_get("kind")?, PlanKind::from_code)?,
        first_day: day(T, "first_day", r.try_get("first_day")?)?,
        state: code(T, "state", r.try_get("state")?, PlanState::from_code)?,
        created_by: r.try_get("created_by")?,
        created_by_user: r.try_get("created_by_user")?,
        approved_by: r.try_get("approved_by")?,
        approved_at: opt_stamp(T, "approved_at", r.try_get("approved_at")?)?,
        published_by: r.try_get("published_by")?,
        published_at: opt_stamp(T, "published_at", r.try_get("published_at")?)?,
        items: r.try_get("items")?,
    })
}

/// Plans of the units in `scope` waiting to be approved or published (drafts and approved ones),
/// the earliest period first (the late ones first), at most `limit`.
pub async fn awaiting(conn: &mut Conn, scope: &[UnitPath], limit: u32) -> Result<Vec<PlanRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM work_plans w JOIN org_units u ON u.id = w.unit_id WHERE {clause} \
         AND w.state IN ('draft', 'approved') ORDER BY w.first_day, w.id LIMIT {}",
        limit.clamp(1, 10_000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(plan_from).collect()
}

/// Plans of the units in `scope`, the latest period first, at most `limit`.
pub async fn list(conn: &mut Conn, scope: &[UnitPath], limit: u32) -> Result<Vec<PlanRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM work_plans w JOIN org_units u ON u.id = w.unit_id WHERE {clause} \
         ORDER BY w.first_day DESC, w.id DESC LIMIT {}",
        limit.clamp(1, 10_000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(plan_from).collect()
}

/// Plan `id`; with `hold`, its row is held until the transaction ends, so a step or a change
/// decides on a plan no one else is changing.
pub async fn get(conn: &mut Conn, plan: i64, hold: bool) -> Result<Option<PlanRow>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM work_plans WHERE id = $1{lock}")))
            .bind(plan)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM work_plans w JOIN org_units u ON u.id = w.unit_id WHERE w.id = $1"
    )))
    .bind(plan)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(plan_from)
    .transpose()
}

/// A new draft plan; its id. A unit's second plan of one kind for one period is the database's
/// unique violation.
pub async fn insert(
    conn: &mut Conn,
    unit: UnitId,
    kind: PlanKind,
    first_day: NaiveDate,
    by: &str,
    by_user: Option<i64>,
    at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO work_plans (unit_id, kind, first_day, state, created_by, created_by_user, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6) RETURNING id",
    )
    .bind(unit.get())
    .bind(kind.code())
    .bind(first_day.to_string())
    .bind(by)
    .bind(by_user)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Moves plan `plan` from `from` to `to`, stamping who approved or published it (a return to
/// draft clears the approval); false when it was no longer in `from`.
pub async fn set_state(
    conn: &mut Conn,
    plan: i64,
    from: PlanState,
    to: PlanState,
    by: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let q = match to {
        PlanState::Approved => sqlx::query(
            "UPDATE work_plans SET state = $1, updated_at = $2, approved_at = $2, approved_by = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.code())
        .bind(at.to_db())
        .bind(by),
        PlanState::Published => sqlx::query(
            "UPDATE work_plans SET state = $1, updated_at = $2, published_at = $2, published_by = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.code())
        .bind(at.to_db())
        .bind(by),
        PlanState::Draft => sqlx::query(
            "UPDATE work_plans SET state = $1, updated_at = $2, approved_at = NULL, approved_by = NULL WHERE id = $3 AND state = $4",
        )
        .bind(to.code())
        .bind(at.to_db()),
    };
    Ok(q.bind(plan).bind(from.code()).execute(&mut *conn).await?.rows_affected() == 1)
}

/// An item as shown: its team, leader and people by name.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    #[serde(flatten)]
    pub item: Item,
    pub team_name: String,
    /// `工号 姓名` of each person, the leader first.
    pub names: Vec<String>,
    pub outage: bool,
    pub note: Option<String>,
    /// Someone on it works for a contractor.
    pub contractor_crew: bool,
}

/// The items of plan `id` with their people, by start: two statements however many.
pub async fn items(conn: &mut Conn, plan: i64) -> Result<Vec<ItemRow>, StoreError> {
    let t = "plan_items";
    let rows = sqlx::query(
        "SELECT i.id, i.starts_at, i.ends_at, i.site, i.work_kind, i.team_id, u.name AS team_name, i.leader_id, i.outage, i.note \
         FROM plan_items i JOIN org_units u ON u.id = i.team_id WHERE i.plan_id = $1 ORDER BY i.starts_at, i.id",
    )
    .bind(plan)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let mut people: BTreeMap<i64, Vec<(PersonId, String)>> = BTreeMap::new();
    let mut contracted: Vec<i64> = Vec::new();
    if !ids.is_empty() {
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT x.item_id, p.id, p.code, p.name, p.contractor_id FROM plan_item_people x JOIN people p ON p.id = x.person_id \
             WHERE x.item_id IN ({}) ORDER BY p.code",
            id_list(&ids)
        )))
        .fetch_all(&mut *conn)
        .await?
        {
            let label = format!("{} {}", r.try_get::<String, _>("code")?, r.try_get::<String, _>("name")?);
            let item: i64 = r.try_get("item_id")?;
            if r.try_get::<Option<i64>, _>("contractor_id")?.is_some() {
                contracted.push(item);
            }
            people.entry(item).or_default().push((id(&r, "id")?, label));
        }
    }
    rows.iter()
        .map(|r| {
            let item_id: i64 = r.try_get("id")?;
            let leader: Option<PersonId> = opt_id(r, "leader_id")?;
            let mut on = people.remove(&item_id).unwrap_or_default();
            // The leader first.
            on.sort_by_key(|(p, _)| Some(*p) != leader);
            Ok(ItemRow {
                item: Item {
                    id: item_id,
                    start: stamp(t, "starts_at", r.try_get("starts_at")?)?,
                    end: stamp(t, "ends_at", r.try_get("ends_at")?)?,
                    site: r.try_get("site")?,
                    work_kind: code(t, "work_kind", r.try_get("work_kind")?, OrderType::parse)?,
                    team: id(r, "team_id")?,
                    leader,
                    people: on.iter().map(|(p, _)| *p).collect(),
                },
                team_name: r.try_get("team_name")?,
                names: on.into_iter().map(|(_, label)| label).collect(),
                outage: r.try_get::<i64, _>("outage")? != 0,
                note: r.try_get("note")?,
                contractor_crew: contracted.contains(&item_id),
            })
        })
        .collect()
}

/// An item as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub start: Timestamp,
    pub end: Timestamp,
    pub site: &'a str,
    pub work_kind: OrderType,
    pub team: UnitId,
    pub leader: Option<PersonId>,
    /// Everyone on the item, the leader included.
    pub people: &'a [PersonId],
    pub outage: bool,
    pub note: Option<&'a str>,
}

pub async fn insert_item(conn: &mut Conn, plan: i64, item: &NewItem<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let item_id: i64 = sqlx::query_scalar(
        "INSERT INTO plan_items (plan_id, starts_at, ends_at, site, work_kind, team_id, leader_id, outage, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(plan)
    .bind(item.start.to_db())
    .bind(item.end.to_db())
    .bind(item.site)
    .bind(item.work_kind.code())
    .bind(item.team.get())
    .bind(item.leader.map(PersonId::get))
    .bind(i64::from(item.outage))
    .bind(item.note)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    for p in item.people {
        sqlx::query("INSERT INTO plan_item_people (item_id, person_id) VALUES ($1, $2)")
            .bind(item_id)
            .bind(p.get())
            .execute(&mut *conn)
            .await?;
    }
    Ok(item_id)
}

/// Removes item `item` of plan `plan` with its people; false when the plan has no such item.
pub async fn delete_item(conn: &mut Conn, plan: i64, item: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM plan_items WHERE id = $1 AND plan_id = $2")
        .bind(item)
        .bind(plan)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query("DELETE FROM plan_item_people WHERE item_id = $1").bind(item).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM plan_items WHERE id = $1").bind(item).execute(&mut *conn).await?;
    Ok(true)
}

/// Whether a ticket or an outage names item `item`.
pub async fn item_in_use(conn: &mut Conn, item: i64) -> Result<bool, StoreError> {
    let uses: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM tickets WHERE plan_item_id = $1) + \
         (SELECT COUNT(*) FROM outage_plan_items WHERE item_id = $1)",
    )
    .bind(item)
    .fetch_one(&mut *conn)
    .await?;
    Ok(uses > 0)
}

/// The shared sites of plan `plan` merged so far.
pub async fn merges(conn: &mut Conn, plan: i64) -> Result<Vec<Merge>, StoreError> {
    let t = "plan_merges";
    sqlx::query("SELECT day, site, organiser_id, measures FROM plan_merges WHERE plan_id = $1 ORDER BY day, site")
        .bind(plan)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Merge {
                day: day(t, "day", r.try_get("day")?)?,
                site: r.try_get("site")?,
                organiser: id(r, "organiser_id")?,
                measures: r.try_get("measures")?,
            })
        })
        .collect()
}

/// Records (or replaces) the merge of one shared site.
pub async fn save_merge(conn: &mut Conn, plan: i64, m: &Merge, by: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plan_merges (plan_id, day, site, organiser_id, measures, merged_by, merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (plan_id, day, site) DO UPDATE SET organiser_id = excluded.organiser_id, measures = excluded.measures, \
         merged_by = excluded.merged_by, merged_at = excluded.merged_at",
    )
    .bind(plan)
    .bind(m.day.to_string())
    .bind(&m.site)
    .bind(m.organiser.get())
    .bind(&m.measures)
    .bind(by)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A change made to a published plan.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub item_id: Option<i64>,
    /// `item_added` or `item_removed`.
    pub action: String,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: Timestamp,
}

pub async fn record_change(
    conn: &mut Conn,
    plan: i64,
    item: Option<i64>,
    action: &str,
    reason: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plan_changes (plan_id, item_id, action, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(plan)
    .bind(item)
    .bind(action)
    .bind(reason)
    .bind(by)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn changes(conn: &mut Conn, plan: i64) -> Result<Vec<ChangeRow>, StoreError> {
    sqlx::query(
        "SELECT item_id, action, reason, changed_by, changed_at FROM plan_changes WHERE plan_id = $1 ORDER BY id",
    )
    .bind(plan)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ChangeRow {
            item_id: r.try_get("item_id")?,
            action: r.try_get("action")?,
            reason: r.try_get("reason")?,
            changed_by: r.try_get("changed_by")?,
            changed_at: stamp("plan_changes", "changed_at", r.try_get("changed_at")?)?,
        })
    })
    .collect()
}

/// A plan item as a week's calendar shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DayItem {
    pub plan_id: i64,
    pub plan_state: PlanState,
    pub start: Timestamp,
    pub end: Timestamp,
    pub site: String,
    pub work_kind: OrderType,
    pub team_name: String,
    /// `工号 姓名` of the work leader.
    pub leader: Option<String>,
    pub outage: bool,
}

/// Items of plans of the units in `scope` starting in `[from, to)`, by start, at most `limit`.
pub async fn items_between(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<DayItem>, StoreError> {
    let t = "plan_items";
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_db());
    binds.push(to.to_db());
    let n = binds.len();
    let sql = format!(
        "SELECT i.plan_id, w.state AS plan_state, i.starts_at, i.ends_at, i.site, i.work_kind, tu.name AS team_name, \
         lp.code AS leader_code, lp.name AS leader_name, i.outage FROM plan_items i JOIN work_plans w ON w.id = i.plan_id \
         JOIN org_units u ON u.id = w.unit_id JOIN org_units tu ON tu.id = i.team_id LEFT JOIN people lp ON lp.id = i.leader_id \
         WHERE {clause} AND i.starts_at >= ${} AND i.starts_at < ${n} ORDER BY i.starts_at, i.id LIMIT {}",
        n - 1,
        limit.clamp(1, 10_000)
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let leader = match (
                r.try_get::<Option<String>, _>("leader_code")?,
                r.try_get::<Option<String>, _>("leader_name")?,
            ) {
                (Some(c), Some(n)) => Some(format!("{c} {n}")),
                _ => None,
            };
            Ok(DayItem {
                plan_id: r.try_get("plan_id")?,
                plan_state: code(T, "state", r.try_get("plan_state")?, PlanState::from_code)?,
                start: stamp(t, "starts_at", r.try_get("starts_at")?)?,
                end: stamp(t, "ends_at", r.try_get("ends_at")?)?,
                site: r.try_get("site")?,
                work_kind: code(t, "work_kind", r.try_get("work_kind")?, OrderType::parse)?,
                team_name: r.try_get("team_name")?,
                leader,
                outage: r.try_get::<i64, _>("outage")? != 0,
            })
        })
        .collect()
}

// ---- The plan audit -----------------------------------------------------------------------

/// Every ticket whose work was permitted, with its document type, as the plan audit reads it
/// (`exempt` left for the caller, who knows the setting).
pub async fn executed_tickets(conn: &mut Conn) -> Result<Vec<(String, ExecutedTicket)>, StoreError> {
    sqlx::query(
        "SELECT number, type_code, plan_item_id, unplanned_reason, unplanned_approved_by FROM tickets \
         WHERE permitted_at IS NOT NULL ORDER BY number",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("type_code")?,
            ExecutedTicket {
                number: r.try_get("number")?,
                plan_item: r.try_get("plan_item_id")?,
                exempt: false,
                unplanned_reason: r.try_get("unplanned_reason")?,
                approved_by: r.try_get("unplanned_approved_by")?,
            },
        ))
    })
    .collect()
}

/// Items of published plans that ended before `now`, each with the number of executed tickets
/// naming it.
pub async fn passed_items(conn: &mut Conn, now: Timestamp) -> Result<Vec<PlannedItem>, StoreError> {
    let t = "plan_items";
    sqlx::query(
        "SELECT i.id, i.starts_at, i.ends_at, i.site, \
         (SELECT COUNT(*) FROM tickets k WHERE k.plan_item_id = i.id AND k.permitted_at IS NOT NULL) AS executed \
         FROM plan_items i JOIN work_plans w ON w.id = i.plan_id \
         WHERE w.state = 'published' AND i.ends_at < $1 ORDER BY i.id",
    )
    .bind(now.to_db())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(PlannedItem {
            id: r.try_get("id")?,
            start: stamp(t, "starts_at", r.try_get("starts_at")?)?,
            end: stamp(t, "ends_at", r.try_get("ends_at")?)?,
            site: r.try_get("site")?,
            executed_tickets: usize::try_from(r.try_get::<i64, _>("executed")?).unwrap_or(0),
        })
    })
    .collect()
}

// ---- Plan items as tickets and outages name them ------------------------------------------

/// A plan item as a ticket or an outage names it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanItemRef {
    pub id: i64,
    pub plan_id: i64,
    pub plan_state: PlanState,
    pub start: Timestamp,
    pub end: Timestamp,
    pub site: String,
    pub team_name: String,
    /// The plan's unit.
    #[serde(skip)]
    pub unit_path: String,
}

/// The select of [`PlanItemRef`]: items `i`, their plan `w`, its unit `u`.
pub(crate) const ITEM_REF: &str = "SELECT i.id, i.plan_id, w.state AS plan_state, i.starts_at, i.ends_at, i.site, \
    tu.name AS team_name, u.path AS unit_path FROM plan_items i JOIN work_plans w ON w.id = i.plan_id \
    JOIN org_units u ON u.id = w.unit_id JOIN org_units tu ON tu.id = i.team_id";

pub(crate) fn item_ref(r: &AnyRow) -> Result<PlanItemRef, StoreError> {
    let t = "plan_items";
    Ok(PlanItemRef {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        plan_state: code(T, "state", r.try_get("plan_state")?, PlanState::from_code)?,
        start: stamp(t, "starts_at", r.try_get("starts_at")?)?,
        end: stamp(t, "ends_at", r.try_get("ends_at")?)?,
        site: r.try_get("site")?,
        team_name: r.try_get("team_name")?,
        unit_path: r.try_get("unit_path")?,
    })
}

/// Plan item `item`, with its plan's state and unit.
pub async fn item(conn: &mut Conn, item: i64) -> Result<Option<PlanItemRef>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{ITEM_REF} WHERE i.id = $1")))
        .bind(item)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(item_ref)
        .transpose()
}

/// Which plan items may be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nameable {
    /// By an outage request: items marked as needing an outage.
    ByOutage,
    /// By a ticket: items of published plans.
    ByTicket,
}

/// Items of plans of the units in `scope` starting in `[from, to)` that `by` may name, by
/// start, at most `limit`.
pub async fn nameable_items(
    conn: &mut Conn,
    scope: &[UnitPath],
    by: Nameable,
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<PlanItemRef>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_db());
    binds.push(to.to_db());
    let n = binds.len();
    let which = match by {
        Nameable::ByOutage => "i.outage = 1",
        Nameable::ByTicket => "w.state = 'published'",
    };
    let sql = format!(
        "{ITEM_REF} WHERE {clause} AND {which} AND i.starts_at >= ${} AND i.starts_at < ${n} \
         ORDER BY i.starts_at, i.id LIMIT {}",
        n - 1,
        limit.clamp(1, 1000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(item_ref).collect()
}
