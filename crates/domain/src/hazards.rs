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
    /// 客户拒签 (delivery recorded with a witness and a photo)
    ReceiptRefused,
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
            HazardState::ReceiptRefused => "receipt_refused",
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
    /// The customer refused to sign: the day, how the notice was delivered, the witness, and
    /// whether a photo of the delivery is kept.
    RefuseReceipt { on: NaiveDate, delivery: String, witness: String, photo: bool },
    /// Filing with the county-or-above power authority: date and reference.
    File { on: NaiveDate, reference: String },
    /// Rectification starts.
    Rectify,
    /// Rectification reported done; review (复查) follows.
    SubmitForReview,
    /// The review's verdict: passed closes the hazard (销号, evidence required), failed returns it.
    Review { passed: bool, evidence: bool },
}

/// The kind of a step of the closed loop, without what it carries: the one list of its codes,
/// which forms, the API and the history use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardStepKind {
    Plan,
    Notify,
    SignReceipt,
    RefuseReceipt,
    File,
    Rectify,
    SubmitForReview,
    Review,
}

impl HazardStepKind {
    /// Every kind, in the order of the loop.
    pub const ALL: [HazardStepKind; 8] = [
        HazardStepKind::Plan,
        HazardStepKind::Notify,
        HazardStepKind::SignReceipt,
        HazardStepKind::RefuseReceipt,
        HazardStepKind::File,
        HazardStepKind::Rectify,
        HazardStepKind::SubmitForReview,
        HazardStepKind::Review,
    ];

