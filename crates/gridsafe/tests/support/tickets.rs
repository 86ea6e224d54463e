//! Work tickets in tests: people for every role of a ticket, each linked to the fixture account
//! of that role, and the calls a test makes to fill and step a ticket over the API.

use axum::http::Method;
use gridsafe_domain::ids::PersonId;
use serde_json::{Value, json};

use super::{Fixture, TestApp, TestResponse};

/// The people of a ticket, each linked to the fixture account of their role.
pub struct Crew {
    pub cookie_issuer: String,
    pub cookie_leader: String,
    pub cookie_permitter: String,
    pub cookie_crew: String,
    pub cookie_auditor: String,
    /// The unit's manager, who approves unplanned work.
    pub cookie_manager: String,
}

pub async fn link(app: &TestApp, person: PersonId, user: i64) {
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(user)
        .bind(person.get())
        .execute(app.state.db().pool())
        .await
        .expect("link");
}

pub async fn crew(app: &TestApp, f: &Fixture) -> Crew {
    for (code, lists, role) in [
        ("I1", &["ticket_issuer"][..], "ticket_issuer"),
        ("L1", &["work_leader"][..], "work_leader"),
        ("W1", &["work_permitter"][..], "work_permitter"),
        ("C1", &[][..], "crew_member"),
    ] {
        let id = app.person(f.unit_a, code, lists).await;
        link(app, id, f.user(role)).await;
    }
    app.person(f.unit_a, "C2", &[]).await;
    app.person(f.unit_a, "L2", &["work_leader"]).await;
    sessions(app, f).await
}

/// Fresh sessions for everyone (after moving the clock past the idle timeout).
pub async fn sessions(app: &TestApp, f: &Fixture) -> Crew {
    Crew {
        cookie_issuer: app.session_for(f.user("ticket_issuer")).await,
        cookie_leader: app.session_for(f.user("work_leader")).await,
        cookie_permitter: app.session_for(f.user("work_permitter")).await,
        cookie_crew: app.session_for(f.user("crew_member")).await,
        cookie_auditor: app.session_for(f.user("safety_auditor")).await,
        cookie_manager: app.session_for(f.user("leader")).await,
    }
}

pub fn draft(f: &Fixture, leader: &str, crew: &[&str], from: &str, to: &str) -> Value {
    json!({
        "type_code": "low_voltage", "unit_id": f.unit_a, "work_kind": "meter_install",
        "customer_id": "4300001", "customer_name": "测试超市", "location": "书院街 18 号表箱",
        "content": "新装低压电能表并接电", "voltage_kv": "0.4",
        "planned_start": from, "planned_end": to,
        "issuer": "I1", "work_leader": leader, "permitter": "W1", "crew": crew,
        "orders": ["WO1001:meter_install"],
    })
}

/// A draft as `body` says; one naming no plan item is unplanned work, with a reason the unit's
/// manager approves, so that it may be issued (see [`create_unapproved`] for one that is not).
pub async fn create(app: &TestApp, c: &Crew, mut body: Value) -> i64 {
    let planned = body.get("plan_item").is_some_and(|v| !v.is_null());
    if !planned && body.get("unplanned_reason").is_none() {
        body["unplanned_reason"] = json!("客户报修，当天处理");
    }
    let id = create_unapproved(app, c, body).await;
    if !planned {
        let r = approve_unplanned(app, &c.cookie_manager, id).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    id
}

/// A draft as `body` says, nothing approved.
pub async fn create_unapproved(app: &TestApp, c: &Crew, body: Value) -> i64 {
    let r = app.json(Method::POST, "/api/v1/tickets", Some(body), &[("cookie", &c.cookie_leader)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

pub async fn approve_unplanned(app: &TestApp, cookie: &str, id: i64) -> TestResponse {
    app.json(Method::POST, &format!("/api/v1/tickets/{id}/unplanned-approval"), None, &[("cookie", cookie)]).await
}

pub async fn step(app: &TestApp, cookie: &str, id: i64, body: Value) -> TestResponse {
    app.json(Method::POST, &format!("/api/v1/tickets/{id}/steps"), Some(body), &[("cookie", cookie)]).await
}

pub async fn ok(app: &TestApp, cookie: &str, id: i64, name: &str) -> Value {
    let r = step(app, cookie, id, json!({"step": name})).await;
    assert_eq!(r.status, 200, "{name}: {}", r.body);
    r.json()
}

pub fn rules(r: &TestResponse) -> Vec<String> {
    r.json()["error"]["refusals"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["rule"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

pub async fn state_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.db().pool())
        .await
        .expect("state")
}
