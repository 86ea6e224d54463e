//! Customer projects (业扩报装 and grid connection): a new connection or a capacity change goes
//! through its stages, each within a limit in working days; its design, hidden works and
//! completion are inspected under 首检负责制 (the first inspector of a stage owns one complete
//! defect list and answers for any defect found later); and no customer installation is
//! energised before its acceptance has passed and its defects are closed (the energising gate,
//! asked by the ticket lifecycle when a 装表接电 or 送电 ticket is permitted).
//!
//! Stages after research brief §4 [S-56]: 受理 → 供电方案答复 (its 现场勘查 recorded first) →
//! 设计审核 → 中间检查 → 竣工检验 → 装表接电. Low-voltage and residential cases are assessed on
//! the shorter path 受理 → 方案答复 → 装表接电: the brief's two assessed nodes, with the reply its
//! service commitments time for them (residential 3, LV 7 working days) [S-58].

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::ids::PersonId;
use crate::rules::{self, Violation};

/// What the customer asks for (业务类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// 新装
    New,
    /// 增容
    Increase,
    /// 变更 (改类、迁址、改压…)
    Change,
}

impl ProjectKind {
    pub const ALL: [ProjectKind; 3] = [ProjectKind::New, ProjectKind::Increase, ProjectKind::Change];

    pub fn code(self) -> &'static str {
        match self {
            ProjectKind::New => "new",
            ProjectKind::Increase => "increase",
            ProjectKind::Change => "change",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The marketing system's words (新装, 增容, 变更, and their usual longer forms) or the code.
    pub fn read(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::from_code(t).or(if t.contains("新装") {
            Some(ProjectKind::New)
        } else if t.contains("增容") {
            Some(ProjectKind::Increase)
        } else if t.contains("变更") || t.contains("改类") || t.contains("迁址") || t.contains("改压") {
            Some(ProjectKind::Change)
        } else {
            None
        })
    }
}

/// Which limits apply (the brief's classes of service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 居民客户
    Residential,
    /// 低压非居民
    LowVoltage,
    /// 高压单电源
    HighSingle,
    /// 高压双（多）电源
    HighDual,
}

/// The highest voltage (kV) a low-voltage connection has.
pub const LOW_VOLTAGE_KV: f64 = 1.0;

impl Class {
    pub const ALL: [Class; 4] = [Class::Residential, Class::LowVoltage, Class::HighSingle, Class::HighDual];

    pub fn code(self) -> &'static str {
        match self {
            Class::Residential => "residential",
            Class::LowVoltage => "lv",
            Class::HighSingle => "hv_single",
            Class::HighDual => "hv_dual",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The class of a connection at `voltage_kv`: residential or low-voltage below 1 kV, high
    /// voltage above, single or dual source.
    pub fn of(voltage_kv: f64, residential: bool, dual_source: bool) -> Self {
        match (voltage_kv <= LOW_VOLTAGE_KV, residential, dual_source) {
            (true, true, _) => Class::Residential,
            (true, false, _) => Class::LowVoltage,
            (false, _, false) => Class::HighSingle,
            (false, _, true) => Class::HighDual,
        }
    }

    pub fn high_voltage(self) -> bool {
        matches!(self, Class::HighSingle | Class::HighDual)
    }

    /// The stages a project of this class goes through, in order.
    pub fn path(self) -> &'static [Stage] {
        if self.high_voltage() {
            &[Stage::PlanReply, Stage::DesignReview, Stage::MidCheck, Stage::Completion, Stage::Energise]
        } else {
            &[Stage::PlanReply, Stage::Energise]
        }
    }
}

