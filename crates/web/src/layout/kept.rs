//! Rendered pages kept while the data they show stays where it was read (see
//! [`gridsafe_app::cache`]): a page is kept under the data's version its session was read at,
//! for its user, language and address, and served again only at that same version. Only pages
//! whose words depend on nothing but the stored data, the user and the address may be kept (the
//! ticket list); a page that judges a deadline against the clock may not.
//!
//! The one part of a page that differs from request to request is the nonce of its script
//! (`Content-Security-Policy`): a kept page is stored around it and served with the request's own.

use std::sync::Arc;

use askama::Template;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};

use gridsafe_app::cache::{Kept, Version};

use crate::auth::Auth;
use crate::context::PageContext;
use crate::i18n::Lang;

/// Pages kept at most: a list page is about 65 KB, so about 16 MB.
const PAGES_KEPT: usize = 256;

/// Whose page, in which language, at which address (path and query).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    user: i64,
    lang: Lang,
    uri: String,
}

/// A rendered page, and where its nonce stood in it.
#[derive(Debug)]
struct Page {
    html: String,
    nonce_at: usize,
    nonce_len: usize,
}

/// The kept pages of this server.
#[derive(Debug)]
pub struct Pages(Kept<Key, Arc<Page>>);

impl Default for Pages {
    fn default() -> Self {
        Self(Kept::new(PAGES_KEPT))
    }
}

/// A page that may be kept: the version and key it would be kept under, and the request's nonce.
pub struct Keeping<'a> {
    pages: &'a Pages,
    at: Option<(Version, Key)>,
    nonce: String,
}

impl Pages {
    /// The page kept for this request (`uri` as the client asked it: `OriginalUri`), with the
    /// request's own nonce; or what [`Keeping::render`] needs to keep the page it renders. A
    /// request made with an API token is never kept.
    pub fn lookup<'a>(&'a self, auth: &Auth, ctx: &PageContext, uri: &Uri) -> Result<Response, Keeping<'a>> {
        let at = auth.version.clone().map(|version| {
            let uri = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
            (version, Key { user: auth.user.id, lang: ctx.lang, uri })
        });
        if let Some((version, key)) = &at
            && let Some(page) = self.0.get(version, key)
        {
            let mut html = String::with_capacity(page.html.len());
            html.push_str(&page.html[..page.nonce_at]);
            html.push_str(&ctx.nonce);
            html.push_str(&page.html[page.nonce_at + page.nonce_len..]);
            return Ok(Html(html).into_response());
        }
        Err(Keeping { pages: self, at, nonce: ctx.nonce.clone() })
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many requests were answered with a kept page.
    pub fn served(&self) -> u64 {
        self.0.hits()
    }
}

impl Keeping<'_> {
    /// Renders `page` (as [`super::render`]) and keeps it.
    pub fn render(self, page: &impl Template) -> Response {
        let html = match page.render() {
            Ok(html) => html,
            Err(_) => return super::render(page),
        };
        // The nonce is 32 random hex digits made for this request before the page was rendered:
        // nothing stored can contain it, so its first place in the page is where the layout put it.
        if let Some((version, key)) = self.at
            && !self.nonce.is_empty()
            && let Some(nonce_at) = html.find(&self.nonce)
        {
            let kept = Page { html: html.clone(), nonce_at, nonce_len: self.nonce.len() };
            self.pages.0.put(version, key, Arc::new(kept));
        }
        Html(html).into_response()
    }
}
