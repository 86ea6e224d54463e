//! Rules that name their source. When GridSafe refuses an action or reports a finding it says
//! which rule, where it comes from, and what would make it right.

use serde::Serialize;

/// A rule GridSafe enforces. `code` is stable; the message keys `rule-<code>` (what the rule
/// says) and `rule-<code>-fix` (what would make it right) live in the message files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub code: &'static str,
    /// The regulation the rule comes from, by its title, in words a field worker reads: what a
    /// refusal or finding shows everyone.
    pub regulation: &'static str,
    /// Where GridSafe took it from (the research brief's references, `[INF]` and `[UNVERIFIED]`
    /// marks, the setting that holds a default): for administrators, in a fold.
    pub origin: &'static str,
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
    regulation: "GB/T 22239-2019《信息安全技术 网络安全等级保护基本要求》（第三级）：系统管理员、安全管理员、审计管理员三权分立，不得由一人兼任",
    origin: "GB/T 22239-2019 第三级 安全管理中心",
};

/// No administrator grants, revokes, resets or unlocks on his own account.
pub const ACCOUNT_SELF: Rule = Rule {
    code: "ACCOUNT_SELF",
    regulation: "GB/T 22239-2019《信息安全技术 网络安全等级保护基本要求》（第三级） 访问控制：管理员不得为自己授权、重置口令或解锁，权限相互分离",
    origin: "GB/T 22239-2019 第三级 访问控制",
};

/// Administrators' accounts are handled by the security administrator only.
pub const ADMIN_ACCOUNTS: Rule = Rule {
    code: "ADMIN_ACCOUNTS",
    regulation: "GB/T 22239-2019《信息安全技术 网络安全等级保护基本要求》（第三级） 安全管理中心：管理员账号只能由安全管理员处置",
    origin: "GB/T 22239-2019 第三级 安全管理中心；管理员账号由安全管理员处置为本系统的做法 [INF]",
};

/// A password meets the configured policy.
pub const PASSWORD_POLICY: Rule = Rule {
    code: "PASSWORD_POLICY",
    regulation: "GB/T 22239-2019《信息安全技术 网络安全等级保护基本要求》（第三级） 身份鉴别：口令要有复杂度并定期更换",
    origin: "GB/T 22239-2019 第三级 身份鉴别；策略参数可配置",
};

/// Repeated failed logins lock the account for a while.
pub const LOGIN_LOCKOUT: Rule = Rule {
    code: "LOGIN_LOCKOUT",
    regulation: "GB/T 22239-2019《信息安全技术 网络安全等级保护基本要求》（第三级） 身份鉴别：连续登录失败后锁定账号一段时间",
    origin: "GB/T 22239-2019 第三级 身份鉴别；默认 5 次失败锁定 15 分钟，可配置",
};

/// Accounts not used for a long time are disabled.
pub const DORMANT_ACCOUNT: Rule = Rule {
    code: "DORMANT_ACCOUNT",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司） 信息安全：定期清理长期不用的账号",
    origin: "文章 §6.2；北京电力 2014 年清理六个月以上未使用账号 [S-69]；默认 180 天，可配置",
};

/// A unit's parent must exist and a unit cannot be moved below itself.
pub const UNIT_TREE: Rule = Rule {
    code: "UNIT_TREE",
    regulation: "本单位组织机构设置：省公司、市公司、县公司（供电中心）、班组逐级隶属",
    origin: "GridSafe 组织机构模型",
};

/// A person must be in service to be put on work.
pub const PERSON_ACTIVE: Rule = Rule {
    code: "PERSON_ACTIVE",
    regulation: "本单位人员管理规定：离岗、调离人员不得安排作业",
    origin: "GridSafe 人员台账",
};

/// Field workers pass the Safety Work Rules exam before taking up the post.
pub const SAFETY_EXAM: Rule = Rule {
    code: "SAFETY_EXAM",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：营销人员须熟悉《国家电网公司电力安全工作规程》，经考试合格后方可上岗",
    origin: "文章 §1.2；研究简报 §1.3 [S-1]",
};

