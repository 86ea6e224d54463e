//! The 17 rules of `shared/spec/cross-audit.md`, evaluated over one export.
//!
//! The straightforward reading of the specification: hash indexes per customer, order and
//! person, one pass per rule; the rules over orders run on one core while those over tickets and
//! events run on the other. `tests/reference.rs` checks it against a literal reading of the spec.

// Join indexes keyed by ids from the export: a fast hash (foldhash), not SipHash; nothing here
// faces hash-flooding input that could not also just be a larger file.
use foldhash::{HashMap, HashMapExt};

use chrono::{Duration, NaiveDate, NaiveDateTime};

use gridsafe_domain::orders::OrderTypeSet;

use gridsafe_domain::people::QualificationKind;

use crate::input::{EventKind, Tables, Ticket, TicketStatus};

/// The rules, in the spec's order. `code` is the stable key written to the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    NoTicket,
    SinglePersonOrder,
    SinglePersonTicket,
    OutsideWindow,
    NoSafetyExam,
    NotAuthorizedLeader,
    NotAuthorizedIssuer,
    NotAuthorizedPermitter,
    IssuerIsLeader,
    PermitterIsLeader,
    PermitterIsIssuer,
    ContractorNoCosign,
    ContractorNoAgreement,
    ContractorLicenseExpired,
    PersonDoubleBooked,
    EventWithoutTicket,
    Unevaluated,
}

