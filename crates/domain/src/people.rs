//! People and their qualifications: "may person P act as R on day D, and if not, why".
//!
//! Every later module asks this one question before it puts someone on work: a ticket's issuer,
//! leader, permit giver and crew, an inspection's inspectors. An expired or missing
//! qualification blocks the role everywhere, because everywhere asks here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};

/// A role a person may take in field work on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum FieldRole {
    /// 工作班成员
    CrewMember,
    /// 工作负责人
    WorkLeader,
    /// 工作票签发人
    TicketIssuer,
    /// 工作许可人
    WorkPermitter,
    /// 用电检查员, for a customer of this voltage (kV).
    Inspector { voltage_kv: f64 },
}

impl FieldRole {
    pub fn code(self) -> &'static str {
        match self {
            FieldRole::CrewMember => "crew_member",
            FieldRole::WorkLeader => "work_leader",
            FieldRole::TicketIssuer => "ticket_issuer",
            FieldRole::WorkPermitter => "work_permitter",
            FieldRole::Inspector { .. } => "inspector",
        }
    }

    /// A ticket role by its code (the inspector's needs a voltage, so is not one of these).
    pub fn ticket_role(code: &str) -> Option<Self> {
        [FieldRole::CrewMember, FieldRole::WorkLeader, FieldRole::TicketIssuer, FieldRole::WorkPermitter]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// What a qualification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualificationKind {
    /// 安规考试 (passed)
    SafetyExam,
    /// 工作负责人 (annual list)
    WorkLeader,
    /// 工作票签发人 (annual list)
    TicketIssuer,
    /// 工作许可人 (annual list)
    WorkPermitter,
    /// 用电检查资格 (level 1–3)
    Inspector,
    /// 电工证 / 进网作业许可证
    ElectricianCertificate,
    /// 特种作业证
    SpecialWorkCertificate,
    /// 培训记录
    Training,
    /// Anything else, kept as recorded.
    Other,
}

impl QualificationKind {
    pub const ALL: [QualificationKind; 9] = [
        QualificationKind::SafetyExam,
        QualificationKind::WorkLeader,
        QualificationKind::TicketIssuer,
        QualificationKind::WorkPermitter,
        QualificationKind::Inspector,
        QualificationKind::ElectricianCertificate,
        QualificationKind::SpecialWorkCertificate,
        QualificationKind::Training,
        QualificationKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            QualificationKind::SafetyExam => "safety_exam",
            QualificationKind::WorkLeader => "work_leader",
            QualificationKind::TicketIssuer => "ticket_issuer",
            QualificationKind::WorkPermitter => "work_permitter",
            QualificationKind::Inspector => "inspector",
            QualificationKind::ElectricianCertificate => "electrician_certificate",
            QualificationKind::SpecialWorkCertificate => "special_work_certificate",
            QualificationKind::Training => "training",
            QualificationKind::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        QualificationKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind a spreadsheet or an upstream export writes, by its code (any letter case) or its
    /// Chinese name (资格类型: 安规考试, 工作负责人…); `None` for a kind GridSafe does not know,
    /// which the caller keeps as written under [`QualificationKind::Other`].
    pub fn read(text: &str) -> Option<Self> {
        let text = text.trim();
        QualificationKind::ALL
            .into_iter()
            .filter(|k| *k != QualificationKind::Other)
            .find(|k| k.code().eq_ignore_ascii_case(text) || k.written_zh().contains(&text))
    }

    /// The Chinese names a register or an export uses for the kind (the first is the usual one).
    fn written_zh(self) -> &'static [&'static str] {
        match self {
            QualificationKind::SafetyExam => &["安规考试"],
            QualificationKind::WorkLeader => &["工作负责人"],
            QualificationKind::TicketIssuer => &["工作票签发人"],
            QualificationKind::WorkPermitter => &["工作许可人"],
            QualificationKind::Inspector => &["用电检查资格", "用电检查员"],
            QualificationKind::ElectricianCertificate => &["电工证", "电工进网作业许可证", "进网作业许可证"],
            QualificationKind::SpecialWorkCertificate => &["特种作业证", "特种作业操作证"],
            QualificationKind::Training => &["培训记录", "培训"],
            QualificationKind::Other => &[],
        }
    }
}

/// A qualification a person holds, valid from its first to its last day (both inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub kind: QualificationKind,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// The level, for inspector qualifications (1–3).
    pub level: Option<u8>,
}

impl Held {
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && day <= self.valid_to
    }
}

/// What GridSafe knows of a contractor on the question's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractorFacts {
    pub name: String,
    /// Blacklisted from this day on.
    pub blacklisted_on: Option<NaiveDate>,
    pub license_level: Option<u8>,
    /// Last day the licence is valid; `None` when none is recorded.
    pub license_valid_to: Option<NaiveDate>,
    /// Confirmed safety agreements (a contractor's own draft counts for nothing until the supply
    /// company's side confirms it).
    pub agreements: Vec<Agreement>,
}

