//! Findings of the cross-audit (倒查发现) and the rectification tasks (整改任务) they become.
//!
//! A finding is open until the safety auditor confirms it (it then becomes a task for the
//! responsible unit) or dismisses it with a reason; an open finding that the rules no longer
//! produce (the records were corrected) is resolved by itself. A task is closed with evidence;
//! past its deadline and still open it is overdue.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// 待核实
    Open,
    /// 已确认 (a task follows)
    Confirmed,
    /// 已排除 (with a reason)
    Dismissed,
    /// 已消除: the rules no longer produce it.
    Resolved,
}

impl FindingState {
    pub const ALL: [FindingState; 4] =
        [FindingState::Open, FindingState::Confirmed, FindingState::Dismissed, FindingState::Resolved];

    pub fn code(self) -> &'static str {
        match self {
            FindingState::Open => "open",
            FindingState::Confirmed => "confirmed",
            FindingState::Dismissed => "dismissed",
            FindingState::Resolved => "resolved",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        FindingState::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The auditor's decision on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    Confirm,
    Dismiss,
}

/// Whether a finding in `state` may be reviewed so, with this reason: only open findings are
/// reviewed, and a dismissal says why.
pub fn check_review(state: FindingState, review: Review, reason: &str) -> Result<FindingState, Violation> {
    if state != FindingState::Open {
        return Err(Violation::of(rules::FINDING_REVIEW).with("finding_state", state.code()));
    }
    match review {
        Review::Dismiss if reason.trim().is_empty() => Err(Violation::of(rules::FINDING_REVIEW).with("reason", "")),
        Review::Dismiss => Ok(FindingState::Dismissed),
        Review::Confirm => Ok(FindingState::Confirmed),
    }
}

/// A task is overdue from the day after its deadline while it is open.
pub fn overdue(open: bool, deadline: NaiveDate, today: NaiveDate) -> bool {
    open && today > deadline
}

/// A task closes only with evidence of the rectification.
pub fn check_close(open: bool, evidence: &str) -> Result<(), Violation> {
    if !open {
        return Err(Violation::of(rules::TASK_CLOSE).with("task_state", "closed"));
    }
    if evidence.trim().is_empty() {
        return Err(Violation::of(rules::TASK_CLOSE));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_open_findings_are_reviewed_and_a_dismissal_says_why() {
        assert_eq!(check_review(FindingState::Open, Review::Confirm, ""), Ok(FindingState::Confirmed));
        assert_eq!(check_review(FindingState::Open, Review::Dismiss, "工单录入错误"), Ok(FindingState::Dismissed));
        assert!(check_review(FindingState::Open, Review::Dismiss, "  ").is_err());
        for s in [FindingState::Confirmed, FindingState::Dismissed, FindingState::Resolved] {
            assert_eq!(check_review(s, Review::Confirm, "x").map_err(|v| v.rule.code), Err("FINDING_REVIEW"));
        }
    }

    #[test]
    fn tasks_close_with_evidence() {
        assert!(check_close(true, "已补签工作票并对责任人考核").is_ok());
        assert!(check_close(true, "").is_err());
        assert!(check_close(false, "x").is_err());
    }

    proptest! {
        /// Overdue exactly from the day after the deadline, and never once closed.
        #[test]
        fn overdue_from_the_day_after_the_deadline(deadline in 0i64..1000, today in 0i64..1000, open in any::<bool>()) {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
            let d = base + chrono::Duration::days(deadline);
            let t = base + chrono::Duration::days(today);
            prop_assert_eq!(overdue(open, d, t), open && today > deadline);
        }
    }
}
