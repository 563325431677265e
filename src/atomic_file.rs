//! Output files that appear whole or not at all.
//!
//! Every file cachelab writes goes through [`AtomicFile`]: the bytes go to a temporary file
//! in the target's directory, and [`AtomicFile::commit`] renames it over the target only
//! when everything was written. An interrupted or failed run leaves the user's files as they
//! were (a partial trace that reads back as a valid, shorter trace is the failure this
//! prevents). Without `force` an existing regular file is never replaced, checked again at
//! the rename (`persist_noclobber`), so a file created meanwhile is not lost either.
//!
//! Targets that are not regular files — `/dev/null`, a FIFO, a terminal — are written in
//! place (a rename would replace the device node), and `-` is standard output. The
//! temporary file comes from the `tempfile` crate, which names it uniquely and removes it
//! when dropped without a commit.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written; see the module docs.
pub struct AtomicFile {
    target: PathBuf,
    force: bool,
    sink: Sink,
}

enum Sink {
    /// A temporary file renamed over the target on commit.
    Temp(NamedTempFile),
    /// A non-regular target (device, FIFO) written in place.
    Direct(File),
    /// Standard output (`-`).
    Stdout(io::Stdout),
}

/// True when `path` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Checks, before any work is done, that `path` can be written: its directory exists and,
/// without `force`, no regular file is in the way. Errors are `io::Error`s whose kind is
/// `AlreadyExists` or `NotFound`.
pub fn check(path: &Path, force: bool) -> io::Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && !force => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "already exists; pass --force to overwrite it",
        )),
        Ok(meta) if meta.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = parent(path);
            if std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("directory {} does not exist", dir.display()),
                ))
            }
        }
        Err(e) => Err(e),
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Starts writing `path` (see [`check`] for what is refused).
    pub fn create(path: &Path, force: bool) -> io::Result<AtomicFile> {
        check(path, force)?;
        let sink = if is_stdout(path) {
            Sink::Stdout(io::stdout())
        } else if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            Sink::Direct(OpenOptions::new().write(true).open(path)?)
        } else {
            Sink::Temp(
                tempfile::Builder::new()
                    .prefix(".cachelab-")
                    .suffix(".tmp")
                    .tempfile_in(parent(path))?,
            )
        };
        Ok(AtomicFile {
            target: path.to_path_buf(),
            force,
            sink,
        })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Flushes and puts the file in place; without this the target is left untouched.
    pub fn commit(self) -> io::Result<()> {
        match self.sink {
            Sink::Temp(mut temp) => {
                temp.flush()?;
                let persisted = if self.force {
                    temp.persist(&self.target)
                } else {
                    temp.persist_noclobber(&self.target)
                };
                persisted.map(drop).map_err(|e| {
                    if e.error.kind() == io::ErrorKind::AlreadyExists {
                        io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            "already exists; pass --force to overwrite it",
                        )
                    } else {
                        e.error
                    }
                })
            }
            Sink::Direct(mut file) => file.flush(),
            Sink::Stdout(mut out) => out.flush(),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Temp(f) => f.write(buf),
            Sink::Direct(f) => f.write(buf),
            Sink::Stdout(f) => f.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Temp(f) => f.write_all(buf),
            Sink::Direct(f) => f.write_all(buf),
            Sink::Stdout(f) => f.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Temp(f) => f.flush(),
            Sink::Direct(f) => f.flush(),
            Sink::Stdout(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_appears_only_on_commit_and_is_not_clobbered_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut file = AtomicFile::create(&path, false).unwrap();
        file.write_all(b"new").unwrap();
        assert!(!path.exists(), "nothing before the commit");
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");

        // An abandoned write leaves the old file and no temporary behind.
        let mut file = AtomicFile::create(&path, true).unwrap();
        file.write_all(b"partial").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let err = AtomicFile::create(&path, false).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        // A file created between the check and the commit is not replaced either.
        let other = dir.path().join("late.txt");
        let mut file = AtomicFile::create(&other, false).unwrap();
        std::fs::write(&other, b"user's").unwrap();
        file.write_all(b"ours").unwrap();
        assert_eq!(
            file.commit().unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(std::fs::read(&other).unwrap(), b"user's");
    }

    #[test]
    fn devices_are_written_in_place_and_missing_directories_are_named() {
        let mut null = AtomicFile::create(Path::new("/dev/null"), false).unwrap();
        null.write_all(b"gone").unwrap();
        null.commit().unwrap();
        assert!(Path::new("/dev/null").exists());
        let err = check(Path::new("/nonexistent-dir/r.csv"), false).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-dir does not exist"),
            "{err}"
        );
    }
}
