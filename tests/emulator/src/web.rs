//! The github.com web pages the app hands people to: a package's settings page with its visibility
//! switch (GitHub has no API for it), the package page, and the new-token page that shows the requested
//! scopes and can mint a classic token, so an offline demo can click through everything.

use crate::app::Shared;
use crate::world::{AccountKind, Package, Visibility};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/users/{owner}/packages/container/{name}/settings",
            get(settings_page).post(change_visibility),
        )
        .route(
            "/orgs/{owner}/packages/container/{name}/settings",
            get(settings_page).post(change_visibility),
        )
        .route(
            "/users/{owner}/packages/container/{name}/settings/repository",
            axum::routing::post(connect_repository),
        )
        .route(
            "/orgs/{owner}/packages/container/{name}/settings/repository",
            axum::routing::post(connect_repository),
        )
        .route(
            "/users/{owner}/packages/container/package/{name}",
            get(package_page),
        )
        .route(
            "/orgs/{owner}/packages/container/package/{name}",
            get(package_page),
        )
        .route("/settings/tokens/new", get(new_token_page).post(mint_token))
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · GitHub (emulated)</title>\
         <style>body{{font:15px system-ui,sans-serif;max-width:720px;margin:40px auto;padding:0 16px}}\
         .box{{border:1px solid #d0d7de;border-radius:6px;padding:16px;margin:16px 0}}\
         .danger{{border-color:#cf222e}} code{{background:#f6f8fa;padding:2px 6px}}</style></head>\
         <body><p><small>GitHub emulator for GHCR Desktop's tests</small></p>{body}</body></html>",
        escape(title)
    ))
}

/// A page about the active package `owner/name`, or GitHub's 404 page.
fn on_package(
    app: &Shared,
    (owner, name): (String, String),
    render: fn(&Shared, &Package) -> Response,
) -> Response {
    // Cloned so the world's lock is not held while the page is drawn (a page may look at the world).
    let package = app.world().active_package(&owner, &name).cloned();
    match package {
        Some(package) => render(app, &package),
        None => html_not_found(),
    }
}

fn html_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Page not found",
            "<h1>404</h1><p>This is not the web page you are looking for.</p>",
        ),
    )
        .into_response()
}

async fn settings_page(State(app): State<Shared>, Path(at): Path<(String, String)>) -> Response {
    on_package(&app, at, settings_html)
}

fn settings_html(app: &Shared, package: &Package) -> Response {
    let current = package.visibility.as_str();
    let options: String = [Visibility::Public, Visibility::Private]
        .iter()
        .map(|v| {
            let value = v.as_str();
            let checked = if *v == package.visibility { " checked" } else { "" };
            format!("<label><input type=\"radio\" name=\"visibility\" value=\"{value}\"{checked}> {value}</label><br>")
        })
        .collect();
    let title = format!("{}/{} settings", package.owner, package.name);
    let world = app.world();
    let linked = package
        .repository
        .and_then(|id| world.repository(id))
        .map(|r| format!("{}/{}", r.owner, r.name));
    let repository = match linked {
        Some(full_name) => format!(
            "<p>Connected to <strong id=\"repository\">{}</strong>.</p>",
            escape(&full_name)
        ),
        None => {
            let choices: String = world
                .repositories
                .iter()
                .filter(|r| r.owner.eq_ignore_ascii_case(&package.owner))
                .map(|r| {
                    let full_name = escape(&format!("{}/{}", r.owner, r.name));
                    format!("<option value=\"{full_name}\">{full_name}</option>")
                })
                .collect();
            format!(
                "<form method=\"post\" action=\"settings/repository\" id=\"connect-repository\">\
                 <h3>Connect repository</h3><select name=\"repository\">{choices}</select> \
                 <button type=\"submit\">Connect repository</button></form>"
            )
        }
    };
    let body = format!(
        "<h1>Package settings: {owner}/{name}</h1>{repository}\
         <div class=\"box danger\"><h2>Danger Zone</h2>\
         <p>This package is currently <strong id=\"visibility\">{current}</strong>.</p>\
         <form method=\"post\" id=\"change-visibility\"><h3>Change package visibility</h3>{options}\
         <button type=\"submit\">I understand, change package visibility.</button></form></div>",
        owner = escape(&package.owner),
        name = escape(&package.name),
    );
    page(&title, &body).into_response()
}

#[derive(Deserialize)]
struct RepositoryForm {
    /// `OWNER/NAME`, one of the package owner's repositories.
    repository: String,
}

