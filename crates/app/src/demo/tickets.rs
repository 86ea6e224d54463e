//! The demo company's work tickets: one in every state, some evaluated, some with problems.
//!
//! Every ticket goes through the real use cases: drafts by `create_ticket`, each step by the
//! lifecycle with its rules. The steps are signed for the fictional people by the demo itself
//! (the signature names "gridsafe demo" as the account), at today's times. Each ticket carries
//! out an item of its day's published work plan, but one: a customer's fault report handled the
//! same day, unplanned work whose reason the unit's manager approved.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::plans::PlanStep;
use gridsafe_domain::tickets::Step;
use gridsafe_domain::tickets::evaluation::Verdict;
use gridsafe_domain::time::Timestamp;

use crate::people::{self, Manage, QualificationInput, Reach};
use crate::plans::{self, ItemInput, PlanInput};
use crate::tickets::{self, TicketInput};
use crate::{App, AppError, RequestMeta};

/// A ticket to fill: document, kind of work, order, people (工号), hours from now of its window.
struct Plan {
    doc: &'static str,
    kind: &'static str,
    order: &'static str,
    customer: (&'static str, &'static str),
    location: &'static str,
    content: &'static str,
    issuer: &'static str,
    co_issuer: &'static str,
    leader: &'static str,
    permitter: &'static str,
    crew: &'static [&'static str],
    window: (i64, i64),
}

const CLOSED_PASS: Plan = Plan {
    doc: "low_voltage",
    kind: "meter_install",
    order: "WO-DEMO-0001",
    customer: ("4300001001", "孝南区书院街便民超市"),
    location: "孝南区书院街 18 号低压计量箱",
    content: "新装低压三相电能表一只并接电",
    issuer: "XG1011",
    co_issuer: "",
    leader: "XG1019",
    permitter: "XG1013",
    crew: &["XG1023", "XG1024"],
    window: (-3, 5),
};

const CLOSED_FAIL: Plan = Plan {
    doc: "dist_second",
    kind: "meter_replacement",
    order: "WO-DEMO-0002",
    customer: ("4300002002", "孝感市第三人民医院"),
    location: "孝南区槐荫大道 10kV 医院配电室计量柜",
    content: "更换高压计量柜电能表，不停电",
    issuer: "XG1021",
    co_issuer: "",
    leader: "XG1031",
    permitter: "XG1025",
    crew: &["XG1008"],
    window: (-3, 5),
};

const CLOSED_UNEVALUATED: Plan = Plan {
    doc: "dist_first",
    kind: "new_connection",
    order: "WO-DEMO-0003",
    customer: ("4300003003", "孝感恒丰食品有限公司"),
    location: "孝南区毛陈镇 10kV 恒丰专线 #12 杆",
    content: "新装 630kVA 专变送电",
    issuer: "XG1041",
    co_issuer: "",
    leader: "XG1037",
    permitter: "XG1025",
    crew: &["XG1009", "XG1010"],
    window: (-3, 5),
};

/// The ticket whose 开工 is first refused for want of a manager on site.
const SHOWN_REFUSED_START: &str = "WO-DEMO-0003";

/// The demo manager who goes to ticket `id`'s site when its grade needs one: the unit leader
/// (`demo.leader`) where a leader is required, else the safety auditor (`demo.safety`).
async fn onsite_manager(
    app: &App,
    sign: &gridsafe_domain::access::Capability<perm::TicketsSign>,
    id: TicketId,
) -> Result<Option<(gridsafe_domain::access::Capability<perm::SupervisionAttend>, &'static str)>, AppError> {
    let t = tickets::ticket(app, sign, id).await?;
    if t.on_site.required.is_empty() {
        return Ok(None);
    }
    let username = if t.on_site.required.iter().any(|r| r == "safety_auditor") { "demo.safety" } else { "demo.leader" };
    let principal = super::account(app, username).await?;
    Ok(Some((principal.authorize::<perm::SupervisionAttend>()?, username)))
}

