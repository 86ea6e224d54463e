//! Work plans (作业计划): what each team will do, where and when, planned a week or a day ahead.
//!
//! A plan is drafted by a team leader, approved by the unit's manager and published; once
//! published it is frozen and every later change is recorded with its reason. Two rules read the
//! whole plan: several teams working at one site on one day must be merged under one organiser
//! (协调人, a qualified work leader) with their shared safety measures before the plan may be
//! published, and one person on two items at overlapping times is flagged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, UnitId};
use crate::orders::OrderType;
use crate::people::{self, FieldRole, PersonFacts, RoleRules};
use crate::rules::{self, Violation};
use crate::time::Timestamp;

/// How far ahead a plan looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// 周计划
    Weekly,
    /// 日计划
    Daily,
}

impl PlanKind {
    pub const ALL: [PlanKind; 2] = [PlanKind::Weekly, PlanKind::Daily];

    pub fn code(self) -> &'static str {
        match self {
            PlanKind::Weekly => "weekly",
            PlanKind::Daily => "daily",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The days a plan of this kind starting on `first` covers.
    pub fn days(self) -> i64 {
        match self {
            PlanKind::Weekly => 7,
            PlanKind::Daily => 1,
        }
    }
}

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    /// 编制中: items are added and changed freely.
    Draft,
    /// 已审批: the unit's manager approved it; publishing is next.
    Approved,
    /// 已发布: frozen; changes are recorded with their reason.
    Published,
}

impl PlanState {
    pub const ALL: [PlanState; 3] = [PlanState::Draft, PlanState::Approved, PlanState::Published];

    pub fn code(self) -> &'static str {
        match self {
            PlanState::Draft => "draft",
            PlanState::Approved => "approved",
            PlanState::Published => "published",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// One piece of planned work: a team at a site on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// 作业地点: the customer's address, the feeder or the substation, as written.
    pub site: String,
    pub work_kind: OrderType,
    /// The team (班组) doing the work.
    pub team: UnitId,
    pub leader: Option<PersonId>,
    /// Everyone on the item, the leader included.
    pub people: Vec<PersonId>,
}

impl Item {
    /// The China-local day the item starts on: the day its site is shared with others.
    pub fn day(&self) -> NaiveDate {
        self.start.local_date()
    }
}

/// Several teams at one site on one day, merged under one organiser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    pub day: NaiveDate,
    /// [`site_key`] of the site.
    pub site: String,
    /// 协调人: a qualified work leader who organises the teams there.
    pub organiser: PersonId,
    /// The teams' shared safety measures (共同安全措施).
    pub measures: String,
}

/// A site as plans compare it: blanks and letter case do not make two sites different.
pub fn site_key(site: &str) -> String {
    site.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// Something the plan shows its reader to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// Two or more teams at one site on one day; `merged` once an organiser is named.
    SharedSite { day: NaiveDate, site: String, items: Vec<i64>, merged: bool },
    /// One person on two items whose times overlap.
    PersonTwice { person: PersonId, items: (i64, i64) },
}

/// Every shared site (merged or not) and every person planned twice at once, in a stable order.
pub fn conflicts(items: &[Item], merges: &[Merge]) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut sites: BTreeMap<(NaiveDate, String), Vec<&Item>> = BTreeMap::new();
    for item in items {
        sites.entry((item.day(), site_key(&item.site))).or_default().push(item);
    }
    for ((day, site), at) in sites {
        let teams: BTreeSet<(UnitId, Option<PersonId>)> = at.iter().map(|i| (i.team, i.leader)).collect();
        if teams.len() > 1 {
            let merged = merges.iter().any(|m| m.day == day && m.site == site);
            out.push(Conflict::SharedSite { day, site, items: at.iter().map(|i| i.id).collect(), merged });
        }
    }
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|i| (i.start, i.id));
    for (n, a) in sorted.iter().enumerate() {
        for b in sorted[n + 1..].iter().take_while(|b| b.start < a.end) {
            let mut twice: Vec<PersonId> = a.people.iter().filter(|p| b.people.contains(p)).copied().collect();
            twice.sort();
            twice.dedup();
            out.extend(twice.into_iter().map(|person| Conflict::PersonTwice { person, items: (a.id, b.id) }));
        }
    }
    out
}

/// Whether a merge may be recorded: an organiser who is a qualified work leader on the day, and
/// shared measures written down.
pub fn check_merge(
    merge: &Merge,
    organiser: Option<&PersonFacts>,
    role_rules: &RoleRules,
) -> Result<(), Vec<Violation>> {
    let mut refusals = Vec::new();
    match organiser {
        None => refusals.push(Violation::of(rules::PLAN_ORGANISER).with("person", merge.organiser)),
        Some(p) => {
            refusals.extend(people::may_act(p, FieldRole::WorkLeader, merge.day, role_rules).err().unwrap_or_default())
        }
    }
    if merge.measures.trim().is_empty() {
        refusals.push(Violation::of(rules::PLAN_SHARED_SITE).with("missing", "measures"));
    }
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}

