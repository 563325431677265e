//! `cachelab demo`: run the demo on a generated and a bundled trace and write a report.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use cachelab::demo::{self, DemoOptions};

/// Arguments of `cachelab demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(short = 'o', long, default_value = "reports/demo")]
    output: PathBuf,
    /// Overwrite a directory that was not written by a previous demo.
    #[arg(long)]
    force: bool,
}

/// Runs the demo and prints its summary.
pub fn run(args: DemoArgs) -> Result<()> {
    let summary = demo::run(&DemoOptions {
        output: args.output,
        force: args.force,
    })?;
    out!("{summary}");
    Ok(())
}