/// Work leaders are on the annual published list.
pub const LIST_WORK_LEADER: Rule = Rule {
    code: "LIST_WORK_LEADER",
    regulation: "《国家电网公司电力安全工作规程》：工作负责人须列入每年审查并书面公布的名单",
    origin: "研究简报 §1.3 [S-12]",
};

/// Ticket issuers are on the annual published list.
pub const LIST_TICKET_ISSUER: Rule = Rule {
    code: "LIST_TICKET_ISSUER",
    regulation: "《国家电网公司电力安全工作规程》：工作票签发人须列入每年审查并书面公布的名单",
    origin: "研究简报 §1.3 [S-12]",
};

/// Permit givers are on the annual published list.
pub const LIST_WORK_PERMITTER: Rule = Rule {
    code: "LIST_WORK_PERMITTER",
    regulation: "《国家电网公司电力安全工作规程》：工作许可人须列入每年审查并书面公布的名单",
    origin: "研究简报 §1.3 [S-12]",
};

/// Inspectors hold a customer-inspection qualification covering the customer's voltage.
pub const INSPECTOR_LEVEL: Rule = Rule {
    code: "INSPECTOR_LEVEL",
    regulation: "《用电检查管理办法》（电力工业部令第6号）：用电检查资格分一、二、三级，按资格等级检查相应电压等级的客户",
    origin: "研究简报 §2 [S-17]；各级可检查的电压等级为可配置默认值 [UNVERIFIED]",
};

/// A blacklisted contractor's workers are not put on work.
pub const CONTRACTOR_BLACKLIST: Rule = Rule {
    code: "CONTRACTOR_BLACKLIST",
    regulation: "《国家电网公司业务外包安全监督管理办法》（国家电网企管〔2017〕311号）：列入黑名单的外包单位不得承揽作业",
    origin: "研究简报 §5 [S-65][S-66]",
};

/// A contractor's 承装(修、试)电力设施许可证 is valid on the day and covers the voltage.
pub const CONTRACTOR_LICENSE: Rule = Rule {
    code: "CONTRACTOR_LICENSE",
    regulation: "《承装（修、试）电力设施许可证管理办法》：承装（修、试）电力设施许可证一至五级，只能在许可的电压等级内作业（一级不限，二级≤220kV，三级≤110kV，四级≤35kV，五级≤10kV）",
    origin: "研究简报 §4 [S-62]",
};

/// A safety agreement with the contractor is valid on the day.
pub const CONTRACTOR_AGREEMENT: Rule = Rule {
    code: "CONTRACTOR_AGREEMENT",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：外包作业开工前须签订安全协议，明确双方安全责任",
    origin: "文章 §3.3；研究简报 §5 [INF]",
};

/// A ticket step is taken only from the states the lifecycle allows.
pub const TICKET_STATE: Rule = Rule {
    code: "TICKET_STATE",
    regulation: "《国家电网公司电力安全工作规程》：工作票按填写、签发、接票、许可、开工、间断、延期、工作终结、终结的顺序办理",
    origin: "研究简报 §1.4 [S-15][S-23]",
};

/// Each step is signed by the person who holds the step's role on the ticket.
pub const TICKET_SIGNER: Rule = Rule {
    code: "TICKET_SIGNER",
    regulation: "《国家电网公司电力安全工作规程》：签发、接票、许可各由签发人、工作负责人、工作许可人本人签名并记录时间",
    origin: "研究简报 §1.4 [S-15]",
};

/// Issuer, permit giver and work leader are three different people, none on the crew.
pub const TICKET_THREE_PERSONS: Rule = Rule {
    code: "TICKET_THREE_PERSONS",
    regulation: "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人（“三种人”）不得相互兼任",
    origin: "研究简报 §1.3 [S-13][S-14]；同一张票三人各不相同 [UNVERIFIED]",
};

/// Issuer, leader and permit giver are named and are people GridSafe knows.
pub const TICKET_PEOPLE: Rule = Rule {
    code: "TICKET_PEOPLE",
    regulation: "《国家电网公司电力安全工作规程》：工作票须写明签发人、工作负责人和工作许可人",
    origin: "研究简报 §1.3 [S-11]",
};

