//! `ghcr packages`, `ghcr versions`, `ghcr visibility [--verify]` and `ghcr delete`: GitHub's view of
//! the account's (or an org's) container packages, and the anonymous-pull proof of a visibility.

use super::{Failure, Output};
use clap::Args;
use ghcr::github::GitHub;
use ghcr::packages::{prove_visibility, Owner, Package, Version};
use ghcr::secret::Secret;
use ghcr::{token, Code, Config, Error};

async fn session(owner: &Option<String>) -> Result<(Config, GitHub, Secret, Owner), Failure> {
    let config = Config::from_env()?;
    let token = token::token_in_use(&config).await?;
    let github = GitHub::new(&config)?;
    Ok((config, github, token, Owner::from_option(owner.as_deref())))
}

#[derive(Args)]
pub struct List {
    /// An organization's packages instead of your own.
    #[arg(long)]
    owner: Option<String>,
}

impl List {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        list(self.owner, out).await
    }
}

async fn list(owner: Option<String>, out: Output) -> Result<(), Failure> {
    let (_, github, token, owner) = session(&owner).await?;
    let packages = github.packages(&token, &owner).await?;
    if out.json {
        out.print_json(&packages);
        return Ok(());
    }
    if packages.is_empty() {
        say!("No container packages yet. Push one with `ghcr push IMAGE TARGET`.");
        return Ok(());
    }
    let width = super::column_width(packages.iter().map(|p| p.name.as_str()), "NAME");
    say!(
        "{:width$}  {:10}  {:>8}  {:20}  REPOSITORY",
        "NAME",
        "VISIBILITY",
        "VERSIONS",
        "UPDATED"
    );
    for package in &packages {
        say!(
            "{:width$}  {:10}  {:>8}  {:20}  {}",
            package.name,
            package.visibility,
            package.version_count,
            package.updated_at,
            package
                .repository
                .as_ref()
                .map_or("-", |r| r.full_name.as_str())
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct Versions {
    name: String,
    #[arg(long)]
    owner: Option<String>,
}

impl Versions {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        versions(&self.name, self.owner, out).await
    }
}

async fn versions(name: &str, owner: Option<String>, out: Output) -> Result<(), Failure> {
    let (_, github, token, owner) = session(&owner).await?;
    let versions = github.versions(&token, &owner, name).await?;
    if out.json {
        out.print_json(&versions);
        return Ok(());
    }
    say!("{:71}  {:20}  TAGS", "DIGEST", "CREATED");
    for version in &versions {
        say!(
            "{:71}  {:20}  {}",
            version.name,
            version.created_at,
            version.tags().join(", ")
        );
    }
    Ok(())
}

async fn find(
    github: &GitHub,
    token: &Secret,
    owner: &Owner,
    name: &str,
) -> Result<Package, Error> {
    github
        .packages(token, owner)
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            Error::new(
                Code::PackageNotFound,
                format!("There is no container package {name} here"),
                "`ghcr packages` lists them (add --owner ORG for an organization's).",
            )
        })
}

#[derive(Args)]
pub struct Visibility {
    name: String,
    #[arg(long)]
    owner: Option<String>,
    /// Pull the manifest anonymously: public must be served, private refused.
    #[arg(long)]
    verify: bool,
}

impl Visibility {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        visibility(&self.name, self.owner, self.verify, out).await
    }
}

async fn visibility(
    name: &str,
    owner: Option<String>,
    verify: bool,
    out: Output,
) -> Result<(), Failure> {
    let (config, github, token, owner) = session(&owner).await?;
    let package = find(&github, &token, &owner, name).await?;
    let proof = if verify {
        let versions = github.versions(&token, &owner, name).await?;
        let tag = versions
            .iter()
            .find_map(|v| v.tags().first().cloned())
            .ok_or_else(|| {
                Error::new(
                    Code::PackageNotFound,
                    format!("{name} has no tagged version to pull"),
                    "Push a tag first.",
                )
            })?;
        Some(prove_visibility(&config, &package.owner.login, name, &tag).await?)
    } else {
        None
    };
    if out.json {
        out.print_json(&serde_json::json!({
            "package": package.name, "owner": package.owner.login,
            "visibility": package.visibility, "proof": proof,
        }));
        return Ok(());
    }
    say!("{} is {} on GitHub", package.name, package.visibility);
    if let Some(proof) = proof {
        let public = package.visibility == "public";
        match (proof.anyone_can_pull, public) {
            (true, true) => say!("✓ anyone can pull {} (anonymous pull served)", proof.reference),
            (false, false) => say!(
                "✓ only you and people you grant can pull {} (anonymous pull refused)",
                proof.reference
            ),
            (true, false) => say!(
                "✗ GitHub says {} but an anonymous pull of {} was served",
                package.visibility,
                proof.reference
            ),
            (false, true) => say!(
                "✗ GitHub says public but an anonymous pull of {} was refused (a change may still be on its way)",
                proof.reference
            ),
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct Delete {
    target: String,
    #[arg(long)]
    owner: Option<String>,
}

impl Delete {
    pub async fn run(self) -> Result<(), Failure> {
        delete(&self.target, self.owner).await
    }
}

async fn delete(target: &str, owner: Option<String>) -> Result<(), Failure> {
    let (_, github, token, owner) = session(&owner).await?;
    let (name, which) = match target.split_once('@') {
        Some((name, digest)) => (name, Some(("digest", digest))),
        None => match target.rsplit_once(':') {
            Some((name, tag)) => (name, Some(("tag", tag))),
            None => (target, None),
        },
    };
    let Some((kind, wanted)) = which else {
        github.delete_package(&token, &owner, name).await?;
        say!("Deleted the package {name}. GitHub can restore it for 30 days.");
        return Ok(());
    };
    let versions: Vec<Version> = github.versions(&token, &owner, name).await?;
    let version = versions
        .iter()
        .find(|v| match kind {
            "digest" => v.name == wanted,
            _ => v.tags().iter().any(|t| t == wanted),
        })
        .ok_or_else(|| {
            Error::new(
                Code::PackageNotFound,
                format!("{name} has no version with {kind} {wanted}"),
                "`ghcr versions NAME` lists them.",
            )
        })?;
    github
        .delete_version(&token, &owner, name, version.id)
        .await?;
    say!(
        "Deleted {} of {name} (tags: {}). GitHub can restore it for 30 days.",
        version.name,
        if version.tags().is_empty() {
            "none".to_string()
        } else {
            version.tags().join(", ")
        }
    );
    Ok(())
}
