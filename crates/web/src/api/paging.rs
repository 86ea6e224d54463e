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

/// A cursor of text fields (a row's key in the list's order): each field's UTF-8 as lower-case
/// hex, joined by `~`. Any character of an imported id survives it, and every string of its
/// form (`^([0-9a-f]{2})*(~([0-9a-f]{2})*){N-1}$`, the `after` parameter's documented pattern)
/// reads back as some place in the list's order ([`read_text_cursor`]).
pub fn text_cursor(fields: &[&str]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('~');
        }
        for b in field.bytes() {
            let _ = write!(out, "{b:02x}");
        }
    }
    out
}

/// The `N` fields of a cursor [`text_cursor`] wrote, or of any string of its pattern (bytes that
/// are not UTF-8 read as U+FFFD: still a place in the order); `None` for any other string.
pub fn read_text_cursor<const N: usize>(text: &str) -> Option<[String; N]> {
    let fields: Vec<String> = text
        .split('~')
        .map(|hex| {
            let bytes = hex.as_bytes();
            if bytes.len() % 2 != 0 {
                return None;
            }
            let nibble = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
            let decoded: Option<Vec<u8>> =
                bytes.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect();
            Some(String::from_utf8_lossy(&decoded?).into_owned())
        })
        .collect::<Option<_>>()?;
    fields.try_into().ok()
}

/// A cursor of a moment and an id (a row's key in a list by time, then id): the moment in
/// microseconds since 1970 (UTC) and the id, joined by `~`. Every string of its form
/// (`^-?[0-9]{1,18}~[0-9]{1,18}$`, the `after` parameter's documented pattern) reads back as
/// some place in the list ([`read_time_cursor`]).
pub fn time_cursor(at: gridsafe_domain::time::Timestamp, id: i64) -> String {
    format!("{}~{id}", at.as_utc().timestamp_micros())
}

/// The moment and id of a cursor [`time_cursor`] wrote, or of any string of its pattern;
/// `None` for any other string.
pub fn read_time_cursor(text: &str) -> Option<(gridsafe_domain::time::Timestamp, i64)> {
    let (micros, id) = text.split_once('~')?;
    let digits = |t: &str| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(micros.strip_prefix('-').unwrap_or(micros)) || !digits(id) {
        return None;
    }
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((gridsafe_domain::time::Timestamp::from_utc(at), id.parse().ok()?))
}

/// The filters a list was asked with, as the query its next page keeps (`name=value&…`, each value
/// encoded; those not given left out).
pub fn kept(filters: &[(&str, Option<&str>)]) -> String {
    let given =
        filters.iter().filter_map(|(name, value)| Some(format!("{name}={}", crate::auth::url_encode((*value)?))));
    given.collect::<Vec<_>>().join("&")
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
    fn a_text_cursor_reads_back_exactly_and_only_in_its_form() {
        let key = ["2026-12", "NO_TICKET", "WO\u{1f}~工单\"9\"", ""];
        let written = text_cursor(&key);
        assert!(written.bytes().all(|b| b.is_ascii_hexdigit() || b == b'~'), "{written}");
        assert_eq!(read_text_cursor::<4>(&written), Some(key.map(str::to_owned)));
        assert_eq!(read_text_cursor::<2>("~"), Some([String::new(), String::new()]));
        assert_eq!(
            read_text_cursor::<2>("ff~41"),
            Some(["\u{fffd}".to_owned(), "A".to_owned()]),
            "not UTF-8: still a place"
        );
        for bad in ["", "4~41~41", "4~41", "zz~41", "41", "+1~41"] {
            assert_eq!(read_text_cursor::<2>(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Every string of the documented pattern is a cursor (schema-valid input is accepted).
        #[test]
        fn every_string_of_the_pattern_reads(text in "([0-9a-f]{2}){0,6}(~([0-9a-f]{2}){0,6}){3}") {
            proptest::prop_assert!(read_text_cursor::<4>(&text).is_some());
        }

        #[test]
        fn any_fields_survive_the_cursor(fields in proptest::array::uniform4(".*")) {
            let written = text_cursor(&fields.each_ref().map(String::as_str));
            proptest::prop_assert_eq!(read_text_cursor::<4>(&written), Some(fields));
        }
    }

    #[test]
    fn the_next_page_keeps_the_filters_given_encoded() {
        assert_eq!(
            kept(&[("q", Some("中 &x")), ("state", None), ("due", Some("overdue"))]),
            "q=%E4%B8%AD%20%26x&due=overdue"
        );
        assert_eq!(kept(&[("q", None)]), "");
    }

    #[test]
    fn a_limit_outside_one_to_the_ceiling_is_refused() {
        assert_eq!(limit(None, 5000).ok(), Some(5000));
        assert_eq!(limit(Some(1), 5000).ok(), Some(1));
        assert_eq!(limit(Some(5000), 5000).ok(), Some(5000));
        assert!(limit(Some(0), 5000).is_err());
        assert!(limit(Some(5001), 5000).is_err());
    }

    proptest::proptest! {
        /// Every string of the documented pattern is a cursor (schema-valid input is accepted),
        /// and a place reads back as written.
        #[test]
        fn every_time_cursor_of_the_pattern_reads(text in "-?[0-9]{1,18}~[0-9]{1,18}") {
            let (at, id) = read_time_cursor(&text).expect("a cursor");
            let (micros, written_id) = text.split_once('~').expect("two parts");
            proptest::prop_assert_eq!(at.as_utc().timestamp_micros(), micros.parse::<i64>().expect("digits"));
            proptest::prop_assert_eq!(id, written_id.parse::<i64>().expect("digits"));
        }
    }

    #[test]
    fn anything_else_is_no_time_cursor() {
        for bad in [
            "",
            "1",
            "1~",
            "~1",
            "1~-1",
            "+1~1",
            "1~1~1",
            "1234567890123456789~1",
            "2026-01-01T00:00:00.000000Z\u{1f}1",
        ] {
            assert!(read_time_cursor(bad).is_none(), "{bad}");
        }
    }
}
