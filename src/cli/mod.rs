//! Parts of the `ghcr` command line (the binary only; the library never sees them) that are more than
//! a few lines: the push command's progress display, and the packages commands.

pub mod packages;
pub mod push;
