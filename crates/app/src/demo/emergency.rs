//! The demo company's emergency work: plans of every kind (the county's comprehensive and special
//! plans, two on-site response plans, the hospital's own plan), an on-site plan whose half-yearly
//! drill is overdue, a drill whose two problems are hazards in the closed loop, a rural pilot in
//! the second county with its working standard (two versions) and a good practice, the 95598
//! export imported (its billing query left out) with one complaint turned into a hazard, and a
//! conduct review's evaluation.

use chrono::{Datelike, Duration};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::UnitId;

use crate::emergency::{self, DocumentInput, DrillInput, EvaluationInput, HazardInput, PilotInput, PlanInput};
use crate::{App, AppError, RequestMeta};

/// Fills the emergency records of `county` (and the pilot of `rural`); how many hazards they opened.
pub async fn fill(app: &App, meta: &RequestMeta, county: UnitId, rural: UnitId) -> Result<usize, AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let manage = op.authorize::<perm::EmergencyManage>()?;
    let record = op.authorize::<perm::FeedbackRecord>()?;
    let today = app.today();
    let ago = |days: i64| (today - Duration::days(days)).to_string();
    let ahead = |days: i64| (today + Duration::days(days)).to_string();
    let plan = |kind: &str, title: &str, risks: &[&str], approved: i64| PlanInput {
        unit_id: county,
        kind: kind.into(),
        title: title.into(),
        risks: risks.iter().map(|r| (*r).to_owned()).collect(),
        version: "2026 版".into(),
        approved_by: "孝南供电中心 主任 李国强".into(),
        approved_on: ago(approved),
        review_due: ahead(3 * 365 - approved),
        ..PlanInput::default()
    };
    let comprehensive = emergency::create_plan(
        app,
        &manage,
        meta,
        plan(
            "comprehensive",
            "孝南供电中心营销安全综合应急预案",
            &["customer_supply", "tariff", "field_work", "service"],
            400,
        ),
    )
    .await?;
    emergency::create_plan(
        app,
        &manage,
        meta,
        plan("special", "客户侧触电事故专项应急预案", &["customer_supply", "field_work"], 300),
    )
    .await?;
    let metering = emergency::create_plan(
        app,
        &manage,
        meta,
        plan("onsite", "计量装置带电作业触电现场处置方案", &["field_work"], 250),
    )
    .await?;
    let hall =
        emergency::create_plan(app, &manage, meta, plan("onsite", "营业厅突发停电现场处置方案", &["service"], 100))
            .await?;
    let mut hospital = plan("customer", "孝感市中心医院双电源失电应急预案", &["customer_supply"], 200);
    hospital.customer = "0701000101".into();
    hospital.approved_by = "孝感市中心医院 后勤科".into();
    emergency::create_plan(app, &manage, meta, hospital).await?;

    let drill = |day: i64, scenario: &str, problems: &str| DrillInput {
        held_on: ago(day),
        scenario: scenario.into(),
        people: "XG1001 XG1007 XG1013 XG1004".into(),
        rating: if problems.is_empty() { "good".into() } else { "adequate".into() },
        evaluation: "各岗位职责清楚，信息报送及时".into(),
        problems: problems.into(),
        responsible: "XG1007".into(),
        deadline: ahead(20),
        photo: Some(("演练.png".into(), super::customers::DELIVERY_PHOTO.to_vec())),
    };
    emergency::record_drill(app, &manage, meta, comprehensive, drill(100, "台风导致城区大面积停电，营销应急响应", ""))
        .await?;
    // Drilled seven months ago: its half-yearly drill is overdue.
    emergency::record_drill(app, &manage, meta, metering, drill(220, "带电换表时作业人员触电，现场急救与上报", ""))
        .await?;
    emergency::record_drill(
        app,
        &manage,
        meta,
        hall,
        drill(20, "营业厅突发停电，客户疏导与应急照明", "营业厅应急照明灯两盏不亮\n应急预案未张贴在值班室"),
    )
    .await?;

    let pilot = emergency::create_pilot(
        app,
        &manage,
        meta,
        PilotInput {
            unit_id: rural,
            name: "农村用电安全政企联动试点".into(),
            starts_on: ago(200),
            ends_on: String::new(),
        },
    )
    .await?;
    for (kind, title, tags, summary) in [
        (
            "standard",
            "农村低压台区安全巡视工作标准",
            "台区、巡视",
            "每月一次台区巡视，重点查看表箱、接户线和剩余电流动作保护器。",
        ),
        (
            "standard",
            "农村低压台区安全巡视工作标准",
            "台区、巡视、雷雨",
            "在第一版基础上增加雷雨季节特巡和巡视记录拍照要求。",
        ),
        (
            "practice",
            "村级安全用电协管员工作法",
            "村委、协管员",
            "每村聘请一名安全用电协管员，发现私拉乱接当日报告供电所。",
        ),
    ] {
        let input = DocumentInput {
            pilot_id: pilot,
            kind: kind.into(),
            title: title.into(),
            tags: tags.into(),
            summary: summary.into(),
            file: None,
        };
        emergency::publish_document(app, &manage, meta, input).await?;
    }

    let unit_name = crate::identity::unit_by_id(app, county).await?.map(|u| u.name).unwrap_or_default();
    let received = |days: i64, hour: u32| {
        let day = today - Duration::days(days);
        format!("{day} {hour:02}:15")
    };
    let export = format!(
        "工单编号,受理时间,户号,类别,内容,供电单位\n\
         95598-2611-0001,{},0701000104,用电安全,养殖场配电房门未上锁，屋外有裸露导线,{unit_name}\n\
         95598-2611-0002,{},,电费咨询,询问阶梯电价,{unit_name}\n\
         95598-2611-0003,{},0701000103,频繁停电,城站路一周停电两次，影响营业,{unit_name}\n",
        received(6, 9),
        received(4, 14),
        received(2, 10),
    );
    emergency::import_complaints(app, &record, meta, &[("95598投诉工单.csv".into(), export.into_bytes())])
        .await?
        .map_err(|_| AppError::invalid("files", "input-problem-unreadable"))?;
    // The complaint about the farm opens a hazard: it is in the month it was received.
    let view = op.authorize::<perm::EmergencyView>()?;
    let received_month = (today - Duration::days(6)).with_day(1).unwrap_or(today);
    let month = emergency::feedback(app, &view, received_month).await?;
    let complaint = month.complaints.iter().find(|c| c.ticket_no == "95598-2611-0001").map(|c| c.id);
    // The drill's two problems, and the complaint's.
    let mut hazards = 2;
    if let Some(id) = complaint {
        hazards += 1;
        let hazard = HazardInput {
            title: "养殖场配电房门锁缺失、屋外裸露导线".into(),
            responsible: "XG1002".into(),
            deadline: ahead(10),
        };
        emergency::complaint_hazard(app, &record, meta, id, hazard).await?;
    }
    let evaluation = EvaluationInput {
        unit_id: county,
        period: today.format("%Y-%m").to_string(),
        kind: "conduct".into(),
        score: "88.5".into(),
        remarks: "客户经理上门服务及时；个别台区表箱锈蚀需关注".into(),
        evaluator: "孝感市行风评议代表团".into(),
        hazard: None,
    };
    emergency::record_evaluation(app, &record, meta, evaluation).await?;
    Ok(hazards)
}
