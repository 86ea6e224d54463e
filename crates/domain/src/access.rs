//! Who may do what, where.
//!
//! Permissions are one enum in code; roles are data (`roles`, `role_permissions`) granted to a
//! user *at* an organisation unit, and reach that unit and every unit below it. A privileged
//! service function takes a [`Capability<P>`], which only [`Principal::authorize`] can make: a
//! check that was not done does not compile.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::ids::UnitId;
use crate::rules::{self, Violation};

macro_rules! permissions {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal,)*) => {
        /// Everything GridSafe checks access for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Permission {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The stable code stored in the database and shown in the API.
            pub fn code(self) -> &'static str {
                match self {
                    $(Permission::$variant => $code,)*
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(Permission::$variant),)*
                    _ => None,
                }
            }
        }

        /// One zero-sized type per permission, for [`Capability`].
        pub mod perm {
            $(
                #[derive(Debug)]
                pub struct $variant;
                impl super::PermissionMarker for $variant {
                    const PERMISSION: super::Permission = super::Permission::$variant;
                }
            )*
        }
    };
}

permissions! {
    /// Maintain the organisation-unit tree.
    UnitsManage => "units.manage",
    /// See user accounts and their roles.
    UsersView => "users.view",
    /// Create accounts, grant and revoke roles, disable and enable accounts.
    UsersManage => "users.manage",
    /// Change which permissions each role grants.
    RolesManage => "roles.manage",
    /// Review permissions, handle dormant and locked accounts.
    AccountsReview => "accounts.review",
    /// Read and verify the audit trail.
    AuditRead => "audit.read",
    /// See people and their qualifications.
    PeopleView => "people.view",
    /// Create and edit people and qualifications, import registers.
    PeopleManage => "people.manage",
    /// See contractors, their licences, agreements and ratings.
    ContractorsView => "contractors.view",
    /// Maintain contractors: licence, agreements, ratings, blacklist.
    ContractorsManage => "contractors.manage",
    /// A contractor's own administrator: their company's workers and documents only.
    OwnContractor => "contractor.own",
    /// See work tickets and cards.
    TicketsView => "tickets.view",
    /// Fill in ticket drafts: people, hazards, survey, orders.
    TicketsWrite => "tickets.write",
    /// Take lifecycle steps on tickets that name the user's person (签发、接票、许可、交底确认 …).
    TicketsSign => "tickets.sign",
    /// Evaluate executed tickets (评价) and see the pass-rate statistics.
    TicketsEvaluate => "tickets.evaluate",
    /// Maintain the document catalogue, hazard templates and evaluation reasons.
    TicketsConfigure => "tickets.configure",
    /// See cross-audit findings, rectification tasks and the KPIs.
    FindingsView => "findings.view",
    /// Confirm or dismiss findings; open and close rectification tasks.
    FindingsReview => "findings.review",
    /// Import the marketing system's work orders and meter events.
    MarketingImport => "marketing.import",
    /// Push work orders and meter events as they happen (the marketing and metering systems'
    /// tokens; `POST /api/v1/work-orders`, `/api/v1/meter-events`).
    MarketingPush => "marketing.push",
    /// See customers, inspections, hazards, sealed equipment and the safety dashboards.
    CustomersView => "customers.view",
    /// Maintain the customer register (客户档案) and import it.
    CustomersManage => "customers.manage",
    /// Record inspections, register hazards and take their steps, seal and unseal equipment.
    InspectionsRecord => "inspections.record",
    /// Review rectified hazards (复查) and close them (销号).
    HazardsReview => "hazards.review",
    /// Maintain the inspection cycle table, checklist templates and hazard grades.
    InspectionsConfigure => "inspections.configure",
    /// Approve (or refuse) a hazard's rectification deadline beyond its grade's days.
    HazardsApprove => "hazards.approve",
    /// See work plans, their items, shared sites and changes.
    PlansView => "plans.view",
    /// Draft a unit's work plans: items, teams, people, shared sites merged (team leaders).
    PlansWrite => "plans.write",
    /// Approve and publish work plans, or return them (the unit's manager).
    PlansApprove => "plans.approve",
    /// See outages, their notices and restorations.
    OutagesView => "outages.view",
    /// Request outages for the customers' work and record their notices (the customer manager: 一口对外).
    OutagesRequest => "outages.request",
    /// Approve outages requested later than the notice allows (the unit's manager).
    OutagesApprove => "outages.approve",
    /// Cut and restore supply once the rules allow, confirming the crews are off (the permit giver).
    OutagesOperate => "outages.operate",
    /// Record one's own arrival at and departure from a site (到岗到位: leaders and managers).
    SupervisionAttend => "supervision.attend",
    /// See the violation register, points and the supervision dashboard.
    ViolationsView => "violations.view",
    /// Record violations found on site (违章), with their evidence.
    ViolationsRecord => "violations.record",
    /// Record review meetings (说清楚) and re-admissions (再准入) after retraining and an exam.
    ViolationsReview => "violations.review",
    /// See customer projects (业扩), their stages, inspections and the dashboard.
    ProjectsView => "projects.view",
    /// Register projects and record their stages, the customer's submissions and waits, the
    /// notices' receipts and the energising (the customer manager).
    ProjectsManage => "projects.manage",
    /// Record a project's inspections: design review, mid-term check, completion (the inspector).
    ProjectsInspect => "projects.inspect",
    /// Keep the working-day calendar and the limits table.
    ProjectsConfigure => "projects.configure",
    /// See emergency plans and drills, the rural pilots and their library, complaints and evaluations.
    EmergencyView => "emergency.view",
    /// Keep emergency plans, record drills and their problems, keep the pilots and their library.
    EmergencyManage => "emergency.manage",
    /// Record and import safety-related complaints (95598) and service evaluations.
    FeedbackRecord => "feedback.record",
    /// See the fault database of the marketing information systems.
    FaultsView => "faults.view",
    /// Record and import faults, their causes, countermeasures and assessments.
    FaultsRecord => "faults.record",
    /// See the quality indicators and the monthly supervision reports (运行质量监督报告).
    QualityView => "quality.view",
    /// Write and issue the monthly supervision report, reissue it, keep the indicators' formulas
    /// and targets (the safety auditor).
    QualityWrite => "quality.write",
    /// Subscribe other systems to the unit's events (webhooks), see the deliveries and send one
    /// again (the safety auditor).
    WebhooksManage => "webhooks.manage",
    /// Import the registers kept before GridSafe with their real dates: tickets, the hazard
    /// ledger, the inspection history (the safety auditor).
    HistoryImport => "history.import",
}