/// "Connect repository" on the settings page: links the package to one of its owner's repositories
/// (what the app hands a person to, since ghcr.io reads the source label only at creation).
async fn connect_repository(
    State(app): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    Form(form): Form<RepositoryForm>,
) -> Response {
    let mut world = app.world();
    let found = form
        .repository
        .split_once('/')
        .and_then(|(o, r)| world.find_repository(o, r))
        .filter(|r| r.owner.eq_ignore_ascii_case(&owner))
        .map(|r| r.id);
    let Some(repository) = found else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "Invalid repository",
                "<p>Choose one of the owner's repositories.</p>",
            ),
        )
            .into_response();
    };
    let Some(index) = world
        .package_index(&owner, &name)
        .filter(|&i| world.packages[i].deleted_at.is_none())
    else {
        return html_not_found();
    };
    let package = &mut world.packages[index];
    package.repository = Some(repository);
    package.updated_at = time::OffsetDateTime::now_utc();
    let kind = if world.org(&owner).is_some() {
        "orgs"
    } else {
        "users"
    };
    let package = &world.packages[index];
    Redirect::to(&format!(
        "/{kind}/{}/packages/container/{}/settings",
        package.owner,
        crate::api::encode_name(&package.name)
    ))
    .into_response()
}

#[derive(Deserialize)]
struct VisibilityForm {
    visibility: String,
}

async fn change_visibility(
    State(app): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    Form(form): Form<VisibilityForm>,
) -> Response {
    let Some(visibility) = Visibility::parse(&form.visibility) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Invalid visibility", "<p>Choose public or private.</p>"),
        )
            .into_response();
    };
    let mut world = app.world();
    let kind = if world.org(&owner).is_some() {
        "orgs"
    } else {
        "users"
    };
    let Some(package) = world.set_visibility(&owner, &name, visibility) else {
        return html_not_found();
    };
    Redirect::to(&format!(
        "/{kind}/{}/packages/container/{}/settings",
        package.owner,
        crate::api::encode_name(&package.name)
    ))
    .into_response()
}

async fn package_page(State(app): State<Shared>, Path(at): Path<(String, String)>) -> Response {
    on_package(&app, at, package_html)
}

fn package_html(app: &Shared, package: &Package) -> Response {
    let tags: Vec<String> = package
        .active_versions()
        .flat_map(|v| v.tags.iter())
        .map(|t| format!("<code>{}</code>", escape(t)))
        .collect();
    let body = format!(
        "<h1>{}/{}</h1><p>Visibility: <strong>{}</strong></p><p>Tags: {}</p>\
         <p><code>docker pull {}/{}:TAG</code></p>",
        escape(&package.owner),
        escape(&package.name),
        package.visibility.as_str(),
        tags.join(" "),
        escape(&app.registry_host),
        escape(&package.registry_path()),
    );
    page(&package.name, &body).into_response()
}

async fn new_token_page(
    State(app): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let requested: Vec<String> = query
        .get("scopes")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let description = query.get("description").cloned().unwrap_or_default();
    let world = app.world();
    let users: String = world
        .accounts
        .iter()
        .filter(|a| a.kind == AccountKind::User)
        .map(|a| format!("<option>{}</option>", escape(&a.login)))
        .collect();
    let known = [
        "repo",
        "write:packages",
        "read:packages",
        "delete:packages",
        "read:org",
        "workflow",
        "gist",
    ];
    let mut all: Vec<String> = known.iter().map(|s| s.to_string()).collect();
    for scope in &requested {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    let boxes: String = all
        .iter()
        .map(|scope| {
            let checked = if requested.contains(scope) { " checked" } else { "" };
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{s}\"{checked}> <code>{s}</code></label><br>",
                s = escape(scope)
            )
        })
        .collect();
    let body = format!(
        "<h1>New personal access token (classic)</h1>\
         <form method=\"post\" id=\"new-token\"><div class=\"box\">\
         <p><label>Note <input name=\"description\" id=\"description\" value=\"{}\" size=\"50\"></label></p>\
         <p><label>Signed in as <select name=\"login\" id=\"login\">{users}</select></label></p>\
         <p>Select scopes</p><div id=\"scopes\">{boxes}</div></div>\
         <button type=\"submit\">Generate token</button></form>",
        escape(&description)
    );
    page("New personal access token", &body).into_response()
}

async fn mint_token(State(app): State<Shared>, body: String) -> Response {
    let mut login = None;
    let mut scopes = Vec::new();
    let mut description = String::new();
    for (key, value) in url::form_urlencoded::parse(body.as_bytes()) {
        match key.as_ref() {
            "login" => login = Some(value.into_owned()),
            "scope" => scopes.push(value.into_owned()),
            "description" => description = value.into_owned(),
            _ => {}
        }
    }
    let mut world = app.world();
    let Some(login) = login.or_else(|| {
        world
            .accounts
            .iter()
            .find(|a| a.kind == AccountKind::User)
            .map(|a| a.login.clone())
    }) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("No user", "<p>The world has no users.</p>"),
        )
            .into_response();
    };
    let token = crate::admin::new_token_value("ghp_");
    if let Err(error) = world.add_token(token.clone(), &login, scopes.clone(), None, false) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Cannot create token", &escape(&error)),
        )
            .into_response();
    }
    let body = format!(
        "<h1>Personal access tokens (classic)</h1><div class=\"box\">\
         <p>Make sure to copy your personal access token now. You won't be able to see it again!</p>\
         <p><code id=\"token\">{}</code></p><p>{} · scopes: <span id=\"token-scopes\">{}</span></p></div>",
        escape(&token),
        escape(&description),
        escape(&scopes.join(", "))
    );
    page("Token created", &body).into_response()
}