/// A confirmed safety agreement: its days, and the customer's work it is limited to, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// 户号 of the only customer whose work it covers; `None` covers all of the contractor's work.
    pub customer: Option<String>,
}

impl Agreement {
    /// Whether it covers work on `day` (at `customer`, when the work has one). A question about no
    /// particular work (a person's page) counts every agreement valid on the day.
    pub fn covers(&self, day: NaiveDate, work: Work<'_>) -> bool {
        let scope = match (&self.customer, work) {
            (None, _) | (_, Work::Any) => true,
            (Some(only), Work::At { customer }) => customer.is_some_and(|c| c == only),
        };
        self.valid_from <= day && day <= self.valid_to && scope
    }
}

/// The work a question is about: any work (a person's page), or a piece of work at a customer
/// (a ticket), so that agreements limited to one customer cover only that customer's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work<'a> {
    Any,
    At { customer: Option<&'a str> },
}

/// What GridSafe knows of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub active: bool,
    pub held: Vec<Held>,
    pub contractor: Option<ContractorFacts>,
    /// The violations counted against him (违章记分) since his last re-admission.
    #[serde(default)]
    pub strikes: Vec<crate::supervision::Strike>,
    /// His last re-admission (再准入), which clears the points before it.
    #[serde(default)]
    pub readmitted: Option<crate::time::Timestamp>,
}

impl PersonFacts {
    /// Where his violation points stand on `day`.
    pub fn standing(&self, day: NaiveDate, rules: &RoleRules) -> crate::supervision::Standing {
        crate::supervision::standing(&self.strikes, self.readmitted, day, &rules.points)
    }
}

/// The configurable bounds the question uses, each default with its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRules {
    /// Highest customer voltage (kV) an inspector of level 1, 2, 3 may inspect.
    /// Default 220 / 10 / 0.4 [UNVERIFIED recollection, research brief §1.3].
    pub inspector_max_kv: [f64; 3],
    /// Highest voltage (kV) a licence of level 1–5 covers; level 1 has no bound.
    /// Default —, 220, 110, 35, 10 [S-62].
    pub license_max_kv: [Option<f64>; 5],
    /// Violation points (违章记分) and the threshold that suspends field roles.
    #[serde(default)]
    pub points: crate::supervision::PointsRules,
}

impl Default for RoleRules {
    fn default() -> Self {
        Self {
            inspector_max_kv: [220.0, 10.0, 0.4],
            license_max_kv: [None, Some(220.0), Some(110.0), Some(35.0), Some(10.0)],
            points: crate::supervision::PointsRules::default(),
        }
    }
}

fn held_on(p: &PersonFacts, kind: QualificationKind, day: NaiveDate) -> bool {
    p.held.iter().any(|h| h.kind == kind && h.valid_on(day))
}

/// The last day of the most recent `kind` that ended before `day`, to say "expired on …".
fn expired_on(p: &PersonFacts, kind: QualificationKind, day: NaiveDate) -> Option<NaiveDate> {
    p.held.iter().filter(|h| h.kind == kind && h.valid_to < day).map(|h| h.valid_to).max()
}

fn missing(p: &PersonFacts, kind: QualificationKind, day: NaiveDate, rule: rules::Rule) -> Violation {
    let v = Violation::of(rule).with("day", day);
    match expired_on(p, kind, day) {
        Some(end) => v.with("expired", end),
        None => v,
    }
}

/// Whether `p` may act as `role` on `day`; else every reason why not.
pub fn may_act(p: &PersonFacts, role: FieldRole, day: NaiveDate, rules: &RoleRules) -> Result<(), Vec<Violation>> {
    let mut refusals = Vec::new();
    if !p.active {
        refusals.push(Violation::of(rules::PERSON_ACTIVE));
    }
    if !held_on(p, QualificationKind::SafetyExam, day) {
        refusals.push(missing(p, QualificationKind::SafetyExam, day, rules::SAFETY_EXAM));
    }
    let list = match role {
        FieldRole::WorkLeader => Some((QualificationKind::WorkLeader, rules::LIST_WORK_LEADER)),
        FieldRole::TicketIssuer => Some((QualificationKind::TicketIssuer, rules::LIST_TICKET_ISSUER)),
        FieldRole::WorkPermitter => Some((QualificationKind::WorkPermitter, rules::LIST_WORK_PERMITTER)),
        FieldRole::CrewMember | FieldRole::Inspector { .. } => None,
    };
    if let Some((kind, rule)) = list
        && !held_on(p, kind, day)
    {
        refusals.push(missing(p, kind, day, rule));
    }
    if let FieldRole::Inspector { voltage_kv } = role {
        let covers = p.held.iter().any(|h| {
            h.kind == QualificationKind::Inspector
                && h.valid_on(day)
                && h.level
                    .and_then(|l| rules.inspector_max_kv.get(usize::from(l).wrapping_sub(1)))
                    .is_some_and(|max| voltage_kv <= *max)
        });
        if !covers {
            refusals.push(
                missing(p, QualificationKind::Inspector, day, rules::INSPECTOR_LEVEL).with("voltage", voltage_kv),
            );
        }
    }
    if let Some(c) = &p.contractor
        && let Err(more) = contractor_may_work(c, day, None, Work::Any, rules)
    {
        refusals.extend(more);
    }
    refusals.extend(crate::supervision::suspension(&p.standing(day, rules)));
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}

