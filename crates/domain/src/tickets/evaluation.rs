//! Evaluation (评价) of executed tickets and the monthly pass rate (合格率).

use serde::{Deserialize, Serialize};

use super::State;
use crate::rules::{self, Violation};

/// The safety auditor's verdict on an executed ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 合格
    Pass,
    /// 不合格
    Fail,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "pass" => Some(Verdict::Pass),
            "fail" => Some(Verdict::Fail),
            _ => None,
        }
    }
}

/// Whether a ticket in `state` may get `verdict` with these reason codes: only executed
/// (closed) tickets are evaluated; 不合格 names at least one reason, 合格 none.
pub fn check_verdict(state: State, verdict: Verdict, reasons: &[String]) -> Result<(), Violation> {
    if state != State::Closed {
        return Err(Violation::of(rules::TICKET_EVALUATION).with("state", state.code()));
    }
    match (verdict, reasons.is_empty()) {
        (Verdict::Fail, true) => Err(Violation::of(rules::TICKET_EVALUATION).with("verdict", verdict.code())),
        (Verdict::Pass, false) => Err(Violation::of(rules::TICKET_EVALUATION).with("verdict", verdict.code())),
        _ => Ok(()),
    }
}

/// One ticket as the monthly statistics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub state: State,
    pub verdict: Option<Verdict>,
    /// 业扩 and 装表接电 tickets must all be evaluated.
    pub must_evaluate: bool,
    /// It named an item of the work plan (else it was 计划外作业).
    pub planned: bool,
}

/// A unit's month: executed tickets and their verdicts; 未执行 and 作废 counted beside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonthStats {
    pub executed: u64,
    pub passed: u64,
    pub failed: u64,
    pub unevaluated: u64,
    /// Unevaluated tickets of the kinds that must all be evaluated.
    pub must_unevaluated: u64,
    pub not_executed: u64,
    pub void: u64,
    /// Executed tickets that named no plan item: unplanned work (计划外作业).
    pub unplanned: u64,
}

impl MonthStats {
    pub fn add(&mut self, c: Counted) {
        match c.state {
            State::Closed => {
                self.executed += 1;
                if !c.planned {
                    self.unplanned += 1;
                }
                match c.verdict {
                    Some(Verdict::Pass) => self.passed += 1,
                    Some(Verdict::Fail) => self.failed += 1,
                    None => {
                        self.unevaluated += 1;
                        if c.must_evaluate {
                            self.must_unevaluated += 1;
                        }
                    }
                }
            }
            State::NotExecuted => self.not_executed += 1,
            State::Void => self.void += 1,
            _ => {}
        }
    }

    pub fn merge(&mut self, other: &MonthStats) {
        self.executed += other.executed;
        self.passed += other.passed;
        self.failed += other.failed;
        self.unevaluated += other.unevaluated;
        self.must_unevaluated += other.must_unevaluated;
        self.not_executed += other.not_executed;
        self.void += other.void;
        self.unplanned += other.unplanned;
    }

    /// 计划内作业占比 = (已执行 − 计划外) ÷ 已执行, in percent; `None` when nothing was executed.
    pub fn planned_share(&self) -> Option<f64> {
        (self.executed > 0).then(|| (self.executed - self.unplanned) as f64 * 100.0 / self.executed as f64)
    }

    /// 合格率 = 合格票数 ÷ 已执行票数, in percent; `None` when nothing was executed.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.executed > 0).then(|| self.passed as f64 * 100.0 / self.executed as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_closed_tickets_are_evaluated_and_a_fail_names_its_reasons() {
        assert!(check_verdict(State::Closed, Verdict::Pass, &[]).is_ok());
        assert!(check_verdict(State::Closed, Verdict::Fail, &["R03".into()]).is_ok());
        assert!(check_verdict(State::Closed, Verdict::Fail, &[]).is_err());
        assert!(check_verdict(State::Closed, Verdict::Pass, &["R03".into()]).is_err());
        for s in State::ALL.into_iter().filter(|s| *s != State::Closed) {
            assert_eq!(check_verdict(s, Verdict::Pass, &[]).map_err(|v| v.rule.code), Err("TICKET_EVALUATION"));
        }
    }

    #[test]
    fn rate_counts_executed_only() {
        let mut m = MonthStats::default();
        let c = |state, verdict, must_evaluate| Counted { state, verdict, must_evaluate, planned: true };
        m.add(c(State::Closed, Some(Verdict::Pass), true));
        m.add(Counted { planned: false, ..c(State::Closed, Some(Verdict::Pass), false) });
        m.add(Counted { planned: false, ..c(State::Void, None, false) });
        m.add(c(State::Closed, Some(Verdict::Fail), false));
        m.add(c(State::Closed, None, true));
        m.add(c(State::NotExecuted, None, true));
        m.add(c(State::Void, None, false));
        m.add(c(State::Started, None, false));
        assert_eq!((m.executed, m.passed, m.failed, m.unevaluated, m.must_unevaluated), (4, 2, 1, 1, 1));
        assert_eq!((m.not_executed, m.void), (1, 2));
        assert_eq!(m.pass_rate(), Some(50.0));
        assert_eq!(MonthStats::default().pass_rate(), None);
        // Only executed work counts as unplanned work: the voided unplanned ticket did not happen.
        assert_eq!(m.unplanned, 1);
        assert_eq!(m.planned_share(), Some(75.0));
        assert_eq!(MonthStats::default().planned_share(), None);
    }

    proptest! {
        /// Counts always add up and the rate stays within 0–100.
        #[test]
        fn counts_add_up(items in proptest::collection::vec((0usize..10, 0u8..3, any::<bool>(), any::<bool>()), 0..60)) {
            let mut m = MonthStats::default();
            for (s, v, must, planned) in &items {
                let verdict = match v { 0 => None, 1 => Some(Verdict::Pass), _ => Some(Verdict::Fail) };
                m.add(Counted { state: State::ALL[*s], verdict, must_evaluate: *must, planned: *planned });
            }
            prop_assert!(m.unplanned <= m.executed);
            if let Some(r) = m.planned_share() { prop_assert!((0.0..=100.0).contains(&r)); }
            prop_assert_eq!(m.executed, m.passed + m.failed + m.unevaluated);
            prop_assert!(m.must_unevaluated <= m.unevaluated);
            let closed = items.iter().filter(|(s, _, _, _)| State::ALL[*s] == State::Closed).count() as u64;
            prop_assert_eq!(m.executed, closed);
            if let Some(r) = m.pass_rate() { prop_assert!((0.0..=100.0).contains(&r)); }
        }
    }
}
