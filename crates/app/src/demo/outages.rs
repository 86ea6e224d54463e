//! The demo's outages: today's temporary outage at the hospital's feeder, requested late with
//! its reason and approved by the manager, the hospital's signed notice and the base station
//! told by phone, supply cut, and a restoration refused because one of its two crews has not
//! reported work ended; and next week's planned outage for the plan's new connection, its notices
//! not yet given.

use chrono::Duration;
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::outages::OutageStep;
use gridsafe_domain::time::Timestamp;

use crate::outages::{self, NoticeInput, OutageInput};
use crate::{App, AppError, RequestMeta};

/// Fills the outages of `unit`; how many.
pub async fn fill(app: &App, meta: &RequestMeta, unit: gridsafe_domain::ids::UnitId) -> Result<usize, AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let request = op.authorize::<perm::OutagesRequest>()?;
    let now = app.now();
    let at = |hours: i64| Timestamp::from_utc(now.as_utc() + Duration::hours(hours)).local_input().replace('T', " ");
    // The started and the work-ended tickets of the demo, both at work on this outage.
    let tickets: Vec<_> = outages::ticket_choices(app, &request)
        .await?
        .into_iter()
        .filter(|t| ["东方红小区 3 栋一单元表箱", "车站街 5 号表箱"].contains(&t.location.as_str()))
        .map(|t| t.id)
        .collect();
    let today = OutageInput {
        unit_id: unit,
        kind: "temporary".into(),
        equipment: "10kV 广场线 8 号杆 / 东方红小区 2 号台区".into(),
        start: at(-3),
        end: at(3),
        reason: "东方红小区、车站街表箱改造，配合停电更换计量装置".into(),
        late_reason: "表箱进水，须当日停电处理".into(),
        customers: "0701000101 0701000102".into(),
        tickets,
        plan_items: Vec::new(),
    };
    let (id, _) = outages::request_outage(app, &request, meta, today).await?;
    outages::approve(app, &op.authorize::<perm::OutagesApprove>()?, meta, id).await?;
    let ids: Vec<i64> = outages::outage(app, &request, id).await?.customers.iter().map(|c| c.customer.id).collect();
    let signed = NoticeInput {
        customer_id: ids[0],
        purpose: "outage".into(),
        channel: "signed".into(),
        signed_by: "刘主任（医院后勤科）".into(),
        notified_at: at(-5),
        scan: Some(("停电通知书签收.png".into(), super::customers::DELIVERY_PHOTO.to_vec())),
    };
    outages::record_notice(app, &request, meta, id, signed).await?;
    let phoned = NoticeInput {
        customer_id: ids[1],
        purpose: "outage".into(),
        channel: "phone".into(),
        notified_at: at(-4),
        ..NoticeInput::default()
    };
    outages::record_notice(app, &request, meta, id, phoned).await?;
    let operate = op.authorize::<perm::OutagesOperate>()?;
    outages::operate(app, &operate, meta, id, OutageStep::Cut).await?;
    // One crew is still working: restoration is refused and counted.
    if outages::operate(app, &operate, meta, id, OutageStep::Restore).await.is_ok() {
        return Err(AppError::Conflict("conflict-outage-changed"));
    }

    // Next week's new connection at 孝感新城小区, planned with an outage: its outage, from the plan.
    let item = outages::plan_item_choices(app, &request).await?.into_iter().find(|i| i.site.contains("孝感新城"));
    let (start, end, plan_items) = match &item {
        Some(i) => (i.start.local_input().replace('T', " "), i.end.local_input().replace('T', " "), vec![i.id]),
        None => (at(8 * 24), at(8 * 24 + 6), Vec::new()),
    };
    let next_week = OutageInput {
        unit_id: unit,
        kind: "planned".into(),
        equipment: "10kV 槐荫线 12 号杆".into(),
        start,
        end,
        reason: "孝感新城小区配电房新装接电，配合停电；同线路农商银行一并更换计量装置".into(),
        late_reason: "配合业扩接电，客户已同意停电时间".into(),
        customers: "0701000103 0701000104".into(),
        plan_items,
        ..OutageInput::default()
    };
    outages::request_outage(app, &request, meta, next_week).await?;
    Ok(2)
}