/// A step on a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStep {
    /// 审批, by the unit's manager, not the plan's own author.
    Approve,
    /// 发布: every shared site merged.
    Publish,
    /// 退回 to draft, with a reason.
    Return,
}

impl PlanStep {
    pub const ALL: [PlanStep; 3] = [PlanStep::Approve, PlanStep::Publish, PlanStep::Return];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            PlanStep::Approve => "approve",
            PlanStep::Publish => "publish",
            PlanStep::Return => "return",
        }
    }
}

/// The state `step` leads to from `state`, or why not. `by_author` says whether the one taking
/// it drafted the plan; `items` and `merges` are the plan's, loaded with it.
pub fn check_step(
    state: PlanState,
    step: PlanStep,
    by_author: bool,
    items: &[Item],
    merges: &[Merge],
) -> Result<PlanState, Vec<Violation>> {
    let wrong =
        || vec![Violation::of(rules::PLAN_STATE).with("plan_step", step.code()).with("plan_state", state.code())];
    match (state, step) {
        (PlanState::Draft, PlanStep::Approve) if items.is_empty() => {
            Err(vec![Violation::of(rules::PLAN_STATE).with("missing", "items")])
        }
        (PlanState::Draft, PlanStep::Approve) if by_author => Err(vec![Violation::of(rules::PLAN_APPROVER)]),
        (PlanState::Draft, PlanStep::Approve) => Ok(PlanState::Approved),
        (PlanState::Approved, PlanStep::Publish) => {
            let open: Vec<Violation> = conflicts(items, merges)
                .into_iter()
                .filter_map(|c| match c {
                    Conflict::SharedSite { day, site, items, merged: false } => Some(
                        Violation::of(rules::PLAN_SHARED_SITE)
                            .with("day", day)
                            .with("site", site)
                            .with("items", items.len()),
                    ),
                    _ => None,
                })
                .collect();
            if open.is_empty() { Ok(PlanState::Published) } else { Err(open) }
        }
        (PlanState::Approved, PlanStep::Return) => Ok(PlanState::Draft),
        _ => Err(wrong()),
    }
}

/// Whether items may be added, changed or removed: freely in a draft; after publication only
/// with a reason (recorded as a change); never while it waits to be published.
pub fn check_edit(state: PlanState, reason: Option<&str>) -> Result<(), Violation> {
    match state {
        PlanState::Draft => Ok(()),
        PlanState::Published if reason.is_some_and(|r| !r.trim().is_empty()) => Ok(()),
        PlanState::Published => Err(Violation::of(rules::PLAN_FROZEN)),
        PlanState::Approved => Err(Violation::of(rules::PLAN_STATE).with("plan_state", state.code())),
    }
}

/// The in-app cross-audit of the plan (计划执行倒查): work done outside the plan, and planned work
/// with no ticket. Its findings sit beside those of the marketing cross-audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanAudit {
    /// An executed ticket that named no plan item.
    UnplannedWork,
    /// A published plan item whose time has passed with no executed ticket naming it.
    ItemWithoutTicket,
}

impl PlanAudit {
    pub const ALL: [PlanAudit; 2] = [PlanAudit::UnplannedWork, PlanAudit::ItemWithoutTicket];

    pub fn code(self) -> &'static str {
        match self {
            PlanAudit::UnplannedWork => "UNPLANNED_WORK",
            PlanAudit::ItemWithoutTicket => "PLAN_ITEM_NO_TICKET",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            PlanAudit::UnplannedWork => "计划外作业",
            PlanAudit::ItemWithoutTicket => "计划项目无票执行或未销项",
        }
    }

    /// The regulation behind it, in words a field worker reads.
    pub fn regulation(self) -> &'static str {
        match self {
            PlanAudit::UnplannedWork => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：业扩现场工作应事先做好计划预先安排，计划外作业本身即是稽查发现"
            }
            PlanAudit::ItemWithoutTicket => {
                "《电力营销安全重点工作管理措施》（国网孝感供电公司）：作业计划刚性执行，每项计划作业须持票执行；计划取消应按变更手续登记"
            }
        }
    }

    /// Where it comes from: for administrators.
    pub fn origin(self) -> &'static str {
        match self {
            PlanAudit::UnplannedWork => {
                "文章 §2.2；PRODUCT.md 作业计划；免于审批的票种（[plans] unplanned_exempt_types）不计入"
            }
            PlanAudit::ItemWithoutTicket => "文章 §2.1、§2.2；只查已发布计划中结束时间已过的项目 [INF]",
        }
    }
}