/// No single-person work: at least the configured number of people, the leader included.
pub const TICKET_MIN_CREW: Rule = Rule {
    code: "TICKET_MIN_CREW",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：杜绝单人作业，现场至少两人（工作负责人和工作班成员）",
    origin: "文章 §1.1；默认至少 2 人，按票种可配置 [INF]",
};

/// Contractor workers on the crew need a second issuer from the contractor (双签发).
pub const TICKET_DUAL_ISSUE: Rule = Rule {
    code: "TICKET_DUAL_ISSUE",
    regulation: "《国家电网公司电力安全工作规程》：承发包工程的工作票实行“双签发”，双方签发人各自承担安全责任",
    origin: "研究简报 §1.3 [S-15]",
};

/// Workers of different managing units (contractors) do not share one ticket.
pub const TICKET_ONE_CONTRACTOR: Rule = Rule {
    code: "TICKET_ONE_CONTRACTOR",
    regulation: "《国家电网公司电力安全工作规程》：不同管理单位的作业人员不得共用一张工作票",
    origin: "研究简报 §1.3 [S-15]",
};

/// Nobody works on two tickets whose windows overlap.
pub const TICKET_OVERLAP: Rule = Rule {
    code: "TICKET_OVERLAP",
    regulation: "《国家电网公司电力安全工作规程》：一个工作负责人不能同时执行多张工作票；工作班成员同样不能同时在两张票上",
    origin: "研究简报 §1.3 [S-3]；对工作班成员同样适用为本系统的做法 [INF]",
};

/// The work leader changes only with the issuer's consent.
pub const TICKET_LEADER_CHANGE: Rule = Rule {
    code: "TICKET_LEADER_CHANGE",
    regulation: "《国家电网公司电力安全工作规程》：变更工作负责人须经工作票签发人同意",
    origin: "研究简报 §1.3 [S-11]",
};

/// Extension: once, requested before expiry, never for live work or documents that forbid it.
pub const TICKET_EXTENSION: Rule = Rule {
    code: "TICKET_EXTENSION",
    regulation: "《国家电网公司电力安全工作规程》：工作票只能延期一次，须在有效期内办理；带电作业工作票不得延期",
    origin: "研究简报 §1.4 [S-20][S-21]",
};

/// Every crew member acknowledges the briefing (交底) before work starts.
pub const TICKET_BRIEFING: Rule = Rule {
    code: "TICKET_BRIEFING",
    regulation: "《国家电网公司电力安全工作规程》：开工前向全体工作班成员交待工作任务、安全措施和危险点，成员签名确认",
    origin: "研究简报 §1.1 [S-8]、§1.5 第14条",
};

/// Documents that need it carry a site survey record before issue.
pub const TICKET_SURVEY: Rule = Rule {
    code: "TICKET_SURVEY",
    regulation: "《国家电网公司电力安全工作规程》：需要现场勘察的工作，勘察记录是填写、签发工作票的依据",
    origin: "研究简报 §1.1 [S-4]；需勘察的票种在票种目录中配置",
};

/// Work outside the plan (计划外作业) is issued only with its reason approved by the unit's manager.
pub const TICKET_UNPLANNED: Rule = Rule {
    code: "TICKET_UNPLANNED",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：业扩现场工作应事先做好计划预先安排；计划外作业须说明原因，经单位负责人批准后方可开票作业",
    origin: "文章 §2.2；计划外作业须经审批为本系统的做法 [INF]；可在 [plans] unplanned_needs_approval 关闭，故障紧急抢修等票种在 [plans] unplanned_exempt_types 中免于审批",
};

/// The unit's manager approves the reason of a draft's unplanned work, once, and not his own.
pub const TICKET_UNPLANNED_APPROVAL: Rule = Rule {
    code: "TICKET_UNPLANNED_APPROVAL",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：计划外作业须写明原因，由单位负责人在开票前批准",
    origin: "文章 §2.2；写明原因者不得自行批准为本系统的做法 [INF]",
};

