//! GitHub's REST subset that GHCR Desktop uses, with GitHub's shapes, headers and status codes: the
//! authenticated user and their orgs, container packages of a user or an org, their versions and tags,
//! delete and restore (which delete and restore the manifests in the real registry), `Link` pagination.

use crate::app::{
    caller, gh_error, no_content, not_found, require_identity, timestamp, Caller, GhError, Shared,
    DOCS,
};
use crate::world::{
    Account, AccountKind, Identity, Package, TokenKind, Version, Visibility, World,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::OffsetDateTime;

const PACKAGES_DOCS: &str = "https://docs.github.com/rest/packages/packages";
const USER_DOCS: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
/// Deleted packages and versions can be restored within 30 days.
const RESTORE_DAYS: i64 = 30;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/user", get(user))
        .route("/user/orgs", get(user_orgs))
        .route("/user/packages", get(list_user_packages))
        .route("/orgs/{org}/packages", get(list_org_packages))
        .route(
            "/user/packages/{kind}/{name}",
            get(user_package).delete(delete_user_package),
        )
        .route(
            "/orgs/{org}/packages/{kind}/{name}",
            get(org_package).delete(delete_org_package),
        )
        .route(
            "/user/packages/{kind}/{name}/restore",
            post(restore_user_package),
        )
        .route(
            "/orgs/{org}/packages/{kind}/{name}/restore",
            post(restore_org_package),
        )
        .route("/user/packages/{kind}/{name}/versions", get(user_versions))
        .route(
            "/orgs/{org}/packages/{kind}/{name}/versions",
            get(org_versions),
        )
        .route(
            "/user/packages/{kind}/{name}/versions/{id}",
            get(user_version).delete(delete_user_version),
        )
        .route(
            "/orgs/{org}/packages/{kind}/{name}/versions/{id}",
            get(org_version).delete(delete_org_version),
        )
        .route(
            "/user/packages/{kind}/{name}/versions/{id}/restore",
            post(restore_user_version),
        )
        .route(
            "/orgs/{org}/packages/{kind}/{name}/versions/{id}/restore",
            post(restore_org_version),
        )
}

// --- JSON shapes ----------------------------------------------------------------------------------

fn encode_name(name: &str) -> String {
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

async fn user(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let identity = match require_identity(caller(&app, &headers), USER_DOCS) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let world = app.world();
    let Some(account) = world.user(&identity.login) else {
        return gh_error(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS);
    };
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
    response
}

async fn user_orgs(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let identity = match require_identity(
        caller(&app, &headers),
        "https://docs.github.com/rest/orgs/orgs#list-organizations-for-the-authenticated-user",
    ) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let world = app.world();
    // Without read:org a token sees only the memberships the user made public, as on github.com.
    let orgs: Vec<Value> = world
        .memberships
        .iter()
        .filter(|m| m.login == identity.login && (m.public || identity.can_read_org()))
        .filter_map(|m| world.org(&m.org))
        .map(|org| org_json(&app.base_url, org))
        .collect();
    paginated(&app.base_url, "/user/orgs", &query, orgs)
}

// --- packages -------------------------------------------------------------------------------------

/// Whose packages a route is about: the authenticated user's (`/user/…`) or an org's (`/orgs/ORG/…`).
enum Owner {
    Me,
    Org(String),
}

/// The identity that may read packages, or GitHub's refusal.
fn package_reader(caller: Caller) -> Result<Identity, GhError> {
    let identity = require_identity(caller, PACKAGES_DOCS)?;
    match identity.kind {
        TokenKind::FineGrained => Err(GhError::new(
            StatusCode::FORBIDDEN,
            "Resource not accessible by personal access token",
            PACKAGES_DOCS,
        )),
        TokenKind::Server | TokenKind::UserToServer | TokenKind::Refresh | TokenKind::Unknown => {
            Err(GhError::new(
                StatusCode::FORBIDDEN,
                "Resource not accessible by integration",
                PACKAGES_DOCS,
            ))
        }
        TokenKind::Classic | TokenKind::OAuth if !identity.can_read_packages() => {
            Err(GhError::new(
                StatusCode::FORBIDDEN,
                "You need at least read:packages scope to list packages.",
                PACKAGES_DOCS,
            ))
        }
        TokenKind::Classic | TokenKind::OAuth => Ok(identity),
    }
}

/// The owner's login as GitHub spells it, or 404.
fn owner_login(world: &World, identity: &Identity, owner: &Owner) -> Result<String, GhError> {
    match owner {
        Owner::Me => Ok(identity.login.clone()),
        Owner::Org(org) => world
            .org(org)
            .map(|a| a.login.clone())
            .ok_or_else(|| not_found(PACKAGES_DOCS)),
    }
}

async fn list(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    query: BTreeMap<String, String>,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    match query.get("package_type").map(String::as_str) {
        Some("container") => {}
        Some("npm" | "maven" | "rubygems" | "docker" | "nuget") => return Json(json!([])).into_response(),
        _ => {
            return gh_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid argument: package_type must be one of npm, maven, rubygems, docker, nuget, container",
                PACKAGES_DOCS,
            )
        }
    }
    let visibility = match query.get("visibility") {
        None => None,
        Some(text) => match Visibility::parse(text) {
            Some(v) => Some(v),
            None => {
                return gh_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid argument: visibility must be one of public, private, internal",
                    PACKAGES_DOCS,
                )
            }
        },
    };
    let world = app.world();
    let login = match owner_login(&world, &identity, &owner) {
        Ok(login) => login,
        Err(error) => return error.into_response(),
    };
    let packages: Vec<Value> = world
        .packages
        .iter()
        .filter(|p| p.owner == login && p.deleted_at.is_none())
        .filter(|p| visibility.is_none_or(|v| p.visibility == v))
        .filter(|p| world.can_see(Some(&identity), p))
        .map(|p| package_json(&app.base_url, &world, p))
        .collect();
    let path = match &owner {
        Owner::Me => "/user/packages".to_string(),
        Owner::Org(org) => format!("/orgs/{org}/packages"),
    };
    paginated(&app.base_url, &path, &query, packages)
}

