//! The audit trail is tamper-evident: change, delete, swap, insert or truncate any event and
//! verification fails naming it; a consistent rewrite of the chain is caught by the signed
//! checkpoints; pruning keeps what is left verifiable. Verified also through the real
//! `gridsafe audit-log verify` command.

mod support;

use gridsafe_app::audit::{self, ChainProblem, chain};
use gridsafe_domain::ids::UnitId;
use sqlx::Row;
use support::TestApp;

async fn seeded(app: &TestApp) -> i64 {
    app.fixture().await;
    audit::checkpoint(app.app()).await.expect("checkpoint").expect("there are events")
}

async fn problem(app: &TestApp) -> Option<ChainProblem> {
    audit::verify(app.app()).await.expect("verify").problem
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(app.state.db().pool()).await.expect(sql);
}

async fn event(app: &TestApp, seq: i64) -> chain::EventRecord {
    let row = sqlx::query(
        "SELECT seq, at, actor_user_id, actor_name, channel, action, record_kind, record_id, unit_id, summary, request_id, algo, prev_hash, hash FROM audit_events WHERE seq = $1",
    )
    .bind(seq)
    .fetch_one(app.state.db().pool())
    .await
    .expect("event");
    chain::EventRecord {
        seq: row.get(0),
        at: row.get(1),
        actor_user_id: row.get(2),
        actor_name: row.get(3),
        channel: row.get(4),
        action: row.get(5),
        record_kind: row.get(6),
        record_id: row.get(7),
        unit_id: row.get(8),
        summary: row.get(9),
        request_id: row.get(10),
        algo: row.get(11),
        prev_hash: row.get(12),
        hash: row.get(13),
    }
}

