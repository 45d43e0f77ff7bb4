//! Image references (`ghcr.io/owner/name:tag@sha256:…`): parsed and validated with the distribution
//! reference grammar, with every problem named and a fixed form offered (GitHub logins may have
//! uppercase letters, image names may not); the ghcr.io name proposed for a local image; and the
//! translation of old `docker.pkg.github.com` names. Pure: no I/O.

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

/// Parses the target of a tag operation on `registry`: a name without a domain is placed on `registry`
/// (this is a ghcr.io tool), a missing tag is `latest`, a digest is refused, and a name on `registry`
/// needs an owner.
pub fn tag_target(text: &str, registry: &str) -> Result<Reference, Invalid> {
    let trimmed = text.trim();
    let placed = match split_and_check(trimmed) {
        (Some(parts), _) if parts.domain.is_none() => format!("{registry}/{trimmed}"),
        _ => trimmed.to_string(),
    };
    let mut reference = Reference::parse(&placed).map_err(|invalid| Invalid {
        text: text.to_string(),
        fix: invalid
            .fix
            .filter(|fix| Reference::parse(fix).is_ok() && tag_target(fix, registry).is_ok()),
        problems: invalid.problems,
    })?;
    let mut problems = Vec::new();
    if reference.digest.is_some() {
        problems.push(Problem::DigestNotAllowed);
    }
    if reference.is_on(registry) && !reference.path.contains('/') {
        problems.push(Problem::NoOwner {
            registry: registry.to_string(),
        });
    }
    if !problems.is_empty() {
        let fix = (reference.digest.is_some() && reference.path.contains('/')).then(|| {
            Reference {
                digest: None,
                tag: Some(reference.tag.clone().unwrap_or_else(|| "latest".into())),
                ..reference.clone()
            }
            .to_string()
        });
        return Err(Invalid {
            text: text.to_string(),
            problems,
            fix,
        });
    }
    reference.tag.get_or_insert_with(|| "latest".to_string());
    Ok(reference)
}

/// The name proposed for pushing `source` to `registry` under `owner`: the owner lowercased, the
/// source's last path component as the name (made valid), its tag (or `latest`). An old
/// `docker.pkg.github.com/OWNER/REPO/IMAGE` keeps IMAGE.
pub fn propose(registry: &str, owner: &str, source: &Reference) -> String {
    let owner = fix_component(owner).unwrap_or_else(|| "owner".into());
    let name = fix_component(source.name()).unwrap_or_else(|| "image".into());
    let tag = source
        .tag()
        .and_then(fix_tag)
        .unwrap_or_else(|| "latest".into());
    format!("{registry}/{owner}/{name}:{tag}")
}

/// What the "Tag for GitHub" form starts with: the registry, the owner, and `name:tag` for the image,
/// with the translation when the image has an old docker.pkg.github.com name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub registry: String,
    pub owner: String,
    pub name_and_tag: String,
    pub translation: Option<Translation>,
}

/// The proposal for the local image named `source` (a reference, or an ID for an untagged image).
pub fn proposal(registry: &str, owner: &str, source: &str) -> Proposal {
    let is_id = source.starts_with("sha256:");
    let parsed = Reference::parse(source).ok().filter(|_| !is_id);
    let translation = parsed
        .as_ref()
        .and_then(|r| translate_docker_pkg(r, registry));
    let full = match (&translation, &parsed) {
        (Some(translation), _) => translation.to.clone(),
        (None, Some(reference)) => propose(registry, owner, reference),
        (None, None) => format!(
            "{registry}/{}/image:latest",
            fix_component(owner).unwrap_or_default()
        ),
    };
    let rest = full
        .strip_prefix(registry)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(&full);
    let (owner, name_and_tag) = rest.split_once('/').unwrap_or(("", rest));
    Proposal {
        registry: registry.to_string(),
        owner: owner.to_string(),
        name_and_tag: name_and_tag.to_string(),
        translation,
    }
}

/// A tag target as the form shows it while it is typed: valid (and its full form), or what is wrong
/// and the fixed form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetCheck {
    pub reference: Option<String>,
    pub problems: Vec<String>,
    pub fix: Option<String>,
}

pub fn check_target(text: &str, registry: &str) -> TargetCheck {
    match tag_target(text, registry) {
        Ok(reference) => TargetCheck {
            reference: Some(reference.to_string()),
            problems: Vec::new(),
            fix: None,
        },
        Err(invalid) => TargetCheck {
            reference: None,
            problems: invalid.problems.iter().map(ToString::to_string).collect(),
            fix: invalid.fix,
        },
    }
}

