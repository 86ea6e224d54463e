//! Risk grades of field work (作业风险分级): each plan item and ticket gets a grade from 一级
//! (highest risk) to 五级 (lowest), from a table kept as data: the base grade of each kind of
//! work, and the conditions that raise it (voltage, live work, a contractor's crew, an important
//! customer, several teams at one site, an outage). The grade is what decides, later, which
//! manager must be on site (到岗到位).
//!
//! As in State Grid's practice ("三级及以上风险作业"), a smaller number is a higher risk.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::orders::{ORDER_TYPES, OrderType};

/// The lowest risk grade (五级) and the highest (一级).
pub const LOWEST: u8 = 5;
pub const HIGHEST: u8 = 1;

/// A condition of the work that raises its grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// 10 kV or more (高压).
    HighVoltage,
    /// 带电作业.
    LiveWork,
    /// A contractor's crew (外包队伍).
    ContractorCrew,
    /// At an important customer's site (重要客户).
    ImportantCustomer,
    /// Several teams at one site (多班组联合作业).
    SeveralTeams,
    /// Supply is cut for the work (停电作业).
    Outage,
}

impl Condition {
    pub const ALL: [Condition; 6] = [
        Condition::HighVoltage,
        Condition::LiveWork,
        Condition::ContractorCrew,
        Condition::ImportantCustomer,
        Condition::SeveralTeams,
        Condition::Outage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Condition::HighVoltage => "high_voltage",
            Condition::LiveWork => "live_work",
            Condition::ContractorCrew => "contractor_crew",
            Condition::ImportantCustomer => "important_customer",
            Condition::SeveralTeams => "several_teams",
            Condition::Outage => "outage",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// What grading needs to know of a piece of work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    pub kind: OrderType,
    pub voltage_kv: Option<f64>,
    pub live_work: bool,
    pub contractor_crew: bool,
    pub important_customer: bool,
    pub several_teams: bool,
    pub outage: bool,
}

impl Work {
    /// A piece of work of `kind` with none of the raising conditions.
    pub fn of(kind: OrderType) -> Self {
        Self {
            kind,
            voltage_kv: None,
            live_work: false,
            contractor_crew: false,
            important_customer: false,
            several_teams: false,
            outage: false,
        }
    }

    /// The conditions that hold, in the table's order.
    pub fn conditions(&self) -> Vec<Condition> {
        Condition::ALL
            .into_iter()
            .filter(|c| match c {
                Condition::HighVoltage => self.voltage_kv.is_some_and(|v| v >= 10.0),
                Condition::LiveWork => self.live_work,
                Condition::ContractorCrew => self.contractor_crew,
                Condition::ImportantCustomer => self.important_customer,
                Condition::SeveralTeams => self.several_teams,
                Condition::Outage => self.outage,
            })
            .collect()
    }
}

/// The grading table: the base grade of each kind of work and how many grades each condition
/// raises it. A deployment may change any entry (`[risk]` settings); the defaults are this
/// system's, with their origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub base: BTreeMap<OrderType, u8>,
    pub raise: BTreeMap<Condition, u8>,
}

/// Where the default table comes from: for administrators.
pub const ORIGIN: &str = "国家电网作业安全风险管控（“四个管住”、风险分五级、三级及以上为较高风险）的做法；各类营销作业的基准等级和加级条件为本系统默认值 [INF]，具体定级标准未在研究简报中核实 [UNVERIFIED]；可在 [risk] 设置中调整";

impl Default for Table {
    fn default() -> Self {
        let base =
            ORDER_TYPES.iter().map(|(_, _, kind)| (*kind, if kind.is_field_work() { 4 } else { LOWEST })).collect();
        let raise = Condition::ALL.into_iter().map(|c| (c, 1)).collect();
        Self { base, raise }
    }
}

/// A grade with the conditions that raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    /// 1 (一级, highest risk) to 5 (五级, lowest).
    pub level: u8,
    pub raised_by: Vec<Condition>,
}

