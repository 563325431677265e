//! Regressions in the memcached area (see `tests/regressions.rs`).

#[allow(unused_imports)]
use super::common;
