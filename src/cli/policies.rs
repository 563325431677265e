//! `cachelab policies`: list every policy spec with its parameters and defaults.

use anyhow::Result;

use cachelab::catalog::CATALOG;

/// Prints the registry's description of every policy.
pub fn run() -> Result<()> {
    out!("{}", CATALOG.describe());
    Ok(())
}
