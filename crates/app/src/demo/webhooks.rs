//! The demo company's event notifications: the city's safety group on 企业微信 hears of new
//! findings and issued reports, the city's audit platform (JSON, signed) of findings and escalated
//! hazards. Subscribed before the rest of the demo is filled, so the demo's own findings and
//! reports are announced through the outbox as in production; their deliveries are then settled
//! as a week of service would leave them: the robot's delivered, the platform's failed (its
//! receiver under maintenance). Both are then switched off: no address is real, and a demo never
//! posts to one.

use gridsafe_domain::access::{Channel, Principal, perm};
use gridsafe_domain::ids::UnitId;

use crate::webhooks::{self, Outcome, SubscriptionInput};
use crate::{App, AppError, RequestMeta};

/// Subscribes the city's two receivers: their ids (robot, platform).
pub async fn subscribe(app: &App, meta: &RequestMeta, city: UnitId) -> Result<(i64, i64), AppError> {
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let cap = op.authorize::<perm::WebhooksManage>()?;
    let robot = SubscriptionInput {
        unit_id: city,
        name: "孝感安全管控群（企业微信）".into(),
        url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=00000000-demo-0000-0000-000000000000".into(),
        format: "wecom".into(),
        events: vec!["finding.opened".into(), "hazard.escalated".into(), "report.issued".into()],
    };
    let platform = SubscriptionInput {
        unit_id: city,
        name: "市公司安全稽查平台".into(),
        url: "https://audit.xg.example/gridsafe/events".into(),
        format: "json".into(),
        events: vec!["finding.opened".into(), "hazard.escalated".into(), "ticket.step_refused".into()],
    };
    Ok((webhooks::create(app, &cap, meta, robot).await?.id, webhooks::create(app, &cap, meta, platform).await?.id))
}

/// Settles what the demo announced: the robot's deliveries delivered, the platform's failed once
/// (HTTP 502); both subscriptions then switched off. Returns the number of deliveries.
pub async fn settle(app: &App, meta: &RequestMeta, (robot, platform): (i64, i64)) -> Result<usize, AppError> {
    let mut settled = 0;
    loop {
        let due = webhooks::claim(app).await?;
        if due.is_empty() {
            break;
        }
        for d in &due {
            let outcome = if d.subscription_id == robot {
                Outcome::Delivered { status: 200 }
            } else {
                Outcome::Failed { status: Some(502), error: "502 Bad Gateway（接收方维护中）".into() }
            };
            webhooks::record(app, d, &outcome).await?;
        }
        settled += due.len();
    }
    let op = Principal::operator("gridsafe demo", Channel::Cli);
    let cap = op.authorize::<perm::WebhooksManage>()?;
    for id in [robot, platform] {
        let (s, _) = webhooks::get(app, &cap, id, 1).await?;
        webhooks::update(app, &cap, meta, id, &s.events, false).await?;
    }
    Ok(settled)
}
