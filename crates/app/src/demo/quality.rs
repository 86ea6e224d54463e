//! The demo company's past year and its monthly supervision reports: thirteen months of closed and
//! evaluated tickets, hazards closed on time or late, and system faults for each county centre
//! (getting better over the year, not evenly), so that the trends say something; last month's
//! city report issued and then reissued with its reason, a county's issued, another's waiting in
//! the safety auditor's to-do.

use std::collections::BTreeMap;

use chrono::Duration;
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::quality::Month;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::demo::{HistoryTicket, history_hazard, history_ticket};

use crate::faults::{self, FaultInput};
use crate::{App, AppError, RequestMeta, quality};

const BY: &str = "历史台账导入（演示）";

/// Fills the past year and the reports; answers how many hazards the history holds.
pub async fn fill(app: &App, meta: &RequestMeta, city: UnitId, counties: [UnitId; 3]) -> Result<usize, AppError> {
    let this_month = Month::of(app.today());
    let mut hazards = 0;
    let mut tx = app.db().begin_write().await?;
    for (c, county) in counties.iter().enumerate() {
        let c = c as i32;
        // Thirteen months: the past year and the same month a year before the last one.
        for back in 1..=13 {
            let month = this_month.plus(-back);
            let first = month.first_day();
            // Busier counties, and older months with more slips than recent ones.
            let executed = 16 + 4 * c + (back + c) % 5;
            let unevaluated = if back > 6 { (back - 6 + c) % 4 } else { i32::from(back % 5 == c) };
            let failed = i32::from((back + c) % 3 == 0) + i32::from(back > 8);
            for n in 0..executed {
                let finished = Timestamp::from_local(
                    (first + Duration::days(i64::from(n % 27))).and_hms_opt(15, 0, 0).unwrap_or_default(),
                );
                let verdict = if n < unevaluated {
                    None
                } else if n < unevaluated + failed {
                    Some("fail")
                } else {
                    Some("pass")
                };
                let number = format!("LS{}-{}-{:03}", c + 1, month.code(), n + 1);
                history_ticket(
                    &mut tx,
                    &HistoryTicket {
                        number: &number,
                        type_code: if n % 3 == 0 { "dist_second" } else { "low_voltage" },
                        unit: *county,
                        work_kind: if n % 3 == 0 { "meter_install" } else { "meter_replacement" },
                        location: "历史作业现场（演示）",
                        finished_at: finished,
                        verdict,
                        by: BY,
                    },
                )
                .await?;
            }
            // Three hazards fall due each month; late ones were closed a week past the deadline.
            let late = i32::from((back + c) % 4 == 0) + i32::from(back > 9);
            for n in 0..3 {
                let deadline = first + Duration::days(i64::from(8 + 9 * n));
                let closed = if n < late { deadline + Duration::days(7) } else { deadline - Duration::days(2) };
                let number = format!("LSYH{}-{}-{}", c + 1, month.code(), n + 1);
                let title = ["计量箱门锁损坏", "表计接线端子锈蚀", "进户线绝缘老化"][n as usize];
                history_hazard(&mut tx, &number, *county, title, deadline, closed, BY).await?;
                hazards += 1;
            }
        }
    }
    tx.commit().await?;
    // System faults of the past year: network outages that came back, restored faster each time.
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let record = op.authorize::<perm::FaultsRecord>()?;
    for (back, hours, county) in [(11, 9, 1), (8, 6, 1), (6, 4, 2), (3, 2, 1)] {
        let day = this_month.plus(-back).first_day() + Duration::days(11);
        let started = Timestamp::from_local(day.and_hms_opt(9, 30, 0).unwrap_or_default());
        let ended = Timestamp::from_utc(started.as_utc() + Duration::hours(hours));
        let input = FaultInput {
            unit_id: counties[county],
            system: "营销业务应用".into(),
            module: "县公司网络接入".into(),
            started_at: started.local_display(),
            ended_at: ended.local_display(),
            customers_affected: "0".into(),
            orders_affected: (120 * hours).to_string(),
            cause: "network".into(),
            root_cause: "县公司至地市公司的营销专线中断，备用链路未自动切换".into(),
            countermeasure: "备用链路每季度切换演练，专线中断 5 分钟内告警到信通值班".into(),
            ..FaultInput::default()
        };
        faults::record_fault(app, &record, meta, input).await?;
    }
    reports(app, meta, city, counties, this_month.plus(-1)).await?;
    Ok(hazards)
}

/// Last month's reports: the city's issued and reissued, the first county's issued, the second's
/// a draft in the to-do.
async fn reports(
    app: &App,
    meta: &RequestMeta,
    city: UnitId,
    counties: [UnitId; 3],
    month: Month,
) -> Result<(), AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let write = op.authorize::<perm::QualityWrite>()?;
    let texts = |overview: &str| -> BTreeMap<String, String> {
        [
            ("overview", overview),
            ("trends", "工作票评价覆盖率较去年同期明显提高，隐患按期整改率保持稳定。"),
            ("ranking", "汉川、云梦供电中心达标比例较高；孝南供电中心倒查问题集中，须督促整改。"),
            ("problems", "无票作业问题已全部确认并下达整改；逾期隐患已督办，由责任单位限期销号。"),
            ("faults", "营销专线中断为同类原因重复发生，备用链路切换演练须按季度落实。"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let id = quality::create(app, &write, meta, city, &month.code()).await?;
    quality::save_texts(app, &write, meta, id, &texts("本月各项指标总体平稳，工作票合格率未达 100% 目标。")).await?;
    quality::issue(app, &write, meta, id).await?;
    let second =
        quality::reissue(app, &write, meta, id, "汉川供电中心补录 2 张工作票评价，更正工作票评价覆盖率").await?;
    quality::save_texts(
        app,
        &write,
        meta,
        second,
        &texts("本月各项指标总体平稳，工作票合格率未达 100% 目标（已按补录评价更正）。"),
    )
    .await?;
    quality::issue(app, &write, meta, second).await?;
    let county = quality::create(app, &write, meta, counties[0], &month.code()).await?;
    quality::save_texts(app, &write, meta, county, &texts("孝南供电中心本月指标总体达标。")).await?;
    quality::issue(app, &write, meta, county).await?;
    quality::create(app, &write, meta, counties[1], &month.code()).await?;
    Ok(())
}
