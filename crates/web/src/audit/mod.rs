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
    Routes::new().get("/audit", audit_page).get("/audit/verify", verify_page)
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
        }
    }
}

#[derive(Template)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    events: Vec<EventRecord>,
    next_before: Option<i64>,
    query_string: String,
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::AuditRead>(&state).await?;
    let events = audit::search(state.app(), &cap, &q.filter()).await?;
    let next_before = (events.len() == 100).then(|| events.last().map(|e| e.seq)).flatten();
    let pairs = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("record_kind", &q.record_kind),
        ("channel", &q.channel),
        ("from", &q.from),
        ("to", &q.to),
    ];
    let query_string = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", crate::auth::url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&");
    Ok(render(&AuditPage { chrome: Chrome::for_user(ctx, &auth.user), q, events, next_before, query_string }))
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
