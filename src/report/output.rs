//! Writing results as CSV and JSON files, refusing to overwrite what a user wrote.
//!
//! Files are created with `create_new` unless the caller passes `force`, so nothing a user
//! wrote is replaced without asking. CSV comes from the `csv` crate with a header row, JSON
//! from serde_json, pretty-printed; both are byte-identical for identical rows.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
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

/// Creates `path` for writing; an existing file is an error unless `force`.
pub fn create(path: &Path, force: bool) -> Result<File, OutputError> {
    let shown = path.display().to_string();
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options.open(path).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            OutputError::Exists { path: shown }
        } else {
            OutputError::Io {
                path: shown,
                source,
            }
        }
    })
}

/// Writes `rows` as CSV with a header.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T], force: bool) -> Result<(), OutputError> {
    let shown = path.display().to_string();
    let file = create(path, force)?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    for row in rows {
        writer.serialize(row).map_err(|e| OutputError::Encode {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    }
    writer.flush().map_err(|source| OutputError::Io {
        path: shown,
        source,
    })
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json<T: Serialize + ?Sized>(
    path: &Path,
    value: &T,
    force: bool,
) -> Result<(), OutputError> {
    let shown = path.display().to_string();
    let file = create(path, force)?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, value).map_err(|e| OutputError::Encode {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    writer
        .write_all(b"\n")
        .and_then(|()| writer.flush())
        .map_err(|source| OutputError::Io {
            path: shown,
            source,
        })
}

/// Writes text to a file.
pub fn write_text(path: &Path, text: &str, force: bool) -> Result<(), OutputError> {
    let shown = path.display().to_string();
    let mut file = create(path, force)?;
    file.write_all(text.as_bytes())
        .map_err(|source| OutputError::Io {
            path: shown,
            source,
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
}