/// The plan item a ticket names is published and planned for the ticket's day.
pub const TICKET_PLAN_ITEM: Rule = Rule {
    code: "TICKET_PLAN_ITEM",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：作业计划经审批发布后执行，工作票按计划的日期和内容开具",
    origin: "文章 §2.2；计划项与工作票同日为本系统的做法 [INF]",
};

/// Hazard points and their pre-control measures are on the ticket before issue.
pub const TICKET_HAZARDS: Rule = Rule {
    code: "TICKET_HAZARDS",
    regulation: "《国家电网公司电力安全工作规程》：工作票须列明危险点及其预控措施",
    origin: "研究简报 §1.1 [S-8]；不合格原因第14条 [S-25][S-27]",
};

/// Work happens only within the approved period.
pub const TICKET_WINDOW: Rule = Rule {
    code: "TICKET_WINDOW",
    regulation: "《国家电网公司电力安全工作规程》：工作票有效期以批准的检修期为限，不得提前开工",
    origin: "研究简报 §1.4 [S-20][S-21]、§1.5 第9条",
};

/// A lapsed ticket is stamped 未执行 (never permitted) or 作废 (permitted, not closed).
pub const TICKET_VALIDITY: Rule = Rule {
    code: "TICKET_VALIDITY",
    regulation: "《国家电网公司电力安全工作规程》：超过批准期限未办理延期或终结的工作票作废，未许可的盖“未执行”",
    origin: "研究简报 §1.4 [S-23]",
};

/// The ticket closes only when every safety measure is restored.
pub const TICKET_MEASURES: Rule = Rule {
    code: "TICKET_MEASURES",
    regulation: "《国家电网公司电力安全工作规程》：全部安全措施恢复（接地线拆除）后，工作票方告终结",
    origin: "研究简报 §1.4 [S-23]、§1.5 第10条",
};

/// The document type covers the kinds of work order it is used for.
pub const TICKET_TYPE_COVERS: Rule = Rule {
    code: "TICKET_TYPE_COVERS",
    regulation: "《国家电网公司电力安全工作规程》：按作业内容使用相应种类的工作票，使用票种不当的工作票不合格",
    origin: "研究简报 §1.2（默认映射 [INF]，在票种目录中配置）、§1.5 第7条",
};

/// Field work states its voltage, so the contractor licence and the inspectors' levels are
/// always checked against it.
pub const TICKET_VOLTAGE: Rule = Rule {
    code: "TICKET_VOLTAGE",
    regulation: "《承装（修、试）电力设施许可证管理办法》：外包单位只能在许可的电压等级内作业；工作票须注明电压等级",
    origin: "研究简报 §4 [S-62]、§1.5 第2条",
};

/// Only executed tickets are evaluated; a 不合格 verdict names its reasons, a 合格 one none.
pub const TICKET_EVALUATION: Rule = Rule {
    code: "TICKET_EVALUATION",
    regulation: "工作票统计考核规定：月合格率 = 合格票数 ÷ 已执行票数，未执行、作废的票不参加评价",
    origin: "研究简报 §1.5 [S-25][S-27]",
};

/// Only open findings are reviewed; dismissing one says why.
pub const FINDING_REVIEW: Rule = Rule {
    code: "FINDING_REVIEW",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：营销安全稽查人员对倒查发现逐条核实，确认的转入整改，排除的须注明理由",
    origin: "文章 §2.1；PRODUCT.md 交叉稽查",
};

/// A rectification task closes with evidence of the rectification.
pub const TASK_CLOSE: Rule = Rule {
    code: "TASK_CLOSE",
    regulation: "国家能源局《电力安全隐患治理监督管理规定》：隐患整改完成并有佐证材料后方可销号",
    origin: "研究简报 §3 [S-43]",
};

/// A hazard moves only along its closed loop.
pub const HAZARD_STATE: Rule = Rule {
    code: "HAZARD_STATE",
    regulation: "国家能源局《电力安全隐患治理监督管理规定》：隐患按登记、告知或制定整改计划、签收、报备、整改、复查、销号的顺序闭环管理",
    origin: "研究简报 §3 [INF]",
};

