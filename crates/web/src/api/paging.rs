//! Paging of the API's long lists. A list answers at most `limit` rows (by default, and at most,
//! the list's own ceiling) and, when there are more, names the next page in a `Link` header
//! (RFC 8288, `rel="next"`) whose `after` is an opaque cursor: the last row shown, in the list's
//! order. The body stays the list itself, so a client that does not page reads the first page as
//! before, and one that does reads every row once, however many there are.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gridsafe_app::{AppError, FieldProblem};
use serde::Serialize;

/// One page of a list and the link to the page after it, if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
}

/// The rows a page may hold: `asked`, or `ceiling` when not asked; refused (naming `limit`)
/// outside `1..=ceiling`.
pub fn limit(asked: Option<u32>, ceiling: u32) -> Result<u32, AppError> {
    match asked {
        None => Ok(ceiling),
        Some(n) if (1..=ceiling).contains(&n) => Ok(n),
        Some(_) => Err(AppError::Invalid(vec![FieldProblem::new("limit", "field-page-limit").with("max", ceiling)])),
    }
}

/// A cursor the list could not read: refused, naming `after` (a client sends back the one it
/// was given, untouched).
pub fn bad_cursor() -> AppError {
    AppError::invalid("after", "field-page-after")
}

impl<T> Page<T> {
    /// The page of `rows`, read with one row more than `limit` to know whether more follow:
    /// the next page is `path?query&limit=…&after=` the cursor of the last row shown.
    pub fn of(mut rows: Vec<T>, limit: u32, path: &str, query: &str, cursor: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = rows.last().filter(|_| more).map(|last| {
            let e = crate::auth::url_encode;
            let query = if query.is_empty() { String::new() } else { format!("{query}&") };
            format!("{path}?{query}limit={limit}&after={}", e(&cursor(last)))
        });
        Self { rows, next }
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.rows).into_response();
        // Every character of the link is encoded ASCII, so it is always a header value.
        if let Some(value) = self.next.and_then(|next| HeaderValue::try_from(format!("<{next}>; rel=\"next\"")).ok()) {
            response.headers_mut().insert(header::LINK, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_links_to_the_next_only_when_more_rows_follow() {
        let cursor = |n: &u32| format!("{n}\u{1f}x y");
        let full = Page::of(vec![1, 2, 3], 2, "/api/v1/tickets", "q=%E4%B8%AD", cursor);
        assert_eq!(full.rows, vec![1, 2]);
        assert_eq!(full.next.as_deref(), Some("/api/v1/tickets?q=%E4%B8%AD&limit=2&after=2%1Fx%20y"));
        let last = Page::of(vec![1, 2], 2, "/api/v1/tickets", "", cursor);
        assert_eq!((last.rows, last.next), (vec![1, 2], None), "exactly a page: nothing after it");
        let bare = Page::of(vec![1, 2, 3], 1, "/api/v1/findings", "", cursor);
        assert_eq!(bare.next.as_deref(), Some("/api/v1/findings?limit=1&after=1%1Fx%20y"));
        let response = bare.into_response();
        assert_eq!(response.headers()[header::LINK], "</api/v1/findings?limit=1&after=1%1Fx%20y>; rel=\"next\"");
    }

    #[test]
    fn a_limit_outside_one_to_the_ceiling_is_refused() {
        assert_eq!(limit(None, 5000).ok(), Some(5000));
        assert_eq!(limit(Some(1), 5000).ok(), Some(1));
        assert_eq!(limit(Some(5000), 5000).ok(), Some(5000));
        assert!(limit(Some(0), 5000).is_err());
        assert!(limit(Some(5001), 5000).is_err());
    }
}
