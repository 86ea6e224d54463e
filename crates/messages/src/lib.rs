//! GridSafe's ground floor for words: messages in the user's language, zh-CN first, English
//! second, for the pages, the API's refusals, the exports and the command line.
//!
//! Every user-facing string lives in `locales/<lang>/*.ftl` (Project Fluent), embedded in the
//! binary. A request's language comes from the `gs_lang` cookie the language switch sets, else
//! from `Accept-Language`, else zh-CN.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        // Without this Fluent wraps arguments in U+2068/U+2069, which leak into HTML and Excel.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The message files, as embedded by the loader (one per language; a test keeps it so).
const ZH_CN_SOURCE: &str = include_str!("../locales/zh-CN/main.ftl");
const EN_SOURCE: &str = include_str!("../locales/en/main.ftl");

/// The key a line of a message file defines, if it defines one.
fn defined_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once(" =")?;
    (!key.is_empty() && !key.starts_with([' ', '#', '.', '[', '*'])).then_some(key)
}

static ZH_CN: LanguageIdentifier = langid!("zh-CN");
static EN: LanguageIdentifier = langid!("en");

/// The cookie that remembers the language a user chose.
pub const LANG_COOKIE: &str = "gs_lang";

/// A language GridSafe speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, as used in `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Some(Lang::ZhCn)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header that GridSafe speaks, by weight.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::from_tag(pieces.next()?)?;
                let weight =
                    pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                (weight > 0.0).then_some((weight, lang))
            })
            .collect();
        // Stable sort keeps header order among equal weights.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }

    /// Reads `LANG`/`LC_ALL` for the command line: English only when asked for.
    pub fn from_env() -> Self {
        ["GRIDSAFE_LANG", "LC_ALL", "LANG"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .find_map(|value| Lang::from_tag(&value))
            .unwrap_or_default()
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::En => &EN,
        }
    }

    /// Whether message `key` is defined in this language (whatever arguments it takes).
    pub fn knows(self, key: &str) -> bool {
        self.formatted().contains_key(key)
    }

    /// Every message key of this language that starts with `prefix`, in file order.
    pub fn keys_with_prefix(self, prefix: &str) -> Vec<&'static str> {
        let source = match self {
            Lang::ZhCn => ZH_CN_SOURCE,
            Lang::En => EN_SOURCE,
        };
        source.lines().filter_map(defined_key).filter(|k| k.starts_with(prefix)).collect()
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        self.text(key).into_owned()
    }

    /// The message `key`, borrowed when this language defines it (a page asks for the same
    /// words hundreds of times; copying each was a twentieth of the ticket list's CPU).
    pub fn text(self, key: &str) -> Cow<'static, str> {
        match self.formatted().get(key) {
            Some(text) => Cow::Borrowed(text.as_str()),
            // Not defined in this language: the loader falls back to zh-CN.
            None => Cow::Owned(LOCALES.lookup(self.id(), key)),
        }
    }

    /// Every message this language defines, formatted once without arguments, by key. A page
    /// asks for the same words hundreds of times (a list repeats its column names on every row
    /// for the phone layout), and Fluent negotiates languages and formats anew on each lookup.
    fn formatted(self) -> &'static HashMap<&'static str, String> {
        static ZH_CN_FORMATTED: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
        static EN_FORMATTED: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
        let (cell, source) = match self {
            Lang::ZhCn => (&ZH_CN_FORMATTED, ZH_CN_SOURCE),
            Lang::En => (&EN_FORMATTED, EN_SOURCE),
        };
        cell.get_or_init(|| source.lines().filter_map(defined_key).map(|k| (k, LOCALES.lookup(self.id(), k))).collect())
    }

    /// The message `key` with named arguments.
    pub fn t_args(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Text(s) => FluentValue::from(s.clone()),
                    Arg::Number(n) => FluentValue::from(*n),
                };
                (Cow::Borrowed(*name), value)
            })
            .collect();
        LOCALES.lookup_with_args(self.id(), key, &map)
    }
}

/// An argument of a message.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}

impl From<Cow<'_, str>> for Arg {
    fn from(s: Cow<'_, str>) -> Self {
        Arg::Text(s.into_owned())
    }
}

impl From<&Cow<'_, str>> for Arg {
    fn from(s: &Cow<'_, str>) -> Self {
        Arg::Text(s.as_ref().to_owned())
    }
}

impl From<&&str> for Arg {
    fn from(s: &&str) -> Self {
        Arg::Text((*s).to_owned())
    }
}

impl From<&i64> for Arg {
    fn from(n: &i64) -> Self {
        Arg::Number(*n)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

/// Counts (`usize`) and days (`u32`) as numbers; a count beyond `i64` does not occur.
impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(i64::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `file:key` of every message of `lang`, from the files on disk.
    fn keys(lang: &str) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("locale dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("ftl");
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
            keys.extend(text.lines().filter_map(defined_key).map(|k| format!("{file}:{k}")));
        }
        keys
    }

    #[test]
    fn each_language_is_one_file_which_knows_its_keys() {
        for (lang, tag) in [(Lang::ZhCn, "zh-CN"), (Lang::En, "en")] {
            let keys = keys(tag);
            assert!(keys.iter().all(|k| k.starts_with("main.ftl:")), "{keys:?}");
            assert!(keys.iter().all(|k| lang.knows(&k["main.ftl:".len()..])));
        }
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let zh = keys("zh-CN");
        let en = keys("en");
        assert!(!zh.is_empty());
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only zh-CN: {only_zh:?}; only en: {only_en:?}");
    }

    #[test]
    fn unknown_keys_are_known_as_unknown() {
        assert!(Lang::ZhCn.knows("app-name") && Lang::En.knows("app-name"));
        // A message that takes arguments is known without them.
        assert!(Lang::ZhCn.knows("error-request-id"));
        assert!(!Lang::ZhCn.knows("no-such-message"));
    }

    #[test]
    fn lookups_are_translated_and_unisolated() {
        assert_eq!(Lang::ZhCn.t("app-name"), "营销安全管控平台");
        assert_eq!(Lang::En.t("app-name"), "GridSafe");
        let msg = Lang::En.t_args("error-request-id", &[("id", Arg::Number(404))]);
        assert!(msg.contains("404") && !msg.contains('\u{2068}'), "{msg}");
    }

    #[test]
    fn formatted_once_is_what_fluent_formats() {
        for lang in Lang::ALL {
            let source = if lang == Lang::ZhCn { ZH_CN_SOURCE } else { EN_SOURCE };
            for key in source.lines().filter_map(defined_key) {
                assert_eq!(lang.t(key), LOCALES.lookup(lang.id(), key), "{key}");
            }
        }
        // A key one language lacks still falls back to zh-CN through the loader.
        assert_eq!(Lang::En.t("no-such-message"), LOCALES.lookup(&ZH_CN, "no-such-message"));
    }

    #[test]
    fn accept_language_by_weight() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, zh;q=0.5, en;q=0.4"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, zh-TW"), Some(Lang::ZhCn));
    }
}
