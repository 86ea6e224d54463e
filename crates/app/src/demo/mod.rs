//! The demo company: a fictional supply company (孝感 city, three county centres) so that a
//! newcomer sees every module at work. Each module adds its part here when it lands.
//!
//! Everything goes through the same use cases as real data (and so into the audit trail). Dates
//! are relative to today, so warnings and expiries always have something to show.

mod customers;
mod emergency;
mod export;
mod faults;
mod findings;
mod outages;
mod plans;
mod projects;
mod quality;
mod supervision;
mod tickets;
mod webhooks;

pub use export::{CompanyExport, company_export};

use chrono::Duration;
use gridsafe_crossaudit::input::{
    Contractor as TContractor, Person as TPerson, Qualification as TQual, SafetyAgreement as TAgreement, Tables,
};
use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::people::QualificationKind;
use serde::Serialize;

use crate::identity::{self, NewUnit, NewUser};
use crate::people::{self, ImportOptions, Manage, QualificationInput, Reach};
use crate::{App, AppError, RequestMeta};

/// The password of every demo account (printed by `gridsafe demo`; never use demo data in production).
pub const DEMO_PASSWORD: &str = "Demo-2026-gs";

#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// (username, role) of each demo account.
    pub accounts: Vec<(String, String)>,
    pub people: usize,
    pub contractors: usize,
    pub tickets: usize,
    pub findings: usize,
    pub customers: usize,
    pub hazards: usize,
    pub violations: usize,
    pub projects: usize,
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "桂英", "建华",
    "志强", "海燕", "国庆", "红梅", "晓东", "春生",
];
const POSTS: [&str; 5] = ["装表接电", "用电检查", "客户经理", "业扩报装", "抄表催费"];

