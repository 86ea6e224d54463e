//! Customer inspection cycles (用电检查周期): which rule of the table applies to a customer, and
//! when the next inspection is due, on two tracks kept apart.
//!
//! The periodic cycle (周期检查) comes from research brief §2.3 (marked [UNVERIFIED] there, so
//! every default names that origin and a deployment sets its province's values). The special
//! check of self-provided emergency power (自备应急电源专项检查) is the article's own (§4.2):
//! registered emergency power yearly; customers likely to have unregistered power (the
//! industries it names, or marked suspected) every six months. Only an inspection of that kind,
//! or one whose emergency-power section was actually checked, completes the special check; on
//! each track the shortest cycle that applies wins.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::PersonId;
use crate::rules::{self, Violation};

/// 重要电力用户 class (GB/T 29328-2018), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Importance {
    /// 特级
    Special,
    /// 一级
    First,
    /// 二级
    Second,
    /// 临时性
    Temporary,
    None,
}

/// What GridSafe knows of a customer's self-provided emergency power (自备应急电源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyPower {
    None,
    /// Registered with the supply company.
    Registered,
    /// Likely there but not registered (base stations, farms, banks …).
    Suspected,
}

/// The facts a cycle depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFacts {
    pub voltage_kv: f64,
    pub importance: Importance,
    pub emergency_power: EmergencyPower,
    /// Its industry is one of those likely to run unregistered emergency power (the article's
    /// 大型移动基站、养殖场、银行; a configurable list).
    pub suspect_industry: bool,
}

/// The industries the article names as likely to have unregistered emergency power (§4.2).
pub const SUSPECT_INDUSTRIES: [&str; 3] = ["移动基站", "养殖场", "银行"];

/// Where [`SUSPECT_INDUSTRIES`] comes from, shown beside the list.
pub const SUSPECT_INDUSTRIES_ORIGIN: &str =
    "文章 §4.2：对于大型移动基站、养殖场、银行等有可能安装自备电源但未报备的用户，每半年开展一次专项检查";

/// The two things a customer is inspected for, each on its own cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// 周期检查
    Periodic,
    /// 自备应急电源专项检查
    EmergencyPower,
}

impl Track {
    pub const ALL: [Track; 2] = [Track::Periodic, Track::EmergencyPower];

    pub fn code(self) -> &'static str {
        match self {
            Track::Periodic => "periodic",
            Track::EmergencyPower => "emergency_power",
        }
    }
}

/// What an inspection was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// 周期检查
    Periodic,
    /// 自备应急电源专项检查
    EmergencyPower,
    /// 其他专项检查
    Special,
    /// 专项行动（排查）
    Campaign,
}

impl InspectionKind {
    pub const ALL: [InspectionKind; 4] =
        [InspectionKind::Periodic, InspectionKind::EmergencyPower, InspectionKind::Special, InspectionKind::Campaign];

    pub fn code(self) -> &'static str {
        match self {
            InspectionKind::Periodic => "periodic",
            InspectionKind::EmergencyPower => "emergency_power",
            InspectionKind::Special => "special",
            InspectionKind::Campaign => "campaign",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        InspectionKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether an inspection of this kind completes `track`: the special check of emergency power
    /// only by an inspection of that kind or one that actually checked the emergency-power section
    /// (some item answered, not all 不适用); the periodic cycle by any other inspection.
    pub fn completes(self, track: Track, emergency_checked: bool) -> bool {
        match track {
            Track::Periodic => self != InspectionKind::EmergencyPower,
            Track::EmergencyPower => self == InspectionKind::EmergencyPower || emergency_checked,
        }
    }
}

/// Whether the answers checked the emergency-power section: some item of it answered other than
/// 不适用.
pub fn emergency_checked<'a>(answers: impl IntoIterator<Item = (&'a str, Outcome)>) -> bool {
    answers.into_iter().any(|(section, o)| section == "emergency_power" && o != Outcome::NotApplicable)
}

/// When a rule applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "when")]
pub enum Condition {
    Importance {
        classes: Vec<Importance>,
    },
    /// Supply voltage at least this (kV).
    VoltageAtLeast {
        kv: f64,
    },
    EmergencyPower {
        state: EmergencyPower,
    },
    /// Of an industry likely to have unregistered emergency power, and none registered.
    SuspectIndustry,
}