/// Where a project stands: the stage being worked, then energised or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 供电方案答复 (its 现场勘查 first); the clock runs from 受理.
    PlanReply,
    /// 设计审核 (图纸审查); the clock runs from the customer's submission of the drawings.
    DesignReview,
    /// 中间检查 (hidden works); from the customer's application.
    MidCheck,
    /// 竣工检验; from the customer's completion report.
    Completion,
    /// 装表接电; from the passed acceptance (or the reply, on the short path).
    Energise,
    /// 已送电
    Energised,
    /// 已终止
    Cancelled,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::PlanReply,
        Stage::DesignReview,
        Stage::MidCheck,
        Stage::Completion,
        Stage::Energise,
        Stage::Energised,
        Stage::Cancelled,
    ];
    /// The stages that have a time limit.
    pub const TIMED: [Stage; 5] =
        [Stage::PlanReply, Stage::DesignReview, Stage::MidCheck, Stage::Completion, Stage::Energise];

    pub fn code(self) -> &'static str {
        match self {
            Stage::PlanReply => "plan_reply",
            Stage::DesignReview => "design_review",
            Stage::MidCheck => "mid_check",
            Stage::Completion => "completion",
            Stage::Energise => "energise",
            Stage::Energised => "energised",
            Stage::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The stages an inspector decides by an inspection.
    pub fn inspected(self) -> bool {
        matches!(self, Stage::DesignReview | Stage::MidCheck | Stage::Completion)
    }

    /// Its clock starts when the customer submits (drawings, application, completion report).
    pub fn waits_for_customer(self) -> bool {
        self.inspected()
    }

    pub fn is_final(self) -> bool {
        matches!(self, Stage::Energised | Stage::Cancelled)
    }

    /// The stage after this one on `class`'s path; `Energised` after the last.
    pub fn next(self, class: Class) -> Stage {
        let path = class.path();
        path.iter().position(|s| *s == self).and_then(|i| path.get(i + 1)).copied().unwrap_or(Stage::Energised)
    }
}

/// A step on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStep {
    /// 现场勘查 recorded (the customer manager, with the survey's record).
    Survey,
    /// 供电方案答复: the reply given to the customer.
    Reply,
    /// 客户报审/报验: the customer submitted drawings, applied for the mid-term check or reported
    /// completion; the stage's clock starts.
    Submit,
    /// An inspection of the stage (the inspector).
    Inspect,
    /// 等待客户: the clock stops, with the reason.
    Pause,
    /// The customer is back: the clock runs again.
    Resume,
    /// 装表接电 done: supply given.
    Energise,
    /// 终止 (the customer withdrew), with the reason.
    Cancel,
}

