//! GitHub Packages for containers, through GitHub's REST API: the account's or an org's container
//! packages (every page), a package's versions with their tags, deleting a version or a package. And
//! the proof of a visibility: an anonymous pull token from the registry and a manifest fetched without
//! credentials — a public package must answer, a private one must refuse (GitHub has no API to *change*
//! visibility; the app hands that to the settings page and watches).

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::github::{next_link, read_json, segment, GitHub};
pub use crate::github::{package_page, settings_page, Owner};
use crate::registry::session::Session;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageOwner {
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub html_url: String,
}

/// A container package as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub id: u64,
    pub name: String,
    /// `public`, `private` or `internal`.
    pub visibility: String,
    #[serde(default)]
    pub version_count: u64,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub html_url: String,
    pub owner: PackageOwner,
    #[serde(default)]
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Container {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Metadata {
    #[serde(default)]
    container: Container,
}

/// One version (a manifest) of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: u64,
    /// The manifest digest.
    pub name: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub html_url: String,
    /// When it was deleted (versions listed with `state=deleted`; restorable for 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    #[serde(default)]
    metadata: Metadata,
}

impl Version {
    pub fn tags(&self) -> &[String] {
        &self.metadata.container.tags
    }
}

/// GitHub's refusals for packages: 404 is no such package (or one this token can't see), a 403
/// naming `delete:packages` the missing scope, another plain 403 a denial in GitHub's words; the rest
/// as for any API answer.
async fn refused(response: reqwest::Response, what: &str) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = crate::http::error_body(response).await;
    let error = crate::github::refusal(status, &headers, &body, what);
    let message = crate::github::message_of(&body);
    match status {
        404 => Error::new(
            Code::PackageNotFound,
            format!("GitHub shows this token no such package or list: {what}"),
            "Check the name and the owner (--owner ORG for an organization's package).",
        ),
        403 if message.contains("delete:packages") => Error::new(
            Code::TokenMissingScope,
            format!("This token can't delete packages: {message}"),
            "Create a replacement classic token with read:packages, write:packages and delete:packages.",
        )
        .arg("scope", "delete:packages"),
        403 if error.code == Code::GithubProtocol => Error::new(
            Code::RegistryDenied,
            format!("GitHub refused {what}: {message}"),
            "GitHub's own words say why.",
        ),
        _ => error,
    }
}

impl GitHub {
    /// Every page of a list at `path` (`per_page=100`), following `Link` only on the API's own host.
    async fn all_pages<T: for<'de> Deserialize<'de>>(
        &self,
        token: &Secret,
        path_and_query: &str,
        what: &str,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut next = Some(format!("{}{path_and_query}", self.api));
        while let Some(url) = next.take() {
            if !self.on_api(&url) {
                break; // a Link to another origin never gets the token
            }
            let response = self.get(&url, token).await?;
            if !response.status().is_success() {
                return Err(refused(response, what).await);
            }
            next = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let page: Vec<T> = read_json(response, &self.api, what).await?;
            items.extend(page);
        }
        Ok(items)
    }

    /// The owner's container packages, every page.
    pub async fn packages(&self, token: &Secret, owner: &Owner) -> Result<Vec<Package>> {
        let path = format!("{}?package_type=container&per_page=100", owner.path());
        self.all_pages(token, &path, &format!("GET {}", owner.path()))
            .await
    }

    /// One package, as it is now (the visibility watch polls this).
    pub async fn package(&self, token: &Secret, owner: &Owner, name: &str) -> Result<Package> {
        let url = format!("{}{}/container/{}", self.api, owner.path(), segment(name));
        let response = self.get(&url, token).await?;
        if !response.status().is_success() {
            return Err(refused(response, &format!("the package {name}")).await);
        }
        let what = format!("GET the package {name}");
        read_json(response, &self.api, &what).await
    }

    /// A package's versions (manifests) with their tags, every page.
    pub async fn versions(
        &self,
        token: &Secret,
        owner: &Owner,
        name: &str,
    ) -> Result<Vec<Version>> {
        self.versions_in(token, owner, name, "active").await
    }

    /// A package's deleted versions that GitHub can still restore (30 days).
    pub async fn deleted_versions(
        &self,
        token: &Secret,
        owner: &Owner,
        name: &str,
    ) -> Result<Vec<Version>> {
        self.versions_in(token, owner, name, "deleted").await
    }

    /// The versions in `state` (GitHub's `active` or `deleted`), every page.
    async fn versions_in(
        &self,
        token: &Secret,
        owner: &Owner,
        name: &str,
        state: &str,
    ) -> Result<Vec<Version>> {
        let path = format!(
            "{}/container/{}/versions?state={state}&per_page=100",
            owner.path(),
            segment(name)
        );
        let what = match state {
            "deleted" => format!("the deleted versions of {name}"),
            _ => format!("the versions of {name}"),
        };
        self.all_pages(token, &path, &what).await
    }

