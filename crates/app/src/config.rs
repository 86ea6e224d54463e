//! Settings of the account and audit rules (`[security]` and `[audit]` in `gridsafe.toml`).
//! Each default names where it comes from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Duration;
use gridsafe_domain::account::{DormancyPolicy, LockoutPolicy, SessionPolicy, SignaturePolicy};
use gridsafe_domain::orders::{OrderType, OrderTypeSet};
use gridsafe_domain::password::{PasswordPolicy, PasswordProfile};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// `dengbao3` (等保 level 3: ≥ 8 characters, three of four classes) or `basic` (≥ 8 characters).
    pub password_profile: PasswordProfile,
    /// Days before a password must be changed; 0 for never.
    pub password_max_age_days: u32,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A session ends this many hours after sign-in.
    pub session_absolute_hours: u32,
    /// Failed sign-ins that lock an account …
    pub lockout_failures: u32,
    /// … for this many minutes.
    pub lockout_minutes: u32,
    /// Sign-in attempts one client (IP address) may make per window, whatever the account.
    pub login_attempts_per_window: u32,
    pub login_window_seconds: u32,
    /// Days without a sign-in before an account is flagged dormant (article §6.2).
    pub dormant_after_days: u32,
    /// Days between the dormant flag and disabling the account.
    pub dormant_notice_days: u32,
    /// Longest validity of an API token, in days.
    pub api_token_max_days: u32,
    /// Mark cookies `Secure`: set when GridSafe is served over HTTPS (behind a TLS proxy).
    pub secure_cookies: bool,
    /// Password hashes computed at once (each Argon2id check takes about 19 MiB); 0: one per core.
    pub hash_workers: u32,
    /// Sign-ins that may wait for a hash; beyond that, "busy, retry" (503).
    pub hash_queue: u32,
    /// Longest wait for a hash, milliseconds, before "busy, retry".
    pub hash_wait_ms: u32,
    /// Minutes a password typed at sign-in or at a signature counts for signing work (签发、许可、
    /// 终结) in a browser; after that the signature asks for it again; 0: every time. Default 15
    /// [INF]: short enough that an open session left on a shared computer does not sign work.
    pub signature_window_minutes: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            password_profile: PasswordProfile::Dengbao3,
            password_max_age_days: 0,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_failures: 5,
            lockout_minutes: 15,
            login_attempts_per_window: 30,
            login_window_seconds: 300,
            dormant_after_days: 180,
            dormant_notice_days: 14,
            api_token_max_days: 365,
            secure_cookies: false,
            hash_workers: 0,
            hash_queue: 16,
            hash_wait_ms: 5000,
            signature_window_minutes: 15,
        }
    }
}

impl SecurityConfig {
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            profile: self.password_profile,
            max_age_days: (self.password_max_age_days > 0).then_some(self.password_max_age_days),
        }
    }

    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle: Duration::minutes(i64::from(self.session_idle_minutes)),
            absolute: Duration::hours(i64::from(self.session_absolute_hours)),
        }
    }

    pub fn signature_policy(&self) -> SignaturePolicy {
        SignaturePolicy { window: Duration::minutes(i64::from(self.signature_window_minutes)) }
    }

    pub fn lockout_policy(&self) -> LockoutPolicy {
        LockoutPolicy {
            max_failures: self.lockout_failures,
            lock_for: Duration::minutes(i64::from(self.lockout_minutes)),
        }
    }

    pub fn dormancy_policy(&self) -> DormancyPolicy {
        DormancyPolicy { inactive_days: self.dormant_after_days, notice_days: self.dormant_notice_days }
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let positive = [
            ("security.session_idle_minutes", self.session_idle_minutes),
            ("security.session_absolute_hours", self.session_absolute_hours),
            ("security.lockout_failures", self.lockout_failures),
            ("security.lockout_minutes", self.lockout_minutes),
            ("security.login_attempts_per_window", self.login_attempts_per_window),
            ("security.login_window_seconds", self.login_window_seconds),
            ("security.dormant_after_days", self.dormant_after_days),
            ("security.api_token_max_days", self.api_token_max_days),
            ("security.hash_wait_ms", self.hash_wait_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                problems.push((key, "must be at least 1".to_owned()));
            }
        }
        if self.hash_workers > 64 || self.hash_queue > 1024 {
            problems.push(("security.hash_workers / hash_queue", "must be at most 64 / 1024".to_owned()));
        }
        problems
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// The Ed25519 key that signs checkpoints of the audit chain. Keep it outside the database
    /// (and its backups): whoever can rewrite the database must not also be able to sign.
    /// Created on first start if missing.
    pub signing_key_path: PathBuf,
    /// Minutes between signed checkpoints of the chain head.
    pub checkpoint_minutes: u32,
    /// Minutes of grace beyond `checkpoint_minutes` before events without a signed checkpoint
    /// make verification fail (the scheduler looks once a minute; a busy job may run late).
    pub checkpoint_slack_minutes: u32,
    /// Days audit events are kept; at least 180 (等保 level 3 log retention).
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            signing_key_path: PathBuf::from("gridsafe-data/audit-signing.key"),
            checkpoint_minutes: 10,
            checkpoint_slack_minutes: 5,
            retention_days: 365,
        }
    }
}

