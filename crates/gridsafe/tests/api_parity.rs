//! API parity: every page action that changes state has its twin in the JSON API, with the same
//! use case behind it (issue "Integration", point 1). A new page action without a twin fails here,
//! and so does a twin named here that the API does not serve.

use std::collections::BTreeSet;

/// Page actions only a person at a browser takes: signing in and out, the language, one's own
/// password (a token never changes a password).
const BROWSER_ONLY: [&str; 4] = ["POST /login", "POST /logout", "POST /lang", "POST /account/password"];

/// Page action → its API twin.
const TWINS: [(&str, &str); 107] = [
    ("POST /account/tokens", "POST /api/v1/tokens"),
    ("POST /account/tokens/{id}/revoke", "DELETE /api/v1/tokens/{id}"),
    ("POST /admin/units", "POST /api/v1/units"),
    ("POST /admin/users", "POST /api/v1/users"),
    ("POST /admin/users/{id}/person", "POST /api/v1/users/{id}/person"),
    ("POST /admin/users/{id}/roles", "POST /api/v1/users/{id}/roles"),
    ("POST /contractors/{id}/agreements", "POST /api/v1/contractors/{id}/agreements"),
    (
        "POST /contractors/{id}/agreements/{agreement}/confirm",
        "POST /api/v1/contractors/{id}/agreements/{agreement}/confirm",
    ),
    ("POST /emergency/plans", "POST /api/v1/emergency/plans"),
    ("POST /emergency/plans/{id}/drills", "POST /api/v1/emergency/plans/{id}/drills"),
    ("POST /faults", "POST /api/v1/faults"),
    ("POST /faults/checks", "POST /api/v1/compliance-checks"),
    ("POST /feedback/complaints", "POST /api/v1/complaints"),
    ("POST /feedback/evaluations", "POST /api/v1/evaluations"),
    ("POST /findings/import", "POST /api/v1/work-orders"),
    ("POST /findings/{id}/review", "POST /api/v1/findings/{id}/review"),
    ("POST /hazards/{id}/steps", "POST /api/v1/hazards/{id}/steps"),
    ("POST /outages", "POST /api/v1/outages"),
    ("POST /outages/{id}/notices", "POST /api/v1/outages/{id}/notices"),
    ("POST /outages/{id}/steps", "POST /api/v1/outages/{id}/steps"),
    ("POST /people", "POST /api/v1/people"),
    ("POST /people/{id}/qualifications", "POST /api/v1/people/{id}/qualifications"),
    ("POST /people/{id}/qualifications/{qid}/confirm", "POST /api/v1/people/{id}/qualifications/{qid}/confirm"),
    ("POST /people/{id}/readmission", "POST /api/v1/people/{id}/readmission"),
    ("POST /plans", "POST /api/v1/plans"),
    ("POST /plans/{id}/items", "POST /api/v1/plans/{id}/items"),
    ("POST /plans/{id}/items/{item}/remove", "DELETE /api/v1/plans/{id}/items/{item}"),
    ("POST /plans/{id}/merge", "POST /api/v1/plans/{id}/merges"),
    ("POST /plans/{id}/steps", "POST /api/v1/plans/{id}/steps"),
    ("POST /projects", "POST /api/v1/projects"),
    ("POST /projects/{id}/inspections", "POST /api/v1/projects/{id}/inspections"),
    ("POST /projects/{id}/notices/{inspection}", "POST /api/v1/projects/{id}/notices/{inspection}"),
    ("POST /projects/{id}/steps", "POST /api/v1/projects/{id}/steps"),
    ("POST /quality/reports", "POST /api/v1/quality/reports"),
    ("POST /quality/reports/{id}/issue", "POST /api/v1/quality/reports/{id}/issue"),
    ("POST /quality/reports/{id}/texts", "POST /api/v1/quality/reports/{id}/texts"),
    ("POST /quality/reports/{id}/reissue", "POST /api/v1/quality/reports/{id}/reissue"),
    ("POST /quality/indicators/{code}", "PUT /api/v1/quality/indicators/{code}"),
    ("POST /tasks/{id}/close", "POST /api/v1/tasks/{id}/close"),
    ("POST /tickets", "POST /api/v1/tickets"),
    ("POST /tickets/{id}", "PUT /api/v1/tickets/{id}"),
    ("POST /tickets/{id}/arrival", "POST /api/v1/tickets/{id}/arrivals"),
    ("POST /tickets/{id}/checks", "POST /api/v1/tickets/{id}/checks"),
    ("POST /tickets/{id}/departure", "POST /api/v1/tickets/{id}/departure"),
    ("POST /tickets/{id}/evaluation", "POST /api/v1/tickets/{id}/evaluation"),
    ("POST /tickets/{id}/hazards", "POST /api/v1/tickets/{id}/hazards"),
    ("POST /tickets/{id}/steps", "POST /api/v1/tickets/{id}/steps"),
    ("POST /tickets/{id}/survey", "POST /api/v1/tickets/{id}/survey"),
    ("POST /tickets/{id}/unplanned-approval", "POST /api/v1/tickets/{id}/unplanned-approval"),
    ("POST /tickets/catalogue/reasons", "POST /api/v1/tickets/catalogue/reasons"),
    ("POST /tickets/catalogue/templates", "POST /api/v1/tickets/catalogue/templates"),
    ("POST /tickets/catalogue/templates/{id}/delete", "DELETE /api/v1/tickets/catalogue/templates/{id}"),
    ("POST /tickets/catalogue/types", "POST /api/v1/tickets/catalogue/types"),
    ("POST /tickets/catalogue/types/{code}", "PUT /api/v1/tickets/catalogue/types/{code}"),
    ("POST /tickets/{id}/hazards/{hid}/delete", "POST /api/v1/tickets/{id}/hazards/{hid}/remove"),
    ("POST /violations", "POST /api/v1/violations"),
    ("POST /violations/{id}/review", "POST /api/v1/violations/{id}/review"),
    ("POST /admin/roles/{code}", "PUT /api/v1/roles/{code}"),
    ("POST /admin/units/{id}", "PUT /api/v1/units/{id}"),
    ("POST /admin/users/{id}/disable", "POST /api/v1/users/{id}/disable"),
    ("POST /admin/users/{id}/reset-password", "POST /api/v1/users/{id}/reset-password"),
    ("POST /people/import", "POST /api/v1/people/import"),
    ("POST /people/import/{token}", "POST /api/v1/people/import/{token}"),
    ("POST /admin/users/{id}/enable", "POST /api/v1/users/{id}/enable"),
    ("POST /admin/users/{id}/roles/revoke", "POST /api/v1/users/{id}/roles/revoke"),
    ("POST /findings/run", "POST /api/v1/findings/run"),
    ("POST /contractors", "POST /api/v1/contractors"),
    ("POST /contractors/{id}", "PUT /api/v1/contractors/{id}"),
    ("POST /contractors/{id}/ratings", "POST /api/v1/contractors/{id}/ratings"),
    ("POST /contractors/{id}/blacklist", "POST /api/v1/contractors/{id}/blacklist"),
    ("POST /contractors/{id}/unblacklist", "POST /api/v1/contractors/{id}/unblacklist"),
    ("POST /customers", "POST /api/v1/customers"),
    ("POST /customers/import", "POST /api/v1/customers/import"),
    ("POST /customers/{id}/inspections", "POST /api/v1/customers/{id}/inspections"),
    ("POST /customers/import/{token}", "POST /api/v1/customers/import/{token}"),
    ("POST /customers/{id}", "PUT /api/v1/customers/{id}"),
    ("POST /faults/import", "POST /api/v1/faults/import"),
    ("POST /feedback/complaints/{id}/hazard", "POST /api/v1/feedback/complaints/{id}/hazard"),
    ("POST /feedback/evaluations/{id}/hazard", "POST /api/v1/feedback/evaluations/{id}/hazard"),
    ("POST /feedback/import", "POST /api/v1/feedback/import"),
    ("POST /violations/catalogue", "POST /api/v1/violations/catalogue"),
    ("POST /projects/import", "POST /api/v1/projects/import"),
    ("POST /projects/calendar", "POST /api/v1/projects/calendar"),
    ("POST /plans/{id}/import", "POST /api/v1/plans/{id}/import"),
    ("POST /people/{id}", "PUT /api/v1/people/{id}"),
    ("POST /people/{id}/qualifications/{qid}/delete", "POST /api/v1/people/{id}/qualifications/{qid}/remove"),
    ("POST /inspections/settings/checklist", "PUT /api/v1/inspections/settings/checklist"),
    ("POST /inspections/settings/cycles", "PUT /api/v1/inspections/settings/cycles"),
    ("POST /inspections/settings/grades", "PUT /api/v1/inspections/settings/grades"),
    ("POST /projects/limits", "PUT /api/v1/projects/limits"),
    ("POST /hazards", "POST /api/v1/hazards"),
    ("POST /hazards/{id}/photos", "POST /api/v1/hazards/{id}/photos"),
    ("POST /hazards/{id}/seals", "POST /api/v1/hazards/{id}/seals"),
    ("POST /emergency/pilots", "POST /api/v1/emergency/pilots"),
    ("POST /emergency/pilots/documents", "POST /api/v1/emergency/pilots/documents"),
    ("POST /hazards/{id}/refusal", "POST /api/v1/hazards/{id}/refusal"),
    ("POST /inspections/{id}/photos", "POST /api/v1/inspections/{id}/photos"),
    ("POST /inspections/{id}/signed", "POST /api/v1/inspections/{id}/signed"),
    ("POST /hazards/{id}/extension", "POST /api/v1/hazards/{id}/extension"),
    ("POST /hazards/{id}/extension/decision", "POST /api/v1/hazards/{id}/extension/decision"),
    ("POST /seals/{id}/unseal", "POST /api/v1/seals/{id}/unseal"),
    ("POST /security/accounts/{id}/review", "POST /api/v1/users/{id}/review"),
    ("POST /security/accounts/{id}/unlock", "POST /api/v1/users/{id}/unlock"),
    ("POST /history/{register}", "POST /api/v1/history/{register}"),
    ("POST /webhooks", "POST /api/v1/webhooks"),
    ("POST /webhooks/{id}", "PUT /api/v1/webhooks/{id}"),
    (
        "POST /webhooks/{id}/deliveries/{delivery}/redeliver",
        "POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
    ),
];

