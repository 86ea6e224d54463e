//! One unit of work: what a ticket step decides on is loaded inside its write transaction, with
//! the ticket and its people held, so two requests can never both pass a check that only one
//! may pass. Each race is 50 requests behind a barrier, on SQLite and PostgreSQL: exactly one wins.

mod support;

use std::sync::Arc;

use serde_json::json;
use support::tickets::{Crew, create, crew, draft, link, ok, rules, step};
use support::{Fixture, TestApp, race};

/// Answers of a race: how many succeeded, and the rules named by every refusal.
fn tally(answers: &[support::TestResponse]) -> (usize, Vec<String>) {
    let won = answers.iter().filter(|r| r.status == 200).count();
    let mut refused: Vec<String> = answers.iter().filter(|r| r.status != 200).flat_map(rules).collect();
    refused.sort();
    refused.dedup();
    (won, refused)
}

async fn states(app: &TestApp, ids: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(support::tickets::state_of(app, *id).await);
    }
    out
}

/// `n` issued tickets for the same window, each with a leader of its own (linked to an account
/// of its own, whose session is returned) and a crew member of its own.
async fn own_leaders(app: &TestApp, f: &Fixture, c: &Crew, n: usize) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let leader = app.person(f.unit_a, &format!("LD{i}"), &["work_leader"]).await;
        app.person(f.unit_a, &format!("CR{i}"), &[]).await;
        let account = app.user(&format!("ld{i}"), f.unit_a, &[("work_leader", f.unit_a)]).await;
        link(app, leader, account).await;
        let id =
            create(app, c, draft(f, &format!("LD{i}"), &[&format!("CR{i}")], "2026-11-26 09:00", "2026-11-26 17:00"))
                .await;
        ok(app, &c.cookie_issuer, id, "issue").await;
        out.push((id, app.session_for(account).await));
    }
    out
}

backend_tests! {
    async fn fifty_overlapping_tickets_for_one_leader_issued_at_once_one_is_issued(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let mut ids = Vec::new();
        for _ in 0..50 {
            ids.push(create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await);
        }
        let (app, cookie) = (Arc::new(app), c.cookie_issuer.clone());
        let answers = race(50, |i| {
            let (app, cookie, id) = (app.clone(), cookie.clone(), ids[i]);
            async move { step(&app, &cookie, id, json!({"step": "issue"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, vec!["TICKET_OVERLAP".to_owned()]), "{:?}", answers.iter().map(|r| &r.body).collect::<Vec<_>>());
        assert_eq!(states(&app, &ids).await.iter().filter(|s| *s == "issued").count(), 1);
        let refused = app.audit_actions().await.iter().filter(|a| *a == "ticket.step_refused").count();
        assert_eq!(refused, 49, "every refusal is in the audit trail");
    }

    async fn fifty_extensions_of_one_ticket_at_once_extend_it_once(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        ok(&app, &c.cookie_issuer, id, "issue").await;
        ok(&app, &c.cookie_leader, id, "receive").await;
        ok(&app, &c.cookie_permitter, id, "permit").await;
        let (app, cookie) = (Arc::new(app), c.cookie_leader.clone());
        let answers = race(50, |i| {
            let (app, cookie) = (app.clone(), cookie.clone());
            let to = format!("2026-11-26 {}:{:02}", 18 + i / 60, i % 60);
            async move { step(&app, &cookie, id, json!({"step": "extend", "to": to})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, vec!["TICKET_EXTENSION".to_owned()]));
        let signed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_steps WHERE ticket_id = $1 AND step = 'extend'")
            .bind(id)
            .fetch_one(app.state.db().pool())
            .await
            .expect("count");
        assert_eq!(signed, 1, "安规: a ticket is extended once");
    }

    async fn one_person_added_to_fifty_crews_at_once_joins_one(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let tickets = own_leaders(&app, &f, &c, 50).await;
        let app = Arc::new(app);
        let answers = race(50, |i| {
            let (app, (id, cookie)) = (app.clone(), tickets[i].clone());
            async move { step(&app, &cookie, id, json!({"step": "add_crew", "person": "C2"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, vec!["TICKET_OVERLAP".to_owned()]));
        let crews: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_crew k JOIN people p ON p.id = k.person_id WHERE p.code = 'C2'")
            .fetch_one(app.state.db().pool())
            .await
            .expect("count");
        assert_eq!(crews, 1);
    }

    async fn one_leader_given_fifty_tickets_at_once_leads_one(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let tickets = own_leaders(&app, &f, &c, 50).await;
        let (app, cookie) = (Arc::new(app), c.cookie_issuer.clone());
        let answers = race(50, |i| {
            let (app, cookie, id) = (app.clone(), cookie.clone(), tickets[i].0);
            async move { step(&app, &cookie, id, json!({"step": "change_leader", "person": "L2"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, vec!["TICKET_OVERLAP".to_owned()]));
        let led: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets t JOIN people p ON p.id = t.leader_id WHERE p.code = 'L2'")
            .fetch_one(app.state.db().pool())
            .await
            .expect("count");
        assert_eq!(led, 1);
    }

    async fn fifty_confirmations_of_one_draft_qualification_confirm_it_once(app: TestApp) {
        use axum::http::Method;
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, Reach};
        use gridsafe_domain::access::perm;
        use support::{meta, operator};
        let f = app.fixture().await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let contractor = ContractorInput { code: "C01".into(), name: "一公司".into(), unit_id: f.unit_a, ..Default::default() };
        let mine = people::save_contractor(app.app(), &ccap, &meta(), None, contractor).await.expect("contractor");
        let person = |code: &str| PersonInput { code: code.into(), name: code.into(), unit_id: f.unit_a, contractor_id: Some(mine), active: true, ..Default::default() };
        people::save_person(app.app(), &reach, &meta(), None, person("W1")).await.expect("admin's person");
        let worker = people::save_person(app.app(), &reach, &meta(), None, person("W2")).await.expect("worker");
        let users = op.authorize::<perm::UsersManage>().expect("op");
        people::link_account(app.app(), &users, &meta(), f.user("contractor_admin"), Some("W1")).await.expect("link");
        let contractor_admin = app.session_for(f.user("contractor_admin")).await;
        let q = serde_json::json!({"kind": "ticket_issuer", "valid_from": "2026-01-01", "valid_to": "2026-12-31"});
        let r = app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications"), Some(q), &[("cookie", &contractor_admin)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let qid = r.json()["id"].as_i64().expect("id");
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let app = Arc::new(app);
        let statuses = race(50, |_| {
            let (app, cookie) = (app.clone(), auditor.clone());
            async move {
                app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications/{qid}/confirm"), None, &[("cookie", &cookie)])
                    .await
                    .status
                    .as_u16()
            }
        })
        .await;
        assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| matches!(s, 204 | 409)), "{statuses:?}");
        let confirmed = app.audit_actions().await.iter().filter(|a| *a == "qualification.confirmed").count();
        assert_eq!(confirmed, 1, "one confirmation on record");
    }
}
