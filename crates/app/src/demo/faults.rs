//! The demo company's information-system faults: a software fault of the marketing application in
//! spring whose countermeasure is tracked in the closed loop, the same fault again this month
//! (flagged as a recurrence), a human-factors fault with its accountable person and assessment, and
//! last month's equipment round whose failed backup item is in the loop.

use chrono::Duration;
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::UnitId;

use crate::faults::{self, FaultInput};
use crate::{App, AppError, RequestMeta};

/// Fills the faults of `unit`; how many hazards track their countermeasures.
pub async fn fill(app: &App, meta: &RequestMeta, unit: UnitId) -> Result<usize, AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let record = op.authorize::<perm::FaultsRecord>()?;
    let now = app.now();
    let at = |days: i64, hours: i64| {
        gridsafe_domain::time::Timestamp::from_utc(now.as_utc() - Duration::days(days) + Duration::hours(hours))
            .local_input()
            .replace('T', " ")
    };
    let fault = |days: i64, cause: &str, root: &str, counter: &str| FaultInput {
        unit_id: unit,
        system: "营销业务应用".into(),
        module: "电费核算".into(),
        started_at: at(days, 0),
        ended_at: at(days, 3),
        customers_affected: "3200".into(),
        orders_affected: "0".into(),
        cause: cause.into(),
        root_cause: root.into(),
        countermeasure: counter.into(),
        ..FaultInput::default()
    };
    let spring = FaultInput {
        responsible: "XG1001".into(),
        deadline: (app.today() + Duration::days(30)).to_string(),
        ..fault(170, "software", "版本升级后电价参数缓存未刷新", "版本发布前增加电价参数回归测试")
    };
    faults::record_fault(app, &record, meta, spring).await?;
    faults::record_fault(
        app,
        &record,
        meta,
        fault(5, "software", "补丁发布后电价参数缓存再次未刷新", "发布检查单增加缓存刷新项"),
    )
    .await?;
    let human = FaultInput {
        system: "用电信息采集".into(),
        module: "档案同步".into(),
        accountable: "XG1003".into(),
        assessment: "通报批评，当月绩效扣 2 分".into(),
        ..fault(40, "human", "后台批量修改档案未经审批", "后台数据修改实行审批与双人复核")
    };
    faults::record_fault(app, &record, meta, human).await?;
    // Last month's equipment round: the backup item failed and is in the loop.
    let round = crate::faults::CheckInput {
        unit_id: unit,
        kind: "rounds".into(),
        checked_on: (app.today() - Duration::days(20)).to_string(),
        checker: "信通运维班 刘建军".into(),
        answers: vec![
            (1, "pass".into(), String::new()),
            (2, "pass".into(), String::new()),
            (3, "fail".into(), "营销数据库周备份恢复演练失败".into()),
        ],
        note: "备份恢复须整改".into(),
        responsible: "XG1001".into(),
        deadline: (app.today() + Duration::days(15)).to_string(),
    };
    faults::record_check(app, &record, meta, round).await?;
    Ok(2)
}