/// The grade of `work` by `table`: the base grade of its kind, raised by each condition that
/// holds, never above 一级 nor below 五级.
pub fn grade(work: &Work, table: &Table) -> Grade {
    let base = table.base.get(&work.kind).copied().unwrap_or(LOWEST).clamp(HIGHEST, LOWEST);
    let raised_by: Vec<Condition> =
        work.conditions().into_iter().filter(|c| table.raise.get(c).copied().unwrap_or(0) > 0).collect();
    let raise: u32 = raised_by.iter().map(|c| u32::from(table.raise.get(c).copied().unwrap_or(0))).sum();
    let level = u32::from(base).saturating_sub(raise).max(u32::from(HIGHEST));
    Grade { level: u8::try_from(level).unwrap_or(HIGHEST), raised_by }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn conditions_raise_the_base_grade_one_level_each_by_default() {
        let table = Table::default();
        let visit = grade(&Work::of(OrderType::CustomerVisit), &table);
        assert_eq!((visit.level, visit.raised_by.len()), (5, 0));
        let meter = Work { voltage_kv: Some(0.4), ..Work::of(OrderType::MeterReplacement) };
        assert_eq!(grade(&meter, &table).level, 4);
        let live = Work { live_work: true, ..meter };
        assert_eq!(grade(&live, &table), Grade { level: 3, raised_by: vec![Condition::LiveWork] });
        // 10 kV is high voltage; 9.9 kV is not.
        let hv = Work { voltage_kv: Some(10.0), ..Work::of(OrderType::NewConnection) };
        assert_eq!(grade(&hv, &table).level, 3);
        assert_eq!(grade(&Work { voltage_kv: Some(9.9), ..hv }, &table).level, 4);
        // Everything at once stops at 一级.
        let all = Work {
            voltage_kv: Some(10.0),
            live_work: true,
            contractor_crew: true,
            important_customer: true,
            several_teams: true,
            outage: true,
            ..Work::of(OrderType::NewConnection)
        };
        let g = grade(&all, &table);
        assert_eq!((g.level, g.raised_by.len()), (1, 6));
    }

    #[test]
    fn the_table_is_data() {
        let mut table = Table::default();
        table.base.insert(OrderType::MeterReading, 3);
        table.raise.insert(Condition::ContractorCrew, 2);
        table.raise.insert(Condition::Outage, 0);
        let w = Work { contractor_crew: true, outage: true, ..Work::of(OrderType::MeterReading) };
        // A condition that raises nothing is not named.
        assert_eq!(grade(&w, &table), Grade { level: 1, raised_by: vec![Condition::ContractorCrew] });
        for c in Condition::ALL {
            assert_eq!(Condition::from_code(c.code()), Some(c));
        }
    }

    fn arb_work() -> impl Strategy<Value = Work> {
        (0usize..ORDER_TYPES.len(), proptest::option::of(0.0f64..40.0), proptest::collection::vec(any::<bool>(), 5))
            .prop_map(|(k, v, f)| Work {
                kind: ORDER_TYPES[k].2,
                voltage_kv: v,
                live_work: f[0],
                contractor_crew: f[1],
                important_customer: f[2],
                several_teams: f[3],
                outage: f[4],
            })
    }

    proptest! {
        /// Always a grade of the five; one more condition never lowers the risk.
        #[test]
        fn grades_stay_in_range_and_conditions_never_lower_the_risk(w in arb_work(), extra in 0usize..6, raise in 0u8..4) {
            let mut table = Table::default();
            table.raise.insert(Condition::ALL[extra], raise);
            let g = grade(&w, &table);
            prop_assert!((HIGHEST..=LOWEST).contains(&g.level));
            let mut more = w;
            match Condition::ALL[extra] {
                Condition::HighVoltage => more.voltage_kv = Some(10.0),
                Condition::LiveWork => more.live_work = true,
                Condition::ContractorCrew => more.contractor_crew = true,
                Condition::ImportantCustomer => more.important_customer = true,
                Condition::SeveralTeams => more.several_teams = true,
                Condition::Outage => more.outage = true,
            }
            prop_assert!(grade(&more, &table).level <= g.level);
        }
    }
}
