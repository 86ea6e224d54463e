//! Emergency plans (应急预案) and their drills (应急演练), rural safety pilots (农村用电安全试点), and
//! the customers' voice: safety-related 95598 complaints and third-party or 行风 evaluations.
//!
//! Drills follow the plans (research brief §5 [S-67][S-68][S-46]): a unit drills its 综合 or 专项
//! plans at least once a year, each 现场处置方案 at least every six months, and an important
//! customer its own plan yearly; the cycles are settings, their origin shown to administrators.
//! A drill's problems, a complaint or an evaluation that shows a hazard go into the one closed
//! loop of hazards (rectify → 复查 → 销号, 督办 when overdue).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};

/// The kinds of emergency plan (生产安全事故应急预案管理办法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// 综合应急预案
    Comprehensive,
    /// 专项应急预案
    Special,
    /// 现场处置方案
    OnSite,
    /// An important customer's own plan (重要客户应急预案), recorded against the customer.
    Customer,
}

impl PlanKind {
    pub const ALL: [PlanKind; 4] = [PlanKind::Comprehensive, PlanKind::Special, PlanKind::OnSite, PlanKind::Customer];

    pub fn code(self) -> &'static str {
        match self {
            PlanKind::Comprehensive => "comprehensive",
            PlanKind::Special => "special",
            PlanKind::OnSite => "onsite",
            PlanKind::Customer => "customer",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// How often drills are due, in months (settings; defaults after the brief).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillCycles {
    /// A unit's 综合 or 专项 plans: at least one drill in this many months.
    pub unit_months: u32,
    /// Each 现场处置方案.
    pub onsite_months: u32,
    /// Each important customer's plan.
    pub customer_months: u32,
}

impl Default for DrillCycles {
    fn default() -> Self {
        Self { unit_months: 12, onsite_months: 6, customer_months: 12 }
    }
}

/// Where the default cycles come from: for administrators.
pub const CYCLES_ORIGIN: &str = "研究简报 §5：《生产安全事故应急预案管理办法》综合或专项预案每年至少演练一次、现场处置方案每半年至少一次 [S-67][S-68]；重要客户每年至少一次 [S-46]；见 [emergency] unit_drill_months、onsite_drill_months、customer_drill_months";

/// A plan in force, as the schedule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFacts {
    pub id: i64,
    pub unit_id: i64,
    pub kind: PlanKind,
    /// 批准日期: the cycle counts from it until the first drill.
    pub approved_on: NaiveDate,
}

/// A drill held, as the schedule reads it: the plan drilled, the unit, the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrillFacts {
    pub plan_id: i64,
    pub unit_id: i64,
    pub kind: PlanKind,
    pub held_on: NaiveDate,
}

/// What is due: a unit's yearly 综合/专项 drill (`plan` none), or a plan's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    pub unit_id: i64,
    /// The plan whose drill is due; none for a unit's yearly drill of any 综合 or 专项 plan.
    pub plan_id: Option<i64>,
    pub kind: PlanKind,
    pub months: u32,
    pub last: Option<NaiveDate>,
    pub due: NaiveDate,
    pub overdue: bool,
}

