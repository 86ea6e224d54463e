//! Rules that name their source. When GridSafe refuses an action or reports a finding it says
//! which rule, where it comes from, and what would make it right.

use serde::Serialize;

/// A rule GridSafe enforces. `code` is stable; the message keys `rule-<code>` (what the rule
/// says) and `rule-<code>-fix` (what would make it right) live in the message files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub code: &'static str,
    /// The regulation or document the rule comes from, or where the default was chosen.
    pub source: &'static str,
}

/// A refused action: the rule that refused it, with the facts that broke it (message arguments
/// such as the qualification's end date).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {} violated", rule.code)]
pub struct Violation {
    pub rule: Rule,
    pub args: Vec<(&'static str, String)>,
}

impl Violation {
    pub fn of(rule: Rule) -> Self {
        Self { rule, args: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// The three administrator roles are never held by one account.
pub const ADMIN_SEPARATION: Rule = Rule {
    code: "ADMIN_SEPARATION",
    source: "GB/T 22239-2019 网络安全等级保护基本要求（第三级）：系统管理员、安全管理员、审计管理员三权分立",
};

/// A password meets the configured policy.
pub const PASSWORD_POLICY: Rule = Rule {
    code: "PASSWORD_POLICY",
    source: "GB/T 22239-2019 第三级 身份鉴别：口令具有复杂度要求并定期更换",
};

/// Repeated failed logins lock the account for a while.
pub const LOGIN_LOCKOUT: Rule = Rule {
    code: "LOGIN_LOCKOUT",
    source: "GB/T 22239-2019 第三级 身份鉴别：登录失败处理（默认 5 次锁定 15 分钟，可配置）",
};

/// Accounts not used for a long time are disabled.
pub const DORMANT_ACCOUNT: Rule = Rule {
    code: "DORMANT_ACCOUNT",
    source: "《電力營銷安全重點工作管理措施探討》§6.2 清理无用帐号；北京电力 2014 年清理六个月以上未使用账号（默认 180 天，可配置）",
};

/// A unit's parent must exist and a unit cannot be moved below itself.
pub const UNIT_TREE: Rule = Rule {
    code: "UNIT_TREE",
    source: "GridSafe 组织机构：省公司 → 市公司 → 县公司/供电中心 → 班组",
};

/// A person must be in service to be put on work.
pub const PERSON_ACTIVE: Rule =
    Rule { code: "PERSON_ACTIVE", source: "GridSafe 人员台账：离岗、调离人员不得安排作业" };

/// Field workers pass the Safety Work Rules exam before taking up the post.
pub const SAFETY_EXAM: Rule = Rule {
    code: "SAFETY_EXAM",
    source: "《電力營銷安全重點工作管理措施探討》§1.2：熟悉《国家电网公司电力安全工作规程》且经考试合格后方可上岗",
};

/// Work leaders are on the annual published list.
pub const LIST_WORK_LEADER: Rule = Rule {
    code: "LIST_WORK_LEADER",
    source: "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人名单每年审查并书面公布",
};

/// Ticket issuers are on the annual published list.
pub const LIST_TICKET_ISSUER: Rule = Rule {
    code: "LIST_TICKET_ISSUER",
    source: "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人名单每年审查并书面公布",
};

/// Permit givers are on the annual published list.
pub const LIST_WORK_PERMITTER: Rule = Rule {
    code: "LIST_WORK_PERMITTER",
    source: "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人名单每年审查并书面公布",
};

/// Inspectors hold a customer-inspection qualification covering the customer's voltage.
pub const INSPECTOR_LEVEL: Rule = Rule {
    code: "INSPECTOR_LEVEL",
    source: "《用电检查管理办法》用电检查资格分一、二、三级（各级可检查的电压等级为可配置默认值，未经核实）",
};

/// A blacklisted contractor's workers are not put on work.
pub const CONTRACTOR_BLACKLIST: Rule = Rule {
    code: "CONTRACTOR_BLACKLIST",
    source: "《国家电网公司业务外包安全监督管理办法》（国家电网企管〔2017〕311号）：黑名单",
};

/// A contractor's 承装(修、试)电力设施许可证 is valid on the day and covers the voltage.
pub const CONTRACTOR_LICENSE: Rule = Rule {
    code: "CONTRACTOR_LICENSE",
    source: "承装(修、试)电力设施许可证一至五级及其电压范围（一级不限，二级≤220kV，三级≤110kV，四级≤35kV，五级≤10kV）",
};

/// A safety agreement with the contractor is valid on the day.
pub const CONTRACTOR_AGREEMENT: Rule = Rule {
    code: "CONTRACTOR_AGREEMENT",
    source: "《電力營銷安全重點工作管理措施探討》§3.3：开工前签订安全协议，严格区分各自安全责任",
};