impl AuditConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.retention_days < 180 {
            problems.push(("audit.retention_days", "must be at least 180".to_owned()));
        }
        if self.checkpoint_minutes == 0 {
            problems.push(("audit.checkpoint_minutes", "must be at least 1".to_owned()));
        }
        problems
    }
}

/// Settings of the people and contractor registers (`[people]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeopleConfig {
    /// Warn this many days before a qualification, licence or agreement expires.
    pub expiry_warning_days: u32,
    /// Highest customer voltage (kV) inspectors of level 1, 2 and 3 may inspect.
    /// Default 220 / 10 / 0.4: a recollection of State Grid practice, not verified against a
    /// source (research brief §1.3); set your province's values.
    pub inspector_max_kv: [f64; 3],
    /// Highest voltage (kV) a contractor licence of level 2–5 covers (level 1: no bound).
    /// Default 220 / 110 / 35 / 10, from the 承装(修、试)电力设施许可证 levels (research brief §4, S-62).
    pub license_max_kv: [f64; 4],
    /// Violation points (违章记分) by severity (`grave`, `serious`, `major`, `general`), where
    /// they differ from the default 12 / 6 / 3 / 1 (this system's default [INF][UNVERIFIED]).
    pub violation_points: BTreeMap<String, u32>,
    /// Points in a period that suspend a person's field roles until re-admitted (default 12;
    /// 0 suspends no one).
    pub suspension_points: u32,
    /// The points period in months, counted from 1 January (1, 2, 3, 4, 6 or 12; default 12).
    pub points_period_months: u32,
    /// A contractor's points (its own and its workers') that put it on the watch list (default
    /// 12) and propose it for the blacklist (default 24).
    pub contractor_watch_points: u32,
    pub contractor_blacklist_points: u32,
}

impl Default for PeopleConfig {
    fn default() -> Self {
        let points = gridsafe_domain::supervision::PointsRules::default();
        Self {
            expiry_warning_days: 30,
            inspector_max_kv: [220.0, 10.0, 0.4],
            license_max_kv: [220.0, 110.0, 35.0, 10.0],
            violation_points: BTreeMap::new(),
            suspension_points: points.threshold,
            points_period_months: points.period_months,
            contractor_watch_points: points.contractor_watch,
            contractor_blacklist_points: points.contractor_blacklist,
        }
    }
}

impl PeopleConfig {
    pub fn role_rules(&self) -> gridsafe_domain::people::RoleRules {
        let l = self.license_max_kv;
        gridsafe_domain::people::RoleRules {
            inspector_max_kv: self.inspector_max_kv,
            license_max_kv: [None, Some(l[0]), Some(l[1]), Some(l[2]), Some(l[3])],
            points: self.points_rules(),
        }
    }