/// A customer's hazard is filed with the county-or-above power authority before it progresses.
pub const HAZARD_FILING: Rule = Rule {
    code: "HAZARD_FILING",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：客户侧安全隐患须报县级以上政府电力管理部门备案",
    origin: "文章 §4.4；研究简报 §3 [S-33][S-46]",
};

/// A rectification deadline is not in the past.
pub const HAZARD_DEADLINE: Rule = Rule {
    code: "HAZARD_DEADLINE",
    regulation: "国家能源局《电力安全隐患治理监督管理规定》：隐患限期整改，整改期限自告知之日起算",
    origin: "研究简报 §3 [S-48][S-53]",
};

/// A rectification deadline stays within its grade's days unless a manager approved a later one.
pub const HAZARD_DEADLINE_LIMIT: Rule = Rule {
    code: "HAZARD_DEADLINE_LIMIT",
    regulation: "国家能源局《电力安全隐患治理监督管理规定》：隐患按等级限期整改，延长期限须说明理由并经管理人员批准",
    origin: "研究简报 §3 [S-53]；各等级期限为可配置默认值 [INF]",
};

/// A customer who refuses to sign the notice: the delivery is recorded with a witness and a photo.
pub const HAZARD_RECEIPT_REFUSED: Rule = Rule {
    code: "HAZARD_RECEIPT_REFUSED",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：客户拒收整改通知书的，记录送达方式和见证人、拍照留证，报政府电力管理部门备案",
    origin: "文章 §4.1、§4.4；研究简报 §3 [S-33][S-51]",
};

/// Only a customer's equipment is sealed (封存 is a measure against a violating customer).
pub const SEAL_CUSTOMER_ONLY: Rule = Rule {
    code: "SEAL_CUSTOMER_ONLY",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：发现客户违约用电行为，对相关设备予以封存；电网责任的隐患由供电企业自行整改，不适用封存",
    origin: "文章 §4.2；研究简报 §3 [S-38]",
};

/// A customer inspection is made by at least two inspectors.
pub const INSPECTION_INSPECTORS: Rule = Rule {
    code: "INSPECTION_INSPECTORS",
    regulation: "《用电检查管理办法》（电力工业部令第6号）：现场检查的用电检查人员不得少于两人",
    origin: "研究简报 §1.3 [S-7][S-17]（现作为行业惯例）",
};

/// An inspection is recorded on the day it happened, never ahead.
pub const INSPECTION_DAY: Rule = Rule {
    code: "INSPECTION_DAY",
    regulation: "《用电检查管理办法》（电力工业部令第6号）：用电检查工作单如实记录检查日期，不得预先填写",
    origin: "研究简报 §1.1 [S-7]",
};

/// Sealed equipment stays sealed until its hazard is closed.
pub const SEAL_HAZARD_OPEN: Rule = Rule {
    code: "SEAL_HAZARD_OPEN",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：违约用电设备封存至整改完成，擅自启用封存设备属违约用电",
    origin: "文章 §4.2；研究简报 §3 [S-38][S-39]",
};

/// Work of a risk grade that needs a manager on site does not start until one has arrived.
pub const SUPERVISION_ONSITE: Rule = Rule {
    code: "SUPERVISION_ONSITE",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：领导干部和管理人员到岗到位；三级及以上风险作业须有相应管理人员到现场后方可开工",
    origin: "文章 §1.1；国家电网作业风险分级管控做法 [INF]；到岗标准见 [plans] onsite_roles，可在 [plans] start_needs_onsite 关闭开工把关（缺到岗改为稽查发现）",
};

/// A manager's arrival is recorded at a live site within the ticket's window, once at a time.
pub const SUPERVISION_ARRIVAL: Rule = Rule {
    code: "SUPERVISION_ARRIVAL",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：到岗到位人员在作业时段内到达现场并如实登记到岗、离岗时间",
    origin: "文章 §1.1；可提前到岗的分钟数见 [plans] arrive_early_minutes [INF]",
};