impl Rule {
    pub const ALL: [Rule; 17] = [
        Rule::NoTicket,
        Rule::SinglePersonOrder,
        Rule::SinglePersonTicket,
        Rule::OutsideWindow,
        Rule::NoSafetyExam,
        Rule::NotAuthorizedLeader,
        Rule::NotAuthorizedIssuer,
        Rule::NotAuthorizedPermitter,
        Rule::IssuerIsLeader,
        Rule::PermitterIsLeader,
        Rule::PermitterIsIssuer,
        Rule::ContractorNoCosign,
        Rule::ContractorNoAgreement,
        Rule::ContractorLicenseExpired,
        Rule::PersonDoubleBooked,
        Rule::EventWithoutTicket,
        Rule::Unevaluated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::NoTicket => "NO_TICKET",
            Rule::SinglePersonOrder => "SINGLE_PERSON_ORDER",
            Rule::SinglePersonTicket => "SINGLE_PERSON_TICKET",
            Rule::OutsideWindow => "OUTSIDE_WINDOW",
            Rule::NoSafetyExam => "NO_SAFETY_EXAM",
            Rule::NotAuthorizedLeader => "NOT_AUTHORIZED_LEADER",
            Rule::NotAuthorizedIssuer => "NOT_AUTHORIZED_ISSUER",
            Rule::NotAuthorizedPermitter => "NOT_AUTHORIZED_PERMITTER",
            Rule::IssuerIsLeader => "ISSUER_IS_LEADER",
            Rule::PermitterIsLeader => "PERMITTER_IS_LEADER",
            Rule::PermitterIsIssuer => "PERMITTER_IS_ISSUER",
            Rule::ContractorNoCosign => "CONTRACTOR_NO_COSIGN",
            Rule::ContractorNoAgreement => "CONTRACTOR_NO_AGREEMENT",
            Rule::ContractorLicenseExpired => "CONTRACTOR_LICENSE_EXPIRED",
            Rule::PersonDoubleBooked => "PERSON_DOUBLE_BOOKED",
            Rule::EventWithoutTicket => "EVENT_WITHOUT_TICKET",
            Rule::Unevaluated => "UNEVALUATED",
        }
    }

    /// The rule by its code.
    pub fn from_code(code: &str) -> Option<Self> {
        Rule::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Where the rule comes from: the regulation or practice behind it, then the spec.
    /// The regulation the rule comes from, in words a field worker reads.
    pub fn regulation(self) -> &'static str {
        match self {
            Rule::NoTicket => {
                "《国家电网公司电力安全工作规程》：在电气设备上工作应填用工作票或事故紧急抢修单；《电力营销安全重点工作管理措施》（国网孝感供电公司）：杜绝无票作业，从营销系统倒查"
            }
            Rule::SinglePersonOrder | Rule::SinglePersonTicket => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：杜绝单人作业，现场作业不少于两人"
            }
            Rule::OutsideWindow => {
                "《国家电网公司电力安全工作规程》：工作票有效期以批准的检修期为限，不得提前开工、延迟终结"
            }
            Rule::NoSafetyExam => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：营销人员经《国家电网公司电力安全工作规程》考试合格后方可上岗"
            }
            Rule::NotAuthorizedLeader | Rule::NotAuthorizedIssuer | Rule::NotAuthorizedPermitter => {
                "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人须列入每年审查并书面公布的名单"
            }
            Rule::IssuerIsLeader | Rule::PermitterIsLeader | Rule::PermitterIsIssuer => {
                "《国家电网公司电力安全工作规程》：工作票签发人、工作负责人、工作许可人（“三种人”）不得相互兼任"
            }
            Rule::ContractorNoCosign => "《国家电网公司电力安全工作规程》：承发包工程的工作票实行“双签发”",
            Rule::ContractorNoAgreement => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：外包作业开工前须签订安全协议"
            }
            Rule::ContractorLicenseExpired => "《承装（修、试）电力设施许可证管理办法》：许可证在有效期内方可承揽作业",
            Rule::PersonDoubleBooked => "《国家电网公司电力安全工作规程》：一个工作负责人不能同时执行多张工作票",
            Rule::EventWithoutTicket => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：用电信息采集的开表盖等事件须有对应的工作票，否则倒查无票作业或窃电"
            }
            Rule::Unevaluated => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：业扩、装表接电现场使用的工作票 100% 评价"
            }
        }
    }

    /// Where the rule and its defaults come from: for administrators.
    pub fn origin(self) -> &'static str {
        match self {
            Rule::NoTicket => "研究简报 §1.1 [S-3]；文章 §2.1；cross-audit.md",
            Rule::SinglePersonOrder | Rule::SinglePersonTicket => {
                "文章 §2.1；研究简报 §1.3 [S-7]；cross-audit.md（人数可配置）"
            }
            Rule::OutsideWindow => "研究简报 §1.4、§1.5 第9条；cross-audit.md",
            Rule::NoSafetyExam => "文章 §1.2；研究简报 §1.3 [S-1]；cross-audit.md",
            Rule::NotAuthorizedLeader | Rule::NotAuthorizedIssuer | Rule::NotAuthorizedPermitter => {
                "研究简报 §1.3 [S-12]；cross-audit.md"
            }
            Rule::IssuerIsLeader | Rule::PermitterIsLeader | Rule::PermitterIsIssuer => {
                "研究简报 §1.3 [S-13][S-14]；cross-audit.md"
            }
            Rule::ContractorNoCosign => "研究简报 §1.3 [S-15]；cross-audit.md",
            Rule::ContractorNoAgreement => "文章 §3.3；研究简报 §5；cross-audit.md",
            Rule::ContractorLicenseExpired => "研究简报 §5 [S-62]；cross-audit.md",
            Rule::PersonDoubleBooked => "研究简报 §1.3 [S-3]；cross-audit.md",
            Rule::EventWithoutTicket => "文章 §2.1；cross-audit.md（前后 30 分钟可配置）",
            Rule::Unevaluated => "文章 §1.1；研究简报 §1.5；cross-audit.md（7 天可配置）",
        }
    }

    /// The rule's name as the spec gives it in Chinese.
    pub fn chinese(self) -> &'static str {
        match self {
            Rule::NoTicket => "无票作业",
            Rule::SinglePersonOrder | Rule::SinglePersonTicket => "单人作业",
            Rule::OutsideWindow => "超出许可时间作业",
            Rule::NoSafetyExam => "未经安规考试",
            Rule::NotAuthorizedLeader => "工作负责人不在名单内",
            Rule::NotAuthorizedIssuer => "签发人不在名单内",
            Rule::NotAuthorizedPermitter => "许可人不在名单内",
            Rule::IssuerIsLeader => "签发人兼任负责人",
            Rule::PermitterIsLeader => "许可人兼任负责人",
            Rule::PermitterIsIssuer => "许可人兼任签发人",
            Rule::ContractorNoCosign => "外包作业未双签发",
            Rule::ContractorNoAgreement => "无有效安全协议",
            Rule::ContractorLicenseExpired => "外包资质过期",
            Rule::PersonDoubleBooked => "同一人员同时段多票",
            Rule::EventWithoutTicket => "无票开表盖",
            Rule::Unevaluated => "未评价",
        }
    }
}

