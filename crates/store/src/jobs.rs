//! Scheduled jobs' rows: which period of each job ran, and which one is running under a lease.

use gridsafe_domain::time::Timestamp;

use crate::{Conn, StoreError};

/// Claims `period` of job `name` until `lease_until`, unless it ran already or another
/// instance holds an unexpired lease on it; whether this caller got it. One statement decides,
/// so of many instances claiming at once exactly one does.
pub async fn claim(
    conn: &mut Conn,
    name: &str,
    period: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<bool, StoreError> {
    sqlx::query(
        "INSERT INTO job_runs (name, last_period, last_run_at) VALUES ($1, '', $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now.to_db())
    .execute(&mut *conn)
    .await?;
    let claimed = sqlx::query(
        "UPDATE job_runs SET running_period = $1, lease_until = $2 \
         WHERE name = $3 AND last_period < $1 AND (running_period IS NULL OR lease_until < $4)",
    )
    .bind(period)
    .bind(lease_until.to_db())
    .bind(name)
    .bind(now.to_db())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// Ends the run of `period`: done (the next period is due next), or released to be retried.
pub async fn finish(
    conn: &mut Conn,
    name: &str,
    period: &str,
    succeeded: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let sql = if succeeded {
        "UPDATE job_runs SET last_period = running_period, last_run_at = $1, running_period = NULL, lease_until = NULL \
         WHERE name = $2 AND running_period = $3"
    } else {
        "UPDATE job_runs SET running_period = NULL, lease_until = NULL WHERE name = $2 AND running_period = $3 AND $1 = $1"
    };
    sqlx::query(sql).bind(now.to_db()).bind(name).bind(period).execute(&mut *conn).await?;
    Ok(())
}

/// Deletes sessions begun before `oldest` or idle since before `stale`, sign-in counts and
/// guards older than `day_ago` (unless still locked at `now`) and uploads never confirmed;
/// how many sessions.
pub async fn clean_up(
    conn: &mut Conn,
    oldest: Timestamp,
    stale: Timestamp,
    day_ago: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2")
        .bind(oldest.to_db())
        .bind(stale.to_db())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM login_attempts WHERE window_start < $1").bind(day_ago.to_db()).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM login_guard WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2)")
        .bind(day_ago.to_db())
        .bind(now.to_db())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM uploads WHERE created_at < $1").bind(day_ago.to_db()).execute(&mut *conn).await?;
    Ok(sessions)
}
