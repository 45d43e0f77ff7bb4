//! The emulated GitHub world: users, orgs, repositories and tokens from the world file, and the container
//! packages learned from real pushes. State and GitHub's rules over it (who may see, push, pull, delete);
//! no HTTP here.

use serde::Deserialize;
use std::collections::HashMap;
use time::OffsetDateTime;

/// The world file (TOML): see tests/emulator/world.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub orgs: Vec<OrgSpec>,
    #[serde(default)]
    pub repositories: Vec<RepositorySpec>,
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    #[serde(default)]
    pub oauth: OAuthSpec,
}

/// OAuth apps that may use the device flow, and its timing (GitHub: 5 s interval, 900 s expiry).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSpec {
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default = "default_interval")]
    pub device_interval_seconds: u64,
    #[serde(default = "default_expiry")]
    pub device_expires_seconds: u64,
}

fn default_interval() -> u64 {
    5
}

fn default_expiry() -> u64 {
    900
}

impl Default for OAuthSpec {
    fn default() -> OAuthSpec {
        OAuthSpec {
            client_ids: Vec::new(),
            device_interval_seconds: default_interval(),
            device_expires_seconds: default_expiry(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub login: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSpec {
    pub login: String,
    #[serde(default)]
    pub members: Vec<MemberSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    pub login: String,
    /// Public memberships are listed by `GET /user/orgs` without the `read:org` scope.
    #[serde(default)]
    pub public: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositorySpec {
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    pub token: String,
    pub login: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// RFC 3339; a token past it answers like a revoked one.
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
}

/// What a token is, by its prefix (FACTS: GitHub tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        if token.starts_with("github_pat_") {
            TokenKind::FineGrained
        } else if token.starts_with("ghp_") {
            TokenKind::Classic
        } else if token.starts_with("gho_") {
            TokenKind::OAuth
        } else if token.starts_with("ghu_") {
            TokenKind::UserToServer
        } else if token.starts_with("ghs_") {
            TokenKind::Server
        } else if token.starts_with("ghr_") {
            TokenKind::Refresh
        } else {
            TokenKind::Unknown
        }
    }

    /// Only classic and OAuth tokens carry scopes (and report them in `X-OAuth-Scopes`).
    pub fn has_scopes(self) -> bool {
        matches!(self, TokenKind::Classic | TokenKind::OAuth)
    }

    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Classic => "ghp_",
            TokenKind::OAuth => "gho_",
            TokenKind::FineGrained => "github_pat_",
            TokenKind::UserToServer => "ghu_",
            TokenKind::Server => "ghs_",
            TokenKind::Refresh => "ghr_",
            TokenKind::Unknown => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub login: String,
    pub kind: TokenKind,
    pub scopes: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// A token that authenticated: whose it is and what it may do.
#[derive(Debug, Clone)]
pub struct Identity {
    pub login: String,
    pub kind: TokenKind,
    pub scopes: Vec<String>,
}

impl Identity {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.kind.has_scopes() && self.scopes.iter().any(|s| s == scope)
    }

    /// `write:packages` implies `read:packages`.
    pub fn can_read_packages(&self) -> bool {
        self.has_scope("read:packages") || self.can_write_packages()
    }

    pub fn can_write_packages(&self) -> bool {
        self.has_scope("write:packages")
    }

    pub fn can_delete_packages(&self) -> bool {
        self.has_scope("delete:packages") && self.can_read_packages()
    }

    /// Whether this token can see private org memberships (`read:org` and the scopes that imply it).
    pub fn can_read_org(&self) -> bool {
        ["read:org", "write:org", "admin:org", "user"]
            .iter()
            .any(|s| self.has_scope(s))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    User,
    Organization,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub login: String,
    pub kind: AccountKind,
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub org: String,
    pub login: String,
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct Repository {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
    Internal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            "internal" => Some(Visibility::Internal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    pub id: u64,
    /// The manifest digest: a container version's `name`.
    pub digest: String,
    pub tags: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    /// The manifest (media type, bytes) taken out of the registry at deletion, for a restore.
    pub saved_manifest: Option<(String, Vec<u8>)>,
    /// How often it was pulled (set by tests: GitHub keeps public versions past 5,000).
    pub downloads: u64,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub id: u64,
    /// The owner's login as GitHub spells it (the registry path has it lowercased).
    pub owner: String,
    /// The package name: the registry path after the owner (may contain `/`).
    pub name: String,
    pub visibility: Visibility,
    pub repository: Option<u64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub versions: Vec<Version>,
}

impl Package {
    pub fn active_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| v.deleted_at.is_none())
    }

    /// `owner/name` as the registry names it (lowercase).
    pub fn registry_path(&self) -> String {
        format!("{}/{}", self.owner.to_ascii_lowercase(), self.name)
    }
}

/// Why a token did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadToken {
    Unknown,
    Revoked,
    Expired,
}

#[derive(Debug, Default)]
pub struct World {
    pub accounts: Vec<Account>,
    pub memberships: Vec<Membership>,
    pub repositories: Vec<Repository>,
    pub tokens: HashMap<String, Token>,
    pub packages: Vec<Package>,
    pub oauth: OAuthSpec,
    /// Organizations' token policies, by lowercase login (none: classic tokens allowed, no SSO).
    pub org_policies: HashMap<String, OrgPolicy>,
    next_id: u64,
}

/// What an organization asks of the tokens that reach its resources (FACTS: organizations).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgPolicy {
    /// Classic personal access tokens are refused ("… forbids access via a personal access token
    /// (classic)…").
    #[serde(default)]
    pub forbid_classic_tokens: bool,
    /// SAML single sign-on: a token must be authorised for the org first.
    #[serde(default)]
    pub sso_required: bool,
    /// The tokens authorised for SSO.
    #[serde(default)]
    pub sso_authorized_tokens: Vec<String>,
}

/// Why an org refuses a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRefusal {
    ClassicTokensForbidden,
    SsoRequired,
}