/// A `docker.pkg.github.com/OWNER/REPO/IMAGE[:TAG]` name and its ghcr.io form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Translation {
    pub from: String,
    pub to: String,
    pub explanation: &'static str,
}

/// Why the old and the new registry name images differently (shown beside a translation).
pub const DOCKER_PKG_EXPLANATION: &str = "docker.pkg.github.com named images per repository \
    (OWNER/REPO/IMAGE) and always took the repository's permissions; ghcr.io names them per account \
    (OWNER/IMAGE), with their own permissions, and allows anonymous pulls of public images.";

/// Translates `docker.pkg.github.com/OWNER/REPO/IMAGE[:TAG]` to `{registry}/owner/image[:TAG]`;
/// `None` for any other reference.
pub fn translate_docker_pkg(reference: &Reference, registry: &str) -> Option<Translation> {
    if !reference.is_on(DOCKER_PKG_HOST) {
        return None;
    }
    let parts: Vec<&str> = reference.path.split('/').collect();
    let [owner, _repository, image] = parts.as_slice() else {
        return None;
    };
    let mut to = format!("{registry}/{}/{}", owner.to_lowercase(), image);
    if let Some(tag) = reference.tag() {
        to.push(':');
        to.push_str(tag);
    }
    Some(Translation {
        from: reference.to_string(),
        to,
        explanation: DOCKER_PKG_EXPLANATION,
    })
}

/// Splits `text` into its parts and lists everything wrong with them. Returns the parts when they
/// could be told apart at all.
fn split_and_check(text: &str) -> (Option<Reference>, Vec<Problem>) {
    let mut problems = Vec::new();
    if text.is_empty() {
        return (None, vec![Problem::Empty]);
    }
    let (name_and_tag, digest) = match text.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        if !valid_digest(digest) {
            problems.push(Problem::DigestInvalid {
                digest: digest.to_string(),
            });
        }
    }
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        problems.extend(tag_problems(tag));
    }
    let (domain, path) = split_domain(name);
    if let Some(domain) = domain {
        if !valid_domain(domain) {
            problems.push(Problem::BadDomain {
                domain: domain.to_string(),
            });
        }
    }
    if path.is_empty() {
        problems.push(Problem::Empty);
    } else {
        problems.extend(path_problems(path));
    }
    if name.len() > NAME_MAX {
        problems.push(Problem::NameTooLong { length: name.len() });
    }
    let reference = Reference {
        domain: domain.map(str::to_string),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    };
    (Some(reference), problems)
}

fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ipv6, after)) => {
                if ipv6.is_empty() || !ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                    return false;
                }
                match after {
                    "" => return true,
                    _ => ("ipv6", after.strip_prefix(':').map(Some).unwrap_or(None)),
                }
            }
            None => return false,
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    } else if domain.starts_with('[') {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn path_problems(path: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for component in path.split('/') {
        if component.is_empty() {
            if !problems.contains(&Problem::EmptyComponent) {
                problems.push(Problem::EmptyComponent);
            }
            continue;
        }
        if let Some(character) = component
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            problems.push(Problem::BadCharacter {
                character,
                part: "name",
            });
        }
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            problems.push(Problem::Uppercase {
                component: component.to_string(),
            });
        }
        if !separators_valid(component) {
            problems.push(Problem::BadSeparator {
                component: component.to_string(),
            });
        }
    }
    problems
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '_' | '-')
}

/// `alnum+ (separator alnum+)*` where a separator is `.`, `_`, `__` or one or more `-`. Characters
/// that are neither are reported elsewhere and count as alphanumerics here.
fn separators_valid(component: &str) -> bool {
    let chars: Vec<char> = component.chars().collect();
    if chars.first().is_some_and(|&c| is_separator(c))
        || chars.last().is_some_and(|&c| is_separator(c))
    {
        return false;
    }
    let mut run = String::new();
    for &c in &chars {
        if is_separator(c) {
            run.push(c);
        } else {
            if !run.is_empty() && !valid_separator(&run) {
                return false;
            }
            run.clear();
        }
    }
    true
}

fn valid_separator(run: &str) -> bool {
    matches!(run, "." | "_" | "__") || run.chars().all(|c| c == '-')
}