    /// The violation points table: the defaults with this deployment's changes.
    pub fn points_rules(&self) -> gridsafe_domain::supervision::PointsRules {
        use gridsafe_domain::supervision::{PointsRules, Severity};
        let mut rules = PointsRules {
            threshold: self.suspension_points,
            period_months: self.points_period_months,
            contractor_watch: self.contractor_watch_points,
            contractor_blacklist: self.contractor_blacklist_points,
            ..PointsRules::default()
        };
        for (code, points) in &self.violation_points {
            if let Some(s) = Severity::from_code(code) {
                rules.points.insert(s, *points);
            }
        }
        rules
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.expiry_warning_days == 0 || self.expiry_warning_days > 366 {
            problems.push(("people.expiry_warning_days", "must be 1–366".to_owned()));
        }
        if self.inspector_max_kv.iter().chain(&self.license_max_kv).any(|v| !(v.is_finite() && *v > 0.0)) {
            problems.push(("people.inspector_max_kv / license_max_kv", "must be positive voltages".to_owned()));
        }
        for (code, points) in &self.violation_points {
            if gridsafe_domain::supervision::Severity::from_code(code).is_none() || *points > 100 {
                problems.push(("people.violation_points", format!("{code}: grave/serious/major/general, 0–100")));
            }
        }
        if ![1, 2, 3, 4, 6, 12].contains(&self.points_period_months) {
            problems.push(("people.points_period_months", "must be 1, 2, 3, 4, 6 or 12".to_owned()));
        }
        if self.suspension_points > 1000
            || self.contractor_watch_points > 1000
            || self.contractor_blacklist_points > 1000
        {
            problems.push(("people.suspension_points / contractor_*_points", "at most 1000".to_owned()));
        }
        problems
    }
}

/// Settings of work tickets (`[tickets]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketsConfig {
    /// Tickets covering work orders of these types must all be evaluated (业扩 and 装表接电).
    /// Default new_connection, capacity_change (业扩) and meter_install (装表接电), from the
    /// source article §1.1 (PRODUCT.md, Ticket evaluation); the cross-audit uses the same set.
    pub must_evaluate: Vec<String>,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        Self { must_evaluate: ["new_connection", "capacity_change", "meter_install"].map(String::from).to_vec() }
    }
}

impl TicketsConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        self.must_evaluate
            .iter()
            .filter(|t| OrderType::parse(t).is_none())
            .map(|t| ("tickets.must_evaluate", format!("unknown order type {t}")))
            .collect()
    }

    /// The work kinds whose tickets must all be evaluated: a ticket of such a kind, or linked
    /// to an order of such a kind.
    pub fn must_evaluate_set(&self) -> OrderTypeSet {
        self.must_evaluate.iter().filter_map(|t| OrderType::parse(t)).collect()
    }
}

/// Settings of the cross-audit in the application (`[crossaudit]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrossAuditConfig {
    /// Fewest distinct people on an order or ticket (default 2, `cross-audit.md`).
    pub min_people: u32,
    /// Slack around a ticket's window for meter-cover events, minutes (default 30).
    pub event_margin_minutes: u32,
    /// Days after which an ended 业扩/装表接电 ticket must have been evaluated (default 7).
    pub evaluation_days: u32,
    /// Days a rectification task gets by default when a finding is confirmed (default 15) [INF].
    pub task_days: u32,
    /// The hazard grade a confirmed finding enters the closed loop with (default `general`,
    /// 一般隐患) [INF]; its days bound the deadline.
    pub finding_grade: String,
    /// Most work orders or meter events in one pushed batch (`POST /api/v1/work-orders`,
    /// `/api/v1/meter-events`; default 1,000).
    pub push_batch_max: u32,
}

impl Default for CrossAuditConfig {
    fn default() -> Self {
        Self {
            min_people: 2,
            event_margin_minutes: 30,
            evaluation_days: 7,
            task_days: 15,
            finding_grade: "general".into(),
            push_batch_max: 1000,
        }
    }
}

impl CrossAuditConfig {
    pub fn thresholds(&self) -> gridsafe_crossaudit::engine::Thresholds {
        gridsafe_crossaudit::engine::Thresholds {
            min_people: self.min_people as usize,
            event_margin_minutes: i64::from(self.event_margin_minutes),
            evaluation_days: i64::from(self.evaluation_days),
            must_evaluate: gridsafe_domain::orders::OrderTypeSet::FULL_EVALUATION,
        }
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !(1..=20).contains(&self.min_people) {
            problems.push(("crossaudit.min_people", "must be 1–20".to_owned()));
        }
        if self.event_margin_minutes > 24 * 60 {
            problems.push(("crossaudit.event_margin_minutes", "must be at most 1440".to_owned()));
        }
        if !(1..=365).contains(&self.evaluation_days) || !(1..=365).contains(&self.task_days) {
            problems.push(("crossaudit.evaluation_days / task_days", "must be 1–365".to_owned()));
        }
        if !(1..=10_000).contains(&self.push_batch_max) {
            problems.push(("crossaudit.push_batch_max", "must be 1–10000".to_owned()));
        }
        problems
    }
}

