//! The GHCR emulator: GitHub's REST subset, its web pages and ghcr.io's token service on one loopback
//! address, in front of the test stack's real distribution registry. Test-only; never shipped.
//!
//!   ghcr-emulator --listen 127.0.0.1:PORT --world world.toml --registry 127.0.0.1:RPORT
//!                 --key key.pem --cert cert.pem [--service ghcr-test] [--issuer ghcr-emulator]

mod admin;
mod api;
mod app;
mod device;
mod registry;
mod token_service;
mod web;
mod world;

use app::{App, Shared};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

fn usage() -> ! {
    eprintln!(
        "usage: ghcr-emulator --listen ADDR --world FILE --registry HOST:PORT --key KEY.pem --cert CERT.pem \
         [--service NAME] [--issuer NAME]"
    );
    std::process::exit(2)
}

fn arguments() -> HashMap<String, String> {
    let mut found = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(name) = flag.strip_prefix("--") else {
            usage()
        };
        let Some(value) = args.next() else { usage() };
        found.insert(name.to_string(), value);
    }
    found
}

fn load(args: &HashMap<String, String>) -> Result<(String, App), String> {
    let get = |name: &str| {
        args.get(name)
            .cloned()
            .ok_or_else(|| format!("--{name} is required"))
    };
    let listen = get("listen")?;
    let world_path = get("world")?;
    let world_text =
        std::fs::read_to_string(&world_path).map_err(|e| format!("{world_path}: {e}"))?;
    let world_file = toml::from_str(&world_text).map_err(|e| format!("{world_path}: {e}"))?;
    let world = world::World::from_file(world_file).map_err(|e| format!("{world_path}: {e}"))?;
    let key = std::fs::read(get("key")?).map_err(|e| format!("--key: {e}"))?;
    let cert = std::fs::read_to_string(get("cert")?).map_err(|e| format!("--cert: {e}"))?;
    let service = args.get("service").map_or("ghcr-test", String::as_str);
    let issuer = args.get("issuer").map_or("ghcr-emulator", String::as_str);
    let signer = token_service::Signer::from_pem(&key, &cert, issuer, service)?;
    let registry_host = get("registry")?;
    let registry = registry::Registry::new(&registry_host)?;
    let base_url = format!("http://{listen}");
    Ok((
        listen,
        App::new(world, signer, registry, registry_host, base_url),
    ))
}

fn router(app: Shared) -> Router {
    let api = api::routes()
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            app::github_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            app::inject_faults,
        ));
    Router::new()
        .merge(api)
        .merge(web::routes())
        .merge(admin::routes())
        .merge(device::routes())
        .route("/token", get(token_service::token))
        .fallback(|| async { app::not_found(app::DOCS) })
        .with_state(app)
}

#[tokio::main]
async fn main() {
    let (listen, app) = match load(&arguments()) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("ghcr-emulator: {error}");
            usage()
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("ghcr-emulator: cannot listen on {listen}: {error}");
            std::process::exit(1)
        }
    };
    eprintln!("ghcr-emulator: listening on http://{listen}");
    let shutdown = async {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            term.recv().await;
        }
    };
    if let Err(error) = axum::serve(listener, router(Arc::new(app)))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("ghcr-emulator: {error}");
        std::process::exit(1)
    }
}