fn tag_problems(tag: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_well = tag.chars().next().is_some_and(word);
    if !starts_well || !tag.chars().all(|c| word(c) || c == '.' || c == '-') {
        problems.push(Problem::TagInvalid {
            tag: tag.to_string(),
        });
    }
    if tag.chars().count() > TAG_MAX {
        problems.push(Problem::TagTooLong {
            length: tag.chars().count(),
        });
    }
    problems
}

fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let hex_ok = |len: usize| hex.len() == len && hex.chars().all(|c| c.is_ascii_hexdigit());
    match algorithm {
        "sha256" => hex_ok(64),
        "sha512" => hex_ok(128),
        _ => {
            let algorithm_ok = !algorithm.is_empty()
                && algorithm.split(['+', '.', '-', '_']).all(|part| {
                    part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && part.chars().all(|c| c.is_ascii_alphanumeric())
                });
            algorithm_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
    }
}

/// A path component made valid: lowercased, other characters turned into `-`, separator runs that
/// are not allowed turned into one `-`, separators trimmed from the ends. `None` when nothing is left.
fn fix_component(component: &str) -> Option<String> {
    let lowered: String = component
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || is_separator(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut fixed = String::new();
    let mut run = String::new();
    for c in lowered.chars() {
        if is_separator(c) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            fixed.push_str(if valid_separator(&run) { &run } else { "-" });
            run.clear();
        }
        fixed.push(c);
    }
    let fixed = fixed.trim_matches(is_separator).to_string();
    (!fixed.is_empty()).then_some(fixed)
}