/// A ticket whose work was permitted, as the plan audit reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedTicket {
    pub number: String,
    pub plan_item: Option<i64>,
    /// Of a document type unplanned by nature (emergency repair).
    pub exempt: bool,
    pub unplanned_reason: Option<String>,
    pub approved_by: Option<String>,
}

/// An item of a published plan, with how many tickets naming it were executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItem {
    pub id: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub site: String,
    pub executed_tickets: usize,
}

/// One finding of the plan audit, keyed as the cross-audit's are: rule, entity, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFinding {
    pub rule: PlanAudit,
    /// `ticket` (by number) or `plan_item` (by id).
    pub entity_kind: &'static str,
    pub entity_id: String,
    /// A short explanation in Chinese.
    pub detail: String,
}

/// Executed tickets that named no plan item (but those unplanned by nature), and items of
/// published plans that ended before `now` with no executed ticket naming them.
pub fn audit(tickets: &[ExecutedTicket], items: &[PlannedItem], now: Timestamp) -> Vec<PlanFinding> {
    let mut out: Vec<PlanFinding> = tickets
        .iter()
        .filter(|t| t.plan_item.is_none() && !t.exempt)
        .map(|t| {
            let reason = t.unplanned_reason.as_deref().unwrap_or("未写明原因");
            let approval = t.approved_by.as_deref().map_or_else(|| "未经批准".to_owned(), |by| format!("{by} 批准"));
            PlanFinding {
                rule: PlanAudit::UnplannedWork,
                entity_kind: "ticket",
                entity_id: t.number.clone(),
                detail: format!("工作票未关联作业计划项目；原因：{reason}；{approval}"),
            }
        })
        .collect();
    out.extend(items.iter().filter(|i| i.end < now && i.executed_tickets == 0).map(|i| PlanFinding {
        rule: PlanAudit::ItemWithoutTicket,
        entity_kind: "plan_item",
        entity_id: i.id.to_string(),
        detail: format!(
            "{} – {} {}：计划作业时间已过，没有关联的已执行工作票（无票作业，或计划取消未登记变更）",
            i.start.local_display(),
            i.end.local_display(),
            i.site
        ),
    }));
    out
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_plan_audit_flags_unplanned_work_and_items_passed_without_a_ticket() {
        let at = |s: &str| {
            let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
            Timestamp::from_local(local)
        };
        let ticket = |number: &str, plan_item: Option<i64>, exempt: bool| ExecutedTicket {
            number: number.into(),
            plan_item,
            exempt,
            unplanned_reason: Some("客户报修".into()),
            approved_by: Some("王经理".into()),
        };
        let item = |id: i64, end: &str, executed_tickets: usize| PlannedItem {
            id,
            start: at("2026-11-26 09:00"),
            end: at(end),
            site: "书院街 18 号".into(),
            executed_tickets,
        };
        let tickets = [ticket("DY-1", Some(1), false), ticket("DY-2", None, false), ticket("QX-1", None, true)];
        let items = [item(1, "2026-11-26 12:00", 1), item(2, "2026-11-26 12:00", 0), item(3, "2026-11-26 12:01", 0)];
        let found = audit(&tickets, &items, at("2026-11-26 12:01"));
        let keys: Vec<(&str, &str)> = found.iter().map(|f| (f.rule.code(), f.entity_id.as_str())).collect();
        // The planned ticket and the emergency repair are not flagged; the item ending this very
        // minute is not yet passed.
        assert_eq!(keys, [("UNPLANNED_WORK", "DY-2"), ("PLAN_ITEM_NO_TICKET", "2")]);
        assert!(found[0].detail.contains("客户报修") && found[0].detail.contains("王经理 批准"), "{}", found[0].detail);
        let later = audit(&tickets, &items, at("2026-11-26 12:02"));
        assert_eq!(later.len(), 3, "a minute later the third item has passed too");
        for r in PlanAudit::ALL {
            assert_eq!(PlanAudit::from_code(r.code()), Some(r));
        }
    }

    fn at(day: u32, hour: i64) -> Timestamp {
        // China time: UTC+8.
        Timestamp::from_utc(
            Utc.with_ymd_and_hms(2026, 12, day, 0, 0, 0).single().expect("day") + Duration::hours(hour - 8),
        )
    }

    fn item(id: i64, team: i64, site: &str, from: (u32, i64), to: (u32, i64), people: &[i64]) -> Item {
        Item {
            id,
            start: at(from.0, from.1),
            end: at(to.0, to.1),
            site: site.into(),
            work_kind: OrderType::MeterReplacement,
            team: UnitId::new(team),
            leader: people.first().map(|p| PersonId::new(*p)),
            people: people.iter().map(|p| PersonId::new(*p)).collect(),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("day")
    }

    #[test]
    fn two_teams_at_one_site_on_one_day_are_flagged_until_merged() {
        let items = [
            item(1, 10, "书院街 18 号", (3, 9), (3, 12), &[1, 2]),
            item(2, 11, " 书院街18号", (3, 14), (3, 17), &[3, 4]),
            item(3, 10, "书院街 18 号", (4, 9), (4, 12), &[1, 2]),
        ];
        let found = conflicts(&items, &[]);
        assert_eq!(
            found,
            [Conflict::SharedSite { day: day(3), site: "书院街18号".into(), items: vec![1, 2], merged: false }],
            "another day is another site visit"
        );
        let merge = Merge {
            day: day(3),
            site: site_key("书院街18号"),
            organiser: PersonId::new(1),
            measures: "统一验电接地".into(),
        };
        assert_eq!(
            conflicts(&items, std::slice::from_ref(&merge)),
            [Conflict::SharedSite { day: day(3), site: "书院街18号".into(), items: vec![1, 2], merged: true }]
        );
        // The same team twice at one site is one team's day, not a shared site.
        let same = [item(1, 10, "A", (3, 9), (3, 10), &[1]), item(2, 10, "A", (3, 11), (3, 12), &[1])];
        assert!(conflicts(&same, &[]).is_empty());
    }

    #[test]
    fn publishing_waits_for_every_shared_site_to_be_merged() {
        let items = [item(1, 10, "A", (3, 9), (3, 12), &[1, 2]), item(2, 11, "A", (3, 13), (3, 15), &[3, 4])];
        let codes = |r: Result<PlanState, Vec<Violation>>| {
            r.err().unwrap_or_default().into_iter().map(|v| v.rule.code).collect::<Vec<_>>()
        };
        assert_eq!(codes(check_step(PlanState::Approved, PlanStep::Publish, false, &items, &[])), ["PLAN_SHARED_SITE"]);
        let merge = Merge { day: day(3), site: "a".into(), organiser: PersonId::new(1), measures: "m".into() };
        assert_eq!(
            check_step(PlanState::Approved, PlanStep::Publish, false, &items, &[merge]),
            Ok(PlanState::Published)
        );
        assert_eq!(
            codes(check_step(PlanState::Draft, PlanStep::Publish, false, &items, &[])),
            ["PLAN_STATE"],
            "approve first"
        );
        assert_eq!(codes(check_step(PlanState::Draft, PlanStep::Approve, true, &items, &[])), ["PLAN_APPROVER"]);
        assert_eq!(check_step(PlanState::Draft, PlanStep::Approve, false, &items, &[]), Ok(PlanState::Approved));
        assert_eq!(
            codes(check_step(PlanState::Draft, PlanStep::Approve, false, &[], &[])),
            ["PLAN_STATE"],
            "nothing to approve"
        );
        assert_eq!(check_step(PlanState::Approved, PlanStep::Return, false, &items, &[]), Ok(PlanState::Draft));
    }

    #[test]
    fn a_published_plan_changes_only_with_a_reason() {
        assert!(check_edit(PlanState::Draft, None).is_ok());
        assert_eq!(check_edit(PlanState::Published, None).map_err(|v| v.rule.code), Err("PLAN_FROZEN"));
        assert_eq!(check_edit(PlanState::Published, Some("  ")).map_err(|v| v.rule.code), Err("PLAN_FROZEN"));
        assert!(check_edit(PlanState::Published, Some("客户要求改期")).is_ok());
        assert_eq!(check_edit(PlanState::Approved, Some("x")).map_err(|v| v.rule.code), Err("PLAN_STATE"));
    }

    proptest! {
        /// A person on two items is flagged exactly when their times overlap (half-open windows).
        #[test]
        fn a_person_twice_is_flagged_exactly_when_the_times_overlap(a in 0i64..40, len_a in 1i64..10, b in 0i64..40, len_b in 1i64..10) {
            let base = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("base");
            let t = |h: i64| Timestamp::from_utc(base + Duration::hours(h));
            let mk = |id: i64, team: i64, site: &str, s: i64, e: i64| Item {
                id, start: t(s), end: t(e), site: site.into(), work_kind: OrderType::MeterReplacement,
                team: UnitId::new(team), leader: Some(PersonId::new(id)), people: vec![PersonId::new(id), PersonId::new(7)],
            };
            let items = [mk(1, 10, "甲", a, a + len_a), mk(2, 11, "乙", b, b + len_b)];
            let twice = conflicts(&items, &[]).into_iter().any(|c| matches!(c, Conflict::PersonTwice { person, .. } if person == PersonId::new(7)));
            prop_assert_eq!(twice, a < b + len_b && b < a + len_a);
        }
    }
}
