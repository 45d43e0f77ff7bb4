//! Where a direct push reads from: an archive file (`docker save` .tar or .tar.gz, an OCI layout .tar)
//! or a layout folder, each as one tar stream, with the error to give when reading it breaks.

use super::{archive_invalid, failed};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Turns a read failure of the source into the error a person should see.
pub(super) type ReadError = Arc<dyn Fn(std::io::Error) -> Error + Send + Sync>;

/// Opens an archive file or layout folder as one tar stream (a folder is read file by file).
pub(super) fn open_archive(path: &Path) -> Result<(Box<dyn Read + Send>, ReadError)> {
    let shown = path.display().to_string();
    let read_error: ReadError = {
        let shown = shown.clone();
        Arc::new(move |e: std::io::Error| {
            archive_invalid(format!("{shown} could not be read to the end: {e}"))
        })
    };
    let metadata = std::fs::metadata(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    if metadata.is_dir() {
        return Ok((Box::new(folder_as_tar(path)?), read_error));
    }
    let mut file = std::fs::File::open(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    let mut magic = [0u8; 2];
    let gzipped = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let file = std::fs::File::open(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    let reader: Box<dyn Read + Send> = if gzipped {
        Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, file),
        ))
    } else {
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    };
    Ok((reader, read_error))
}

/// An OCI layout (or unpacked docker-archive) folder as a tar stream of its files, built on a thread.
fn folder_as_tar(root: &Path) -> Result<impl Read + Send> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| archive_invalid(format!("{} cannot be read: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let (reader, writer) =
        std::io::pipe().map_err(|e| failed(&format!("Cannot read the folder: {e}")))?;
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let mut builder = tar::Builder::new(writer);
        for file in files {
            let Ok(relative) = file.strip_prefix(&root) else {
                continue;
            };
            if builder.append_path_with_name(&file, relative).is_err() {
                return;
            }
        }
        let _ = builder.finish();
    });
    Ok(reader)
}
