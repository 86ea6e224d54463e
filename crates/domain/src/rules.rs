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

/// A refused action: the rule that refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {} violated", rule.code)]
pub struct Violation {
    pub rule: Rule,
}

impl Violation {
    pub fn of(rule: Rule) -> Self {
        Self { rule }
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