async fn list_user_packages(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    list(app, headers, Owner::Me, query).await
}

async fn list_org_packages(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    list(app, headers, Owner::Org(org), query).await
}

/// Finds a package the caller may see, active or (for restore) deleted within the window.
fn find_package(
    world: &World,
    identity: &Identity,
    owner: &Owner,
    kind: &str,
    name: &str,
    deleted: bool,
) -> Result<usize, GhError> {
    if kind != "container" {
        return Err(not_found(PACKAGES_DOCS));
    }
    let login = owner_login(world, identity, owner)?;
    let index = world
        .package_index(&login, name)
        .ok_or_else(|| not_found(PACKAGES_DOCS))?;
    let package = &world.packages[index];
    let visible = world.can_see(Some(identity), package);
    let state_matches = match package.deleted_at {
        None => !deleted,
        Some(at) => deleted && within_restore_window(at),
    };
    if visible && state_matches {
        Ok(index)
    } else {
        Err(not_found(PACKAGES_DOCS))
    }
}

fn within_restore_window(deleted_at: OffsetDateTime) -> bool {
    OffsetDateTime::now_utc() - deleted_at < time::Duration::days(RESTORE_DAYS)
}

async fn get_package(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let world = app.world();
    match find_package(&world, &identity, &owner, &kind, &name, false) {
        Ok(index) => {
            Json(package_json(&app.base_url, &world, &world.packages[index])).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn user_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    get_package(app, headers, Owner::Me, kind, name).await
}

async fn org_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name)): Path<(String, String, String)>,
) -> Response {
    get_package(app, headers, Owner::Org(org), kind, name).await
}

/// The identity that may delete or restore in the owner's namespace, or GitHub's refusal.
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

fn registry_unavailable(error: String) -> GhError {
    GhError::new(
        StatusCode::BAD_GATEWAY,
        format!("Registry unavailable: {error}"),
        DOCS,
    )
}

/// Takes the manifests of `versions` out of the registry, keeping each one so a restore can put it back.
async fn remove_from_registry(
    app: &Shared,
    registry_path: &str,
    digests: &[String],
) -> Result<Vec<(String, String, Vec<u8>)>, GhError> {
    let mut saved = Vec::new();
    for digest in digests {
        let (media_type, bytes) = app
            .registry
            .manifest(&app.signer, registry_path, digest)
            .await
            .map_err(registry_unavailable)?;
        app.registry
            .delete_manifest(&app.signer, registry_path, digest)
            .await
            .map_err(registry_unavailable)?;
        saved.push((digest.clone(), media_type, bytes));
    }
    Ok(saved)
}