/// Fills the demo company, unless it is there already (`None`).
pub async fn fill(app: &App, meta: &RequestMeta) -> Result<Option<DemoReport>, AppError> {
    if identity::unit_by_code(app, "XG").await?.is_some() {
        return Ok(None);
    }
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let units_cap = op.authorize::<perm::UnitsManage>()?;
    let users_cap = op.authorize::<perm::UsersManage>()?;
    let today = app.today();
    let day = |offset: i64| (today + Duration::days(offset)).to_string();

    // Units: under the existing root (first start) or a new provincial company.
    let root = match identity::list_units(app, units_cap.scope()).await?.into_iter().find(|u| u.parent_id.is_none()) {
        Some(root) => root.id,
        None => unit(app, &units_cap, meta, "HB", "湖北省电力公司", "province", None).await?,
    };
    let city = unit(app, &units_cap, meta, "XG", "孝感供电公司", "city", Some(root)).await?;
    let counties = [
        unit(app, &units_cap, meta, "XG-XN", "孝南供电中心", "county", Some(city)).await?,
        unit(app, &units_cap, meta, "XG-HC", "汉川供电中心", "county", Some(city)).await?,
        unit(app, &units_cap, meta, "XG-YM", "云梦供电中心", "county", Some(city)).await?,
    ];
    unit(app, &units_cap, meta, "XG-XN-ZB", "孝南装表接电班", "team", Some(counties[0])).await?;
    unit(app, &units_cap, meta, "XG-XN-JC", "孝南用电检查班", "team", Some(counties[0])).await?;
    let wuhan = unit(app, &units_cap, meta, "WH", "武汉供电公司", "city", Some(root)).await?;

    // Contractors, one with each kind of trouble.
    let contractors = [
        ("C01", "孝感恒通电力安装有限公司", Some(4_u8), 400, Some((-100, 265)), None),
        ("C02", "汉川诚信电力工程公司", Some(5), -20, Some((-200, 165)), None),
        ("C03", "云梦安达电气公司", Some(5), 300, Some((-355, 10)), None),
        ("C04", "孝南顺达电力施工队", Some(5), 200, Some((-100, 265)), Some((-60, "无票作业，2026年专项稽查查实"))),
    ];
    let mut tables = Tables::default();
    for (code, name, level, licence, _, _) in &contractors {
        tables.contractors.push(TContractor {
            line: 0,
            contractor_id: (*code).into(),
            name: (*name).into(),
            license_valid_to: today + Duration::days(*licence),
            license_level: *level,
        });
    }
    for (code, _, _, _, agreement, _) in &contractors {
        if let Some((from, to)) = agreement {
            tables.agreements.push(TAgreement {
                line: 0,
                agreement_id: format!("XY-{code}-{}", today.format("%Y")),
                contractor_id: (*code).into(),
                valid_from: today + Duration::days(*from),
                valid_to: today + Duration::days(*to),
                project: Some("业扩配套及装表接电".into()),
                customer_id: None,
            });
        }
    }

    // About 200 people: 48 staff in each county centre, 14 workers for each contractor.
    let mut n = 0_usize;
    let mut name = || {
        n += 1;
        format!("{}{}", SURNAMES[(n * 7) % SURNAMES.len()], GIVEN[(n * 11) % GIVEN.len()])
    };
    let county_names = ["孝南供电中心", "汉川供电中心", "云梦供电中心"];
    let mut codes = Vec::new();
    for (c, county) in county_names.iter().enumerate() {
        for i in 0..48 {
            let code = format!("XG{}{:03}", c + 1, i + 1);
            tables.persons.push(TPerson {
                line: 0,
                person_id: code.clone(),
                name: name(),
                org_unit: (*county).into(),
                contractor_id: None,
                phone: Some(format!("1377{:07}", c * 1000 + i)),
                post: Some(POSTS[i % POSTS.len()].into()),
            });
            codes.push((code, false, i));
        }
    }
    for (code, _, _, _, _, _) in &contractors {
        for i in 0..14 {
            let worker = format!("{code}W{:02}", i + 1);
            tables.persons.push(TPerson {
                line: 0,
                person_id: worker.clone(),
                name: name(),
                org_unit: "孝感供电公司".into(),
                contractor_id: Some((*code).into()),
                phone: None,
                post: Some("施工作业".into()),
            });
            codes.push((worker, true, i));
        }
    }
    let year = today.format("%Y").to_string();
    let year_start = chrono::NaiveDate::parse_from_str(&format!("{year}-01-01"), "%Y-%m-%d").unwrap_or(today);
    let year_end = chrono::NaiveDate::parse_from_str(&format!("{year}-12-31"), "%Y-%m-%d").unwrap_or(today);
    for (k, (code, contractor, i)) in codes.iter().enumerate() {
        // Most passed the exam this year; a few lapsed, a few lapse within the month.
        let (from, to) = match k % 25 {
            0 => (-400, -10),
            1 | 2 => (-340, 12 + i64::try_from(k % 15).unwrap_or(0)),
            _ => (-200, 165),
        };
        tables.qualifications.push(TQual {
            line: 0,
            person_id: code.clone(),
            kind: QualificationKind::SafetyExam,
            written: QualificationKind::SafetyExam.code().into(),
            valid_from: today + Duration::days(from),
            valid_to: today + Duration::days(to),
        });
        let lists = [
            (6, QualificationKind::WorkLeader),
            (10, QualificationKind::TicketIssuer),
            (12, QualificationKind::WorkPermitter),
        ];
        for (every, kind) in lists {
            // A second set of work leaders, so that the county's tickets in progress each have one.
            let listed = i % every == 0 || (kind == QualificationKind::WorkLeader && i % 5 == 1);
            if listed && !(*contractor && kind != QualificationKind::WorkLeader) {
                tables.qualifications.push(TQual {
                    line: 0,
                    person_id: code.clone(),
                    kind,
                    written: kind.code().into(),
                    valid_from: year_start,
                    valid_to: year_end,
                });
            }
        }
        if i % 4 == 1 {
            tables.qualifications.push(TQual {
                line: 0,
                person_id: code.clone(),
                kind: QualificationKind::Other,
                written: "低压电工作业证".into(),
                valid_from: today + Duration::days(-900),
                valid_to: today + Duration::days(900),
            });
        }
    }
    let people_count = tables.persons.len();
    let pcap = op.authorize::<perm::PeopleManage>()?;
    let ccap = op.authorize::<perm::ContractorsManage>()?;
    let reach = Reach::<Manage>::units(&pcap);
    let plan = people::plan_import(app, &reach, Some(&ccap), tables).await?;
    if let Some(problem) = plan.errors.first() {
        return Err(AppError::internal(format!("demo data: {problem}")));
    }
    people::apply_import(app, &reach, meta, plan, ImportOptions { skip_invalid: false, contractor_unit: city }).await?;

    // Inspectors with their levels, ratings and the blacklist.
    for (code, level) in [("XG1002", 1), ("XG1007", 2), ("XG1012", 1), ("XG2002", 2), ("XG3002", 3)] {
        let id = person_id(app, code).await?;
        let input = QualificationInput {
            kind: "inspector".into(),
            valid_from: day(-500),
            valid_to: day(600),
            level: Some(level),
            certificate_no: format!("YJ-{code}"),
            passed: true,
            ..QualificationInput::default()
        };
        people::add_qualification(app, &reach, meta, id, input).await?;
    }
    for (code, _, _, _, _, blacklist) in &contractors {
        let id = contractor_id(app, code).await?;
        let rating = match *code {
            "C01" => "excellent",
            "C02" => "fair",
            "C03" => "good",
            _ => "poor",
        };
        people::add_rating(app, &ccap, meta, id, "2025年业扩配套工程", rating, "").await?;
        if let Some((offset, reason)) = blacklist {
            people::set_blacklist(app, &ccap, meta, id, Some(&day(*offset)), reason).await?;
        }
    }

    // One account per role, each linked to a person where the role works in the field.
    let roles = [
        ("demo.admin", "系统管理员（演示）", "system_admin", root, None),
        ("demo.security", "安全管理员（演示）", "security_admin", root, None),
        ("demo.auditor", "审计员（演示）", "log_auditor", root, None),
        ("demo.safety", "营销安全稽查员（演示）", "safety_auditor", city, Some("XG1001")),
        ("demo.leader", "分管领导（演示）", "leader", city, None),
        ("demo.manager", "客户经理（演示）", "customer_manager", counties[0], Some("XG1003")),
        ("demo.inspector", "用电检查员（演示）", "inspector", counties[0], Some("XG1002")),
        ("demo.issuer", "工作票签发人（演示）", "ticket_issuer", counties[0], Some("XG1011")),
        ("demo.workleader", "工作负责人（演示）", "work_leader", counties[0], Some("XG1007")),
        ("demo.workleader2", "工作负责人二（演示）", "work_leader", counties[0], Some("XG1043")),
        ("demo.permitter", "工作许可人（演示）", "work_permitter", counties[0], Some("XG1013")),
        ("demo.crew", "工作班成员（演示）", "crew_member", counties[0], Some("XG1004")),
        ("demo.contractor", "外包单位管理员（演示）", "contractor_admin", city, Some("C01W01")),
        ("demo.wuhan", "武汉稽查员（演示）", "safety_auditor", wuhan, None),
    ];
    let mut accounts = Vec::new();
    for (username, display, role, at, person) in roles {
        let input = NewUser {
            username: username.into(),
            display_name: display.into(),
            unit_id: at,
            password: Some(DEMO_PASSWORD.into()),
        };
        let (id, _) = identity::create_user(app, &users_cap, meta, input).await?;
        identity::grant_role(app, &users_cap, meta, id, role, at).await?;
        let mut tx = app.db().begin_write().await?;
        gridsafe_store::demo::settle_account(&mut tx, id, app.now()).await?;
        tx.commit().await?;
        if let Some(code) = person {
            crate::people::link_account(app, &users_cap, meta, id, Some(code)).await?;
        }
        accounts.push((username.to_owned(), role.to_owned()));
    }
    // Subscribed first: what the rest of the demo finds and issues is announced as in production.
    let subscriptions = webhooks::subscribe(app, meta, city).await?;
    let tickets = tickets::fill(app, meta, counties[0], &reach).await?;
    plans::fill(app, meta, counties[0]).await?;
    let (findings, finding_hazards) = findings::fill(app, meta, counties[0]).await?;
    let (customers, hazards) = customers::fill(app, meta, counties[0], counties[1]).await?;
    let hazards = hazards + finding_hazards;
    outages::fill(app, meta, counties[0]).await?;
    let violations = supervision::fill(app, meta).await?;
    let (projects, project_customers) = projects::fill(app, meta, counties[0]).await?;
    let emergency_hazards = emergency::fill(app, meta, counties[0], counties[1]).await?;
    let fault_hazards = faults::fill(app, meta, counties[0]).await?;
    let history_hazards = quality::fill(app, meta, city, counties).await?;
    webhooks::settle(app, meta, subscriptions).await?;
    Ok(Some(DemoReport {
        accounts,
        people: people_count,
        contractors: contractors.len(),
        tickets,
        findings,
        customers: customers + project_customers,
        // Each violation's correction is a hazard of its own.
        hazards: hazards + violations + emergency_hazards + fault_hazards + history_hazards,
        violations,
        projects,
    }))
}

