//! Text rules shared by every form and import: what counts as blank.

/// Whitespace as ECMAScript's `\s` defines it, so that a name the API's JSON Schema pattern
/// `\S` accepts is exactly a name GridSafe accepts (Rust's `char::is_whitespace` also counts
/// U+0085, which `\s` does not).
pub fn is_blank_char(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

/// `text` without blank characters at either end.
pub fn trim_blank(text: &str) -> &str {
    text.trim_matches(is_blank_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideographic_space_is_blank_next_line_is_not() {
        assert_eq!(trim_blank("\u{3000}孝南供电中心 \t"), "孝南供电中心");
        assert_eq!(trim_blank("\u{0085}"), "\u{0085}");
        assert_eq!(trim_blank(" \u{00A0}\u{FEFF}"), "");
    }
}
