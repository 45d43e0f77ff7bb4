//! What a GitHub token is, from its prefix, and whether ghcr.io can use it: only classic personal access
//! tokens (`ghp_`) and OAuth app tokens (`gho_`) carry the `*:packages` scopes ghcr.io checks. Pure.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Classic,
    OAuth,
    FineGrained,
    UserToServer,
    Server,
    Refresh,
    Unknown,
}

impl TokenKind {
    pub fn of(token: &str) -> TokenKind {
        [
            ("github_pat_", TokenKind::FineGrained),
            ("ghp_", TokenKind::Classic),
            ("gho_", TokenKind::OAuth),
            ("ghu_", TokenKind::UserToServer),
            ("ghs_", TokenKind::Server),
            ("ghr_", TokenKind::Refresh),
        ]
        .into_iter()
        .find(|(prefix, _)| token.starts_with(prefix))
        .map_or(TokenKind::Unknown, |(_, kind)| kind)
    }

    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Classic => "classic personal access token",
            TokenKind::OAuth => "OAuth app token",
            TokenKind::FineGrained => "fine-grained personal access token",
            TokenKind::UserToServer => "GitHub App user token",
            TokenKind::Server => "GitHub App or Actions token",
            TokenKind::Refresh => "refresh token",
            TokenKind::Unknown => "token of an unknown kind",
        }
    }

    /// Whether ghcr.io accepts this kind from a person's machine.
    pub fn works_with_ghcr(self) -> bool {
        matches!(self, TokenKind::Classic | TokenKind::OAuth)
    }

    /// Why a kind that doesn't work doesn't, in a sentence a person can act on.
    pub fn why_not(self) -> &'static str {
        match self {
            TokenKind::FineGrained => "GitHub Packages accepts only classic tokens: fine-grained tokens have no packages permission and ghcr.io refuses them.",
            TokenKind::Server => "Tokens starting ghs_ (GitHub Apps, Actions' GITHUB_TOKEN) work only inside their workflow or app, not from a desktop.",
            TokenKind::UserToServer => "GitHub App user tokens (ghu_) carry no packages scopes; ghcr.io needs a classic token.",
            TokenKind::Refresh => "A refresh token (ghr_) only obtains other tokens; paste a classic token instead.",
            TokenKind::Unknown => "This does not look like a GitHub token (they start with ghp_, gho_ or github_pat_).",
            TokenKind::Classic | TokenKind::OAuth => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_prefixes() {
        assert_eq!(TokenKind::of("ghp_x"), TokenKind::Classic);
        assert_eq!(TokenKind::of("gho_x"), TokenKind::OAuth);
        assert_eq!(TokenKind::of("github_pat_11AB"), TokenKind::FineGrained);
        assert_eq!(TokenKind::of("ghu_x"), TokenKind::UserToServer);
        assert_eq!(TokenKind::of("ghs_x"), TokenKind::Server);
        assert_eq!(TokenKind::of("ghr_x"), TokenKind::Refresh);
        assert_eq!(TokenKind::of("GHP_x"), TokenKind::Unknown);
        assert_eq!(TokenKind::of(""), TokenKind::Unknown);
    }

    #[test]
    fn only_classic_and_oauth_tokens_work_and_the_others_say_why() {
        for kind in [TokenKind::Classic, TokenKind::OAuth] {
            assert!(kind.works_with_ghcr());
            assert!(kind.why_not().is_empty());
        }
        for kind in [
            TokenKind::FineGrained,
            TokenKind::UserToServer,
            TokenKind::Server,
            TokenKind::Refresh,
            TokenKind::Unknown,
        ] {
            assert!(!kind.works_with_ghcr());
            assert!(!kind.why_not().is_empty(), "{kind:?}");
        }
        assert!(TokenKind::FineGrained.why_not().contains("classic"));
    }
}