impl ProjectStep {
    pub const ALL: [ProjectStep; 8] = [
        ProjectStep::Survey,
        ProjectStep::Reply,
        ProjectStep::Submit,
        ProjectStep::Inspect,
        ProjectStep::Pause,
        ProjectStep::Resume,
        ProjectStep::Energise,
        ProjectStep::Cancel,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ProjectStep::Survey => "survey",
            ProjectStep::Reply => "reply",
            ProjectStep::Submit => "submit",
            ProjectStep::Inspect => "inspect",
            ProjectStep::Pause => "pause",
            ProjectStep::Resume => "resume",
            ProjectStep::Energise => "energise",
            ProjectStep::Cancel => "cancel",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What a step decides on, loaded inside the transaction that takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub class: Class,
    pub stage: Stage,
    /// 现场勘查 recorded.
    pub surveyed: bool,
    /// The current stage's clock runs (or ran): 受理 for the reply, the customer's submission
    /// for an inspected stage, the passed acceptance for 装表接电.
    pub clock_started: bool,
    /// Waiting on the customer: the clock is stopped.
    pub paused: bool,
    /// Defects of the project not yet closed, in the words they were written.
    pub open_defects: Vec<String>,
}

/// The stage `step` leads to, or why it is refused.
pub fn check(p: &Project, step: ProjectStep) -> Result<Stage, Violation> {
    let state =
        || Violation::of(rules::PROJECT_STATE).with("project_step", step.code()).with("project_stage", p.stage.code());
    if p.stage.is_final() {
        return Err(state());
    }
    if p.paused && !matches!(step, ProjectStep::Resume | ProjectStep::Cancel) {
        return Err(Violation::of(rules::PROJECT_PAUSED).with("project_stage", p.stage.code()));
    }
    match step {
        ProjectStep::Survey if p.stage == Stage::PlanReply && !p.surveyed => Ok(p.stage),
        ProjectStep::Reply if p.stage == Stage::PlanReply => {
            if p.surveyed {
                Ok(p.stage.next(p.class))
            } else {
                Err(Violation::of(rules::PROJECT_SURVEY))
            }
        }
        ProjectStep::Submit if p.stage.waits_for_customer() && !p.clock_started => Ok(p.stage),
        ProjectStep::Inspect if p.stage.inspected() => {
            if p.clock_started {
                Ok(p.stage)
            } else {
                Err(Violation::of(rules::PROJECT_SUBMISSION).with("project_stage", p.stage.code()))
            }
        }
        ProjectStep::Pause if p.clock_started || p.stage == Stage::PlanReply => Ok(p.stage),
        ProjectStep::Resume if p.paused => Ok(p.stage),
        ProjectStep::Energise if p.stage == Stage::Energise => match p.open_defects.first() {
            Some(d) => {
                Err(Violation::of(rules::PROJECT_DEFECTS_OPEN).with("defect", d).with("defects", p.open_defects.len()))
            }
            None => Ok(Stage::Energised),
        },
        ProjectStep::Cancel => Ok(Stage::Cancelled),
        _ => Err(state()),
    }
}

// ---- 首检负责制 ------------------------------------------------------------------------------

/// A defect of the first list as a later inspection answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recheck {
    pub defect: i64,
    /// 已整改
    pub rectified: bool,
}

/// What an inspection of a stage decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    /// The one accountable for the stage's defect list: the first inspector.
    pub accountable: PersonId,
    /// New defects found by a later inspection: missed by the first inspector (首检负责制).
    pub missed: usize,
}

/// An inspection of a stage by `inspector`: the first one (`first` is `None`) makes the one
/// complete defect list and becomes accountable for it; a later one answers every open defect
/// of that list (rectified or not) and any new defect it finds counts against the first
/// inspector. The stage passes when no defect is left open.
pub fn judge(
    first: Option<PersonId>,
    inspector: PersonId,
    open: &[i64],
    rechecks: &[Recheck],
    new_defects: usize,
) -> Result<Verdict, Violation> {
    let unanswered = open.iter().filter(|d| !rechecks.iter().any(|r| r.defect == **d)).count();
    // An answer about a defect not on the stage's open list (or any, at a first inspection).
    let stray = rechecks.iter().any(|r| !open.contains(&r.defect));
    if unanswered > 0 || stray {
        return Err(Violation::of(rules::PROJECT_RECHECK).with("unanswered", unanswered));
    }
    let Some(accountable) = first else {
        return Ok(Verdict { passed: new_defects == 0, accountable: inspector, missed: 0 });
    };
    let still_open = rechecks.iter().filter(|r| !r.rectified).count();
    Ok(Verdict { passed: still_open == 0 && new_defects == 0, accountable, missed: new_defects })
}

// ---- the energising gate -------------------------------------------------------------------

/// An open project of a ticket's customer, as the energising gate reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Gate {
    /// 业扩编号
    pub number: String,
    /// Its acceptance has passed (the short path: its reply is given).
    pub accepted: bool,
    /// Its defects not yet closed.
    pub open_defects: Vec<String>,
}

impl Gate {
    /// Why supply may not yet be given to this project's installation.
    pub fn check(&self) -> Vec<Violation> {
        let mut refusals = Vec::new();
        if !self.accepted {
            refusals.push(Violation::of(rules::PROJECT_NOT_ACCEPTED).with("project", &self.number));
        }
        if let Some(d) = self.open_defects.first() {
            refusals.push(
                Violation::of(rules::PROJECT_DEFECTS_OPEN)
                    .with("project", &self.number)
                    .with("defect", d)
                    .with("defects", self.open_defects.len()),
            );
        }
        refusals
    }
}

