//! `cachelab completions SHELL`: prints a completion script for bash, zsh, fish, elvish or
//! PowerShell (clap_complete), generated from the same parser the binary uses.

use anyhow::Result;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// Arguments of `cachelab completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

/// Writes the script to stdout; install it where the shell looks, for example
/// `cachelab completions bash > ~/.local/share/bash-completion/completions/cachelab`.
pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cachelab", &mut script);
    std::io::Write::write_all(&mut std::io::stdout(), &script)?;
    Ok(())
}
