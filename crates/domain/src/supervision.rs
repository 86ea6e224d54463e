//! On-site supervision (现场安全管控): which manager must be at a piece of work of a given risk
//! grade (领导干部和管理人员到岗到位), whether the work may start before one has arrived, and the
//! violation register's points (违章记分) that suspend a person from field work until he is
//! retrained and passes an exam again (再准入).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};
use crate::tickets::State;
use crate::time::Timestamp;

// ---- 到岗到位 -----------------------------------------------------------------------------

/// Which roles must be on site at each risk grade: any one holder of a listed role satisfies
/// it; a grade not listed needs no one. Roles are the accounts' roles (`leader`, `safety_auditor`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSiteTable {
    pub by_grade: BTreeMap<u8, Vec<String>>,
}

/// Where the default table comes from: for administrators.
pub const ONSITE_ORIGIN: &str = "文章 §1.1 领导干部到岗到位；国家电网作业风险分级管控做法：一、二级风险作业由单位领导到岗，三级由单位领导或安全管理人员到岗 [INF]，具体到岗标准未在研究简报中核实 [UNVERIFIED]；可在 [plans] onsite_roles 中调整";

impl Default for OnSiteTable {
    fn default() -> Self {
        let leader = || vec!["leader".to_owned()];
        let by_grade =
            BTreeMap::from([(1, leader()), (2, leader()), (3, vec!["leader".to_owned(), "safety_auditor".to_owned()])]);
        Self { by_grade }
    }
}

impl OnSiteTable {
    /// The roles one of which must be on site at `grade`; empty when none is needed.
    pub fn required(&self, grade: u8) -> &[String] {
        self.by_grade.get(&grade).map_or(&[], Vec::as_slice)
    }
}

/// A manager's recorded stay at a site: who (`工号 姓名` or the account's name), the roles his
/// account held for the ticket's unit when he arrived, and when he arrived and left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Presence {
    pub who: String,
    pub roles: Vec<String>,
    pub arrived: Timestamp,
    pub departed: Option<Timestamp>,
}

impl Presence {
    /// On site at `at`: arrived by then and not yet left.
    pub fn present_at(&self, at: Timestamp) -> bool {
        self.arrived <= at && self.departed.is_none_or(|d| d > at)
    }
}

/// What the start rule knows of a ticket's supervision: its grade, the roles one of which must
/// be on site, and who is or was there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnSite {
    pub grade: u8,
    pub required: Vec<String>,
    pub present: Vec<Presence>,
}

impl OnSite {
    /// Whether a holder of a required role is on site at `at` (always, when none is required).
    pub fn satisfied_at(&self, at: Timestamp) -> bool {
        self.required.is_empty()
            || self.present.iter().any(|p| p.present_at(at) && p.roles.iter().any(|r| self.required.contains(r)))
    }

    /// The start rule: work of a grade that needs a manager does not start until one is there.
    pub fn check_start(&self, at: Timestamp) -> Option<Violation> {
        (!self.satisfied_at(at)).then(|| {
            Violation::of(rules::SUPERVISION_ONSITE)
                .with("grade", self.grade)
                .with("onsite_roles", self.required.join("+"))
        })
    }
}

/// What a recorded arrival is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub state: State,
    /// The ticket's window: planned start to its (extended) end.
    pub from: Timestamp,
    pub until: Timestamp,
    /// Minutes before the planned start an arrival is accepted (to see the site prepared).
    pub early_minutes: u32,
    /// The same person is already on this site (an arrival not followed by a departure).
    pub here_already: bool,
    /// The number of another ticket he is on site at and has not left.
    pub elsewhere: Option<String>,
}

/// Whether an arrival at `at` may be recorded: the ticket is issued and not finished, `at` is
/// within its window (from `early_minutes` before the start), and the person is not on a site
/// already.
pub fn check_arrival(a: &Arrival, at: Timestamp) -> Result<(), Violation> {
    use State::*;
    let refuse = || Violation::of(rules::SUPERVISION_ARRIVAL);
    if !matches!(a.state, Issued | Received | Permitted | Started | Interrupted) {
        return Err(refuse().with("state", a.state.code()));
    }
    let opens = Timestamp::from_utc(a.from.as_utc() - chrono::Duration::minutes(i64::from(a.early_minutes)));
    if at < opens || at > a.until {
        return Err(refuse().with("from", opens.local_display()).with("until", a.until.local_display()));
    }
    if a.here_already {
        return Err(refuse().with("missing", "departure"));
    }
    if let Some(number) = &a.elsewhere {
        return Err(refuse().with("ticket", number));
    }
    Ok(())
}

/// A started ticket as the attendance audit reads it: whether a required manager was on site
/// when the work started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedTicket {
    pub number: String,
    pub grade: u8,
    pub attended: bool,
}

