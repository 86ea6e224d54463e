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

/// No administrator grants, revokes, resets or unlocks on his own account.
pub const ACCOUNT_SELF: Rule = Rule {
    code: "ACCOUNT_SELF",
    source: "GB/T 22239-2019 网络安全等级保护基本要求（第三级）访问控制：授予管理用户所需的最小权限，实现管理用户的权限分离",
};

/// Administrators' accounts are handled by the security administrator only.
pub const ADMIN_ACCOUNTS: Rule = Rule {
    code: "ADMIN_ACCOUNTS",
    source: "GB/T 22239-2019 第三级 安全管理中心：系统管理员、安全管理员、审计管理员分别管理；管理员账号由安全管理员处置 [INF] 本系统的做法",
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

/// A ticket step is taken only from the states the lifecycle allows.
pub const TICKET_STATE: Rule = Rule {
    code: "TICKET_STATE",
    source: "安规工作票流程：填写→签发→接票→许可→开工⇄间断→延期→工作终结→终结（研究简报 §1.4 [S-15][S-23]）",
};

/// Each step is signed by the person who holds the step's role on the ticket.
pub const TICKET_SIGNER: Rule = Rule {
    code: "TICKET_SIGNER",
    source: "安规：签发人签发、负责人接票、许可人许可，均签名并记录时间（研究简报 §1.4 [S-15]）",
};

/// Issuer, permit giver and work leader are three different people, none on the crew.
pub const TICKET_THREE_PERSONS: Rule = Rule {
    code: "TICKET_THREE_PERSONS",
    source: "安规“三种人”不得相互兼任，兼任失去相互制约（研究简报 §1.3 [S-13][S-14]）",
};

/// Issuer, leader and permit giver are named and are people GridSafe knows.
pub const TICKET_PEOPLE: Rule = Rule {
    code: "TICKET_PEOPLE",
    source: "安规：工作票须有签发人、工作负责人、工作许可人（研究简报 §1.3 [S-11]）",
};

/// No single-person work: at least the configured number of people, the leader included.
pub const TICKET_MIN_CREW: Rule = Rule {
    code: "TICKET_MIN_CREW",
    source: "《電力營銷安全重點工作管理措施探討》杜绝单人作业；默认至少 2 人（负责人＋成员），按票种可配置 [INF]",
};

/// Contractor workers on the crew need a second issuer from the contractor (双签发).
pub const TICKET_DUAL_ISSUE: Rule = Rule {
    code: "TICKET_DUAL_ISSUE",
    source: "安规：承发包工程工作票实行“双签发”，双方签发人各自承担安全责任（研究简报 §1.3 [S-15]）",
};

/// Workers of different managing units (contractors) do not share one ticket.
pub const TICKET_ONE_CONTRACTOR: Rule = Rule {
    code: "TICKET_ONE_CONTRACTOR",
    source: "安规：不同管理单位的作业人员不得共用一张工作票（研究简报 §1.3 [S-15]）",
};

/// Nobody works on two tickets whose windows overlap.
pub const TICKET_OVERLAP: Rule = Rule {
    code: "TICKET_OVERLAP",
    source: "安规：一个工作负责人不能同时执行多张工作票（研究简报 §1.3 [S-3]）；GridSafe 对工作班成员同样适用",
};

/// The work leader changes only with the issuer's consent.
pub const TICKET_LEADER_CHANGE: Rule = Rule {
    code: "TICKET_LEADER_CHANGE",
    source: "安规：变更工作负责人应经工作票签发人同意（研究简报 §1.3 [S-11]）",
};

/// Extension: once, requested before expiry, never for live work or documents that forbid it.
pub const TICKET_EXTENSION: Rule = Rule {
    code: "TICKET_EXTENSION",
    source: "安规：工作票只能延期一次，须在有效期内提出；带电作业工作票不得延期（研究简报 §1.4 [S-20][S-21]）",
};

/// Every crew member acknowledges the briefing (交底) before work starts.
pub const TICKET_BRIEFING: Rule = Rule {
    code: "TICKET_BRIEFING",
    source: "安规：开工前向全体工作班成员交待任务、安全措施和危险点，成员签名确认（研究简报 §1.1 [S-8]、§1.5 第14条）",
};

/// Documents that need it carry a site survey record before issue.
pub const TICKET_SURVEY: Rule = Rule {
    code: "TICKET_SURVEY",
    source: "安规：现场勘察记录作为填写、签发工作票的依据（研究简报 §1.1 [S-4]）；需勘察的票种在票种目录中配置",
};

/// Hazard points and their pre-control measures are on the ticket before issue.
pub const TICKET_HAZARDS: Rule = Rule {
    code: "TICKET_HAZARDS",
    source: "危险点分析与预控措施（研究简报 §1.1 [S-8]；不合格原因第14条 [S-25][S-27]）",
};

/// Work happens only within the approved period.
pub const TICKET_WINDOW: Rule = Rule {
    code: "TICKET_WINDOW",
    source: "安规：工作票有效期以批准的检修期为限（研究简报 §1.4 [S-20][S-21]）；不得提前开工（§1.5 第9条）",
};

/// A lapsed ticket is stamped 未执行 (never permitted) or 作废 (permitted, not closed).
pub const TICKET_VALIDITY: Rule = Rule {
    code: "TICKET_VALIDITY",
    source: "超过批准期限未延期或终结的工作票作废；未许可的盖“未执行”（研究简报 §1.4 [S-23]）",
};

/// The ticket closes only when every safety measure is restored.
pub const TICKET_MEASURES: Rule = Rule {
    code: "TICKET_MEASURES",
    source: "全部安全措施恢复（接地线拆除）后工作票方告终结（研究简报 §1.4 [S-23]；§1.5 第10条）",
};

/// The document type covers the kinds of work order it is used for.
pub const TICKET_TYPE_COVERS: Rule = Rule {
    code: "TICKET_TYPE_COVERS",
    source: "票种与作业对应关系（研究简报 §1.2，默认映射 [INF]，在票种目录中配置）；§1.5 第7条 使用票种不当",
};

/// Field work states its voltage, so the contractor licence and the inspectors' levels are
/// always checked against it.
pub const TICKET_VOLTAGE: Rule = Rule {
    code: "TICKET_VOLTAGE",
    source: "承装(修、试)电力设施许可证按电压等级许可作业范围（研究简报 §4 [S-62]）；现场作业须注明电压等级（研究简报 §1.5 第2条）",
};

/// Only executed tickets are evaluated; a 不合格 verdict names its reasons, a 合格 one none.
pub const TICKET_EVALUATION: Rule = Rule {
    code: "TICKET_EVALUATION",
    source: "月合格率 = 合格票数 / 已执行票数；未执行、作废票不参与评价（研究简报 §1.5 [S-25][S-27]）",
};

/// Only open findings are reviewed; dismissing one says why.
pub const FINDING_REVIEW: Rule = Rule {
    code: "FINDING_REVIEW",
    source: "营销倒查发现由安全稽查人员核实：确认后转整改，排除须注明理由（PRODUCT.md 交叉稽查；文章 §2.1）",
};

/// A rectification task closes with evidence of the rectification.
pub const TASK_CLOSE: Rule = Rule {
    code: "TASK_CLOSE",
    source: "隐患与问题闭环管理：整改完成须有佐证材料方可销号（研究简报 §3）",
};

/// A hazard moves only along its closed loop.
pub const HAZARD_STATE: Rule = Rule {
    code: "HAZARD_STATE",
    source: "隐患闭环：登记 → 告知/整改计划 → 签收 → 报备 → 整改 → 复查 → 销号（研究简报 §3 [INF]）",
};

/// A customer's hazard is filed with the county-or-above power authority before it progresses.
pub const HAZARD_FILING: Rule = Rule {
    code: "HAZARD_FILING",
    source: "文章 §4.4；客户侧隐患报县级以上政府电力管理部门备案（研究简报 §3 [S-33][S-46]）",
};

/// A rectification deadline is not in the past.
pub const HAZARD_DEADLINE: Rule = Rule {
    code: "HAZARD_DEADLINE",
    source: "限期整改：整改期限自告知之日起算（研究简报 §3 [S-48][S-53]）",
};

/// A rectification deadline stays within its grade's days unless a manager approved a later one.
pub const HAZARD_DEADLINE_LIMIT: Rule = Rule {
    code: "HAZARD_DEADLINE_LIMIT",
    source: "隐患按等级限期整改；延长期限须说明理由并经管理人员批准（研究简报 §3 [S-53]，期限为可配置默认值 [INF]）",
};

/// A customer who refuses to sign the notice: the delivery is recorded with a witness and a photo.
pub const HAZARD_RECEIPT_REFUSED: Rule = Rule {
    code: "HAZARD_RECEIPT_REFUSED",
    source: "客户拒绝签收整改通知书的，记录送达方式、见证人并拍照留证后报政府电力管理部门备案（文章 §4.1、§4.4；研究简报 §3 [S-33][S-51]）",
};

/// Only a customer's equipment is sealed (封存 is a measure against a violating customer).
pub const SEAL_CUSTOMER_ONLY: Rule = Rule {
    code: "SEAL_CUSTOMER_ONLY",
    source: "文章 §4.2：发现客户违约行为，对相关设备予以封存；电网责任隐患由供电企业整改，不适用封存（研究简报 §3 [S-38]）",
};

/// A customer inspection is made by at least two inspectors.
pub const INSPECTION_INSPECTORS: Rule = Rule {
    code: "INSPECTION_INSPECTORS",
    source: "《用电检查管理办法》（电力工业部令第6号）：现场检查人员不得少于两人（研究简报 §1.3 [S-7][S-17]，现作为行业惯例）",
};

/// An inspection is recorded on the day it happened, never ahead.
pub const INSPECTION_DAY: Rule = Rule {
    code: "INSPECTION_DAY",
    source: "用电检查记录须如实反映检查日期（用电检查工作单，研究简报 §1.1 [S-7]）",
};

/// Sealed equipment stays sealed until its hazard is closed.
pub const SEAL_HAZARD_OPEN: Rule = Rule {
    code: "SEAL_HAZARD_OPEN",
    source: "文章 §4.2：发现违约行为，对相关设备予以封存，直至完成整改；启用封存设备属违约用电（研究简报 §3 [S-38][S-39]）",
};

/// Every rule, for the administrators' list and the check that each has its messages.
pub const ALL: &[Rule] = &[
    ADMIN_SEPARATION,
    ACCOUNT_SELF,
    ADMIN_ACCOUNTS,
    PASSWORD_POLICY,
    LOGIN_LOCKOUT,
    DORMANT_ACCOUNT,
    UNIT_TREE,
    PERSON_ACTIVE,
    SAFETY_EXAM,
    LIST_WORK_LEADER,
    LIST_TICKET_ISSUER,
    LIST_WORK_PERMITTER,
    INSPECTOR_LEVEL,
    CONTRACTOR_BLACKLIST,
    CONTRACTOR_LICENSE,
    CONTRACTOR_AGREEMENT,
    TICKET_STATE,
    TICKET_SIGNER,
    TICKET_THREE_PERSONS,
    TICKET_PEOPLE,
    TICKET_MIN_CREW,
    TICKET_DUAL_ISSUE,
    TICKET_ONE_CONTRACTOR,
    TICKET_OVERLAP,
    TICKET_LEADER_CHANGE,
    TICKET_EXTENSION,
    TICKET_BRIEFING,
    TICKET_SURVEY,
    TICKET_HAZARDS,
    TICKET_WINDOW,
    TICKET_VALIDITY,
    TICKET_MEASURES,
    TICKET_TYPE_COVERS,
    TICKET_VOLTAGE,
    TICKET_EVALUATION,
    FINDING_REVIEW,
    TASK_CLOSE,
    HAZARD_STATE,
    HAZARD_FILING,
    HAZARD_DEADLINE,
    HAZARD_DEADLINE_LIMIT,
    HAZARD_RECEIPT_REFUSED,
    SEAL_CUSTOMER_ONLY,
    INSPECTION_INSPECTORS,
    INSPECTION_DAY,
    SEAL_HAZARD_OPEN,
];
