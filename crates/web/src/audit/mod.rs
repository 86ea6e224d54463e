//! The audit trail for the log auditor (审计员): search, filter and verify.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use gridsafe_app::audit::{self, AuditFilter, EventRecord, VerifyReport};
use gridsafe_domain::access::perm;
use gridsafe_domain::time::{CHINA, Timestamp};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::i18n::{Arg, Lang};
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().get("/audit", audit_page).get("/audit.xlsx", audit_export).get("/audit/verify", verify_page)
}

/// The search form, as query parameters (shared with the API).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// Action prefix, e.g. `login` or `user.`.
    pub action: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    /// `web`, `api`, `cli` or `job`.
    pub channel: Option<String>,
    /// First day, `YYYY-MM-DD` (China time).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (China time), inclusive.
    pub to: Option<String>,
    /// Only events before this sequence number (next page).
    pub before: Option<i64>,
    /// Only events of this unit (its id) and those below it.
    pub unit: Option<String>,
}

fn day_start(text: Option<&str>, plus_days: i64) -> Option<Timestamp> {
    let day = NaiveDate::parse_from_str(text?.trim(), "%Y-%m-%d").ok()? + chrono::Duration::days(plus_days);
    let local = day.and_hms_opt(0, 0, 0)?.and_local_timezone(CHINA).single()?;
    Some(Timestamp::from_utc(local.with_timezone(&chrono::Utc)))
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            record_kind: self.record_kind.clone(),
            record_id: self.record_id.clone(),
            channel: self.channel.clone(),
            from: day_start(self.from.as_deref(), 0),
            to: day_start(self.to.as_deref(), 1),
            before_seq: self.before,
            limit: 100,
            unit: self.unit.as_deref().and_then(|u| u.trim().parse().ok()),
        }
    }
}

/// An event's summary as people read it: its facts by name, and what changed (field, before,
/// after) when it records a change.
struct Readable {
    facts: Vec<(String, String)>,
    changes: Vec<(String, String, String)>,
}

/// A summary's key in words, or as recorded when it has none.
fn key_words(lang: Lang, key: &str) -> String {
    let message = format!("audit-key-{key}");
    if lang.knows(&message) { lang.t(&message) } else { key.to_owned() }
}

/// A recorded value in words: lists joined, objects as `name：value`, nothing as a dash.
fn value_words(lang: Lang, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => lang.t(if *b { "ledger-yes" } else { "ledger-no" }),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(items) => {
            items.iter().map(|v| value_words(lang, v)).collect::<Vec<_>>().join(&lang.t("list-separator"))
        }
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}：{}", key_words(lang, k), value_words(lang, v)))
            .collect::<Vec<_>>()
            .join("；"),
    }
}

/// Reads an event's summary: `before` and `after` become the change table (field by field when
/// they are records), everything else its facts.
fn readable(lang: Lang, summary: &str) -> Readable {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(summary) else {
        let facts =
            if summary.is_empty() || summary == "{}" { Vec::new() } else { vec![(String::new(), summary.to_owned())] };
        return Readable { facts, changes: Vec::new() };
    };
    let mut changes = Vec::new();
    if map.contains_key("before") || map.contains_key("after") {
        let null = serde_json::Value::Null;
        let (before, after) = (map.get("before").unwrap_or(&null), map.get("after").unwrap_or(&null));
        match (before, after) {
            (serde_json::Value::Object(b), serde_json::Value::Object(a)) => {
                let mut fields: Vec<&String> = b.keys().chain(a.keys()).collect();
                fields.sort();
                fields.dedup();
                for f in fields {
                    let (was, now) = (b.get(f).unwrap_or(&null), a.get(f).unwrap_or(&null));
                    if was != now {
                        changes.push((key_words(lang, f), value_words(lang, was), value_words(lang, now)));
                    }
                }
            }
            _ => changes.push((String::new(), value_words(lang, before), value_words(lang, after))),
        }
    }
    let facts = map
        .iter()
        .filter(|(k, _)| k.as_str() != "before" && k.as_str() != "after")
        .map(|(k, v)| (key_words(lang, k), value_words(lang, v)))
        .collect();
    Readable { facts, changes }
}