impl Condition {
    fn holds(&self, c: &CustomerFacts) -> bool {
        match self {
            Condition::Importance { classes } => classes.contains(&c.importance),
            Condition::VoltageAtLeast { kv } => c.voltage_kv >= *kv,
            Condition::EmergencyPower { state } => c.emergency_power == *state,
            Condition::SuspectIndustry => c.suspect_industry && c.emergency_power != EmergencyPower::Registered,
        }
    }
}

/// One row of the cycle table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleRule {
    pub code: String,
    pub track: Track,
    pub condition: Condition,
    /// Months between inspections; `None` when the rule sets no fixed cycle (before each event,
    /// as needed).
    pub months: Option<u32>,
    /// Where the default comes from.
    pub origin: String,
}

fn rule(code: &str, condition: Condition, months: Option<u32>, origin: &str) -> CycleRule {
    let track = match condition {
        Condition::EmergencyPower { .. } | Condition::SuspectIndustry => Track::EmergencyPower,
        Condition::Importance { .. } | Condition::VoltageAtLeast { .. } => Track::Periodic,
    };
    CycleRule { code: code.into(), track, condition, months, origin: origin.into() }
}

/// The default table, each row with its origin.
pub fn default_rules() -> Vec<CycleRule> {
    const BRIEF: &str = "研究简报 §2.3 国网默认值 [UNVERIFIED]，请按本省规程调整";
    vec![
        rule(
            "important_special_first",
            Condition::Importance { classes: vec![Importance::Special, Importance::First] },
            Some(3),
            BRIEF,
        ),
        rule("important_second", Condition::Importance { classes: vec![Importance::Second] }, Some(6), BRIEF),
        rule(
            "important_temporary",
            Condition::Importance { classes: vec![Importance::Temporary] },
            None,
            "研究简报 §2.3：临时性重要用户每次保电任务前检查 [UNVERIFIED]",
        ),
        rule("voltage_35kv", Condition::VoltageAtLeast { kv: 35.0 }, Some(6), BRIEF),
        rule("voltage_10kv", Condition::VoltageAtLeast { kv: 6.0 }, Some(12), BRIEF),
        rule(
            "emergency_power_registered",
            Condition::EmergencyPower { state: EmergencyPower::Registered },
            Some(12),
            "文章：已备案自备应急电源客户每年专项检查一次（研究简报 §2.2）",
        ),
        rule(
            "emergency_power_suspected",
            Condition::EmergencyPower { state: EmergencyPower::Suspected },
            Some(6),
            "文章：疑似未备案自备电源客户（移动基站、养殖场、银行等）每半年检查一次（研究简报 §2.2）",
        ),
        rule("emergency_power_industry", Condition::SuspectIndustry, Some(6), SUSPECT_INDUSTRIES_ORIGIN),
    ]
}

/// The rules that apply to `c` on `track`.
pub fn applicable<'a>(c: &CustomerFacts, rules: &'a [CycleRule], track: Track) -> Vec<&'a CycleRule> {
    rules.iter().filter(|r| r.track == track && r.condition.holds(c)).collect()
}

/// The deciding rule on `track`: the shortest fixed cycle among those that apply (`None` when
/// none applies or none sets a fixed cycle).
pub fn cycle<'a>(c: &CustomerFacts, rules: &'a [CycleRule], track: Track) -> Option<&'a CycleRule> {
    applicable(c, rules, track).into_iter().filter(|r| r.months.is_some()).min_by_key(|r| r.months)
}

/// The day the next inspection is due: `months` after the last one (or after `since`, when the
/// customer was never inspected), on the same day of the month or the month's last day.
pub fn next_due(last: Option<NaiveDate>, since: NaiveDate, months: u32) -> NaiveDate {
    let from = last.unwrap_or(since);
    from.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// Where a customer stands on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// Due later than this month.
    NotDue,
    /// Due this calendar month, not yet past.
    DueThisMonth,
    /// Past the due day.
    Overdue,
}

pub fn due_state(due: NaiveDate, today: NaiveDate) -> DueState {
    if today > due {
        DueState::Overdue
    } else if (due.year(), due.month()) == (today.year(), today.month()) {
        DueState::DueThisMonth
    } else {
        DueState::NotDue
    }
}