/// A site is checked while it is live.
pub const SUPERVISION_CHECK: Rule = Rule {
    code: "SUPERVISION_CHECK",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：开展现场执规检查，查纠作业现场的违章",
    origin: "文章 §1.1；只在许可后、终结前的作业现场检查为本系统的做法 [INF]；检查表为数据，可在数据库 onsite_check_templates 中维护",
};

/// A project's step is taken at the stage it belongs to.
pub const PROJECT_STATE: Rule = Rule {
    code: "PROJECT_STATE",
    regulation: "国家电网业扩报装工作规范：业扩报装按受理、现场勘查、供电方案答复、设计审核、中间检查、竣工检验、装表接电的顺序办理",
    origin: "文章 §3.1；研究简报 §4 [S-56][S-57]；低压、居民客户走受理—方案答复—装表接电的短流程 [INF]",
};

/// While waiting on the customer, the project's clock is stopped and nothing else is recorded.
pub const PROJECT_PAUSED: Rule = Rule {
    code: "PROJECT_PAUSED",
    regulation: "国家电网业扩报装工作规范：因客户原因暂停的时间不计入办理时限，恢复办理后继续计时",
    origin: "研究简报 §4 [S-56]（110kV 及以上不含客户接入系统设计时间）；暂停须记录原因为本系统的做法 [INF]",
};

/// The supply plan is answered after the joint site survey.
pub const PROJECT_SURVEY: Rule = Rule {
    code: "PROJECT_SURVEY",
    regulation: "国家电网业扩报装工作规范：受理后组织现场勘查（联合查勘），依据勘查结果拟定并答复供电方案",
    origin: "研究简报 §4 [S-57]",
};

/// An inspection follows the customer's submission (送审图纸、中间检查申请、竣工报验).
pub const PROJECT_SUBMISSION: Rule = Rule {
    code: "PROJECT_SUBMISSION",
    regulation: "国家电网业扩报装工作规范：设计审核、中间检查、竣工检验在客户报审、报验后进行，办理时限自客户报审、报验之日起计算",
    origin: "研究简报 §4 [S-56]",
};

/// A re-inspection answers the first inspection's defect list item by item (首检负责制).
pub const PROJECT_RECHECK: Rule = Rule {
    code: "PROJECT_RECHECK",
    regulation: "受电工程检验首检负责制：首次检验一次性书面告知全部缺陷，复检逐项核对整改情况；复检新发现的缺陷由首检人员负责",
    origin: "研究简报 §4：一次性书面告知 [S-59]；首检负责制未找到出处，按简报的解释实现 [INF]",
};

/// No supply before the acceptance has passed.
pub const PROJECT_NOT_ACCEPTED: Rule = Rule {
    code: "PROJECT_NOT_ACCEPTED",
    regulation: "《供电营业规则》及国家电网业扩报装管理规定：客户受电工程竣工检验合格并办结有关手续后，方可装表接电",
    origin: "文章 §3.2；研究简报 §4 [S-56]；低压、居民客户以方案答复办结为准 [INF]",
};

/// No supply while a defect of the installation is open.
pub const PROJECT_DEFECTS_OPEN: Rule = Rule {
    code: "PROJECT_DEFECTS_OPEN",
    regulation: "《供电营业规则》及国家电网业扩报装管理规定：检验发现的缺陷整改完毕、复检合格前不得接电",
    origin: "文章 §3.2；研究简报 §4 [S-59]",
};

/// A drill is recorded for a day between its plan's approval and today.
pub const DRILL_DAY: Rule = Rule {
    code: "DRILL_DAY",
    regulation: "《生产安全事故应急预案管理办法》：生产经营单位应当按照应急预案定期组织演练，如实记录演练情况",
    origin: "研究简报 §5 [S-67][S-68]；演练日期不早于预案批准、不晚于当天为本系统的做法 [INF]",
};

