//! Where an image goes on ghcr.io: the target of a tag or push (placed on the registry, `latest` by
//! default, an owner required, no digest), the name proposed for a local image, and the check the
//! "Tag for GitHub" form runs as a name is typed. Pure.

use super::fix::{fix_component, fix_tag};
use super::grammar::split_and_check;
use super::{translate_docker_pkg, Invalid, Problem, Reference, Translation};
use serde::Serialize;

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
/// and the fixed form — each also split as the form's two fields are, so the page never splits a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetCheck {
    pub reference: Option<String>,
    pub problems: Vec<String>,
    /// The same problems by kind and with what they name (`{"kind": "uppercase", "component": …}`),
    /// for the window to tell in its language.
    pub kinds: Vec<Problem>,
    pub fix: Option<String>,
    /// The owner and `name:tag` of the valid reference, or else of the fix.
    pub fields: Option<TargetFields>,
}

/// A target on the registry as the form's fields hold it: the owner, and the rest (`name:tag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetFields {
    pub owner: String,
    pub name_and_tag: String,
}

impl TargetFields {
    fn of(reference: &Reference) -> TargetFields {
        TargetFields {
            owner: reference.owner().to_string(),
            name_and_tag: format!(
                "{}:{}",
                reference.package(),
                reference.tag().unwrap_or("latest")
            ),
        }
    }
}

pub fn check_target(text: &str, registry: &str) -> TargetCheck {
    match tag_target(text, registry) {
        Ok(reference) => TargetCheck {
            reference: Some(reference.to_string()),
            problems: Vec::new(),
            kinds: Vec::new(),
            fix: None,
            fields: Some(TargetFields::of(&reference)),
        },
        Err(invalid) => TargetCheck {
            reference: None,
            problems: invalid.problems.iter().map(ToString::to_string).collect(),
            kinds: invalid.problems,
            fields: invalid
                .fix
                .as_deref()
                .and_then(|fix| tag_target(fix, registry).ok())
                .map(|fixed| TargetFields::of(&fixed)),
            fix: invalid.fix,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
    fn a_podman_image_is_proposed_under_its_own_name_without_localhost() {
        let podman = Reference::parse("localhost/web-server:2").unwrap();
        assert_eq!(
            propose("ghcr.io", "Octo", &podman),
            "ghcr.io/octo/web-server:2"
        );
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
        let fields = bad.fields.expect("the fix's fields");
        assert_eq!(
            (fields.owner.as_str(), fields.name_and_tag.as_str()),
            ("octo", "web:1")
        );
        let nested = check_target("octo/team/app", "ghcr.io").fields.unwrap();
        assert_eq!(
            (nested.owner.as_str(), nested.name_and_tag.as_str()),
            ("octo", "team/app:latest")
        );
    }
}