/// Settings of customer inspections and hazards (`[inspections]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectionsConfig {
    /// Largest photo or signed copy accepted, bytes (default 5 MiB) [INF].
    pub max_upload_bytes: u64,
    /// Fewest inspectors on site (default 2, 《用电检查管理办法》; never fewer than 2).
    pub min_inspectors: u32,
    /// An overdue hazard is escalated (督办) one unit further up every this many days
    /// (default 7) [INF, research brief §3 [S-53] 逾期督办].
    pub escalate_every_days: u32,
    /// Levels above the hazard's unit it may reach (default 2: the county's city, then the
    /// province) [INF].
    pub escalate_max_levels: u32,
    /// Days within which a grid-side hazard gets its rectification plan, or it is escalated
    /// (default 3: the article's 立即制定整改计划 §4.1, the number a default [INF]).
    pub plan_within_days: u32,
    /// Industries likely to run unregistered emergency power: their customers are on the
    /// six-month special check unless registered emergency power is recorded (default
    /// 移动基站, 养殖场, 银行: the article §4.2).
    pub emergency_power_industries: Vec<String>,
}

impl Default for InspectionsConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 5 * 1024 * 1024,
            min_inspectors: 2,
            escalate_every_days: 7,
            escalate_max_levels: 2,
            plan_within_days: 3,
            emergency_power_industries: gridsafe_domain::inspections::SUSPECT_INDUSTRIES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

impl InspectionsConfig {
    /// The upload limit in MiB, as the pages say it.
    pub fn max_upload_mib(&self) -> f64 {
        self.max_upload_bytes as f64 / 1_048_576.0
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !(1024..=50 * 1024 * 1024).contains(&self.max_upload_bytes) {
            problems.push(("inspections.max_upload_bytes", "must be 1 KiB – 50 MiB".to_owned()));
        }
        if !(2..=10).contains(&self.min_inspectors) {
            problems.push(("inspections.min_inspectors", "must be 2–10".to_owned()));
        }
        if !(1..=365).contains(&self.escalate_every_days) || !(1..=10).contains(&self.escalate_max_levels) {
            problems.push(("inspections.escalate_every_days / escalate_max_levels", "must be 1–365 / 1–10".to_owned()));
        }
        if !(1..=30).contains(&self.plan_within_days) {
            problems.push(("inspections.plan_within_days", "must be 1–30".to_owned()));
        }
        if self.emergency_power_industries.len() > 50
            || self.emergency_power_industries.iter().any(|i| i.trim().is_empty() || i.chars().count() > 50)
        {
            problems.push(("inspections.emergency_power_industries", "at most 50 names of 1–50 characters".to_owned()));
        }
        problems
    }
}

/// Settings of work plans and outages (`[plans]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlansConfig {
    /// Hours ahead a planned outage is announced (default 168: seven days, research brief §4).
    pub outage_planned_notice_hours: u32,
    /// Hours ahead a temporary outage is announced (default 24, research brief §4).
    pub outage_temporary_notice_hours: u32,
    /// Whether a ticket naming no plan item (计划外作业) needs its reason approved by the unit's
    /// manager before issue (default on: article §2.2; the approval is this system's practice).
    pub unplanned_needs_approval: bool,
    /// Document types that are unplanned by nature and issued without that approval (default
    /// the emergency repair form, 故障紧急抢修单).
    pub unplanned_exempt_types: Vec<String>,
    /// Risk grades (作业风险分级, 1 = 一级 highest … 5 = 五级 lowest): the base grade of a kind of
    /// work, by order type code, where it differs from the default table.
    pub risk_base: BTreeMap<String, u8>,
    /// How many grades a condition raises the work (`high_voltage`, `live_work`,
    /// `contractor_crew`, `important_customer`, `several_teams`, `outage`), where it differs
    /// from the default (one each).
    pub risk_raise: BTreeMap<String, u8>,
    /// Who must be on site (到岗到位) at each risk grade: role codes by grade ("1" … "5"), any
    /// one of which satisfies it, where it differs from the default (一、二级 `leader`; 三级
    /// `leader` or `safety_auditor`; 四、五级 none). An empty list needs no one.
    pub onsite_roles: BTreeMap<String, Vec<String>>,
    /// Whether work that needs a manager on site is refused 开工 until one has arrived (default
    /// on); off, missing attendance is only reported as a finding.
    pub start_needs_onsite: bool,
    /// Minutes before the planned start a manager's arrival is accepted (default 60).
    pub arrive_early_minutes: u32,
}