/// Missing attendance is a finding: every started ticket of a grade that needed a manager on
/// site and had none when the work started (possible where the start rule is switched off).
pub fn absent(started: &[StartedTicket]) -> Vec<&StartedTicket> {
    started.iter().filter(|t| !t.attended).collect()
}

/// The finding missing attendance raises, beside the cross-audit's.
pub mod audit {
    pub const CODE: &str = "ONSITE_ABSENT";
    pub const CHINESE: &str = "风险作业无人到岗到位";
    pub const REGULATION: &str = "《电力营销安全重点工作管理措施》（国网孝感供电公司）：领导干部和管理人员到岗到位，较高风险作业开工时须有管理人员在现场";
    pub const ORIGIN: &str = "文章 §1.1；到岗标准见 [plans] onsite_roles，开工把关见 [plans] start_needs_onsite [INF]";
}

// ---- 现场检查 ------------------------------------------------------------------------------

/// How an item of an on-site checklist was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Pass,
    Fail,
    /// 不适用
    NotApplicable,
}

/// A site is checked while it is live: permitted, at work or interrupted.
pub fn check_site(state: State) -> Result<(), Violation> {
    use State::*;
    if matches!(state, Permitted | Started | Interrupted) {
        Ok(())
    } else {
        Err(Violation::of(rules::SUPERVISION_CHECK).with("state", state.code()))
    }
}

/// The checklist for work of `kind`: the first template made for that kind, else the first
/// for every kind (`templates` as `(code, kinds)` in their order; empty kinds: every kind).
pub fn template_for<'a>(kind: &str, templates: &'a [(String, Vec<String>)]) -> Option<&'a str> {
    templates
        .iter()
        .find(|(_, kinds)| kinds.iter().any(|k| k == kind))
        .or_else(|| templates.iter().find(|(_, kinds)| kinds.is_empty()))
        .map(|(code, _)| code.as_str())
}

// ---- 违章 ----------------------------------------------------------------------------------

/// The class of a violation (违章性质).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 管理违章
    Management,
    /// 行为违章
    Behaviour,
    /// 装置违章
    Equipment,
}

/// How severe a violation is (违章严重程度), most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 特别严重违章
    Grave,
    /// 严重违章
    Serious,
    /// 较严重违章
    Major,
    /// 一般违章
    General,
}

/// Who committed a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Offender {
    /// A person of the register: staff or a contractor's worker.
    Person,
    /// A team (班组) as a whole.
    Team,
    /// A contractor (外包单位) as a whole.
    Contractor,
    /// A customer (私自接电, an unregistered generator…).
    Customer,
}

macro_rules! codes {
    ($t:ty { $($v:ident => $code:literal,)* }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v,)*];
            pub fn code(self) -> &'static str {
                match self { $(<$t>::$v => $code,)* }
            }
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

codes!(Finding { Pass => "pass", Fail => "fail", NotApplicable => "na", });
codes!(Class { Management => "management", Behaviour => "behaviour", Equipment => "equipment", });
codes!(Severity { Grave => "grave", Serious => "serious", Major => "major", General => "general", });
codes!(Offender { Person => "person", Team => "team", Contractor => "contractor", Customer => "customer", });

impl Class {
    /// The class a published list or a spreadsheet writes: its code or Chinese name.
    pub fn read(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::from_code(t).or(match t.trim_end_matches("违章").trim_end_matches("性") {
            "管理" => Some(Class::Management),
            "行为" => Some(Class::Behaviour),
            "装置" => Some(Class::Equipment),
            _ => None,
        })
    }
}

impl Severity {
    /// The severity a published list or a spreadsheet writes: its code, its Chinese name, or the
    /// class of State Grid's serious-violation list (Ⅰ类 特别严重, Ⅱ类 严重, Ⅲ类 较严重 [UNVERIFIED]).
    pub fn read(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::from_code(t).or(match t.trim_end_matches("违章") {
            "特别严重" | "Ⅰ类" | "I类" | "一类" => Some(Severity::Grave),
            "严重" | "Ⅱ类" | "II类" | "二类" => Some(Severity::Serious),
            "较严重" | "Ⅲ类" | "III类" | "三类" => Some(Severity::Major),
            "一般" => Some(Severity::General),
            _ => None,
        })
    }

    /// 特别严重 and 严重 violations are explained at a recorded review meeting (说清楚).
    pub fn needs_review(self) -> bool {
        matches!(self, Severity::Grave | Severity::Serious)
    }
}

/// Points per severity, the period they accumulate over, and the thresholds that suspend a
/// person or put a contractor on the watch list or forward it for blacklisting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsRules {
    pub points: BTreeMap<Severity, u32>,
    /// A person whose points in the period reach this is suspended from field work.
    pub threshold: u32,
    /// The period's length in months (1, 2, 3, 4, 6 or 12), periods counted from 1 January.
    pub period_months: u32,
    /// A contractor whose points (its own and its workers') reach this goes on the watch list.
    pub contractor_watch: u32,
    /// …and at this is proposed for the blacklist.
    pub contractor_blacklist: u32,
}

