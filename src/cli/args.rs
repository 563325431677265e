//! Argument groups that several commands share, each written once and flattened into the
//! commands that take it (`#[command(flatten)]`): what trace to read and how
//! ([`InputArgs`], [`ReadArgs`]), and where to write results ([`OutputArgs`],
//! [`JsonOutputArgs`]).
//!
//! A group's help text is generic so that it is correct for every command that uses it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use cachelab::trace::{CsvOptions, ReadOptions, TraceFormat};

use super::refuse_existing;

/// The trace a command reads and how to read it (`sim`, `trace stats`, `trace convert`,
/// `replay`).
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Trace file (`-` for stdin); .gz, .zst, .xz and .bz2 are read transparently.
    pub trace: String,
    /// How to read it.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read a trace file: every command that reads one takes these flags, through
/// [`InputArgs`] or, where the trace itself is optional (`bench`), directly.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Trace format; detected from the name and content when absent
    /// (oracle, csv, plain, arc, lirs, twitter).
    #[arg(long)]
    pub format: Option<TraceFormat>,
    /// CSV columns and options, such as `key=2,size=3,time=1,header=yes,delim=tab`.
    #[arg(long, value_name = "SPEC")]
    pub csv: Option<CsvOptions>,
    /// Skip malformed records and report how many, instead of stopping at the first.
    #[arg(long)]
    pub skip_bad: bool,
}

impl ReadArgs {
    /// The library's reading options for these flags.
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            csv: self.csv.clone().unwrap_or_default(),
            skip_bad: self.skip_bad,
            bytes_read: None,
        }
    }
}

/// Where a command writes its result rows (`sim`, `contention`): CSV, JSON, charts, and
/// whether existing files may be overwritten.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Write the results as CSV.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Draw the results as charts: a file for sim (SVG, or PNG by the name), a directory of
    /// SVG files for contention.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// The JSON file and --force.
    #[command(flatten)]
    pub json: JsonOutputArgs,
}

impl OutputArgs {
    /// Whether existing files may be overwritten (`--force`).
    pub fn force(&self) -> bool {
        self.json.force
    }

    /// The CSV and JSON files asked for, in that order.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        [&self.output, &self.json.json].into_iter().flatten()
    }
}

/// A JSON file of the results and `--force`: the output every result-writing command has
/// (through [`OutputArgs`], or alone in `bench` and `bench-server`).
#[derive(Args, Debug)]
pub struct JsonOutputArgs {
    /// Write the results as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Overwrite output files that exist.
    #[arg(long)]
    pub force: bool,
}

impl JsonOutputArgs {
    /// Fails if the JSON file exists and `--force` was not given, so that a long run does
    /// not end in a refusal.
    pub fn refuse_existing(&self) -> Result<()> {
        match &self.json {
            Some(path) => refuse_existing(path, self.force),
            None => Ok(()),
        }
    }
}