/// What kind of duty a permission belongs to, for the separation of the three administrators
/// (三权分立): an administrator class, the account information every administrator reads, or the
/// business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    Admin(AdminClass),
    /// Seeing accounts: needed by the system and the security administrator alike.
    AdminShared,
    Business,
}

impl Permission {
    pub fn duty(self) -> Duty {
        match self {
            Permission::UnitsManage | Permission::UsersManage | Permission::RolesManage => {
                Duty::Admin(AdminClass::System)
            }
            Permission::AccountsReview => Duty::Admin(AdminClass::Security),
            Permission::AuditRead => Duty::Admin(AdminClass::Audit),
            Permission::UsersView => Duty::AdminShared,
            _ => Duty::Business,
        }
    }
}

/// Whether one role, or one account through all its roles, may hold `permissions` together: the
/// permissions of at most one administrator class, and an administrator no business permission
/// (GB/T 22239-2019 三权分立). Judged on permissions, not role names, so that editing what a role
/// grants cannot merge the classes either.
pub fn check_separation(permissions: impl IntoIterator<Item = Permission>) -> Result<(), Violation> {
    let mut classes: Vec<AdminClass> = Vec::new();
    let mut administrative = false;
    let mut business = false;
    for p in permissions {
        match p.duty() {
            Duty::Admin(c) => {
                administrative = true;
                if !classes.contains(&c) {
                    classes.push(c);
                }
            }
            Duty::AdminShared => administrative = true,
            Duty::Business => business = true,
        }
    }
    if classes.len() > 1 {
        let names: Vec<&str> = classes.iter().map(|c| c.code()).collect();
        return Err(Violation::of(rules::ADMIN_SEPARATION).with("classes", names.join("+")));
    }
    if administrative && business {
        return Err(Violation::of(rules::ADMIN_SEPARATION).with("classes", "admin+business"));
    }
    Ok(())
}

