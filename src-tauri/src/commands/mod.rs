//! The IPC commands, one file per capability. Each parses its arguments, calls one core function and
//! returns its result; errors reach the UI as `{code, message, hint}`.

pub mod docker;
pub mod engine;
pub mod images;
pub mod packages;
pub mod pushes;
pub mod token;
