//! Regressions in the traces area (see `tests/regressions.rs`).

#[allow(unused_imports)]
use super::common;
