//! A person's home page is their to-do list: what each business area says they must do now,
//! late first, expired items kept until dealt with.

use chrono::Datelike;
use gridsafe_domain::access::{Principal, perm};
use serde::Serialize;

use crate::{App, AppError};

/// Something a person must do, for their home page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Todo {
    /// The message key that says what to do.
    pub what: &'static str,
    /// Where it is done.
    pub link: String,
    /// What it is about: a ticket's or hazard's number and words, a plan's unit and period…
    pub subject: String,
    /// A message key naming the subject in words (a qualification's kind), when it has one.
    pub word: Option<String>,
    /// When it is due.
    pub due: String,
    /// Past its time: shown first, in red, until done.
    pub late: bool,
}

/// Everything `principal` must do now, late first (each area's own order kept within).
pub async fn todo(app: &App, principal: &Principal) -> Result<Vec<Todo>, AppError> {
    let mut out = crate::outages::todo(app, principal).await?;
    out.extend(crate::supervision::todo(app, principal).await?);
    out.extend(crate::projects::todo(app, principal).await?);
    out.extend(crate::emergency::todo(app, principal).await?);
    out.extend(crate::quality::todo(app, principal).await?);
    out.extend(own(app, principal).await?);
    out.extend(reviews(app, principal).await?);
    out.sort_by_key(|t| !t.late);
    Ok(out)
}

/// What is the signed-in person's own: rectification assigned to him, his qualifications running
/// out (or run out) within the warning days.
async fn own(app: &App, principal: &Principal) -> Result<Vec<Todo>, AppError> {
    let Some(user) = principal.user_id() else { return Ok(Vec::new()) };
    let mut conn = app.db().read().await?;
    let Some(me) = gridsafe_store::people::id_of_user(&mut conn, user).await? else { return Ok(Vec::new()) };
    let today = app.today();
    let mut out: Vec<Todo> = gridsafe_store::hazards::assigned_to(&mut conn, me)
        .await?
        .into_iter()
        .map(|h| Todo {
            what: "home-todo-rectify",
            link: format!("/hazards/{}", h.id),
            subject: format!("{} {}", h.number, h.title),
            word: None,
            due: h.deadline.to_string(),
            late: h.deadline < today,
        })
        .collect();
    let facts = gridsafe_store::people::facts(&mut conn, &[me]).await?;
    let until = today + chrono::Duration::days(i64::from(app.people_config().expiry_warning_days));
    if let Some(person) = facts.get(&me) {
        // Per kind, the latest validity: a renewed qualification is no longer due.
        let mut latest: std::collections::BTreeMap<&str, chrono::NaiveDate> = std::collections::BTreeMap::new();
        for held in &person.facts.held {
            let to = latest.entry(held.kind.code()).or_insert(held.valid_to);
            *to = (*to).max(held.valid_to);
        }
        out.extend(latest.into_iter().filter(|(_, to)| *to <= until).map(|(kind, to)| Todo {
            what: "home-todo-own-qualification",
            // His own record, where he may read the register; else this list itself.
            link: if principal.authorize::<perm::PeopleView>().is_ok() {
                format!("/people/{me}")
            } else {
                "#todo".to_owned()
            },
            subject: person.label(),
            word: Some(format!("qual-kind-{kind}")),
            due: to.to_string(),
            late: to < today,
        }));
    }
    Ok(out)
}

