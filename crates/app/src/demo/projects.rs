//! The demo company's customer projects (业扩报装): this year's holiday calendar, and projects in
//! every stage: a new residential area waiting for its supply plan, a school overdue at design
//! review, a steel works whose design review failed once and whose recheck found what the first
//! inspector missed (首检负责制), a shopping centre whose completion inspection failed with two
//! defects (the written notice signed for, waiting on the customer; its 装表接电 ticket, already
//! received, cannot be permitted and names the defect), a farm's completion report waiting for
//! the inspector, a bank branch energised on time, and a village household just accepted.

use chrono::{Datelike, Duration, NaiveDate};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::{PersonId, ProjectId, UnitId};
use gridsafe_domain::projects::{ProjectStep, Recheck};
use gridsafe_store::projects::CalendarDay;

use crate::projects::{self, InspectionInput, ProjectInput, StepInput};
use crate::{App, AppError, RequestMeta};

/// 2026's public holidays and working weekends as announced (国务院办公厅 notice), for the demo.
const HOLIDAYS_2026: &[(&str, &str, &str)] = &[
    ("2026-01-01", "holiday", "元旦"),
    ("2026-01-02", "holiday", "元旦"),
    ("2026-01-03", "holiday", "元旦"),
    ("2026-01-04", "workday", "元旦调休"),
    ("2026-02-14", "workday", "春节调休"),
    ("2026-02-15", "holiday", "春节"),
    ("2026-02-16", "holiday", "春节"),
    ("2026-02-17", "holiday", "春节"),
    ("2026-02-18", "holiday", "春节"),
    ("2026-02-19", "holiday", "春节"),
    ("2026-02-20", "holiday", "春节"),
    ("2026-02-21", "holiday", "春节"),
    ("2026-02-22", "holiday", "春节"),
    ("2026-02-23", "holiday", "春节"),
    ("2026-02-28", "workday", "春节调休"),
    ("2026-04-04", "holiday", "清明节"),
    ("2026-04-05", "holiday", "清明节"),
    ("2026-04-06", "holiday", "清明节"),
    ("2026-05-01", "holiday", "劳动节"),
    ("2026-05-02", "holiday", "劳动节"),
    ("2026-05-03", "holiday", "劳动节"),
    ("2026-05-04", "holiday", "劳动节"),
    ("2026-05-05", "holiday", "劳动节"),
    ("2026-05-09", "workday", "劳动节调休"),
    ("2026-06-19", "holiday", "端午节"),
    ("2026-06-20", "holiday", "端午节"),
    ("2026-06-21", "holiday", "端午节"),
    ("2026-09-20", "workday", "国庆节调休"),
    ("2026-09-25", "holiday", "中秋节"),
    ("2026-09-26", "holiday", "中秋节"),
    ("2026-09-27", "holiday", "中秋节"),
    ("2026-10-01", "holiday", "国庆节"),
    ("2026-10-02", "holiday", "国庆节"),
    ("2026-10-03", "holiday", "国庆节"),
    ("2026-10-04", "holiday", "国庆节"),
    ("2026-10-05", "holiday", "国庆节"),
    ("2026-10-06", "holiday", "国庆节"),
    ("2026-10-07", "holiday", "国庆节"),
    ("2026-10-10", "workday", "国庆节调休"),
];

const CALENDAR_ORIGIN: &str = "演示数据：按国务院办公厅 2026 年部分节假日安排录入，使用前请与正式通知核对 [UNVERIFIED]";

