//! Writing a whole report into a directory: `index.html` (one self-contained page),
//! `report.md` with the charts as SVG files beside it, and `data/` with each table as CSV
//! (and whatever data files the caller adds, such as the merged JSON inputs).
//!
//! A report directory is marked with a `.cachelab-report` file. A directory cachelab
//! wrote before is rewritten; any other non-empty directory is refused unless forced, so a
//! report never overwrites what a user wrote. Every file goes through [`super::output`]
//! (a temporary name, then a rename), so a failed run leaves no half-written file. Nothing
//! written depends on the time, the machine or the absolute path, so the same inputs give
//! byte-identical files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::document::{self, Document};
use super::{data, html, markdown, output};

const MARKER: &str = ".cachelab-report";
/// The marker `cachelab demo` wrote before reports had their own.
const OLD_DEMO_MARKER: &str = ".cachelab-demo";

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The directory holds files that no cachelab report wrote.
    #[error(
        "{0} exists and was not written by cachelab; choose another directory with -o, or pass --force"
    )]
    NotOurs(String),
    /// Two figures or two tables share a file name.
    #[error("report: two {kind} are named {name}; each needs its own file")]
    Duplicate {
        /// `charts` or `tables`.
        kind: &'static str,
        /// The shared name.
        name: String,
    },
    /// A directory could not be read or created.
    #[error("{path}")]
    Io {
        /// The directory.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] output::OutputError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] super::chart::ChartError),
}

/// Creates `dir`, or checks that writing into it loses nothing the user wrote, and marks
/// it as a report directory.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), SiteError> {
    let io = |source| SiteError::Io {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        let ours = dir.join(MARKER).exists() || dir.join(OLD_DEMO_MARKER).exists();
        let empty = fs::read_dir(dir).map_err(io)?.next().is_none();
        if !ours && !empty && !force {
            return Err(SiteError::NotOurs(dir.display().to_string()));
        }
    } else {
        fs::create_dir_all(dir).map_err(io)?;
    }
    output::write_text(
        &dir.join(MARKER),
        "This directory is written by cachelab (`cachelab report` or `cachelab demo`), which rewrites it on each run.\n",
        true,
    )?;
    Ok(())
}

/// Writes the report into `dir` (prepared by [`prepare_dir`]): every chart as
/// `<name>.svg`, `report.md`, `index.html` and `data/<table>.csv`; returns the files
/// written, relative to `dir`, in order.
pub fn write(document: &Document, dir: &Path) -> Result<Vec<String>, SiteError> {
    let mut files = Vec::new();
    let mut svgs = BTreeMap::new();
    for figure in document::figures(document) {
        let file = format!("{}.svg", figure.name);
        if svgs.contains_key(&figure.name) {
            return Err(SiteError::Duplicate {
                kind: "charts",
                name: figure.name.clone(),
            });
        }
        let path = dir.join(&file);
        let svg = figure
            .chart
            .to_svg()
            .map_err(|e| super::chart::ChartError {
                path: path.display().to_string(),
                message: e.message,
            })?;
        output::write_text(&path, &svg, true)?;
        svgs.insert(figure.name.clone(), svg);
        files.push(file);
    }
    let data_dir = dir.join("data");
    fs::create_dir_all(&data_dir).map_err(|source| SiteError::Io {
        path: data_dir.display().to_string(),
        source,
    })?;
    let mut names = std::collections::BTreeSet::new();
    for table in document::tables(document) {
        if !names.insert(table.name.clone()) {
            return Err(SiteError::Duplicate {
                kind: "tables",
                name: table.name.clone(),
            });
        }
        let file = format!("data/{}.csv", table.name);
        output::write_text(&dir.join(&file), &data::table_csv(table), true)?;
        files.push(file);
    }
    output::write_text(&dir.join("report.md"), &markdown::render(document), true)?;
    output::write_text(
        &dir.join("index.html"),
        &html::render(document, &svgs),
        true,
    )?;
    files.extend(["report.md".to_string(), "index.html".to_string()]);
    Ok(files)
}

/// Writes `value` as `data/<name>.json` in a report directory; returns the relative path.
pub fn write_data<T: serde::Serialize + ?Sized>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<String, SiteError> {
    let file = format!("data/{name}.json");
    let path: PathBuf = dir.join(&file);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| SiteError::Io {
            path: parent.display().to_string(),
            source,
        })?;
    }
    output::write_json(&path, value, true)?;
    Ok(file)
}

/// Writes a whole report of `inputs` into `dir`: prepares the directory ([`prepare_dir`]),
/// writes the inputs, merged by kind, as `data/<kind>.json` (only the kinds present), then
/// the document ([`write()`]). Returns the files written, relative to `dir`.
pub fn publish(
    inputs: &super::inputs::ReportInputs,
    document: &Document,
    dir: &Path,
    force: bool,
) -> Result<Vec<String>, SiteError> {
    prepare_dir(dir, force)?;
    let mut files = Vec::new();
    fn put<T: serde::Serialize>(
        files: &mut Vec<String>,
        dir: &Path,
        name: &str,
        rows: &[T],
    ) -> Result<(), SiteError> {
        if !rows.is_empty() {
            files.push(write_data(dir, name, rows)?);
        }
        Ok(())
    }
    put(&mut files, dir, "plans", &inputs.plans)?;
    put(&mut files, dir, "sim", &inputs.sims)?;
    put(&mut files, dir, "curves", &inputs.curves)?;
    put(&mut files, dir, "clusters", &inputs.clusters)?;
    put(&mut files, dir, "migrations", &inputs.migrations)?;
    put(&mut files, dir, "contention", &inputs.contention)?;
    put(&mut files, dir, "traces", &inputs.traces)?;
    for (i, sweep) in inputs.sweeps.iter().enumerate() {
        let name = if i == 0 {
            "sweep".to_string()
        } else {
            format!("sweep_{i}")
        };
        files.push(write_data(dir, &name, sweep)?);
    }
    files.extend(write(document, dir)?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::{Block, Cell, Section, Table};

    #[test]
    fn refuses_a_directory_it_did_not_write_and_rewrites_its_own() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = prepare_dir(dir.path(), false).unwrap_err();
        assert!(err.to_string().contains("pass --force"), "{err}");
        let fresh = dir.path().join("r");
        prepare_dir(&fresh, false).unwrap();
        let mut section = Section::new("s", "S");
        let mut t = Table::new("t", "", &["a"]);
        t.push(vec![Cell::Count(1)]);
        section.push(Block::Table(t));
        let doc = Document {
            title: "T".into(),
            intro: vec![],
            sections: vec![section],
        };
        let files = write(&doc, &fresh).unwrap();
        assert_eq!(files, ["data/t.csv", "report.md", "index.html"]);
        prepare_dir(&fresh, false).unwrap();
        assert_eq!(
            fs::read_to_string(fresh.join("data/t.csv")).unwrap(),
            "a\n1\n"
        );
    }
}
