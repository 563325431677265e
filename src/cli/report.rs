//! `cachelab report`: one report from the JSON results of commands run separately (or on
//! many machines): `index.html`, `report.md` with its charts, and the data.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use cachelab::report::{build, inputs, site};

/// Arguments of `cachelab report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// JSON results of `sim`, `sweep` (whole runs or `--job K` parts), `mrc`, `cluster`,
    /// `migrate`, `contention`, `plan` or `trace stats`, in any order.
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<PathBuf>,
    /// Output directory.
    #[arg(short = 'o', long, value_name = "DIR")]
    output: PathBuf,
    /// The report's title.
    #[arg(long, default_value = "cachelab report")]
    title: String,
    /// A line saying when or by what the report was made (nothing by default, so the same
    /// results give byte-identical files).
    #[arg(long, value_name = "TEXT")]
    generated_at: Option<String>,
    /// Write into a non-empty directory that no cachelab report wrote.
    #[arg(long)]
    force: bool,
}

/// Reads every result, builds the document and writes the report directory.
pub fn run(args: ReportArgs) -> Result<()> {
    let inputs = inputs::read_inputs(&args.results)?;
    if inputs.is_empty() {
        bail!("the results hold nothing to report");
    }
    let mut intro = vec![format!(
        "Built by `cachelab report` from {} result file{}.",
        args.results.len(),
        if args.results.len() == 1 { "" } else { "s" }
    )];
    if let Some(when) = &args.generated_at {
        intro.push(format!("Generated {when}."));
    }
    let document = build::document(&inputs, &args.title, intro);
    let files = site::publish(&inputs, &document, &args.output, args.force)?;
    outln!("wrote {}:", args.output.display());
    for file in files {
        outln!("  {file}");
    }
    Ok(())
}