/// Fills the calendar and the projects of `unit`: how many projects, and how many customers they
/// brought into the register.
pub async fn fill(app: &App, meta: &RequestMeta, unit: UnitId) -> Result<(usize, usize), AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let manage = op.authorize::<perm::ProjectsManage>()?;
    let inspect = op.authorize::<perm::ProjectsInspect>()?;
    let today = app.today();
    let days: Vec<CalendarDay> = HOLIDAYS_2026
        .iter()
        .filter_map(|(day, kind, name)| {
            Some(CalendarDay {
                day: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
                kind: (*kind).into(),
                name: (*name).into(),
                origin: CALENDAR_ORIGIN.into(),
            })
        })
        .collect();
    let mut tx = app.db().begin_write().await?;
    gridsafe_store::projects::replace_year(&mut tx, days[0].day.year(), &days).await?;
    tx.commit().await?;

    let ago = |days: i64| (today - Duration::days(days)).to_string();
    let project =
        |account: &str, name: &str, address: &str, kind: &str, kv: &str, kva: &str, accepted: i64| ProjectInput {
            account_no: account.into(),
            customer_name: name.into(),
            address: address.into(),
            unit_id: unit,
            kind: kind.into(),
            voltage_kv: kv.into(),
            capacity_kva: kva.into(),
            manager: "XG1003".into(),
            order_id: format!("SQ{}", account),
            accepted_on: ago(accepted),
            ..ProjectInput::default()
        };
    let step = |id: ProjectId, s: ProjectStep, days: i64, note: &str| {
        let manage = &manage;
        let input = StepInput { on: ago(days), note: note.into(), document: None };
        async move { projects::take_step(app, manage, meta, id, s, input).await }
    };
    let inspector = |code: &'static str| async move { super::person_id(app, code).await };
    let inspection = |by: PersonId, days: i64, rechecks: Vec<Recheck>, new: &str, conclusion: &str| InspectionInput {
        inspector: by,
        on: ago(days),
        conclusion: conclusion.into(),
        rechecks,
        new_defects: new.into(),
        document: None,
    };
    let first = inspector("XG1002").await?;
    let second = inspector("XG1012").await?;

    // A new residential area, surveyed, its supply plan being written.
    let mut input = project("0701000201", "孝感新城小区（开发商）", "孝南区槐荫大道 88 号", "new", "10", "1260", 5);
    input.dual_source = true;
    input.designer = "C03".into();
    input.builder = "C01".into();
    let area = projects::register(app, &manage, meta, input, None).await?;
    step(area, ProjectStep::Survey, 3, "配电房位置、进线路径已与开发商确认").await?;

    // A school: drawings submitted 25 days ago, not yet reviewed: overdue.
    let school = projects::register(
        app,
        &manage,
        meta,
        project("0701000202", "孝南区槐荫学校", "孝南区槐荫路 6 号", "new", "10", "800", 45),
        None,
    )
    .await?;
    step(school, ProjectStep::Survey, 43, "").await?;
    step(school, ProjectStep::Reply, 38, "10kV 单电源，槐荫线 T 接，800kVA 箱变").await?;
    step(school, ProjectStep::Submit, 25, "设计单位送审图纸一套").await?;

    // A steel works: its design review failed; the recheck found the first inspector's miss.
    let steel = projects::register(
        app,
        &manage,
        meta,
        project("0701000203", "汉川华强钢构厂", "孝南区工业园 3 号", "increase", "10", "2000", 70),
        None,
    )
    .await?;
    step(steel, ProjectStep::Survey, 68, "").await?;
    step(steel, ProjectStep::Reply, 62, "增容至 2000kVA，新增一台 1250kVA 变压器").await?;
    step(steel, ProjectStep::Submit, 55, "").await?;
    projects::inspect(
        app,
        &inspect,
        meta,
        steel,
        inspection(second, 52, Vec::new(), "图纸未标注接地装置及接地电阻要求", ""),
    )
    .await?;
    step(steel, ProjectStep::Resume, 48, "设计单位补充接地图纸，申请复审").await?;
    let open = open_defects(app, &inspect, steel).await?;
    let rechecks = open.iter().map(|d| Recheck { defect: *d, rectified: true }).collect();
    projects::inspect(
        app,
        &inspect,
        meta,
        steel,
        inspection(first, 47, rechecks, "电缆截面与新增容量不符", "接地已补充；新发现电缆截面问题，计入首检漏检"),
    )
    .await?;
    step(steel, ProjectStep::Resume, 44, "").await?;
    let open = open_defects(app, &inspect, steel).await?;
    let rechecks = open.iter().map(|d| Recheck { defect: *d, rectified: true }).collect();
    projects::inspect(app, &inspect, meta, steel, inspection(first, 42, rechecks, "", "图纸审查合格")).await?;

    // A shopping centre at completion: two defects in one written notice, signed for.
    let shop = projects::register(
        app,
        &manage,
        meta,
        project("4300008008", "孝南区西湖路 22 号商住楼", "孝南区西湖路 22 号", "new", "10", "630", 75),
        None,
    )
    .await?;
    step(shop, ProjectStep::Survey, 73, "").await?;
    step(shop, ProjectStep::Reply, 68, "").await?;
    for (submitted, inspected) in [(60, 57), (40, 38)] {
        step(shop, ProjectStep::Submit, submitted, "").await?;
        projects::inspect(app, &inspect, meta, shop, inspection(first, inspected, Vec::new(), "", "合格")).await?;
    }
    step(shop, ProjectStep::Submit, 10, "竣工报验资料齐全").await?;
    let done = projects::inspect(
        app,
        &inspect,
        meta,
        shop,
        inspection(
            first,
            8,
            Vec::new(),
            "接地电阻实测 6.2Ω，大于 4Ω\n配电室未设挡鼠板",
            "竣工检验不合格，一次性书面告知",
        ),
    )
    .await?;
    projects::sign_notice(app, &manage, meta, shop, done.inspection, "张经理（开发商工程部）", &ago(7)).await?;

    // A farm raising its supply to 10 kV: the completion report handed in two days ago, waiting
    // for the inspector (the browser journey records its inspection).
    let farm = projects::register(app, &manage, meta, project("0701000104", "", "", "increase", "10", "630", 40), None)
        .await?;
    step(farm, ProjectStep::Survey, 39, "").await?;
    step(farm, ProjectStep::Reply, 35, "低压增容改 10kV 供电，新建 630kVA 箱变").await?;
    for (submitted, inspected) in [(30, 28), (15, 14)] {
        step(farm, ProjectStep::Submit, submitted, "").await?;
        projects::inspect(app, &inspect, meta, farm, inspection(first, inspected, Vec::new(), "", "合格")).await?;
    }
    step(farm, ProjectStep::Submit, 2, "竣工报验资料齐全").await?;

    // A bank branch on the short path, energised within its five working days.
    let bank = projects::register(
        app,
        &manage,
        meta,
        project("0701000204", "农商银行城站支行", "孝南区城站路 2 号", "new", "0.4", "60", 14),
        None,
    )
    .await?;
    step(bank, ProjectStep::Survey, 13, "").await?;
    step(bank, ProjectStep::Reply, 10, "低压单电源，城站路 3 号台区接入").await?;
    step(bank, ProjectStep::Energise, 8, "装表接电工作票 WO-DEMO-0001 同类作业").await?;

    // A village household, accepted two days ago.
    let mut household = project("0701000205", "刘家村 3 组 刘某", "孝南区刘家村 3 组", "new", "0.22", "8", 2);
    household.residential = true;
    projects::register(app, &manage, meta, household, None).await?;
    // Six of them are customers new to the register (only the farm was known).
    Ok((7, 6))
}

async fn open_defects(
    app: &App,
    cap: &gridsafe_domain::access::Capability<perm::ProjectsInspect>,
    id: ProjectId,
) -> Result<Vec<i64>, AppError> {
    Ok(projects::project(app, cap, id).await?.open_defects().iter().map(|d| d.id).collect())
}
