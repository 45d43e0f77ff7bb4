//! GitHub's REST subset that GHCR Desktop uses, with GitHub's shapes, headers and status codes: the
//! authenticated user and their orgs, container packages of a user or an org, their versions and tags,
//! delete and restore (which delete and restore the manifests in the real registry), `Link` pagination.
//! Each package route serves both forms, `/user/packages/…` and `/orgs/{org}/packages/…`.

use crate::app::{
    caller, no_content, not_found, require_identity, timestamp, Caller, GhError, Shared, DOCS,
};
use crate::world::{
    Account, AccountKind, Identity, Package, TokenKind, Version, Visibility, World,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

const PACKAGES_DOCS: &str = "https://docs.github.com/rest/packages/packages";
const USER_DOCS: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
/// Deleted packages and versions can be restored within 30 days.
const RESTORE_DAYS: i64 = 30;

type Answer = Result<Response, GhError>;

pub fn routes() -> Router<Shared> {
    let both = |router: Router<Shared>, tail: &str, handler: MethodRouter<Shared>| {
        router
            .route(&format!("/user/packages{tail}"), handler.clone())
            .route(&format!("/orgs/{{org}}/packages{tail}"), handler)
    };
    let router = Router::new()
        .route("/user", get(user))
        .route("/user/orgs", get(user_orgs))
        .route("/users/{owner}/repos", get(owner_repos))
        .route("/orgs/{owner}/repos", get(owner_repos));
    let router = both(router, "", get(list_packages));
    let router = both(
        router,
        "/{kind}/{name}",
        get(get_package).delete(delete_package),
    );
    let router = both(router, "/{kind}/{name}/restore", post(restore_package));
    let router = both(router, "/{kind}/{name}/versions", get(list_versions));
    let router = both(
        router,
        "/{kind}/{name}/versions/{id}",
        get(get_version).delete(delete_version),
    );
    both(
        router,
        "/{kind}/{name}/versions/{id}/restore",
        post(restore_version),
    )
}

// --- JSON shapes ----------------------------------------------------------------------------------

/// A package name as one URL path segment: GitHub writes `/` as `%2F`.
pub fn encode_name(name: &str) -> String {
    name.replace('/', "%2F")
}

fn account_json(base: &str, account: &Account) -> Value {
    let login = &account.login;
    let kind = match account.kind {
        AccountKind::User => "User",
        AccountKind::Organization => "Organization",
    };
    let collection = match account.kind {
        AccountKind::User => "users",
        AccountKind::Organization => "orgs",
    };
    json!({
        "login": login,
        "id": account.id,
        "node_id": format!("U_emulated{}", account.id),
        "avatar_url": format!("{base}/avatars/{login}"),
        "gravatar_id": "",
        "url": format!("{base}/{collection}/{login}"),
        "html_url": format!("{base}/{login}"),
        "repos_url": format!("{base}/{collection}/{login}/repos"),
        "type": kind,
        "site_admin": false,
    })
}

fn org_json(base: &str, org: &Account) -> Value {
    let login = &org.login;
    json!({
        "login": login,
        "id": org.id,
        "node_id": format!("O_emulated{}", org.id),
        "url": format!("{base}/orgs/{login}"),
        "repos_url": format!("{base}/orgs/{login}/repos"),
        "events_url": format!("{base}/orgs/{login}/events"),
        "hooks_url": format!("{base}/orgs/{login}/hooks"),
        "issues_url": format!("{base}/orgs/{login}/issues"),
        "members_url": format!("{base}/orgs/{login}/members{{/member}}"),
        "public_members_url": format!("{base}/orgs/{login}/public_members{{/member}}"),
        "avatar_url": format!("{base}/avatars/{login}"),
        "description": null,
    })
}

fn package_paths(base: &str, world: &World, package: &Package) -> (String, String) {
    let org = world.org(&package.owner).is_some();
    let owner = &package.owner;
    let name = encode_name(&package.name);
    if org {
        (
            format!("{base}/orgs/{owner}/packages/container/{name}"),
            format!("{base}/orgs/{owner}/packages/container/package/{name}"),
        )
    } else {
        (
            format!("{base}/users/{owner}/packages/container/{name}"),
            format!("{base}/users/{owner}/packages/container/package/{name}"),
        )
    }
}

fn package_json(base: &str, world: &World, package: &Package) -> Value {
    let (url, html_url) = package_paths(base, world, package);
    let owner = world
        .account(&package.owner)
        .map(|a| account_json(base, a))
        .unwrap_or(Value::Null);
    let mut value = json!({
        "id": package.id,
        "name": package.name,
        "package_type": "container",
        "owner": owner,
        "version_count": package.active_versions().count(),
        "visibility": package.visibility.as_str(),
        "url": url,
        "created_at": timestamp(package.created_at),
        "updated_at": timestamp(package.updated_at),
        "html_url": html_url,
    });
    if let Some(repo) = package.repository.and_then(|id| world.repository(id)) {
        let owner = world
            .account(&repo.owner)
            .map(|a| account_json(base, a))
            .unwrap_or(Value::Null);
        value["repository"] = json!({
            "id": repo.id,
            "node_id": format!("R_emulated{}", repo.id),
            "name": repo.name,
            "full_name": format!("{}/{}", repo.owner, repo.name),
            "private": repo.private,
            "owner": owner,
            "html_url": format!("{base}/{}/{}", repo.owner, repo.name),
            "url": format!("{base}/repos/{}/{}", repo.owner, repo.name),
            "description": null,
            "fork": false,
        });
    }
    value
}

fn version_json(base: &str, world: &World, package: &Package, version: &Version) -> Value {
    let (url, html_url) = package_paths(base, world, package);
    let mut value = json!({
        "id": version.id,
        "name": version.digest,
        "url": format!("{url}/versions/{}", version.id),
        "package_html_url": html_url,
        "created_at": timestamp(version.created_at),
        "updated_at": timestamp(version.updated_at),
        "html_url": format!("{}/{}", html_url.replace("/package/", "/"), version.id),
        "metadata": { "package_type": "container", "container": { "tags": version.tags } },
    });
    if let Some(at) = version.deleted_at {
        value["deleted_at"] = json!(timestamp(at));
    }
    value
}

// --- pagination -----------------------------------------------------------------------------------

/// One page of `items` per `page`/`per_page` (default 30, at most 100), with GitHub's `Link` header.
fn paginated(
    base: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Response {
    let per_page = query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(30)
        .min(100);
    let page = query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    let body = Value::Array(items[start..end].to_vec());

    let link_to = |target: usize| {
        let mut params: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page" && k.as_str() != "per_page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        params.push(format!("per_page={per_page}"));
        params.push(format!("page={target}"));
        format!("<{base}{path}?{}>", params.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let mut response = Json(body).into_response();
    if !links.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert("link", value);
        }
    }
    response
}

// --- the user -------------------------------------------------------------------------------------

async fn user(State(app): State<Shared>, headers: HeaderMap) -> Answer {
    let identity = require_identity(caller(&app, &headers), USER_DOCS)?;
    let world = app.world();
    let account = world
        .user(&identity.login)
        .ok_or_else(crate::app::bad_credentials)?;
    let mut body = account_json(&app.base_url, account);
    body["name"] = json!(account.name);
    body["company"] = Value::Null;
    body["blog"] = json!("");
    body["location"] = Value::Null;
    body["email"] = Value::Null;
    body["bio"] = Value::Null;
    body["created_at"] = json!("2020-01-01T00:00:00Z");
    body["updated_at"] = json!("2026-01-01T00:00:00Z");
    let mut response = Json(body).into_response();
    if identity.kind.has_scopes() {
        if let Ok(value) = HeaderValue::from_str(&identity.scopes.join(", ")) {
            response.headers_mut().insert("x-oauth-scopes", value);
        }
        response
            .headers_mut()
            .insert("x-accepted-oauth-scopes", HeaderValue::from_static(""));
    }
    Ok(response)
}

async fn user_orgs(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Answer {
    let identity = require_identity(
        caller(&app, &headers),
        "https://docs.github.com/rest/orgs/orgs#list-organizations-for-the-authenticated-user",
    )?;
    let world = app.world();
    // Without read:org a token sees only the memberships the user made public, as on github.com.
    let orgs: Vec<Value> = world
        .memberships
        .iter()
        .filter(|m| m.login == identity.login && (m.public || identity.can_read_org()))
        .filter_map(|m| world.org(&m.org))
        .map(|org| org_json(&app.base_url, org))
        .collect();
    Ok(paginated(&app.base_url, "/user/orgs", &query, orgs))
}

/// `GET /users/{owner}/repos` and `/orgs/{owner}/repos`: the owner's repositories; private ones only
/// for the owner and members.
async fn owner_repos(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(owner): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Answer {
    let identity = match caller(&app, &headers) {
        crate::app::Caller::Known(identity) => Some(identity),
        _ => None,
    };
    let world = app.world();
    let Some(account) = world.account(&owner) else {
        return Err(not_found("https://docs.github.com/rest/repos/repos"));
    };
    let login = account.login.clone();
    let sees_private = identity
        .as_ref()
        .is_some_and(|id| world.belongs(&id.login, &login));
    let repos: Vec<Value> = world
        .repositories
        .iter()
        .filter(|r| r.owner.eq_ignore_ascii_case(&login) && (!r.private || sees_private))
        .map(|r| {
            json!({
                "id": r.id, "name": r.name, "full_name": format!("{}/{}", r.owner, r.name),
                "private": r.private, "html_url": format!("{}/{}/{}", app.base_url, r.owner, r.name),
                "owner": {"login": r.owner},
            })
        })
        .collect();
    let path = format!("/users/{login}/repos");
    Ok(paginated(&app.base_url, &path, &query, repos))
}

// --- packages -------------------------------------------------------------------------------------

/// What a package route names, from its path parameters: whose packages (the authenticated user's for
/// `/user/…`, an org's for `/orgs/{org}/…`), and the package type, name and version id where given.
struct Target {
    org: Option<String>,
    kind: String,
    name: String,
    id: Option<String>,
}

impl Target {
    fn from(mut params: HashMap<String, String>) -> Target {
        Target {
            org: params.remove("org"),
            kind: params.remove("kind").unwrap_or_default(),
            name: params.remove("name").unwrap_or_default(),
            id: params.remove("id"),
        }
    }

    /// The owner's login as GitHub spells it, or 404.
    fn owner_login(&self, world: &World, identity: &Identity) -> Result<String, GhError> {
        match &self.org {
            None => Ok(identity.login.clone()),
            Some(org) => world
                .org(org)
                .map(|a| a.login.clone())
                .ok_or_else(|| not_found(PACKAGES_DOCS)),
        }
    }

    /// The route's path up to the package list: `/user/packages` or `/orgs/ORG/packages`.
    fn list_path(&self) -> String {
        match &self.org {
            None => "/user/packages".to_string(),
            Some(org) => format!("/orgs/{org}/packages"),
        }
    }

    fn version_id(&self) -> Result<u64, GhError> {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| not_found(PACKAGES_DOCS))
    }

    /// The package the caller may see, active or (for a restore) deleted within the window.
    fn find(&self, world: &World, identity: &Identity, deleted: bool) -> Result<usize, GhError> {
        if self.kind != "container" {
            return Err(not_found(PACKAGES_DOCS));
        }
        let login = self.owner_login(world, identity)?;
        let index = world
            .package_index(&login, &self.name)
            .ok_or_else(|| not_found(PACKAGES_DOCS))?;
        let package = &world.packages[index];
        let state_matches = match package.deleted_at {
            None => !deleted,
            Some(at) => deleted && within_restore_window(at),
        };
        if world.can_see(Some(identity), package) && state_matches {
            Ok(index)
        } else {
            Err(not_found(PACKAGES_DOCS))
        }
    }
}

/// The identity that may read packages, or GitHub's refusal.
fn package_reader(caller: Caller) -> Result<Identity, GhError> {
    let identity = require_identity(caller, PACKAGES_DOCS)?;
    let refuse = |message: &str| Err(GhError::new(StatusCode::FORBIDDEN, message, PACKAGES_DOCS));
    match identity.kind {
        TokenKind::FineGrained => refuse("Resource not accessible by personal access token"),
        TokenKind::Server | TokenKind::UserToServer | TokenKind::Refresh | TokenKind::Unknown => {
            refuse("Resource not accessible by integration")
        }
        TokenKind::Classic | TokenKind::OAuth if !identity.can_read_packages() => {
            refuse("You need at least read:packages scope to list packages.")
        }
        TokenKind::Classic | TokenKind::OAuth => Ok(identity),
    }
}

/// Deleting and restoring needs `delete:packages` and a place in the owner's namespace.
fn package_admin(world: &World, identity: &Identity, owner_login: &str) -> Result<(), GhError> {
    if !identity.can_delete_packages() {
        return Err(GhError::new(
            StatusCode::FORBIDDEN,
            "You need at least read:packages and delete:packages scopes to delete or restore packages.",
            PACKAGES_DOCS,
        ));
    }
    if !world.belongs(&identity.login, owner_login) {
        return Err(GhError::new(
            StatusCode::FORBIDDEN,
            "You must have admin permissions on this package to delete or restore it.",
            PACKAGES_DOCS,
        ));
    }
    Ok(())
}

fn within_restore_window(deleted_at: OffsetDateTime) -> bool {
    OffsetDateTime::now_utc() - deleted_at < time::Duration::days(RESTORE_DAYS)
}

async fn list_packages(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let invalid =
        |message: &str| GhError::new(StatusCode::UNPROCESSABLE_ENTITY, message, PACKAGES_DOCS);
    match query.get("package_type").map(String::as_str) {
        Some("container") => {}
        Some("npm" | "maven" | "rubygems" | "docker" | "nuget") => {
            return Ok(Json(json!([])).into_response())
        }
        _ => {
            return Err(invalid(
                "Invalid argument: package_type must be one of npm, maven, rubygems, docker, nuget, container",
            ))
        }
    }
    let visibility = match query.get("visibility") {
        None => None,
        Some(text) => Some(Visibility::parse(text).ok_or_else(|| {
            invalid("Invalid argument: visibility must be one of public, private, internal")
        })?),
    };
    let world = app.world();
    let login = target.owner_login(&world, &identity)?;
    let packages: Vec<Value> = world
        .packages
        .iter()
        .filter(|p| p.owner == login && p.deleted_at.is_none())
        .filter(|p| visibility.is_none_or(|v| p.visibility == v))
        .filter(|p| world.can_see(Some(&identity), p))
        .map(|p| package_json(&app.base_url, &world, p))
        .collect();
    Ok(paginated(
        &app.base_url,
        &target.list_path(),
        &query,
        packages,
    ))
}

async fn get_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let world = app.world();
    let index = target.find(&world, &identity, false)?;
    Ok(Json(package_json(&app.base_url, &world, &world.packages[index])).into_response())
}

fn registry_unavailable(error: String) -> GhError {
    GhError::new(
        StatusCode::BAD_GATEWAY,
        format!("Registry unavailable: {error}"),
        DOCS,
    )
}

/// A manifest taken out of the registry and kept for a restore: (digest, tags, media type, bytes).
type Kept = (String, Vec<String>, String, Vec<u8>);

/// Takes manifests out of the registry, keeping each one so a restore can put it back.
async fn remove_from_registry(
    app: &Shared,
    registry_path: &str,
    versions: Vec<(String, Vec<String>)>,
) -> Result<Vec<Kept>, GhError> {
    let mut kept = Vec::new();
    for (digest, tags) in versions {
        let (media_type, bytes) = app
            .registry
            .manifest(&app.signer, registry_path, &digest)
            .await
            .map_err(registry_unavailable)?;
        app.registry
            .delete_manifest(&app.signer, registry_path, &digest)
            .await
            .map_err(registry_unavailable)?;
        kept.push((digest, tags, media_type, bytes));
    }
    Ok(kept)
}

/// Puts kept manifests back in the registry, by digest and under each of their tags.
async fn put_back(app: &Shared, registry_path: &str, versions: &[Kept]) -> Result<(), GhError> {
    for (digest, tags, media_type, bytes) in versions {
        for reference in std::iter::once(digest).chain(tags.iter()) {
            app.registry
                .put_manifest(
                    &app.signer,
                    registry_path,
                    reference,
                    media_type,
                    bytes.clone(),
                )
                .await
                .map_err(registry_unavailable)?;
        }
    }
    Ok(())
}

/// Applies `change` to the package at `registry_path` (looked up again: the lock was let go meanwhile).
fn update_package(app: &Shared, registry_path: &str, change: impl FnOnce(&mut Package)) {
    let mut world = app.world();
    if let Some((owner, name)) = registry_path.split_once('/') {
        if let Some(index) = world.package_index(owner, name) {
            change(&mut world.packages[index]);
        }
    }
}

async fn delete_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let (registry_path, versions) = {
        let world = app.world();
        let package = &world.packages[target.find(&world, &identity, false)?];
        package_admin(&world, &identity, &package.owner)?;
        let versions = package
            .active_versions()
            .map(|v| (v.digest.clone(), v.tags.clone()))
            .collect();
        (package.registry_path(), versions)
    };
    let kept = remove_from_registry(&app, &registry_path, versions).await?;
    update_package(&app, &registry_path, |package| {
        let now = OffsetDateTime::now_utc();
        package.deleted_at = Some(now);
        for version in package
            .versions
            .iter_mut()
            .filter(|v| v.deleted_at.is_none())
        {
            version.deleted_at = Some(now);
            version.saved_manifest = kept
                .iter()
                .find(|(digest, ..)| *digest == version.digest)
                .map(|(_, _, media_type, bytes)| (media_type.clone(), bytes.clone()));
        }
    });
    Ok(no_content())
}

async fn restore_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let (registry_path, versions) = {
        let world = app.world();
        let package = &world.packages[target.find(&world, &identity, true)?];
        package_admin(&world, &identity, &package.owner)?;
        let versions: Vec<Kept> = package
            .versions
            .iter()
            .filter(|v| v.deleted_at == package.deleted_at)
            .filter_map(|v| {
                let (media_type, bytes) = v.saved_manifest.clone()?;
                Some((v.digest.clone(), v.tags.clone(), media_type, bytes))
            })
            .collect();
        (package.registry_path(), versions)
    };
    // Marked restored before the manifests go back, so that the registry's push notifications find the
    // versions active (and don't make new ones); marked deleted again if the registry fails.
    let mut deleted_at = None;
    update_package(&app, &registry_path, |package| {
        deleted_at = package.deleted_at.take();
        for version in package
            .versions
            .iter_mut()
            .filter(|v| v.deleted_at == deleted_at)
        {
            version.deleted_at = None;
        }
    });
    if let Err(error) = put_back(&app, &registry_path, &versions).await {
        update_package(&app, &registry_path, |package| {
            package.deleted_at = deleted_at;
            for version in package.versions.iter_mut() {
                if versions
                    .iter()
                    .any(|(digest, ..)| *digest == version.digest)
                {
                    version.deleted_at = deleted_at;
                }
            }
        });
        return Err(error);
    }
    update_package(&app, &registry_path, |package| {
        for version in package.versions.iter_mut() {
            if versions
                .iter()
                .any(|(digest, ..)| *digest == version.digest)
            {
                version.saved_manifest = None;
            }
        }
    });
    Ok(no_content())
}