/// `day` plus `months` calendar months (the last day of a shorter month when it has no such day).
pub fn add_months(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// Every drill due on `today`: one per unit with a 综合 or 专项 plan in force (from the unit's last
/// drill of either, else its earliest such plan's approval), one per 现场处置方案 and per
/// important customer's plan (from its last drill, else its approval). Overdue once past due.
pub fn schedule(plans: &[PlanFacts], drills: &[DrillFacts], cycles: DrillCycles, today: NaiveDate) -> Vec<Due> {
    let mut out = Vec::new();
    let unit_level = |k: PlanKind| matches!(k, PlanKind::Comprehensive | PlanKind::Special);
    let mut units: Vec<i64> = plans.iter().filter(|p| unit_level(p.kind)).map(|p| p.unit_id).collect();
    units.sort_unstable();
    units.dedup();
    for unit in units {
        let from = plans.iter().filter(|p| p.unit_id == unit && unit_level(p.kind)).map(|p| p.approved_on).min();
        let last = drills.iter().filter(|d| d.unit_id == unit && unit_level(d.kind)).map(|d| d.held_on).max();
        if let Some(start) = last.or(from) {
            let due = add_months(start, cycles.unit_months);
            out.push(Due {
                unit_id: unit,
                plan_id: None,
                kind: PlanKind::Comprehensive,
                months: cycles.unit_months,
                last,
                due,
                overdue: today > due,
            });
        }
    }
    for p in plans.iter().filter(|p| !unit_level(p.kind)) {
        let months = if p.kind == PlanKind::OnSite { cycles.onsite_months } else { cycles.customer_months };
        let last = drills.iter().filter(|d| d.plan_id == p.id).map(|d| d.held_on).max();
        let due = add_months(last.unwrap_or(p.approved_on), months);
        out.push(Due {
            unit_id: p.unit_id,
            plan_id: Some(p.id),
            kind: p.kind,
            months,
            last,
            due,
            overdue: today > due,
        });
    }
    out.sort_by_key(|d| (d.due, d.unit_id, d.plan_id));
    out
}

/// A plan is reviewed (评审修订) by its review day; past it, the plan is due for review.
pub fn review_overdue(review_due: NaiveDate, today: NaiveDate) -> bool {
    today > review_due
}

/// A drill is held on a day not in the future and not before its plan was approved.
pub fn check_drill(held_on: NaiveDate, approved_on: NaiveDate, today: NaiveDate) -> Result<(), Violation> {
    if held_on > today || held_on < approved_on {
        return Err(Violation::of(rules::DRILL_DAY).with("approved_on", approved_on).with("day", held_on));
    }
    Ok(())
}

/// A plan's review day follows its approval, within `max_years` (the plan's validity).
pub fn check_review(approved_on: NaiveDate, review_due: NaiveDate, max_years: u32) -> Result<(), Violation> {
    if review_due <= approved_on || review_due > add_months(approved_on, max_years * 12) {
        return Err(Violation::of(rules::EMERGENCY_PLAN_REVIEW)
            .with("approved_on", approved_on)
            .with("review_on", review_due));
    }
    Ok(())
}

/// How a drill went (演练评估).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillRating {
    /// 优
    Good,
    /// 合格
    Adequate,
    /// 需改进
    Poor,
}

impl DrillRating {
    pub const ALL: [DrillRating; 3] = [DrillRating::Good, DrillRating::Adequate, DrillRating::Poor];

    pub fn code(self) -> &'static str {
        match self {
            DrillRating::Good => "good",
            DrillRating::Adequate => "adequate",
            DrillRating::Poor => "poor",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The kinds of evaluation of a unit's service (行风评议, 客户走访, 第三方评价).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationKind {
    /// 第三方评价
    ThirdParty,
    /// 行风评议
    Conduct,
    /// 客户走访
    Visit,
}

impl EvaluationKind {
    pub const ALL: [EvaluationKind; 3] = [EvaluationKind::ThirdParty, EvaluationKind::Conduct, EvaluationKind::Visit];

    pub fn code(self) -> &'static str {
        match self {
            EvaluationKind::ThirdParty => "third_party",
            EvaluationKind::Conduct => "conduct",
            EvaluationKind::Visit => "visit",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A complaint's category as the customer-service system exports it: safety-related ones are
/// kept (用电安全、停电、表计、违章作业…); the words are matched loosely.
pub fn safety_related(category: &str) -> bool {
    const WORDS: [&str; 9] = ["安全", "触电", "停电", "电压", "表计", "计量", "违章", "施工", "隐患"];
    WORDS.iter().any(|w| category.contains(w))
}

#[cfg(test)]
mod tests;