/// The fixed numbers of the rules; a deployment may change them (the spec's defaults here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Fewest distinct people on an order or ticket (default 2).
    pub min_people: usize,
    /// Slack around a ticket's window for meter events, in minutes (default 30).
    pub event_margin_minutes: i64,
    /// Days after which an ended 业扩/装表接电 ticket must have been evaluated (default 7).
    pub evaluation_days: i64,
    /// The kinds of work whose tickets must all be evaluated (default 新装, 增容, 装表接电).
    pub must_evaluate: OrderTypeSet,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_people: 2,
            event_margin_minutes: 30,
            evaluation_days: 7,
            must_evaluate: OrderTypeSet::FULL_EVALUATION,
        }
    }
}

/// One finding, keyed by `(rule, entity_kind, entity_id, subject)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    pub rule: &'static str,
    pub entity_kind: &'static str,
    pub entity_id: String,
    pub subject: String,
    /// A short explanation in Chinese; not part of the key.
    pub detail: String,
}

impl Finding {
    pub(crate) fn new(rule: Rule, entity_kind: &'static str, entity_id: &str, subject: &str, detail: String) -> Self {
        Self { rule: rule.code(), entity_kind, entity_id: entity_id.to_owned(), subject: subject.to_owned(), detail }
    }
}

/// A finding borrowed, as it is handed from an audit to where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingRef<'a> {
    pub rule: &'static str,
    pub entity_kind: &'static str,
    pub entity_id: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    /// The finding as one CSV record ([`csv_record`]) where the audit wrote it already (the
    /// fast engine does, on the cores that write the words); otherwise empty.
    pub record: &'a str,
}

/// Appends one CSV record as the csv crate writes it: a field quoted only when it holds a
/// comma, a quote or a line break, its quotes doubled; the record ends with `\n`. Written here
/// because the crate's check of every byte of every field was 5% of the batch audit's CPU at a
/// million orders.
pub fn csv_record(out: &mut String, fields: [&str; 5]) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if !needs_quotes(field.as_bytes()) {
            out.push_str(field);
            continue;
        }
        out.push('"');
        for (n, part) in field.split('"').enumerate() {
            if n > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    }
    out.push('\n');
}

/// Whether a field holds a comma, a quote or a line break: a short one (ids, names) looked
/// through byte by byte, a long one (the words) with SIMD.
fn needs_quotes(bytes: &[u8]) -> bool {
    if bytes.len() < 32 {
        return bytes.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    }
    memchr::memchr3(b',', b'"', b'\n', bytes).is_some() || memchr::memchr(b'\r', bytes).is_some()
}

impl FindingRef<'_> {
    pub fn to_owned(self) -> Finding {
        Finding {
            rule: self.rule,
            entity_kind: self.entity_kind,
            entity_id: self.entity_id.to_owned(),
            subject: self.subject.to_owned(),
            detail: self.detail.to_owned(),
        }
    }
}

impl Finding {
    pub fn as_ref(&self) -> FindingRef<'_> {
        FindingRef {
            rule: self.rule,
            entity_kind: self.entity_kind,
            entity_id: &self.entity_id,
            subject: &self.subject,
            detail: &self.detail,
            record: "",
        }
    }
}

fn valid(spans: Option<&Vec<(NaiveDate, NaiveDate)>>, day: NaiveDate) -> bool {
    spans.is_some_and(|s| s.iter().any(|(from, to)| *from <= day && day <= *to))
}