// --- versions -------------------------------------------------------------------------------------

async fn list_versions(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let deleted = match query.get("state").map(String::as_str) {
        None | Some("active") => false,
        Some("deleted") => true,
        Some(_) => {
            return Err(GhError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid argument: state must be one of active, deleted",
                PACKAGES_DOCS,
            ))
        }
    };
    let world = app.world();
    let package = &world.packages[target.find(&world, &identity, false)?];
    let versions: Vec<Value> = package
        .versions
        .iter()
        .rev()
        .filter(|v| v.deleted_at.is_some() == deleted)
        .map(|v| version_json(&app.base_url, &world, package, v))
        .collect();
    let path = format!(
        "{}/container/{}/versions",
        target.list_path(),
        encode_name(&target.name)
    );
    Ok(paginated(&app.base_url, &path, &query, versions))
}

async fn get_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let id = target.version_id()?;
    let world = app.world();
    let package = &world.packages[target.find(&world, &identity, false)?];
    let version = package
        .versions
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(|| not_found(PACKAGES_DOCS))?;
    Ok(Json(version_json(&app.base_url, &world, package, version)).into_response())
}

async fn delete_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let id = target.version_id()?;
    let (registry_path, version) = {
        let world = app.world();
        let package = &world.packages[target.find(&world, &identity, false)?];
        package_admin(&world, &identity, &package.owner)?;
        let version = package
            .active_versions()
            .find(|v| v.id == id)
            .ok_or_else(|| not_found(PACKAGES_DOCS))?;
        let other_tagged = package
            .active_versions()
            .any(|v| v.id != id && !v.tags.is_empty());
        // GitHub's rules, in its words (FACTS: deleting).
        let refuse = |message: &str| {
            Err(GhError::new(
                StatusCode::BAD_REQUEST,
                message,
                PACKAGES_DOCS,
            ))
        };
        if !version.tags.is_empty() && !other_tagged {
            return refuse("You cannot delete the last tagged version of a package. You must delete the package instead.");
        }
        if package.active_versions().count() == 1 {
            return refuse("You cannot delete the last version of a package. You must delete the package instead.");
        }
        if package.visibility == Visibility::Public && version.downloads > 5000 {
            return refuse("Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.");
        }
        (
            package.registry_path(),
            (version.digest.clone(), version.tags.clone()),
        )
    };
    let kept = remove_from_registry(&app, &registry_path, vec![version]).await?;
    update_package(&app, &registry_path, |package| {
        let now = OffsetDateTime::now_utc();
        package.updated_at = now;
        if let Some(version) = package.versions.iter_mut().find(|v| v.id == id) {
            version.deleted_at = Some(now);
            version.saved_manifest = kept
                .into_iter()
                .next()
                .map(|(_, _, media_type, bytes)| (media_type, bytes));
        }
    });
    Ok(no_content())
}

