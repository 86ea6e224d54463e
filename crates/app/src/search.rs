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

/// The pinyin initials of `name` (`张伟` → `zw`), for finding people by the letters a phone's
/// keyboard types first. Read from GB2312's first level, the 3,755 common characters ordered by
/// pinyin; a rarer character (second level, ordered by radical) has no initial and is skipped;
/// letters and digits are kept as they are, lower case.
pub fn initials(name: &str) -> String {
    // The first code of each initial's run in GB2312 level 1 (no i, u or v begins a syllable).
    const RUNS: [(u16, char); 23] = [
        (0xB0A1, 'a'),
        (0xB0C5, 'b'),
        (0xB2C1, 'c'),
        (0xB4EE, 'd'),
        (0xB6EA, 'e'),
        (0xB7A2, 'f'),
        (0xB8C1, 'g'),
        (0xB9FE, 'h'),
        (0xBBF7, 'j'),
        (0xBFA6, 'k'),
        (0xC0AC, 'l'),
        (0xC2E8, 'm'),
        (0xC4C3, 'n'),
        (0xC5B6, 'o'),
        (0xC5BE, 'p'),
        (0xC6DA, 'q'),
        (0xC8BB, 'r'),
        (0xC8F6, 's'),
        (0xCBFA, 't'),
        (0xCDDA, 'w'),
        (0xCEF4, 'x'),
        (0xD1B9, 'y'),
        (0xD4D1, 'z'),
    ];
    const LEVEL_ONE_END: u16 = 0xD7F9;
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let mut buf = [0u8; 4];
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
        if unmappable || bytes.len() != 2 {
            continue;
        }
        let code = u16::from_be_bytes([bytes[0], bytes[1]]);
        if (RUNS[0].0..=LEVEL_ONE_END).contains(&code)
            && let Some((_, letter)) = RUNS.iter().rev().find(|(start, _)| code >= *start)
        {
            out.push(*letter);
        }
    }
    out
}

/// Whether `query` is a run of pinyin initials to look for (a few letters, nothing else).
pub fn is_initials(query: &str) -> bool {
    let q = query.trim();
    (1..=10).contains(&q.len()) && q.chars().all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_their_pinyin_initials() {
        assert_eq!(initials("张伟"), "zw");
        assert_eq!(initials("王芳"), "wf");
        assert_eq!(initials("李娜"), "ln");
        assert_eq!(initials("刘洋"), "ly");
        assert_eq!(initials("陈静"), "cj");
        assert_eq!(initials("欧阳修"), "oyx");
        assert_eq!(initials("测试C1"), "csc1");
        assert_eq!(initials("胡建华"), "hjh");
        assert!(is_initials("zw") && !is_initials("张") && !is_initials("XG1004"));
    }

    proptest::proptest! {
        #[test]
        fn initials_never_panic_and_are_lower_case_letters_or_digits(name in "\\PC{0,20}") {
            let got = initials(&name);
            proptest::prop_assert!(got.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
            proptest::prop_assert!(got.chars().count() <= name.chars().count());
        }
    }

    #[test]
    fn wildcards_match_themselves_and_long_searches_are_refused() {
        assert_eq!(contains("q", Some(" 10%_a\\b ")).expect("ok").as_deref(), Some("%10\\%\\_a\\\\b%"));
        assert_eq!(contains("q", Some("   ")).expect("ok"), None);
        assert_eq!(starts_with("action", Some("user.")).expect("ok").as_deref(), Some("user.%"));
        assert!(contains("q", Some(&"张".repeat(MAX_CHARS))).is_ok());
        assert!(matches!(contains("q", Some(&"x".repeat(MAX_CHARS + 1))), Err(AppError::Invalid(_))));
    }
}
