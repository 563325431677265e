//! The wire: memcached's text protocol between bytes and the store model. [`protocol`]
//! parses bytes into commands, incrementally and with memcached's exact error replies;
//! `cmd` applies a parsed command to a [`super::model::store::Store`] and encodes the
//! reply, one file per command family.
//!
//! Depends on [`super::model`] only; the server and the clients sit above it.

pub mod cmd;
pub mod protocol;

pub use protocol::{Limits, ProtocolError};