async fn restore_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Answer {
    let target = Target::from(params);
    let identity = package_reader(caller(&app, &headers))?;
    let id = target.version_id()?;
    let (registry_path, restore) = {
        let world = app.world();
        let package = &world.packages[target.find(&world, &identity, false)?];
        package_admin(&world, &identity, &package.owner)?;
        let version = package
            .versions
            .iter()
            .find(|v| v.id == id && v.deleted_at.is_some_and(within_restore_window))
            .ok_or_else(|| not_found(PACKAGES_DOCS))?;
        let (media_type, bytes) = version
            .saved_manifest
            .clone()
            .ok_or_else(|| not_found(PACKAGES_DOCS))?;
        // Tags another version took meanwhile stay with it.
        let held: Vec<&String> = package
            .active_versions()
            .flat_map(|v| v.tags.iter())
            .collect();
        let tags: Vec<String> = version
            .tags
            .iter()
            .filter(|t| !held.contains(t))
            .cloned()
            .collect();
        (
            package.registry_path(),
            (version.digest.clone(), tags, media_type, bytes),
        )
    };
    // Marked restored before the manifest goes back (see restore_package).
    let mut deleted_at = None;
    update_package(&app, &registry_path, |package| {
        if let Some(version) = package.versions.iter_mut().find(|v| v.id == id) {
            deleted_at = version.deleted_at.take();
            version.tags = restore.1.clone();
        }
    });
    let result = put_back(&app, &registry_path, std::slice::from_ref(&restore)).await;
    update_package(&app, &registry_path, |package| {
        if let Some(version) = package.versions.iter_mut().find(|v| v.id == id) {
            match &result {
                Ok(()) => version.saved_manifest = None,
                Err(_) => version.deleted_at = deleted_at,
            }
        }
    });
    result.map(|()| no_content())
}
