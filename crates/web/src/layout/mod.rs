//! The base page every screen shares: header, navigation, language switch, footer.

pub mod kept;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use gridsafe_domain::access::Permission;

use crate::assets;
use crate::context::PageContext;
use crate::i18n::{Arg, Lang};
use gridsafe_app::identity::CurrentUser;

/// One entry of the main navigation. Entries appear as business modules land.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: String,
    pub href: &'static str,
    pub active: bool,
}

/// Main navigation: (message key, link, permissions of which one is needed). Each module adds its
/// lines when it lands; an entry shows only to users who hold one of its permissions.
const NAV: &[(&str, &str, &[Permission])] = &[
    ("nav-home", "/", &[]),
    ("nav-quality", "/quality", &[Permission::QualityView]),
    ("nav-plans", "/plans", &[Permission::PlansView]),
    ("nav-outages", "/outages", &[Permission::OutagesView]),
    ("nav-projects", "/projects", &[Permission::ProjectsView]),
    ("nav-emergency", "/emergency", &[Permission::EmergencyView]),
    ("nav-faults", "/faults", &[Permission::FaultsView]),
    ("nav-violations", "/violations", &[Permission::ViolationsView]),
    ("nav-tickets", "/tickets", &[Permission::TicketsView]),
    ("nav-findings", "/findings", &[Permission::FindingsView]),
    ("nav-webhooks", "/webhooks", &[Permission::WebhooksManage]),
    ("nav-history", "/history", &[Permission::HistoryImport]),
    ("nav-customers", "/customers", &[Permission::CustomersView]),
    ("nav-hazards", "/hazards", &[Permission::CustomersView]),
    ("nav-people", "/people", &[Permission::PeopleView, Permission::OwnContractor]),
    ("nav-contractors", "/contractors", &[Permission::ContractorsView, Permission::OwnContractor]),
    ("nav-units", "/admin/units", &[Permission::UnitsManage]),
    ("nav-users", "/admin/users", &[Permission::UsersView]),
    ("nav-roles", "/admin/roles", &[Permission::RolesManage]),
    ("nav-accounts", "/security/accounts", &[Permission::AccountsReview]),
    ("nav-audit", "/audit", &[Permission::AuditRead]),
];

/// The signed-in user as the layout shows them.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub display_name: String,
    pub username: String,
}

/// What the base layout needs from every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub nonce: String,
    pub path: String,
    pub nav: Vec<NavItem>,
    pub user: Option<UserBadge>,
}

impl Chrome {
    /// The layout for a visitor who is not signed in (sign-in and error pages).
    pub fn new(lang: Lang, nonce: String, path: String) -> Self {
        Self { lang, nonce, path, nav: Vec::new(), user: None }
    }

    pub fn from_context(ctx: PageContext) -> Self {
        Self::new(ctx.lang, ctx.nonce, ctx.path)
    }

    /// The layout for a signed-in user: navigation by their permissions.
    pub fn for_user(ctx: PageContext, user: &CurrentUser) -> Self {
        let lang = ctx.lang;
        let held = user.principal.permissions();
        let path = ctx.path;
        let nav = NAV
            .iter()
            .filter(|(_, _, needed)| needed.is_empty() || needed.iter().any(|p| held.contains(p)))
            .map(|(key, href, _)| NavItem {
                label: lang.t(key),
                href,
                active: if *href == "/" { path == "/" } else { path.starts_with(href) },
            })
            .collect();
        let user = Some(UserBadge { display_name: user.display_name.clone(), username: user.username.clone() });
        Self { lang, nonce: ctx.nonce, path, nav, user }
    }

    /// The message `key` in the page's language.
    pub fn t(&self, key: &str) -> std::borrow::Cow<'static, str> {
        self.lang.text(key)
    }

    /// Whether the page's language has message `key`.
    pub fn knows(&self, key: &str) -> bool {
        self.lang.knows(key)
    }

    /// The message `key` with named arguments.
    pub fn t_args(&self, key: &str, args: &[(&'static str, Arg)]) -> String {
        self.lang.t_args(key, args)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl Into<Arg>) -> String {
        self.lang.t_args(key, &[(name, value.into())])
    }

    /// The message `key` with two arguments.
    pub fn t2(
        &self,
        key: &str,
        a: &'static str,
        a_value: impl Into<Arg>,
        b: &'static str,
        b_value: impl Into<Arg>,
    ) -> String {
        self.lang.t_args(key, &[(a, a_value.into()), (b, b_value.into())])
    }

    /// A role's name in the page's language.
    pub fn role_name(&self, code: &str) -> String {
        self.lang.t(&format!("role-{code}"))
    }

    /// A permission's name in the page's language.
    pub fn perm_name(&self, code: &str) -> String {
        self.lang.t(&format!("perm-{}", code.replace('.', "-")))
    }

    /// A stored UTC timestamp as local time (`2026-11-26 14:43`), or "—".
    pub fn when(&self, stored: &Option<String>) -> String {
        stored
            .as_deref()
            .and_then(gridsafe_domain::time::Timestamp::from_db)
            .map_or_else(|| "—".to_owned(), |t| t.local_display())
    }

    /// A stored UTC timestamp as local time.
    pub fn at(&self, stored: &str) -> String {
        gridsafe_domain::time::Timestamp::from_db(stored).map_or_else(|| stored.to_owned(), |t| t.local_display())
    }

    /// An audit action (`ticket.issued`) in words, or as recorded when it has none.
    pub fn action(&self, code: &str) -> String {
        action_words(self.lang, code)
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// The languages to offer in the switch: (tag, own name, is current).
    pub fn languages(&self) -> Vec<(&'static str, String, bool)> {
        Lang::ALL.iter().map(|l| (l.tag(), l.t("lang-self-name"), *l == self.lang)).collect()
    }

    pub fn css(&self) -> &'static str {
        assets::CSS.url()
    }

    pub fn icon(&self) -> &'static str {
        assets::ICON.url()
    }

    pub fn js(&self) -> &'static str {
        assets::JS.url()
    }
}

/// Renders a page, or an opaque 500 if the template fails (logged).
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "template failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An audit action (`ticket.issued`) in words in `lang`, or as recorded when it has none.
pub fn action_words(lang: Lang, code: &str) -> String {
    let key = format!("audit-action-{}", code.replace('.', "-"));
    if lang.knows(&key) { lang.t(&key) } else { code.to_owned() }
}

/// The link to the page after a list page of `page` rows: a full page may have more after it, so
/// the next starts after its last row (`cursor` of that row); `None` after a short page.
pub fn next_page<T>(rows: &[T], page: usize, query: &str, cursor: impl Fn(&T) -> String) -> Option<String> {
    rows.last()
        .filter(|_| rows.len() == page)
        .map(|last| format!("{query}&after={}", crate::auth::url_encode(&cursor(last))))
}
