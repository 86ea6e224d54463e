//! The access-control matrix: every route × every role × {own unit, other unit, anonymous,
//! API token}, with the expected status. A route added without a row here fails the test.
//! Every allowed or refused state change must add to the audit trail; a GET that succeeds
//! must not.

mod support;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use gridsafe_domain::access::Permission::{self, *};
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use support::{Fixture, ROLES, TestApp};

#[derive(Debug, Clone, Copy)]
enum Access {
    /// Anyone, signed in or not: this status.
    Public(u16),
    /// Any signed-in user: this status.
    SignedIn(u16),
    /// A browser session only (never an API token): this status.
    Session(u16),
    /// Holders of the permission: this status; others 403.
    Perm(Permission, u16),
    /// A session holding the permission: this status; anyone else 403.
    SessionPerm(Permission, u16),
    /// These roles get these statuses; everyone else signed in 403.
    Roles(&'static [(&'static str, u16)]),
    /// Administrators of accounts (users.manage or accounts.review): this status; others 403.
    Accounts(u16),
}

/// Who reads people (people.view) or is a contractor's own administrator.
const PEOPLE_READERS: &[(&str, u16)] = &[
    ("safety_auditor", 200),
    ("leader", 200),
    ("customer_manager", 200),
    ("inspector", 200),
    ("ticket_issuer", 200),
    ("work_leader", 200),
    ("work_permitter", 200),
    ("contractor_admin", 200),
];
/// As above, for a record of own staff: the contractor's administrator does not reach it.
const STAFF_READERS: &[(&str, u16)] = &[
    ("safety_auditor", 200),
    ("leader", 200),
    ("customer_manager", 200),
    ("inspector", 200),
    ("ticket_issuer", 200),
    ("work_leader", 200),
    ("work_permitter", 200),
];
const CONTRACTOR_READERS: &[(&str, u16)] =
    &[("safety_auditor", 200), ("leader", 200), ("ticket_issuer", 200), ("contractor_admin", 200)];

struct Row {
    method: &'static str,
    pattern: &'static str,
    access: Access,
    /// The concrete request, with placeholders (see `fill`).
    path: &'static str,
    body: &'static str,
    /// The same request on a record in another unit (expected 403 for the permission holder).
    other_unit: Option<(&'static str, &'static str)>,
}

const fn row(
    method: &'static str,
    pattern: &'static str,
    access: Access,
    path: &'static str,
    body: &'static str,
) -> Row {
    Row { method, pattern, access, path, body, other_unit: None }
}

const fn scoped(
    method: &'static str,
    pattern: &'static str,
    access: Access,
    path: &'static str,
    body: &'static str,
    other: (&'static str, &'static str),
) -> Row {
    Row { method, pattern, access, path, body, other_unit: Some(other) }
}

const PW_CHANGE: &str = "current=Gs-Test-2026%21&new=Gs-Renew-{n}x&confirm=Gs-Renew-{n}x";

const TICKET_FORM_A1: &str = "type_code=low_voltage&unit_id={unit_a1}&work_kind=meter_install&location=L{n}&content=C&planned_start=2026-11-26T09%3A00&planned_end=2026-11-26T17%3A00";
const TICKET_FORM_B: &str = "type_code=low_voltage&unit_id={unit_b}&work_kind=meter_install&location=L{n}&content=C&planned_start=2026-11-26T09%3A00&planned_end=2026-11-26T17%3A00";
const TICKET_JSON_A1: &str = r#"{"type_code":"low_voltage","unit_id":{unit_a1},"work_kind":"meter_install","location":"L{n}","content":"C","planned_start":"2026-11-26 09:00","planned_end":"2026-11-26 17:00"}"#;
const TICKET_JSON_B: &str = r#"{"type_code":"low_voltage","unit_id":{unit_b},"work_kind":"meter_install","location":"L{n}","content":"C","planned_start":"2026-11-26 09:00","planned_end":"2026-11-26 17:00"}"#;

/// Every item of the general on-site checklist, passed.
const CHECK_JSON: &str = r#"{"template":"general","answers":[{"position":1,"result":"pass"},{"position":2,"result":"pass"},{"position":3,"result":"pass"},{"position":4,"result":"pass"},{"position":5,"result":"pass"},{"position":6,"result":"pass"},{"position":7,"result":"pass"},{"position":8,"result":"pass"},{"position":9,"result":"pass"},{"position":10,"result":"pass"}]}"#;

