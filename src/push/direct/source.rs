//! Where a direct push reads from: an archive file (`docker save` .tar or .tar.gz, an OCI layout .tar)
//! or a layout folder, each as one tar stream, with the error to give when reading it breaks.

use super::{archive_invalid, failed};
use crate::error::{Error, Result};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
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
/// Links are followed only inside the folder, and each folder once: a link that leaves the folder or
/// leads back into one already read (a loop) makes it no image layout.
fn folder_as_tar(root: &Path) -> Result<impl Read + Send> {
    let files = folder_files(root)?;
    let (reader, writer) =
        std::io::pipe().map_err(|e| failed(&format!("Cannot read the folder: {e}")))?;
    std::thread::spawn(move || {
        let mut builder = tar::Builder::new(writer);
        for (file, name) in files {
            if builder.append_path_with_name(&file, &name).is_err() {
                return;
            }
        }
        let _ = builder.finish();
    });
    Ok(reader)
}

/// Every file under `root` as (where it is, its name in the layout), sorted by name.
fn folder_files(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let unreadable = |path: &Path, e: std::io::Error| {
        archive_invalid(format!("{} cannot be read: {e}", path.display()))
    };
    let root = root.canonicalize().map_err(|e| unreadable(root, e))?;
    let mut visited = HashSet::from([root.clone()]);
    let mut files = Vec::new();
    let mut pending = vec![(root.clone(), PathBuf::new())];
    while let Some((dir, name)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| unreadable(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(&dir, e))?;
            let (path, name) = (entry.path(), name.join(entry.file_name()));
            let kind = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
            let real = if kind.file_type().is_symlink() {
                let target = path.canonicalize().map_err(|e| unreadable(&path, e))?;
                if !target.starts_with(&root) {
                    return Err(archive_invalid(format!(
                        "{} links to {}, outside the folder",
                        path.display(),
                        target.display()
                    )));
                }
                target
            } else {
                path
            };
            let metadata = std::fs::metadata(&real).map_err(|e| unreadable(&real, e))?;
            if metadata.is_dir() {
                let real = real.canonicalize().map_err(|e| unreadable(&real, e))?;
                if !visited.insert(real.clone()) {
                    return Err(archive_invalid(format!(
                        "{} leads back into {}, a folder already read (a loop)",
                        entry.path().display(),
                        real.display()
                    )));
                }
                pending.push((real, name));
            } else if metadata.is_file() {
                files.push((real, name));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use std::os::unix::fs::symlink;

    fn layout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(dir.path().join("index.json"), "{}").unwrap();
        std::fs::write(dir.path().join("blobs/sha256/aa"), "blob").unwrap();
        dir
    }

    #[test]
    fn a_folder_is_read_file_by_file_with_links_inside_it_followed() {
        let dir = layout();
        symlink("sha256/aa", dir.path().join("blobs/bb")).unwrap();
        let names: Vec<String> = folder_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|(_, name)| name.display().to_string())
            .collect();
        assert_eq!(names, ["blobs/bb", "blobs/sha256/aa", "index.json"]);
    }

    #[test]
    fn a_link_that_loops_back_is_refused() {
        let dir = layout();
        symlink("..", dir.path().join("blobs/sha256/up")).unwrap();
        let error = folder_files(dir.path()).unwrap_err();
        assert_eq!(error.code, Code::ArchiveInvalid);
        assert!(error.message.contains("loop"), "{error:?}");
    }

    #[test]
    fn a_link_that_leaves_the_folder_is_refused() {
        let dir = layout();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "not yours").unwrap();
        symlink(
            outside.path().join("secret"),
            dir.path().join("blobs/sha256/cc"),
        )
        .unwrap();
        let error = folder_files(dir.path()).unwrap_err();
        assert_eq!(error.code, Code::ArchiveInvalid);
        assert!(error.message.contains("outside the folder"), "{error:?}");
    }
}
