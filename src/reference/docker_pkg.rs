//! Old `docker.pkg.github.com/OWNER/REPO/IMAGE` names (per repository) and their ghcr.io form (per
//! account). Pure.

use super::{Reference, DOCKER_PKG_HOST};
use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

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
