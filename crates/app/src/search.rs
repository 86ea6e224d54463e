//! Search boxes: the `LIKE` patterns they become. The text is bounded (a 50,000-character query
//! once made SQLite give up with "LIKE pattern too complex") and its `%`, `_` and `\` match
//! themselves, not any text.

use crate::{AppError, FieldProblem};

/// Characters a search may have.
pub const MAX_CHARS: usize = 100;

/// The pattern matching `query` anywhere, or `None` for an empty search; refused when longer
/// than [`MAX_CHARS`].
pub fn contains(field: &'static str, query: Option<&str>) -> Result<Option<String>, AppError> {
    Ok(checked(field, query)?.map(|q| format!("%{}%", escape(q))))
}

/// The pattern matching text that starts with `query`.
pub fn starts_with(field: &'static str, query: Option<&str>) -> Result<Option<String>, AppError> {
    Ok(checked(field, query)?.map(|q| format!("{}%", escape(q))))
}

/// `column LIKE $n`, with the escape character the patterns use.
pub fn like(column: &str, n: usize) -> String {
    format!("{column} LIKE ${n} ESCAPE '\\'")
}

fn checked<'a>(field: &'static str, query: Option<&'a str>) -> Result<Option<&'a str>, AppError> {
    let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > MAX_CHARS {
        return Err(AppError::Invalid(vec![FieldProblem::new(field, "field-search-length").with("max", MAX_CHARS)]));
    }
    Ok(Some(q))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_themselves_and_long_searches_are_refused() {
        assert_eq!(contains("q", Some(" 10%_a\\b ")).expect("ok").as_deref(), Some("%10\\%\\_a\\\\b%"));
        assert_eq!(contains("q", Some("   ")).expect("ok"), None);
        assert_eq!(starts_with("action", Some("user.")).expect("ok").as_deref(), Some("user.%"));
        assert!(contains("q", Some(&"张".repeat(MAX_CHARS))).is_ok());
        assert!(matches!(contains("q", Some(&"x".repeat(MAX_CHARS + 1))), Err(AppError::Invalid(_))));
        assert_eq!(like("p.name", 3), "p.name LIKE $3 ESCAPE '\\'");
    }
}