/// Where the default points come from: for administrators.
pub const POINTS_ORIGIN: &str = "国家电网反违章工作的“违章记分”做法（记分周期内累计满 12 分暂停作业资格，重新培训考试合格后再准入）[INF]；各级违章的分值与外包单位的观察、黑名单建议分值为本系统默认值 [UNVERIFIED]；可在 [people] violation_points、suspension_points、points_period_months、contractor_watch_points、contractor_blacklist_points 中调整";

impl Default for PointsRules {
    fn default() -> Self {
        Self {
            points: BTreeMap::from([
                (Severity::Grave, 12),
                (Severity::Serious, 6),
                (Severity::Major, 3),
                (Severity::General, 1),
            ]),
            threshold: 12,
            period_months: 12,
            contractor_watch: 12,
            contractor_blacklist: 24,
        }
    }
}

impl PointsRules {
    pub fn points_of(&self, severity: Severity) -> u32 {
        self.points.get(&severity).copied().unwrap_or(0)
    }

    /// The first day of the period `day` falls in: periods of `period_months` counted from
    /// 1 January (a length that does not divide the year counts as a year).
    pub fn period_start(&self, day: NaiveDate) -> NaiveDate {
        let months = if [1, 2, 3, 4, 6, 12].contains(&self.period_months) { self.period_months } else { 12 };
        let month0 = (day.month0() / months) * months;
        NaiveDate::from_ymd_opt(day.year(), month0 + 1, 1).unwrap_or(day)
    }
}

/// A violation counted against someone: its number, when it happened, its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strike {
    pub number: String,
    pub at: Timestamp,
    pub points: u32,
}

/// Where someone stands on `day`: the points of the period's violations since the last
/// re-admission, and which they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub points: u32,
    pub threshold: u32,
    pub counted: Vec<String>,
}

impl Standing {
    /// Suspended exactly when the points reach the threshold (a threshold of 0 suspends no one).
    pub fn suspended(&self) -> bool {
        self.threshold > 0 && self.points >= self.threshold
    }
}

/// The standing on `day` from `strikes`: those from the period's first day to the end of
/// `day`, after `readmitted` (a re-admission clears what came before it).
pub fn standing(strikes: &[Strike], readmitted: Option<Timestamp>, day: NaiveDate, rules: &PointsRules) -> Standing {
    let from = rules.period_start(day);
    let mut counted: Vec<&Strike> = strikes
        .iter()
        .filter(|s| {
            let d = s.at.local_date();
            from <= d && d <= day && readmitted.is_none_or(|r| s.at > r)
        })
        .collect();
    counted.sort_by(|a, b| (a.at, &a.number).cmp(&(b.at, &b.number)));
    Standing {
        points: counted.iter().map(|s| s.points).sum(),
        threshold: rules.threshold,
        counted: counted.into_iter().map(|s| s.number.clone()).collect(),
    }
}

/// The suspension a person's field roles answer with, if his standing suspends him.
pub fn suspension(standing: &Standing) -> Option<Violation> {
    standing.suspended().then(|| {
        Violation::of(rules::PERSON_SUSPENDED)
            .with("points", standing.points)
            .with("threshold", standing.threshold)
            .with("violations", standing.counted.join("、"))
    })
}

/// What a contractor's points lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Watch {
    Clear,
    /// 列入观察名单
    Watch,
    /// 建议列入黑名单
    BlacklistProposal,
}

pub fn contractor_watch(points: u32, rules: &PointsRules) -> Watch {
    if rules.contractor_blacklist > 0 && points >= rules.contractor_blacklist {
        Watch::BlacklistProposal
    } else if rules.contractor_watch > 0 && points >= rules.contractor_watch {
        Watch::Watch
    } else {
        Watch::Clear
    }
}

/// Whether a re-admission (再准入) may be recorded: the person is suspended, every serious
/// violation counted was explained at its review meeting (说清楚, `unreviewed` names those that
/// were not), he was retrained on or before the exam, and passed it, both not in the future.
pub fn check_readmission(
    standing: &Standing,
    unreviewed: &[String],
    trained_on: NaiveDate,
    exam_on: NaiveDate,
    passed: bool,
    today: NaiveDate,
) -> Result<(), Violation> {
    let refuse = || Violation::of(rules::PERSON_READMISSION);
    if !standing.suspended() {
        return Err(refuse().with("points", standing.points).with("threshold", standing.threshold));
    }
    if !unreviewed.is_empty() {
        return Err(Violation::of(rules::VIOLATION_REVIEW).with("violations", unreviewed.join("、")));
    }
    if trained_on > exam_on || exam_on > today {
        return Err(refuse().with("day", exam_on));
    }
    if !passed {
        return Err(refuse().with("missing", "exam_passed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
