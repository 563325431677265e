//! `cachelab demo`: the tour on a generated and a bundled trace, or on the user's own, as a
//! report.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use cachelab::demo::{self, DemoOptions};

/// Arguments of `cachelab demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run the tour on this trace (any format `sim` reads) instead of the generated and the
    /// bundled one; it is held in memory.
    trace: Option<String>,
    /// Output directory.
    #[arg(short = 'o', long, default_value = "reports/demo")]
    output: PathBuf,
    /// Write into a non-empty directory that no cachelab report wrote.
    #[arg(long)]
    force: bool,
}

/// Runs the demo and prints its summary.
pub fn run(args: DemoArgs) -> Result<()> {
    let summary = demo::run(&DemoOptions {
        output: args.output,
        force: args.force,
        trace: args.trace,
    })?;
    out!("{summary}");
    Ok(())
}
