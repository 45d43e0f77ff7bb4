//! The `*:packages` scopes of a classic or OAuth token (as `github::parse_scopes_header` reads them from
//! `X-OAuth-Scopes`), and what each missing one blocks. Pure.

use serde::Serialize;

pub const READ: &str = "read:packages";
pub const WRITE: &str = "write:packages";
pub const DELETE: &str = "delete:packages";

/// One scope the token lacks, and what that blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub scope: &'static str,
    /// "push images", "list and pull private packages", "delete versions".
    pub blocks: &'static str,
    /// Without it GHCR Desktop cannot do its main job (push).
    pub required: bool,
}

/// The packages scopes a token has (with GitHub's implications applied) and what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeCheck {
    pub read: bool,
    pub write: bool,
    pub delete: bool,
    pub missing: Vec<Missing>,
}

impl ScopeCheck {
    pub fn of(scopes: &[String]) -> ScopeCheck {
        let has = |name: &str| scopes.iter().any(|s| s == name);
        let write = has(WRITE);
        let read = has(READ) || write; // write:packages implies read:packages
        let delete = has(DELETE);
        let mut missing = Vec::new();
        if !read {
            missing.push(Missing {
                scope: READ,
                blocks: "list packages and pull private images",
                required: true,
            });
        }
        if !write {
            missing.push(Missing {
                scope: WRITE,
                blocks: "push images",
                required: true,
            });
        }
        if !delete {
            missing.push(Missing {
                scope: DELETE,
                blocks: "delete package versions",
                required: false,
            });
        }
        ScopeCheck {
            read,
            write,
            delete,
            missing,
        }
    }

    /// The scopes a replacement token should have: the required ones, and delete if this one had it.
    pub fn replacement_scopes(&self) -> Vec<&'static str> {
        let mut scopes = vec![WRITE, READ];
        if self.delete {
            scopes.push(DELETE);
        }
        scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_and_delete_is_optional() {
        let check = ScopeCheck::of(&["write:packages".into()]);
        assert!(check.read && check.write && !check.delete);
        assert_eq!(check.missing.len(), 1);
        assert_eq!(check.missing[0].scope, DELETE);
        assert!(!check.missing[0].required);
    }

    #[test]
    fn a_delete_only_token_misses_read_and_write_and_says_what_they_block() {
        let check = ScopeCheck::of(&["delete:packages".into()]);
        let missing: Vec<(&str, &str, bool)> = check
            .missing
            .iter()
            .map(|m| (m.scope, m.blocks, m.required))
            .collect();
        assert_eq!(
            missing,
            vec![
                (READ, "list packages and pull private images", true),
                (WRITE, "push images", true)
            ]
        );
        assert_eq!(check.replacement_scopes(), vec![WRITE, READ, DELETE]);
    }

    #[test]
    fn scopes_are_matched_exactly() {
        let check = ScopeCheck::of(&["write:packages2".into(), "Write:Packages".into()]);
        assert!(!check.write && !check.read);
    }
}