/// The finding energising before acceptance raises in the application's cross-audit, beside
/// the export's rules (the export has no projects).
pub mod audit {
    pub const CODE: &str = "PROJECT_ENERGISED_EARLY";
    pub const CHINESE: &str = "业扩工程未验收合格即装表送电";
    pub const REGULATION: &str =
        "《供电营业规则》及国家电网业扩报装管理规定：客户受电工程竣工检验合格、缺陷整改完毕后方可装表接电";
    pub const ORIGIN: &str = "文章 §3.1–3.2；研究简报 §4 [S-56][S-59]；装表接电工单或上电事件早于验收合格（低压为方案答复）即为发现；增容、变更工程原有供电，只看装表接电工单 [INF]";
}

/// An imported order or meter event on a project's customer, as the audit reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Energising {
    /// `order` or `event` (the cross-audit's kinds).
    pub entity_kind: &'static str,
    pub entity_id: String,
    pub project: String,
    pub kind: ProjectKind,
    /// 受理 and the moment the gate opened, UTC text as stored; the event's time.
    pub registered: String,
    pub cleared: Option<String>,
    pub at: String,
    /// A meter install order (else a power-up event).
    pub install: bool,
}

/// Energising of a project's installation before its gate opened: every order or event after
/// its registration and before its acceptance (a power-up only counts for a new connection).
pub fn early(rows: &[Energising]) -> Vec<&Energising> {
    rows.iter()
        .filter(|e| e.install || e.kind == ProjectKind::New)
        .filter(|e| e.at >= e.registered && e.cleared.as_ref().is_none_or(|c| e.at < *c))
        .collect()
}

// ---- working days --------------------------------------------------------------------------

/// Which days are worked: Monday to Friday, except the holidays, plus the weekend days worked
/// in their place (调休上班).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub holidays: BTreeSet<NaiveDate>,
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn is_working(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }
}

/// A stretch the project waited on the customer: the days from `from` up to (not including)
/// `until` do not count; an open pause has no `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Pause {
    pub fn covers(&self, day: NaiveDate) -> bool {
        day >= self.from && self.until.is_none_or(|u| day < u)
    }
}

/// Longest span the working-day arithmetic looks through (a calendar with no working day in ten
/// years has no due date).
const HORIZON_DAYS: i64 = 3660;

fn counts(cal: &Calendar, pauses: &[Pause], day: NaiveDate) -> bool {
    cal.is_working(day) && !pauses.iter().any(|p| p.covers(day))
}

/// The last day of a limit of `limit` working days whose clock started on `start`: the
/// `limit`-th counted day after it (the day the clock starts does not count, paused days never
/// do). `None` while a pause is open (the clock is stopped) or when no such day is found.
pub fn due(cal: &Calendar, start: NaiveDate, limit: u32, pauses: &[Pause]) -> Option<NaiveDate> {
    if pauses.iter().any(|p| p.until.is_none()) {
        return None;
    }
    let mut left = limit.max(1);
    let mut day = start;
    for _ in 0..HORIZON_DAYS {
        day = day.succ_opt()?;
        if counts(cal, pauses, day) {
            left -= 1;
            if left == 0 {
                return Some(day);
            }
        }
    }
    None
}

/// Working days used from `start` (not counted) to `end` (counted), paused days left out.
pub fn used(cal: &Calendar, start: NaiveDate, end: NaiveDate, pauses: &[Pause]) -> u32 {
    let days = (end - start).num_days().clamp(0, HORIZON_DAYS);
    (1..=days).filter(|i| counts(cal, pauses, start + Duration::days(*i))).count() as u32
}