/// A tag made valid: other characters turned into `-` (`1.0+build` → `1.0-build`), leading `.`/`-`
/// dropped, cut to 128 characters.
fn fix_tag(tag: &str) -> Option<String> {
    let replaced: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = replaced
        .trim_start_matches(['.', '-'])
        .chars()
        .take(TAG_MAX)
        .collect();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// The nearest valid reference to `text`, if fixing the path and tag gives one that differs.
fn fixed(text: &str) -> Option<String> {
    let text = text.trim();
    let (Some(reference), _) = split_and_check(text) else {
        return None;
    };
    let path: Vec<String> = reference
        .path
        .split('/')
        .filter_map(fix_component)
        .collect();
    if path.is_empty() {
        return None;
    }
    let candidate = Reference {
        domain: reference.domain.clone(),
        path: path.join("/"),
        tag: match &reference.tag {
            Some(tag) => Some(fix_tag(tag)?),
            None => None,
        },
        digest: reference.digest.clone(),
    }
    .to_string();
    let (parsed, problems) = split_and_check(&candidate);
    (parsed.is_some() && problems.is_empty() && candidate != text).then_some(candidate)
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

    fn problems(text: &str) -> Vec<Problem> {
        Reference::parse(text).expect_err(text).problems
    }

    #[test]
    fn splits_domain_path_tag_and_digest() {
        assert_eq!(
            parts("ghcr.io/octo/app:1.2"),
            (
                Some("ghcr.io".into()),
                "octo/app".into(),
                Some("1.2".into()),
                None
            )
        );
        assert_eq!(
            parts(&format!("ghcr.io/octo/app:v1@{DIGEST}")),
            (
                Some("ghcr.io".into()),
                "octo/app".into(),
                Some("v1".into()),
                Some(DIGEST.into())
            )
        );
        assert_eq!(parts("alpine"), (None, "alpine".into(), None, None));
        assert_eq!(Reference::parse("alpine").unwrap().registry(), "docker.io");
    }

    #[test]
    fn a_port_is_part_of_the_domain_not_a_tag() {
        assert_eq!(
            parts("localhost:5000/app"),
            (Some("localhost:5000".into()), "app".into(), None, None)
        );
        assert_eq!(
            parts("127.0.0.1:5000/octo/app:7"),
            (
                Some("127.0.0.1:5000".into()),
                "octo/app".into(),
                Some("7".into()),
                None
            )
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

    #[test]
    fn tag_targets_land_on_the_registry_with_latest_by_default() {
        let target = tag_target("octo/app", "ghcr.io").unwrap();
        assert_eq!(target.to_string(), "ghcr.io/octo/app:latest");
        let target = tag_target("ghcr.io/octo/app:2", "ghcr.io").unwrap();
        assert_eq!(target.to_string(), "ghcr.io/octo/app:2");
        let elsewhere = tag_target("localhost:5000/app:2", "ghcr.io").unwrap();
        assert_eq!(elsewhere.to_string(), "localhost:5000/app:2");
    }

    #[test]
    fn tag_targets_need_an_owner_and_no_digest() {
        let invalid = tag_target("ghcr.io/app", "ghcr.io").unwrap_err();
        assert_eq!(
            invalid.problems,
            vec![Problem::NoOwner {
                registry: "ghcr.io".into()
            }]
        );
        let invalid = tag_target(&format!("ghcr.io/octo/app@{DIGEST}"), "ghcr.io").unwrap_err();
        assert_eq!(invalid.problems, vec![Problem::DigestNotAllowed]);
        assert_eq!(invalid.fix.as_deref(), Some("ghcr.io/octo/app:latest"));
    }

    #[test]
    fn an_uppercase_tag_target_without_a_domain_gets_a_fix_on_the_registry() {
        let invalid = tag_target("Octo/App:1", "ghcr.io").unwrap_err();
        assert_eq!(invalid.text, "Octo/App:1");
        assert_eq!(invalid.fix.as_deref(), Some("ghcr.io/octo/app:1"));
    }

    #[test]
    fn a_tag_target_fix_is_only_offered_when_it_is_a_target() {
        let invalid = tag_target("A", "ghcr.io").unwrap_err();
        assert_eq!(invalid.fix, None, "ghcr.io/a has no owner");
    }

    #[test]
    fn proposes_the_lowercased_login_and_the_images_own_name() {
        let source = Reference::parse("my_App:1.0").unwrap_err();
        assert!(source.fix.is_some());
        let source = Reference::parse("library/web-server:1.0").unwrap();
        assert_eq!(
            propose("ghcr.io", "Octo-Cat", &source),
            "ghcr.io/octo-cat/web-server:1.0"
        );
        let untagged = Reference::parse("tool").unwrap();
        assert_eq!(
            propose("ghcr.io", "octo", &untagged),
            "ghcr.io/octo/tool:latest"
        );
    }

    #[test]
    fn the_form_starts_from_the_images_name_or_its_translation() {
        let plain = proposal("ghcr.io", "Octo", "web:2");
        assert_eq!(
            (plain.owner.as_str(), plain.name_and_tag.as_str()),
            ("octo", "web:2")
        );
        let old = proposal(
            "ghcr.io",
            "someone",
            "docker.pkg.github.com/octo/site/web:3",
        );
        assert_eq!(
            (old.owner.as_str(), old.name_and_tag.as_str()),
            ("octo", "web:3")
        );
        assert!(old.translation.is_some());
        let untagged = proposal("127.0.0.1:5000", "octo", "sha256:abcdef");
        assert_eq!(untagged.name_and_tag, "image:latest");
        assert_eq!(untagged.registry, "127.0.0.1:5000");
    }

    #[test]
    fn a_typed_target_is_checked_with_its_problems_in_words() {
        let good = check_target("ghcr.io/octo/web:1", "ghcr.io");
        assert_eq!(good.reference.as_deref(), Some("ghcr.io/octo/web:1"));
        let bad = check_target("ghcr.io/Octo/Web:1", "ghcr.io");
        assert_eq!(bad.reference, None);
        assert_eq!(bad.problems.len(), 2);
        assert!(bad.problems[0].contains("uppercase"));
        assert_eq!(bad.fix.as_deref(), Some("ghcr.io/octo/web:1"));
    }

    #[test]
    fn docker_pkg_names_translate_to_per_account_names() {
        let old = Reference::parse("docker.pkg.github.com/Octo/website/web:1.4").unwrap_err();
        assert!(old.fix.is_some(), "uppercase owner in an old name");
        let old = Reference::parse("docker.pkg.github.com/octo/website/web:1.4").unwrap();
        let translation = translate_docker_pkg(&old, "ghcr.io").unwrap();
        assert_eq!(translation.to, "ghcr.io/octo/web:1.4");
        assert!(translation.explanation.contains("per account"));
        let not_old = Reference::parse("ghcr.io/octo/web:1.4").unwrap();
        assert_eq!(translate_docker_pkg(&not_old, "ghcr.io"), None);
        let short = Reference::parse("docker.pkg.github.com/octo/web").unwrap();
        assert_eq!(translate_docker_pkg(&short, "ghcr.io"), None);
    }
}
