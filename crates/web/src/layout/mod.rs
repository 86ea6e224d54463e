//! The base page every screen shares: header, navigation, language switch, footer.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::assets;
use crate::i18n::{Arg, Lang};

/// One entry of the main navigation. Entries appear as business modules land.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: String,
    pub href: &'static str,
    pub active: bool,
}

/// Main navigation: (message key, link). Each module adds its line when it lands.
const NAV: &[(&str, &str)] = &[("nav-home", "/")];

/// What the base layout needs from every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub nonce: String,
    pub path: String,
    pub nav: Vec<NavItem>,
}

impl Chrome {
    pub fn new(lang: Lang, nonce: String, path: String) -> Self {
        let nav = NAV
            .iter()
            .map(|(key, href)| NavItem {
                label: lang.t(key),
                href,
                active: if *href == "/" {
                    path == "/"
                } else {
                    path.starts_with(href)
                },
            })
            .collect();
        Self {
            lang,
            nonce,
            path,
            nav,
        }
    }

    pub fn from_context(ctx: crate::context::PageContext) -> Self {
        Self::new(ctx.lang, ctx.nonce, ctx.path)
    }

    /// The message `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl Into<Arg>) -> String {
        self.lang.t_args(key, &[(name, value.into())])
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// The languages to offer in the switch: (tag, own name, is current).
    pub fn languages(&self) -> Vec<(&'static str, String, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.tag(), l.t("lang-self-name"), *l == self.lang))
            .collect()
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