/// Where a stage stands against its limit on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// The clock has not started (waiting for the customer's submission).
    NotStarted,
    /// Stopped while waiting on the customer.
    Paused,
    Running {
        due: NaiveDate,
    },
    Overdue {
        due: NaiveDate,
    },
    OnTime {
        due: NaiveDate,
    },
    Late {
        due: NaiveDate,
    },
}

impl Timing {
    pub fn code(self) -> &'static str {
        match self {
            Timing::NotStarted => "not_started",
            Timing::Paused => "paused",
            Timing::Running { .. } => "running",
            Timing::Overdue { .. } => "overdue",
            Timing::OnTime { .. } => "on_time",
            Timing::Late { .. } => "late",
        }
    }

    pub fn due(self) -> Option<NaiveDate> {
        match self {
            Timing::Running { due } | Timing::Overdue { due } | Timing::OnTime { due } | Timing::Late { due } => {
                Some(due)
            }
            _ => None,
        }
    }
}

/// A stage's timing: its clock start, limit, pauses and end (when finished) on `today`.
pub fn timing(
    cal: &Calendar,
    clock_from: Option<NaiveDate>,
    limit: u32,
    pauses: &[Pause],
    finished: Option<NaiveDate>,
    today: NaiveDate,
) -> Timing {
    let Some(start) = clock_from else { return Timing::NotStarted };
    // A finished stage: any pause still open ended when it finished.
    let closed: Vec<Pause> = match finished {
        Some(end) => pauses.iter().map(|p| Pause { from: p.from, until: Some(p.until.unwrap_or(end)) }).collect(),
        None => pauses.to_vec(),
    };
    let Some(due) = due(cal, start, limit, &closed) else { return Timing::Paused };
    match finished {
        Some(end) if end <= due => Timing::OnTime { due },
        Some(_) => Timing::Late { due },
        None if today > due => Timing::Overdue { due },
        None => Timing::Running { due },
    }
}

// ---- limits --------------------------------------------------------------------------------

/// One row of the limits table: a stage's limit for a class, in working days, with its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub stage: Stage,
    pub class: Class,
    pub days: u32,
    pub origin: String,
}

/// The brief's limits (§4), each with its origin, for administrators.
pub fn default_limits() -> Vec<Limit> {
    use Class::*;
    use Stage::*;
    let s56 = "研究简报 §4 [S-56]（国家电网业扩报装考核办法，SG186）";
    let s58 = "研究简报 §4 [S-58]（国家电网供电服务承诺）";
    let rows: [(Stage, Class, u32, &str); 14] = [
        (PlanReply, Residential, 3, s58),
        (PlanReply, LowVoltage, 7, s58),
        (PlanReply, HighSingle, 15, s56),
        (PlanReply, HighDual, 30, s56),
        (DesignReview, HighSingle, 10, s56),
        (DesignReview, HighDual, 10, s56),
        (MidCheck, HighSingle, 5, s56),
        (MidCheck, HighDual, 5, s56),
        (Completion, HighSingle, 5, s56),
        (Completion, HighDual, 5, s56),
        (Energise, Residential, 3, s58),
        (Energise, LowVoltage, 5, s58),
        (Energise, HighSingle, 5, s56),
        (Energise, HighDual, 5, s56),
    ];
    rows.into_iter()
        .map(|(stage, class, days, origin)| Limit { stage, class, days, origin: origin.to_owned() })
        .collect()
}

/// The limit of `stage` for `class` in `rows` (one version of the table); the brief's when the
/// version has none.
pub fn limit_of(rows: &[Limit], stage: Stage, class: Class) -> u32 {
    rows.iter().chain(default_limits().iter()).find(|l| l.stage == stage && l.class == class).map_or(5, |l| l.days)
}

/// The most working days one limit may be set to.
pub const MAX_LIMIT_DAYS: u32 = 120;

#[cfg(test)]
mod tests;
