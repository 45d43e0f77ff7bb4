//! GHCR Desktop's core: every capability of the app and the `ghcr` CLI, with no knowledge of Tauri.
//! One module per capability; `error` is the one error type they all return.

pub mod archive;
pub mod config;
pub mod credential_helper;
pub mod digest;
pub mod docker_config;
pub mod engine;
pub mod error;
pub mod github;
pub mod http;
pub mod language;
pub mod packages;
pub mod push;
pub mod reference;
pub mod registry;
pub mod secret;
pub mod token;

pub use config::Config;
pub use error::{Code, Error, Result};
pub use secret::Secret;
