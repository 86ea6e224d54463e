//! The demo's work plans: next week's plan of the county, published, with two teams at one site
//! merged under one organiser; and the week after, still a draft, where two teams share a site
//! and no organiser is named yet.

use chrono::{Datelike, Duration};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::plans::PlanStep;

use crate::plans::{self, ItemInput, MergeInput, PlanInput};
use crate::{App, AppError, RequestMeta};

/// Fills the plans of `unit`; how many plans.
pub async fn fill(app: &App, meta: &RequestMeta, unit: UnitId) -> Result<usize, AppError> {
    let op = Principal::operator("demo", Channel::Cli);
    let write = op.authorize::<perm::PlansWrite>()?;
    let approve = op.authorize::<perm::PlansApprove>()?;
    let today = app.today();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let at = |day: chrono::NaiveDate, hour: u32| format!("{day} {hour:02}:00");
    let item =
        |day: chrono::NaiveDate, from: u32, to: u32, site: &str, kind: &str, leader: &str, crew: &[&str]| ItemInput {
            start: at(day, from),
            end: at(day, to),
            site: site.into(),
            work_kind: kind.into(),
            team_id: unit,
            leader: leader.into(),
            crew: crew.join(" "),
            outage: kind == "new_connection",
            ..ItemInput::default()
        };

    let week = PlanInput { unit_id: unit, kind: "weekly".into(), first_day: monday.to_string() };
    let plan = plans::create_plan(app, &write, meta, week).await?;
    let tuesday = monday + Duration::days(1);
    for input in [
        item(tuesday, 9, 12, "书院街 18 号表箱", "meter_replacement", "XG1019", &["XG1023"]),
        item(tuesday, 13, 16, "书院街 18 号表箱", "meter_install", "XG1031", &["XG1008"]),
        item(
            monday + Duration::days(2),
            9,
            17,
            "孝感新城小区配电房",
            "new_connection",
            "XG1037",
            &["XG1009", "XG1010"],
        ),
        item(monday + Duration::days(3), 9, 11, "槐荫大道 66 号", "meter_replacement", "XG1019", &["XG1024"]),
    ] {
        plans::add_item(app, &write, meta, plan, input).await?;
    }
    let merge = MergeInput {
        day: tuesday.to_string(),
        site: "书院街 18 号表箱".into(),
        organiser: "XG1019".into(),
        measures:
            "两个班组共用一处停电范围：开工前由协调人统一验电、挂接地线；上午班组完工撤离、清点人数后下午班组方可开工。"
                .into(),
    };
    plans::merge_site(app, &write, meta, plan, &merge).await?;
    plans::take_step(app, &approve, meta, plan, PlanStep::Approve, "").await?;
    plans::take_step(app, &approve, meta, plan, PlanStep::Publish, "").await?;
    let late = ItemInput {
        reason: "客户要求提前换表".into(),
        ..item(monday + Duration::days(4), 14, 16, "车站路 3 号", "meter_replacement", "XG1031", &["XG1023"])
    };
    plans::add_item(app, &write, meta, plan, late).await?;

    let next = monday + Duration::days(7);
    let draft = PlanInput { unit_id: unit, kind: "weekly".into(), first_day: next.to_string() };
    let plan = plans::create_plan(app, &write, meta, draft).await?;
    for input in [
        item(next, 9, 12, "开发区 2 号环网柜", "fault_repair", "XG1037", &["XG1009"]),
        item(next, 10, 15, "开发区2号环网柜", "meter_install", "XG1019", &["XG1009"]),
    ] {
        plans::add_item(app, &write, meta, plan, input).await?;
    }
    Ok(2)
}
