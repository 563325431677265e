//! Writing results as CSV and JSON files, refusing to overwrite what a user wrote.
//!
//! Files are written through [`AtomicFile`] (a temporary name, renamed when complete) and
//! an existing file is replaced only when the caller passes `force`, so nothing a user wrote
//! is replaced without asking or left half-written; `-` is standard output and devices such
//! as `/dev/null` are written in place. [`check_targets`] runs the same checks before a run. CSV comes from the `csv` crate with a header row, JSON
//! from serde_json, pretty-printed; both are byte-identical for identical rows.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use crate::atomic_file::{self, AtomicFile};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// Two outputs of one run name the same file.
    #[error("{path} is named for two outputs of one run; give each its own file")]
    Twice {
        /// The file.
        path: String,
    },
    /// The file exists and overwriting was not asked for.
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists {
        /// The file.
        path: String,
    },
    /// Creating or writing failed.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A value could not be encoded.
    #[error("{path}: cannot encode results: {message}")]
    Encode {
        /// The file.
        path: String,
        /// What the encoder said.
        message: String,
    },
}

impl OutputError {
    fn io(path: &Path, source: io::Error) -> OutputError {
        let path = path.display().to_string();
        if source.kind() == io::ErrorKind::AlreadyExists {
            OutputError::Exists { path }
        } else {
            OutputError::Io { path, source }
        }
    }
}

/// Checks before a run that every path in `paths` can be written (see
/// [`atomic_file::check`]) and that no two name the same file, so a run never fails, or
/// half-writes its outputs, after the work is done.
pub fn check_targets(paths: &[&Path], force: bool) -> Result<(), OutputError> {
    for (i, path) in paths.iter().enumerate() {
        atomic_file::check(path, force).map_err(|e| OutputError::io(path, e))?;
        let shared_device =
            atomic_file::is_stdout(path) || std::fs::metadata(path).is_ok_and(|m| !m.is_file());
        if !shared_device && paths[..i].contains(path) {
            return Err(OutputError::Twice {
                path: path.display().to_string(),
            });
        }
    }
    Ok(())
}

/// Writes a file through [`AtomicFile`]: `fill` writes the bytes, then the file is put in
/// place; on any error the target is left as it was.
fn write_with(
    path: &Path,
    force: bool,
    fill: impl FnOnce(&mut BufWriter<&mut AtomicFile>) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let mut file = AtomicFile::create(path, force).map_err(|e| OutputError::io(path, e))?;
    {
        let mut writer = BufWriter::new(&mut file);
        fill(&mut writer)?;
        writer.flush().map_err(|e| OutputError::io(path, e))?;
    }
    file.commit().map_err(|e| OutputError::io(path, e))
}

/// Writes `rows` as CSV with a header.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T], force: bool) -> Result<(), OutputError> {
    write_with(path, force, |out| {
        let mut writer = csv::Writer::from_writer(out);
        for row in rows {
            writer.serialize(row).map_err(|e| OutputError::Encode {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        }
        writer.flush().map_err(|e| OutputError::io(path, e))
    })
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json<T: Serialize + ?Sized>(
    path: &Path,
    value: &T,
    force: bool,
) -> Result<(), OutputError> {
    write_with(path, force, |out| {
        serde_json::to_writer_pretty(&mut *out, value).map_err(|e| OutputError::Encode {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        out.write_all(b"\n").map_err(|e| OutputError::io(path, e))
    })
}

/// Writes text to a file.
pub fn write_text(path: &Path, text: &str, force: bool) -> Result<(), OutputError> {
    write_with(path, force, |out| {
        out.write_all(text.as_bytes())
            .map_err(|e| OutputError::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_json(&path, &[1, 2], false).unwrap();
        let err = write_json(&path, &[3], false).unwrap_err();
        assert!(err.to_string().contains("pass --force"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[\n  1,\n  2\n]\n");
        write_json(&path, &[3], true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[\n  3\n]\n");
    }

    #[test]
    fn targets_are_checked_before_a_run() {
        // See: issue 12 — `-o /nonexistent/r.csv` failed only after the simulation, and
        // `-o same --json same` refused its own file.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let missing = Path::new("/nonexistent/r.csv");
        let err = check_targets(&[&a, missing], false).unwrap_err();
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(err.to_string(), "/nonexistent/r.csv");
        assert_eq!(
            cause.as_deref(),
            Some("directory /nonexistent does not exist")
        );
        let err = check_targets(&[&a, &a], false).unwrap_err();
        assert!(err.to_string().contains("named for two outputs"), "{err}");
        check_targets(
            &[&a, Path::new("/dev/null"), Path::new("-"), Path::new("-")],
            false,
        )
        .unwrap();
        write_text(Path::new("/dev/null"), "x", false).unwrap();
    }
}
