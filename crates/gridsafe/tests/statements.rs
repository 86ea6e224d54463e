//! How many statements a ticket step runs: counted from sqlx's own log of every statement, on
//! SQLite and PostgreSQL. The count does not grow with the crew (no query per person or per
//! other ticket). One test in a binary of its own: the counter sees every statement the process
//! runs, so nothing else may run beside it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use support::tickets::{create, crew, draft, ok, step};
use support::{Backend, TestApp};
use tracing_subscriber::layer::SubscriberExt;

/// Counts the events sqlx logs for each statement it runs.
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut summary = Summary(String::new());
            event.record(&mut summary);
            // A connection the pool opens meanwhile sets itself up (PRAGMA on SQLite, SET on
            // PostgreSQL): the pool's work, not the step's.
            let setup =
                ["pragma", "set "].iter().any(|p| summary.0.trim_start_matches('"').to_lowercase().starts_with(p));
            if !setup {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// The statement's summary (its first words), as sqlx logs it.
struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            value.clone_into(&mut self.0);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Statements run by issuing a ticket with a crew of `size` (each of whom also holds another,
/// earlier ticket), and by receiving it.
async fn count(app: &TestApp, counter: &AtomicUsize, size: usize, day: u32) -> (usize, usize) {
    let f = app.fixture().await;
    let c = crew(app, &f).await;
    let mut names = Vec::new();
    for i in 0..size {
        let code = format!("M{i}");
        app.person(f.unit_a, &code, &[]).await;
        names.push(code);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // Each crew member is busy earlier that day on a ticket of L2's.
    let earlier = create(
        app,
        &c,
        draft(&f, "L2", &names, &format!("2026-11-{day:02} 06:00"), &format!("2026-11-{day:02} 08:00")),
    )
    .await;
    ok(app, &c.cookie_issuer, earlier, "issue").await;
    let mut crew_names = names.clone();
    crew_names.push("C1");
    let id = create(
        app,
        &c,
        draft(&f, "L1", &crew_names, &format!("2026-11-{day:02} 09:00"), &format!("2026-11-{day:02} 17:00")),
    )
    .await;
    let before = counter.load(Ordering::SeqCst);
    let r = step(app, &c.cookie_issuer, id, json!({"step": "issue"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let issue = counter.load(Ordering::SeqCst) - before;
    let before = counter.load(Ordering::SeqCst);
    ok(app, &c.cookie_leader, id, "receive").await;
    (issue, counter.load(Ordering::SeqCst) - before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_step_runs_as_many_statements_whatever_the_crew() {
    let counter = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(Statements(counter.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let small = match TestApp::new(backend).await {
            Some(app) => count(&app, &counter, 1, 27).await,
            None => continue,
        };
        let large = match TestApp::new(backend).await {
            Some(app) => count(&app, &counter, 12, 27).await,
            None => continue,
        };
        eprintln!(
            "{backend:?}: issue {} statements, receive {} (crew of 2), {:?} (crew of 13)",
            small.0, small.1, large
        );
        assert!(small.0 > 5, "{backend:?}: the counter sees the statements ({small:?})");
        assert_eq!(small, large, "{backend:?}: a crew of 13 costs what a crew of 2 does");
        assert!(small.0 <= 40, "{backend:?}: issuing runs {} statements", small.0);
    }
}