backend_tests! {
    async fn an_untouched_chain_verifies(app: TestApp) {
        let head = seeded(&app).await;
        let report = audit::verify(app.app()).await.expect("verify");
        assert!(report.is_intact(), "{:?}", report.problem);
        assert_eq!(report.events, u64::try_from(head).expect("positive"));
        assert_eq!(report.checkpoints, 1);
        assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(head)));
    }

    async fn a_changed_event_is_named(app: TestApp) {
        seeded(&app).await;
        exec(&app, "UPDATE audit_events SET summary = '{\"username\":\"someone-else\"}' WHERE seq = 7").await;
        assert_eq!(problem(&app).await, Some(ChainProblem::Altered { seq: 7 }));
    }

    async fn a_deleted_event_is_named(app: TestApp) {
        seeded(&app).await;
        exec(&app, "DELETE FROM audit_events WHERE seq = 5").await;
        assert_eq!(problem(&app).await, Some(ChainProblem::Missing { seq: 5 }));
    }

    async fn swapped_events_are_named(app: TestApp) {
        seeded(&app).await;
        let (a, b) = (event(&app, 4).await, event(&app, 5).await);
        for (seq, e) in [(4, &b), (5, &a)] {
            sqlx::query("UPDATE audit_events SET at = $1, actor_name = $2, action = $3, record_id = $4, summary = $5, prev_hash = $6, hash = $7 WHERE seq = $8")
                .bind(&e.at).bind(&e.actor_name).bind(&e.action).bind(&e.record_id).bind(&e.summary).bind(&e.prev_hash).bind(&e.hash).bind(seq)
                .execute(app.state.db().pool()).await.expect("swap");
        }
        assert_eq!(problem(&app).await, Some(ChainProblem::Altered { seq: 4 }));
    }

    async fn an_inserted_event_is_named(app: TestApp) {
        let head = seeded(&app).await;
        // Make room at 6 and insert a fabricated event there.
        exec(&app, &format!("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 6 AND seq <= {head}")).await;
        exec(&app, "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1006").await;
        let mut fake = event(&app, 5).await;
        fake.seq = 6;
        fake.action = "user.created".into();
        fake.prev_hash = event(&app, 5).await.hash;
        fake.hash = chain::event_hash(&fake).expect("hash");
        sqlx::query("INSERT INTO audit_events (seq, at, actor_user_id, actor_name, channel, action, record_kind, record_id, unit_id, summary, request_id, algo, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)")
            .bind(fake.seq).bind(&fake.at).bind(fake.actor_user_id).bind(&fake.actor_name).bind(&fake.channel).bind(&fake.action)
            .bind(&fake.record_kind).bind(&fake.record_id).bind(fake.unit_id).bind(&fake.summary).bind(&fake.request_id)
            .bind(&fake.algo).bind(&fake.prev_hash).bind(&fake.hash)
            .execute(app.state.db().pool()).await.expect("insert");
        // The fabricated event links correctly, so the next one (the old 6, now 7) no longer does.
        assert_eq!(problem(&app).await, Some(ChainProblem::Altered { seq: 7 }));
    }

    async fn a_cut_off_tail_is_named(app: TestApp) {
        let head = seeded(&app).await;
        exec(&app, &format!("DELETE FROM audit_events WHERE seq > {}", head - 3)).await;
        assert_eq!(problem(&app).await, Some(ChainProblem::Missing { seq: head - 2 }));
    }

    async fn a_consistent_rewrite_is_caught_by_the_signed_checkpoint(app: TestApp) {
        let head = seeded(&app).await;
        // Rewrite event 3 and recompute every hash after it, as someone with database access could.
        let mut prev = event(&app, 2).await.hash;
        for seq in 3..=head {
            let mut e = event(&app, seq).await;
            if seq == 3 {
                e.summary = "{\"username\":\"ghost\"}".into();
            }
            e.prev_hash = prev.clone();
            e.hash = chain::event_hash(&e).expect("hash");
            sqlx::query("UPDATE audit_events SET summary = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                .bind(&e.summary).bind(&e.prev_hash).bind(&e.hash).bind(seq)
                .execute(app.state.db().pool()).await.expect("rewrite");
            prev = e.hash;
        }
        assert_eq!(problem(&app).await, Some(ChainProblem::Rewritten { seq: head, since: 0 }));
        // Re-signing needs the key, which is not in the database: a forged signature fails too.
        exec(&app, &format!("UPDATE audit_checkpoints SET hash = '{prev}' WHERE seq = {head}")).await;
        assert_eq!(problem(&app).await, Some(ChainProblem::BadSignature { seq: head }));
    }

    async fn pruning_keeps_the_rest_verifiable(app: TestApp) {
        let first_head = seeded(&app).await;
        app.clock.advance(chrono::Duration::days(400));
        app.user("later", app.fixture_unit().await, &[]).await;
        audit::checkpoint(app.app()).await.expect("checkpoint");
        let pruned = audit::prune(app.app(), &support::meta()).await.expect("prune");
        assert_eq!(pruned, u64::try_from(first_head).expect("positive"), "everything up to the old checkpoint");
        let report = audit::verify(app.app()).await.expect("verify");
        assert!(report.is_intact(), "{:?}", report.problem);
        assert_eq!(report.first_seq, Some(first_head + 1));
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("audit.pruned"));
        // Events younger than the retention period are never pruned.
        assert_eq!(audit::prune(app.app(), &support::meta()).await.expect("prune"), 0);
        // Tampering with the anchor is caught.
        exec(&app, "UPDATE audit_anchor SET hash = 'x'").await;
        assert_eq!(problem(&app).await, Some(ChainProblem::BadAnchor { seq: first_head }));
    }

    async fn deleting_the_checkpoints_and_recomputing_the_chain_is_caught_by_the_journal(app: TestApp) {
        let head = seeded(&app).await;
        rewrite_from(&app, 3, head).await;
        exec(&app, "DELETE FROM audit_checkpoints").await;
        assert_eq!(problem(&app).await, Some(ChainProblem::CheckpointMissing { seq: head }));
        // Signing the forged head now does not help: the journal holds the true one.
        audit::checkpoint(app.app()).await.expect("checkpoint");
        assert!(problem(&app).await.is_some());
        // Nor does removing the journal.
        std::fs::remove_file(app.app().journal().path()).expect("remove");
        assert!(matches!(problem(&app).await, Some(ChainProblem::JournalMissing { .. })));
    }

    async fn a_reordered_or_damaged_journal_is_caught(app: TestApp) {
        seeded(&app).await;
        app.user("second", app.fixture_unit().await, &[]).await;
        let second = audit::checkpoint(app.app()).await.expect("checkpoint").expect("new events");
        let path = app.app().journal().path().to_owned();
        let text = std::fs::read_to_string(&path).expect("journal");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        std::fs::write(&path, format!("{}\n{}\n", lines[1], lines[0])).expect("swap");
        assert!(matches!(problem(&app).await, Some(ChainProblem::JournalOutOfOrder { .. })));
        std::fs::write(&path, format!("{}\nnot an entry\n", lines[0])).expect("damage");
        assert_eq!(problem(&app).await, Some(ChainProblem::JournalDamaged { seq: 2 }));
        std::fs::write(&path, format!("{}\n", lines[0])).expect("cut the journal");
        assert!(problem(&app).await.is_none(), "a shorter journal still matches the database");
        exec(&app, &format!("DELETE FROM audit_checkpoints WHERE seq < {second}")).await;
        assert!(matches!(problem(&app).await, Some(ChainProblem::CheckpointMissing { .. })));
    }

    async fn events_must_be_signed_within_the_interval(app: TestApp) {
        app.fixture().await;
        let limit = app.app().audit_config().checkpoint_minutes + app.app().audit_config().checkpoint_slack_minutes;
        app.clock.advance(chrono::Duration::minutes(i64::from(limit)));
        assert_eq!(problem(&app).await, None, "still within the interval");
        app.clock.advance(chrono::Duration::minutes(1));
        assert_eq!(problem(&app).await, Some(ChainProblem::Uncovered { seq: 1 }), "none after the first interval");
        // A late checkpoint leaves the gap visible.
        audit::checkpoint(app.app()).await.expect("checkpoint");
        assert_eq!(problem(&app).await, Some(ChainProblem::Uncovered { seq: 1 }));
    }

    async fn a_gap_between_checkpoints_is_caught_unless_the_server_restarted(app: TestApp) {
        let head = seeded(&app).await;
        app.user("second", app.fixture_unit().await, &[]).await;
        app.clock.advance(chrono::Duration::minutes(40));
        audit::checkpoint(app.app()).await.expect("checkpoint");
        assert_eq!(problem(&app).await, Some(ChainProblem::Uncovered { seq: head + 1 }));

        // The same with a restart in between (the machine was off): the journal explains it.
        let other = TestApp::new(if app.state.db().backend() == gridsafe_store::Backend::Sqlite { support::Backend::Sqlite } else { support::Backend::Postgres }).await.expect("app");
        let head = seeded(&other).await;
        other.user("second", other.fixture_unit().await, &[]).await;
        other.clock.advance(chrono::Duration::hours(40));
        audit::on_start(other.app(), &support::meta()).await.expect("start");
        let report = audit::verify(other.app()).await.expect("verify");
        assert!(report.is_intact(), "{:?}", report.problem);
        assert_eq!(report.checkpoints, 2);
        assert!(report.last_seq > Some(head));
    }

    async fn cutting_old_events_and_moving_the_anchor_is_caught(app: TestApp) {
        let first = seeded(&app).await;
        app.user("second", app.fixture_unit().await, &[]).await;
        audit::checkpoint(app.app()).await.expect("checkpoint");
        let hash = event(&app, first).await.hash;
        exec(&app, &format!("DELETE FROM audit_events WHERE seq <= {first}")).await;
        exec(&app, &format!("INSERT INTO audit_anchor (id, seq, hash) VALUES (1, {first}, '{hash}')")).await;
        assert_eq!(problem(&app).await, Some(ChainProblem::PruneUnaudited { seq: first }));
    }
}

