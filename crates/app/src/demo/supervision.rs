//! The demo company's on-site supervision: violations found on site this month (a contractor's
//! worker without his helmet, a team, a customer who connected himself), one person suspended
//! by his points and re-admitted after retraining and an exam, one still suspended and waiting
//! for his review meeting (说清楚). The arrivals at graded work are the tickets' (see
//! `tickets.rs`).

use chrono::Duration;
use gridsafe_domain::access::perm;
use gridsafe_domain::time::Timestamp;

use crate::supervision::{self, ReadmissionInput, ViolationInput};
use crate::{App, AppError, RequestMeta};

pub async fn fill(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    let safety = super::account(app, "demo.safety").await?;
    let record = safety.authorize::<perm::ViolationsRecord>()?;
    let review = safety.authorize::<perm::ViolationsReview>()?;
    let now = app.now();
    let ago = |days: i64, hours: i64| {
        Timestamp::from_utc(now.as_utc() - Duration::days(days) - Duration::hours(hours)).local_input()
    };
    let violation =
        |offender: &str, who: &str, when: String, place: &str, catalogue: &str, class: &str, severity: &str| {
            let mut v = ViolationInput {
                offender: offender.into(),
                occurred_at: when,
                place: place.into(),
                catalogue: catalogue.into(),
                class: class.into(),
                severity: severity.into(),
                responsible: "XG1007".into(),
                photo: Some(("现场.png".into(), super::customers::DELIVERY_PHOTO.to_vec())),
                ..ViolationInput::default()
            };
            match offender {
                "person" => v.person = who.into(),
                "customer" => v.customer = who.into(),
                "team" => v.team = who.into(),
                _ => v.contractor = who.into(),
            }
            v
        };
    let mut count = 0;
    // The safety auditor checks the meter change at 东方红小区 (at work now) against the metering
    // checklist: a crew member without his helmet, recorded as a violation from the failed item.
    let started =
        gridsafe_store::supervision::ticket_by_number(&mut *app.db().read().await?, &started_number(app).await?)
            .await?
            .ok_or(AppError::NotFound)?
            .0;
    let templates = supervision::templates(app).await?;
    let metering = templates.iter().find(|t| t.code == "metering").ok_or(AppError::NotFound)?;
    let helmet = metering.items.iter().find(|i| i.catalogue_code.as_deref() == Some("YZ-10")).map_or(0, |i| i.position);
    let answers = metering
        .items
        .iter()
        .map(|i| {
            let fail = i.position == helmet;
            (
                i.position,
                if fail { "fail" } else { "pass" }.to_owned(),
                if fail { "一名作业人员未戴安全帽".to_owned() } else { String::new() },
            )
        })
        .collect();
    let check_input = supervision::CheckInput {
        template: metering.code.clone(),
        answers,
        note: "开工后巡查，其余各项符合要求".into(),
        photo: Some(("检查.png".into(), super::customers::DELIVERY_PHOTO.to_vec())),
    };
    let check = supervision::record_check(app, &record, meta, started, check_input).await?;
    let v = ViolationInput {
        description: "现场检查发现作业人员未戴安全帽进入计量箱作业区域，已当场纠正。".into(),
        rule_broken: String::new(),
        check: Some((check, helmet)),
        ..violation("person", "XG1015", ago(0, 1), "东方红小区 3 栋一单元表箱", "", "behaviour", "general")
    };
    supervision::record(app, &record, meta, v).await?;
    count += 1;
    // A contractor's worker on the shop-row meter change, seen without his helmet.
    let v = ViolationInput {
        description: "现场检查发现外包作业人员未戴安全帽进入计量箱作业区域，已当场纠正。".into(),
        ..violation("person", "C01W03", ago(0, 2), "广场街 1–20 号商铺表箱", "YZ-10", "behaviour", "general")
    };
    supervision::record(app, &record, meta, v).await?;
    // A team that left the site without its barrier.
    let v = ViolationInput {
        description: "低压表箱更换作业现场未设置围栏和“在此工作”标示牌。".into(),
        ..violation("team", "孝南装表接电班", ago(6, 3), "孝南区书院街 18 号", "YZ-09", "equipment", "major")
    };
    supervision::record(app, &record, meta, v).await?;
    // A customer who connected a new load himself: his hazard goes to the customer manager.
    let v = ViolationInput {
        description: "用电检查发现客户私自从计量箱进线侧搭接临时线路，供新增空调机组用电。".into(),
        responsible: String::new(),
        ..violation("customer", "0701000102", ago(9, 5), "孝南区书院街 18 号基站机房", "KH-01", "behaviour", "serious")
    };
    supervision::record(app, &record, meta, v).await?;
    count += 3;

    // Suspended by his points (无票作业, 12 points), explained at the review meeting, retrained,
    // passed the exam, re-admitted.
    let v = ViolationInput {
        description: "未办理工作票即打开计量柜更换电流互感器。".into(),
        ..violation("person", "XG1033", ago(12, 4), "孝南区长征路 8 号计量柜", "YZ-01", "behaviour", "grave")
    };
    let done = supervision::record(app, &record, meta, v).await?;
    supervision::record_review(
        app,
        &review,
        meta,
        done.id,
        "本人及班组长到营销部安全管理室说清楚：未执行工作票制度，承担主要责任；班组安全日活动通报。",
    )
    .await?;
    let today = app.today();
    let readmission = ReadmissionInput {
        trained_on: (today - Duration::days(5)).to_string(),
        exam_on: (today - Duration::days(2)).to_string(),
        score: "92".into(),
        passed: true,
        note: "重新学习《安规》工作票制度，考试合格".into(),
    };
    let person = gridsafe_store::people::id_by_code(&mut *app.db().read().await?, "XG1033").await?;
    supervision::readmit(app, &review, meta, person.ok_or(AppError::NotFound)?, readmission).await?;
    // Suspended now: two serious violations, his review meeting not yet held.
    for (days, catalogue, description) in
        [(20, "YZ-04", "擅自在工作票范围外增加一处表箱接线。"), (3, "YZ-06", "登高更换表箱时未系安全带。")]
    {
        let v = ViolationInput {
            description: description.into(),
            ..violation("person", "XG1034", ago(days, 2), "孝南区车站街", catalogue, "behaviour", "serious")
        };
        supervision::record(app, &record, meta, v).await?;
    }
    count += 3;
    Ok(count)
}

/// The number of the demo ticket at work now (东方红小区 3 栋, work order WO-DEMO-0004).
async fn started_number(app: &App) -> Result<String, AppError> {
    let op = gridsafe_domain::access::Principal::operator("gridsafe demo", gridsafe_domain::access::Channel::Cli);
    let cap = op.authorize::<perm::TicketsView>()?;
    let filter = crate::tickets::TicketFilter { query: Some("东方红小区".into()), ..Default::default() };
    let rows = crate::tickets::list_tickets(app, &cap, &filter, 10).await?;
    rows.into_iter()
        .find(|t| t.state == gridsafe_domain::tickets::State::Started)
        .map(|t| t.number)
        .ok_or(AppError::NotFound)
}
