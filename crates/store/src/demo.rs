//! What only the demo writes: a fictional history that no use case would (deadlines in the
//! past, accounts already in use).

use gridsafe_domain::time::Timestamp;

use crate::{Conn, StoreError};

/// Moves a hazard's deadline (and its plan's tasks') to `deadline`, and its registration to
/// `registered_on` when given: the demo's hazards look weeks old.
pub async fn backdate_hazard(
    conn: &mut Conn,
    hazard_id: i64,
    deadline: &str,
    registered_on: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE hazards SET deadline = $1, registered_on = COALESCE($2, registered_on) WHERE id = $3")
        .bind(deadline)
        .bind(registered_on)
        .bind(hazard_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE rectification_tasks SET deadline = $1 WHERE source_kind = 'hazard' AND source_id = $2")
        .bind(deadline)
        .bind(hazard_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A demo account that has chosen its password and signed in at `at`.
pub async fn settle_account(conn: &mut Conn, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET must_change_password = 0, last_login_at = $1 WHERE id = $2")
        .bind(at.to_db())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One closed and (when `verdict` is given) evaluated ticket of the demo's past year, as a paper
/// register brought in would hold it: no permission time, so the cross-audit (which audits
/// tickets from their permission on) leaves it alone.
pub struct HistoryTicket<'a> {
    pub number: &'a str,
    pub type_code: &'a str,
    pub unit: gridsafe_domain::ids::UnitId,
    pub work_kind: &'a str,
    pub location: &'a str,
    pub finished_at: Timestamp,
    pub verdict: Option<&'a str>,
    pub by: &'a str,
}

pub async fn history_ticket(conn: &mut Conn, t: &HistoryTicket<'_>) -> Result<(), StoreError> {
    let start = Timestamp::from_utc(t.finished_at.as_utc() - chrono::Duration::hours(4)).to_db();
    let end = t.finished_at.to_db();
    sqlx::query(
        "INSERT INTO tickets (number, type_code, unit_id, state, work_kind, location, content, planned_start, planned_end, \
         finished_at, verdict, evaluated_at, evaluated_by, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, 'closed', $4, $5, '历史台账（演示）', $6, $7, $7, $8, $9, $10, $10, $6, $7)",
    )
    .bind(t.number)
    .bind(t.type_code)
    .bind(t.unit.get())
    .bind(t.work_kind)
    .bind(t.location)
    .bind(&start)
    .bind(&end)
    .bind(t.verdict)
    .bind(t.verdict.map(|_| end.clone()))
    .bind(t.by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One hazard of the demo's past year, from its registration to its 销号 on `closed_on` (after
/// its deadline when it was late).
pub async fn history_hazard(
    conn: &mut Conn,
    number: &str,
    unit: gridsafe_domain::ids::UnitId,
    title: &str,
    deadline: chrono::NaiveDate,
    closed_on: chrono::NaiveDate,
    by: &str,
) -> Result<(), StoreError> {
    let registered = deadline - chrono::Duration::days(30);
    let closed_at = Timestamp::from_local(closed_on.and_hms_opt(16, 0, 0).unwrap_or_default());
    let created_at = Timestamp::from_local(registered.and_hms_opt(9, 0, 0).unwrap_or_default());
    sqlx::query(
        "INSERT INTO hazards (number, unit_id, title, description, grade, responsibility, state, deadline, owner, escalation, \
         created_by, created_at, closed_at, source_kind, registered_on) \
         VALUES ($1, $2, $3, '历史隐患台账（演示）', 'general', 'grid', 'closed', $4, $5, 0, $5, $6, $7, 'history', $8)",
    )
    .bind(number)
    .bind(unit.get())
    .bind(title)
    .bind(deadline.to_string())
    .bind(by)
    .bind(created_at.to_db())
    .bind(closed_at.to_db())
    .bind(registered.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
