//! Image references (`ghcr.io/owner/name:tag@sha256:…`): the `Reference` type, parsed once and split
//! into its parts, and every problem a name can have, in words. The grammar lives in `grammar`, the
//! fixed forms in `fix`, the ghcr.io target and proposal in `target`, old `docker.pkg.github.com` names
//! in `docker_pkg`. Pure: no I/O.

mod docker_pkg;
mod fix;
mod grammar;
mod target;

pub use docker_pkg::{translate_docker_pkg, Translation, DOCKER_PKG_EXPLANATION};
pub use target::{
    check_target, proposal, propose, tag_target, Proposal, TargetCheck, TargetFields,
};

use fix::fixed;
use grammar::split_and_check;

use crate::error::{Code, Error};
use serde::Serialize;
use std::fmt;

/// A whole name (domain and path) may be at most this long (distribution's `NameTotalLengthMax`).
pub const NAME_MAX: usize = 255;
/// A tag is one word character and up to 127 more.
pub const TAG_MAX: usize = 128;
/// The registry GitHub Packages used before ghcr.io: one namespace per repository.
pub const DOCKER_PKG_HOST: &str = "docker.pkg.github.com";

/// A valid reference, split once into its parts. `Display` gives it back as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    domain: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// One thing wrong with a reference, as a person would put it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Empty,
    Uppercase { component: String },
    EmptyComponent,
    BadSeparator { component: String },
    BadCharacter { character: char, part: &'static str },
    BadDomain { domain: String },
    TagInvalid { tag: String },
    TagTooLong { length: usize },
    DigestInvalid { digest: String },
    NameTooLong { length: usize },
    NoOwner { registry: String },
    DigestNotAllowed,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("the name is empty"),
            Problem::Uppercase { component } => write!(
                f,
                "\"{component}\" has uppercase letters; repository names must be lowercase"
            ),
            Problem::EmptyComponent => {
                f.write_str("a path component is empty (a leading, trailing or doubled \"/\")")
            }
            Problem::BadSeparator { component } => write!(
                f,
                "\"{component}\" starts or ends with a separator or has one that is not allowed (only \".\", \"_\", \"__\" or dashes between letters and digits)"
            ),
            Problem::BadCharacter { character, part } => {
                write!(f, "{character:?} is not allowed in the {part}")
            }
            Problem::BadDomain { domain } => {
                write!(f, "\"{domain}\" is not a valid registry host[:port]")
            }
            Problem::TagInvalid { tag } => write!(
                f,
                "the tag \"{tag}\" must start with a letter, digit or \"_\" and contain only those, \".\" and \"-\""
            ),
            Problem::TagTooLong { length } => {
                write!(f, "the tag is {length} characters long; at most {TAG_MAX} are allowed")
            }
            Problem::DigestInvalid { digest } => write!(
                f,
                "\"{digest}\" is not a digest (expected sha256: and 64 hex digits)"
            ),
            Problem::NameTooLong { length } => {
                write!(f, "the name is {length} characters long; at most {NAME_MAX} are allowed")
            }
            Problem::NoOwner { registry } => write!(
                f,
                "{registry} names need an owner: {registry}/OWNER/NAME"
            ),
            Problem::DigestNotAllowed => f.write_str("a tag target cannot name a digest"),
        }
    }
}

/// Why a text is not a usable reference, and the nearest valid one when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalid {
    pub text: String,
    pub problems: Vec<Problem>,
    pub fix: Option<String>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{:?} is not a valid image name: {}",
            self.text,
            problems.join("; ")
        )
    }
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Error {
        let hint = match &invalid.fix {
            Some(fix) => format!("Use {fix}"),
            None => {
                "Image names are lowercase letters, digits and separators (. _ __ -) between them, \
                     split by /; a tag is up to 128 letters, digits, _ . -"
                    .to_string()
            }
        };
        Error::new(Code::ReferenceInvalid, invalid.to_string(), hint)
    }
}

