//! A token as a type: it can be shown only as a masked hint (`ghp_…x7Qa`), is wiped from memory when
//! dropped, and hands out its text only through `expose`, at the few places that send it to GitHub.

use std::fmt;
use zeroize::Zeroize;

/// Cloning makes another copy that is wiped on its own drop (push jobs hold one each).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The token's text, for an `Authorization` header to the configured GitHub API or registry only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What a person may see: the kind's prefix and the last four characters, `ghp_…x7Qa`.
    pub fn hint(&self) -> String {
        let text = &self.0;
        let prefix = ["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
            .into_iter()
            .find(|p| text.starts_with(p))
            .unwrap_or("");
        let chars: Vec<char> = text.chars().collect();
        if chars.len() < prefix.len() + 8 {
            return format!("{prefix}…");
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}…{tail}")
    }
}

/// A token arriving as JSON (an IPC argument, a credential helper's `store` request) becomes a `Secret`
/// as it is read, with no plain `String` copy left behind.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.hint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_show_only_the_hint() {
        let secret = Secret::new("ghp_abcdefghijklmnopqrstuvwxyz0123456789".into());
        assert_eq!(secret.hint(), "ghp_…6789");
        assert_eq!(format!("{secret}"), "ghp_…6789");
        assert_eq!(format!("{secret:?}"), "Secret(ghp_…6789)");
        assert!(!format!("{secret:?}{secret}").contains("abcdefgh"));
    }

    #[test]
    fn short_or_odd_values_reveal_nothing() {
        assert_eq!(Secret::new("ghp_short".into()).hint(), "ghp_…");
        assert_eq!(Secret::new("".into()).hint(), "…");
        assert_eq!(Secret::new("ü".repeat(20)).hint(), "…üüüü");
        assert_eq!(
            Secret::new("github_pat_11AAAAAAA0123456789_abcdefgh".into()).hint(),
            "github_pat_…efgh"
        );
    }
}