/// Who performs an act on an account (grant or revoke a role, reset the password, disable or
/// enable, unlock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountActor {
    /// The machine's operator at the console: whoever runs the binary already holds the database.
    Console,
    /// A signed-in administrator of this class.
    Admin { user_id: i64, class: AdminClass },
}

/// Whether `actor` may act on account `target`, whose roles grant (or, for a grant, will grant)
/// `permissions`. No administrator acts on his own account; an administrator's account is acted
/// on by the security administrator only (otherwise the system administrator could reset the
/// auditor's password, read it and sign in as the auditor); and a security administrator's
/// account by a different class only, which leaves the console.
pub fn check_account_act(
    actor: AccountActor,
    target: i64,
    permissions: impl IntoIterator<Item = Permission>,
) -> Result<(), Violation> {
    let duties: Vec<Duty> = permissions.into_iter().map(Permission::duty).collect();
    let admin = duties.iter().any(|d| *d != Duty::Business);
    let security = duties.contains(&Duty::Admin(AdminClass::Security));
    match actor {
        AccountActor::Console => Ok(()),
        AccountActor::Admin { user_id, .. } if user_id == target => Err(Violation::of(rules::ACCOUNT_SELF)),
        AccountActor::Admin { class, .. } if (admin && class != AdminClass::Security) || security => {
            Err(Violation::of(rules::ADMIN_ACCOUNTS).with("class", class.code()))
        }
        AccountActor::Admin { .. } => Ok(()),
    }
}

/// Ties a marker type to its permission.
pub trait PermissionMarker {
    const PERMISSION: Permission;
}

/// The class of an administrator role; no account holds roles of two classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminClass {
    System,
    Security,
    Audit,
}

impl AdminClass {
    pub fn code(self) -> &'static str {
        match self {
            AdminClass::System => "system",
            AdminClass::Security => "security",
            AdminClass::Audit => "audit",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "system" => Some(AdminClass::System),
            "security" => Some(AdminClass::Security),
            "audit" => Some(AdminClass::Audit),
            _ => None,
        }
    }
}

/// The level of an organisation unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Province,
    City,
    County,
    Team,
}

impl UnitKind {
    pub const ALL: [UnitKind; 4] = [UnitKind::Province, UnitKind::City, UnitKind::County, UnitKind::Team];

    pub fn code(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::City => "city",
            UnitKind::County => "county",
            UnitKind::Team => "team",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        UnitKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A unit's place in the tree: the ids from the root down, as `/1/5/23/`. A unit is within a
/// scope when the scope's path is a prefix of its own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitPath(String);

impl UnitPath {
    pub fn root_of(id: UnitId) -> Self {
        Self(format!("/{id}/"))
    }

    pub fn child(&self, id: UnitId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Reads a stored path; `None` unless it looks like `/1/5/`.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.strip_prefix('/')?.strip_suffix('/')?;
        (!inner.is_empty() && inner.split('/').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_within(&self, scope: &UnitPath) -> bool {
        self.0.starts_with(&scope.0)
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count().saturating_sub(1)
    }
}

/// How a request reached GridSafe; recorded with every audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Api,
    Cli,
    Job,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Cli => "cli",
            Channel::Job => "job",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "web" => Some(Channel::Web),
            "api" => Some(Channel::Api),
            "cli" => Some(Channel::Cli),
            "job" => Some(Channel::Job),
            _ => None,
        }
    }
}

/// Who acts, as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the operator at the command line and for jobs.
    pub user_id: Option<i64>,
    pub name: String,
    pub channel: Channel,
}

/// An authenticated user (or the operator) and everything they may do, where.
#[derive(Debug, Clone)]
pub struct Principal {
    actor: Actor,
    grants: Vec<(Permission, UnitPath)>,
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("permission {} not granted", .0.code())]
    NotGranted(Permission),
    #[error("record outside the units where {} is granted", .0.code())]
    OutsideScope(Permission),
}