#[test]
fn every_page_action_has_its_api_twin() {
    let routes: Vec<String> = gridsafe_web::route_table().into_iter().map(|(m, p)| format!("{m} {p}")).collect();
    let served: BTreeSet<&str> = routes.iter().map(String::as_str).collect();
    let page_actions: BTreeSet<&str> = routes
        .iter()
        .map(String::as_str)
        .filter(|r| !r.starts_with("GET ") && !r.contains(" /api/") && !r.contains(" /static"))
        .collect();
    let decided: BTreeSet<&str> = BROWSER_ONLY.iter().chain(TWINS.iter().map(|(page, _)| page)).copied().collect();
    let undecided: Vec<&&str> = page_actions.difference(&decided).collect();
    assert!(undecided.is_empty(), "page actions with no API twin: {undecided:?}");
    let gone: Vec<&&str> = decided.difference(&page_actions).collect();
    assert!(gone.is_empty(), "listed here but no longer a page action: {gone:?}");
    let unserved: Vec<&str> = TWINS.iter().map(|(_, api)| *api).filter(|api| !served.contains(api)).collect();
    assert!(unserved.is_empty(), "twins the API does not serve: {unserved:?}");
    assert_eq!(TWINS.len(), page_actions.len() - BROWSER_ONLY.len(), "each page action twinned once");
}
