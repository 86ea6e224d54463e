//! What users read: every page every demo account can reach, followed link by link from the
//! home page, is in words. A message looked up under a key the message files do not have
//! shows as `Unknown localization key` — on no page, for no one.

mod support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use support::{TestApp, meta};

/// Pages of one shape (`/tickets/{n}`) visited per account: enough to meet each state the
/// demo puts them in, few enough to keep the walk short.
const PER_SHAPE: usize = 6;
const PER_ACCOUNT: usize = 400;

/// `/tickets/12?state=x` → `/tickets/{n}`: pages that differ only in ids or filters.
fn shape(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split('/')
        .map(|part| if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() { "{n}" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// Links to follow: same site, GET, not sign-out, not files.
fn links(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("href=\"/") {
        rest = &rest[at + 6..];
        let Some(end) = rest.find('"') else { break };
        let link = rest[..end].replace("&amp;", "&");
        rest = &rest[end..];
        let skip = link.starts_with("/static")
            || link.starts_with("/assets")
            || link.starts_with("/logout")
            || link.starts_with("/api")
            || link.contains(".xlsx")
            || link.contains(".csv")
            || link.contains("/files/")
            || link.contains("/attachments/")
            || link.contains("export");
        if !skip {
            out.push(link);
        }
    }
    out
}

/// References meant for administrators (the research brief's, the spec files', origin marks):
/// never in what everyone reads, only in a `<details class="for-admins">` fold.
const INTERNAL: [&str; 6] = ["[S-", "§", ".md", "[INF]", "[UNVERIFIED]", "研究简报"];

/// The page without its administrators' folds.
fn outside_folds(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(at) = rest.find("<details class=\"for-admins\">") {
        out.push_str(&rest[..at]);
        rest = rest[at..].find("</details>").map_or("", |end| &rest[at + end..]);
    }
    out.push_str(rest);
    out
}

/// Walks the site as the holder of `cookie`; every (page, line) showing an unknown key.
async fn walk(app: &TestApp, cookie: &str) -> (usize, Vec<(String, String)>) {
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut visited = 0;
    while let Some(path) = queue.pop_front() {
        if visited >= PER_ACCOUNT || !seen.insert(path.clone()) {
            continue;
        }
        let n = shapes.entry(shape(&path)).or_default();
        if *n >= PER_SHAPE {
            continue;
        }
        *n += 1;
        let r = app.get_with(&path, &[("cookie", cookie)]).await;
        visited += 1;
        if r.status.is_server_error() {
            bad.push((path.clone(), format!("status {}", r.status)));
        }
        if !r.header("content-type").starts_with("text/html") {
            continue;
        }
        for line in r.body.lines().filter(|l| l.contains("Unknown localization key")) {
            bad.push((path.clone(), line.trim().chars().take(200).collect()));
        }
        for line in outside_folds(&r.body).lines() {
            if let Some(mark) = INTERNAL.iter().find(|m| line.contains(*m)) {
                bad.push((path.clone(), format!("{mark}: {}", line.trim().chars().take(200).collect::<String>())));
            }
        }
        queue.extend(links(&r.body));
    }
    (visited, bad)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_as_every_demo_account_is_in_words() {
    let app = TestApp::new(support::Backend::Sqlite).await.expect("sqlite always runs");
    let report =
        gridsafe_app::demo::fill(app.app(), &meta()).await.expect("demo").expect("an empty database is filled");
    let mut problems = Vec::new();
    for (username, _) in &report.accounts {
        let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(app.state.db().pool())
            .await
            .expect("demo account");
        sqlx::query("UPDATE users SET must_change_password = 0 WHERE id = $1")
            .bind(id)
            .execute(app.state.db().pool())
            .await
            .expect("past the first sign-in");
        let cookie = app.session_for(id).await;
        let (visited, bad) = walk(&app, &cookie).await;
        eprintln!("{username}: {visited} pages");
        assert!(visited >= 3, "{username} reached only {visited} pages");
        problems.extend(bad.into_iter().map(|(page, line)| format!("{username} {page}: {line}")));
    }
    // Every action the demo (and the walk) recorded reads as words in the audit trail.
    let actions: Vec<String> = sqlx::query_scalar("SELECT DISTINCT action FROM audit_events")
        .fetch_all(app.state.db().pool())
        .await
        .expect("actions");
    assert!(actions.len() > 20, "the demo records many kinds of action: {actions:?}");
    for action in actions {
        let key = format!("audit-action-{}", action.replace('.', "-"));
        if !(gridsafe_messages::Lang::ZhCn.knows(&key) && gridsafe_messages::Lang::En.knows(&key)) {
            problems.push(format!("audit action {action} has no words"));
        }
    }
    assert!(problems.is_empty(), "unknown message keys on pages:\n{}", problems.join("\n"));
}

#[test]
fn folds_for_administrators_are_left_out() {
    let page =
        "<p>依据：安规</p><details class=\"for-admins\"><summary>x</summary>研究简报 §1.4 [S-20]</details><p>b</p>";
    assert_eq!(outside_folds(page), "<p>依据：安规</p></details><p>b</p>");
}

#[test]
fn shapes_group_pages_that_differ_only_in_ids() {
    assert_eq!(shape("/tickets/12?state=issued"), "/tickets/{n}");
    assert_eq!(shape("/customers/3/inspect"), "/customers/{n}/inspect");
    assert_eq!(
        links(
            r#"<a href="/tickets/1">x</a> <a href="/logout">o</a> <a href="/findings?unit=2&amp;month=2026-11">f</a>"#
        ),
        ["/tickets/1", "/findings?unit=2&month=2026-11"]
    );
}
