//! The `cachelab` binary: parse arguments, call the library, print errors.
//!
//! `main` → [`cli::run`] → `Result`; an error prints one line to stderr and exits 2, and a
//! broken pipe (`cachelab sim … | head`) exits 0, as ripgrep does.

mod cli;

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let broken_pipe = err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            // A closed stderr must not turn the error into a panic (exit 101).
            let _ = writeln!(std::io::stderr(), "cachelab: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
