//! `cachelab policies`: list every policy spec with its parameters and defaults.

use anyhow::Result;

use cachelab::policy::registry;

/// Prints the registry's description of every policy.
pub fn run() -> Result<()> {
    out!("{}", registry::describe());
    Ok(())
}
