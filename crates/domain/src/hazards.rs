//! Hazards (隐患) and their closed loop: one state machine for grid-side and customer-side
//! hazards, every refused step naming its rule; overdue escalation (督办) by date.
//!
//! Grid side: 登记 → 整改计划 → 整改中 → 复查 → 销号. Customer side: 登记 → 通知书 → 客户签收 →
//! 报备 (county-or-above power authority) → 整改中 → 复查 → 销号. A failed review returns to
//! 整改中. Research brief §3 [INF] state machine; article §4.1, §4.4.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};

/// Who must rectify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    Grid,
    Customer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardState {
    /// 登记
    Registered,
    /// 已制定整改计划 (grid side)
    Planned,
    /// 已发整改通知书 (customer side)
    Notified,
    /// 客户已签收
    ReceiptSigned,
    /// 已报备政府电力管理部门
    Filed,
    /// 整改中
    Rectifying,
    /// 复查中
    Reviewing,
    /// 销号
    Closed,
}

impl HazardState {
    pub fn code(self) -> &'static str {
        match self {
            HazardState::Registered => "registered",
            HazardState::Planned => "planned",
            HazardState::Notified => "notified",
            HazardState::ReceiptSigned => "receipt_signed",
            HazardState::Filed => "filed",
            HazardState::Rectifying => "rectifying",
            HazardState::Reviewing => "reviewing",
            HazardState::Closed => "closed",
        }
    }
}

/// A step of the loop, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum HazardStep {
    /// Grid side: the rectification plan, its owner and deadline.
    Plan { deadline: NaiveDate },
    /// Customer side: the printed 整改通知书 with its deadline.
    Notify { deadline: NaiveDate },
    /// The customer's signed receipt.
    SignReceipt,
    /// Filing with the county-or-above power authority: date and reference.
    File { on: NaiveDate, reference: String },
    /// Rectification starts.
    Rectify,
    /// Rectification reported done; review (复查) follows.
    SubmitForReview,
    /// The review's verdict: passed closes the hazard (销号, evidence required), failed returns it.
    Review { passed: bool, evidence: bool },
}

impl HazardStep {
    pub fn code(&self) -> &'static str {
        match self {
            HazardStep::Plan { .. } => "plan",
            HazardStep::Notify { .. } => "notify",
            HazardStep::SignReceipt => "sign_receipt",
            HazardStep::File { .. } => "file",
            HazardStep::Rectify => "rectify",
            HazardStep::SubmitForReview => "submit_for_review",
            HazardStep::Review { .. } => "review",
        }
    }
}

/// Which road a hazard takes: who rectifies, and whether it is filed with the power authority
/// before rectification. A customer's hazard always is (article §4.1, §4.4); a grid-side one when
/// its grade says so (重大隐患 by default: research brief §3 [INF], the NEA supervises major
/// hazards directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Road {
    pub responsibility: Responsibility,
    pub grade_files: bool,
}

impl Road {
    pub fn files(self) -> bool {
        self.responsibility == Responsibility::Customer || self.grade_files
    }
}

/// The state `step` leads to from `state` for a hazard on this road, on `today`; or the rule
/// that refuses it.
pub fn step(road: Road, state: HazardState, step: &HazardStep, today: NaiveDate) -> Result<HazardState, Violation> {
    use HazardState as S;
    let responsibility = road.responsibility;
    let filed_from = match responsibility {
        Responsibility::Customer => S::ReceiptSigned,
        Responsibility::Grid => S::Planned,
    };
    let wrong = || {
        let rule = match (responsibility, state, step) {
            // Rectification before the filing is the rule the article names.
            (Responsibility::Customer, S::Notified | S::ReceiptSigned, HazardStep::Rectify) => rules::HAZARD_FILING,
            (Responsibility::Grid, S::Planned, HazardStep::Rectify) if road.files() => rules::HAZARD_FILING,
            _ => rules::HAZARD_STATE,
        };
        Violation::of(rule).with("step", step.code()).with("state", state.code())
    };
    let next = match (responsibility, state, step) {
        (Responsibility::Grid, S::Registered, HazardStep::Plan { deadline })
        | (Responsibility::Customer, S::Registered, HazardStep::Notify { deadline }) => {
            if *deadline < today {
                return Err(Violation::of(rules::HAZARD_DEADLINE).with("until", deadline));
            }
            if matches!(step, HazardStep::Plan { .. }) { S::Planned } else { S::Notified }
        }
        (Responsibility::Customer, S::Notified, HazardStep::SignReceipt) => S::ReceiptSigned,
        (_, from, HazardStep::File { on, reference }) if from == filed_from && road.files() => {
            if reference.trim().is_empty() || *on > today {
                return Err(Violation::of(rules::HAZARD_FILING).with("day", on));
            }
            S::Filed
        }
        (Responsibility::Grid, S::Planned, HazardStep::Rectify) if !road.files() => S::Rectifying,
        (_, S::Filed, HazardStep::Rectify) => S::Rectifying,
        (_, S::Rectifying, HazardStep::SubmitForReview) => S::Reviewing,
        (_, S::Reviewing, HazardStep::Review { passed: false, .. }) => S::Rectifying,
        (_, S::Reviewing, HazardStep::Review { passed: true, evidence }) => {
            if !evidence {
                return Err(Violation::of(rules::TASK_CLOSE));
            }
            S::Closed
        }
        _ => return Err(wrong()),
    };
    Ok(next)
}