/// What waits for the person's review: executed tickets to evaluate, cross-audit findings to
/// confirm or dismiss, locked accounts (security administrator).
async fn reviews(app: &App, principal: &Principal) -> Result<Vec<Todo>, AppError> {
    let mut out = Vec::new();
    if let Ok(cap) = principal.authorize::<perm::TicketsEvaluate>() {
        let filter = crate::tickets::TicketFilter { unevaluated: true, ..Default::default() };
        out.extend(crate::tickets::list_tickets(app, &cap, &filter, 20).await?.into_iter().map(|t| Todo {
            what: "home-todo-ticket-evaluate",
            link: format!("/tickets/{}#evaluation", t.id),
            subject: format!("{} · {}", t.number, t.location),
            word: None,
            due: t.planned_end.local_display(),
            late: false,
        }));
    }
    if let Ok(cap) = principal.authorize::<perm::FindingsReview>() {
        let filter = crate::findings::FindingFilter {
            state: Some(gridsafe_domain::findings::FindingState::Open),
            ..Default::default()
        };
        let open = crate::findings::count_findings(app, &cap, &filter).await?;
        if open > 0 {
            out.push(Todo {
                what: "home-todo-findings-review",
                link: "/findings?state=open".to_owned(),
                subject: open.to_string(),
                word: None,
                due: String::new(),
                late: false,
            });
        }
    }
    if let Ok(cap) = principal.authorize::<perm::AccountsReview>() {
        use gridsafe_store::identity::UserStatus;
        out.extend(
            crate::identity::accounts_for_review(app, &cap)
                .await?
                .into_iter()
                .filter(|u| u.status == UserStatus::Locked)
                .map(|u| Todo {
                    what: "home-todo-account-locked",
                    link: "/security/accounts".to_owned(),
                    subject: format!("{} {}", u.username, u.display_name),
                    word: None,
                    due: String::new(),
                    late: false,
                }),
        );
    }
    Ok(out)
}

/// One of the unit's figures for the month on a leader's home page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Kpi {
    /// The message key naming it.
    pub what: &'static str,
    pub value: String,
    /// Where it is explained.
    pub link: String,
}

/// The month's figures of the units a leader (分管领导, who approves hazard deadlines) answers for:
/// ticket pass rate and executed tickets, unplanned work, open cross-audit findings, violations
/// and their points, and how often a manager was on site where one had to be. `None` for others.
pub async fn kpis(app: &App, principal: &Principal) -> Result<Option<Vec<Kpi>>, AppError> {
    if principal.authorize::<perm::HazardsApprove>().is_err() {
        return Ok(None);
    }
    let today = app.today();
    let month = today.format("%Y-%m").to_string();
    let mut out = Vec::new();
    if let Ok(cap) = principal.authorize::<perm::TicketsView>() {
        let first = today.with_day(1).unwrap_or(today);
        let rows = crate::tickets::month_stats(app, &cap, first).await?;
        if let Some(total) = rows.iter().find(|r| r.is_total()) {
            out.push(Kpi {
                what: "home-kpi-pass-rate",
                value: total.pass_rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%")),
                link: format!("/tickets/evaluation?month={month}"),
            });
            out.push(Kpi {
                what: "home-kpi-executed",
                value: total.stats.executed.to_string(),
                link: format!("/tickets/evaluation?month={month}"),
            });
            out.push(Kpi {
                what: "home-kpi-unplanned",
                value: total.stats.unplanned.to_string(),
                link: format!("/tickets/evaluation?month={month}"),
            });
        }
    }
    if let Ok(cap) = principal.authorize::<perm::FindingsView>() {
        let filter = crate::findings::FindingFilter {
            state: Some(gridsafe_domain::findings::FindingState::Open),
            ..Default::default()
        };
        out.push(Kpi {
            what: "home-kpi-findings-open",
            value: crate::findings::count_findings(app, &cap, &filter).await?.to_string(),
            link: "/findings?state=open".to_owned(),
        });
    }
    if let Ok(cap) = principal.authorize::<perm::ViolationsView>() {
        let d = crate::supervision::dashboard(app, &cap, &month).await?;
        out.push(Kpi {
            what: "home-kpi-violations",
            value: format!("{} / {}", d.total, d.points),
            link: format!("/violations?month={month}"),
        });
        let (started, attended) = d.attendance.iter().fold((0, 0), |(s, a), r| (s + r.started, a + r.attended));
        out.push(Kpi {
            what: "home-kpi-attendance",
            value: if started == 0 { "—".to_owned() } else { format!("{attended} / {started}") },
            link: format!("/violations?month={month}"),
        });
    }
    Ok(Some(out))
}