impl Principal {
    /// `grants` are the (permission, unit) pairs of the user's roles, already narrowed to an
    /// API token's permissions when the request came with one.
    pub fn new(actor: Actor, grants: Vec<(Permission, UnitPath)>) -> Self {
        Self { actor, grants }
    }

    /// The operator of the machine (command line) or a scheduled job: every permission,
    /// everywhere. Whoever runs the binary on the server already holds the database.
    pub fn operator(name: &str, channel: Channel) -> Self {
        Self {
            actor: Actor { user_id: None, name: name.to_owned(), channel },
            grants: Permission::ALL.iter().map(|p| (*p, UnitPath(String::from("/")))).collect(),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn user_id(&self) -> Option<i64> {
        self.actor.user_id
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.grants.iter().any(|(p, _)| *p == permission)
    }

    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.grants.iter().map(|(p, _)| *p).collect()
    }

    /// The one place access is decided.
    pub fn authorize<P: PermissionMarker>(&self) -> Result<Capability<P>, Denied> {
        let mut scope: Vec<UnitPath> =
            self.grants.iter().filter(|(p, _)| *p == P::PERMISSION).map(|(_, unit)| unit.clone()).collect();
        if scope.is_empty() {
            return Err(Denied::NotGranted(P::PERMISSION));
        }
        // Keep only the widest paths: a unit inside another granted unit adds nothing.
        scope.sort();
        scope.dedup();
        let widest: Vec<UnitPath> =
            scope.iter().filter(|s| !scope.iter().any(|o| o != *s && s.is_within(o))).cloned().collect();
        Ok(Capability { actor: self.actor.clone(), scope: widest, permission: PhantomData })
    }
}

/// Proof that `actor` holds permission `P` over the units of `scope`.
#[derive(Debug)]
pub struct Capability<P> {
    actor: Actor,
    scope: Vec<UnitPath>,
    permission: PhantomData<P>,
}

// By hand: a derive would require `P: Clone` of the zero-sized marker.
impl<P> Clone for Capability<P> {
    fn clone(&self) -> Self {
        Self { actor: self.actor.clone(), scope: self.scope.clone(), permission: PhantomData }
    }
}

impl<P: PermissionMarker> Capability<P> {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn permission(&self) -> Permission {
        P::PERMISSION
    }

    /// The units (with everything below them) this capability reaches.
    pub fn scope(&self) -> &[UnitPath] {
        &self.scope
    }

    pub fn covers(&self, unit: &UnitPath) -> bool {
        self.scope.iter().any(|s| unit.is_within(s))
    }