/// An emergency plan is reviewed within its validity.
pub const EMERGENCY_PLAN_REVIEW: Rule = Rule {
    code: "EMERGENCY_PLAN_REVIEW",
    regulation: "《生产安全事故应急预案管理办法》：应急预案应当定期评估，一般每三年进行一次应急预案评估",
    origin: "研究简报 §5 [S-67]；评估周期的条款号未核实 [UNVERIFIED]；最长年限见 [emergency] plan_review_years",
};

/// A fault's restoration follows its start.
pub const FAULT_TIMES: Rule = Rule {
    code: "FAULT_TIMES",
    regulation: "营销信息系统故障分析与追究制度：如实记录故障发生与恢复时间",
    origin: "文章 §6.3；恢复时间不早于发生时间为本系统的做法 [INF]",
};

/// A fault of human factors names the accountable person and the assessment.
pub const FAULT_ASSESSMENT: Rule = Rule {
    code: "FAULT_ASSESSMENT",
    regulation: "《电力营销安全重点工作管理措施》：建立营销信息系统故障分析与追究制度，加强人为因素考核",
    origin: "文章 §6.3（加强人为因素考核）",
};

/// A person whose violation points reach the threshold is suspended from field work.
pub const PERSON_SUSPENDED: Rule = Rule {
    code: "PERSON_SUSPENDED",
    regulation: "国家电网反违章工作要求：违章记分周期内累计达到规定分值的人员暂停现场作业资格，重新培训并考试合格后方可再上岗",
    origin: "文章 §1.1 查纠违章；记分办法为本系统默认值 [INF][UNVERIFIED]，见 [people] violation_points、suspension_points、points_period_months",
};

/// A re-admission is recorded for a suspended person, after retraining and a passed exam.
pub const PERSON_READMISSION: Rule = Rule {
    code: "PERSON_READMISSION",
    regulation: "国家电网反违章工作要求：暂停作业资格的人员经重新培训、安规考试合格后办理再准入",
    origin: "文章 §1.1 查纠违章；经营销安全管理部门审核为本系统的做法 [INF]",
};

/// Serious violations are explained at a recorded review meeting (说清楚).
pub const VIOLATION_REVIEW: Rule = Rule {
    code: "VIOLATION_REVIEW",
    regulation: "国家电网反违章工作要求：严重及以上违章须由责任人及所在单位到安全监督部门“说清楚”",
    origin: "文章 §1.1 查纠违章；“说清楚”记录为本系统的做法 [INF]",
};

/// A plan moves draft → approved → published (or back to draft from approved).
pub const PLAN_STATE: Rule = Rule {
    code: "PLAN_STATE",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：作业计划由班组编制、单位负责人审批后发布执行",
    origin: "文章 §2.2；PRODUCT.md 作业计划",
};

/// The unit's manager approves a plan; its author does not approve his own.
pub const PLAN_APPROVER: Rule = Rule {
    code: "PLAN_APPROVER",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：作业计划须经单位负责人审批，编制人不得自行审批",
    origin: "文章 §2.2；编制与审批分开为本系统的做法 [INF]",
};

/// Several teams at one site on one day are merged under one organiser.
pub const PLAN_SHARED_SITE: Rule = Rule {
    code: "PLAN_SHARED_SITE",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：同一天多个班组在同一现场作业的，合并由一名协调人统一组织，并明确共同的安全措施",
    origin: "文章 §2.2；研究简报 §4",
};

/// The organiser of a shared site is a qualified work leader on that day.
pub const PLAN_ORGANISER: Rule = Rule {
    code: "PLAN_ORGANISER",
    regulation: "《国家电网公司电力安全工作规程》：现场协调人由具备工作负责人资格的人员担任",
    origin: "研究简报 §1.3 [S-12]；协调人须具备工作负责人资格为本系统的做法 [INF]",
};

/// A published plan is frozen: a change needs its reason and is recorded.
pub const PLAN_FROZEN: Rule = Rule {
    code: "PLAN_FROZEN",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：已发布的作业计划刚性执行，确需调整的须说明理由并留痕",
    origin: "文章 §2.2 [INF]",
};

