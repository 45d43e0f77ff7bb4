//! The window's language when the person leaves it to the system: Simplified Chinese for a locale of
//! mainland China, Singapore or any zh-Hans; English for every other (zh-TW and zh-HK too, until there is
//! a Traditional catalog). The page's `languageFor` (ui/i18n.js) answers the same. Pure.

/// The languages the window has catalogs for (`ui/locales/<tag>.json`).
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// The language a locale tag gives: `zh_CN.UTF-8`, `zh-Hans-HK`, `zh-SG` → `zh-CN`; anything else → `en`.
pub fn for_locale(tag: &str) -> &'static str {
    let tag = tag.split(['.', '@']).next().unwrap_or("").replace('_', "-");
    let mut parts = tag.split('-').map(str::to_ascii_lowercase);
    if parts.next().as_deref() != Some("zh") {
        return "en";
    }
    match parts.next().as_deref() {
        Some("hans" | "cn" | "sg") => "zh-CN",
        _ => "en",
    }
}

/// The system's locale as the OS reports it (`LC_ALL`, `LC_MESSAGES`, `LANG` on Linux), or `en` when
/// it reports none.
pub fn system_locale() -> String {
    sys_locale::get_locale().unwrap_or_else(|| "en".to_owned())
}

/// The main window's title in `language` (one of `LANGUAGES`; anything else is English).
pub fn window_title(language: &str) -> &'static str {
    match language {
        "zh-CN" => "GHCR 桌面版",
        _ => "GHCR Desktop",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_singapore_and_hans_locales_give_simplified_chinese() {
        for tag in [
            "zh_CN.UTF-8",
            "zh-CN",
            "zh_SG",
            "zh-Hans",
            "zh-Hans-HK",
            "zh_CN.GB18030",
            "zh_CN@pinyin",
        ] {
            assert_eq!(for_locale(tag), "zh-CN", "{tag}");
        }
    }

    #[test]
    fn traditional_and_other_locales_give_english() {
        for tag in [
            "zh_TW.UTF-8",
            "zh-HK",
            "zh-Hant-TW",
            "zh",
            "en_US.UTF-8",
            "C",
            "POSIX",
            "",
            "ja_JP",
        ] {
            assert_eq!(for_locale(tag), "en", "{tag}");
        }
    }

    /// The window's catalogs and page, as `ui/` holds them.
    mod catalogs {
        use std::collections::{BTreeMap, BTreeSet};
        use std::path::Path;

        pub type Catalog = BTreeMap<String, serde_json::Value>;

        pub fn load(language: &str) -> Catalog {
            let path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("ui/locales/{language}.json"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path:?} is not a flat JSON object: {e}"))
        }

        /// The `{name}` placeholders of an entry (all plural forms together).
        pub fn placeholders(entry: &serde_json::Value) -> BTreeSet<String> {
            let texts: Vec<&str> = match entry {
                serde_json::Value::String(text) => vec![text],
                serde_json::Value::Object(forms) => {
                    forms.values().filter_map(|v| v.as_str()).collect()
                }
                other => panic!("an entry is a text or plural forms, not {other}"),
            };
            let mut found = BTreeSet::new();
            for text in texts {
                let mut rest = text;
                while let Some(open) = rest.find('{') {
                    let Some(close) = rest[open..].find('}') else {
                        break;
                    };
                    let name = &rest[open + 1..open + close];
                    if !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        found.insert(name.to_owned());
                    }
                    rest = &rest[open + close + 1..];
                }
            }
            found
        }

        /// Every page file's text: ui/*.js, ui/views/*.js and index.html.
        pub fn page_sources() -> Vec<(String, String)> {
            let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
            let mut sources = Vec::new();
            for dir in [ui.clone(), ui.join("views")] {
                for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                    let path = entry.path();
                    if matches!(
                        path.extension().and_then(|e| e.to_str()),
                        Some("js" | "html")
                    ) {
                        sources.push((
                            path.display().to_string(),
                            std::fs::read_to_string(&path).unwrap(),
                        ));
                    }
                }
            }
            sources
        }

        /// The keys a page file asks for by name: `t('k'`, `sentence('k'`, `has('k'`, `data-i18n="k"`
        /// (and -label, -title), the error actions' `'actions.k'`; and the prefixes of the keys it builds,
        /// `t(`k.${…}`)`.
        pub fn keys_used(source: &str) -> (BTreeSet<String>, BTreeSet<String>) {
            let mut named = BTreeSet::new();
            let mut built = BTreeSet::new();
            let key = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                    .collect()
            };
            for call in ["t(", "sentence(", "has(", "hasKey("] {
                for (at, _) in source.match_indices(call) {
                    let before = source[..at].chars().last();
                    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                        continue; // `split(`, `.has(` on a Set, `push(`…
                    }
                    let rest = source[at + call.len()..].trim_start();
                    if let Some(literal) = rest.strip_prefix('\'') {
                        let name = key(literal);
                        if literal[name.len()..].starts_with('\'') && name.contains('.') {
                            named.insert(name);
                        }
                    } else if let Some(template) = rest.strip_prefix('`') {
                        let prefix = key(template);
                        if template[prefix.len()..].starts_with("${") && prefix.ends_with('.') {
                            built.insert(prefix);
                        }
                    }
                }
            }
            for attribute in ["data-i18n=\"", "data-i18n-label=\"", "data-i18n-title=\""] {
                for (at, _) in source.match_indices(attribute) {
                    named.insert(key(&source[at + attribute.len()..]));
                }
            }
            for (at, _) in source.match_indices("'actions.") {
                named.insert(key(&source[at + 1..]));
            }
            (named, built)
        }
    }

    #[test]
    fn both_catalogs_have_the_same_keys_and_placeholders() {
        let english = catalogs::load("en");
        let chinese = catalogs::load("zh-CN");
        let only = |a: &catalogs::Catalog, b: &catalogs::Catalog| {
            a.keys()
                .filter(|k| !b.contains_key(*k))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert!(
            only(&english, &chinese).is_empty(),
            "only in en.json: {:?}",
            only(&english, &chinese)
        );
        assert!(
            only(&chinese, &english).is_empty(),
            "only in zh-CN.json: {:?}",
            only(&chinese, &english)
        );
        for (key, entry) in &english {
            assert_eq!(
                catalogs::placeholders(entry),
                catalogs::placeholders(&chinese[key]),
                "{key}: the placeholders differ"
            );
            if let serde_json::Value::Object(forms) = entry {
                assert!(
                    forms.contains_key("other"),
                    "{key}: a plural needs its `other` form"
                );
                assert!(
                    chinese[key].get("other").is_some(),
                    "{key}: zh-CN's plural needs `other`"
                );
            }
        }
        assert!(
            english.len() > 400,
            "the catalogs hold the whole window ({})",
            english.len()
        );
    }

    #[test]
    fn every_key_the_page_asks_for_is_in_the_catalogs() {
        let english = catalogs::load("en");
        let mut asked = 0;
        for (file, source) in catalogs::page_sources() {
            let (named, built) = catalogs::keys_used(&source);
            for key in &named {
                assert!(
                    english.contains_key(key),
                    "{file} asks for {key:?}, which en.json lacks"
                );
            }
            for prefix in &built {
                assert!(
                    english.keys().any(|k| k.starts_with(prefix.as_str())),
                    "{file} builds keys `{prefix}…`, and en.json has none"
                );
            }
            asked += named.len() + built.len();
        }
        assert!(
            asked > 300,
            "the page asks for its words by key ({asked} found)"
        );
    }

    #[test]
    fn every_error_code_is_told_in_every_language() {
        for language in LANGUAGES {
            let catalog = catalogs::load(language);
            for code in crate::Code::ALL {
                for key in [format!("errors.{code}"), format!("errors.{code}.hint")] {
                    assert!(catalog.contains_key(&key), "{language}.json lacks {key}");
                }
            }
        }
    }

    #[test]
    fn the_key_scan_finds_calls_and_skips_look_alikes() {
        let (named, built) = catalogs::keys_used(
            "t('a.b') sentence('c.d', {x}) text.split('e.f') seen.has('g.h') t(`i.${x}`) t(key) \
             <span data-i18n=\"j.k\"> ['actions.l', 'account']",
        );
        let named: Vec<_> = named.into_iter().collect();
        assert_eq!(named, ["a.b", "actions.l", "c.d", "j.k"]);
        assert_eq!(built.into_iter().collect::<Vec<_>>(), ["i."]);
    }

    #[test]
    fn the_title_follows_the_language() {
        assert_eq!(window_title("zh-CN"), "GHCR 桌面版");
        assert_eq!(window_title("en"), "GHCR Desktop");
        assert_eq!(window_title("fr"), "GHCR Desktop");
    }
}
