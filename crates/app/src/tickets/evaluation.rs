//! Evaluation (评价) of executed tickets and the monthly pass rate per unit.

use chrono::{Datelike, NaiveDate};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::orders::{ORDER_TYPES, OrderType};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::State;
use gridsafe_domain::tickets::evaluation::{Counted, MonthStats, Verdict, check_verdict};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::{TicketReach, ticket};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Records the safety auditor's verdict on an executed ticket (again, if it was evaluated).
pub async fn evaluate(
    app: &App,
    cap: &Capability<perm::TicketsEvaluate>,
    meta: &RequestMeta,
    id: i64,
    verdict: Verdict,
    reasons: &[String],
    note: &str,
) -> Result<(), AppError> {
    let t = ticket(app, cap, id).await?;
    let known = super::eval_reasons(app).await?;
    let mut problems = Vec::new();
    for r in reasons {
        if !known.iter().any(|k| k.active && &k.code == r) {
            problems.push(FieldProblem::new("reasons", "field-eval-reason").with("value", r));
        }
    }
    if note.chars().count() > 500 {
        problems.push(FieldProblem::new("note", "field-name-length").with("max", 500));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    check_verdict(t.row.state, verdict, reasons)?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query(
        "UPDATE tickets SET verdict = $1, evaluated_at = $2, evaluated_by = $3, evaluation_note = $4 WHERE id = $5",
    )
    .bind(verdict.code())
    .bind(now.to_db())
    .bind(&cap.actor().name)
    .bind((!trim_blank(note).is_empty()).then(|| trim_blank(note)))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM ticket_eval_marks WHERE ticket_id = $1").bind(id).execute(&mut *tx).await?;
    for r in reasons {
        sqlx::query("INSERT INTO ticket_eval_marks (ticket_id, reason_code) VALUES ($1, $2)")
            .bind(id)
            .bind(r)
            .execute(&mut *tx)
            .await?;
    }
    let event = NewEvent::new("ticket.evaluated", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "verdict": verdict.code(), "reasons": reasons, "before": t.row.verdict,
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// One unit's month.
#[derive(Debug, Clone, Serialize)]
pub struct UnitMonth {
    pub unit_id: i64,
    pub unit_name: String,
    #[serde(flatten)]
    pub stats: MonthStats,
    /// 合格率 in percent, when anything was executed.
    pub pass_rate: Option<f64>,
    /// Tickets left at 工作终结 past their validity now, not closed by their permit giver.
    pub left_unclosed: u64,
}

/// The first day of `month` and of the month after.
fn month_bounds(month: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = month.with_day(1)?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
    };
    Some((first, next))
}

/// Per unit in reach, the tickets that ended in `month` (China time): executed ones with their
/// verdicts, 未执行 and 作废 beside; ordered by unit. The last row is the total.
pub async fn month_stats<P: TicketReach>(
    app: &App,
    cap: &Capability<P>,
    month: NaiveDate,
) -> Result<Vec<UnitMonth>, AppError> {
    let (first, next) = month_bounds(month).ok_or_else(|| AppError::invalid("month", "field-month"))?;
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    binds.push(Timestamp::start_of_local_day(first).to_db());
    binds.push(Timestamp::start_of_local_day(next).to_db());
    let n = binds.len();
    let must = app.tickets_config().must_evaluate_set();
    // The codes of the set, from the domain's own list: no user text reaches the SQL.
    let must_list = ORDER_TYPES
        .iter()
        .filter(|(_, _, t)| must.contains(*t))
        .map(|(code, _, _)| format!("'{code}'"))
        .chain(std::iter::once("''".to_owned()))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT t.unit_id, u.name, u.path, t.state, t.verdict, t.work_kind, \
         (SELECT COUNT(*) FROM ticket_orders o WHERE o.ticket_id = t.id AND o.order_type IN ({must_list})) AS must_orders \
         FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {clause} AND t.state IN ('closed', 'not_executed', 'void') AND t.finished_at >= ${} AND t.finished_at < ${n} \
         ORDER BY u.path",
        n - 1
    );
    let rows = gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await?;
    let mut out: Vec<UnitMonth> = Vec::new();
    let unit_month = |unit_id, unit_name| UnitMonth {
        unit_id,
        unit_name,
        stats: MonthStats::default(),
        pass_rate: None,
        left_unclosed: 0,
    };
    for r in rows {
        let unit_id: i64 = r.try_get(0)?;
        let state = State::from_code(&r.try_get::<String, _>(3)?).ok_or_else(|| AppError::internal("ticket state"))?;
        let verdict = r.try_get::<Option<String>, _>(4)?.as_deref().and_then(Verdict::from_code);
        // Its own work kind, or a linked order, of a kind that must be evaluated.
        let kind = OrderType::parse(&r.try_get::<String, _>("work_kind")?);
        let must_evaluate = kind.is_some_and(|k| must.contains(k)) || r.try_get::<i64, _>("must_orders")? > 0;
        if out.last().is_none_or(|u| u.unit_id != unit_id) {
            out.push(unit_month(unit_id, r.try_get(1)?));
        }
        if let Some(u) = out.last_mut() {
            u.stats.add(Counted { state, verdict, must_evaluate });
        }
    }
    // Left at 工作终结 past their validity, as of now: counted against the unit until closed.
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    binds.push(app.now().to_db());
    let sql = format!(
        "SELECT t.unit_id, u.name, COUNT(*) FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {clause} AND t.state = 'work_ended' AND COALESCE(t.extended_to, t.planned_end) < ${} GROUP BY t.unit_id, u.name",
        binds.len()
    );
    for r in gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await? {
        let unit_id: i64 = r.try_get(0)?;
        let count = u64::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0);
        match out.iter_mut().find(|u| u.unit_id == unit_id) {
            Some(u) => u.left_unclosed = count,
            None => out.push(UnitMonth { left_unclosed: count, ..unit_month(unit_id, r.try_get(1)?) }),
        }
    }
    let mut total = MonthStats::default();
    let mut unclosed = 0;
    for u in &mut out {
        u.pass_rate = u.stats.pass_rate();
        total.merge(&u.stats);
        unclosed += u.left_unclosed;
    }
    out.push(UnitMonth {
        pass_rate: total.pass_rate(),
        left_unclosed: unclosed,
        stats: total,
        ..unit_month(0, String::new())
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_end_where_the_next_begins() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(month_bounds(d("2026-12-15")), Some((d("2026-12-01"), d("2027-01-01"))));
        assert_eq!(month_bounds(d("2026-02-01")), Some((d("2026-02-01"), d("2026-03-01"))));
    }
}
