//! Messages in the user's language: zh-CN first, English second.
//!
//! Every user-facing string lives in `locales/<lang>/*.ftl` (Project Fluent), embedded in the
//! binary. A request's language comes from the `gs_lang` cookie the language switch sets, else
//! from `Accept-Language`, else zh-CN.

use std::borrow::Cow;
use std::collections::HashMap;

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

static ZH_CN: LanguageIdentifier = langid!("zh-CN");
static EN: LanguageIdentifier = langid!("en");

/// The cookie that remembers the language a user chose.
pub const LANG_COOKIE: &str = "gs_lang";

/// A language GridSafe speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: &str) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("locale dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("ftl");
            for line in text.lines() {
                if let Some((key, _)) = line.split_once(" =")
                    && !key.starts_with([' ', '#', '.', '[', '*'])
                    && !key.is_empty()
                {
                    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    keys.insert(format!("{file}:{key}"));
                }
            }
        }
        keys
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

    /// Every key the code and templates look up literally exists; so do the keys built from
    /// codes (roles, permissions, unit kinds, statuses, rules).
    #[test]
    fn every_message_used_exists() {
        let known: BTreeSet<String> =
            keys("zh-CN").into_iter().filter_map(|k| k.split_once(':').map(|(_, k)| k.to_owned())).collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut stack = vec![root.join("src"), root.join("../gridsafe/src"), root.join("../app/src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Message keys handed over as literals (field problems, conflicts) count too.
                let literals: &[&str] = if path.extension().is_some_and(|e| e == "rs") {
                    &["\"field-", "\"conflict-", "\"password-", "\"token-", "\"import-", "\"error-"]
                } else {
                    &[]
                };
                for prefix in literals {
                    for piece in text.split(prefix).skip(1) {
                        if let Some(rest) = piece
                            .split('"')
                            .next()
                            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                        {
                            used.insert(format!("{}{rest}", &prefix[1..]));
                        }
                    }
                }
                for call in [".t(\"", ".t1(\"", ".t_args(\""] {
                    for piece in text.split(call).skip(1) {
                        if let Some(key) =
                            piece.split('"').next().filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                        {
                            used.insert(key.to_owned());
                        }
                    }
                }
            }
        }
        let mut built: Vec<String> = Vec::new();
        built.extend(
            gridsafe_domain::access::Permission::ALL.iter().map(|p| format!("perm-{}", p.code().replace('.', "-"))),
        );
        for role in [
            "system_admin",
            "security_admin",
            "log_auditor",
            "safety_auditor",
            "customer_manager",
            "inspector",
            "ticket_issuer",
            "work_leader",
            "work_permitter",
            "crew_member",
            "contractor_admin",
            "leader",
        ] {
            built.push(format!("role-{role}"));
        }
        for kind in ["province", "city", "county", "team"] {
            built.push(format!("unit-kind-{kind}"));
        }
        for status in ["active", "locked", "dormant", "disabled"] {
            built.push(format!("user-status-{status}"));
        }
        for class in ["system", "security", "audit"] {
            built.push(format!("admin-class-{class}"));
        }
        for kind in gridsafe_domain::people::QualificationKind::ALL {
            built.push(format!("qual-kind-{}", kind.code()));
        }
        for role in ["crew_member", "work_leader", "ticket_issuer", "work_permitter", "inspector"] {
            built.push(format!("field-role-{role}"));
        }
        for kind in ["qualification", "license", "agreement"] {
            built.push(format!("expiring-kind-{kind}"));
        }
        for rating in gridsafe_app::people::RATINGS {
            built.push(format!("rating-{rating}"));
        }
        for key in gridsafe_domain::customers::COLUMNS.iter().map(|c| c.key) {
            built.push(format!("customer-col-{key}"));
        }
        for (prefix, codes) in [
            ("importance", &crate::customers::IMPORTANCE[..]),
            ("emergency", &crate::customers::EMERGENCY[..]),
            ("due", &["overdue", "due", "not_due", "no_cycle"][..]),
            ("inspection-kind", &gridsafe_app::customers::KINDS[..]),
            ("section", &gridsafe_domain::inspections::SECTIONS[..]),
            ("outcome", &["ok", "defect", "na"][..]),
            ("hazard-state", &crate::hazards::STATES[..]),
            ("responsibility", &["grid", "customer"][..]),
            (
                "hazard-step",
                &[
                    "register",
                    "plan",
                    "notify",
                    "sign_receipt",
                    "file",
                    "rectify",
                    "submit_for_review",
                    "review",
                    "close",
                    "review_failed",
                    "seal",
                    "escalate",
                ][..],
            ),
        ] {
            built.extend(codes.iter().map(|c| format!("{prefix}-{c}")));
        }
        for rule in gridsafe_domain::inspections::default_rules() {
            built.push(format!("cycle-{}", rule.code));
        }
        for arg in ["day", "expired", "contractor", "since", "voltage", "max"] {
            built.push(format!("rule-arg-{arg}"));
        }
        use gridsafe_crossaudit::input::Problem;
        for p in [
            Problem::Encoding,
            Problem::Unreadable(String::new()),
            Problem::NoHeader,
            Problem::MissingColumn,
            Problem::Empty,
            Problem::BadDate,
            Problem::BadDateTime,
            Problem::UnknownValue,
            Problem::Duplicate { first_line: 0 },
            Problem::EndBeforeStart,
            Problem::UnknownReference,
            Problem::NotPermitted,
        ] {
            built.push(p.message_key().to_owned());
        }
        for rule in gridsafe_domain::rules::ALL {
            built.push(format!("rule-{}", rule.code));
            built.push(format!("rule-{}-fix", rule.code));
        }
        let missing: Vec<&String> = used.iter().chain(built.iter()).filter(|k| !known.contains(*k)).collect();
        assert!(used.len() > 50, "the scan found the lookups");
        assert!(missing.is_empty(), "message keys used but not defined: {missing:?}");
    }

    #[test]
    fn lookups_are_translated_and_unisolated() {
        assert_eq!(Lang::ZhCn.t("app-name"), "营销安全管控平台");
        assert_eq!(Lang::En.t("app-name"), "GridSafe");
        let msg = Lang::En.t_args("error-status", &[("status", Arg::Number(404))]);
        assert!(msg.contains("404") && !msg.contains('\u{2068}'), "{msg}");
    }

    #[test]
    fn accept_language_by_weight() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, zh;q=0.5, en;q=0.4"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, zh-TW"), Some(Lang::ZhCn));
    }
}