impl World {
    pub fn from_file(file: WorldFile) -> Result<World, String> {
        let mut world = World {
            next_id: 1000,
            oauth: file.oauth,
            ..World::default()
        };
        for user in file.users {
            let id = world.new_id();
            world.accounts.push(Account {
                id,
                login: user.login,
                kind: AccountKind::User,
                name: user.name,
            });
        }
        for org in file.orgs {
            let id = world.new_id();
            for member in org.members {
                if world.user(&member.login).is_none() {
                    return Err(format!(
                        "org {} lists unknown member {}",
                        org.login, member.login
                    ));
                }
                world.memberships.push(Membership {
                    org: org.login.clone(),
                    login: member.login,
                    public: member.public,
                });
            }
            world.accounts.push(Account {
                id,
                login: org.login,
                kind: AccountKind::Organization,
                name: None,
            });
        }
        for repo in file.repositories {
            if world.account(&repo.owner).is_none() {
                return Err(format!(
                    "repository {}/{} has an unknown owner",
                    repo.owner, repo.name
                ));
            }
            let id = world.new_id();
            world.repositories.push(Repository {
                id,
                owner: repo.owner,
                name: repo.name,
                private: repo.private,
            });
        }
        for token in file.tokens {
            let expires_at = match &token.expires_at {
                Some(text) => Some(
                    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| format!("token expiry {text:?}: {e}"))?,
                ),
                None => None,
            };
            world.add_token(
                token.token,
                &token.login,
                token.scopes,
                expires_at,
                token.revoked,
            )?;
        }
        Ok(world)
    }

    /// Adds a user, and each named org (created if new) with the user as a public member.
    pub fn add_user(&mut self, login: &str, orgs: &[String]) -> Result<(), String> {
        let valid = |name: &str| {
            !name.is_empty()
                && name.len() <= 39
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !valid(login) || orgs.iter().any(|o| !valid(o)) {
            return Err("logins are 1-39 letters, digits and hyphens".into());
        }
        if self.account(login).is_some() {
            return Err(format!("{login} exists"));
        }
        let id = self.new_id();
        self.accounts.push(Account {
            id,
            login: login.to_string(),
            kind: AccountKind::User,
            name: None,
        });
        for org in orgs {
            match self.account(org).map(|a| a.kind) {
                Some(AccountKind::User) => return Err(format!("{org} is a user")),
                Some(AccountKind::Organization) => {}
                None => {
                    let id = self.new_id();
                    self.accounts.push(Account {
                        id,
                        login: org.clone(),
                        kind: AccountKind::Organization,
                        name: None,
                    });
                }
            }
            self.memberships.push(Membership {
                org: org.clone(),
                login: login.to_string(),
                public: true,
            });
        }
        Ok(())
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn add_token(
        &mut self,
        value: String,
        login: &str,
        scopes: Vec<String>,
        expires_at: Option<OffsetDateTime>,
        revoked: bool,
    ) -> Result<(), String> {
        let Some(user) = self.user(login) else {
            return Err(format!("token for unknown user {login}"));
        };
        let login = user.login.clone();
        let kind = TokenKind::of(&value);
        self.tokens.insert(
            value,
            Token {
                login,
                kind,
                scopes,
                expires_at,
                revoked,
            },
        );
        Ok(())
    }

    pub fn authenticate(&self, token: &str) -> Result<Identity, BadToken> {
        let found = self.tokens.get(token).ok_or(BadToken::Unknown)?;
        if found.revoked {
            return Err(BadToken::Revoked);
        }
        if found
            .expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc())
        {
            return Err(BadToken::Expired);
        }
        Ok(Identity {
            login: found.login.clone(),
            kind: found.kind,
            scopes: if found.kind.has_scopes() {
                found.scopes.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// An account by login, case-insensitively (registry paths are lowercase, logins are not).
    pub fn account(&self, login: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.login.eq_ignore_ascii_case(login))
    }

    pub fn user(&self, login: &str) -> Option<&Account> {
        self.account(login).filter(|a| a.kind == AccountKind::User)
    }

    pub fn org(&self, login: &str) -> Option<&Account> {
        self.account(login)
            .filter(|a| a.kind == AccountKind::Organization)
    }

    pub fn is_member(&self, login: &str, org: &str) -> bool {
        self.memberships
            .iter()
            .any(|m| m.login.eq_ignore_ascii_case(login) && m.org.eq_ignore_ascii_case(org))
    }

    /// The user themself, or a member of the org: may publish there and sees its private packages.
    pub fn belongs(&self, login: &str, owner: &str) -> bool {
        login.eq_ignore_ascii_case(owner) || self.is_member(login, owner)
    }

    pub fn repository(&self, id: u64) -> Option<&Repository> {
        self.repositories.iter().find(|r| r.id == id)
    }

    pub fn find_repository(&self, owner: &str, name: &str) -> Option<&Repository> {
        self.repositories
            .iter()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    /// A package by owner and name: the active one, else the latest deleted one (a push to a deleted
    /// package's name makes a new package, so a name may have both).
    pub fn package_index(&self, owner: &str, name: &str) -> Option<usize> {
        let named = |p: &Package| p.owner.eq_ignore_ascii_case(owner) && p.name == name;
        self.packages
            .iter()
            .position(|p| named(p) && p.deleted_at.is_none())
            .or_else(|| self.packages.iter().rposition(named))
    }

    /// Whether `org` refuses this token (`value`, as presented) of this kind.
    pub fn org_refusal(&self, org: &str, value: &str, kind: TokenKind) -> Option<OrgRefusal> {
        let policy = self.org_policies.get(&org.to_ascii_lowercase())?;
        if policy.forbid_classic_tokens && kind == TokenKind::Classic {
            return Some(OrgRefusal::ClassicTokensForbidden);
        }
        let personal = matches!(kind, TokenKind::Classic | TokenKind::OAuth);
        if policy.sso_required
            && personal
            && !policy.sso_authorized_tokens.iter().any(|t| t == value)
        {
            return Some(OrgRefusal::SsoRequired);
        }
        None
    }

    /// A package that is not deleted, by owner and name.
    pub fn active_package(&self, owner: &str, name: &str) -> Option<&Package> {
        self.package_index(owner, name)
            .map(|i| &self.packages[i])
            .filter(|p| p.deleted_at.is_none())
    }

    /// Changes a package's visibility (what its settings page does); `None` if there is no such package.
    pub fn set_visibility(
        &mut self,
        owner: &str,
        name: &str,
        visibility: Visibility,
    ) -> Option<&Package> {
        let index = self.package_index(owner, name)?;
        let package = &mut self.packages[index];
        package.visibility = visibility;
        package.updated_at = OffsetDateTime::now_utc();
        Some(package)
    }

    /// Whether `who` (None: anonymous) may see the package's existence and metadata.
    pub fn can_see(&self, who: Option<&Identity>, package: &Package) -> bool {
        package.visibility == Visibility::Public
            || who
                .is_some_and(|id| id.can_read_packages() && self.belongs(&id.login, &package.owner))
    }

    /// Splits a registry repository path `owner/name…` into the owner account and the package name.
    pub fn split_registry_path<'a>(&'a self, path: &str) -> Option<(&'a Account, String)> {
        let (owner, name) = path.split_once('/')?;
        if name.is_empty() {
            return None;
        }
        Some((self.account(owner)?, name.to_string()))
    }

    /// Records a manifest pushed to the registry: creates the package (private, as ghcr.io does) and the
    /// version, and moves the tag onto it. Returns the package's index.
    pub fn record_push(
        &mut self,
        registry_path: &str,
        digest: &str,
        tag: Option<&str>,
        source_repository: Option<(String, String)>,
    ) -> Option<usize> {
        let (owner, name) = self.split_registry_path(registry_path)?;
        let owner = owner.login.clone();
        let now = OffsetDateTime::now_utc();
        let repository = source_repository
            .and_then(|(o, r)| self.find_repository(&o, &r))
            .filter(|r| r.owner.eq_ignore_ascii_case(&owner))
            .map(|r| r.id);
        let active = self
            .package_index(&owner, &name)
            .filter(|&i| self.packages[i].deleted_at.is_none());
        let index = match active {
            Some(index) => index,
            // ghcr.io reads the source label only when the package is created (FACTS: linking).
            None => {
                let id = self.new_id();
                self.packages.push(Package {
                    id,
                    owner,
                    name,
                    visibility: Visibility::Private,
                    repository,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    versions: Vec::new(),
                });
                self.packages.len() - 1
            }
        };
        let version_id = self.new_id();
        let package = &mut self.packages[index];
        package.updated_at = now;
        if let Some(tag) = tag {
            for version in &mut package.versions {
                version.tags.retain(|t| t != tag);
            }
        }
        match package
            .versions
            .iter_mut()
            .find(|v| v.digest == digest && v.deleted_at.is_none())
        {
            Some(version) => {
                version.updated_at = now;
                if let Some(tag) = tag {
                    version.tags.push(tag.to_string());
                }
            }
            None => package.versions.push(Version {
                id: version_id,
                digest: digest.to_string(),
                tags: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
                saved_manifest: None,
                downloads: 0,
            }),
        }
        Some(index)
    }
}

/// A small world for the emulator's unit tests: two users, an org, a repository and tokens of each
/// interesting kind.
#[cfg(test)]
pub(crate) fn sample_world() -> World {
    let file: WorldFile = toml::from_str(
        r#"
        [[users]]
        login = "Octo-Cat"
        [[users]]
        login = "other"
        [[orgs]]
        login = "Acme"
        members = [{ login = "Octo-Cat" }]
        [[repositories]]
        owner = "Octo-Cat"
        name = "hello"
        [[tokens]]
        token = "ghp_writer"
        login = "Octo-Cat"
        scopes = ["write:packages"]
        [[tokens]]
        token = "ghp_reader"
        login = "Octo-Cat"
        scopes = ["read:packages"]
        [[tokens]]
        token = "ghp_other"
        login = "other"
        scopes = ["write:packages"]
        [[tokens]]
        token = "github_pat_fine"
        login = "Octo-Cat"
        scopes = ["write:packages"]
        [[tokens]]
        token = "ghp_old"
        login = "Octo-Cat"
        scopes = ["read:packages"]
        expires_at = "2020-01-01T00:00:00Z"
        "#,
    )
    .expect("the sample world parses");
    World::from_file(file).expect("the sample world is consistent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        sample_world()
    }

    #[test]
    fn token_kinds_come_from_prefixes() {
        assert_eq!(TokenKind::of("ghp_x"), TokenKind::Classic);
        assert_eq!(TokenKind::of("gho_x"), TokenKind::OAuth);
        assert_eq!(TokenKind::of("github_pat_x"), TokenKind::FineGrained);
        assert_eq!(TokenKind::of("ghs_x"), TokenKind::Server);
        assert_eq!(TokenKind::of("ghu_x"), TokenKind::UserToServer);
        assert_eq!(TokenKind::of("nonsense"), TokenKind::Unknown);
    }

    #[test]
    fn fine_grained_tokens_carry_no_scopes_and_expired_ones_do_not_authenticate() {
        let world = world();
        let fine = world.authenticate("github_pat_fine").unwrap();
        assert!(fine.scopes.is_empty());
        assert!(!fine.can_write_packages());
        assert_eq!(
            world.authenticate("ghp_old").unwrap_err(),
            BadToken::Expired
        );
        assert_eq!(
            world.authenticate("ghp_nope").unwrap_err(),
            BadToken::Unknown
        );
        let writer = world.authenticate("ghp_writer").unwrap();
        assert!(writer.can_read_packages(), "write implies read");
        assert!(!writer.can_delete_packages());
    }

    #[test]
    fn pushes_create_private_packages_and_move_tags() {
        let mut world = world();
        let index = world
            .record_push(
                "octo-cat/tools/cli",
                "sha256:a",
                Some("latest"),
                Some(("Octo-Cat".into(), "hello".into())),
            )
            .unwrap();
        world.record_push("octo-cat/tools/cli", "sha256:b", Some("latest"), None);
        let package = &world.packages[index];
        assert_eq!(package.owner, "Octo-Cat");
        assert_eq!(package.name, "tools/cli");
        assert_eq!(package.visibility, Visibility::Private);
        assert!(package.repository.is_some());
        let tags: Vec<(&str, Vec<String>)> = package
            .versions
            .iter()
            .map(|v| (v.digest.as_str(), v.tags.clone()))
            .collect();
        assert_eq!(
            tags,
            vec![
                ("sha256:a", vec![]),
                ("sha256:b", vec!["latest".to_string()])
            ]
        );
        assert!(world
            .record_push("nobody/x", "sha256:c", None, None)
            .is_none());
    }

    #[test]
    fn private_packages_are_seen_by_their_owner_and_org_members_only() {
        let mut world = world();
        let index = world
            .record_push("acme/app", "sha256:a", Some("1"), None)
            .unwrap();
        let package = world.packages[index].clone();
        let writer = world.authenticate("ghp_writer").unwrap();
        assert!(world.can_see(Some(&writer), &package));
        assert!(!world.can_see(None, &package));
        world.packages[index].visibility = Visibility::Public;
        assert!(world.can_see(None, &world.packages[index].clone()));
    }
}