#[derive(Template)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    events: Vec<(EventRecord, Readable)>,
    next_before: Option<i64>,
    query_string: String,
    /// Every action in words, for the filter: (code, words), by words.
    actions: Vec<(String, String)>,
    units: Vec<crate::admin::UnitOption>,
}

/// Every action the trail records in words: (code, words), ordered by the words.
fn action_choices(lang: Lang) -> Vec<(String, String)> {
    let mut actions: Vec<(String, String)> = lang
        .keys_with_prefix("audit-action-")
        .into_iter()
        .map(|key| {
            let code = key.trim_start_matches("audit-action-").replacen('-', ".", 1);
            (code, lang.t(key))
        })
        .collect();
    actions.sort_by(|a, b| a.1.cmp(&b.1));
    actions
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AuditRead>(&state).await?;
    let events = auth.checked(&state, audit::search(state.app(), &cap, &q.filter()).await).await?;
    let next_before = (events.len() == 100).then(|| events.last().map(|e| e.seq)).flatten();
    let lang = ctx.lang;
    let events = events.into_iter().map(|e| {
        let r = readable(lang, &e.summary);
        (e, r)
    });
    let events = events.collect();
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let actions = action_choices(lang);
    let pairs = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("record_kind", &q.record_kind),
        ("channel", &q.channel),
        ("from", &q.from),
        ("to", &q.to),
        ("unit", &q.unit),
    ];
    let query_string = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", crate::auth::url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&");
    Ok(render(&AuditPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        q,
        events,
        next_before,
        query_string,
        actions,
        units,
    }))
}

/// The most events one export holds.
const EXPORT_ROWS: u32 = 10_000;

/// The trail the filter selects as `.xlsx` (at most [`EXPORT_ROWS`] events, newest first), in
/// words: times in China time, actions and channels named, each summary read out.
async fn audit_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AuditRead>(&state).await?;
    let filter = AuditFilter { limit: EXPORT_ROWS, ..q.filter() };
    let events = auth.checked(&state, audit::search(state.app(), &cap, &filter).await).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "audit-seq",
        "audit-time",
        "audit-actor",
        "audit-channel",
        "audit-action",
        "audit-record",
        "audit-summary",
        "audit-request",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let rows: Vec<Vec<gridsafe_app::xlsx::Value>> = events
        .into_iter()
        .map(|e| {
            let r = readable(lang, &e.summary);
            let mut summary: Vec<String> =
                r.changes.iter().map(|(f, was, now)| format!("{f} {was} → {now}").trim().to_owned()).collect();
            summary.extend(r.facts.iter().map(|(k, v)| if k.is_empty() { v.clone() } else { format!("{k}：{v}") }));
            vec![
                gridsafe_app::xlsx::Value::from(e.seq.to_string()),
                Timestamp::from_db(&e.at).map_or_else(|| e.at.clone(), |t| t.local_display()).into(),
                e.actor_name.into(),
                lang.t(&format!("channel-{}", e.channel)).into(),
                crate::layout::action_words(lang, &e.action).into(),
                format!("{} {}", e.record_kind, e.record_id).into(),
                summary.join("；").into(),
                e.request_id.into(),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("audit.xlsx", gridsafe_app::xlsx::ledger(&lang.t("audit-title"), &headers, &rows)?))
}

#[derive(Template)]
#[template(path = "audit/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    report: VerifyReport,
    problem: Option<String>,
    key_id: String,
}

/// The verification outcome in words.
pub fn problem_text(lang: Lang, report: &VerifyReport) -> Option<String> {
    report.problem.as_ref().map(|p| {
        let since = match p {
            audit::ChainProblem::Rewritten { since, .. } => *since,
            _ => 0,
        };
        lang.t_args(p.message_key(), &[("seq", Arg::Number(p.seq())), ("since", Arg::Number(since))])
    })
}

async fn verify_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::AuditRead>(&state).await?;
    let report = audit::verify(state.app()).await?;
    Ok(render(&VerifyPage {
        problem: problem_text(ctx.lang, &report),
        chrome: Chrome::for_user(ctx, &auth.user),
        report,
        key_id: state.app().signer().key_id().to_owned(),
    }))
}
