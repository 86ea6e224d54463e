//! The home page: where a user lands after signing in.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().get("/", home)
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    chrome: Chrome,
    display_name: String,
    /// Documents about to expire, for those who manage people or contractors.
    expiring: Option<Vec<gridsafe_app::people::Expiring>>,
    expiring_days: u32,
    /// Tickets waiting for the user's own step, for those who sign tickets.
    awaiting: Option<Vec<gridsafe_app::tickets::Awaiting>>,
    /// What the person must do now, late first: plans, outages, on-site supervision, assigned
    /// rectification, own qualifications, reviews.
    todo: Vec<gridsafe_app::home::Todo>,
    /// The units' figures of the month, for a leader.
    kpis: Option<Vec<gridsafe_app::home::Kpi>>,
    /// Customers' safety at a glance, for those who see customers: (key, count, link).
    safety: Option<Vec<(&'static str, usize, &'static str)>>,
    version: &'static str,
    backend: &'static str,
    schema_version: i64,
}

async fn home(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let schema_version = match state.db().schema_status().await? {
        gridsafe_store::SchemaStatus::UpToDate { version } => version,
        gridsafe_store::SchemaStatus::Behind { current, .. } => current,
    };
    use gridsafe_domain::access::perm;
    let p = &auth.user.principal;
    let days = state.app().people_config().expiry_warning_days;
    let expiring = if let Ok(cap) = p.authorize::<perm::PeopleManage>() {
        let reach = gridsafe_app::people::Reach::units(&cap);
        Some(gridsafe_app::people::expiring(state.app(), &reach, state.app().today(), days).await?)
    } else if let Ok(cap) = p.authorize::<perm::ContractorsManage>() {
        let reach = gridsafe_app::people::Reach::units(&cap);
        Some(gridsafe_app::people::expiring(state.app(), &reach, state.app().today(), days).await?)
    } else {
        None
    };
    let awaiting = match p.authorize::<perm::TicketsSign>() {
        Ok(cap) => Some(gridsafe_app::tickets::awaiting(state.app(), &cap).await?),
        Err(_) => None,
    };
    let todo = gridsafe_app::home::todo(state.app(), p).await?;
    let kpis = gridsafe_app::home::kpis(state.app(), p).await?;
    let safety = match p.authorize::<perm::CustomersView>() {
        Ok(cap) => {
            use gridsafe_app::customers::{self, CustomerFilter, HazardFilter};
            use gridsafe_domain::hazards::HazardState;
            use gridsafe_domain::inspections::DueState;
            let app = state.app();
            let (mut overdue, mut due) = (0, 0);
            customers::each_customer(app, &cap, &CustomerFilter::default(), |c| match c.due_state() {
                Some(DueState::Overdue) => overdue += 1,
                Some(DueState::DueThisMonth) => due += 1,
                _ => {}
            })
            .await?;
            let (mut open, mut late, mut escalated, mut review) = (0, 0, 0, 0);
            customers::each_hazard(app, &cap, &HazardFilter::default(), |h| {
                if h.state != HazardState::Closed {
                    open += 1;
                    late += usize::from(h.overdue);
                    escalated += usize::from(h.escalation > 0);
                    review += usize::from(h.state == HazardState::Reviewing);
                }
            })
            .await?;
            Some(vec![
                ("home-inspections-overdue", overdue, "/customers?due=overdue"),
                ("home-inspections-due", due, "/inspections/plan"),
                ("home-hazards-open", open, "/hazards?state="),
                ("home-hazards-overdue", late, "/hazards?overdue=1"),
                ("hazard-escalated", escalated, "/hazards?escalated=1"),
                ("home-hazards-review", review, "/hazards?state=reviewing"),
            ])
        }
        Err(_) => None,
    };
    Ok(render(&HomePage {
        todo,
        kpis,
        safety,
        awaiting,
        expiring,
        expiring_days: days,
        display_name: auth.user.display_name.clone(),
        chrome: Chrome::for_user(ctx, &auth.user),
        version: env!("CARGO_PKG_VERSION"),
        backend: state.db().backend().name(),
        schema_version,
    }))
}