impl Default for PlansConfig {
    fn default() -> Self {
        let rule = gridsafe_domain::outages::NoticeRule::default();
        Self {
            outage_planned_notice_hours: rule.planned_hours as u32,
            outage_temporary_notice_hours: rule.temporary_hours as u32,
            unplanned_needs_approval: true,
            unplanned_exempt_types: vec!["emergency_repair".to_owned()],
            risk_base: BTreeMap::new(),
            risk_raise: BTreeMap::new(),
            onsite_roles: BTreeMap::new(),
            start_needs_onsite: true,
            arrive_early_minutes: 60,
        }
    }
}

impl PlansConfig {
    pub fn notice_rule(&self) -> gridsafe_domain::outages::NoticeRule {
        gridsafe_domain::outages::NoticeRule {
            planned_hours: i64::from(self.outage_planned_notice_hours),
            temporary_hours: i64::from(self.outage_temporary_notice_hours),
        }
    }

    /// The grading table: the defaults with this deployment's changes.
    pub fn risk_table(&self) -> gridsafe_domain::risk::Table {
        use gridsafe_domain::risk::{Condition, Table};
        let mut table = Table::default();
        for (code, grade) in &self.risk_base {
            if let Some(kind) = gridsafe_domain::orders::OrderType::parse(code) {
                table.base.insert(kind, *grade);
            }
        }
        for (code, raise) in &self.risk_raise {
            if let Some(c) = Condition::from_code(code) {
                table.raise.insert(c, *raise);
            }
        }
        table
    }

    /// Who must be on site at each grade: the defaults with this deployment's changes.
    pub fn onsite_table(&self) -> gridsafe_domain::supervision::OnSiteTable {
        let mut table = gridsafe_domain::supervision::OnSiteTable::default();
        for (grade, roles) in &self.onsite_roles {
            if let Ok(g) = grade.parse::<u8>() {
                table.by_grade.insert(g, roles.clone());
            }
        }
        table
    }

    /// Whether a ticket of document type `code` naming no plan item needs the manager's approval.
    pub fn unplanned_needs_approval(&self, code: &str) -> bool {
        self.unplanned_needs_approval && !self.unplanned_exempt_types.iter().any(|t| t == code)
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !(1..=90 * 24).contains(&self.outage_planned_notice_hours) {
            problems.push(("plans.outage_planned_notice_hours", "must be 1–2160".to_owned()));
        }
        if !(1..=30 * 24).contains(&self.outage_temporary_notice_hours) {
            problems.push(("plans.outage_temporary_notice_hours", "must be 1–720".to_owned()));
        }
        if self.unplanned_exempt_types.len() > 50
            || self.unplanned_exempt_types.iter().any(|t| t.trim().is_empty() || t.chars().count() > 50)
        {
            problems.push(("plans.unplanned_exempt_types", "at most 50 codes of 1–50 characters".to_owned()));
        }
        for (code, grade) in &self.risk_base {
            if gridsafe_domain::orders::OrderType::parse(code).is_none() || !(1..=5).contains(grade) {
                problems.push(("plans.risk_base", format!("{code}: an order type code, grade 1–5")));
            }
        }
        for (code, raise) in &self.risk_raise {
            if gridsafe_domain::risk::Condition::from_code(code).is_none() || *raise > 4 {
                problems.push(("plans.risk_raise", format!("{code}: a condition code, 0–4 grades")));
            }
        }
        for (grade, roles) in &self.onsite_roles {
            if !grade.parse::<u8>().is_ok_and(|g| (1..=5).contains(&g))
                || roles.len() > 10
                || roles.iter().any(|r| r.trim().is_empty() || r.chars().count() > 50)
            {
                problems.push(("plans.onsite_roles", format!("{grade}: a grade 1–5, at most 10 role codes")));
            }
        }
        if self.arrive_early_minutes > 24 * 60 {
            problems.push(("plans.arrive_early_minutes", "at most 1440".to_owned()));
        }
        problems
    }
}