/// Rewrites event `from` and recomputes every hash after it up to `head`, as someone with
/// database access could.
async fn rewrite_from(app: &TestApp, from: i64, head: i64) {
    let mut prev = event(app, from - 1).await.hash;
    for seq in from..=head {
        let mut e = event(app, seq).await;
        if seq == from {
            e.summary = "{\"username\":\"ghost\"}".into();
        }
        e.prev_hash = prev.clone();
        e.hash = chain::event_hash(&e).expect("hash");
        sqlx::query("UPDATE audit_events SET summary = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&e.summary)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(seq)
            .execute(app.state.db().pool())
            .await
            .expect("rewrite");
        prev = e.hash;
    }
}

impl support::TestApp {
    async fn fixture_unit(&self) -> UnitId {
        UnitId::new(
            sqlx::query("SELECT MIN(id) FROM org_units")
                .fetch_one(self.state.db().pool())
                .await
                .expect("unit")
                .get::<i64, _>(0),
        )
    }
}

/// `gridsafe audit-log verify` from the command line: exit 0 when intact, 1 naming the first
/// bad event otherwise.
#[tokio::test]
async fn command_line_verify_names_the_first_bad_event() {
    let app = TestApp::new(support::Backend::Sqlite).await.expect("sqlite");
    seeded(&app).await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gridsafe"))
            .args(["audit-log", "verify", "--database-url", app.settings.database.url.expose()])
            .env("GRIDSAFE_AUDIT__SIGNING_KEY_PATH", &app.settings.audit.signing_key_path)
            .env("GRIDSAFE_LANG", "en")
            .output()
            .expect("runs")
    };
    let ok = run();
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));
    exec(&app, "UPDATE audit_events SET actor_name = 'nobody' WHERE seq = 9").await;
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("Event 9 was changed"), "{out}");
}