async fn delete_package(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let (registry_path, digests) = {
        let world = app.world();
        let index = match find_package(&world, &identity, &owner, &kind, &name, false) {
            Ok(index) => index,
            Err(error) => return error.into_response(),
        };
        let package = &world.packages[index];
        if let Err(error) = package_admin(&world, &identity, &package.owner) {
            return error.into_response();
        }
        let digests: Vec<String> = package
            .active_versions()
            .map(|v| v.digest.clone())
            .collect();
        (package.registry_path(), digests)
    };
    let saved = match remove_from_registry(&app, &registry_path, &digests).await {
        Ok(saved) => saved,
        Err(error) => return error.into_response(),
    };
    let mut world = app.world();
    let Some((owner_name, package_name)) = registry_path.split_once('/') else {
        return not_found(PACKAGES_DOCS).into_response();
    };
    if let Some(index) = world.package_index(owner_name, package_name) {
        let now = OffsetDateTime::now_utc();
        let package = &mut world.packages[index];
        package.deleted_at = Some(now);
        for version in package
            .versions
            .iter_mut()
            .filter(|v| v.deleted_at.is_none())
        {
            version.deleted_at = Some(now);
            version.saved_manifest = saved
                .iter()
                .find(|(d, _, _)| *d == version.digest)
                .map(|(_, t, b)| (t.clone(), b.clone()));
        }
    }
    no_content()
}

async fn delete_user_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    delete_package(app, headers, Owner::Me, kind, name).await
}

async fn delete_org_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name)): Path<(String, String, String)>,
) -> Response {
    delete_package(app, headers, Owner::Org(org), kind, name).await
}

/// Puts saved manifests back in the registry, by digest and under each tag no other version holds.
async fn put_back(
    app: &Shared,
    registry_path: &str,
    versions: &[(String, Vec<String>, String, Vec<u8>)],
) -> Result<(), GhError> {
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

async fn restore_package(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let (registry_path, versions) = {
        let world = app.world();
        let index = match find_package(&world, &identity, &owner, &kind, &name, true) {
            Ok(index) => index,
            Err(error) => return error.into_response(),
        };
        let package = &world.packages[index];
        if let Err(error) = package_admin(&world, &identity, &package.owner) {
            return error.into_response();
        }
        let versions: Vec<_> = package
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
    if let Err(error) = put_back(&app, &registry_path, &versions).await {
        return error.into_response();
    }
    let mut world = app.world();
    if let Some((owner_name, package_name)) = registry_path.split_once('/') {
        if let Some(index) = world.package_index(owner_name, package_name) {
            let package = &mut world.packages[index];
            let deleted_at = package.deleted_at.take();
            for version in package
                .versions
                .iter_mut()
                .filter(|v| v.deleted_at == deleted_at)
            {
                version.deleted_at = None;
                version.saved_manifest = None;
            }
        }
    }
    no_content()
}

async fn restore_user_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    restore_package(app, headers, Owner::Me, kind, name).await
}

async fn restore_org_package(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name)): Path<(String, String, String)>,
) -> Response {
    restore_package(app, headers, Owner::Org(org), kind, name).await
}

// --- versions -------------------------------------------------------------------------------------

async fn list_versions(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
    query: BTreeMap<String, String>,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let deleted = match query.get("state").map(String::as_str) {
        None | Some("active") => false,
        Some("deleted") => true,
        Some(_) => {
            return gh_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid argument: state must be one of active, deleted",
                PACKAGES_DOCS,
            )
        }
    };
    let world = app.world();
    let index = match find_package(&world, &identity, &owner, &kind, &name, false) {
        Ok(index) => index,
        Err(error) => return error.into_response(),
    };
    let package = &world.packages[index];
    let versions: Vec<Value> = package
        .versions
        .iter()
        .rev()
        .filter(|v| v.deleted_at.is_some() == deleted)
        .map(|v| version_json(&app.base_url, &world, package, v))
        .collect();
    let path = match &owner {
        Owner::Me => format!("/user/packages/container/{}/versions", encode_name(&name)),
        Owner::Org(org) => format!(
            "/orgs/{org}/packages/container/{}/versions",
            encode_name(&name)
        ),
    };
    paginated(&app.base_url, &path, &query, versions)
}

async fn user_versions(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    list_versions(app, headers, Owner::Me, kind, name, query).await
}

async fn org_versions(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name)): Path<(String, String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    list_versions(app, headers, Owner::Org(org), kind, name, query).await
}

fn parse_id(text: &str) -> Result<u64, GhError> {
    text.parse().map_err(|_| not_found(PACKAGES_DOCS))
}

async fn get_version(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
    id: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(error) => return error.into_response(),
    };
    let world = app.world();
    let index = match find_package(&world, &identity, &owner, &kind, &name, false) {
        Ok(index) => index,
        Err(error) => return error.into_response(),
    };
    let package = &world.packages[index];
    match package.versions.iter().find(|v| v.id == id) {
        Some(version) => {
            Json(version_json(&app.base_url, &world, package, version)).into_response()
        }
        None => not_found(PACKAGES_DOCS).into_response(),
    }
}