/// An outage moves requested → (approved when late) → cut → restored, or is cancelled before the cut.
pub const OUTAGE_STATE: Rule = Rule {
    code: "OUTAGE_STATE",
    regulation: "《国家电网公司电力安全工作规程（配电部分）》：停电、送电按申请、通知、停电、工作终结、送电的顺序办理",
    origin: "文章 §2.3；研究简报 §4；状态顺序为本系统的做法 [INF]",
};

/// Customers are told ahead: planned outages 7 days, temporary outages 24 hours (configurable).
pub const OUTAGE_NOTICE_LATE: Rule = Rule {
    code: "OUTAGE_NOTICE_LATE",
    regulation: "《电力供应与使用条例》第二十八条：供电设施计划检修需要停电的，应当提前 7 天通知用户或者进行公告；临时检修需要停电的，应当提前 24 小时通知重要用户",
    origin: "研究简报 §4（计划停电提前 7 天、临时停电提前 24 小时）；条款号未在简报中核实 [UNVERIFIED]；默认 168 / 24 小时，可在 [plans] outage_planned_notice_hours / outage_temporary_notice_hours 中配置",
};

/// A late outage request is approved by the unit's manager, not by the one who asked for it.
pub const OUTAGE_APPROVER: Rule = Rule {
    code: "OUTAGE_APPROVER",
    regulation: "《电力营销安全重点工作管理措施》（国网孝感供电公司）：停电申请由客户经理统一提出（一口对外），未按时限通知的须经单位负责人审批",
    origin: "文章 §2.3；研究简报 §4；申请人不得自行审批为本系统的做法 [INF]",
};

/// Important customers sign the written outage notice before supply is cut.
pub const OUTAGE_NOTICE_SIGNED: Rule = Rule {
    code: "OUTAGE_NOTICE_SIGNED",
    regulation: "《供电营业规则》及停电通知流程：重要客户停电须送达书面停电通知书并由客户签收",
    origin: "研究简报 §4 [S-63]",
};

/// Every other customer is told (phone, SMS, announcement) before supply is cut.
pub const OUTAGE_NOTICE_TOLD: Rule = Rule {
    code: "OUTAGE_NOTICE_TOLD",
    regulation: "《电力供应与使用条例》第二十八条：停电前应当通知用户或者进行公告",
    origin: "研究简报 §4；条款号未在简报中核实 [UNVERIFIED]",
};

/// Supply is restored only after every crew has reported work ended and people off (no 约时送电).
pub const OUTAGE_TIMED: Rule = Rule {
    code: "OUTAGE_TIMED",
    regulation: "《国家电网公司电力安全工作规程（配电部分）》：严禁约时停、送电；送电前须确认所有工作班组已终结工作、人员已全部撤离",
    origin: "文章 §2.3；研究简报 §4 [S-64]（约时停送电为明令禁止的违章）",
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
    TICKET_UNPLANNED,
    TICKET_UNPLANNED_APPROVAL,
    TICKET_PLAN_ITEM,
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
    PLAN_STATE,
    PLAN_APPROVER,
    PLAN_SHARED_SITE,
    PLAN_ORGANISER,
    PLAN_FROZEN,
    OUTAGE_STATE,
    OUTAGE_NOTICE_LATE,
    OUTAGE_APPROVER,
    OUTAGE_NOTICE_SIGNED,
    OUTAGE_NOTICE_TOLD,
    OUTAGE_TIMED,
    SUPERVISION_ONSITE,
    SUPERVISION_ARRIVAL,
    SUPERVISION_CHECK,
    PERSON_SUSPENDED,
    PERSON_READMISSION,
    VIOLATION_REVIEW,
    PROJECT_STATE,
    PROJECT_PAUSED,
    PROJECT_SURVEY,
    PROJECT_SUBMISSION,
    PROJECT_RECHECK,
    PROJECT_NOT_ACCEPTED,
    PROJECT_DEFECTS_OPEN,
    DRILL_DAY,
    EMERGENCY_PLAN_REVIEW,
    FAULT_TIMES,
    FAULT_ASSESSMENT,
];