/// The signed-in principal of demo account `username` (for what only an account may do, such as
/// recording one's own arrival at a site).
async fn account(app: &App, username: &str) -> Result<Principal, AppError> {
    let mut conn = app.db().read().await?;
    let user = gridsafe_store::identity::account_by_username(&mut conn, username).await?.ok_or(AppError::NotFound)?;
    let grants = gridsafe_store::identity::grants(&mut conn, user.id).await?;
    let actor = gridsafe_domain::access::Actor { user_id: Some(user.id), name: user.username, channel: Channel::Cli };
    Ok(Principal::new(actor, grants))
}

async fn unit(
    app: &App,
    cap: &gridsafe_domain::access::Capability<perm::UnitsManage>,
    meta: &RequestMeta,
    code: &str,
    name: &str,
    kind: &str,
    parent: Option<UnitId>,
) -> Result<UnitId, AppError> {
    let input = NewUnit { code: code.into(), name: name.into(), kind: kind.into(), parent_id: parent };
    Ok(identity::create_unit(app, cap, meta, input).await?.id)
}

async fn person_id(app: &App, code: &str) -> Result<PersonId, AppError> {
    gridsafe_store::people::id_by_code(&mut *app.db().read().await?, code).await?.ok_or(AppError::NotFound)
}

async fn contractor_id(app: &App, code: &str) -> Result<i64, AppError> {
    gridsafe_store::people::contractor_id_by_code(&mut *app.db().read().await?, code).await?.ok_or(AppError::NotFound)
}