async fn user_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name, id)): Path<(String, String, String)>,
) -> Response {
    get_version(app, headers, Owner::Me, kind, name, id).await
}

async fn org_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name, id)): Path<(String, String, String, String)>,
) -> Response {
    get_version(app, headers, Owner::Org(org), kind, name, id).await
}

async fn delete_version(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
    id: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(error) => return error.into_response(),
    };
    let (registry_path, digest) = {
        let world = app.world();
        let index = match find_package(&world, &identity, &owner, &kind, &name, false) {
            Ok(index) => index,
            Err(error) => return error.into_response(),
        };
        let package = &world.packages[index];
        if let Err(error) = package_admin(&world, &identity, &package.owner) {
            return error.into_response();
        }
        let Some(version) = package.active_versions().find(|v| v.id == id) else {
            return not_found(PACKAGES_DOCS).into_response();
        };
        let other_tagged = package
            .active_versions()
            .any(|v| v.id != id && !v.tags.is_empty());
        if !version.tags.is_empty() && !other_tagged {
            return gh_error(
                StatusCode::BAD_REQUEST,
                "You cannot delete the last tagged version of a package. You must delete the package instead.",
                PACKAGES_DOCS,
            );
        }
        (package.registry_path(), version.digest.clone())
    };
    let saved =
        match remove_from_registry(&app, &registry_path, std::slice::from_ref(&digest)).await {
            Ok(saved) => saved,
            Err(error) => return error.into_response(),
        };
    let mut world = app.world();
    if let Some((owner_name, package_name)) = registry_path.split_once('/') {
        if let Some(index) = world.package_index(owner_name, package_name) {
            let now = OffsetDateTime::now_utc();
            let package = &mut world.packages[index];
            package.updated_at = now;
            if let Some(version) = package.versions.iter_mut().find(|v| v.id == id) {
                version.deleted_at = Some(now);
                version.saved_manifest = saved.into_iter().next().map(|(_, t, b)| (t, b));
            }
        }
    }
    no_content()
}

async fn delete_user_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name, id)): Path<(String, String, String)>,
) -> Response {
    delete_version(app, headers, Owner::Me, kind, name, id).await
}

async fn delete_org_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name, id)): Path<(String, String, String, String)>,
) -> Response {
    delete_version(app, headers, Owner::Org(org), kind, name, id).await
}

async fn restore_version(
    app: Shared,
    headers: HeaderMap,
    owner: Owner,
    kind: String,
    name: String,
    id: String,
) -> Response {
    let identity = match package_reader(caller(&app, &headers)) {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(error) => return error.into_response(),
    };
    let (registry_path, restore) = {
        let world = app.world();
        let index = match find_package(&world, &identity, &owner, &kind, &name, false) {
            Ok(index) => index,
            Err(error) => return error.into_response(),
        };
        let package = &world.packages[index];
        if let Err(error) = package_admin(&world, &identity, &package.owner) {
            return error.into_response();
        }
        let found = package.versions.iter().find(|v| {
            v.id == id
                && v.deleted_at.is_some_and(within_restore_window)
                && v.saved_manifest.is_some()
        });
        let Some(version) = found else {
            return not_found(PACKAGES_DOCS).into_response();
        };
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
        let Some((media_type, bytes)) = version.saved_manifest.clone() else {
            return not_found(PACKAGES_DOCS).into_response();
        };
        (
            package.registry_path(),
            (version.digest.clone(), tags, media_type, bytes),
        )
    };
    let tags = restore.1.clone();
    if let Err(error) = put_back(&app, &registry_path, std::slice::from_ref(&restore)).await {
        return error.into_response();
    }
    let mut world = app.world();
    if let Some((owner_name, package_name)) = registry_path.split_once('/') {
        if let Some(index) = world.package_index(owner_name, package_name) {
            if let Some(version) = world.packages[index]
                .versions
                .iter_mut()
                .find(|v| v.id == id)
            {
                version.deleted_at = None;
                version.saved_manifest = None;
                version.tags = tags;
            }
        }
    }
    no_content()
}

async fn restore_user_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((kind, name, id)): Path<(String, String, String)>,
) -> Response {
    restore_version(app, headers, Owner::Me, kind, name, id).await
}

async fn restore_org_version(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path((org, kind, name, id)): Path<(String, String, String, String)>,
) -> Response {
    restore_version(app, headers, Owner::Org(org), kind, name, id).await
}