/// How many levels up an open hazard is escalated (督办) on `today`: none until its deadline has
/// passed, then one level, and one more for every further `every_days` overdue, up to `max`.
pub fn escalation(state: HazardState, deadline: Option<NaiveDate>, today: NaiveDate, every_days: u32, max: u32) -> u32 {
    let Some(deadline) = deadline.filter(|_| state != HazardState::Closed) else { return 0 };
    let late = (today - deadline).num_days();
    if late <= 0 {
        return 0;
    }
    let every = i64::from(every_days.max(1));
    u32::try_from(1 + (late - 1) / every).unwrap_or(u32::MAX).min(max)
}

impl HazardState {
    pub fn from_code(code: &str) -> Option<Self> {
        [
            HazardState::Registered,
            HazardState::Planned,
            HazardState::Notified,
            HazardState::ReceiptSigned,
            HazardState::Filed,
            HazardState::Rectifying,
            HazardState::Reviewing,
            HazardState::Closed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

impl Responsibility {
    pub fn code(self) -> &'static str {
        match self {
            Responsibility::Grid => "grid",
            Responsibility::Customer => "customer",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "grid" => Some(Responsibility::Grid),
            "customer" => Some(Responsibility::Customer),
            _ => None,
        }
    }
}

/// The steps that may follow `state` for a hazard on this road (what a page offers).
pub fn next_steps(road: Road, state: HazardState) -> &'static [&'static str] {
    use HazardState as S;
    match (road.responsibility, state) {
        (Responsibility::Grid, S::Registered) => &["plan"],
        (Responsibility::Customer, S::Registered) => &["notify"],
        (Responsibility::Customer, S::Notified) => &["sign_receipt"],
        (Responsibility::Customer, S::ReceiptSigned) => &["file"],
        (Responsibility::Grid, S::Planned) if road.files() => &["file"],
        (Responsibility::Grid, S::Planned) | (_, S::Filed) => &["rectify"],
        (_, S::Rectifying) => &["submit_for_review"],
        (_, S::Reviewing) => &["review"],
        _ => &[],
    }
}

/// Equipment sealed for a hazard is unsealed only once that hazard is closed (销号).
pub fn check_unseal(hazard: HazardState) -> Result<(), Violation> {
    if hazard == HazardState::Closed {
        Ok(())
    } else {
        Err(Violation::of(rules::SEAL_HAZARD_OPEN).with("state", hazard.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_customer_hazard_is_filed_before_rectification() {
        let today = d("2026-11-26");
        // Whatever its grade says, a customer's hazard is filed.
        let c = Road { responsibility: Responsibility::Customer, grade_files: false };
        let mut s = HazardState::Registered;
        s = step(c, s, &HazardStep::Notify { deadline: d("2026-12-26") }, today).expect("notify");
        s = step(c, s, &HazardStep::SignReceipt, today).expect("receipt");
        let early = step(c, s, &HazardStep::Rectify, today).expect_err("not filed");
        assert_eq!(early.rule.code, "HAZARD_FILING");
        let blank = step(c, s, &HazardStep::File { on: today, reference: " ".into() }, today);
        assert_eq!(blank.map_err(|v| v.rule.code), Err("HAZARD_FILING"));
        s = step(c, s, &HazardStep::File { on: today, reference: "孝电力〔2026〕12号".into() }, today).expect("file");
        s = step(c, s, &HazardStep::Rectify, today).expect("rectify");
        s = step(c, s, &HazardStep::SubmitForReview, today).expect("submit");
        s = step(c, s, &HazardStep::Review { passed: false, evidence: true }, today).expect("failed review");
        assert_eq!(s, HazardState::Rectifying);
        s = step(c, s, &HazardStep::SubmitForReview, today).expect("submit");
        assert_eq!(
            step(c, s, &HazardStep::Review { passed: true, evidence: false }, today).map_err(|v| v.rule.code),
            Err("TASK_CLOSE")
        );
        s = step(c, s, &HazardStep::Review { passed: true, evidence: true }, today).expect("close");
        assert_eq!(s, HazardState::Closed);
    }

    #[test]
    fn grid_hazards_take_a_plan_not_a_notice() {
        let today = d("2026-11-26");
        let g = Road { responsibility: Responsibility::Grid, grade_files: false };
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Notify { deadline: today }, today).map_err(|v| v.rule.code),
            Err("HAZARD_STATE")
        );
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Plan { deadline: d("2026-11-25") }, today)
                .map_err(|v| v.rule.code),
            Err("HAZARD_DEADLINE"),
            "a deadline in the past"
        );
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Plan { deadline: today }, today),
            Ok(HazardState::Planned)
        );
    }

    #[test]
    fn a_major_grid_hazard_is_filed_too() {
        let today = d("2026-11-26");
        let major = Road { responsibility: Responsibility::Grid, grade_files: true };
        let s = step(major, HazardState::Registered, &HazardStep::Plan { deadline: today }, today).expect("plan");
        assert_eq!(step(major, s, &HazardStep::Rectify, today).map_err(|v| v.rule.code), Err("HAZARD_FILING"));
        assert_eq!(next_steps(major, s), ["file"]);
        let s = step(major, s, &HazardStep::File { on: today, reference: "孝经信电〔2026〕9号".into() }, today)
            .expect("file");
        assert_eq!(step(major, s, &HazardStep::Rectify, today), Ok(HazardState::Rectifying));
        let general = Road { grade_files: false, ..major };
        assert_eq!(step(general, HazardState::Planned, &HazardStep::Rectify, today), Ok(HazardState::Rectifying));
        assert_eq!(
            step(general, HazardState::Planned, &HazardStep::File { on: today, reference: "x".into() }, today)
                .map_err(|v| v.rule.code),
            Err("HAZARD_STATE"),
            "nothing to file"
        );
    }

    #[test]
    fn escalation_starts_the_day_after_the_deadline() {
        let deadline = Some(d("2026-11-30"));
        assert_eq!(escalation(HazardState::Rectifying, deadline, d("2026-11-30"), 7, 3), 0);
        assert_eq!(escalation(HazardState::Rectifying, deadline, d("2026-12-01"), 7, 3), 1);
        assert_eq!(escalation(HazardState::Rectifying, deadline, d("2026-12-08"), 7, 3), 2);
        assert_eq!(escalation(HazardState::Rectifying, deadline, d("2027-06-01"), 7, 3), 3, "capped");
        assert_eq!(escalation(HazardState::Closed, deadline, d("2027-06-01"), 7, 3), 0);
    }

    #[test]
    fn unsealing_waits_for_the_closed_hazard() {
        assert_eq!(check_unseal(HazardState::Reviewing).map_err(|v| v.rule.code), Err("SEAL_HAZARD_OPEN"));
        assert_eq!(check_unseal(HazardState::Closed), Ok(()));
    }

    proptest! {
        /// The steps a page offers are exactly those the machine accepts (for well-formed input).
        #[test]
        fn offered_steps_are_the_accepted_ones(s in 0usize..8, customer in any::<bool>(), files in any::<bool>()) {
            let states = [HazardState::Registered, HazardState::Planned, HazardState::Notified, HazardState::ReceiptSigned,
                HazardState::Filed, HazardState::Rectifying, HazardState::Reviewing, HazardState::Closed];
            let today = d("2026-11-26");
            let all = [HazardStep::Plan { deadline: today }, HazardStep::Notify { deadline: today }, HazardStep::SignReceipt,
                HazardStep::File { on: today, reference: "x".into() }, HazardStep::Rectify, HazardStep::SubmitForReview,
                HazardStep::Review { passed: true, evidence: true }];
            let r = Road { responsibility: if customer { Responsibility::Customer } else { Responsibility::Grid }, grade_files: files };
            for st in &all {
                let accepted = step(r, states[s], st, today).is_ok();
                prop_assert_eq!(accepted, next_steps(r, states[s]).contains(&st.code()), "{:?} {:?}", states[s], st);
            }
        }

        /// Escalation never falls as time passes, and never happens on or before the deadline.
        #[test]
        fn escalation_grows_with_time(deadline in 0i64..400, a in 0i64..800, b in 0i64..800, every in 1u32..30) {
            let base = d("2026-01-01");
            let dl = Some(base + chrono::Duration::days(deadline));
            let (t1, t2) = (base + chrono::Duration::days(a.min(b)), base + chrono::Duration::days(a.max(b)));
            let (e1, e2) = (escalation(HazardState::Rectifying, dl, t1, every, 5), escalation(HazardState::Rectifying, dl, t2, every, 5));
            prop_assert!(e1 <= e2);
            if a.min(b) <= deadline { prop_assert_eq!(e1, 0); } else { prop_assert!(e1 >= 1); }
        }

        /// From any state, any step either is refused or leads somewhere the machine allows; no
        /// step leaves 销号.
        #[test]
        fn closed_is_final(s in 0usize..8, k in 0usize..7, customer in any::<bool>(), files in any::<bool>()) {
            let states = [HazardState::Registered, HazardState::Planned, HazardState::Notified, HazardState::ReceiptSigned,
                HazardState::Filed, HazardState::Rectifying, HazardState::Reviewing, HazardState::Closed];
            let today = d("2026-11-26");
            let steps = [HazardStep::Plan { deadline: today }, HazardStep::Notify { deadline: today }, HazardStep::SignReceipt,
                HazardStep::File { on: today, reference: "x".into() }, HazardStep::Rectify, HazardStep::SubmitForReview,
                HazardStep::Review { passed: true, evidence: true }];
            let r = Road { responsibility: if customer { Responsibility::Customer } else { Responsibility::Grid }, grade_files: files };
            let got = step(r, states[s], &steps[k], today);
            if states[s] == HazardState::Closed { prop_assert!(got.is_err()); }
            if let Ok(next) = got { prop_assert_ne!(next, states[s]); }
        }
    }
}