/// Settings of emergency plans and drills (`[emergency]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmergencyConfig {
    /// Months within which a unit drills one of its 综合 or 专项 plans (default 12, research
    /// brief §5 [S-67][S-68]).
    pub unit_drill_months: u32,
    /// Months within which each 现场处置方案 is drilled (default 6, research brief §5 [S-67][S-68]).
    pub onsite_drill_months: u32,
    /// Months within which an important customer drills its own plan (default 12, brief §5 [S-46]).
    pub customer_drill_months: u32,
    /// Longest a plan goes before its review (评估), in years (default 3 [UNVERIFIED]).
    pub plan_review_years: u32,
    /// Days before a drill's due day it appears on the safety auditor's home page (default 30).
    pub drill_warning_days: u32,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        let cycles = gridsafe_domain::emergency::DrillCycles::default();
        Self {
            unit_drill_months: cycles.unit_months,
            onsite_drill_months: cycles.onsite_months,
            customer_drill_months: cycles.customer_months,
            plan_review_years: 3,
            drill_warning_days: 30,
        }
    }
}

impl EmergencyConfig {
    pub fn cycles(&self) -> gridsafe_domain::emergency::DrillCycles {
        gridsafe_domain::emergency::DrillCycles {
            unit_months: self.unit_drill_months,
            onsite_months: self.onsite_drill_months,
            customer_months: self.customer_drill_months,
        }
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        for (key, months) in [
            ("emergency.unit_drill_months", self.unit_drill_months),
            ("emergency.onsite_drill_months", self.onsite_drill_months),
            ("emergency.customer_drill_months", self.customer_drill_months),
        ] {
            if !(1..=60).contains(&months) {
                problems.push((key, "must be 1–60".to_owned()));
            }
        }
        if !(1..=10).contains(&self.plan_review_years) {
            problems.push(("emergency.plan_review_years", "must be 1–10".to_owned()));
        }
        if self.drill_warning_days > 365 {
            problems.push(("emergency.drill_warning_days", "at most 365".to_owned()));
        }
        problems
    }
}

/// Settings of the monthly supervision report (`[quality]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// The day of the next month by which a month's report is issued: a draft not issued by then
    /// is late on the safety auditor's to-do (default 10, this system's choice [INF]: the article
    /// asks for a regular report, not a day).
    pub issue_day: u32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self { issue_day: 10 }
    }
}

impl QualityConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        if (1..=28).contains(&self.issue_day) {
            Vec::new()
        } else {
            vec![("quality.issue_day", "must be 1–28".to_owned())]
        }
    }
}

/// Settings of the webhooks' deliveries (`[webhooks]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Minutes to wait after each failed attempt before the next; when every wait is used the
    /// delivery has failed and waits for a redelivery by hand (default 1, 5, 15, 60, 180, 360,
    /// 720: eight attempts in about 22 hours, this system's choice [INF]).
    pub retry_minutes: Vec<u32>,
    /// Seconds between the sender's looks at the outbox (default 2).
    pub poll_seconds: u32,
    /// Deliveries sent at once (default 4) and taken per look (default 50).
    pub concurrency: u32,
    pub batch: u32,
    /// Seconds a receiver has to answer (default 10).
    pub timeout_seconds: u32,
    /// Whether deliveries may go to this machine itself or link-local addresses (default no: a
    /// subscription must not become a way to reach what only the server can reach).
    pub allow_local: bool,
    /// A PEM file of the company's own certificate authorities, trusted beside the public roots
    /// for `https` receivers (default none).
    pub ca_file: String,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            retry_minutes: gridsafe_domain::webhooks::DEFAULT_RETRY_MINUTES.to_vec(),
            poll_seconds: 2,
            concurrency: 4,
            batch: 50,
            timeout_seconds: 10,
            allow_local: false,
            ca_file: String::new(),
        }
    }
}

impl WebhooksConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.retry_minutes.len() > 20 || self.retry_minutes.iter().any(|m| !(1..=10_080).contains(m)) {
            problems.push(("webhooks.retry_minutes", "at most 20 waits, each 1–10080 minutes".to_owned()));
        }
        for (key, value, range) in [
            ("webhooks.poll_seconds", self.poll_seconds, 1..=3600),
            ("webhooks.concurrency", self.concurrency, 1..=64),
            ("webhooks.batch", self.batch, 1..=1000),
            ("webhooks.timeout_seconds", self.timeout_seconds, 1..=120),
        ] {
            if !range.contains(&value) {
                problems.push((key, format!("must be {}–{}", range.start(), range.end())));
            }
        }
        problems
    }
}