    /// Brings a deleted version back (within 30 days).
    pub async fn restore_version(
        &self,
        token: &Secret,
        owner: &Owner,
        name: &str,
        id: u64,
    ) -> Result<()> {
        let path = format!(
            "{}/container/{}/versions/{id}/restore",
            owner.path(),
            segment(name)
        );
        self.send(
            reqwest::Method::POST,
            token,
            &path,
            &format!("restoring version {id} of {name}"),
        )
        .await
    }

    /// Brings a deleted package back (within 30 days).
    pub async fn restore_package(&self, token: &Secret, owner: &Owner, name: &str) -> Result<()> {
        let path = format!("{}/container/{}/restore", owner.path(), segment(name));
        self.send(
            reqwest::Method::POST,
            token,
            &path,
            &format!("restoring {name}"),
        )
        .await
    }

    async fn delete(&self, token: &Secret, path: &str, what: &str) -> Result<()> {
        self.send(reqwest::Method::DELETE, token, path, what).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: &Secret,
        path: &str,
        what: &str,
    ) -> Result<()> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|e| crate::github::unreachable(&self.api, &e))?;
        if !response.status().is_success() {
            return Err(refused(response, what).await);
        }
        Ok(())
    }

    /// Deletes one version (restorable for 30 days on GitHub).
    pub async fn delete_version(
        &self,
        token: &Secret,
        owner: &Owner,
        name: &str,
        id: u64,
    ) -> Result<()> {
        let path = format!("{}/container/{}/versions/{id}", owner.path(), segment(name));
        self.delete(token, &path, &format!("deleting version {id} of {name}"))
            .await
    }

    /// Deletes the whole package (restorable for 30 days on GitHub).
    pub async fn delete_package(&self, token: &Secret, owner: &Owner, name: &str) -> Result<()> {
        let path = format!("{}/container/{}", owner.path(), segment(name));
        self.delete(token, &path, &format!("deleting {name}")).await
    }
}

/// A repository a package can be connected to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRef {
    pub full_name: String,
    pub html_url: String,
    #[serde(default)]
    pub private: bool,
}

impl GitHub {
    /// The repositories of `owner` (a user or an org), every page.
    pub async fn repositories(
        &self,
        token: &Secret,
        owner: &Owner,
        login: &str,
    ) -> Result<Vec<RepositoryRef>> {
        let path = match owner {
            Owner::User => format!("/users/{}/repos?per_page=100", segment(login)),
            Owner::Org(org) => format!("/orgs/{}/repos?per_page=100", segment(org)),
        };
        self.all_pages(token, &path, &format!("the repositories of {login}"))
            .await
    }
}

/// What an anonymous pull of `reference` showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisibilityProof {
    pub reference: String,
    /// The registry served the manifest with no credentials at all.
    pub anyone_can_pull: bool,
}

/// Fetches `registry/owner/name:tag`'s manifest with an anonymous token, as anyone on the internet
/// would: served means public, refused means not public.
pub async fn prove_visibility(
    config: &Config,
    owner: &str,
    name: &str,
    tag: &str,
) -> Result<VisibilityProof> {
    let path = format!("{}/{}", owner.to_ascii_lowercase(), name);
    let reference = format!("{}/{path}:{tag}", config.registry);
    let refused = |error: &Error| {
        matches!(
            error.code,
            Code::TokenInvalid | Code::RegistryDenied | Code::TokenMissingScope
        )
    };
    let session = match Session::open(config, &path, &[], None).await {
        Ok(session) => session,
        Err(error) if refused(&error) => {
            return Ok(VisibilityProof {
                reference,
                anyone_can_pull: false,
            })
        }
        Err(error) => return Err(error),
    };
    match session.manifest(tag, &crate::archive::MANIFEST_TYPES).await {
        Ok(Some(_)) => Ok(VisibilityProof {
            reference,
            anyone_can_pull: true,
        }),
        Ok(None) => Err(Error::new(
            Code::PackageNotFound,
            format!("The registry has no {reference}"),
            "Check the tag: ghcr versions NAME lists them.",
        )),
        Err(error) if refused(&error) => Ok(VisibilityProof {
            reference,
            anyone_can_pull: false,
        }),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_their_tags_from_githubs_metadata() {
        let version: Version = serde_json::from_str(
            r#"{"id":7,"name":"sha256:ab","metadata":{"package_type":"container","container":{"tags":["1","latest"]}}}"#,
        )
        .unwrap();
        assert_eq!(version.tags(), ["1", "latest"]);
        let untagged: Version = serde_json::from_str(r#"{"id":8,"name":"sha256:cd"}"#).unwrap();
        assert!(untagged.tags().is_empty());
    }
}