    pub fn code(self) -> &'static str {
        match self {
            HazardStepKind::Plan => "plan",
            HazardStepKind::Notify => "notify",
            HazardStepKind::SignReceipt => "sign_receipt",
            HazardStepKind::RefuseReceipt => "refuse_receipt",
            HazardStepKind::File => "file",
            HazardStepKind::Rectify => "rectify",
            HazardStepKind::SubmitForReview => "submit_for_review",
            HazardStepKind::Review => "review",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl HazardStep {
    pub fn kind(&self) -> HazardStepKind {
        match self {
            HazardStep::Plan { .. } => HazardStepKind::Plan,
            HazardStep::Notify { .. } => HazardStepKind::Notify,
            HazardStep::SignReceipt => HazardStepKind::SignReceipt,
            HazardStep::RefuseReceipt { .. } => HazardStepKind::RefuseReceipt,
            HazardStep::File { .. } => HazardStepKind::File,
            HazardStep::Rectify => HazardStepKind::Rectify,
            HazardStep::SubmitForReview => HazardStepKind::SubmitForReview,
            HazardStep::Review { .. } => HazardStepKind::Review,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
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
/// that refuses it. `limit` is the latest deadline the plan or notice may set: the grade's days
/// from registration, or a later day a manager approved.
pub fn step(
    road: Road,
    state: HazardState,
    step: &HazardStep,
    today: NaiveDate,
    limit: NaiveDate,
) -> Result<HazardState, Violation> {
    use HazardState as S;
    let responsibility = road.responsibility;
    let filed_from: &[S] = match responsibility {
        Responsibility::Customer => &[S::ReceiptSigned, S::ReceiptRefused],
        Responsibility::Grid => &[S::Planned],
    };
    let wrong = || {
        let rule = match (responsibility, state, step) {
            // Rectification before the filing is the rule the article names.
            (Responsibility::Customer, S::Notified | S::ReceiptSigned | S::ReceiptRefused, HazardStep::Rectify) => {
                rules::HAZARD_FILING
            }
            (Responsibility::Grid, S::Planned, HazardStep::Rectify) if road.files() => rules::HAZARD_FILING,
            _ => rules::HAZARD_STATE,
        };
        Violation::of(rule).with("hazard_step", step.code()).with("hazard_state", state.code())
    };
    let next = match (responsibility, state, step) {
        (Responsibility::Grid, S::Registered, HazardStep::Plan { deadline })
        | (Responsibility::Customer, S::Registered, HazardStep::Notify { deadline }) => {
            if *deadline < today {
                return Err(Violation::of(rules::HAZARD_DEADLINE).with("until", deadline));
            }
            if *deadline > limit {
                return Err(Violation::of(rules::HAZARD_DEADLINE_LIMIT).with("latest", limit));
            }
            if matches!(step, HazardStep::Plan { .. }) { S::Planned } else { S::Notified }
        }
        (Responsibility::Customer, S::Notified, HazardStep::SignReceipt) => S::ReceiptSigned,
        (Responsibility::Customer, S::Notified, HazardStep::RefuseReceipt { on, delivery, witness, photo }) => {
            let mut missing = Vec::new();
            if delivery.trim().is_empty() {
                missing.push("delivery");
            }
            if witness.trim().is_empty() {
                missing.push("witness");
            }
            if !photo {
                missing.push("photo");
            }
            if *on > today {
                missing.push("day");
            }
            if !missing.is_empty() {
                return Err(Violation::of(rules::HAZARD_RECEIPT_REFUSED).with("missing", missing.join(",")));
            }
            S::ReceiptRefused
        }
        (_, from, HazardStep::File { on, reference }) if filed_from.contains(&from) && road.files() => {
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

/// The day by which the next thing is due: a grid-side hazard still waiting for its rectification
/// plan must get it within `plan_days` of registration (article §4.1: 立即制定整改计划), else the
/// rectification deadline counts.
pub fn due(road: Road, state: HazardState, registered: NaiveDate, deadline: NaiveDate, plan_days: u32) -> NaiveDate {
    if road.responsibility == Responsibility::Grid && state == HazardState::Registered {
        deadline.min(registered + chrono::Duration::days(i64::from(plan_days)))
    } else {
        deadline
    }
}

/// Whether a later deadline may be requested: the hazard is open, the day is after the one in
/// force, and the reason is given. It takes effect only when a manager other than the requester
/// approves it ([`check_approval`]).
pub fn check_extension(
    state: HazardState,
    current: NaiveDate,
    requested: NaiveDate,
    reason: &str,
) -> Result<(), Violation> {
    if state == HazardState::Closed {
        return Err(Violation::of(rules::HAZARD_STATE).with("hazard_state", state.code()));
    }
    if requested <= current || reason.trim().is_empty() {
        return Err(Violation::of(rules::HAZARD_DEADLINE_LIMIT).with("until", current));
    }
    Ok(())
}

/// A later deadline is approved by a manager who did not ask for it.
pub fn check_approval(requested_by: &str, approver: &str) -> Result<(), Violation> {
    if requested_by == approver {
        return Err(Violation::of(rules::HAZARD_DEADLINE_LIMIT).with("approver", approver));
    }
    Ok(())
}

/// How many levels up an open hazard is escalated (督办) on `today`: none until its due day has
/// passed, then one level, and one more for every further `every_days` overdue, up to `max`.
pub fn escalation(state: HazardState, due: Option<NaiveDate>, today: NaiveDate, every_days: u32, max: u32) -> u32 {
    let Some(deadline) = due.filter(|_| state != HazardState::Closed) else { return 0 };
    let late = (today - deadline).num_days();
    if late <= 0 {
        return 0;
    }
    let every = i64::from(every_days.max(1));
    u32::try_from(1 + (late - 1) / every).unwrap_or(u32::MAX).min(max)
}

impl HazardState {
    pub const ALL: [HazardState; 9] = [
        HazardState::Registered,
        HazardState::Planned,
        HazardState::Notified,
        HazardState::ReceiptSigned,
        HazardState::ReceiptRefused,
        HazardState::Filed,
        HazardState::Rectifying,
        HazardState::Reviewing,
        HazardState::Closed,
    ];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
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
        (Responsibility::Customer, S::Notified) => &["sign_receipt", "refuse_receipt"],
        (Responsibility::Customer, S::ReceiptSigned | S::ReceiptRefused) => &["file"],
        (Responsibility::Grid, S::Planned) if road.files() => &["file"],
        (Responsibility::Grid, S::Planned) | (_, S::Filed) => &["rectify"],
        (_, S::Rectifying) => &["submit_for_review"],
        (_, S::Reviewing) => &["review"],
        _ => &[],
    }
}

/// Equipment is sealed only for an open hazard of the customer's own responsibility: 封存 is a
/// measure against a violating customer's equipment (article §4.2).
pub fn check_seal(responsibility: Responsibility, state: HazardState) -> Result<(), Violation> {
    if responsibility != Responsibility::Customer {
        return Err(Violation::of(rules::SEAL_CUSTOMER_ONLY));
    }
    if state == HazardState::Closed {
        return Err(Violation::of(rules::HAZARD_STATE).with("hazard_step", "seal").with("hazard_state", state.code()));
    }
    Ok(())
}

/// Equipment sealed for a hazard is unsealed only once that hazard is closed (销号).
pub fn check_unseal(hazard: HazardState) -> Result<(), Violation> {
    if hazard == HazardState::Closed {
        Ok(())
    } else {
        Err(Violation::of(rules::SEAL_HAZARD_OPEN).with("hazard_state", hazard.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    /// A limit far enough not to matter.
    fn far() -> NaiveDate {
        d("2030-12-31")
    }

    fn refusal(on: NaiveDate, photo: bool) -> HazardStep {
        HazardStep::RefuseReceipt { on, delivery: "留置送达".into(), witness: "村委会 王主任".into(), photo }
    }

    #[test]
    fn a_customer_hazard_is_filed_before_rectification() {
        let today = d("2026-11-26");
        // Whatever its grade says, a customer's hazard is filed.
        let c = Road { responsibility: Responsibility::Customer, grade_files: false };
        let mut s = HazardState::Registered;
        s = step(c, s, &HazardStep::Notify { deadline: d("2026-12-26") }, today, far()).expect("notify");
        s = step(c, s, &HazardStep::SignReceipt, today, far()).expect("receipt");
        let early = step(c, s, &HazardStep::Rectify, today, far()).expect_err("not filed");
        assert_eq!(early.rule.code, "HAZARD_FILING");
        let blank = step(c, s, &HazardStep::File { on: today, reference: " ".into() }, today, far());
        assert_eq!(blank.map_err(|v| v.rule.code), Err("HAZARD_FILING"));
        s = step(c, s, &HazardStep::File { on: today, reference: "孝电力〔2026〕12号".into() }, today, far())
            .expect("file");
        s = step(c, s, &HazardStep::Rectify, today, far()).expect("rectify");
        s = step(c, s, &HazardStep::SubmitForReview, today, far()).expect("submit");
        s = step(c, s, &HazardStep::Review { passed: false, evidence: true }, today, far()).expect("failed review");
        assert_eq!(s, HazardState::Rectifying);
        s = step(c, s, &HazardStep::SubmitForReview, today, far()).expect("submit");
        assert_eq!(
            step(c, s, &HazardStep::Review { passed: true, evidence: false }, today, far()).map_err(|v| v.rule.code),
            Err("TASK_CLOSE")
        );
        s = step(c, s, &HazardStep::Review { passed: true, evidence: true }, today, far()).expect("close");
        assert_eq!(s, HazardState::Closed);
    }

    #[test]
    fn grid_hazards_take_a_plan_not_a_notice() {
        let today = d("2026-11-26");
        let g = Road { responsibility: Responsibility::Grid, grade_files: false };
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Notify { deadline: today }, today, far())
                .map_err(|v| v.rule.code),
            Err("HAZARD_STATE")
        );
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Plan { deadline: d("2026-11-25") }, today, far())
                .map_err(|v| v.rule.code),
            Err("HAZARD_DEADLINE"),
            "a deadline in the past"
        );
        assert_eq!(
            step(g, HazardState::Registered, &HazardStep::Plan { deadline: today }, today, far()),
            Ok(HazardState::Planned)
        );
    }

    #[test]
    fn a_major_grid_hazard_is_filed_too() {
        let today = d("2026-11-26");
        let major = Road { responsibility: Responsibility::Grid, grade_files: true };
        let s =
            step(major, HazardState::Registered, &HazardStep::Plan { deadline: today }, today, far()).expect("plan");
        assert_eq!(step(major, s, &HazardStep::Rectify, today, far()).map_err(|v| v.rule.code), Err("HAZARD_FILING"));
        assert_eq!(next_steps(major, s), ["file"]);
        let s = step(major, s, &HazardStep::File { on: today, reference: "孝经信电〔2026〕9号".into() }, today, far())
            .expect("file");
        assert_eq!(step(major, s, &HazardStep::Rectify, today, far()), Ok(HazardState::Rectifying));
        let general = Road { grade_files: false, ..major };
        assert_eq!(
            step(general, HazardState::Planned, &HazardStep::Rectify, today, far()),
            Ok(HazardState::Rectifying)
        );
        assert_eq!(
            step(general, HazardState::Planned, &HazardStep::File { on: today, reference: "x".into() }, today, far())
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
    fn a_refused_notice_is_recorded_and_filed_all_the_same() {
        let today = d("2026-11-26");
        let c = Road { responsibility: Responsibility::Customer, grade_files: false };
        let s = step(c, HazardState::Registered, &HazardStep::Notify { deadline: d("2026-12-26") }, today, far())
            .expect("notify");
        assert_eq!(next_steps(c, s), ["sign_receipt", "refuse_receipt"]);
        let no_photo = step(c, s, &refusal(today, false), today, far()).expect_err("no photo");
        assert_eq!(no_photo.rule.code, "HAZARD_RECEIPT_REFUSED");
        assert!(no_photo.args.contains(&("missing", "photo".into())));
        let blank = HazardStep::RefuseReceipt { on: today, delivery: " ".into(), witness: String::new(), photo: true };
        assert_eq!(
            step(c, s, &blank, today, far()).expect_err("blank").args,
            [("missing", "delivery,witness".to_owned())]
        );
        assert!(step(c, s, &refusal(d("2026-11-27"), true), today, far()).is_err(), "a day ahead");
        let s = step(c, s, &refusal(today, true), today, far()).expect("refused and recorded");
        assert_eq!(s, HazardState::ReceiptRefused);
        assert_eq!(step(c, s, &HazardStep::Rectify, today, far()).map_err(|v| v.rule.code), Err("HAZARD_FILING"));
        let s = step(c, s, &HazardStep::File { on: today, reference: "孝电力〔2026〕31号".into() }, today, far())
            .expect("filed");
        assert_eq!(step(c, s, &HazardStep::Rectify, today, far()), Ok(HazardState::Rectifying));
    }

    #[test]
    fn the_deadline_stays_within_the_grade_unless_approved() {
        let today = d("2026-11-26");
        let g = Road { responsibility: Responsibility::Grid, grade_files: false };
        let limit = d("2027-02-24");
        let plan = |deadline| step(g, HazardState::Registered, &HazardStep::Plan { deadline }, today, limit);
        assert_eq!(plan(limit), Ok(HazardState::Planned), "the grade's last day");
        let late = plan(d("2027-02-25")).expect_err("a day later");
        assert_eq!((late.rule.code, late.args), ("HAZARD_DEADLINE_LIMIT", vec![("latest", "2027-02-24".to_owned())]));
        assert!(check_extension(HazardState::Rectifying, limit, d("2027-03-31"), "设备到货需两个月").is_ok());
        assert!(check_extension(HazardState::Rectifying, limit, d("2027-03-31"), " ").is_err(), "a reason");
        assert!(check_extension(HazardState::Rectifying, limit, limit, "x").is_err(), "later than now");
        assert!(check_extension(HazardState::Closed, limit, d("2027-03-31"), "x").is_err());
        assert!(check_approval("demo.inspector", "demo.leader").is_ok());
        assert!(check_approval("demo.leader", "demo.leader").is_err(), "not one's own request");
    }

    #[test]
    fn a_grid_hazard_without_its_plan_is_due_within_the_plan_days() {
        let g = Road { responsibility: Responsibility::Grid, grade_files: false };
        let c = Road { responsibility: Responsibility::Customer, grade_files: false };
        let (registered, deadline) = (d("2026-11-26"), d("2027-02-24"));
        assert_eq!(due(g, HazardState::Registered, registered, deadline, 3), d("2026-11-29"));
        assert_eq!(due(g, HazardState::Planned, registered, deadline, 3), deadline);
        assert_eq!(due(c, HazardState::Registered, registered, deadline, 3), deadline);
        let at = |day| {
            escalation(
                HazardState::Registered,
                Some(due(g, HazardState::Registered, registered, deadline, 3)),
                d(day),
                7,
                2,
            )
        };
        assert_eq!((at("2026-11-29"), at("2026-11-30")), (0, 1), "escalated the day after the plan was due");
    }

    #[test]
    fn only_a_customers_equipment_is_sealed() {
        assert_eq!(
            check_seal(Responsibility::Grid, HazardState::Rectifying).map_err(|v| v.rule.code),
            Err("SEAL_CUSTOMER_ONLY")
        );
        assert_eq!(check_seal(Responsibility::Customer, HazardState::Rectifying), Ok(()));
        assert_eq!(
            check_seal(Responsibility::Customer, HazardState::Closed).map_err(|v| v.rule.code),
            Err("HAZARD_STATE")
        );
    }

    #[test]
    fn unsealing_waits_for_the_closed_hazard() {
        assert_eq!(check_unseal(HazardState::Reviewing).map_err(|v| v.rule.code), Err("SEAL_HAZARD_OPEN"));
        assert_eq!(check_unseal(HazardState::Closed), Ok(()));
    }

    proptest! {
        /// The steps a page offers are exactly those the machine accepts (for well-formed input).
        #[test]
        fn offered_steps_are_the_accepted_ones(s in 0usize..9, customer in any::<bool>(), files in any::<bool>()) {
            let states = [HazardState::Registered, HazardState::Planned, HazardState::Notified, HazardState::ReceiptSigned,
                HazardState::ReceiptRefused, HazardState::Filed, HazardState::Rectifying, HazardState::Reviewing, HazardState::Closed];
            let today = d("2026-11-26");
            let all = [HazardStep::Plan { deadline: today }, HazardStep::Notify { deadline: today }, HazardStep::SignReceipt, refusal(today, true),
                HazardStep::File { on: today, reference: "x".into() }, HazardStep::Rectify, HazardStep::SubmitForReview,
                HazardStep::Review { passed: true, evidence: true }];
            let r = Road { responsibility: if customer { Responsibility::Customer } else { Responsibility::Grid }, grade_files: files };
            for st in &all {
                let accepted = step(r, states[s], st, today, far()).is_ok();
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
        fn closed_is_final(s in 0usize..9, k in 0usize..8, customer in any::<bool>(), files in any::<bool>()) {
            let states = [HazardState::Registered, HazardState::Planned, HazardState::Notified, HazardState::ReceiptSigned,
                HazardState::ReceiptRefused, HazardState::Filed, HazardState::Rectifying, HazardState::Reviewing, HazardState::Closed];
            let today = d("2026-11-26");
            let steps = [HazardStep::Plan { deadline: today }, HazardStep::Notify { deadline: today }, HazardStep::SignReceipt, refusal(today, true),
                HazardStep::File { on: today, reference: "x".into() }, HazardStep::Rectify, HazardStep::SubmitForReview,
                HazardStep::Review { passed: true, evidence: true }];
            let r = Road { responsibility: if customer { Responsibility::Customer } else { Responsibility::Grid }, grade_files: files };
            let got = step(r, states[s], &steps[k], today, far());
            if states[s] == HazardState::Closed { prop_assert!(got.is_err()); }
            if let Ok(next) = got { prop_assert_ne!(next, states[s]); }
        }
    }
}