impl Reference {
    /// Parses `[domain/]path[:tag][@digest]`. The first component is the domain when it has a `.` or a
    /// `:`, or is `localhost` (as Docker decides; an uppercase first component is taken as an owner
    /// with uppercase letters, which is the mistake people actually make).
    pub fn parse(text: &str) -> Result<Reference, Invalid> {
        let (reference, problems) = split_and_check(text);
        match reference {
            Some(reference) if problems.is_empty() => Ok(reference),
            _ => Err(Invalid {
                text: text.to_string(),
                problems: if problems.is_empty() {
                    vec![Problem::Empty]
                } else {
                    problems
                },
                fix: fixed(text),
            }),
        }
    }

    /// The registry host[:port] as written, if any.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The registry the reference points to (`docker.io` when none is written, as Docker does).
    pub fn registry(&self) -> &str {
        self.domain.as_deref().unwrap_or("docker.io")
    }

    /// The repository path without the domain: `owner/name`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `domain/path` as written (no tag or digest): the engine's "repository".
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{domain}/{}", self.path),
            None => self.path.clone(),
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The first path component: the owner on ghcr.io.
    pub fn owner(&self) -> &str {
        self.path.split('/').next().unwrap_or_default()
    }

    /// The package on GitHub: the path after the owner (`team/app` of `ghcr.io/octo/team/app`).
    pub fn package(&self) -> &str {
        self.path
            .split_once('/')
            .map_or(self.path.as_str(), |(_, rest)| rest)
    }

    /// The last path component: the image's own name.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// Whether the reference points at `registry` (host[:port], compared without case).
    pub fn is_on(&self, registry: &str) -> bool {
        self.domain
            .as_deref()
            .is_some_and(|domain| domain.eq_ignore_ascii_case(registry))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parts(text: &str) -> (Option<String>, String, Option<String>, Option<String>) {
        let r = Reference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (
            r.domain().map(str::to_string),
            r.path().to_string(),
            r.tag().map(str::to_string),
            r.digest().map(str::to_string),
        )
    }

    /// `text` parses into these parts.
    fn assert_parts(
        text: &str,
        domain: Option<&str>,
        path: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) {
        let (d, p, t, g) = parts(text);
        assert_eq!(
            (d.as_deref(), p.as_str(), t.as_deref(), g.as_deref()),
            (domain, path, tag, digest),
            "{text}"
        );
    }

    fn problems(text: &str) -> Vec<Problem> {
        Reference::parse(text).expect_err(text).problems
    }

    #[test]
    fn splits_domain_path_tag_and_digest() {
        assert_parts(
            "ghcr.io/octo/app:1.2",
            Some("ghcr.io"),
            "octo/app",
            Some("1.2"),
            None,
        );
        let pinned = format!("ghcr.io/octo/app:v1@{DIGEST}");
        assert_parts(
            &pinned,
            Some("ghcr.io"),
            "octo/app",
            Some("v1"),
            Some(DIGEST),
        );
        assert_parts("alpine", None, "alpine", None, None);
        assert_eq!(Reference::parse("alpine").unwrap().registry(), "docker.io");
    }

    #[test]
    fn a_port_is_part_of_the_domain_not_a_tag() {
        assert_parts(
            "localhost:5000/app",
            Some("localhost:5000"),
            "app",
            None,
            None,
        );
        assert_parts(
            "127.0.0.1:5000/octo/app:7",
            Some("127.0.0.1:5000"),
            "octo/app",
            Some("7"),
            None,
        );
        assert_eq!(parts("[::1]:5000/app").0, Some("[::1]:5000".into()));
        assert!(Reference::parse("registry:99999999/app").is_err());
    }

    #[test]
    fn localhost_is_a_domain_and_a_plain_first_component_is_an_owner() {
        assert_eq!(parts("localhost/app").0, Some("localhost".into()));
        assert_eq!(parts("octo/app").0, None);
        assert_eq!(parts("octo/app").1, "octo/app");
    }

    #[test]
    fn tags_of_128_characters_pass_and_129_do_not() {
        let tag = format!("a{}", "b".repeat(127));
        assert_eq!(parts(&format!("app:{tag}")).2, Some(tag.clone()));
        let long = format!("{tag}c");
        assert_eq!(
            problems(&format!("app:{long}")),
            vec![Problem::TagTooLong { length: 129 }]
        );
        let fix = Reference::parse(&format!("app:{long}")).unwrap_err().fix;
        assert_eq!(fix, Some(format!("app:{tag}")));
    }

    #[test]
    fn a_tag_must_start_with_a_word_character() {
        assert!(Reference::parse("app:_x").is_ok());
        assert!(Reference::parse("app:.x").is_err());
        assert!(Reference::parse("app:-x").is_err());
        assert!(Reference::parse("app:").is_err());
        let invalid = Reference::parse("app:1.0+build").unwrap_err();
        assert_eq!(invalid.fix.as_deref(), Some("app:1.0-build"));
    }

    #[test]
    fn uppercase_owners_are_named_and_lowercased_in_the_fix() {
        let invalid = Reference::parse("ghcr.io/MyOrg/App:Latest").unwrap_err();
        assert_eq!(
            invalid.problems,
            vec![
                Problem::Uppercase {
                    component: "MyOrg".into()
                },
                Problem::Uppercase {
                    component: "App".into()
                }
            ]
        );
        assert_eq!(invalid.fix.as_deref(), Some("ghcr.io/myorg/app:Latest"));
        let error = Error::from(invalid);
        assert_eq!(error.code, Code::ReferenceInvalid);
        assert!(error.message.contains("must be lowercase"), "{error}");
        assert_eq!(error.hint, "Use ghcr.io/myorg/app:Latest");
    }

    #[test]
    fn empty_components_and_trailing_separators_are_refused() {
        assert_eq!(problems("octo//app"), vec![Problem::EmptyComponent]);
        assert_eq!(problems("octo/app/"), vec![Problem::EmptyComponent]);
        assert_eq!(problems("/app"), vec![Problem::EmptyComponent]);
        assert_eq!(
            Reference::parse("octo//app").unwrap_err().fix.as_deref(),
            Some("octo/app")
        );
        assert!(matches!(
            problems("octo/app-")[0],
            Problem::BadSeparator { .. }
        ));
        assert!(matches!(
            problems("octo/.app")[0],
            Problem::BadSeparator { .. }
        ));
        assert_eq!(
            Reference::parse("octo/app-").unwrap_err().fix.as_deref(),
            Some("octo/app")
        );
    }

    #[test]
    fn separators_follow_the_grammar() {
        for good in ["a.b", "a_b", "a__b", "a-b", "a---b", "a.b_c-d"] {
            assert!(Reference::parse(good).is_ok(), "{good}");
        }
        for bad in ["a..b", "a___b", "a._b", "a-.b", ".."] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Reference::parse("octo/a..b").unwrap_err().fix.as_deref(),
            Some("octo/a-b")
        );
    }