fn fmt(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A ticket's people: its leader (when not empty) and its crew, as a set in first-seen order.
fn people(t: &Ticket) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(t.crew.len() + 1);
    for p in std::iter::once(t.leader.as_str()).filter(|l| !l.is_empty()).chain(t.crew.iter().map(String::as_str)) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Evaluates every rule. The findings come sorted by key, without duplicate keys.
pub fn audit(t: &Tables, as_of: NaiveDate, th: &Thresholds) -> Vec<Finding> {
    let mut quals: HashMap<(&str, QualificationKind), Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for q in &t.qualifications {
        quals.entry((q.person_id.as_str(), q.kind)).or_default().push((q.valid_from, q.valid_to));
    }
    let holds = |person: &str, kind: QualificationKind, day: NaiveDate| valid(quals.get(&(person, kind)), day);
    let contractor_of: HashMap<&str, &str> =
        t.persons.iter().filter_map(|p| p.contractor_id.as_deref().map(|c| (p.person_id.as_str(), c))).collect();
    let licence: HashMap<&str, NaiveDate> =
        t.contractors.iter().map(|c| (c.contractor_id.as_str(), c.license_valid_to)).collect();
    // Per contractor: each agreement's days and the only customer it covers, if limited.
    type Agreements<'a> = HashMap<&'a str, Vec<(NaiveDate, NaiveDate, Option<&'a str>)>>;
    let mut agreements: Agreements<'_> = HashMap::new();
    for a in &t.agreements {
        agreements.entry(a.contractor_id.as_str()).or_default().push((
            a.valid_from,
            a.valid_to,
            a.customer_id.as_deref(),
        ));
    }
    let agreed = |contractor: &str, day: NaiveDate, customer: &str| {
        agreements.get(contractor).is_some_and(|v| {
            v.iter().any(|(from, to, only)| *from <= day && day <= *to && only.is_none_or(|c| c == customer))
        })
    };
    let orders: HashMap<&str, &crate::input::WorkOrder> =
        t.work_orders.iter().map(|o| (o.order_id.as_str(), o)).collect();
    let live: Vec<&Ticket> = t.tickets.iter().filter(|k| k.status.is_live()).collect();
    let mut by_order: HashMap<&str, Vec<&Ticket>> = HashMap::new();
    let mut by_customer: HashMap<&str, Vec<&Ticket>> = HashMap::new();
    for k in &live {
        for o in &k.order_ids {
            by_order.entry(o.as_str()).or_default().push(k);
        }
        by_customer.entry(k.customer_id.as_str()).or_default().push(k);
    }
    // The rules over orders run on one core, the rules over tickets and events on the other.
    let orders_part = || {
        let mut out = Vec::new();
        for o in &t.work_orders {
            let day = o.started_at.date();
            if o.order_type.is_field_work() {
                let covered = by_order.get(o.order_id.as_str()).is_some_and(|v| !v.is_empty())
                    || by_customer.get(o.customer_id.as_str()).is_some_and(|ks| {
                        ks.iter().any(|k| {
                            k.permitted_at.is_some_and(|p| p <= o.started_at)
                                && k.ended_at.is_none_or(|e| o.finished_at <= e)
                        })
                    });
                if !covered {
                    out.push(Finding::new(
                        Rule::NoTicket,
                        "order",
                        &o.order_id,
                        "",
                        format!(
                            "{}工单 {}（户号 {}，{} 至 {}）没有有效的工作票或工作卡覆盖",
                            o.order_type.chinese(),
                            o.order_id,
                            o.customer_id,
                            fmt(o.started_at),
                            fmt(o.finished_at)
                        ),
                    ));
                }
                if o.workers.len() < th.min_people {
                    out.push(Finding::new(
                        Rule::SinglePersonOrder,
                        "order",
                        &o.order_id,
                        "",
                        format!(
                            "工单 {} 作业人员只有 {} 人（{}），少于 {} 人",
                            o.order_id,
                            o.workers.len(),
                            o.workers.join("、"),
                            th.min_people
                        ),
                    ));
                }
            }
            for w in &o.workers {
                if !holds(w, QualificationKind::SafetyExam, day) {
                    out.push(Finding::new(
                        Rule::NoSafetyExam,
                        "order",
                        &o.order_id,
                        w,
                        format!("工单 {} 的作业人员 {} 在 {} 没有有效的安规考试合格记录", o.order_id, w, day),
                    ));
                }
            }
            for k in by_order.get(o.order_id.as_str()).into_iter().flatten() {
                let early = k.permitted_at.is_some_and(|p| o.started_at < p);
                let late = k.ended_at.is_some_and(|e| o.finished_at > e);
                if early || late {
                    out.push(Finding::new(
                        Rule::OutsideWindow,
                        "order",
                        &o.order_id,
                        &k.ticket_id,
                        format!(
                            "工单 {}（{} 至 {}）超出工作票 {} 的许可时间（{} 至 {}）",
                            o.order_id,
                            fmt(o.started_at),
                            fmt(o.finished_at),
                            k.ticket_id,
                            k.permitted_at.map(fmt).unwrap_or_default(),
                            k.ended_at.map_or_else(|| "未终结".to_owned(), fmt)
                        ),
                    ));
                }
            }
        }
        out
    };
    let (mut out, from_orders) = std::thread::scope(|scope| {
        let order_rules = scope.spawn(orders_part);
        let mut out = Vec::new();

        for k in &live {
            let ps = people(k);
            let id = k.ticket_id.as_str();
            if ps.len() < th.min_people {
                out.push(Finding::new(
                    Rule::SinglePersonTicket,
                    "ticket",
                    id,
                    "",
                    format!("工作票 {id} 工作人员只有 {} 人，少于 {} 人", ps.len(), th.min_people),
                ));
            }
            let mut contractors: Vec<&str> = ps.iter().filter_map(|p| contractor_of.get(p).copied()).collect();
            contractors.sort_unstable();
            contractors.dedup();
            // Double signing needs no day: a contractor worker on the crew is enough.
            if !contractors.is_empty() && k.co_issuer.is_empty() {
                out.push(Finding::new(
                    Rule::ContractorNoCosign,
                    "ticket",
                    id,
                    "",
                    format!(
                        "工作票 {id} 有外包单位人员（{}），但没有外包单位签发人会签（双签发）",
                        contractors.join("、")
                    ),
                ));
            }
            if let Some(day) = k.permitted_at.map(|p| p.date()) {
                for p in &ps {
                    if !holds(p, QualificationKind::SafetyExam, day) {
                        out.push(Finding::new(
                            Rule::NoSafetyExam,
                            "ticket",
                            id,
                            p,
                            format!("工作票 {id} 的人员 {p} 在 {day} 没有有效的安规考试合格记录"),
                        ));
                    }
                }
                let roles = [
                    (Rule::NotAuthorizedLeader, k.leader.as_str(), QualificationKind::WorkLeader, "工作负责人"),
                    (Rule::NotAuthorizedIssuer, k.issuer.as_str(), QualificationKind::TicketIssuer, "工作票签发人"),
                    (
                        Rule::NotAuthorizedPermitter,
                        k.permitter.as_str(),
                        QualificationKind::WorkPermitter,
                        "工作许可人",
                    ),
                ];
                for (rule, who, kind, name) in roles {
                    if !holds(who, kind, day) {
                        let who_shown = if who.is_empty() { "（空）" } else { who };
                        out.push(Finding::new(
                            rule,
                            "ticket",
                            id,
                            who,
                            format!("工作票 {id} 的{name} {who_shown} 在 {day} 不在有效的{name}名单内"),
                        ));
                    }
                }
                for c in contractors {
                    if !agreed(c, day, &k.customer_id) {
                        out.push(Finding::new(
                            Rule::ContractorNoAgreement,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 在 {day} 没有有效的安全协议"),
                        ));
                    }
                    match licence.get(c) {
                        Some(end) if day <= *end => {}
                        Some(end) => out.push(Finding::new(
                            Rule::ContractorLicenseExpired,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 资质已于 {end} 到期（作业日 {day}）"),
                        )),
                        None => out.push(Finding::new(
                            Rule::ContractorLicenseExpired,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 不在外包单位表中，资质无从核实"),
                        )),
                    }
                }
            }
            let pairs = [
                (Rule::IssuerIsLeader, k.issuer.as_str(), k.leader.as_str(), "签发人兼任工作负责人"),
                (Rule::PermitterIsLeader, k.permitter.as_str(), k.leader.as_str(), "许可人兼任工作负责人"),
                (Rule::PermitterIsIssuer, k.permitter.as_str(), k.issuer.as_str(), "许可人兼任签发人"),
            ];
            for (rule, a, b, what) in pairs {
                if !a.is_empty() && a == b {
                    out.push(Finding::new(rule, "ticket", id, a, format!("工作票 {id}：{a} {what}")));
                }
            }
            if k.status == TicketStatus::Ended && k.evaluation.is_none() {
                let cutoff = (as_of - Duration::days(th.evaluation_days)).and_hms_opt(0, 0, 0);
                let old = k.ended_at.zip(cutoff).is_some_and(|(e, c)| e < c);
                let full = k.work_kind.is_some_and(|w| th.must_evaluate.contains(w))
                    || k.order_ids
                        .iter()
                        .any(|o| orders.get(o.as_str()).is_some_and(|o| th.must_evaluate.contains(o.order_type)));
                if old && full {
                    out.push(Finding::new(
                        Rule::Unevaluated,
                        "ticket",
                        id,
                        "",
                        format!(
                            "业扩/装表接电工作票 {id} 已于 {} 终结，超过 {} 天仍未评价",
                            k.ended_at.map(fmt).unwrap_or_default(),
                            th.evaluation_days
                        ),
                    ));
                }
            }
        }

        // PERSON_DOUBLE_BOOKED: per person, live tickets by (permitted_at, ticket_id); a ticket is
        // double-booked when an earlier one ends after it is permitted (an open one never ends).
        let mut by_person: HashMap<&str, Vec<&Ticket>> = HashMap::new();
        for k in live.iter().filter(|k| k.permitted_at.is_some()) {
            for p in people(k) {
                by_person.entry(p).or_default().push(k);
            }
        }
        for (p, mut ks) in by_person {
            ks.sort_by(|a, b| (a.permitted_at, &a.ticket_id).cmp(&(b.permitted_at, &b.ticket_id)));
            // The latest end so far; `None` inside means an open ticket (no end).
            let mut latest: Option<Option<NaiveDateTime>> = None;
            let mut latest_id = "";
            for k in ks {
                let Some(start) = k.permitted_at else { continue };
                let clash = match latest {
                    Some(None) => true,
                    Some(Some(end)) => end > start,
                    None => false,
                };
                if clash {
                    out.push(Finding::new(
                        Rule::PersonDoubleBooked,
                        "ticket",
                        &k.ticket_id,
                        p,
                        format!("{p} 在工作票 {} 许可开工（{}）时仍在工作票 {latest_id} 中", k.ticket_id, fmt(start)),
                    ));
                }
                let end = if k.status == TicketStatus::Open { None } else { k.ended_at };
                let later = match (latest, end) {
                    (None, _) | (Some(Some(_)), None) => true,
                    (Some(Some(a)), Some(b)) => b > a,
                    (Some(None), _) => false,
                };
                if later {
                    latest = Some(end);
                    latest_id = &k.ticket_id;
                }
            }
        }

        let margin = Duration::minutes(th.event_margin_minutes);
        for e in t.meter_events.iter().filter(|e| matches!(e.kind, EventKind::CoverOpen | EventKind::TerminalCoverOpen))
        {
            let explained = by_customer.get(e.customer_id.as_str()).is_some_and(|ks| {
                ks.iter().any(|k| {
                    k.permitted_at.is_some_and(|p| p - margin <= e.occurred_at)
                        && k.ended_at.is_none_or(|end| e.occurred_at <= end + margin)
                })
            });
            if !explained {
                let kind = if e.kind == EventKind::CoverOpen { "开表盖" } else { "开端钮盒" };
                out.push(Finding::new(
                    Rule::EventWithoutTicket,
                    "event",
                    &e.event_id,
                    &e.customer_id,
                    format!(
                        "电能表 {}（户号 {}）于 {} {}，前后 {} 分钟内没有该户的有效工作票",
                        e.meter_id,
                        e.customer_id,
                        fmt(e.occurred_at),
                        kind,
                        th.event_margin_minutes
                    ),
                ));
            }
        }

        (out, order_rules.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    out.extend(from_orders);
    // Sorted by the whole finding, so findings of one key are neighbours: keep the first.
    out.sort_unstable();
    out.dedup_by(|b, a| {
        a.rule == b.rule && a.entity_kind == b.entity_kind && a.entity_id == b.entity_id && a.subject == b.subject
    });
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Written as the csv crate writes the same record.
    fn as_csv_crate(fields: [&str; 5]) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(fields).expect("write to memory");
        String::from_utf8(writer.into_inner().expect("flush to memory")).expect("UTF-8 in, UTF-8 out")
    }

    fn ours(fields: [&str; 5]) -> String {
        let mut out = String::new();
        super::csv_record(&mut out, fields);
        out
    }

    #[test]
    fn records_are_written_as_the_csv_crate_writes_them() {
        let tricky = ["", "plain", "a,b", "say \"hi\"", "\"", "line\nbreak", "cr\rlf\r\n", " 空格 ", "户号，中文", "#"];
        for a in tricky {
            for b in tricky {
                let fields = ["RULE", a, b, "", a];
                assert_eq!(ours(fields), as_csv_crate(fields), "{fields:?}");
            }
        }
        let long = "工单 WO1 的工作人员 P1, \"P2\" 无有效安全考试".repeat(3);
        assert_eq!(ours(["RULE", "order", "WO1", "P1", &long]), as_csv_crate(["RULE", "order", "WO1", "P1", &long]));
    }

    proptest! {
        #[test]
        fn any_record_is_written_as_the_csv_crate_writes_it(
            fields in proptest::array::uniform5("[a-z,\"\r\n 户号、]{0,40}"),
        ) {
            let fields = fields.each_ref().map(String::as_str);
            prop_assert_eq!(ours(fields), as_csv_crate(fields));
        }
    }
}