/// Whether a contractor's workers may be put on `work` on `day` (at `voltage_kv`, when known: a
/// ticket always knows it, see `TICKET_VOLTAGE`).
pub fn contractor_may_work(
    c: &ContractorFacts,
    day: NaiveDate,
    voltage_kv: Option<f64>,
    work: Work<'_>,
    rules: &RoleRules,
) -> Result<(), Vec<Violation>> {
    let mut refusals = Vec::new();
    if let Some(since) = c.blacklisted_on.filter(|since| *since <= day) {
        refusals.push(Violation::of(rules::CONTRACTOR_BLACKLIST).with("contractor", &c.name).with("since", since));
    }
    match c.license_valid_to {
        Some(end) if day <= end => {
            let bound = c
                .license_level
                .and_then(|l| rules.license_max_kv.get(usize::from(l).wrapping_sub(1)).copied().flatten());
            if let (Some(v), Some(max)) = (voltage_kv, bound)
                && v > max
            {
                refusals.push(
                    Violation::of(rules::CONTRACTOR_LICENSE)
                        .with("contractor", &c.name)
                        .with("voltage", v)
                        .with("max", max),
                );
            }
        }
        Some(end) => {
            refusals.push(Violation::of(rules::CONTRACTOR_LICENSE).with("contractor", &c.name).with("expired", end))
        }
        None => refusals.push(Violation::of(rules::CONTRACTOR_LICENSE).with("contractor", &c.name)),
    }
    if !c.agreements.iter().any(|a| a.covers(day, work)) {
        let mut v = Violation::of(rules::CONTRACTOR_AGREEMENT).with("contractor", &c.name).with("day", day);
        if let Work::At { customer: Some(customer) } = work {
            v = v.with("customer", customer);
        }
        refusals.push(v);
    }
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn held(kind: QualificationKind, from: &str, to: &str) -> Held {
        Held { kind, valid_from: d(from), valid_to: d(to), level: None }
    }

    #[test]
    fn a_kind_is_read_by_its_code_or_its_chinese_name_and_anything_else_is_unknown() {
        for kind in QualificationKind::ALL.into_iter().filter(|k| *k != QualificationKind::Other) {
            assert_eq!(QualificationKind::read(kind.code()), Some(kind));
            assert_eq!(QualificationKind::read(&kind.code().to_uppercase()), Some(kind));
            assert_eq!(QualificationKind::read(&format!(" {} ", kind.written_zh()[0])), Some(kind));
        }
        assert_eq!(QualificationKind::read("电工进网作业许可证"), Some(QualificationKind::ElectricianCertificate));
        for unknown in ["other", "其他资格", "高压电工", "", "安规"] {
            assert_eq!(QualificationKind::read(unknown), None, "{unknown}");
        }
    }

    fn codes(r: Result<(), Vec<Violation>>) -> Vec<&'static str> {
        r.err().unwrap_or_default().iter().map(|v| v.rule.code).collect()
    }

    fn leader() -> PersonFacts {
        PersonFacts {
            active: true,
            held: vec![
                held(QualificationKind::SafetyExam, "2025-01-01", "2025-12-31"),
                held(QualificationKind::WorkLeader, "2025-01-01", "2025-06-30"),
            ],
            contractor: None,
            strikes: vec![],
            readmitted: None,
        }
    }

    #[test]
    fn validity_is_inclusive_on_both_boundary_days() {
        let p = leader();
        let rules = RoleRules::default();
        assert_eq!(may_act(&p, FieldRole::WorkLeader, d("2025-01-01"), &rules), Ok(()));
        assert_eq!(may_act(&p, FieldRole::WorkLeader, d("2025-06-30"), &rules), Ok(()));
        assert_eq!(codes(may_act(&p, FieldRole::WorkLeader, d("2025-07-01"), &rules)), ["LIST_WORK_LEADER"]);
        assert_eq!(may_act(&p, FieldRole::CrewMember, d("2025-07-01"), &rules), Ok(()), "still fine as crew");
        assert_eq!(codes(may_act(&p, FieldRole::CrewMember, d("2024-12-31"), &rules)), ["SAFETY_EXAM"]);
        let refusal = may_act(&p, FieldRole::WorkLeader, d("2025-07-01"), &rules).expect_err("expired");
        assert!(refusal[0].args.contains(&("expired", "2025-06-30".to_owned())), "{refusal:?}");
    }

    #[test]
    fn inspectors_by_level_and_voltage() {
        let mut p = leader();
        p.held.push(Held { level: Some(2), ..held(QualificationKind::Inspector, "2025-01-01", "2027-12-31") });
        let rules = RoleRules::default();
        assert_eq!(may_act(&p, FieldRole::Inspector { voltage_kv: 10.0 }, d("2025-03-01"), &rules), Ok(()));
        assert_eq!(
            codes(may_act(&p, FieldRole::Inspector { voltage_kv: 35.0 }, d("2025-03-01"), &rules)),
            ["INSPECTOR_LEVEL"]
        );
    }

    #[test]
    fn contractor_workers_need_a_clean_contractor() {
        let mut p = leader();
        p.contractor = Some(ContractorFacts {
            name: "孝感承装一公司".into(),
            blacklisted_on: Some(d("2025-05-01")),
            license_level: Some(4),
            license_valid_to: Some(d("2025-12-31")),
            agreements: vec![Agreement { valid_from: d("2025-01-01"), valid_to: d("2025-06-30"), customer: None }],
        });
        let rules = RoleRules::default();
        assert_eq!(may_act(&p, FieldRole::CrewMember, d("2025-04-30"), &rules), Ok(()));
        assert_eq!(codes(may_act(&p, FieldRole::CrewMember, d("2025-05-01"), &rules)), ["CONTRACTOR_BLACKLIST"]);
        assert_eq!(
            codes(may_act(&p, FieldRole::CrewMember, d("2025-07-01"), &rules)),
            ["CONTRACTOR_BLACKLIST", "CONTRACTOR_AGREEMENT"]
        );
        let c = p.contractor.clone().expect("contractor");
        assert_eq!(
            codes(contractor_may_work(&c, d("2025-04-01"), Some(110.0), Work::Any, &rules)),
            ["CONTRACTOR_LICENSE"],
            "level 4 stops at 35 kV"
        );
        assert_eq!(
            codes(contractor_may_work(&c, d("2026-01-01"), None, Work::Any, &rules)),
            ["CONTRACTOR_BLACKLIST", "CONTRACTOR_LICENSE", "CONTRACTOR_AGREEMENT"]
        );
    }

    #[test]
    fn an_agreement_for_one_customer_covers_only_that_customers_work() {
        let c = ContractorFacts {
            name: "孝感承装一公司".into(),
            blacklisted_on: None,
            license_level: Some(4),
            license_valid_to: Some(d("2026-12-31")),
            agreements: vec![Agreement {
                valid_from: d("2026-01-01"),
                valid_to: d("2026-12-31"),
                customer: Some("4300001".into()),
            }],
        };
        let rules = RoleRules::default();
        let day = d("2026-11-26");
        let at = |customer| Work::At { customer };
        assert_eq!(contractor_may_work(&c, day, Some(0.4), at(Some("4300001")), &rules), Ok(()));
        assert_eq!(
            codes(contractor_may_work(&c, day, Some(0.4), at(Some("4300002")), &rules)),
            ["CONTRACTOR_AGREEMENT"]
        );
        assert_eq!(codes(contractor_may_work(&c, day, Some(0.4), at(None), &rules)), ["CONTRACTOR_AGREEMENT"]);
        assert_eq!(contractor_may_work(&c, day, Some(0.4), Work::Any, &rules), Ok(()), "a person's page: any work");
    }

    proptest! {
        /// A role is granted on a day exactly when every needed qualification covers that day.
        #[test]
        fn granted_exactly_when_covered(exam in (0i64..400, 0i64..400), list in (0i64..400, 0i64..400), day in 0i64..400) {
            let base = d("2025-01-01");
            let span = |(a, b): (i64, i64)| (base + chrono::Duration::days(a.min(b)), base + chrono::Duration::days(a.max(b)));
            let (ef, et) = span(exam);
            let (lf, lt) = span(list);
            let p = PersonFacts {
                active: true,
                held: vec![
                    Held { kind: QualificationKind::SafetyExam, valid_from: ef, valid_to: et, level: None },
                    Held { kind: QualificationKind::TicketIssuer, valid_from: lf, valid_to: lt, level: None },
                ],
                contractor: None,
                strikes: vec![],
                readmitted: None,
            };
            let day = base + chrono::Duration::days(day);
            let expected = ef <= day && day <= et && lf <= day && day <= lt;
            prop_assert_eq!(may_act(&p, FieldRole::TicketIssuer, day, &RoleRules::default()).is_ok(), expected);
        }
    }
}
