//! Regression tests: one test per bug a user hit, each naming the command that reproduced
//! it (`// See:` the issue). ripgrep's `tests/regression.rs` is the model. The tests are
//! grouped by area in `tests/regressions/`.

mod common;

#[path = "regressions/engine.rs"]
mod engine;
#[path = "regressions/memcached.rs"]
mod memcached;
#[path = "regressions/traces.rs"]
mod traces;
