//! Evaluation (评价) of executed tickets and the monthly pass rate per unit.

use chrono::{Datelike, NaiveDate};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::orders::{ORDER_TYPES, OrderType};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::tickets::evaluation::{Counted, MonthStats, Verdict, check_verdict};
use gridsafe_domain::time::Timestamp;
use gridsafe_store::tickets as store;
use serde::Serialize;

use super::{TicketReach, load};
use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Records the safety auditor's verdict on an executed ticket (again, if it was evaluated).
pub async fn evaluate(
    app: &App,
    cap: &Capability<perm::TicketsEvaluate>,
    meta: &RequestMeta,
    id: TicketId,
    verdict: Verdict,
    reasons: &[String],
    note: &str,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = load(app, work.conn(), cap, id, true).await?;
    let known = store::eval_reasons(work.conn()).await?;
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
    let now = work.now();
    let note = Some(trim_blank(note)).filter(|n| !n.is_empty());
    store::set_verdict(work.conn(), id, verdict.code(), reasons, &cap.actor().name, note, now).await?;
    work.audit(NewEvent::new("ticket.evaluated", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "verdict": verdict.code(), "reasons": reasons, "before": t.row.verdict,
    })))
    .await?;
    work.commit().await
}

/// One unit's month.
#[derive(Debug, Clone, Serialize)]
pub struct UnitMonth {
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(flatten)]
    pub stats: MonthStats,
    /// 合格率 in percent, when anything was executed.
    pub pass_rate: Option<f64>,
    /// Tickets left at 工作终结 past their validity now, not closed by their permit giver.
    pub left_unclosed: u64,
}

/// The id the all-units row carries (no unit has it).
const TOTAL: UnitId = UnitId::new(0);

impl UnitMonth {
    /// The last row: every unit together.
    pub fn is_total(&self) -> bool {
        self.unit_id == TOTAL
    }
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
    let must = app.tickets_config().must_evaluate_set();
    let must_kinds: Vec<OrderType> = ORDER_TYPES.iter().map(|(_, _, t)| *t).filter(|t| must.contains(*t)).collect();
    let mut conn = app.db().read().await?;
    let (from, to) = (Timestamp::start_of_local_day(first), Timestamp::start_of_local_day(next));
    let ended = store::ended(&mut conn, cap.scope(), from, to, &must_kinds).await?;
    let mut out: Vec<UnitMonth> = Vec::new();
    let unit_month = |unit_id, unit_name| UnitMonth {
        unit_id,
        unit_name,
        stats: MonthStats::default(),
        pass_rate: None,
        left_unclosed: 0,
    };
    for t in ended {
        // Its own work kind, or a linked order, of a kind that must be evaluated.
        let must_evaluate = must.contains(t.work_kind) || t.must_orders > 0;
        let verdict = t.verdict.as_deref().and_then(Verdict::from_code);
        if out.last().is_none_or(|u| u.unit_id != t.unit_id) {
            out.push(unit_month(t.unit_id, t.unit_name));
        }
        if let Some(u) = out.last_mut() {
            u.stats.add(Counted { state: t.state, verdict, must_evaluate, planned: t.planned });
        }
    }
    // Left at 工作终结 past their validity, as of now: counted against the unit until closed.
    for (unit_id, unit_name, count) in store::left_unclosed(&mut conn, cap.scope(), app.now()).await? {
        let count = u64::try_from(count).unwrap_or(0);
        match out.iter_mut().find(|u| u.unit_id == unit_id) {
            Some(u) => u.left_unclosed = count,
            None => out.push(UnitMonth { left_unclosed: count, ..unit_month(unit_id, unit_name) }),
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
        ..unit_month(TOTAL, String::new())
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
