//! The demo company's customers: a hospital with a full history from inspection to a closed
//! hazard, a base station whose unregistered generator is sealed while its hazard is open, a
//! second base station overdue for its six-month emergency-power check (a periodic visit that
//! found its emergency items 不适用 did not count), a bank overdue for inspection whose owner
//! refused to sign the notice (recorded with a witness and a photo, then filed all the same), a
//! farm due soon, a chemical plant with an overdue grid-side hazard escalated up the tree, and a
//! customer of another county.

use std::collections::HashMap;

use chrono::Duration;
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::{PersonId, UnitId};

use crate::customers::{self, HazardInput, InspectionInput, StepInput};
use crate::{App, AppError, RequestMeta};
use gridsafe_domain::hazards::HazardStepKind as Step;

fn fields(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Fills the customers; answers how many customers and hazards it registered.
pub async fn fill(
    app: &App,
    meta: &RequestMeta,
    county: UnitId,
    other_county: UnitId,
) -> Result<(usize, usize), AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let manage = op.authorize::<perm::CustomersManage>()?;
    let record = op.authorize::<perm::InspectionsRecord>()?;
    let review = op.authorize::<perm::HazardsReview>()?;
    let today = app.today();
    let day = |offset: i64| (today + Duration::days(offset)).to_string();
    let customer = |no: &str,
                    name: &str,
                    address: &str,
                    unit: UnitId,
                    kv: &str,
                    imp: &str,
                    doc: &str,
                    industry: &str,
                    power: &str,
                    since: i64| {
        fields(&[
            ("account_no", no.into()),
            ("name", name.into()),
            ("address", address.into()),
            ("unit_id", unit.to_string()),
            ("voltage_kv", kv.into()),
            ("importance", imp.into()),
            ("importance_document", doc.into()),
            ("industry", industry.into()),
            ("supply_sources", if imp == "none" { "1" } else { "2" }.into()),
            ("emergency_power", power.into()),
            ("electrician_name", "陈建华".into()),
            ("electrician_phone", "0712-2345678".into()),
            ("preventive_test_due", day(120)),
            ("registered_on", day(since)),
        ])
    };
    let mut ids = Vec::new();
    for f in [
        customer(
            "0701000101",
            "孝感市中心医院",
            "孝南区广场街 6 号",
            county,
            "10kV",
            "first",
            "孝政电〔2025〕3号",
            "医院",
            "registered",
            -100,
        ),
        customer(
            "0701000102",
            "中国移动孝南书院基站",
            "孝南区书院街 18 号",
            county,
            "0.4kV",
            "none",
            "",
            "移动基站",
            "suspected",
            -150,
        ),
        customer(
            "0701000103",
            "孝南农商银行城区支行",
            "孝南区城站路 52 号",
            county,
            "0.4kV",
            "none",
            "",
            "银行",
            "suspected",
            -300,
        ),
        customer(
            "0701000104",
            "孝南汇丰生态养殖场",
            "孝南区朋兴乡汇丰村",
            county,
            "0.4kV",
            "none",
            "",
            "养殖场",
            "suspected",
            -170,
        ),
        customer(
            "0701000105",
            "湖北楚星化工有限公司",
            "孝南经济开发区楚星路 1 号",
            county,
            "35kV",
            "second",
            "孝政电〔2024〕11号",
            "化工",
            "registered",
            -200,
        ),
        customer(
            "0701000106",
            "中国铁塔孝南槐荫基站",
            "孝南区槐荫大道 233 号",
            county,
            "0.4kV",
            "none",
            "",
            "移动基站",
            "none",
            -190,
        ),
        customer(
            "0702000201",
            "汉川市人民医院",
            "汉川市仙女山街道 99 号",
            other_county,
            "10kV",
            "first",
            "汉政电〔2025〕2号",
            "医院",
            "registered",
            -800,
        ),
    ] {
        ids.push(customers::save_customer(app, &manage, meta, None, &f).await?);
    }
    let person = |code: &'static str| super::person_id(app, code);
    let (a, b, c) = (person("XG1002").await?, person("XG1007").await?, person("XG1012").await?);
    let items = customers::checklist(app).await?;
    let answers = |defect: Option<(&str, &str)>| {
        items
            .iter()
            .map(|i| {
                let d = defect.filter(|(section, _)| *section == i.section && i.position == 1);
                (i.id, d.map_or(("ok".to_owned(), String::new()), |(_, note)| ("defect".to_owned(), note.to_owned())))
            })
            .collect::<HashMap<_, _>>()
    };
    let inspect = |customer: i64,
                   on: i64,
                   inspectors: Vec<PersonId>,
                   defect: Option<(&'static str, &'static str)>,
                   conclusion: &str| {
        InspectionInput {
            participants: Vec::new(),
            customer_id: customer,
            inspected_on: day(on),
            kind: "periodic".into(),
            inspectors,
            results: answers(defect),
            conclusion: conclusion.into(),
        }
    };
    // A visit whose emergency-power items were all 不适用: it does not complete the special check.
    let not_applicable = |mut input: InspectionInput| {
        for i in items.iter().filter(|i| i.section == "emergency_power") {
            input.results.insert(i.id, ("na".to_owned(), String::new()));
        }
        input
    };

    // The hospital: inspected, a customer-side hazard through the whole loop to 销号.
    let i1 = customers::record_inspection(
        app,
        &record,
        meta,
        inspect(
            ids[0],
            -40,
            vec![a, b],
            Some(("receiving", "2 号主变预防性试验已超期 3 个月")),
            "受电设施存在隐患，已下达整改通知。",
        ),
    )
    .await?;
    customers::sign_notice(app, &record, meta, i1, "陈建华", &day(-40), None).await?;
    let h1 = customers::register_hazard(
        app,
        &record,
        meta,
        HazardInput {
            customer_id: None,
            inspection_id: Some(i1),
            unit_id: None,
            title: "2 号主变预防性试验超期".into(),
            description: "2 号主变预防性试验超期 3 个月，存在绝缘缺陷未被发现的风险。".into(),
            grade: "serious".into(),
            responsibility: "customer".into(),
        },
    )
    .await?;
    customers::take_step(app, &record, meta, h1, &StepInput { deadline: day(20), ..StepInput::of(Step::Notify) })
        .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h1,
        &StepInput { receipt_by: "医院后勤处 陈建华".into(), ..StepInput::of(Step::SignReceipt) },
    )
    .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h1,
        &StepInput { filed_on: day(0), reference: "孝经信电〔2026〕45号".into(), ..StepInput::of(Step::File) },
    )
    .await?;
    customers::take_step(app, &record, meta, h1, &StepInput::of(Step::Rectify)).await?;
    customers::take_step(app, &record, meta, h1, &StepInput::of(Step::SubmitForReview)).await?;
    customers::review_hazard(
        app,
        &review,
        meta,
        h1,
        &StepInput {
            passed: true,
            evidence: "已完成 2 号主变预防性试验，试验报告合格（报告号 SY-2026-118），现场复查无异常。".into(),
            ..StepInput::of(Step::Review)
        },
    )
    .await?;

    // The base station: an unregistered generator, sealed; the hazard is being rectified.
    let i2 = customers::record_inspection(
        app,
        &record,
        meta,
        inspect(
            ids[1],
            -5,
            vec![a, b],
            Some(("emergency_power", "发现未备案 30 kW 柴油发电机，与电网无可靠闭锁")),
            "存在自备电源擅自并网风险，已封存。",
        ),
    )
    .await?;
    let h2 = customers::register_hazard(
        app,
        &record,
        meta,
        HazardInput {
            customer_id: None,
            inspection_id: Some(i2),
            unit_id: None,
            title: "未备案自备发电机无闭锁".into(),
            description: "基站机房内 30 kW 柴油发电机未报备，切换装置与电网间无可靠闭锁，存在倒送电风险。".into(),
            grade: "major".into(),
            responsibility: "customer".into(),
        },
    )
    .await?;
    customers::take_step(app, &record, meta, h2, &StepInput { deadline: day(10), ..StepInput::of(Step::Notify) })
        .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h2,
        &StepInput { receipt_by: "基站维护员 刘洋".into(), ..StepInput::of(Step::SignReceipt) },
    )
    .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h2,
        &StepInput { filed_on: day(0), reference: "孝经信电〔2026〕46号".into(), ..StepInput::of(Step::File) },
    )
    .await?;
    customers::take_step(app, &record, meta, h2, &StepInput::of(Step::Rectify)).await?;
    customers::seal(app, &record, meta, h2, "30 kW 柴油发电机", "FC-2026-0031", &day(-5)).await?;

    // The bank: last inspected eight months ago, overdue on its six-month check. That visit
    // found an unlocked meter box; the owner refused to sign the notice, which was left with a
    // witness and photographed, and filed with the power authority all the same.
    let i3 = customers::record_inspection(
        app,
        &record,
        meta,
        inspect(ids[2], -190, vec![a, b], Some(("metering", "计量柜门锁损坏，封印缺失")), "计量装置封印缺失。"),
    )
    .await?;
    let h5 = customers::register_hazard(
        app,
        &record,
        meta,
        HazardInput {
            customer_id: None,
            inspection_id: Some(i3),
            unit_id: None,
            title: "计量柜门锁损坏、封印缺失".into(),
            description: "计量柜门锁损坏，封印缺失，存在窃电及误碰带电部位风险。".into(),
            grade: "general".into(),
            responsibility: "customer".into(),
        },
    )
    .await?;
    customers::take_step(app, &record, meta, h5, &StepInput { deadline: day(30), ..StepInput::of(Step::Notify) })
        .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h5,
        &StepInput {
            refused_on: day(0),
            delivery: "留置送达".into(),
            witness: "城站路社区网格员 李敏".into(),
            photo: Some(("留置送达.png".into(), DELIVERY_PHOTO.to_vec())),
            ..StepInput::of(Step::RefuseReceipt)
        },
    )
    .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h5,
        &StepInput { filed_on: day(0), reference: "孝经信电〔2026〕47号".into(), ..StepInput::of(Step::File) },
    )
    .await?;

    // The second base station: no emergency power recorded, but its industry puts it on the
    // six-month special check; a periodic visit a month ago answered the emergency items 不适用,
    // so the check is overdue all the same.
    customers::record_inspection(
        app,
        &record,
        meta,
        not_applicable(inspect(ids[5], -30, vec![a, b], None, "运行正常。")),
    )
    .await?;

    // The chemical plant (35 kV): two first-level inspectors; a grid-side hazard on the supply
    // line, planned, now past its deadline and escalated up the tree (a level a week).
    customers::record_inspection(app, &record, meta, inspect(ids[4], -60, vec![a, c], None, "运行正常。")).await?;
    let h3 = customers::register_hazard(
        app,
        &record,
        meta,
        HazardInput {
            customer_id: Some(ids[4]),
            inspection_id: None,
            unit_id: None,
            title: "35 kV 楚星线 3 号杆拉线锈蚀".into(),
            description: "供电线路拉线严重锈蚀，属供电企业资产。".into(),
            grade: "general".into(),
            responsibility: "grid".into(),
        },
    )
    .await?;
    customers::take_step(
        app,
        &record,
        meta,
        h3,
        &StepInput {
            deadline: day(0),
            owner: "XG1043".into(),
            tasks: "更换 3 号杆拉线\n复测杆塔倾斜".into(),
            ..StepInput::of(Step::Plan)
        },
    )
    .await?;
    customers::take_step(app, &record, meta, h3, &StepInput::of(Step::Rectify)).await?;
    // Demo history: the plan was made three weeks ago with a deadline ten days ago.
    let mut tx = app.db().begin_write().await?;
    gridsafe_store::demo::backdate_hazard(&mut tx, h3, &day(-10), None).await?;
    tx.commit().await?;
    customers::escalate_overdue(app, meta).await?;

    // An ad hoc grid-side hazard just registered, waiting for its plan.
    let h4 = customers::register_hazard(
        app,
        &record,
        meta,
        HazardInput {
            customer_id: None,
            inspection_id: None,
            unit_id: Some(county),
            title: "书院街公用表箱门锁损坏".into(),
            description: "表箱门无法关闭，存在触电风险。".into(),
            grade: "general".into(),
            responsibility: "grid".into(),
        },
    )
    .await?;
    Ok((ids.len(), [h1, h2, h3, h4, h5].len()))
}

/// A 1×1 PNG, standing in for the photo of a notice left at the customer's door.
pub(super) const DELIVERY_PHOTO: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