    /// `Ok` when `unit` is in scope, else the refusal to report.
    pub fn check(&self, unit: &UnitPath) -> Result<(), Denied> {
        if self.covers(unit) { Ok(()) } else { Err(Denied::OutsideScope(P::PERMISSION)) }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn administrators_never_act_on_their_own_account_and_admin_accounts_are_the_security_administrators() {
        use Permission as P;
        let sys = AccountActor::Admin { user_id: 1, class: AdminClass::System };
        let sec = AccountActor::Admin { user_id: 2, class: AdminClass::Security };
        let aud = AccountActor::Admin { user_id: 3, class: AdminClass::Audit };
        let code = |r: Result<(), Violation>| r.map_err(|v| v.rule.code);
        let (system, security, auditor) =
            ([P::UsersManage, P::UsersView], [P::AccountsReview, P::UsersView], [P::AuditRead]);
        assert_eq!(code(check_account_act(sys, 1, system)), Err("ACCOUNT_SELF"));
        assert_eq!(code(check_account_act(sys, 1, [P::TicketsView])), Err("ACCOUNT_SELF"), "not even a business role");
        assert_eq!(code(check_account_act(sec, 2, security)), Err("ACCOUNT_SELF"));
        assert_eq!(code(check_account_act(sys, 3, auditor)), Err("ADMIN_ACCOUNTS"));
        assert_eq!(
            code(check_account_act(sys, 3, [P::UsersView])),
            Err("ADMIN_ACCOUNTS"),
            "seeing accounts is an administrator's"
        );
        assert_eq!(code(check_account_act(aud, 1, system)), Err("ADMIN_ACCOUNTS"));
        assert_eq!(code(check_account_act(sec, 4, security)), Err("ADMIN_ACCOUNTS"), "not his own class's");
        assert!(check_account_act(sec, 3, auditor).is_ok(), "the security administrator handles the auditor's account");
        assert!(check_account_act(sec, 1, system).is_ok());
        assert!(
            check_account_act(sys, 9, [P::TicketsView]).is_ok(),
            "the system administrator handles ordinary accounts"
        );
        assert!(check_account_act(sys, 9, []).is_ok());
        assert!(check_account_act(AccountActor::Console, 2, security).is_ok());
    }

    use super::*;
    use proptest::prelude::*;

    fn user(grants: Vec<(Permission, UnitPath)>) -> Principal {
        Principal::new(Actor { user_id: Some(1), name: "u".into(), channel: Channel::Web }, grants)
    }

    #[test]
    fn capability_reaches_the_unit_and_below_only() {
        let city = UnitPath::root_of(UnitId::new(1)).child(UnitId::new(5));
        let p = user(vec![(Permission::UsersView, city.clone())]);
        let cap = p.authorize::<perm::UsersView>().expect("granted");
        assert!(cap.covers(&city));
        assert!(cap.covers(&city.child(UnitId::new(23))));
        assert!(!cap.covers(&UnitPath::root_of(UnitId::new(1))));
        assert!(!cap.covers(&UnitPath::root_of(UnitId::new(1)).child(UnitId::new(6))));
        // "/1/5/" is not a prefix match for "/1/50/".
        assert!(!cap.covers(&UnitPath::root_of(UnitId::new(1)).child(UnitId::new(50))));
        assert_eq!(p.authorize::<perm::UsersManage>().err(), Some(Denied::NotGranted(Permission::UsersManage)));
    }

    #[test]
    fn separation_holds_on_permissions_not_role_names() {
        use Permission::*;
        let codes = |ps: &[Permission]| check_separation(ps.iter().copied()).map_err(|v| v.args);
        assert!(codes(&[UnitsManage, UsersManage, RolesManage, UsersView]).is_ok(), "the system administrator's own");
        assert!(codes(&[AccountsReview, UsersView]).is_ok());
        assert!(codes(&[TicketsView, TicketsSign, PeopleView]).is_ok(), "business only");
        assert_eq!(codes(&[RolesManage, AuditRead]), Err(vec![("classes", "system+audit".to_owned())]));
        assert_eq!(codes(&[UsersManage, AccountsReview]), Err(vec![("classes", "system+security".to_owned())]));
        assert_eq!(codes(&[RolesManage, PeopleView]), Err(vec![("classes", "admin+business".to_owned())]));
        assert_eq!(codes(&[UsersView, FindingsView]), Err(vec![("classes", "admin+business".to_owned())]));
        // Every permission has exactly one duty; only the six account permissions are administrative.
        let admin = Permission::ALL.iter().filter(|p| p.duty() != Duty::Business).count();
        assert_eq!(admin, 6);
    }

    #[test]
    fn codes_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_code(p.code()), Some(*p));
        }
        assert_eq!(UnitPath::parse("/1/5/").map(|p| p.depth()), Some(2));
        assert!(UnitPath::parse("/1//").is_none() && UnitPath::parse("1/").is_none() && UnitPath::parse("/").is_none());
    }

    proptest! {
        /// The scope kept after narrowing covers exactly what the grants covered.
        #[test]
        fn narrowed_scope_covers_the_same_units(
            grants in proptest::collection::vec(proptest::collection::vec(1i64..4, 1..4), 1..5),
            probe in proptest::collection::vec(1i64..4, 1..5),
        ) {
            let path = |ids: &[i64]| ids[1..].iter().fold(UnitPath::root_of(UnitId::new(ids[0])), |p, id| p.child(UnitId::new(*id)));
            let paths: Vec<UnitPath> = grants.iter().map(|g| path(g)).collect();
            let p = user(paths.iter().map(|u| (Permission::AuditRead, u.clone())).collect());
            let cap = p.authorize::<perm::AuditRead>().expect("granted");
            let target = path(&probe);
            prop_assert_eq!(cap.covers(&target), paths.iter().any(|g| target.is_within(g)));
        }
    }
}