/// Verifying a database that is not there, or one with no events, proves nothing: exit 1 and
/// say so, and leave no new database behind.
#[test]
fn command_line_verify_refuses_a_missing_or_empty_trail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gridsafe"))
            .args(["audit-log", "verify", "--database-url", url])
            .env("GRIDSAFE_AUDIT__SIGNING_KEY_PATH", dir.path().join("audit.key"))
            .env("GRIDSAFE_LANG", "en")
            .current_dir(dir.path())
            .output()
            .expect("runs")
    };
    let missing = dir.path().join("nowhere/gs.db");
    let out = run(&format!("sqlite://{}", missing.display()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No database file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!missing.exists() && !missing.parent().expect("folder").exists(), "nothing created");

    let empty = dir.path().join("empty.db");
    std::fs::File::create(&empty).expect("an empty file");
    let out = run(&format!("sqlite://{}", empty.display()));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no events"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The trail as the log auditor reads it.
mod readable {
    use super::*;

    backend_tests! {
        async fn the_log_auditor_reads_the_trail_in_words_filters_it_and_exports_it(app: TestApp) {
            use gridsafe_domain::access::perm;
            let f = app.fixture().await;
            let person = app.person(f.unit_a1, "XG9001", &[]).await;
            let cap = support::operator().authorize::<perm::PeopleManage>().expect("operator");
            let reach = gridsafe_app::people::Reach::units(&cap);
            let input = gridsafe_app::people::PersonInput {
                code: "XG9001".into(),
                name: "王建国".into(),
                unit_id: f.unit_a1,
                post: "班长".into(),
                active: true,
                ..Default::default()
            };
            gridsafe_app::people::save_person(app.app(), &reach, &support::meta(), Some(person), input).await.expect("update");
            let auditor = app.session_for(f.user("log_auditor")).await;
            let page = app.get_with("/audit?action=person.updated", &[("cookie", &auditor)]).await;
            assert_eq!(page.status, 200);
            // The change as a before/after table, in words; the raw record folded for administrators.
            let changes = page.body.split("data-changes").nth(1).expect("a change table");
            let changes = changes.split("</table>").next().unwrap_or_default();
            assert!(changes.contains("变更前") && changes.contains("变更后"), "{changes}");
            assert!(changes.contains("<td>名称</td><td>测试XG9001</td><td>王建国</td>"), "{changes}");
            assert!(changes.contains("<td>岗位</td><td>—</td><td>班长</td>"), "{changes}");
            assert!(!changes.contains("<td>编号</td>"), "an unchanged field is not a change");
            assert!(page.body.contains("<option value=\"person.updated\" selected>修改人员</option>"), "the action filter in words");
            // By unit: the county's events; a unit out of reach is refused.
            let county = app.get_with(&format!("/audit?unit={}", f.unit_a1), &[("cookie", &auditor)]).await;
            assert!(county.body.contains("data-action=\"person.updated\""), "the county's events");
            assert!(!county.body.contains("data-action=\"login\""), "not the others'");
            // The export: the same events in words, read back as a workbook.
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let request = axum::http::Request::get("/audit.xlsx?action=person.updated")
                .header("cookie", &auditor)
                .body(axum::body::Body::empty())
                .expect("request");
            let response = app.router.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), 200);
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            let limits =
                gridsafe_sheet::Limits { unpacked_bytes: 10 << 20, parts: 100, rows: 1000, columns: 50, cell_chars: 32_767 };
            let table = gridsafe_sheet::read_xlsx("audit.xlsx", &bytes, &limits).expect("a real workbook").remove(0).1;
            assert_eq!(table.headers, ["序号", "时间", "操作人", "渠道", "动作", "记录", "变更内容", "请求号"]);
            assert_eq!(table.rows.len(), 1, "the one update");
            let row: Vec<String> = table.rows[0]
                .cells
                .iter()
                .map(|c| match c {
                    gridsafe_sheet::Cell::Text(t) => t.clone(),
                    other => format!("{other:?}"),
                })
                .collect();
            let row = row.join("|");
            assert!(row.contains("名称 测试XG9001 → 王建国") && row.contains("2026-11-26") && row.contains("修改人员"), "{row}");
        }
    }
}
