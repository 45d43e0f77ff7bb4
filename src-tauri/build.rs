//! Build script: lets tauri-build embed `tauri.conf.json`, the capabilities and the `ui/` folder, and
//! declares the app's commands so that a capability must grant each one (`allow-<command>`).
fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "engine_status",
        "docker_cli_status",
        "docker_cli_plaintext",
        "docker_cli_setup",
        "docker_cli_undo",
        "images_watch",
        "engines",
        "engine_select",
        "owners",
        "tag_proposal",
        "tag_check",
        "image_tag",
        "packages_list",
        "package_get",
        "package_versions",
        "package_delete_version",
        "package_prove",
        "open_package_settings",
        "package_deleted_versions",
        "package_restore_version",
        "package_delete",
        "package_restore",
        "package_repositories",
        "package_connect",
        "open_package",
        "pushes_watch",
        "push_start",
        "push_cancel",
        "push_retry",
        "pushes_clear",
        "open_package_page",
        "token_check",
        "token_save",
        "account_in_use",
        "accounts",
        "account_switch",
        "account_remove",
        "open_new_token_page",
        "gh_cli_token",
        "gh_cli_token_save",
        "device_flow_available",
        "device_flow_start",
        "device_flow_finish",
        "device_flow_cancel",
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
    {
        panic!("tauri-build failed: {error:#}");
    }
}