/// Fills the demo tickets. People are those of the demo register.
pub async fn fill(app: &App, meta: &RequestMeta, unit: UnitId, reach: &Reach<Manage>) -> Result<usize, AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let write = op.authorize::<perm::TicketsWrite>()?;
    let sign = op.authorize::<perm::TicketsSign>()?;
    let evaluate = op.authorize::<perm::TicketsEvaluate>()?;
    let now = app.now();
    let at = |hours: i64| Timestamp::from_utc(now.as_utc() + Duration::hours(hours)).local_input();

    // The contractor's own issuer, for the dual-issue example.
    let co_issuer = person(app, "C01W02").await?;
    let list = QualificationInput {
        kind: "ticket_issuer".into(),
        valid_from: (app.today() - Duration::days(30)).to_string(),
        valid_to: (app.today() + Duration::days(300)).to_string(),
        passed: true,
        ..QualificationInput::default()
    };
    people::add_qualification(app, reach, meta, co_issuer, list).await?;

    // The day's plans: an item for each planned ticket, on its day, published.
    let planned: [&Plan; 13] = [
        &CLOSED_PASS,
        &CLOSED_FAIL,
        &CLOSED_UNEVALUATED,
        &INTERRUPTED,
        &PERMITTED,
        &ENDED,
        &RECEIVED,
        &CONTRACTED,
        &VOIDED,
        &POSTPONED,
        &DRAFT,
        &TROUBLE,
        &LAPSED,
    ];
    let plan_write = op.authorize::<perm::PlansWrite>()?;
    let plan_approve = op.authorize::<perm::PlansApprove>()?;
    let mut daily: BTreeMap<chrono::NaiveDate, i64> = BTreeMap::new();
    let mut items: HashMap<&'static str, i64> = HashMap::new();
    for p in planned {
        let day = Timestamp::from_utc(now.as_utc() + Duration::hours(p.window.0)).local_date();
        let plan = match daily.get(&day) {
            Some(plan) => *plan,
            None => {
                let input = PlanInput { unit_id: unit, kind: "daily".into(), first_day: day.to_string() };
                let plan = plans::create_plan(app, &plan_write, meta, input).await?;
                daily.insert(day, plan);
                plan
            }
        };
        let item = ItemInput {
            start: at(p.window.0),
            end: at(p.window.1),
            site: p.location.into(),
            work_kind: p.kind.into(),
            team_id: unit,
            leader: p.leader.into(),
            crew: p.crew.join(" "),
            ..ItemInput::default()
        };
        items.insert(p.order, plans::add_item(app, &plan_write, meta, plan, item).await?);
    }
    for plan in daily.values() {
        plans::take_step(app, &plan_approve, meta, *plan, PlanStep::Approve, "").await?;
        plans::take_step(app, &plan_approve, meta, *plan, PlanStep::Publish, "").await?;
    }

    let create = |p: &Plan| {
        let plan_item = items.get(p.order).map(|i| i.to_string()).unwrap_or_default();
        let input = TicketInput {
            type_code: p.doc.into(),
            unit_id: unit,
            work_kind: p.kind.into(),
            customer_id: p.customer.0.into(),
            customer_name: p.customer.1.into(),
            location: p.location.into(),
            content: p.content.into(),
            voltage_kv: if p.doc.starts_with("dist") { "10".into() } else { "0.4".into() },
            planned_start: at(p.window.0),
            planned_end: at(p.window.1),
            issuer: p.issuer.into(),
            co_issuer: p.co_issuer.into(),
            leader: p.leader.into(),
            permitter: p.permitter.into(),
            crew: p.crew.join(" "),
            orders: if p.order.is_empty() { String::new() } else { format!("{}:{}", p.order, p.kind) },
            unplanned_reason: if plan_item.is_empty() { UNPLANNED_REASON.into() } else { String::new() },
            plan_item,
        };
        tickets::create_ticket(app, &write, meta, input)
    };
    let step = |id: TicketId, who: &'static str, s: Step, note: &'static str| {
        let sign = &sign;
        async move {
            let by = person(app, who).await?;
            tickets::take_step_by(app, sign, meta, id, s, note, Some(by)).await
        }
    };
    // Walks a ticket from draft to `until` (the name of its last step).
    let sign_ref = &sign;
    let walk = |id: TicketId, p: &'static Plan, until: &'static str| async move {
        let mut path: Vec<(&'static str, Step)> = Vec::new();
        if !p.co_issuer.is_empty() {
            path.push((p.co_issuer, Step::CoSign));
        }
        path.push((p.issuer, Step::Issue));
        path.push((p.leader, Step::Receive));
        path.push((p.permitter, Step::Permit));
        for c in p.crew {
            path.push((c, Step::Acknowledge));
        }
        path.push((p.leader, Step::Start));
        path.push((p.leader, Step::EndWork));
        path.push((p.permitter, Step::Close { measures_restored: true }));
        // 到岗到位: work graded to need a manager waits for one. The first such ticket tries to
        // start before, to show the refusal; the manager arrives, and leaves when the work ended.
        let manager = onsite_manager(app, sign_ref, id).await?;
        for (who, s) in path {
            let code = s.code();
            if let (Step::Start, Some((cap, _))) = (&s, &manager) {
                if p.order == SHOWN_REFUSED_START {
                    let refused = step(id, who, Step::Start, "").await;
                    debug_assert!(matches!(refused, Err(AppError::Rules(_))));
                }
                crate::supervision::arrive(
                    app,
                    cap,
                    meta,
                    id,
                    crate::supervision::ArrivalInput {
                        position: Some(crate::supervision::Position {
                            lat: 30.9245,
                            lon: 113.9166,
                            accuracy_m: Some(12.0),
                        }),
                        note: "现场核对安全措施".into(),
                        photo: Some(("到岗.png".into(), super::customers::DELIVERY_PHOTO.to_vec())),
                    },
                )
                .await?;
            }
            step(id, who, s, "").await?;
            if let (true, Some((cap, _))) = (code == "end_work", &manager) {
                crate::supervision::depart(app, cap, meta, id, None).await?;
            }
            if code == until {
                break;
            }
        }
        Ok::<TicketId, AppError>(id)
    };

    let mut count = 0;
    // Executed this month: one pass, one fail, one awaiting its (mandatory) evaluation.
    let id = walk(create(&CLOSED_PASS).await?, &CLOSED_PASS, "close").await?;
    tickets::evaluate(app, &evaluate, meta, id, Verdict::Pass, &[], "").await?;
    let id = walk(create(&CLOSED_FAIL).await?, &CLOSED_FAIL, "close").await?;
    tickets::evaluate(app, &evaluate, meta, id, Verdict::Fail, &["R09".into(), "R14".into()], "交底时间晚于开工时间")
        .await?;
    let id = create(&CLOSED_UNEVALUATED).await?;
    tickets::record_survey(app, &write, meta, id, "停电范围：恒丰专线 #12 杆后段；保留带电部位：#11 杆及以前；接地线：#12 杆大号侧一组；邻近 0.4kV 线路交叉跨越一处。").await?;
    walk(id, &CLOSED_UNEVALUATED, "close").await?;
    count += 3;

    // In progress now: started, interrupted, permitted, work ended. A ticket holds its people
    // until its work ended, so these have people of their own (the demo accounts' people stay
    // free, so that a newcomer can walk a new ticket).
    static STARTED: Plan = Plan {
        order: "WO-DEMO-0004",
        kind: "meter_replacement",
        content: "更换故障单相电能表",
        customer: ("4300004004", "孝南区东方红小区 3 栋"),
        location: "东方红小区 3 栋一单元表箱",
        // The demo accounts' own people stay free now, so that a newcomer can walk a new ticket.
        leader: "XG1043",
        crew: &["XG1014", "XG1015"],
        ..CLOSED_PASS
    };
    // Not in the plan: the customer reported a broken meter this morning; the unit's manager
    // approved the work before it was issued.
    let id = create(&STARTED).await?;
    let manager = Principal::operator("分管领导（演示）", Channel::Cli);
    tickets::approve_unplanned(app, &manager.authorize::<perm::PlansApprove>()?, meta, id).await?;
    walk(id, &STARTED, "start").await?;
    static INTERRUPTED: Plan = Plan {
        doc: "low_voltage",
        order: "WO-DEMO-0005",
        kind: "meter_replacement",
        customer: ("4300005005", "孝南区新华路农贸市场"),
        location: "新华路农贸市场总表箱",
        content: "批量换表（雷雨间断）",
        leader: "XG1017",
        crew: &["XG1018"],
        ..CLOSED_FAIL
    };
    let id = walk(create(&INTERRUPTED).await?, &INTERRUPTED, "start").await?;
    step(id, INTERRUPTED.leader, Step::Interrupt, "雷雨天气，暂停户外作业").await?;
    static PERMITTED: Plan = Plan {
        doc: "low_voltage",
        kind: "reconnect",
        order: "WO-DEMO-0006",
        customer: ("4300006006", "孝南区朋兴乡养殖场"),
        location: "朋兴乡养殖场配电箱",
        content: "欠费结清后复电",
        leader: "XG1022",
        permitter: "XG1037",
        crew: &["XG1029"],
        ..CLOSED_UNEVALUATED
    };
    walk(create(&PERMITTED).await?, &PERMITTED, "permit").await?;
    static ENDED: Plan = Plan {
        doc: "low_voltage",
        kind: "meter_removal",
        order: "WO-DEMO-0007",
        customer: ("4300007007", "孝南区车站街 5 号"),
        location: "车站街 5 号表箱",
        content: "销户拆表",
        issuer: "XG1011",
        leader: "XG1025",
        permitter: "XG1013",
        crew: &["XG1016"],
        ..CLOSED_PASS
    };
    walk(create(&ENDED).await?, &ENDED, "end_work").await?;
    count += 4;

    // Coming up: received for tomorrow, issued with a contractor's crew (dual issue) the day after.
    static RECEIVED: Plan = Plan {
        order: "WO-DEMO-0008",
        customer: ("4300008008", "孝南区西湖路 22 号"),
        location: "西湖路 22 号表箱",
        leader: "XG1037",
        permitter: "XG1013",
        crew: &["XG1012"],
        window: (20, 28),
        ..CLOSED_PASS
    };
    walk(create(&RECEIVED).await?, &RECEIVED, "receive").await?;
    static CONTRACTED: Plan = Plan {
        doc: "field_card",
        kind: "meter_replacement",
        order: "WO-DEMO-0009",
        customer: ("4300009009", "孝南区广场街商铺"),
        location: "广场街 1–20 号商铺表箱",
        content: "外包队伍批量轮换电能表",
        issuer: "XG1011",
        co_issuer: "C01W02",
        leader: "C01W01",
        permitter: "XG1025",
        crew: &["C01W03"],
        window: (44, 52),
    };
    walk(create(&CONTRACTED).await?, &CONTRACTED, "issue").await?;
    count += 2;

    // Ended without work: voided by the issuer, and one the customer postponed.
    static VOIDED: Plan = Plan {
        order: "WO-DEMO-0010",
        customer: ("4300010010", "孝南区长征路 8 号"),
        location: "长征路 8 号表箱",
        leader: "XG1027",
        permitter: "XG1013",
        crew: &["XG1006"],
        window: (-2, 6),
        ..CLOSED_PASS
    };
    let id = walk(create(&VOIDED).await?, &VOIDED, "issue").await?;
    step(id, VOIDED.issuer, Step::Void, "票面计量箱编号填写错误，重新开票").await?;
    static POSTPONED: Plan = Plan {
        order: "WO-DEMO-0011",
        customer: ("4300011011", "孝南区光明村"),
        location: "光明村 2 组表箱",
        leader: "XG1025",
        permitter: "XG1013",
        crew: &["XG1006"],
        window: (60, 68),
        ..CLOSED_PASS
    };
    let id = walk(create(&POSTPONED).await?, &POSTPONED, "receive").await?;
    step(id, POSTPONED.issuer, Step::NotExecuted, "客户要求改期").await?;
    count += 2;

    // Drafts: a good one to try, and one with problems that issuing refuses (the refusal is
    // in the audit trail): a blacklisted contractor's worker, no second issuer.
    static DRAFT: Plan = Plan {
        order: "WO-DEMO-0012",
        customer: ("4300012012", "孝南区城站路 3 号"),
        location: "城站路 3 号表箱",
        window: (70, 78),
        ..CLOSED_PASS
    };
    create(&DRAFT).await?;
    static TROUBLE: Plan = Plan {
        order: "WO-DEMO-0013",
        customer: ("4300013013", "孝南区肖港镇卫生院"),
        location: "肖港镇卫生院配电房",
        content: "增容改造后接电",
        kind: "capacity_change",
        doc: "dist_second",
        leader: "XG1019",
        crew: &["C04W01"],
        window: (80, 88),
        ..CLOSED_FAIL
    };
    let id = create(&TROUBLE).await?;
    if step(id, TROUBLE.issuer, Step::Issue, "").await.is_ok() {
        return Err(AppError::internal("demo: the troubled draft was issued"));
    }
    // A draft nobody issued before its time passed: stamped 未执行 by the lapse job.
    static LAPSED: Plan = Plan {
        order: "WO-DEMO-0014",
        customer: ("4300014014", "孝南区寨子村"),
        location: "寨子村台区",
        window: (-30, -2),
        ..CLOSED_PASS
    };
    create(&LAPSED).await?;
    tickets::lapse_overdue(app, meta).await?;
    count += 3;
    Ok(count)
}

/// Why the one unplanned demo ticket is not in the plan.
const UNPLANNED_REASON: &str = "客户 95598 报修：电能表黑屏不走字，当天上门更换";

async fn person(app: &App, code: &str) -> Result<PersonId, AppError> {
    super::person_id(app, code).await
}
