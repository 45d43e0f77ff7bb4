//! The `ghcr-desktop` executable: opens the GHCR Desktop window. Everything else is in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    ghcr_desktop::run();
}
