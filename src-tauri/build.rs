//! Build script: lets tauri-build embed `tauri.conf.json`, the capabilities and the `ui/` folder, and
//! declares the app's commands so that a capability must grant each one (`allow-<command>`).
//!
//! The command list is written once, as the grants in `capabilities/default.json`; the commands are
//! declared from it, and the build stops when `src/lib.rs`'s `generate_handler!` registers a different
//! set (a command the page may not call, or a grant for nothing).

use std::collections::BTreeSet;

fn main() {
    println!("cargo:rerun-if-changed=capabilities/default.json");
    println!("cargo:rerun-if-changed=src/lib.rs");
    // The page is embedded by `generate_context!`, a macro cargo can't see read it: without this, a
    // build after editing ui/ keeps the old page.
    println!("cargo:rerun-if-changed=../ui");
    let granted = granted_commands();
    let registered = registered_commands();
    if granted != registered {
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        panic!(
            "the app's commands disagree: registered in src/lib.rs but not granted in \
             capabilities/default.json: [{}]; granted but not registered: [{}]",
            only(&registered, &granted),
            only(&granted, &registered)
        );
    }
    // tauri-build keeps the names for the whole build: this process ends right after.
    let names: &'static [&'static str] = Vec::leak(
        granted
            .into_iter()
            .map(|name| &*String::leak(name))
            .collect(),
    );
    let commands = tauri_build::AppManifest::new().commands(names);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
    {
        panic!("tauri-build failed: {error:#}");
    }
}

/// The app's own commands the capability grants: `allow-engine-status` → `engine_status` (plugin and
/// core grants have a `:` in their name).
fn granted_commands() -> BTreeSet<String> {
    let text = std::fs::read_to_string("capabilities/default.json")
        .expect("capabilities/default.json is readable");
    let capability: serde_json::Value =
        serde_json::from_str(&text).expect("capabilities/default.json is JSON");
    capability["permissions"]
        .as_array()
        .expect("the capability lists permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect()
}

/// The commands `generate_handler![…]` registers in src/lib.rs (the last part of each path).
fn registered_commands() -> BTreeSet<String> {
    let text = std::fs::read_to_string("src/lib.rs").expect("src/lib.rs is readable");
    let start = text
        .find("generate_handler![")
        .expect("src/lib.rs registers its commands with generate_handler!");
    let list = &text[start + "generate_handler![".len()..];
    let list = &list[..list.find(']').expect("generate_handler![…] is closed")];
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| entry.rsplit("::").next().unwrap_or(entry).to_string())
        .collect()
}