const ROWS: &[Row] = &[
    // Pages.
    row("GET", "/", Access::SignedIn(200), "/", ""),
    row("GET", "/login", Access::Public(200), "/login", ""),
    row("POST", "/login", Access::Public(303), "/login", "username=plain_a1&password=Gs-Test-2026%21"),
    row("POST", "/logout", Access::Session(303), "/logout", ""),
    row("POST", "/lang", Access::Public(303), "/lang", "lang=en&back=/"),
    row("GET", "/account/password", Access::Session(200), "/account/password", ""),
    row("POST", "/account/password", Access::Session(303), "/account/password", PW_CHANGE),
    row("GET", "/account/tokens", Access::Session(200), "/account/tokens", ""),
    row(
        "POST",
        "/account/tokens",
        Access::SessionPerm(UsersView, 200),
        "/account/tokens",
        "name=t{n}&valid_days=30&permission=users.view",
    ),
    row("POST", "/account/tokens/{id}/revoke", Access::Session(303), "/account/tokens/{own_token}/revoke", ""),
    row("GET", "/admin/units", Access::Perm(UnitsManage, 200), "/admin/units", ""),
    scoped(
        "POST",
        "/admin/units",
        Access::Perm(UnitsManage, 303),
        "/admin/units",
        "code=U{n}&name=N{n}&kind=team&parent_id={unit_a1}",
        ("/admin/units", "code=V{n}&name=N{n}&kind=team&parent_id={unit_b}"),
    ),
    scoped(
        "POST",
        "/admin/units/{id}",
        Access::Perm(UnitsManage, 303),
        "/admin/units/{unit_a1}",
        "name=R{n}",
        ("/admin/units/{unit_b}", "name=R{n}"),
    ),
    scoped(
        "PUT",
        "/api/v1/units/{id}",
        Access::Perm(UnitsManage, 204),
        "/api/v1/units/{unit_a1}",
        r#"{"name":"S{n}"}"#,
        ("/api/v1/units/{unit_b}", r#"{"name":"S{n}"}"#),
    ),
    row(
        "PUT",
        "/api/v1/roles/{code}",
        Access::Perm(RolesManage, 204),
        "/api/v1/roles/leader",
        r#"{"permissions":["people.view","contractors.view","tickets.view","findings.view","customers.view","hazards.approve","plans.view","plans.approve","outages.view","outages.approve","supervision.attend","violations.view","violations.record","projects.view","emergency.view","faults.view","quality.view"]}"#,
    ),
    row("GET", "/admin/users", Access::Perm(UsersView, 200), "/admin/users", ""),
    scoped(
        "POST",
        "/admin/users",
        Access::Perm(UsersManage, 200),
        "/admin/users",
        "username=n{n}&display_name=N&unit_id={unit_a1}",
        ("/admin/users", "username=m{n}&display_name=N&unit_id={unit_b}"),
    ),
    scoped(
        "GET",
        "/admin/users/{id}",
        Access::Perm(UsersView, 200),
        "/admin/users/{plain_a1}",
        "",
        ("/admin/users/{plain_b}", ""),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/roles",
        Access::Accounts(303),
        "/admin/users/{plain_a1}/roles",
        "role={grant_role}&unit_id={unit_a1}",
        ("/admin/users/{plain_b}/roles", "role=leader&unit_id={unit_b}"),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/roles/revoke",
        Access::Accounts(303),
        "/admin/users/{plain_a1}/roles/revoke",
        "role={revoke_role}&unit_id={unit_a1}",
        ("/admin/users/{plain_b}/roles/revoke", "role=leader&unit_id={unit_b}"),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/disable",
        Access::Accounts(303),
        "/admin/users/{target_a1}/disable",
        "reason=test",
        ("/admin/users/{plain_b}/disable", "reason=test"),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/enable",
        Access::Accounts(303),
        "/admin/users/{target_a1}/enable",
        "",
        ("/admin/users/{plain_b}/enable", ""),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/reset-password",
        Access::Accounts(200),
        "/admin/users/{target_a1}/reset-password",
        "",
        ("/admin/users/{plain_b}/reset-password", ""),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/reset-password",
        Access::Accounts(200),
        "/api/v1/users/{target_a1}/reset-password",
        "",
        ("/api/v1/users/{plain_b}/reset-password", ""),
    ),
    scoped(
        "POST",
        "/admin/users/{id}/person",
        Access::Accounts(303),
        "/admin/users/{fresh_user_a1}/person",
        "person_code={fresh_person_a1}",
        ("/admin/users/{plain_b}/person", "person_code="),
    ),
    row("GET", "/admin/roles", Access::Perm(RolesManage, 200), "/admin/roles", ""),
    row(
        "POST",
        "/admin/roles/{code}",
        Access::Perm(RolesManage, 303),
        "/admin/roles/leader",
        "permission=people.view&permission=contractors.view&permission=tickets.view&permission=findings.view&permission=customers.view&permission=hazards.approve&permission=plans.view&permission=plans.approve&permission=outages.view&permission=outages.approve&permission=supervision.attend&permission=violations.view&permission=violations.record&permission=projects.view&permission=emergency.view&permission=faults.view&permission=quality.view",
    ),
    row("GET", "/security/accounts", Access::Perm(AccountsReview, 200), "/security/accounts", ""),
    scoped(
        "POST",
        "/security/accounts/{id}/review",
        Access::Perm(AccountsReview, 303),
        "/security/accounts/{plain_a1}/review",
        "note=ok",
        ("/security/accounts/{plain_b}/review", "note=ok"),
    ),
    scoped(
        "POST",
        "/security/accounts/{id}/unlock",
        Access::Perm(AccountsReview, 303),
        "/security/accounts/{plain_a1}/unlock",
        "",
        ("/security/accounts/{plain_b}/unlock", ""),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/review",
        Access::Perm(AccountsReview, 204),
        "/api/v1/users/{plain_a1}/review",
        r#"{"note":"ok"}"#,
        ("/api/v1/users/{plain_b}/review", r#"{"note":"ok"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/unlock",
        Access::Perm(AccountsReview, 204),
        "/api/v1/users/{plain_a1}/unlock",
        "",
        ("/api/v1/users/{plain_b}/unlock", ""),
    ),
    row("GET", "/audit", Access::Perm(AuditRead, 200), "/audit", ""),
    row("GET", "/audit.xlsx", Access::Perm(AuditRead, 200), "/audit.xlsx", ""),
    row("GET", "/audit/verify", Access::Perm(AuditRead, 200), "/audit/verify", ""),
    row("GET", "/static/{version}/{name}", Access::Public(200), "{css}", ""),
    row("GET", "/favicon.ico", Access::Public(308), "/favicon.ico", ""),
    // API.
    row("GET", "/healthz", Access::Public(200), "/healthz", ""),
    row("GET", "/readyz", Access::Public(200), "/readyz", ""),
    row("GET", "/api/v1/openapi.json", Access::Public(200), "/api/v1/openapi.json", ""),
    row("GET", "/help/api", Access::SignedIn(200), "/help/api", ""),
    row("GET", "/api/v1/meta", Access::Public(200), "/api/v1/meta", ""),
    row("GET", "/api/v1/me", Access::SignedIn(200), "/api/v1/me", ""),
    row("GET", "/api/v1/units", Access::Perm(UnitsManage, 200), "/api/v1/units", ""),
    scoped(
        "POST",
        "/api/v1/units",
        Access::Perm(UnitsManage, 201),
        "/api/v1/units",
        r#"{"code":"A{n}","name":"n","kind":"team","parent_id":{unit_a1}}"#,
        ("/api/v1/units", r#"{"code":"B{n}","name":"n","kind":"team","parent_id":{unit_b}}"#),
    ),
    row("GET", "/api/v1/users", Access::Perm(UsersView, 200), "/api/v1/users", ""),
    scoped(
        "POST",
        "/api/v1/users",
        Access::Perm(UsersManage, 201),
        "/api/v1/users",
        r#"{"username":"a{n}","display_name":"n","unit_id":{unit_a1}}"#,
        ("/api/v1/users", r#"{"username":"b{n}","display_name":"n","unit_id":{unit_b}}"#),
    ),
    scoped(
        "GET",
        "/api/v1/users/{id}",
        Access::Perm(UsersView, 200),
        "/api/v1/users/{plain_a1}",
        "",
        ("/api/v1/users/{plain_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/roles/revoke",
        Access::Accounts(204),
        "/api/v1/users/{plain_a1}/roles/revoke",
        r#"{"role":"{revoke_role}","unit_id":{unit_a1}}"#,
        ("/api/v1/users/{plain_b}/roles/revoke", r#"{"role":"leader","unit_id":{unit_b}}"#),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/disable",
        Access::Accounts(204),
        "/api/v1/users/{target_a1}/disable",
        r#"{"reason":"test"}"#,
        ("/api/v1/users/{plain_b}/disable", r#"{"reason":"test"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/enable",
        Access::Accounts(204),
        "/api/v1/users/{target_a1}/enable",
        "",
        ("/api/v1/users/{plain_b}/enable", ""),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/roles",
        Access::Accounts(204),
        "/api/v1/users/{plain_a1}/roles",
        r#"{"role":"{grant_role}","unit_id":{unit_a}}"#,
        ("/api/v1/users/{plain_b}/roles", r#"{"role":"leader","unit_id":{unit_b}}"#),
    ),
    scoped(
        "POST",
        "/api/v1/users/{id}/person",
        Access::Accounts(204),
        "/api/v1/users/{fresh_user_a1}/person",
        r#"{"person_code":"{fresh_person_a1}"}"#,
        ("/api/v1/users/{plain_b}/person", r#"{"person_code":null}"#),
    ),
    row("GET", "/api/v1/tokens", Access::Session(200), "/api/v1/tokens", ""),
    row(
        "POST",
        "/api/v1/tokens",
        Access::SessionPerm(UsersView, 201),
        "/api/v1/tokens",
        r#"{"name":"t{n}","permissions":["users.view"],"valid_days":30}"#,
    ),
    row("DELETE", "/api/v1/tokens/{id}", Access::Session(204), "/api/v1/tokens/{own_token}", ""),
    row("GET", "/api/v1/audit/events", Access::Perm(AuditRead, 200), "/api/v1/audit/events", ""),
    row("GET", "/api/v1/audit/verify", Access::Perm(AuditRead, 200), "/api/v1/audit/verify", ""),
    // People and contractors.
    row("GET", "/people", Access::Roles(PEOPLE_READERS), "/people", ""),
    scoped(
        "POST",
        "/people",
        Access::Roles(&[("safety_auditor", 303), ("contractor_admin", 303)]),
        "/people",
        "code=N{n}&name=N&unit_id={unit_a1}&active=1",
        ("/people", "code=M{n}&name=N&unit_id={unit_b}&active=1"),
    ),
    row("GET", "/people/export.xlsx", Access::Roles(PEOPLE_READERS), "/people/export.xlsx", ""),
    row("GET", "/people/expiring", Access::Roles(PEOPLE_READERS), "/people/expiring", ""),
    row("GET", "/people/pick", Access::Roles(PEOPLE_READERS), "/people/pick?q=zw&role=work_leader", ""),
    row("GET", "/people/expiring.xlsx", Access::Roles(PEOPLE_READERS), "/people/expiring.xlsx", ""),
    scoped("GET", "/people/{id}", Access::Roles(STAFF_READERS), "/people/{person_a1}", "", ("/people/{person_b}", "")),
    scoped(
        "POST",
        "/people/{id}",
        Access::Roles(&[("safety_auditor", 303)]),
        "/people/{person_a1}",
        "code=S001&name=R{n}&unit_id={unit_a1}&active=1",
        ("/people/{person_b}", "code=S002&name=R{n}&unit_id={unit_b}&active=1"),
    ),
    scoped(
        "POST",
        "/people/{id}/qualifications",
        Access::Roles(&[("safety_auditor", 303)]),
        "/people/{person_a1}/qualifications",
        "kind=safety_exam&valid_from=2026-01-01&valid_to=2026-12-31&passed=1",
        ("/people/{person_b}/qualifications", "kind=safety_exam&valid_from=2026-01-01&valid_to=2026-12-31&passed=1"),
    ),
    scoped(
        "POST",
        "/people/{id}/qualifications/{qid}/confirm",
        Access::Roles(&[("safety_auditor", 303)]),
        "/people/{person_a1}/qualifications/{draft_qual_a1}/confirm",
        "",
        ("/people/{person_b}/qualifications/{draft_qual_b}/confirm", ""),
    ),
    scoped(
        "POST",
        "/people/{id}/qualifications/{qid}/delete",
        Access::Roles(&[("safety_auditor", 303)]),
        "/people/{person_a1}/qualifications/{qual_a1}/delete",
        "reason=r",
        ("/people/{person_b}/qualifications/{qual_b}/delete", "reason=r"),
    ),
    scoped(
        "PUT",
        "/api/v1/people/{id}",
        Access::Roles(&[("safety_auditor", 200)]),
        "/api/v1/people/{person_a1}",
        r#"{"code":"S001","name":"R{n}","unit_id":{unit_a1},"active":true}"#,
        ("/api/v1/people/{person_b}", r#"{"code":"S002","name":"R{n}","unit_id":{unit_b},"active":true}"#),
    ),
    scoped(
        "POST",
        "/api/v1/people/{id}/qualifications/{qid}/remove",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/people/{person_a1}/qualifications/{qual_a1}/remove",
        r#"{"reason":"r"}"#,
        ("/api/v1/people/{person_b}/qualifications/{qual_b}/remove", r#"{"reason":"r"}"#),
    ),
    row("GET", "/people/import", Access::Roles(&[("safety_auditor", 200)]), "/people/import", ""),
    row("POST", "/people/import", Access::Roles(&[("safety_auditor", 200)]), "/people/import", "MULTIPART"),
    row(
        "POST",
        "/people/import/{token}",
        Access::Roles(&[("safety_auditor", 200)]),
        "/people/import/{own_upload}",
        "contractor_unit={unit_a}",
    ),
    row(
        "POST",
        "/api/v1/people/import",
        Access::Roles(&[("safety_auditor", 200)]),
        "/api/v1/people/import",
        "MULTIPART",
    ),
    row(
        "POST",
        "/api/v1/people/import/{token}",
        Access::Roles(&[("safety_auditor", 200)]),
        "/api/v1/people/import/{own_upload}",
        r#"{"contractor_unit":{unit_a}}"#,
    ),
    row("GET", "/contractors", Access::Roles(CONTRACTOR_READERS), "/contractors", ""),
    scoped(
        "POST",
        "/contractors",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors",
        "code=K{n}&name=N&unit_id={unit_a}",
        ("/contractors", "code=L{n}&name=N&unit_id={unit_b}"),
    ),
    scoped(
        "POST",
        "/api/v1/contractors",
        Access::Roles(&[("safety_auditor", 201)]),
        "/api/v1/contractors",
        r#"{"code":"M{n}","name":"N","unit_id":{unit_a}}"#,
        ("/api/v1/contractors", r#"{"code":"O{n}","name":"N","unit_id":{unit_b}}"#),
    ),
    scoped(
        "PUT",
        "/api/v1/contractors/{id}",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/contractors/{contractor_a}",
        r#"{"code":"CA","name":"R{n}","unit_id":{unit_a},"license_level":4,"license_valid_to":"2030-12-31"}"#,
        ("/api/v1/contractors/{contractor_b}", r#"{"code":"CB","name":"R{n}","unit_id":{unit_b}}"#),
    ),
    row("GET", "/contractors/export.xlsx", Access::Roles(CONTRACTOR_READERS), "/contractors/export.xlsx", ""),
    scoped(
        "GET",
        "/contractors/{id}",
        Access::Roles(CONTRACTOR_READERS),
        "/contractors/{contractor_a}",
        "",
        ("/contractors/{contractor_b}", ""),
    ),
    scoped(
        "POST",
        "/contractors/{id}",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors/{contractor_a}",
        "code=CA&name=R{n}&unit_id={unit_a}&license_level=4&license_valid_to=2030-12-31",
        ("/contractors/{contractor_b}", "code=CB&name=R{n}&unit_id={unit_b}"),
    ),
    scoped(
        "POST",
        "/contractors/{id}/agreements",
        Access::Roles(&[("safety_auditor", 303), ("contractor_admin", 303)]),
        "/contractors/{contractor_a}/agreements",
        "code=AG{n}&valid_from=2026-01-01&valid_to=2026-12-31",
        ("/contractors/{contractor_b}/agreements", "code=AH{n}&valid_from=2026-01-01&valid_to=2026-12-31"),
    ),
    scoped(
        "POST",
        "/contractors/{id}/agreements/{agreement}/confirm",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors/{contractor_a}/agreements/{draft_agreement_a}/confirm",
        "",
        ("/contractors/{contractor_b}/agreements/{draft_agreement_b}/confirm", ""),
    ),
    scoped(
        "POST",
        "/contractors/{id}/ratings",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors/{contractor_a}/ratings",
        "project=P{n}&rating=good",
        ("/contractors/{contractor_b}/ratings", "project=P{n}&rating=good"),
    ),
    scoped(
        "POST",
        "/contractors/{id}/blacklist",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors/{contractor_a}/blacklist",
        "on=2026-11-26&reason=test",
        ("/contractors/{contractor_b}/blacklist", "on=2026-11-26&reason=test"),
    ),
    scoped(
        "POST",
        "/contractors/{id}/unblacklist",
        Access::Roles(&[("safety_auditor", 303)]),
        "/contractors/{contractor_a}/unblacklist",
        "",
        ("/contractors/{contractor_b}/unblacklist", ""),
    ),
    scoped(
        "POST",
        "/api/v1/contractors/{id}/ratings",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/contractors/{contractor_a}/ratings",
        r#"{"project":"Q{n}","rating":"good"}"#,
        ("/api/v1/contractors/{contractor_b}/ratings", r#"{"project":"Q{n}","rating":"good"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/contractors/{id}/blacklist",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/contractors/{contractor_a}/blacklist",
        r#"{"on":"2026-11-26","reason":"test"}"#,
        ("/api/v1/contractors/{contractor_b}/blacklist", r#"{"on":"2026-11-26","reason":"test"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/contractors/{id}/unblacklist",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/contractors/{contractor_a}/unblacklist",
        "",
        ("/api/v1/contractors/{contractor_b}/unblacklist", ""),
    ),
    row("GET", "/api/v1/people", Access::Roles(PEOPLE_READERS), "/api/v1/people", ""),
    scoped(
        "POST",
        "/api/v1/people",
        Access::Roles(&[("safety_auditor", 201), ("contractor_admin", 201)]),
        "/api/v1/people",
        r#"{"code":"J{n}","name":"n","unit_id":{unit_a1}}"#,
        ("/api/v1/people", r#"{"code":"K{n}","name":"n","unit_id":{unit_b}}"#),
    ),
    scoped(
        "GET",
        "/api/v1/people/{id}",
        Access::Roles(STAFF_READERS),
        "/api/v1/people/{person_a1}",
        "",
        ("/api/v1/people/{person_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/people/{id}/qualifications",
        Access::Roles(&[("safety_auditor", 201)]),
        "/api/v1/people/{person_a1}/qualifications",
        r#"{"kind":"work_leader","valid_from":"2026-01-01","valid_to":"2026-12-31"}"#,
        (
            "/api/v1/people/{person_b}/qualifications",
            r#"{"kind":"work_leader","valid_from":"2026-01-01","valid_to":"2026-12-31"}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/people/{id}/qualifications/{qid}/confirm",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/people/{person_a1}/qualifications/{draft_qual_a1}/confirm",
        "",
        ("/api/v1/people/{person_b}/qualifications/{draft_qual_b}/confirm", ""),
    ),
    scoped(
        "GET",
        "/api/v1/people/{id}/may-act",
        Access::Roles(STAFF_READERS),
        "/api/v1/people/{person_a1}/may-act?role=crew_member",
        "",
        ("/api/v1/people/{person_b}/may-act?role=crew_member", ""),
    ),
    row("GET", "/api/v1/expiring", Access::Roles(PEOPLE_READERS), "/api/v1/expiring", ""),
    row("GET", "/api/v1/contractors", Access::Roles(CONTRACTOR_READERS), "/api/v1/contractors", ""),
    scoped(
        "POST",
        "/api/v1/contractors/{id}/agreements",
        Access::Roles(&[("safety_auditor", 201), ("contractor_admin", 201)]),
        "/api/v1/contractors/{contractor_a}/agreements",
        r#"{"code":"AJ{n}","valid_from":"2026-01-01","valid_to":"2026-12-31"}"#,
        (
            "/api/v1/contractors/{contractor_b}/agreements",
            r#"{"code":"AK{n}","valid_from":"2026-01-01","valid_to":"2026-12-31"}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/contractors/{id}/agreements/{agreement}/confirm",
        Access::Roles(&[("safety_auditor", 204)]),
        "/api/v1/contractors/{contractor_a}/agreements/{draft_agreement_a}/confirm",
        "",
        ("/api/v1/contractors/{contractor_b}/agreements/{draft_agreement_b}/confirm", ""),
    ),
    // Work tickets. Steps are refused to permission holders whose account has no person on
    // the ticket (409, audited); evaluation of a draft is refused by its rule (409).
    row("GET", "/tickets", Access::Perm(TicketsView, 200), "/tickets", ""),
    scoped(
        "POST",
        "/tickets",
        Access::Perm(TicketsWrite, 303),
        "/tickets",
        TICKET_FORM_A1,
        ("/tickets", TICKET_FORM_B),
    ),
    row("GET", "/tickets/new", Access::Perm(TicketsWrite, 200), "/tickets/new", ""),
    row("GET", "/tickets/evaluation", Access::Perm(TicketsView, 200), "/tickets/evaluation", ""),
    row(
        "GET",
        "/tickets/evaluation.xlsx",
        Access::Perm(TicketsView, 200),
        "/tickets/evaluation.xlsx?month=2026-11",
        "",
    ),
    scoped(
        "GET",
        "/tickets/{id}",
        Access::Perm(TicketsView, 200),
        "/tickets/{ticket_a1}",
        "",
        ("/tickets/{ticket_b}", ""),
    ),
    scoped(
        "POST",
        "/tickets/{id}",
        Access::Perm(TicketsWrite, 303),
        "/tickets/{ticket_a1}",
        TICKET_FORM_A1,
        ("/tickets/{ticket_b}", TICKET_FORM_B),
    ),
    scoped(
        "GET",
        "/tickets/{id}/print",
        Access::Perm(TicketsView, 200),
        "/tickets/{ticket_a1}/print",
        "",
        ("/tickets/{ticket_b}/print", ""),
    ),
    scoped(
        "POST",
        "/tickets/{id}/hazards",
        Access::Perm(TicketsWrite, 303),
        "/tickets/{ticket_a1}/hazards",
        "hazard=H{n}&measure=M",
        ("/tickets/{ticket_b}/hazards", "hazard=H{n}&measure=M"),
    ),
    scoped(
        "POST",
        "/tickets/{id}/hazards/{hid}/delete",
        Access::Perm(TicketsWrite, 303),
        "/tickets/{ticket_a1}/hazards/{hazard_a1}/delete",
        "reason=r",
        ("/tickets/{ticket_b}/hazards/{hazard_b}/delete", "reason=r"),
    ),
    scoped(
        "POST",
        "/tickets/{id}/survey",
        Access::Perm(TicketsWrite, 303),
        "/tickets/{ticket_a1}/survey",
        "survey=S{n}",
        ("/tickets/{ticket_b}/survey", "survey=S{n}"),
    ),
    // The ticket names no plan item and no reason: reached, and refused by the rule.
    scoped(
        "POST",
        "/tickets/{id}/unplanned-approval",
        Access::Perm(PlansApprove, 409),
        "/tickets/{ticket_a1}/unplanned-approval",
        "",
        ("/tickets/{ticket_b}/unplanned-approval", ""),
    ),
    scoped(
        "POST",
        "/tickets/{id}/steps",
        Access::Perm(TicketsSign, 409),
        "/tickets/{ticket_a1}/steps",
        "step=issue",
        ("/tickets/{ticket_b}/steps", "step=issue"),
    ),
    scoped(
        "POST",
        "/tickets/{id}/evaluation",
        Access::Perm(TicketsEvaluate, 409),
        "/tickets/{ticket_a1}/evaluation",
        "verdict=pass&confirm=1",
        ("/tickets/{ticket_b}/evaluation", "verdict=pass&confirm=1"),
    ),
    row("GET", "/tickets/catalogue", Access::Perm(TicketsView, 200), "/tickets/catalogue", ""),
    row(
        "POST",
        "/tickets/catalogue/types",
        Access::Perm(TicketsConfigure, 303),
        "/tickets/catalogue/types",
        "code=t{n}&name=N&prefix=T{n}",
    ),
    row(
        "POST",
        "/tickets/catalogue/types/{code}",
        Access::Perm(TicketsConfigure, 303),
        "/tickets/catalogue/types/low_voltage",
        "name=%E4%BD%8E%E5%8E%8B%E5%B7%A5%E4%BD%9C%E7%A5%A8&prefix=DY&covers=meter_install&covers=meter_replacement&min_people=2&extendable=1&active=1",
    ),
    row(
        "POST",
        "/tickets/catalogue/templates",
        Access::Perm(TicketsConfigure, 303),
        "/tickets/catalogue/templates",
        "work_kind=meter_install&hazard=H{n}&measure=M",
    ),
    row(
        "POST",
        "/tickets/catalogue/templates/{id}/delete",
        Access::Perm(TicketsConfigure, 303),
        "/tickets/catalogue/templates/{template}/delete",
        "",
    ),
    row(
        "POST",
        "/tickets/catalogue/reasons",
        Access::Perm(TicketsConfigure, 303),
        "/tickets/catalogue/reasons",
        "code=X{n}&text=T&active=1",
    ),
    row(
        "POST",
        "/api/v1/tickets/catalogue/types",
        Access::Perm(TicketsConfigure, 204),
        "/api/v1/tickets/catalogue/types",
        r#"{"code":"u{n}","name":"N","prefix":"U{n}"}"#,
    ),
    row(
        "PUT",
        "/api/v1/tickets/catalogue/types/{code}",
        Access::Perm(TicketsConfigure, 204),
        "/api/v1/tickets/catalogue/types/low_voltage",
        r#"{"name":"低压工作票","prefix":"DY","covers":["meter_install","meter_replacement"],"extendable":true,"needs_survey":false,"live_work":false,"min_people":2,"active":true}"#,
    ),
    row(
        "POST",
        "/api/v1/tickets/catalogue/templates",
        Access::Perm(TicketsConfigure, 204),
        "/api/v1/tickets/catalogue/templates",
        r#"{"work_kind":"meter_install","hazard":"G{n}","measure":"M"}"#,
    ),
    row(
        "DELETE",
        "/api/v1/tickets/catalogue/templates/{id}",
        Access::Perm(TicketsConfigure, 204),
        "/api/v1/tickets/catalogue/templates/{template}",
        "",
    ),
    row(
        "POST",
        "/api/v1/tickets/catalogue/reasons",
        Access::Perm(TicketsConfigure, 204),
        "/api/v1/tickets/catalogue/reasons",
        r#"{"code":"Y{n}","text":"T","active":true}"#,
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/hazards/{hid}/remove",
        Access::Perm(TicketsWrite, 204),
        "/api/v1/tickets/{ticket_a1}/hazards/{hazard_a1}/remove",
        r#"{"reason":"r"}"#,
        ("/api/v1/tickets/{ticket_b}/hazards/{hazard_b}/remove", r#"{"reason":"r"}"#),
    ),
    row("GET", "/api/v1/ticket-types", Access::Perm(TicketsView, 200), "/api/v1/ticket-types", ""),
    row("GET", "/api/v1/ticket-stats", Access::Perm(TicketsView, 200), "/api/v1/ticket-stats?month=2026-11", ""),
    row("GET", "/api/v1/tickets", Access::Perm(TicketsView, 200), "/api/v1/tickets", ""),
    scoped(
        "POST",
        "/api/v1/tickets",
        Access::Perm(TicketsWrite, 201),
        "/api/v1/tickets",
        TICKET_JSON_A1,
        ("/api/v1/tickets", TICKET_JSON_B),
    ),
    scoped(
        "GET",
        "/api/v1/tickets/{id}",
        Access::Perm(TicketsView, 200),
        "/api/v1/tickets/{ticket_a1}",
        "",
        ("/api/v1/tickets/{ticket_b}", ""),
    ),
    scoped(
        "PUT",
        "/api/v1/tickets/{id}",
        Access::Perm(TicketsWrite, 200),
        "/api/v1/tickets/{ticket_a1}",
        TICKET_JSON_A1,
        ("/api/v1/tickets/{ticket_b}", TICKET_JSON_B),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/steps",
        Access::Perm(TicketsSign, 409),
        "/api/v1/tickets/{ticket_a1}/steps",
        r#"{"step":"issue"}"#,
        ("/api/v1/tickets/{ticket_b}/steps", r#"{"step":"issue"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/hazards",
        Access::Perm(TicketsWrite, 201),
        "/api/v1/tickets/{ticket_a1}/hazards",
        r#"{"hazard":"H{n}","measure":"M"}"#,
        ("/api/v1/tickets/{ticket_b}/hazards", r#"{"hazard":"H{n}","measure":"M"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/survey",
        Access::Perm(TicketsWrite, 200),
        "/api/v1/tickets/{ticket_a1}/survey",
        r#"{"survey":"S{n}"}"#,
        ("/api/v1/tickets/{ticket_b}/survey", r#"{"survey":"S{n}"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/unplanned-approval",
        Access::Perm(PlansApprove, 409),
        "/api/v1/tickets/{ticket_a1}/unplanned-approval",
        "",
        ("/api/v1/tickets/{ticket_b}/unplanned-approval", ""),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/evaluation",
        Access::Perm(TicketsEvaluate, 409),
        "/api/v1/tickets/{ticket_a1}/evaluation",
        r#"{"verdict":"pass"}"#,
        ("/api/v1/tickets/{ticket_b}/evaluation", r#"{"verdict":"pass"}"#),
    ),
    // Work plans: the step row last (it approves the plan the item rows change).
    row("GET", "/api/v1/plans", Access::Perm(PlansView, 200), "/api/v1/plans", ""),
    scoped(
        "POST",
        "/api/v1/plans",
        Access::Perm(PlansWrite, 201),
        "/api/v1/plans",
        r#"{"unit_id":{unit_a1},"kind":"daily","first_day":"{day_n}"}"#,
        ("/api/v1/plans", r#"{"unit_id":{unit_b},"kind":"daily","first_day":"{day_n}"}"#),
    ),
    scoped(
        "GET",
        "/api/v1/plans/{id}",
        Access::Perm(PlansView, 200),
        "/api/v1/plans/{plan_a1}",
        "",
        ("/api/v1/plans/{plan_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/plans/{id}/items",
        Access::Perm(PlansWrite, 201),
        "/api/v1/plans/{plan_a1}/items",
        r#"{"start":"2026-12-02 13:00","end":"2026-12-02 15:00","site":"C","work_kind":"meter_install","team_id":{unit_a1}}"#,
        (
            "/api/v1/plans/{plan_b}/items",
            r#"{"start":"2026-12-02 13:00","end":"2026-12-02 15:00","site":"C","work_kind":"meter_install","team_id":{unit_b}}"#,
        ),
    ),
    scoped(
        "DELETE",
        "/api/v1/plans/{id}/items/{item}",
        Access::Perm(PlansWrite, 404),
        "/api/v1/plans/{plan_a1}/items/999999",
        "",
        ("/api/v1/plans/{plan_b}/items/{plan_item_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/plans/{id}/merges",
        Access::Perm(PlansWrite, 422),
        "/api/v1/plans/{plan_a1}/merges",
        r#"{"day":"2026-12-01","site":"B","organiser":"S001","measures":"m"}"#,
        ("/api/v1/plans/{plan_b}/merges", r#"{"day":"2026-12-01","site":"B","organiser":"S001","measures":"m"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/plans/{id}/steps",
        Access::Perm(PlansApprove, 409),
        "/api/v1/plans/{plan_a1}/steps",
        r#"{"step":"return","reason":"r"}"#,
        ("/api/v1/plans/{plan_b}/steps", r#"{"step":"return","reason":"r"}"#),
    ),
    scoped(
        "GET",
        "/plans/{id}/print",
        Access::Perm(PlansView, 200),
        "/plans/{plan_a1}/print",
        "",
        ("/plans/{plan_b}/print", ""),
    ),
    scoped(
        "GET",
        "/plans/{id}/export.xlsx",
        Access::Perm(PlansView, 200),
        "/plans/{plan_a1}/export.xlsx",
        "",
        ("/plans/{plan_b}/export.xlsx", ""),
    ),
    row("GET", "/plans/week", Access::Perm(PlansView, 200), "/plans/week?day=2026-11-26", ""),
    row("GET", "/plans", Access::Perm(PlansView, 200), "/plans", ""),
    row("POST", "/plans", Access::Perm(PlansWrite, 303), "/plans", "unit_id={unit_a1}&kind=daily&first_day=2026-12-02"),
    scoped("GET", "/plans/{id}", Access::Perm(PlansView, 200), "/plans/{plan_a1}", "", ("/plans/{plan_b}", "")),
    scoped(
        "POST",
        "/plans/{id}/items",
        Access::Perm(PlansWrite, 303),
        "/plans/{plan_a1}/items",
        "start=2026-12-01T13:00&end=2026-12-01T15:00&site=B&work_kind=meter_install&team_id={unit_a1}",
        (
            "/plans/{plan_b}/items",
            "start=2026-12-01T13:00&end=2026-12-01T15:00&site=B&work_kind=meter_install&team_id={unit_b}",
        ),
    ),
    scoped(
        "POST",
        "/plans/{id}/import",
        Access::Perm(PlansWrite, 422),
        "/plans/{plan_a1}/import",
        "MULTIPART",
        ("/plans/{plan_b}/import", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/api/v1/plans/{id}/import",
        Access::Perm(PlansWrite, 422),
        "/api/v1/plans/{plan_a1}/import",
        "MULTIPART",
        ("/api/v1/plans/{plan_b}/import", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/plans/{id}/items/{item}/remove",
        Access::Perm(PlansWrite, 303),
        "/plans/{plan_a1}/items/{plan_item_a1}/remove",
        "",
        ("/plans/{plan_b}/items/{plan_item_b}/remove", ""),
    ),
    scoped(
        "POST",
        "/plans/{id}/merge",
        Access::Perm(PlansWrite, 422),
        "/plans/{plan_a1}/merge",
        "day=2026-12-01&site=B&organiser=S001&measures=m",
        ("/plans/{plan_b}/merge", "day=2026-12-01&site=B&organiser=S001&measures=m"),
    ),
    scoped(
        "POST",
        "/plans/{id}/steps",
        Access::Perm(PlansApprove, 303),
        "/plans/{plan_a1}/steps",
        "step=approve",
        ("/plans/{plan_b}/steps", "step=approve"),
    ),
    // Outages (停电申请) and restoration.
    row("GET", "/outages", Access::Perm(OutagesView, 200), "/outages", ""),
    row("GET", "/outages/new", Access::Perm(OutagesRequest, 200), "/outages/new", ""),
    row("GET", "/outages.xlsx", Access::Perm(OutagesView, 200), "/outages.xlsx?month=2026-11", ""),
    scoped(
        "POST",
        "/outages",
        Access::Perm(OutagesRequest, 422),
        "/outages",
        "unit_id={unit_a1}&kind=fault&equipment=E&start=2026-11-26T14:00&end=2026-11-26T16:00&reason=R&customers=NONE",
        (
            "/outages",
            "unit_id={unit_b}&kind=fault&equipment=E&start=2026-11-26T14:00&end=2026-11-26T16:00&reason=R&customers=NONE",
        ),
    ),
    scoped(
        "GET",
        "/outages/{id}",
        Access::Perm(OutagesView, 200),
        "/outages/{outage_a1}",
        "",
        ("/outages/{outage_b}", ""),
    ),
    scoped(
        "GET",
        "/outages/{id}/notice/{customer}",
        Access::Perm(OutagesView, 200),
        "/outages/{outage_a1}/notice/{outage_customer_a1}",
        "",
        ("/outages/{outage_b}/notice/{outage_customer_b}", ""),
    ),
    scoped(
        "POST",
        "/outages/{id}/notices",
        Access::Perm(OutagesRequest, 422),
        "/outages/{outage_a1}/notices",
        "MULTIPART",
        ("/outages/{outage_b}/notices", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/outages/{id}/steps",
        Access::Perm(OutagesApprove, 409),
        "/outages/{outage_a1}/steps",
        "step=approve",
        ("/outages/{outage_b}/steps", "step=approve"),
    ),
    row("GET", "/api/v1/outages", Access::Perm(OutagesView, 200), "/api/v1/outages?month=2026-11", ""),
    scoped(
        "POST",
        "/api/v1/outages",
        Access::Perm(OutagesRequest, 422),
        "/api/v1/outages",
        r#"{"unit_id":{unit_a1},"kind":"fault","equipment":"E","start":"2026-11-26 14:00","end":"2026-11-26 16:00","reason":"R","customers":["NONE"]}"#,
        (
            "/api/v1/outages",
            r#"{"unit_id":{unit_b},"kind":"fault","equipment":"E","start":"2026-11-26 14:00","end":"2026-11-26 16:00","reason":"R","customers":["NONE"]}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/outages/{id}",
        Access::Perm(OutagesView, 200),
        "/api/v1/outages/{outage_a1}",
        "",
        ("/api/v1/outages/{outage_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/outages/{id}/notices",
        Access::Perm(OutagesRequest, 200),
        "/api/v1/outages/{outage_a1}/notices",
        r#"{"customer_id":{outage_customer_a1},"purpose":"outage","channel":"phone"}"#,
        (
            "/api/v1/outages/{outage_b}/notices",
            r#"{"customer_id":{outage_customer_b},"purpose":"outage","channel":"phone"}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/outages/{id}/steps",
        Access::Perm(OutagesApprove, 409),
        "/api/v1/outages/{outage_a1}/steps",
        r#"{"step":"approve"}"#,
        ("/api/v1/outages/{outage_b}/steps", r#"{"step":"approve"}"#),
    ),
    // Customer projects (业扩报装).
    row("GET", "/projects", Access::Perm(ProjectsView, 200), "/projects", ""),
    row("GET", "/projects.xlsx", Access::Perm(ProjectsView, 200), "/projects.xlsx", ""),
    row("GET", "/projects/new", Access::Perm(ProjectsManage, 200), "/projects/new", ""),
    scoped(
        "POST",
        "/projects",
        Access::Perm(ProjectsManage, 422),
        "/projects",
        "account_no=NEW1&customer_name=N&address=A&unit_id={unit_a1}&kind=new&voltage_kv=10&capacity_kva=&manager=S001",
        (
            "/projects",
            "account_no=NEW2&customer_name=N&address=A&unit_id={unit_b}&kind=new&voltage_kv=10&capacity_kva=&manager=S001",
        ),
    ),
    row("GET", "/projects/import", Access::Perm(ProjectsManage, 200), "/projects/import", ""),
    row("POST", "/projects/import", Access::Perm(ProjectsManage, 422), "/projects/import", "MULTIPART"),
    row("POST", "/api/v1/projects/import", Access::Perm(ProjectsManage, 422), "/api/v1/projects/import", "MULTIPART"),
    row("GET", "/projects/dashboard", Access::Perm(ProjectsView, 200), "/projects/dashboard?month=2026-11", ""),
    row("GET", "/projects/calendar", Access::Perm(ProjectsView, 200), "/projects/calendar?year=2026", ""),
    row("POST", "/projects/calendar", Access::Perm(ProjectsConfigure, 422), "/projects/calendar", "MULTIPART"),
    row(
        "POST",
        "/api/v1/projects/calendar",
        Access::Perm(ProjectsConfigure, 422),
        "/api/v1/projects/calendar",
        "MULTIPART",
    ),
    row("GET", "/projects/limits", Access::Perm(ProjectsView, 200), "/projects/limits", ""),
    row("POST", "/projects/limits", Access::Perm(ProjectsConfigure, 422), "/projects/limits", "valid_from=x&origin="),
    row(
        "PUT",
        "/api/v1/projects/limits",
        Access::Perm(ProjectsConfigure, 422),
        "/api/v1/projects/limits",
        r#"{"valid_from":"x","origin":"","days":{}}"#,
    ),
    scoped(
        "GET",
        "/projects/{id}",
        Access::Perm(ProjectsView, 200),
        "/projects/{project_a1}",
        "",
        ("/projects/{project_b}", ""),
    ),
    scoped(
        "POST",
        "/projects/{id}/steps",
        Access::Perm(ProjectsManage, 422),
        "/projects/{project_a1}/steps",
        "MULTIPART",
        ("/projects/{project_b}/steps", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/projects/{id}/inspections",
        Access::Perm(ProjectsInspect, 409),
        "/projects/{project_a1}/inspections",
        "MULTIPART",
        ("/projects/{project_b}/inspections", "MULTIPART"),
    ),
    scoped(
        "GET",
        "/projects/{id}/notices/{inspection}",
        Access::Perm(ProjectsView, 200),
        "/projects/{project_a1}/notices/{project_notice_a1}",
        "",
        ("/projects/{project_b}/notices/{project_notice_b}", ""),
    ),
    scoped(
        "POST",
        "/projects/{id}/notices/{inspection}",
        Access::Perm(ProjectsManage, 422),
        "/projects/{project_a1}/notices/{project_notice_a1}",
        "signed_by=&confirm=1",
        ("/projects/{project_b}/notices/{project_notice_b}", "signed_by=&confirm=1"),
    ),
    row("GET", "/api/v1/projects", Access::Perm(ProjectsView, 200), "/api/v1/projects", ""),
    scoped(
        "POST",
        "/api/v1/projects",
        Access::Perm(ProjectsManage, 422),
        "/api/v1/projects",
        r#"{"account_no":"NEW3","customer_name":"N","address":"A","unit_id":{unit_a1},"kind":"new","voltage_kv":10,"capacity_kva":0,"manager":"S001"}"#,
        (
            "/api/v1/projects",
            r#"{"account_no":"NEW4","customer_name":"N","address":"A","unit_id":{unit_b},"kind":"new","voltage_kv":10,"capacity_kva":0,"manager":"S001"}"#,
        ),
    ),
    row(
        "GET",
        "/api/v1/projects/dashboard",
        Access::Perm(ProjectsView, 200),
        "/api/v1/projects/dashboard?month=2026-11",
        "",
    ),
    scoped(
        "GET",
        "/api/v1/projects/{id}",
        Access::Perm(ProjectsView, 200),
        "/api/v1/projects/{project_a1}",
        "",
        ("/api/v1/projects/{project_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/projects/{id}/steps",
        Access::Perm(ProjectsManage, 409),
        "/api/v1/projects/{project_a1}/steps",
        r#"{"step":"survey"}"#,
        ("/api/v1/projects/{project_b}/steps", r#"{"step":"survey"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/projects/{id}/inspections",
        Access::Perm(ProjectsInspect, 409),
        "/api/v1/projects/{project_a1}/inspections",
        r#"{"inspector":1}"#,
        ("/api/v1/projects/{project_b}/inspections", r#"{"inspector":1}"#),
    ),
    scoped(
        "POST",
        "/api/v1/projects/{id}/notices/{inspection}",
        Access::Perm(ProjectsManage, 422),
        "/api/v1/projects/{project_a1}/notices/{project_notice_a1}",
        r#"{"signed_by":""}"#,
        ("/api/v1/projects/{project_b}/notices/{project_notice_b}", r#"{"signed_by":""}"#),
    ),
    // Emergency plans and drills, rural pilots, customers' feedback.
    row("GET", "/emergency", Access::Perm(EmergencyView, 200), "/emergency?month=2026-11", ""),
    row("GET", "/emergency.xlsx", Access::Perm(EmergencyView, 200), "/emergency.xlsx", ""),
    row("GET", "/emergency/plans", Access::Perm(EmergencyView, 200), "/emergency/plans", ""),
    row("POST", "/emergency/plans", Access::Perm(EmergencyManage, 422), "/emergency/plans", "MULTIPART"),
    scoped(
        "GET",
        "/emergency/plans/{id}",
        Access::Perm(EmergencyView, 200),
        "/emergency/plans/{eplan_a1}",
        "",
        ("/emergency/plans/{eplan_b}", ""),
    ),
    scoped(
        "POST",
        "/emergency/plans/{id}/drills",
        Access::Perm(EmergencyManage, 422),
        "/emergency/plans/{eplan_a1}/drills",
        "MULTIPART",
        ("/emergency/plans/{eplan_b}/drills", "MULTIPART"),
    ),
    scoped(
        "GET",
        "/emergency/drills/{id}",
        Access::Perm(EmergencyView, 200),
        "/emergency/drills/{drill_a1}",
        "",
        ("/emergency/drills/{drill_b}", ""),
    ),
    row("GET", "/emergency/pilots", Access::Perm(EmergencyView, 200), "/emergency/pilots?q=%E5%8F%B0%E5%8C%BA", ""),
    row(
        "POST",
        "/emergency/pilots",
        Access::Perm(EmergencyManage, 422),
        "/emergency/pilots",
        "unit_id={unit_a1}&name=&starts_on=2026-01-01",
    ),
    row(
        "POST",
        "/emergency/pilots/documents",
        Access::Perm(EmergencyManage, 404),
        "/emergency/pilots/documents",
        "MULTIPART",
    ),
    row(
        "POST",
        "/api/v1/emergency/pilots",
        Access::Perm(EmergencyManage, 422),
        "/api/v1/emergency/pilots",
        r#"{"unit_id":{unit_a1},"name":"","starts_on":"2026-01-01","ends_on":""}"#,
    ),
    row(
        "POST",
        "/api/v1/emergency/pilots/documents",
        Access::Perm(EmergencyManage, 404),
        "/api/v1/emergency/pilots/documents",
        "MULTIPART",
    ),
    row("GET", "/feedback", Access::Perm(EmergencyView, 200), "/feedback?month=2026-11", ""),
    row(
        "POST",
        "/feedback/complaints",
        Access::Perm(FeedbackRecord, 422),
        "/feedback/complaints",
        "ticket_no=&unit_id={unit_a1}",
    ),
    row("POST", "/feedback/import", Access::Perm(FeedbackRecord, 422), "/feedback/import", "MULTIPART"),
    row("POST", "/api/v1/feedback/import", Access::Perm(FeedbackRecord, 422), "/api/v1/feedback/import", "MULTIPART"),
    scoped(
        "POST",
        "/feedback/complaints/{id}/hazard",
        Access::Perm(FeedbackRecord, 422),
        "/feedback/complaints/{complaint_a1}/hazard",
        "title=&responsible=&deadline=",
        ("/feedback/complaints/{complaint_b}/hazard", "title=&responsible=&deadline="),
    ),
    row(
        "POST",
        "/feedback/evaluations",
        Access::Perm(FeedbackRecord, 422),
        "/feedback/evaluations",
        "unit_id={unit_a1}&period=x&kind=visit&score=1&evaluator=E",
    ),
    scoped(
        "POST",
        "/feedback/evaluations/{id}/hazard",
        Access::Perm(FeedbackRecord, 422),
        "/feedback/evaluations/{evaluation_a1}/hazard",
        "title=&responsible=&deadline=",
        ("/feedback/evaluations/{evaluation_b}/hazard", "title=&responsible=&deadline="),
    ),
    scoped(
        "POST",
        "/api/v1/feedback/complaints/{id}/hazard",
        Access::Perm(FeedbackRecord, 422),
        "/api/v1/feedback/complaints/{complaint_a1}/hazard",
        r#"{"title":"","responsible":"","deadline":""}"#,
        ("/api/v1/feedback/complaints/{complaint_b}/hazard", r#"{"title":"","responsible":"","deadline":""}"#),
    ),
    scoped(
        "POST",
        "/api/v1/feedback/evaluations/{id}/hazard",
        Access::Perm(FeedbackRecord, 422),
        "/api/v1/feedback/evaluations/{evaluation_a1}/hazard",
        r#"{"title":"","responsible":"","deadline":""}"#,
        ("/api/v1/feedback/evaluations/{evaluation_b}/hazard", r#"{"title":"","responsible":"","deadline":""}"#),
    ),
    row("GET", "/api/v1/emergency/schedule", Access::Perm(EmergencyView, 200), "/api/v1/emergency/schedule", ""),
    row("GET", "/api/v1/emergency/plans", Access::Perm(EmergencyView, 200), "/api/v1/emergency/plans", ""),
    scoped(
        "POST",
        "/api/v1/emergency/plans",
        Access::Perm(EmergencyManage, 422),
        "/api/v1/emergency/plans",
        r#"{"unit_id":{unit_a1},"kind":"special","title":"T","risks":[],"version":"1","approved_by":"A","approved_on":"2026-01-01","review_due":"2027-01-01"}"#,
        (
            "/api/v1/emergency/plans",
            r#"{"unit_id":{unit_b},"kind":"special","title":"T","risks":["service"],"version":"1","approved_by":"A","approved_on":"2026-01-01","review_due":"2027-01-01"}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/emergency/plans/{id}/drills",
        Access::Perm(EmergencyManage, 422),
        "/api/v1/emergency/plans/{eplan_a1}/drills",
        r#"{"held_on":"x","scenario":"S","people":[],"rating":"good"}"#,
        ("/api/v1/emergency/plans/{eplan_b}/drills", r#"{"held_on":"x","scenario":"S","people":[],"rating":"good"}"#),
    ),
    scoped(
        "GET",
        "/api/v1/emergency/drills/{id}",
        Access::Perm(EmergencyView, 200),
        "/api/v1/emergency/drills/{drill_a1}",
        "",
        ("/api/v1/emergency/drills/{drill_b}", ""),
    ),
    row("GET", "/api/v1/feedback", Access::Perm(EmergencyView, 200), "/api/v1/feedback?month=2026-11", ""),
    scoped(
        "POST",
        "/api/v1/complaints",
        Access::Perm(FeedbackRecord, 422),
        "/api/v1/complaints",
        r#"{"ticket_no":"","received_at":"2026-11-20 09:00","category":"用电安全","content":"C","unit_id":{unit_a1}}"#,
        (
            "/api/v1/complaints",
            r#"{"ticket_no":"","received_at":"2026-11-20 09:00","category":"用电安全","content":"C","unit_id":{unit_b}}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/evaluations",
        Access::Perm(FeedbackRecord, 422),
        "/api/v1/evaluations",
        r#"{"unit_id":{unit_a1},"period":"x","kind":"visit","score":1,"evaluator":"E"}"#,
        ("/api/v1/evaluations", r#"{"unit_id":{unit_b},"period":"2026-11","kind":"visit","score":1,"evaluator":"E"}"#),
    ),
    // The fault database of the marketing information systems.
    row("GET", "/faults", Access::Perm(FaultsView, 200), "/faults?q=%E7%B3%BB%E7%BB%9F", ""),
    scoped(
        "POST",
        "/faults",
        Access::Perm(FaultsRecord, 422),
        "/faults",
        "unit_id={unit_a1}&system=&started_at=2026-11-20T09:00&cause=software&root_cause=R&countermeasure=C",
        (
            "/faults",
            "unit_id={unit_b}&system=S&started_at=2026-11-20T09:00&cause=software&root_cause=R&countermeasure=C",
        ),
    ),
    row("POST", "/faults/import", Access::Perm(FaultsRecord, 422), "/faults/import", "MULTIPART"),
    row("POST", "/api/v1/faults/import", Access::Perm(FaultsRecord, 422), "/api/v1/faults/import", "MULTIPART"),
    scoped("GET", "/faults/{id}", Access::Perm(FaultsView, 200), "/faults/{fault_a1}", "", ("/faults/{fault_b}", "")),
    row("GET", "/faults/checks", Access::Perm(FaultsView, 200), "/faults/checks", ""),
    scoped(
        "POST",
        "/faults/checks",
        Access::Perm(FaultsRecord, 422),
        "/faults/checks",
        "unit_id={unit_a1}&kind=rounds&checked_on=2026-11-20&checker=C",
        ("/faults/checks", "unit_id={unit_b}&kind=rounds&checked_on=2026-11-20&checker=C"),
    ),
    scoped(
        "GET",
        "/faults/checks/{id}",
        Access::Perm(FaultsView, 200),
        "/faults/checks/{compliance_a1}",
        "",
        ("/faults/checks/{compliance_b}", ""),
    ),
    row("GET", "/api/v1/faults", Access::Perm(FaultsView, 200), "/api/v1/faults", ""),
    scoped(
        "POST",
        "/api/v1/faults",
        Access::Perm(FaultsRecord, 422),
        "/api/v1/faults",
        r#"{"unit_id":{unit_a1},"system":"","started_at":"2026-11-20 09:00","cause":"software","root_cause":"R","countermeasure":"C"}"#,
        (
            "/api/v1/faults",
            r#"{"unit_id":{unit_b},"system":"S","started_at":"2026-11-20 09:00","cause":"software","root_cause":"R","countermeasure":"C"}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/faults/{id}",
        Access::Perm(FaultsView, 200),
        "/api/v1/faults/{fault_a1}",
        "",
        ("/api/v1/faults/{fault_b}", ""),
    ),
    row("GET", "/api/v1/compliance-checks", Access::Perm(FaultsView, 200), "/api/v1/compliance-checks", ""),
    scoped(
        "POST",
        "/api/v1/compliance-checks",
        Access::Perm(FaultsRecord, 422),
        "/api/v1/compliance-checks",
        r#"{"unit_id":{unit_a1},"kind":"rounds","checked_on":"2026-11-20","checker":"C","answers":[]}"#,
        (
            "/api/v1/compliance-checks",
            r#"{"unit_id":{unit_b},"kind":"rounds","checked_on":"2026-11-20","checker":"C","answers":[]}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/compliance-checks/{id}",
        Access::Perm(FaultsView, 200),
        "/api/v1/compliance-checks/{compliance_a1}",
        "",
        ("/api/v1/compliance-checks/{compliance_b}", ""),
    ),
    // Quality indicators and the monthly supervision report.
    row("GET", "/quality", Access::Perm(QualityView, 200), "/quality", ""),
    scoped(
        "POST",
        "/quality/reports",
        Access::Perm(QualityWrite, 422),
        "/quality/reports",
        "unit_id={unit_a1}&month=2027-01",
        ("/quality/reports", "unit_id={unit_b}&month=2026-10"),
    ),
    scoped(
        "GET",
        "/quality/reports/{id}",
        Access::Perm(QualityView, 200),
        "/quality/reports/{report_a1}",
        "",
        ("/quality/reports/{report_b}", ""),
    ),
    scoped(
        "GET",
        "/quality/reports/{id}/xlsx",
        Access::Perm(QualityView, 200),
        "/quality/reports/{report_a1}/xlsx",
        "",
        ("/quality/reports/{report_b}/xlsx", ""),
    ),
    scoped(
        "POST",
        "/quality/reports/{id}/texts",
        Access::Perm(QualityWrite, 303),
        "/quality/reports/{report_a1}/texts",
        "overview=O",
        ("/quality/reports/{report_b}/texts", "overview=O"),
    ),
    // This month's report: not to be issued before the month is over.
    scoped(
        "POST",
        "/quality/reports/{id}/issue",
        Access::Perm(QualityWrite, 422),
        "/quality/reports/{report_a1}/issue",
        "",
        ("/quality/reports/{report_b}/issue", ""),
    ),
    scoped(
        "POST",
        "/quality/reports/{id}/reissue",
        Access::Perm(QualityWrite, 422),
        "/quality/reports/{report_a1}/reissue",
        "reason=",
        ("/quality/reports/{report_b}/reissue", "reason=R"),
    ),
    row("GET", "/quality/indicators", Access::Perm(QualityView, 200), "/quality/indicators", ""),
    row(
        "POST",
        "/quality/indicators/{code}",
        Access::Perm(QualityWrite, 422),
        "/quality/indicators/faults",
        "formula=faults%3B&target=0&direction=lower",
    ),
    row("GET", "/api/v1/quality/indicators", Access::Perm(QualityView, 200), "/api/v1/quality/indicators", ""),
    row("GET", "/api/v1/quality/reports", Access::Perm(QualityView, 200), "/api/v1/quality/reports", ""),
    scoped(
        "POST",
        "/api/v1/quality/reports",
        Access::Perm(QualityWrite, 422),
        "/api/v1/quality/reports",
        r#"{"unit_id":{unit_a1},"month":"2027-01"}"#,
        ("/api/v1/quality/reports", r#"{"unit_id":{unit_b},"month":"2026-10"}"#),
    ),
    scoped(
        "GET",
        "/api/v1/quality/reports/{id}",
        Access::Perm(QualityView, 200),
        "/api/v1/quality/reports/{report_a1}",
        "",
        ("/api/v1/quality/reports/{report_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/quality/reports/{id}/texts",
        Access::Perm(QualityWrite, 204),
        "/api/v1/quality/reports/{report_a1}/texts",
        r#"{"texts":{"overview":"O"}}"#,
        ("/api/v1/quality/reports/{report_b}/texts", r#"{"texts":{"overview":"O"}}"#),
    ),
    scoped(
        "POST",
        "/api/v1/quality/reports/{id}/reissue",
        Access::Perm(QualityWrite, 422),
        "/api/v1/quality/reports/{report_a1}/reissue",
        r#"{"reason":""}"#,
        ("/api/v1/quality/reports/{report_b}/reissue", r#"{"reason":"R"}"#),
    ),
    row(
        "PUT",
        "/api/v1/quality/indicators/{code}",
        Access::Perm(QualityWrite, 422),
        "/api/v1/quality/indicators/faults",
        r#"{"formula":"faults;","target":0,"direction":"lower"}"#,
    ),
    scoped(
        "POST",
        "/api/v1/quality/reports/{id}/issue",
        Access::Perm(QualityWrite, 422),
        "/api/v1/quality/reports/{report_a1}/issue",
        "",
        ("/api/v1/quality/reports/{report_b}/issue", ""),
    ),
    // Webhook subscriptions and their deliveries (the safety auditor's).
    row("GET", "/webhooks", Access::Perm(WebhooksManage, 200), "/webhooks", ""),
    scoped(
        "POST",
        "/webhooks",
        Access::Perm(WebhooksManage, 422),
        "/webhooks",
        "unit_id={unit_a1}&name=&url=x&format=json&events=report.issued",
        ("/webhooks", "unit_id={unit_b}&name=N&url=https%3A%2F%2Fr.example%2Fh&format=json&events=report.issued"),
    ),
    scoped(
        "GET",
        "/webhooks/{id}",
        Access::Perm(WebhooksManage, 200),
        "/webhooks/{webhook_a1}",
        "",
        ("/webhooks/{webhook_b}", ""),
    ),
    scoped(
        "POST",
        "/webhooks/{id}",
        Access::Perm(WebhooksManage, 303),
        "/webhooks/{webhook_a1}",
        "events=report.issued&enabled=on",
        ("/webhooks/{webhook_b}", "events=report.issued&enabled=on"),
    ),
    scoped(
        "POST",
        "/webhooks/{id}/deliveries/{delivery}/redeliver",
        Access::Perm(WebhooksManage, 303),
        "/webhooks/{webhook_a1}/deliveries/{delivery_a1}/redeliver",
        "",
        ("/webhooks/{webhook_b}/deliveries/{delivery_b}/redeliver", ""),
    ),
    row("GET", "/api/v1/webhooks", Access::Perm(WebhooksManage, 200), "/api/v1/webhooks", ""),
    scoped(
        "POST",
        "/api/v1/webhooks",
        Access::Perm(WebhooksManage, 422),
        "/api/v1/webhooks",
        r#"{"unit_id":{unit_a1},"name":"","url":"x","format":"json","events":["report.issued"]}"#,
        (
            "/api/v1/webhooks",
            r#"{"unit_id":{unit_b},"name":"N","url":"https://r.example/h","format":"json","events":["report.issued"]}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/webhooks/{id}",
        Access::Perm(WebhooksManage, 200),
        "/api/v1/webhooks/{webhook_a1}",
        "",
        ("/api/v1/webhooks/{webhook_b}", ""),
    ),
    scoped(
        "PUT",
        "/api/v1/webhooks/{id}",
        Access::Perm(WebhooksManage, 204),
        "/api/v1/webhooks/{webhook_a1}",
        r#"{"events":["report.issued"],"enabled":true}"#,
        ("/api/v1/webhooks/{webhook_b}", r#"{"events":["report.issued"],"enabled":true}"#),
    ),
    scoped(
        "POST",
        "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
        Access::Perm(WebhooksManage, 204),
        "/api/v1/webhooks/{webhook_a1}/deliveries/{delivery_a1}/redeliver",
        "",
        ("/api/v1/webhooks/{webhook_b}/deliveries/{delivery_b}/redeliver", ""),
    ),
    // History moving in (the safety auditor's).
    row("GET", "/history", Access::Perm(HistoryImport, 200), "/history", ""),
    scoped(
        "POST",
        "/history/{register}",
        Access::Perm(HistoryImport, 422),
        "/history/tickets",
        HISTORY_A1,
        ("/history/tickets", HISTORY_B),
    ),
    scoped(
        "POST",
        "/api/v1/history/{register}",
        Access::Perm(HistoryImport, 422),
        "/api/v1/history/tickets",
        HISTORY_A1,
        ("/api/v1/history/tickets", HISTORY_B),
    ),
    // Cross-audit findings, rectification tasks, KPIs.
    row("GET", "/findings", Access::Perm(FindingsView, 200), "/findings", ""),
    row("GET", "/findings.xlsx", Access::Perm(FindingsView, 200), "/findings.xlsx", ""),
    row("GET", "/findings/import", Access::Perm(MarketingImport, 200), "/findings/import", ""),
    row("POST", "/findings/import", Access::Perm(MarketingImport, 422), "/findings/import", "MULTIPART"),
    row("POST", "/findings/run", Access::Perm(FindingsReview, 303), "/findings/run", ""),
    row("POST", "/api/v1/findings/run", Access::Perm(FindingsReview, 200), "/api/v1/findings/run", ""),
    row("GET", "/findings/kpi", Access::Perm(FindingsView, 200), "/findings/kpi", ""),
    scoped(
        "GET",
        "/findings/{id}",
        Access::Perm(FindingsView, 200),
        "/findings/{finding_a1}",
        "",
        ("/findings/{finding_b}", ""),
    ),
    scoped(
        "POST",
        "/findings/{id}/review",
        Access::Perm(FindingsReview, 303),
        "/findings/{open_finding_a1}/review",
        "decision=dismiss&reason=test",
        ("/findings/{open_finding_b}/review", "decision=dismiss&reason=test"),
    ),
    row("GET", "/tasks", Access::Perm(FindingsView, 200), "/tasks", ""),
    scoped(
        "POST",
        "/tasks/{id}/close",
        Access::Perm(FindingsReview, 303),
        "/tasks/{task_a1}/close",
        "evidence=done",
        ("/tasks/{task_b}/close", "evidence=done"),
    ),
    row("GET", "/api/v1/findings", Access::Perm(FindingsView, 200), "/api/v1/findings", ""),
    // The push feed: a bad batch is refused whole (422); another unit's is 403.
    scoped(
        "POST",
        "/api/v1/work-orders",
        Access::Perm(MarketingPush, 422),
        "/api/v1/work-orders",
        r#"{"unit_id":{unit_a1},"orders":[{"order_id":"P{n}","order_type":"x","customer_id":"C","started_at":"2026-11-20 09:00","finished_at":"2026-11-20 10:00"}]}"#,
        (
            "/api/v1/work-orders",
            r#"{"unit_id":{unit_b},"orders":[{"order_id":"P{n}","order_type":"x","customer_id":"C","started_at":"2026-11-20 09:00","finished_at":"2026-11-20 10:00"}]}"#,
        ),
    ),
    scoped(
        "POST",
        "/api/v1/meter-events",
        Access::Perm(MarketingPush, 422),
        "/api/v1/meter-events",
        r#"{"unit_id":{unit_a1},"events":[{"event_id":"E{n}","meter_id":"M","customer_id":"C","kind":"cover_open","occurred_at":"x"}]}"#,
        (
            "/api/v1/meter-events",
            r#"{"unit_id":{unit_b},"events":[{"event_id":"E{n}","meter_id":"M","customer_id":"C","kind":"cover_open","occurred_at":"x"}]}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/findings/{id}",
        Access::Perm(FindingsView, 200),
        "/api/v1/findings/{finding_a1}",
        "",
        ("/api/v1/findings/{finding_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/findings/{id}/review",
        Access::Perm(FindingsReview, 200),
        "/api/v1/findings/{open_finding_a1}/review",
        r#"{"decision":"dismiss","reason":"test"}"#,
        ("/api/v1/findings/{open_finding_b}/review", r#"{"decision":"dismiss","reason":"test"}"#),
    ),
    row("GET", "/api/v1/tasks", Access::Perm(FindingsView, 200), "/api/v1/tasks", ""),
    scoped(
        "POST",
        "/api/v1/tasks/{id}/close",
        Access::Perm(FindingsReview, 204),
        "/api/v1/tasks/{task_a1}/close",
        r#"{"evidence":"done"}"#,
        ("/api/v1/tasks/{task_b}/close", r#"{"evidence":"done"}"#),
    ),
    // Customers, inspections, hazards, sealing, the safety dashboard.
    row("GET", "/customers", Access::Perm(CustomersView, 200), "/customers", ""),
    row(
        "POST",
        "/customers",
        Access::Perm(CustomersManage, 303),
        "/customers",
        "account_no=N{n}&name=n&address=a&unit_id={unit_a1}&voltage_kv=10&industry=%E9%93%B6%E8%A1%8C&importance=none&emergency_power=none",
    ),
    scoped(
        "POST",
        "/api/v1/customers",
        Access::Perm(CustomersManage, 201),
        "/api/v1/customers",
        r#"{"account_no":"J{n}","name":"n","address":"a","unit_id":{unit_a1},"voltage_kv":"10","industry":"x","importance":"none","emergency_power":"none"}"#,
        (
            "/api/v1/customers",
            r#"{"account_no":"K{n}","name":"n","address":"a","unit_id":{unit_b},"voltage_kv":"10","industry":"x"}"#,
        ),
    ),
    scoped(
        "PUT",
        "/api/v1/customers/{id}",
        Access::Perm(CustomersManage, 200),
        "/api/v1/customers/{customer_a1}",
        r#"{"account_no":"L{n}","name":"n","address":"a","unit_id":{unit_a1},"voltage_kv":"10","industry":"x","importance":"none","emergency_power":"none"}"#,
        (
            "/api/v1/customers/{customer_b}",
            r#"{"account_no":"M{n}","name":"n","address":"a","unit_id":{unit_b},"voltage_kv":"10","industry":"x"}"#,
        ),
    ),
    row("GET", "/customers.xlsx", Access::Perm(CustomersView, 200), "/customers.xlsx", ""),
    row("GET", "/customers/import", Access::Perm(CustomersManage, 200), "/customers/import", ""),
    row("POST", "/customers/import", Access::Perm(CustomersManage, 422), "/customers/import", "MULTIPART"),
    row("POST", "/customers/import/{token}", Access::Perm(CustomersManage, 422), "/customers/import/{own_upload}", ""),
    row(
        "POST",
        "/api/v1/customers/import",
        Access::Perm(CustomersManage, 422),
        "/api/v1/customers/import",
        "MULTIPART",
    ),
    row(
        "POST",
        "/api/v1/customers/import/{token}",
        Access::Perm(CustomersManage, 422),
        "/api/v1/customers/import/{own_upload}",
        "",
    ),
    row("GET", "/customers/new", Access::Perm(CustomersManage, 200), "/customers/new", ""),
    scoped(
        "GET",
        "/customers/{id}",
        Access::Perm(CustomersView, 200),
        "/customers/{customer_a1}",
        "",
        ("/customers/{customer_b}", ""),
    ),
    scoped(
        "POST",
        "/customers/{id}",
        Access::Perm(CustomersManage, 303),
        "/customers/{customer_a1}",
        "account_no=E{n}&name=n&address=a&unit_id={unit_a1}&voltage_kv=10&industry=x&importance=none&emergency_power=none",
        ("/customers/{customer_b}", "account_no=F{n}&name=n&address=a&unit_id={unit_b}&voltage_kv=10&industry=x"),
    ),
    scoped(
        "GET",
        "/customers/{id}/edit",
        Access::Perm(CustomersManage, 200),
        "/customers/{customer_a1}/edit",
        "",
        ("/customers/{customer_b}/edit", ""),
    ),
    scoped(
        "GET",
        "/customers/{id}/inspect",
        Access::Perm(InspectionsRecord, 200),
        "/customers/{customer_a1}/inspect",
        "",
        ("/customers/{customer_b}/inspect", ""),
    ),
    scoped(
        "POST",
        "/customers/{id}/inspections",
        Access::Perm(InspectionsRecord, 422),
        "/customers/{customer_a1}/inspections",
        "inspected_on=2026-11-26&kind=periodic",
        ("/customers/{customer_b}/inspections", "inspected_on=2026-11-26&kind=periodic"),
    ),
    scoped(
        "POST",
        "/api/v1/customers/{id}/inspections",
        Access::Perm(InspectionsRecord, 422),
        "/api/v1/customers/{customer_a1}/inspections",
        r#"{"inspected_on":"2026-11-26","kind":"periodic","inspectors":[],"answers":[],"conclusion":""}"#,
        (
            "/api/v1/customers/{customer_b}/inspections",
            r#"{"inspected_on":"2026-11-26","kind":"periodic","inspectors":[],"answers":[],"conclusion":""}"#,
        ),
    ),
    row("GET", "/inspections/plan", Access::Perm(CustomersView, 200), "/inspections/plan", ""),
    row("GET", "/inspections/settings", Access::Perm(CustomersView, 200), "/inspections/settings", ""),
    row(
        "POST",
        "/inspections/settings/cycles",
        Access::Perm(InspectionsConfigure, 303),
        "/inspections/settings/cycles",
        "code=voltage_10kv&months=12",
    ),
    row(
        "POST",
        "/inspections/settings/checklist",
        Access::Perm(InspectionsConfigure, 303),
        "/inspections/settings/checklist",
        "section=metering&lines=m",
    ),
    row(
        "POST",
        "/inspections/settings/grades",
        Access::Perm(InspectionsConfigure, 303),
        "/inspections/settings/grades",
        "code=general&deadline_days=90",
    ),
    row(
        "PUT",
        "/api/v1/inspections/settings/cycles",
        Access::Perm(InspectionsConfigure, 204),
        "/api/v1/inspections/settings/cycles",
        r#"{"code":"voltage_10kv","months":12}"#,
    ),
    row(
        "PUT",
        "/api/v1/inspections/settings/checklist",
        Access::Perm(InspectionsConfigure, 204),
        "/api/v1/inspections/settings/checklist",
        r#"{"section":"metering","lines":"m"}"#,
    ),
    row(
        "PUT",
        "/api/v1/inspections/settings/grades",
        Access::Perm(InspectionsConfigure, 204),
        "/api/v1/inspections/settings/grades",
        r#"{"code":"general","deadline_days":90,"files":false}"#,
    ),
    scoped(
        "GET",
        "/inspections/{id}",
        Access::Perm(CustomersView, 200),
        "/inspections/{inspection_a1}",
        "",
        ("/inspections/{inspection_b}", ""),
    ),
    scoped(
        "GET",
        "/inspections/{id}/notice",
        Access::Perm(CustomersView, 200),
        "/inspections/{inspection_a1}/notice",
        "",
        ("/inspections/{inspection_b}/notice", ""),
    ),
    scoped(
        "POST",
        "/inspections/{id}/photos",
        Access::Perm(InspectionsRecord, 422),
        "/inspections/{inspection_a1}/photos",
        "MULTIPART",
        ("/inspections/{inspection_b}/photos", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/inspections/{id}/signed",
        Access::Perm(InspectionsRecord, 422),
        "/inspections/{inspection_a1}/signed",
        "MULTIPART",
        ("/inspections/{inspection_b}/signed", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/api/v1/inspections/{id}/photos",
        Access::Perm(InspectionsRecord, 422),
        "/api/v1/inspections/{inspection_a1}/photos",
        "MULTIPART",
        ("/api/v1/inspections/{inspection_b}/photos", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/api/v1/inspections/{id}/signed",
        Access::Perm(InspectionsRecord, 422),
        "/api/v1/inspections/{inspection_a1}/signed",
        "MULTIPART",
        ("/api/v1/inspections/{inspection_b}/signed", "MULTIPART"),
    ),
    scoped(
        "GET",
        "/attachments/{id}",
        Access::Perm(CustomersView, 200),
        "/attachments/{attachment_a1}",
        "",
        ("/attachments/{attachment_b}", ""),
    ),
    row("GET", "/hazards", Access::Perm(CustomersView, 200), "/hazards", ""),
    row(
        "POST",
        "/hazards",
        Access::Perm(InspectionsRecord, 303),
        "/hazards",
        "unit_id={unit_a1}&title=t&grade=general&responsibility=grid",
    ),
    scoped(
        "POST",
        "/api/v1/hazards",
        Access::Perm(InspectionsRecord, 201),
        "/api/v1/hazards",
        r#"{"unit_id":{unit_a1},"title":"t","grade":"general","responsibility":"grid"}"#,
        ("/api/v1/hazards", r#"{"unit_id":{unit_b},"title":"t","grade":"general","responsibility":"grid"}"#),
    ),
    row("GET", "/hazards.xlsx", Access::Perm(CustomersView, 200), "/hazards.xlsx", ""),
    row("GET", "/hazards/new", Access::Perm(InspectionsRecord, 200), "/hazards/new", ""),
    scoped(
        "GET",
        "/hazards/{id}",
        Access::Perm(CustomersView, 200),
        "/hazards/{hazard_a1_open}",
        "",
        ("/hazards/{hazard_b_open}", ""),
    ),
    scoped(
        "POST",
        "/hazards/{id}/steps",
        Access::Perm(InspectionsRecord, 303),
        "/hazards/{hazard_a1_open}/steps",
        "step=notify&deadline=2027-01-31",
        ("/hazards/{hazard_b_open}/steps", "step=notify&deadline=2027-01-31"),
    ),
    scoped(
        "POST",
        "/hazards/{id}/refusal",
        Access::Perm(InspectionsRecord, 422),
        "/hazards/{hazard_a1_open}/refusal",
        "MULTIPART",
        ("/hazards/{hazard_b_open}/refusal", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/refusal",
        Access::Perm(InspectionsRecord, 422),
        "/api/v1/hazards/{hazard_a1_open}/refusal",
        "MULTIPART",
        ("/api/v1/hazards/{hazard_b_open}/refusal", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/hazards/{id}/extension",
        Access::Perm(InspectionsRecord, 303),
        "/hazards/{hazard_a1_open}/extension",
        "to=2099-12-31&reason=r",
        ("/hazards/{hazard_b_open}/extension", "to=2099-12-31&reason=r"),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/extension",
        Access::Perm(InspectionsRecord, 204),
        "/api/v1/hazards/{hazard_a1_open}/extension",
        r#"{"to":"2099-12-31","reason":"r"}"#,
        ("/api/v1/hazards/{hazard_b_open}/extension", r#"{"to":"2099-12-31","reason":"r"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/extension/decision",
        Access::Perm(HazardsApprove, 204),
        "/api/v1/hazards/{hazard_a1_asked}/extension/decision",
        r#"{"approve":true}"#,
        ("/api/v1/hazards/{hazard_b_asked}/extension/decision", r#"{"approve":true}"#),
    ),
    scoped(
        "POST",
        "/api/v1/seals/{id}/unseal",
        Access::Perm(InspectionsRecord, 409),
        "/api/v1/seals/{seal_a1}/unseal",
        r#"{"on":"2026-11-26","reason":"r","witness":"w"}"#,
        ("/api/v1/seals/{seal_b}/unseal", r#"{"on":"2026-11-26","reason":"r","witness":"w"}"#),
    ),
    scoped(
        "POST",
        "/hazards/{id}/extension/decision",
        Access::Perm(HazardsApprove, 303),
        "/hazards/{hazard_a1_asked}/extension/decision",
        "approve=1",
        ("/hazards/{hazard_b_asked}/extension/decision", "approve=1"),
    ),
    scoped(
        "GET",
        "/hazards/{id}/notice",
        Access::Perm(CustomersView, 200),
        "/hazards/{hazard_a1_open}/notice",
        "",
        ("/hazards/{hazard_b_open}/notice", ""),
    ),
    scoped(
        "POST",
        "/hazards/{id}/photos",
        Access::Perm(InspectionsRecord, 422),
        "/hazards/{hazard_a1_open}/photos",
        "MULTIPART",
        ("/hazards/{hazard_b_open}/photos", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/photos",
        Access::Perm(InspectionsRecord, 422),
        "/api/v1/hazards/{hazard_a1_open}/photos",
        "MULTIPART",
        ("/api/v1/hazards/{hazard_b_open}/photos", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/hazards/{id}/seals",
        Access::Perm(InspectionsRecord, 303),
        "/hazards/{hazard_a1_open}/seals",
        "equipment=g&seal_number=S{n}&sealed_on=2026-11-26",
        ("/hazards/{hazard_b_open}/seals", "equipment=g&seal_number=S{n}&sealed_on=2026-11-26"),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/seals",
        Access::Perm(InspectionsRecord, 201),
        "/api/v1/hazards/{hazard_a1_open}/seals",
        r#"{"equipment":"g","seal_number":"T{n}","sealed_on":"2026-11-26"}"#,
        ("/api/v1/hazards/{hazard_b_open}/seals", r#"{"equipment":"g","seal_number":"T{n}","sealed_on":"2026-11-26"}"#),
    ),
    row("GET", "/seals", Access::Perm(CustomersView, 200), "/seals", ""),
    scoped(
        "POST",
        "/seals/{id}/unseal",
        Access::Perm(InspectionsRecord, 409),
        "/seals/{seal_a1}/unseal",
        "on=2026-11-26&reason=r&witness=w",
        ("/seals/{seal_b}/unseal", "on=2026-11-26&reason=r&witness=w"),
    ),
    row("GET", "/safety", Access::Perm(CustomersView, 200), "/safety", ""),
    row("GET", "/safety.xlsx", Access::Perm(CustomersView, 200), "/safety.xlsx", ""),
    row("GET", "/api/v1/customers", Access::Perm(CustomersView, 200), "/api/v1/customers", ""),
    scoped(
        "GET",
        "/api/v1/customers/{id}",
        Access::Perm(CustomersView, 200),
        "/api/v1/customers/{customer_a1}",
        "",
        ("/api/v1/customers/{customer_b}", ""),
    ),
    row("GET", "/api/v1/hazards", Access::Perm(CustomersView, 200), "/api/v1/hazards", ""),
    scoped(
        "GET",
        "/api/v1/hazards/{id}",
        Access::Perm(CustomersView, 200),
        "/api/v1/hazards/{hazard_a1_open}",
        "",
        ("/api/v1/hazards/{hazard_b_open}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/hazards/{id}/steps",
        Access::Perm(InspectionsRecord, 200),
        "/api/v1/hazards/{hazard_a1_open}/steps",
        r#"{"step":"notify","deadline":"2027-01-31"}"#,
        ("/api/v1/hazards/{hazard_b_open}/steps", r#"{"step":"notify","deadline":"2027-01-31"}"#),
    ),
    // On-site supervision.
    row("GET", "/violations", Access::Perm(ViolationsView, 200), "/violations", ""),
    row("GET", "/violations.xlsx", Access::Perm(ViolationsView, 200), "/violations.xlsx", ""),
    row("GET", "/violations/new", Access::Perm(ViolationsRecord, 200), "/violations/new", ""),
    row("GET", "/violations/catalogue", Access::Perm(ViolationsView, 200), "/violations/catalogue", ""),
    row("POST", "/violations/catalogue", Access::Perm(ViolationsReview, 422), "/violations/catalogue", "MULTIPART"),
    row(
        "POST",
        "/api/v1/violations/catalogue",
        Access::Perm(ViolationsReview, 422),
        "/api/v1/violations/catalogue",
        "MULTIPART",
    ),
    row("POST", "/violations", Access::Perm(ViolationsRecord, 422), "/violations", "MULTIPART"),
    scoped(
        "GET",
        "/violations/{id}",
        Access::Perm(ViolationsView, 200),
        "/violations/{violation_a1}",
        "",
        ("/violations/{violation_b}", ""),
    ),
    scoped(
        "POST",
        "/violations/{id}/review",
        Access::Perm(ViolationsReview, 303),
        "/violations/{serious_a1}/review",
        "note=n",
        ("/violations/{serious_b}/review", "note=n"),
    ),
    scoped(
        "POST",
        "/tickets/{id}/arrival",
        Access::Perm(SupervisionAttend, 409),
        "/tickets/{ticket_a1}/arrival",
        "MULTIPART",
        ("/tickets/{ticket_b}/arrival", "MULTIPART"),
    ),
    scoped(
        "POST",
        "/tickets/{id}/departure",
        Access::Perm(SupervisionAttend, 409),
        "/tickets/{ticket_a1}/departure",
        "",
        ("/tickets/{ticket_b}/departure", ""),
    ),
    scoped(
        "POST",
        "/people/{id}/readmission",
        Access::Perm(ViolationsReview, 409),
        "/people/{person_a1}/readmission",
        "trained_on=2026-11-01&exam_on=2026-11-02&passed=1",
        ("/people/{person_b}/readmission", "trained_on=2026-11-01&exam_on=2026-11-02&passed=1"),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/arrivals",
        Access::Perm(SupervisionAttend, 409),
        "/api/v1/tickets/{ticket_a1}/arrivals",
        "{}",
        ("/api/v1/tickets/{ticket_b}/arrivals", "{}"),
    ),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/departure",
        Access::Perm(SupervisionAttend, 409),
        "/api/v1/tickets/{ticket_a1}/departure",
        "{}",
        ("/api/v1/tickets/{ticket_b}/departure", "{}"),
    ),
    row("GET", "/api/v1/violations", Access::Perm(ViolationsView, 200), "/api/v1/violations", ""),
    scoped(
        "POST",
        "/api/v1/violations",
        Access::Perm(ViolationsRecord, 201),
        "/api/v1/violations",
        r#"{"offender":"person","person":"{code_a1}","place":"p","class":"behaviour","severity":"general","rule_broken":"r","description":"d","responsible":"{code_a1}"}"#,
        (
            "/api/v1/violations",
            r#"{"offender":"person","person":"{code_b}","place":"p","class":"behaviour","severity":"general","rule_broken":"r","description":"d","responsible":"{code_a1}"}"#,
        ),
    ),
    scoped(
        "GET",
        "/api/v1/violations/{id}",
        Access::Perm(ViolationsView, 200),
        "/api/v1/violations/{violation_a1}",
        "",
        ("/api/v1/violations/{violation_b}", ""),
    ),
    scoped(
        "POST",
        "/api/v1/violations/{id}/review",
        Access::Perm(ViolationsReview, 200),
        "/api/v1/violations/{serious_a1}/review",
        r#"{"note":"n"}"#,
        ("/api/v1/violations/{serious_b}/review", r#"{"note":"n"}"#),
    ),
    scoped(
        "POST",
        "/api/v1/people/{id}/readmission",
        Access::Perm(ViolationsReview, 409),
        "/api/v1/people/{person_a1}/readmission",
        r#"{"trained_on":"2026-11-01","exam_on":"2026-11-02","passed":true}"#,
        (
            "/api/v1/people/{person_b}/readmission",
            r#"{"trained_on":"2026-11-01","exam_on":"2026-11-02","passed":true}"#,
        ),
    ),
    row("GET", "/api/v1/supervision/dashboard", Access::Perm(ViolationsView, 200), "/api/v1/supervision/dashboard", ""),
    scoped(
        "GET",
        "/tickets/{id}/checks/new",
        Access::Perm(ViolationsRecord, 200),
        "/tickets/{ticket_a1}/checks/new",
        "",
        ("/tickets/{ticket_b}/checks/new", ""),
    ),
    scoped(
        "POST",
        "/tickets/{id}/checks",
        Access::Perm(ViolationsRecord, 422),
        "/tickets/{ticket_a1}/checks",
        "MULTIPART",
        ("/tickets/{ticket_b}/checks", "MULTIPART"),
    ),
    scoped(
        "GET",
        "/checks/{id}",
        Access::Perm(ViolationsView, 200),
        "/checks/{check_a1}",
        "",
        ("/checks/{check_b}", ""),
    ),
    row("GET", "/api/v1/check-templates", Access::Perm(ViolationsView, 200), "/api/v1/check-templates", ""),
    scoped(
        "POST",
        "/api/v1/tickets/{id}/checks",
        Access::Perm(ViolationsRecord, 409),
        "/api/v1/tickets/{ticket_a1}/checks",
        CHECK_JSON,
        ("/api/v1/tickets/{ticket_b}/checks", CHECK_JSON),
    ),
    scoped(
        "GET",
        "/api/v1/checks/{id}",
        Access::Perm(ViolationsView, 200),
        "/api/v1/checks/{check_a1}",
        "",
        ("/api/v1/checks/{check_b}", ""),
    ),
];

/// A ticket register for county A1 that lacks its columns (422), and one for city B (403).
const HISTORY_A1: &str = "--B\r\nContent-Disposition: form-data; name=\"unit_id\"\r\n\r\n{unit_a1}\r\n--B\r\n\
    Content-Disposition: form-data; name=\"files\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n票号\nX\r\n--B--\r\n";
const HISTORY_B: &str = "--B\r\nContent-Disposition: form-data; name=\"unit_id\"\r\n\r\n{unit_b}\r\n--B\r\n\
    Content-Disposition: form-data; name=\"files\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n票号\nX\r\n--B--\r\n";

/// Who makes a request.
#[derive(Debug, Clone)]
enum Subject {
    Anonymous,
    /// A user holding one role at city A, in a browser session.
    Role(&'static str),
    /// An API token of a second system administrator, with all of its permissions
    /// (`full`) or only `users.view`.
    Token {
        full: bool,
    },
}

impl Subject {
    fn holds(&self, p: Permission) -> bool {
        match self {
            Subject::Anonymous => false,
            Subject::Role(role) => role_permissions(role).contains(&p),
            Subject::Token { full: true } => role_permissions("system_admin").contains(&p),
            Subject::Token { full: false } => p == UsersView,
        }
    }
}

/// The permissions each role grants as seeded (the matrix restates them: a change to the
/// seed must be a deliberate change here too).
fn role_permissions(role: &str) -> &'static [Permission] {
    match role {
        "system_admin" => &[UnitsManage, UsersView, UsersManage, RolesManage],
        "security_admin" => &[UsersView, AccountsReview],
        "log_auditor" => &[AuditRead],
        "safety_auditor" => &[
            PeopleView,
            PeopleManage,
            ContractorsView,
            ContractorsManage,
            TicketsView,
            TicketsEvaluate,
            TicketsConfigure,
            FindingsView,
            FindingsReview,
            MarketingImport,
            MarketingPush,
            CustomersView,
            HazardsReview,
            InspectionsConfigure,
            PlansView,
            OutagesView,
            SupervisionAttend,
            ViolationsView,
            ViolationsRecord,
            ViolationsReview,
            ProjectsView,
            ProjectsConfigure,
            EmergencyView,
            EmergencyManage,
            FeedbackRecord,
            FaultsView,
            FaultsRecord,
            QualityView,
            QualityWrite,
            WebhooksManage,
            HistoryImport,
        ],
        "leader" => &[
            PeopleView,
            ContractorsView,
            TicketsView,
            FindingsView,
            CustomersView,
            HazardsApprove,
            PlansView,
            PlansApprove,
            OutagesView,
            OutagesApprove,
            SupervisionAttend,
            ViolationsView,
            ViolationsRecord,
            ProjectsView,
            EmergencyView,
            FaultsView,
            QualityView,
        ],
        "ticket_issuer" => &[
            PeopleView,
            ContractorsView,
            TicketsView,
            TicketsWrite,
            TicketsSign,
            FindingsView,
            PlansView,
            OutagesView,
            ViolationsView,
        ],
        "customer_manager" => &[
            PeopleView,
            TicketsView,
            FindingsView,
            CustomersView,
            CustomersManage,
            PlansView,
            OutagesView,
            OutagesRequest,
            ViolationsView,
            ProjectsView,
            ProjectsManage,
            EmergencyView,
            FeedbackRecord,
        ],
        "inspector" => &[
            PeopleView,
            TicketsView,
            FindingsView,
            CustomersView,
            CustomersManage,
            InspectionsRecord,
            ProjectsView,
            ProjectsInspect,
            EmergencyView,
        ],
        "work_leader" => &[
            PeopleView,
            TicketsView,
            TicketsWrite,
            TicketsSign,
            FindingsView,
            PlansView,
            PlansWrite,
            OutagesView,
            ViolationsView,
        ],
        "work_permitter" => &[PeopleView, TicketsView, TicketsSign, PlansView, OutagesView, OutagesOperate],
        "crew_member" => &[TicketsView, TicketsSign, PlansView],
        "contractor_admin" => &[OwnContractor],
        _ => &[],
    }
}

fn expected(row: &Row, subject: &Subject) -> u16 {
    let api =
        row.pattern.starts_with("/api/") && row.pattern != "/api/v1/openapi.json" && row.pattern != "/api/v1/meta";
    match (row.access, subject) {
        (Access::Public(s), _) => s,
        (_, Subject::Anonymous) => {
            if api {
                401
            } else {
                303
            }
        }
        (Access::SignedIn(s), _) => s,
        (Access::Session(_) | Access::SessionPerm(..), Subject::Token { .. }) => 403,
        (Access::Session(s), _) => s,
        (Access::Roles(table), Subject::Role(role)) => table.iter().find(|(r, _)| r == role).map_or(403, |(_, s)| *s),
        (Access::Roles(_), _) => 403,
        (Access::Accounts(ok), s) => {
            if s.holds(UsersManage) || s.holds(AccountsReview) {
                ok
            } else {
                403
            }
        }
        (Access::SessionPerm(p, ok) | Access::Perm(p, ok), s) => {
            if s.holds(p) {
                ok
            } else {
                403
            }
        }
    }
}

struct Ctx<'a> {
    app: &'a TestApp,
    f: &'a Fixture,
    target_a1: i64,
    people: PeopleFixture,
    css: String,
    n: usize,
    grants: usize,
}

const GRANTABLE: [&str; 8] = [
    "work_leader",
    "work_permitter",
    "ticket_issuer",
    "safety_auditor",
    "customer_manager",
    "inspector",
    "crew_member",
    "leader",
];

impl Ctx<'_> {
    async fn fill(&mut self, text: &str, caller: Option<i64>) -> String {
        self.n += 1;
        let mut out = text
            .replace("{n}", &self.n.to_string())
            .replace(
                "{day_n}",
                &(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("day") + chrono::Duration::days(self.n as i64))
                    .to_string(),
            )
            .replace("{unit_a}", &self.f.unit_a.to_string())
            .replace("{unit_a1}", &self.f.unit_a1.to_string())
            .replace("{unit_b}", &self.f.unit_b.to_string())
            .replace("{plain_a1}", &self.f.plain_a1.to_string())
            .replace("{plain_b}", &self.f.plain_b.to_string())
            .replace("{target_a1}", &self.target_a1.to_string())
            .replace("{person_a1}", &self.people.person_a1.to_string())
            .replace("{person_b}", &self.people.person_b.to_string())
            .replace("{contractor_a}", &self.people.contractor_a.to_string())
            .replace("{contractor_b}", &self.people.contractor_b.to_string())
            .replace("{ticket_a1}", &self.people.ticket_a1.to_string())
            .replace("{ticket_b}", &self.people.ticket_b.to_string())
            .replace("{finding_a1}", &self.people.finding_a1.to_string())
            .replace("{finding_b}", &self.people.finding_b.to_string())
            .replace("{plan_a1}", &self.people.plan_a1.to_string())
            .replace("{plan_b}", &self.people.plan_b.to_string())
            .replace("{plan_item_a1}", &self.people.plan_item_a1.to_string())
            .replace("{plan_item_b}", &self.people.plan_item_b.to_string())
            .replace("{outage_a1}", &self.people.outage_a1.to_string())
            .replace("{outage_b}", &self.people.outage_b.to_string())
            .replace("{outage_customer_a1}", &self.people.outage_customer_a1.to_string())
            .replace("{outage_customer_b}", &self.people.outage_customer_b.to_string())
            .replace("{compliance_a1}", &self.people.compliance_a1.to_string())
            .replace("{compliance_b}", &self.people.compliance_b.to_string())
            .replace("{fault_a1}", &self.people.fault_a1.to_string())
            .replace("{fault_b}", &self.people.fault_b.to_string())
            .replace("{report_a1}", &self.people.report_a1.to_string())
            .replace("{report_b}", &self.people.report_b.to_string())
            .replace("{webhook_a1}", &self.people.webhook_a1.to_string())
            .replace("{webhook_b}", &self.people.webhook_b.to_string())
            .replace("{delivery_a1}", &self.people.delivery_a1.to_string())
            .replace("{delivery_b}", &self.people.delivery_b.to_string())
            .replace("{eplan_a1}", &self.people.eplan_a1.to_string())
            .replace("{eplan_b}", &self.people.eplan_b.to_string())
            .replace("{drill_a1}", &self.people.drill_a1.to_string())
            .replace("{drill_b}", &self.people.drill_b.to_string())
            .replace("{complaint_a1}", &self.people.complaint_a1.to_string())
            .replace("{complaint_b}", &self.people.complaint_b.to_string())
            .replace("{evaluation_a1}", &self.people.evaluation_a1.to_string())
            .replace("{evaluation_b}", &self.people.evaluation_b.to_string())
            .replace("{project_a1}", &self.people.project_a1.to_string())
            .replace("{project_b}", &self.people.project_b.to_string())
            .replace("{project_notice_a1}", &self.people.project_notice_a1.to_string())
            .replace("{project_notice_b}", &self.people.project_notice_b.to_string())
            .replace("{css}", &self.css);
        if out.contains("{grant_role}") {
            // A role plain_a1 does not hold yet, so that each permitted grant succeeds.
            out = out.replace("{grant_role}", GRANTABLE[self.grants % GRANTABLE.len()]);
            self.grants += 1;
        }
        if out.contains("{revoke_role}") {
            // Give plain_a1 a role so that revoking it succeeds where permitted.
            let role = "contractor_admin";
            let _ = sqlx::query("INSERT INTO user_roles (user_id, role_code, unit_id, granted_at, granted_by) VALUES ($1, $2, $3, '2026-01-01T00:00:00.000000Z', 'test')")
                .bind(self.f.plain_a1).bind(role).bind(self.f.unit_a1.get()).execute(self.app.state.db().pool()).await;
            out = out.replace("{revoke_role}", role);
        }
        if out.contains("{fresh_user_a1}") {
            let id: i64 = sqlx::query_scalar("INSERT INTO users (username, display_name, unit_id, password_hash, must_change_password, password_changed_at, created_at) VALUES ($1, 'n', $2, 'x', 0, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z') RETURNING id")
                .bind(format!("fresh{}", self.n)).bind(self.f.unit_a1.get()).fetch_one(self.app.state.db().pool()).await.expect("user");
            out = out.replace("{fresh_user_a1}", &id.to_string());
        }
        if out.contains("{fresh_person_a1}") {
            let code = format!("FP{}", self.n);
            sqlx::query("INSERT INTO people (code, name, unit_id, active, created_at, updated_at) VALUES ($1, 'n', $2, 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')")
                .bind(&code).bind(self.f.unit_a1.get()).execute(self.app.state.db().pool()).await.expect("person");
            out = out.replace("{fresh_person_a1}", &code);
        }
        for (placeholder, person) in [
            ("{qual_a1}", self.people.person_a1),
            ("{qual_b}", self.people.person_b),
            ("{draft_qual_a1}", self.people.person_a1),
            ("{draft_qual_b}", self.people.person_b),
        ] {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO qualifications (person_id, kind, valid_from, valid_to, passed, created_at) VALUES ($1, 'training', '2026-01-01', '2026-12-31', 1, '2026-01-01T00:00:00.000000Z') RETURNING id")
                    .bind(person.get()).fetch_one(self.app.state.db().pool()).await.expect("qualification");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, ticket) in [("{hazard_a1}", self.people.ticket_a1), ("{hazard_b}", self.people.ticket_b)] {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO ticket_hazards (ticket_id, hazard, measure, sort_order) VALUES ($1, 'h', 'm', 99) RETURNING id")
                    .bind(ticket.get()).fetch_one(self.app.state.db().pool()).await.expect("hazard");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit) in [("{open_finding_a1}", self.f.unit_a1), ("{open_finding_b}", self.f.unit_b)] {
            if out.contains(placeholder) {
                let id = insert_finding(self.app, unit, &format!("M{}", self.n)).await;
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, person) in [("{code_a1}", self.people.person_a1), ("{code_b}", self.people.person_b)] {
            if out.contains(placeholder) {
                let code: String = sqlx::query_scalar("SELECT code FROM people WHERE id = $1")
                    .bind(person.get())
                    .fetch_one(self.app.state.db().pool())
                    .await
                    .expect("code");
                out = out.replace(placeholder, &code);
            }
        }
        for (placeholder, ticket) in [("{check_a1}", self.people.ticket_a1), ("{check_b}", self.people.ticket_b)] {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO onsite_checks (ticket_id, unit_id, template_code, ticket_state, failed, checked_by, checked_at) SELECT id, unit_id, 'general', 'started', 0, 'test', '2026-11-20T00:00:00.000000Z' FROM tickets WHERE id = $1 RETURNING id")
                    .bind(ticket.get()).fetch_one(self.app.state.db().pool()).await.expect("check");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit, severity) in [
            ("{violation_a1}", self.f.unit_a1, "general"),
            ("{violation_b}", self.f.unit_b, "general"),
            ("{serious_a1}", self.f.unit_a1, "serious"),
            ("{serious_b}", self.f.unit_b, "serious"),
        ] {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO violations (number, unit_id, offender_kind, team, occurred_at, place, class, severity, points, rule_broken, description, recorded_by, recorded_at) VALUES ($1, $2, 'team', '班组', '2026-11-20T00:00:00.000000Z', 'p', 'behaviour', $3, 6, 'r', 'd', 'test', '2026-11-20T00:00:00.000000Z') RETURNING id")
                    .bind(format!("WZ-T-{}", self.n)).bind(unit.get()).bind(severity)
                    .fetch_one(self.app.state.db().pool()).await.expect("violation");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit) in [("{task_a1}", self.f.unit_a1), ("{task_b}", self.f.unit_b)] {
            if out.contains(placeholder) {
                let id = insert_task(self.app, unit).await;
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit) in [("{customer_a1}", self.f.unit_a1), ("{customer_b}", self.f.unit_b)] {
            if out.contains(placeholder) {
                let id = insert_customer(self.app, unit, self.n).await;
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit) in [("{inspection_a1}", self.f.unit_a1), ("{inspection_b}", self.f.unit_b)] {
            if out.contains(placeholder) {
                let customer = insert_customer(self.app, unit, self.n).await;
                let id: i64 = sqlx::query_scalar("INSERT INTO inspections (customer_id, unit_id, inspected_on, kind, conclusion, notice_number, created_by, created_at) VALUES ($1, $2, '2026-11-20', 'periodic', '', $3, 'test', '2026-11-20T00:00:00.000000Z') RETURNING id")
                    .bind(customer).bind(unit.get()).bind(format!("JC-T-{}", self.n)).fetch_one(self.app.state.db().pool()).await.expect("inspection");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit, seal) in [
            ("{hazard_a1_open}", self.f.unit_a1, false),
            ("{hazard_b_open}", self.f.unit_b, false),
            ("{hazard_a1_asked}", self.f.unit_a1, false),
            ("{hazard_b_asked}", self.f.unit_b, false),
            ("{seal_a1}", self.f.unit_a1, true),
            ("{seal_b}", self.f.unit_b, true),
        ] {
            if out.contains(placeholder) {
                let customer = insert_customer(self.app, unit, self.n).await;
                // A later deadline asked for by someone else, for a manager to decide.
                let asked = placeholder.ends_with("_asked}");
                let hazard: i64 = sqlx::query_scalar("INSERT INTO hazards (number, customer_id, unit_id, title, description, grade, responsibility, state, escalation, created_by, created_at, registered_on, extension_to, extension_reason, extension_by) VALUES ($1, $2, $3, 't', '', 'general', 'customer', 'registered', 0, 'test', '2026-11-20T00:00:00.000000Z', '2026-11-20', $4, $5, $6) RETURNING id")
                    .bind(format!("YH-T-{}", self.n)).bind(customer).bind(unit.get())
                    .bind(asked.then_some("2027-06-30")).bind(asked.then_some("到货")).bind(asked.then_some("u_inspector"))
                    .fetch_one(self.app.state.db().pool()).await.expect("hazard");
                let id = if seal {
                    sqlx::query_scalar("INSERT INTO seals (customer_id, hazard_id, unit_id, equipment, seal_number, sealed_on, sealed_by) VALUES ($1, $2, $3, 'g', 's', '2026-11-20', 'test') RETURNING id")
                        .bind(customer).bind(hazard).bind(unit.get()).fetch_one(self.app.state.db().pool()).await.expect("seal")
                } else {
                    hazard
                };
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, contractor) in
            [("{draft_agreement_a}", self.people.contractor_a), ("{draft_agreement_b}", self.people.contractor_b)]
        {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO safety_agreements (code, contractor_id, valid_from, valid_to, created_at, recorded_by) VALUES ($1, $2, '2026-01-01', '2026-12-31', '2026-01-01T00:00:00.000000Z', 'u_contractor_admin') RETURNING id")
                    .bind(format!("DR{}", self.n)).bind(contractor).fetch_one(self.app.state.db().pool()).await.expect("draft agreement");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        for (placeholder, unit) in [("{attachment_a1}", self.f.unit_a1), ("{attachment_b}", self.f.unit_b)] {
            if out.contains(placeholder) {
                let id: i64 = sqlx::query_scalar("INSERT INTO attachments (owner_kind, owner_id, unit_id, name, content_type, size, sha256, content, uploaded_by, uploaded_at) VALUES ('inspection', 0, $1, 'p.png', 'image/png', 8, 'x', $2, 'test', '2026-11-20T00:00:00.000000Z') RETURNING id")
                    .bind(unit.get()).bind(b"\x89PNG\r\n\x1a\n".to_vec()).fetch_one(self.app.state.db().pool()).await.expect("attachment");
                out = out.replace(placeholder, &id.to_string());
            }
        }
        if out.contains("{template}") {
            let id: i64 = sqlx::query_scalar("INSERT INTO hazard_templates (work_kind, hazard, measure, sort_order) VALUES ('meter_install', 'h', 'm', 99) RETURNING id")
                .fetch_one(self.app.state.db().pool()).await.expect("template");
            out = out.replace("{template}", &id.to_string());
        }
        if out.contains("{own_upload}") && caller.is_none() {
            out = out.replace("{own_upload}", "none");
        }
        if out.contains("{own_upload}") {
            let token = format!("upload{}", self.n);
            sqlx::query("INSERT INTO uploads (token, user_id, name, content, created_at) VALUES ($1, $2, 'persons.csv', $3, '2026-01-01T00:00:00.000000Z')")
                .bind(&token).bind(caller.unwrap_or(0)).bind(format!("person_id,name,org_unit,contractor_id\nU{},上传,XG-XN,\n", self.n).into_bytes())
                .execute(self.app.state.db().pool()).await.expect("upload");
            out = out.replace("{own_upload}", &token);
        }
        if out.contains("{own_token}") {
            let id: i64 = sqlx::query_scalar("INSERT INTO api_tokens (user_id, name, token_hash, permissions, created_at, expires_at) VALUES ($1, 'spare', $2, 'users.view', '2026-01-01T00:00:00.000000Z', '2099-01-01T00:00:00.000000Z') RETURNING id")
                .bind(caller.unwrap_or(self.f.plain_a1)).bind(format!("spare-{}", self.n))
                .fetch_one(self.app.state.db().pool()).await.expect("spare token");
            out = out.replace("{own_token}", &id.to_string());
        }
        out
    }
}

async fn send(app: &TestApp, method: &str, path: &str, body: &str, auth: Option<(&str, &str)>) -> (u16, String) {
    let mut builder = Request::builder().method(method).uri(path).header("sec-fetch-site", "same-origin");
    let multipart;
    let body = if body == "MULTIPART" {
        multipart = "--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"persons.csv\"\r\nContent-Type: text/csv\r\n\r\n\
                     person_id,name,org_unit,contractor_id\nX1,上传,XG-XN,\n\r\n--B--\r\n";
        multipart
    } else {
        body
    };
    if body.starts_with("--B") {
        builder = builder.header("content-type", "multipart/form-data; boundary=B");
    } else if body.starts_with('{') {
        builder = builder.header("content-type", "application/json");
    } else if method != "GET" {
        builder = builder.header("content-type", "application/x-www-form-urlencoded");
    }
    if let Some((name, value)) = auth {
        builder = builder.header(name, value);
    }
    let response = app.request(builder.body(Body::from(body.to_owned())).expect("request")).await;
    (response.status.as_u16(), response.header("location").to_owned())
}

#[derive(Debug, Clone, Copy)]
struct PeopleFixture {
    person_a1: PersonId,
    person_b: PersonId,
    contractor_a: i64,
    contractor_b: i64,
    /// Drafts in county A1 and city B.
    ticket_a1: TicketId,
    ticket_b: TicketId,
    /// Findings in county A1 and city B.
    finding_a1: i64,
    finding_b: i64,
    /// Draft weekly plans in county A1 and city B, each with one item.
    plan_a1: i64,
    plan_b: i64,
    plan_item_a1: i64,
    plan_item_b: i64,
    /// Fault outages (scheduled, no notice needed) in county A1 and city B, each with one customer.
    outage_a1: i64,
    outage_b: i64,
    outage_customer_a1: i64,
    outage_customer_b: i64,
    /// Projects in county A1 and city B whose design review failed: waiting on the customer,
    /// each with its written notice (an inspection id).
    project_a1: i64,
    project_b: i64,
    project_notice_a1: i64,
    project_notice_b: i64,
    /// An on-site plan, a drill of it, a complaint and an evaluation in county A1 and city B.
    eplan_a1: i64,
    eplan_b: i64,
    drill_a1: i64,
    drill_b: i64,
    complaint_a1: i64,
    complaint_b: i64,
    evaluation_a1: i64,
    evaluation_b: i64,
    /// A fault in county A1 and one in city B.
    fault_a1: i64,
    fault_b: i64,
    /// A compliance check (all passed) in county A1 and one in city B.
    compliance_a1: i64,
    compliance_b: i64,
    /// This month's supervision report (a draft) of county A1 and of city B.
    report_a1: i64,
    report_b: i64,
    webhook_a1: i64,
    webhook_b: i64,
    delivery_a1: i64,
    delivery_b: i64,
}

/// Own staff in county A1 and city B; a contractor managed by city A (whose worker is the
/// contractor administrator's person) and one managed by city B.
async fn people_fixture(app: &TestApp, f: &Fixture) -> PeopleFixture {
    use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, Reach};
    use gridsafe_domain::access::perm;
    let op = support::operator();
    let cap = op.authorize::<perm::ContractorsManage>().expect("op");
    let meta = support::meta();
    let contractor = |code: &str, unit: UnitId| ContractorInput {
        code: code.into(),
        name: format!("承装{code}"),
        unit_id: unit,
        license_level: Some(4),
        license_valid_to: "2030-12-31".into(),
        ..Default::default()
    };
    let contractor_a =
        people::save_contractor(app.app(), &cap, &meta, None, contractor("CA", f.unit_a)).await.expect("contractor");
    let contractor_b =
        people::save_contractor(app.app(), &cap, &meta, None, contractor("CB", f.unit_b)).await.expect("contractor");
    let pcap = op.authorize::<perm::PeopleManage>().expect("op");
    let reach = Reach::<Manage>::units(&pcap);
    let person = |code: &str, unit: UnitId, contractor_id: Option<i64>| PersonInput {
        code: code.into(),
        name: format!("人员{code}"),
        unit_id: unit,
        contractor_id,
        active: true,
        ..Default::default()
    };
    let person_a1 =
        people::save_person(app.app(), &reach, &meta, None, person("S001", f.unit_a1, None)).await.expect("person");
    let person_b =
        people::save_person(app.app(), &reach, &meta, None, person("S002", f.unit_b, None)).await.expect("person");
    people::save_person(app.app(), &reach, &meta, None, person("W001", f.unit_a, Some(contractor_a)))
        .await
        .expect("worker");
    let ucap = op.authorize::<perm::UsersManage>().expect("op");
    people::link_account(app.app(), &ucap, &meta, f.user("contractor_admin"), Some("W001")).await.expect("link");
    let tcap = op.authorize::<perm::TicketsWrite>().expect("op");
    let ticket = |unit: UnitId| gridsafe_app::tickets::TicketInput {
        type_code: "low_voltage".into(),
        unit_id: unit,
        work_kind: "meter_install".into(),
        location: "表箱".into(),
        content: "装表".into(),
        planned_start: "2026-11-26 09:00".into(),
        planned_end: "2026-11-26 17:00".into(),
        ..Default::default()
    };
    let ticket_a1 =
        gridsafe_app::tickets::create_ticket(app.app(), &tcap, &meta, ticket(f.unit_a1)).await.expect("ticket");
    let ticket_b =
        gridsafe_app::tickets::create_ticket(app.app(), &tcap, &meta, ticket(f.unit_b)).await.expect("ticket");
    let finding_a1 = insert_finding(app, f.unit_a1, "FA1").await;
    let finding_b = insert_finding(app, f.unit_b, "FB").await;
    let wcap = op.authorize::<perm::PlansWrite>().expect("op");
    let plan = |unit: UnitId| gridsafe_app::plans::PlanInput {
        unit_id: unit,
        kind: "weekly".into(),
        first_day: "2026-11-30".into(),
    };
    let item = |unit: UnitId| gridsafe_app::plans::ItemInput {
        start: "2026-12-01 09:00".into(),
        end: "2026-12-01 11:00".into(),
        site: "表箱".into(),
        work_kind: "meter_install".into(),
        team_id: unit,
        ..Default::default()
    };
    let plan_a1 = gridsafe_app::plans::create_plan(app.app(), &wcap, &meta, plan(f.unit_a1)).await.expect("plan");
    let plan_b = gridsafe_app::plans::create_plan(app.app(), &wcap, &meta, plan(f.unit_b)).await.expect("plan");
    let plan_item_a1 =
        gridsafe_app::plans::add_item(app.app(), &wcap, &meta, plan_a1, item(f.unit_a1)).await.expect("item");
    let plan_item_b =
        gridsafe_app::plans::add_item(app.app(), &wcap, &meta, plan_b, item(f.unit_b)).await.expect("item");
    let ocap = op.authorize::<perm::OutagesRequest>().expect("op");
    let outage_customer_a1 = insert_customer(app, f.unit_a1, 900).await;
    let outage_customer_b = insert_customer(app, f.unit_b, 900).await;
    let outage = |unit: UnitId| gridsafe_app::outages::OutageInput {
        unit_id: unit,
        kind: "fault".into(),
        equipment: "10kV 线路".into(),
        start: "2026-11-26 14:00".into(),
        end: "2026-11-26 18:00".into(),
        reason: "抢修".into(),
        customers: format!("C{unit}X900"),
        ..Default::default()
    };
    let (outage_a1, _) =
        gridsafe_app::outages::request_outage(app.app(), &ocap, &meta, outage(f.unit_a1)).await.expect("outage");
    let (outage_b, _) =
        gridsafe_app::outages::request_outage(app.app(), &ocap, &meta, outage(f.unit_b)).await.expect("outage");
    let (project_a1, project_notice_a1) = failed_project(app, f.unit_a1, "PA1", "S001").await;
    let (project_b, project_notice_b) = failed_project(app, f.unit_b, "PB", "S002").await;
    let (eplan_a1, drill_a1, complaint_a1, evaluation_a1) = emergency_records(app, f.unit_a1, "A1").await;
    let (eplan_b, drill_b, complaint_b, evaluation_b) = emergency_records(app, f.unit_b, "B").await;
    let fault = |unit: UnitId| gridsafe_app::faults::FaultInput {
        unit_id: unit,
        system: "营销业务应用".into(),
        started_at: "2026-11-20 09:00".into(),
        cause: "software".into(),
        root_cause: "R".into(),
        countermeasure: "C".into(),
        ..Default::default()
    };
    let fcap = op.authorize::<perm::FaultsRecord>().expect("op");
    let fault_a1 = gridsafe_app::faults::record_fault(app.app(), &fcap, &meta, fault(f.unit_a1)).await.expect("fault");
    let fault_b = gridsafe_app::faults::record_fault(app.app(), &fcap, &meta, fault(f.unit_b)).await.expect("fault");
    let check = |unit: UnitId| gridsafe_app::faults::CheckInput {
        unit_id: unit,
        kind: "backend".into(),
        checked_on: "2026-11-20".into(),
        checker: "C".into(),
        answers: vec![(1, "pass".into(), String::new()), (2, "pass".into(), String::new())],
        ..Default::default()
    };
    let compliance_a1 =
        gridsafe_app::faults::record_check(app.app(), &fcap, &meta, check(f.unit_a1)).await.expect("check");
    let compliance_b =
        gridsafe_app::faults::record_check(app.app(), &fcap, &meta, check(f.unit_b)).await.expect("check");
    let qcap = op.authorize::<perm::QualityWrite>().expect("op");
    let report_a1 = gridsafe_app::quality::create(app.app(), &qcap, &meta, f.unit_a1, "2026-11").await.expect("report");
    let report_b = gridsafe_app::quality::create(app.app(), &qcap, &meta, f.unit_b, "2026-11").await.expect("report");
    let (webhook_a1, delivery_a1) = webhook(app, f.unit_a1).await;
    let (webhook_b, delivery_b) = webhook(app, f.unit_b).await;
    PeopleFixture {
        report_a1,
        report_b,
        webhook_a1,
        webhook_b,
        delivery_a1,
        delivery_b,
        compliance_a1,
        compliance_b,
        fault_a1,
        fault_b,
        eplan_a1,
        eplan_b,
        drill_a1,
        drill_b,
        complaint_a1,
        complaint_b,
        evaluation_a1,
        evaluation_b,
        project_a1,
        project_b,
        project_notice_a1,
        project_notice_b,
        outage_a1,
        outage_b,
        outage_customer_a1,
        outage_customer_b,
        person_a1,
        person_b,
        contractor_a,
        contractor_b,
        ticket_a1,
        ticket_b,
        finding_a1,
        finding_b,
        plan_a1,
        plan_b,
        plan_item_a1,
        plan_item_b,
    }
}

/// A subscription of `unit` and one delivery of it: their ids.
async fn webhook(app: &TestApp, unit: UnitId) -> (i64, i64) {
    use gridsafe_app::webhooks::{self, SubscriptionInput};
    use gridsafe_domain::access::perm;
    let cap = support::operator().authorize::<perm::WebhooksManage>().expect("op");
    let input = SubscriptionInput {
        unit_id: unit,
        name: format!("订阅 {unit}"),
        url: "https://receiver.example/hook".into(),
        format: "json".into(),
        events: vec!["report.issued".into()],
    };
    let id = webhooks::create(app.app(), &cap, &support::meta(), input).await.expect("subscription").id;
    let mut tx = app.app().db().begin_write().await.expect("tx");
    let data = serde_json::json!({ "month": "2026-11" });
    let kind = gridsafe_domain::webhooks::EventKind::ReportIssued;
    webhooks::enqueue(&mut tx, kind, unit, &format!("matrix:{unit}"), data, app.clock_now()).await.expect("event");
    tx.commit().await.expect("commit");
    let (_, deliveries) = webhooks::get(app.app(), &cap, id, 1).await.expect("deliveries");
    (id, deliveries[0].id)
}

/// An on-site plan of `unit` with a drill, a complaint and an evaluation: their ids.
async fn emergency_records(app: &TestApp, unit: UnitId, tag: &str) -> (i64, i64, i64, i64) {
    use gridsafe_app::emergency::{self, ComplaintInput, DrillInput, EvaluationInput, PlanInput};
    use gridsafe_domain::access::perm;
    let op = support::operator();
    let meta = support::meta();
    let manage = op.authorize::<perm::EmergencyManage>().expect("op");
    let plan = PlanInput {
        unit_id: unit,
        kind: "onsite".into(),
        title: format!("现场处置方案 {tag}"),
        risks: vec!["field_work".into()],
        version: "1".into(),
        approved_by: "A".into(),
        approved_on: "2026-01-01".into(),
        review_due: "2028-01-01".into(),
        ..Default::default()
    };
    let plan = emergency::create_plan(app.app(), &manage, &meta, plan).await.expect("plan");
    let drill = DrillInput {
        held_on: "2026-06-01".into(),
        scenario: "S".into(),
        people: if tag == "B" { "S002".into() } else { "S001".into() },
        rating: "good".into(),
        ..Default::default()
    };
    let drill = emergency::record_drill(app.app(), &manage, &meta, plan, drill).await.expect("drill");
    let record = op.authorize::<perm::FeedbackRecord>().expect("op");
    let complaint = ComplaintInput {
        ticket_no: format!("95598-{tag}"),
        received_at: "2026-11-20 09:00".into(),
        category: "用电安全".into(),
        content: "C".into(),
        unit_id: unit,
        ..Default::default()
    };
    let complaint = emergency::record_complaint(app.app(), &record, &meta, complaint).await.expect("complaint");
    let evaluation = EvaluationInput {
        unit_id: unit,
        period: "2026-11".into(),
        kind: "visit".into(),
        score: "90".into(),
        evaluator: "E".into(),
        ..Default::default()
    };
    let evaluation = emergency::record_evaluation(app.app(), &record, &meta, evaluation).await.expect("evaluation");
    (plan, drill, complaint, evaluation)
}

/// A 10 kV project of a new customer in `unit` whose design review (by `person`, made a level-1
/// inspector) failed: (project id, its inspection with the written notice).
async fn failed_project(app: &TestApp, unit: UnitId, account: &str, person: &str) -> (i64, i64) {
    use gridsafe_app::projects::{self, InspectionInput, ProjectInput, StepInput};
    use gridsafe_domain::access::perm;
    use gridsafe_domain::projects::ProjectStep;
    let op = support::operator();
    let meta = support::meta();
    let id: i64 = sqlx::query_scalar("SELECT id FROM people WHERE code = $1")
        .bind(person)
        .fetch_one(app.state.db().pool())
        .await
        .expect("person");
    let id = PersonId::new(id);
    let pcap = op.authorize::<perm::PeopleManage>().expect("op");
    for (kind, level) in [("safety_exam", None), ("inspector", Some(1))] {
        let q = gridsafe_app::people::QualificationInput {
            kind: kind.into(),
            valid_from: "2026-01-01".into(),
            valid_to: "2026-12-31".into(),
            level,
            passed: true,
            ..Default::default()
        };
        gridsafe_app::people::add_qualification(app.app(), &gridsafe_app::people::Reach::units(&pcap), &meta, id, q)
            .await
            .expect("qualification");
    }
    let manage = op.authorize::<perm::ProjectsManage>().expect("op");
    let input = ProjectInput {
        account_no: account.into(),
        customer_name: format!("客户{account}"),
        address: "地址".into(),
        unit_id: unit,
        kind: "new".into(),
        voltage_kv: "10".into(),
        capacity_kva: "630".into(),
        manager: person.into(),
        accepted_on: "2026-11-02".into(),
        ..Default::default()
    };
    let project = projects::register(app.app(), &manage, &meta, input, None).await.expect("project");
    for (step, day) in
        [(ProjectStep::Survey, "2026-11-03"), (ProjectStep::Reply, "2026-11-04"), (ProjectStep::Submit, "2026-11-05")]
    {
        let input = StepInput { on: day.into(), ..Default::default() };
        projects::take_step(app.app(), &manage, &meta, project, step, input).await.expect("step");
    }
    let inspect = op.authorize::<perm::ProjectsInspect>().expect("op");
    let input = InspectionInput {
        inspector: id,
        on: "2026-11-06".into(),
        new_defects: "图纸缺接地系统".into(),
        ..Default::default()
    };
    let done = projects::inspect(app.app(), &inspect, &meta, project, input).await.expect("inspect");
    (project.get(), done.inspection)
}

/// An open finding of a unit, as a run of the rules would leave it.
async fn insert_finding(app: &TestApp, unit: UnitId, entity: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
         VALUES ('NO_TICKET', 'order', $1, '', 'd', $2, '2026-11', 'open', '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z') RETURNING id",
    )
    .bind(entity)
    .bind(unit.get())
    .fetch_one(app.state.db().pool())
    .await
    .expect("finding")
}

async fn insert_customer(app: &TestApp, unit: UnitId, n: usize) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
         VALUES ($1, '客户', '地址', $2, 10.0, 'none', '银行', 1, 'suspected', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test') RETURNING id",
    )
    .bind(format!("C{unit}X{n}"))
    .bind(unit.get())
    .fetch_one(app.state.db().pool())
    .await
    .expect("customer")
}

async fn insert_task(app: &TestApp, unit: UnitId) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO rectification_tasks (source_kind, source_id, unit_id, title, responsible, deadline, state, created_at, created_by) \
         VALUES ('finding', 0, $1, 't', 'r', '2026-12-31', 'open', '2026-11-26T00:00:00.000000Z', 'test') RETURNING id",
    )
    .bind(unit.get())
    .fetch_one(app.state.db().pool())
    .await
    .expect("task")
}

backend_tests! {
    async fn every_route_answers_every_subject_as_the_matrix_says(app: TestApp) {
        // Every route the application serves has a row, and every row is a route.
        let routes: BTreeSet<(String, String)> = gridsafe_web::route_table().into_iter().collect();
        let rows: BTreeSet<(String, String)> = ROWS.iter().map(|r| (r.method.to_owned(), r.pattern.to_owned())).collect();
        let missing: Vec<_> = routes.difference(&rows).collect();
        let stale: Vec<_> = rows.difference(&routes).collect();
        assert!(missing.is_empty(), "routes without a row in the access matrix: {missing:?}");
        assert!(stale.is_empty(), "matrix rows for routes that do not exist: {stale:?}");

        let f = app.fixture().await;
        let target_a1 = app.user("target_a1", f.unit_a1, &[]).await;
        let integrator = app.user("integrator", f.unit_a, &[("system_admin", f.unit_a)]).await;
        let login_page = app.get("/login").await.body;
        let css = login_page.split("href=\"").find_map(|s| s.split('"').next().filter(|h| h.ends_with("style.css"))).expect("css").to_owned();
        let tokens = {
            let cookie = app.session_for(integrator).await;
            let mut secrets = Vec::new();
            for perms in [serde_json::json!(["units.manage", "users.view", "users.manage", "roles.manage"]), serde_json::json!(["users.view"])] {
                let r = app.json(axum::http::Method::POST, "/api/v1/tokens", Some(serde_json::json!({"name": "matrix", "permissions": perms, "valid_days": 30})), &[("cookie", &cookie)]).await;
                secrets.push(format!("Bearer {}", r.json()["secret"].as_str().expect("secret")));
            }
            secrets
        };
        let people = people_fixture(&app, &f).await;
        let mut ctx = Ctx { app: &app, f: &f, target_a1, people, css, n: 0, grants: 0 };
        let mut subjects = vec![Subject::Anonymous];
        subjects.extend(ROLES.iter().map(|r| Subject::Role(r)));
        subjects.push(Subject::Token { full: true });
        subjects.push(Subject::Token { full: false });

        let mut failures = Vec::new();
        for row in ROWS {
            for subject in &subjects {
                let (auth_header, caller) = match subject {
                    Subject::Anonymous => (None, None),
                    Subject::Role(role) => {
                        let id = f.user(role);
                        // A user who changed their password keeps the new one; put the known one back.
                        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(f.plain_b).fetch_one(app.state.db().pool()).await.expect("hash");
                        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id).execute(app.state.db().pool()).await.expect("reset");
                        (Some(("cookie".to_owned(), app.session_for(id).await)), Some(id))
                    }
                    Subject::Token { full } => (Some(("authorization".to_owned(), tokens[usize::from(!*full)].clone())), Some(integrator)),
                };
                let path = ctx.fill(row.path, caller).await;
                let body = ctx.fill(row.body, caller).await;
                let before = app.audit_count().await;
                let auth = auth_header.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
                let (status, location) = send(&app, row.method, &path, &body, auth).await;
                let want = expected(row, subject);
                if status != want {
                    failures.push(format!("{} {} as {subject:?}: got {status}, want {want}", row.method, path));
                    continue;
                }
                if matches!(subject, Subject::Anonymous) && status == 303 && !matches!(row.access, Access::Public(_)) {
                    assert!(location.starts_with("/login?next="), "{} {path}: {location}", row.method);
                }
                let after = app.audit_count().await;
                let changes_state = row.method != "GET" && !matches!(row.pattern, "/lang" | "/login");
                if changes_state && (status < 400 || status == 403) && !matches!(subject, Subject::Anonymous) && after == before {
                    failures.push(format!("{} {path} as {subject:?} ({status}) wrote no audit event", row.method));
                }
                if row.method == "GET" && status == 200 && after != before {
                    failures.push(format!("GET {path} as {subject:?} changed the audit trail"));
                }
            }
            // The same action on a record of another unit is refused to the permission holder.
            let holder = match row.access {
                Access::Perm(p, _) => ROLES.iter().find(|r| role_permissions(r).contains(&p)).copied(),
                Access::Roles(table) => table.first().map(|(r, _)| *r),
                Access::Accounts(_) => Some("system_admin"),
                _ => None,
            };
            if let (Some((path, body)), Some(holder)) = (row.other_unit, holder) {
                let cookie = app.session_for(f.user(holder)).await;
                let path = ctx.fill(path, None).await;
                let body = ctx.fill(body, None).await;
                let before = app.audit_count().await;
                let (status, _) = send(&app, row.method, &path, &body, Some(("cookie", &cookie))).await;
                if status != 403 {
                    failures.push(format!("{} {path} on another unit as {holder}: got {status}, want 403", row.method));
                } else if app.audit_count().await == before {
                    failures.push(format!("{} {path} on another unit: the denial was not audited", row.method));
                }
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