/// The six sections of the checklist (article §3.4; the last from §4.2).
pub const SECTIONS: [&str; 6] = ["power_source", "receiving", "secondary", "metering", "operation", "emergency_power"];

/// One checklist item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 合格
    Ok,
    /// 存在问题 (a hazard may follow)
    Defect,
    /// 不适用
    NotApplicable,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Defect => "defect",
            Outcome::NotApplicable => "na",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ok" => Some(Outcome::Ok),
            "defect" => Some(Outcome::Defect),
            "na" => Some(Outcome::NotApplicable),
            _ => None,
        }
    }
}

/// Whether an inspection may be recorded: on a day not after `today`, by at least `min`
/// different inspectors (each one's qualification is the people module's `may_act`).
pub fn check_inspection(inspectors: &[PersonId], min: usize, day: NaiveDate, today: NaiveDate) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut distinct = inspectors.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < min.max(2) {
        out.push(Violation::of(rules::INSPECTION_INSPECTORS).with("have", distinct.len()).with("needed", min.max(2)));
    }
    if day > today {
        out.push(Violation::of(rules::INSPECTION_DAY).with("day", day));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn customer(kv: f64, importance: Importance, power: EmergencyPower) -> CustomerFacts {
        CustomerFacts { voltage_kv: kv, importance, emergency_power: power, suspect_industry: false }
    }

    #[test]
    fn the_shortest_applicable_cycle_decides_on_each_track() {
        let rules = default_rules();
        let months = |c: &CustomerFacts, t: Track| cycle(c, &rules, t).and_then(|r| r.months);
        let first = customer(10.0, Importance::First, EmergencyPower::Registered);
        assert_eq!(months(&first, Track::Periodic), Some(3));
        assert_eq!(months(&first, Track::EmergencyPower), Some(12), "kept apart from the periodic cycle");
        let registered = customer(10.0, Importance::None, EmergencyPower::Registered);
        assert_eq!(months(&registered, Track::Periodic), Some(12));
        assert_eq!(months(&registered, Track::EmergencyPower), Some(12));
        let suspected = customer(0.4, Importance::None, EmergencyPower::Suspected);
        assert_eq!(months(&suspected, Track::Periodic), None, "a 0.4 kV customer: as needed");
        assert_eq!(months(&suspected, Track::EmergencyPower), Some(6));
        assert_eq!(months(&customer(110.0, Importance::None, EmergencyPower::None), Track::Periodic), Some(6));
        assert_eq!(months(&customer(0.4, Importance::None, EmergencyPower::None), Track::EmergencyPower), None);
        let temporary = customer(0.4, Importance::Temporary, EmergencyPower::None);
        assert_eq!(cycle(&temporary, &rules, Track::Periodic), None);
        assert_eq!(applicable(&temporary, &rules, Track::Periodic)[0].code, "important_temporary", "before each event");
        assert!(rules.iter().all(|r| !r.origin.is_empty()), "every default names its origin");
    }

    #[test]
    fn the_articles_industries_are_on_the_six_month_check_unless_registered() {
        let rules = default_rules();
        let months = |c: &CustomerFacts| cycle(c, &rules, Track::EmergencyPower).and_then(|r| r.months);
        let base_station =
            CustomerFacts { suspect_industry: true, ..customer(0.4, Importance::None, EmergencyPower::None) };
        assert_eq!(months(&base_station), Some(6), "nobody marked it suspected: its industry does");
        assert_eq!(
            cycle(&base_station, &rules, Track::EmergencyPower).map(|r| r.code.as_str()),
            Some("emergency_power_industry")
        );
        let registered = CustomerFacts { emergency_power: EmergencyPower::Registered, ..base_station.clone() };
        assert_eq!(months(&registered), Some(12), "registered power recorded: the yearly check");
    }

    #[test]
    fn only_an_emergency_check_or_a_checked_section_completes_the_special_check() {
        use InspectionKind::*;
        assert!(EmergencyPower.completes(Track::EmergencyPower, false));
        assert!(!EmergencyPower.completes(Track::Periodic, true));
        assert!(!Periodic.completes(Track::EmergencyPower, false), "its emergency items all 不适用");
        assert!(Periodic.completes(Track::EmergencyPower, true));
        assert!(Periodic.completes(Track::Periodic, false) && Campaign.completes(Track::Periodic, false));
        let na = [("emergency_power", Outcome::NotApplicable), ("metering", Outcome::Ok)];
        assert!(!emergency_checked(na));
        assert!(emergency_checked([("emergency_power", Outcome::NotApplicable), ("emergency_power", Outcome::Defect)]));
        for k in InspectionKind::ALL {
            assert_eq!(InspectionKind::from_code(k.code()), Some(k));
        }
    }

    #[test]
    fn due_on_the_same_day_or_the_months_last_day() {
        assert_eq!(next_due(Some(d("2026-01-31")), d("2020-01-01"), 1), d("2026-02-28"));
        assert_eq!(next_due(None, d("2026-05-15"), 6), d("2026-11-15"));
        assert_eq!(due_state(d("2026-11-15"), d("2026-11-15")), DueState::DueThisMonth);
        assert_eq!(due_state(d("2026-11-15"), d("2026-11-16")), DueState::Overdue);
        assert_eq!(due_state(d("2026-12-01"), d("2026-11-30")), DueState::NotDue);
    }

    #[test]
    fn two_different_inspectors_on_a_day_not_ahead() {
        let today = d("2026-11-26");
        let codes = |v: Vec<Violation>| v.into_iter().map(|v| v.rule.code).collect::<Vec<_>>();
        assert!(check_inspection(&[PersonId::new(1), PersonId::new(2)], 2, today, today).is_empty());
        assert_eq!(
            codes(check_inspection(&[PersonId::new(1), PersonId::new(1)], 2, today, today)),
            ["INSPECTION_INSPECTORS"],
            "the same twice"
        );
        assert_eq!(
            codes(check_inspection(&[PersonId::new(1), PersonId::new(2)], 1, today, today)),
            Vec::<&str>::new(),
            "never fewer than two"
        );
        assert_eq!(
            codes(check_inspection(&[PersonId::new(1), PersonId::new(2)], 3, today, today)),
            ["INSPECTION_INSPECTORS"]
        );
        assert_eq!(
            codes(check_inspection(&[PersonId::new(1), PersonId::new(2)], 2, d("2026-11-27"), today)),
            ["INSPECTION_DAY"]
        );
    }

    proptest! {
        /// The next inspection is due after the last one, within the cycle's months (+3 days for
        /// short months), and a later inspection never makes it due earlier.
        #[test]
        fn due_dates_follow_the_cycle(last in 0i64..5000, later in 0i64..400, months in 1u32..37) {
            let base = d("2020-01-01");
            let l = base + chrono::Duration::days(last);
            let due = next_due(Some(l), base, months);
            prop_assert!(due > l);
            let span = (due - l).num_days();
            prop_assert!(span >= i64::from(months) * 28 && span <= i64::from(months) * 31);
            let due2 = next_due(Some(l + chrono::Duration::days(later)), base, months);
            prop_assert!(due2 >= due);
            // Overdue exactly from the day after the due day.
            prop_assert_eq!(due_state(due, due + chrono::Duration::days(1)), DueState::Overdue);
            prop_assert_ne!(due_state(due, due), DueState::Overdue);
        }

        /// Adding a rule never lengthens a customer's cycle.
        #[test]
        fn more_rules_never_lengthen_the_cycle(kv in 0.2f64..500.0, imp in 0usize..5, power in 0usize..3, extra in 1u32..24, industry in any::<bool>()) {
            let importance = [Importance::Special, Importance::First, Importance::Second, Importance::Temporary, Importance::None][imp];
            let emergency_power = [EmergencyPower::None, EmergencyPower::Registered, EmergencyPower::Suspected][power];
            let c = CustomerFacts { voltage_kv: kv, importance, emergency_power, suspect_industry: industry };
            let mut rules = default_rules();
            let before = cycle(&c, &rules, Track::Periodic).and_then(|r| r.months);
            let emergency = cycle(&c, &rules, Track::EmergencyPower).and_then(|r| r.months);
            rules.push(rule("extra", Condition::VoltageAtLeast { kv: 0.0 }, Some(extra), "test"));
            let after = cycle(&c, &rules, Track::Periodic).and_then(|r| r.months);
            prop_assert_eq!(after, Some(before.map_or(extra, |b| b.min(extra))));
            prop_assert_eq!(cycle(&c, &rules, Track::EmergencyPower).and_then(|r| r.months), emergency, "the other track untouched");
        }
    }
}