    #[test]
    fn a_parent_directory_is_not_a_path_component() {
        assert!(Reference::parse("ghcr.io/octo/../app").is_err());
        assert!(Reference::parse("../app").is_err());
    }

    #[test]
    fn digests_need_a_known_length_or_a_valid_algorithm() {
        assert!(Reference::parse(&format!("app@{DIGEST}")).is_ok());
        assert!(Reference::parse("app@sha256:abc").is_err());
        assert!(Reference::parse(&format!("app@sha256:{}", "g".repeat(64))).is_err());
        assert!(Reference::parse(&format!("app@multihash+base58:{}", "a".repeat(32))).is_ok());
        assert!(Reference::parse(&format!("app@1sha:{}", "a".repeat(32))).is_err());
        assert!(Reference::parse("app@").is_err());
    }

    #[test]
    fn names_longer_than_255_characters_are_refused() {
        let name = format!("ghcr.io/octo/{}", "a".repeat(243));
        assert_eq!(name.len(), 256);
        assert_eq!(problems(&name), vec![Problem::NameTooLong { length: 256 }]);
        assert!(Reference::parse(&name[..255]).is_ok());
    }

    #[test]
    fn other_characters_are_named() {
        assert_eq!(
            problems("octo/my app"),
            vec![Problem::BadCharacter {
                character: ' ',
                part: "name"
            }]
        );
        assert_eq!(
            Reference::parse("octo/my app").unwrap_err().fix.as_deref(),
            Some("octo/my-app")
        );
        assert!(Reference::parse("octo/ä").is_err());
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse(":tag").is_err());
    }

    #[test]
    fn displays_as_written() {
        for text in ["ghcr.io/octo/app:1", "alpine", "localhost:5000/a/b/c"] {
            assert_eq!(Reference::parse(text).unwrap().to_string(), text);
        }
    }
}
