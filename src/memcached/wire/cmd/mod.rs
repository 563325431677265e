//! Applying parsed commands to a [`Store`] and encoding memcached's replies, one file per
//! command family (`doc/protocol.txt`: "Storage commands", "Retrieval command",
//! "Deletion", "Increment/Decrement", "Touch", "Statistics", "Other commands").
//!
//! Each family's `apply` takes the parsed fields, the store and the output buffer, and
//! appends the exact reply memcached 1.6.18 sends (nothing when `noreply` was given). Start
//! from [`apply`], which a connection calls for every [`Frame`] of a batch.

pub mod arithmetic;
pub mod crawler;
pub mod delete;
pub mod meta;
pub mod misc;
pub mod retrieval;
pub mod slabs;
pub mod storage;
pub mod touch;

use super::protocol::{Command, Frame};
use crate::memcached::model::store::Store;

/// What the connection does after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading commands.
    Continue,
    /// Write the replies so far, then close (`quit`).
    Quit,
    /// Close without writing anything more (memcached's silent close).
    Close,
    /// Write the replies so far (`OK` last), then stream the log lines of this watcher
    /// (`watch`).
    Watch(u64),
}

/// Applies one frame: a command's reply, or an error reply, goes to `out`.
pub fn apply(frame: &Frame, store: &mut Store, out: &mut Vec<u8>) -> Flow {
    // What memcached's background threads (the page mover) would have done by now.
    store.maintain();
    match frame {
        Frame::Command(command) => apply_command(command, store, out),
        Frame::Error { error, noreply } => {
            if !noreply {
                out.extend_from_slice(error.reply());
            }
            Flow::Continue
        }
        Frame::Close => Flow::Close,
    }
}

/// Applies one command.
pub fn apply_command(command: &Command, store: &mut Store, out: &mut Vec<u8>) -> Flow {
    match command {
        Command::Meta {
            verb,
            key,
            flags,
            data,
        } => meta::apply(store, out, *verb, key, flags, data),
        Command::Store {
            mode,
            key,
            flags,
            exptime,
            data,
            cas,
            noreply,
        } => storage::apply(
            store,
            out,
            storage::StorageRequest {
                mode: *mode,
                key,
                flags: *flags,
                exptime: *exptime,
                data,
                cas: *cas,
            },
            *noreply,
        ),
        Command::TooLarge {
            mode, key, noreply, ..
        } => storage::too_large(store, out, *mode, key, *noreply),
        Command::NoMemory {
            mode, key, noreply, ..
        } => storage::no_memory(store, out, *mode, key, *noreply),
        Command::Get { keys, cas } => {
            store.release_held();
            retrieval::get(store, out, keys, *cas, None)
        }
        Command::Gat { exptime, keys, cas } => {
            store.release_held();
            retrieval::get(store, out, keys, *cas, Some(*exptime))
        }
        Command::Touch {
            key,
            exptime,
            noreply,
        } => touch::apply(store, out, key, *exptime, *noreply),
        Command::Delta {
            key,
            delta,
            incr,
            noreply,
        } => arithmetic::apply(store, out, key, *delta, *incr, *noreply),
        Command::Delete { key, noreply } => delete::apply(store, out, key, *noreply),
        Command::FlushAll { delay, noreply } => misc::flush_all(store, out, *delay, *noreply),
        Command::Version => misc::version(out),
        Command::Verbosity { noreply } => misc::verbosity(out, *noreply),
        Command::Stats(kind) => misc::stats(store, out, *kind),
        Command::Slabs { args } => slabs::slabs(store, out, args),
        Command::MemLimit { limit, noreply } => slabs::memlimit(store, out, limit, *noreply),
        Command::Quit => return Flow::Quit,
        // Without a server to stop, `shutdown` is never enabled.
        Command::Shutdown(_) => misc::shutdown_not_enabled(out),
        // A debug-build command: a release memcached does not know it.
        Command::DebugTime(_) => out.extend_from_slice(b"ERROR\r\n"),
        Command::LruCrawler(_) | Command::Watch(_) => {
            // Without a connection to say what was flushed: any reply before is stacked.
            let pipelined = !out.is_empty();
            return crawler::apply_command(command, store, out, pipelined);
        }
    }
    Flow::Continue
}

/// Appends `line` and `\r\n` unless `noreply`.
pub(crate) fn reply(out: &mut Vec<u8>, noreply: bool, line: &[u8]) {
    if !noreply {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcached::wire::protocol::{Limits, Parse, parse};
    use crate::memcached::{ServerClock, Settings};

    /// Runs a script through parse + apply and returns every reply byte.
    fn run(script: &[u8]) -> (Vec<u8>, ServerClock) {
        let clock = ServerClock::manual(1_700_000_000);
        let mut store = Store::new(Settings::default(), clock.clone()).unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while let Parse::Frame { frame, consumed } = parse(&script[at..], &Limits::default()) {
            at += consumed;
            if let Frame::Command(Command::TooLarge { skip, .. } | Command::NoMemory { skip, .. }) =
                &frame
            {
                at += skip;
            }
            if apply(&frame, &mut store, &mut out) != Flow::Continue {
                break;
            }
        }
        (out, clock)
    }

    #[test]
    fn replies_match_memcached() {
        let script = b"set a 5 0 1\r\n1\r\nincr a 9\r\ndecr a 100\r\nget a\r\n\
gets nope\r\nappend a 0 0 1\r\nx\r\nincr a 1\r\nincr a 1000\r\nadd a 0 0 1\r\n2\r\n\
replace b 0 0 1\r\n2\r\ndelete a\r\ndelete a\r\ntouch a 1\r\nincr a 1\r\n\
incr n -1\r\nflush_all\r\nverbosity 1 noreply\r\nversion\r\nquit\r\nget a\r\n";
        let (out, _) = run(script);
        let want = "STORED\r\n10\r\n0\r\nVALUE a 5 2\r\n0 \r\nEND\r\nEND\r\nSTORED\r\n\
1\r\n1001\r\nNOT_STORED\r\nNOT_STORED\r\n\
DELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\nNOT_FOUND\r\n\
CLIENT_ERROR invalid numeric delta argument\r\nOK\r\nVERSION 1.6.18-cachelab\r\n";
        assert_eq!(String::from_utf8_lossy(&out), want);
    }

    #[test]
    fn a_long_key_in_get_replaces_the_whole_reply() {
        let script = format!("set a 0 0 1\r\nx\r\nget a {} a\r\n", "k".repeat(251));
        let (out, _) = run(script.as_bytes());
        assert_eq!(out, b"STORED\r\nCLIENT_ERROR bad command line format\r\n");
    }

    #[test]
    fn too_large_sets_skip_their_data_and_drop_the_old_value() {
        let mut script = b"set a 0 0 1\r\nx\r\nset a 0 0 2000000\r\n".to_vec();
        script.extend(std::iter::repeat_n(b'z', 2_000_000));
        script.extend_from_slice(b"\r\nget a\r\n");
        let (out, _) = run(&script);
        assert_eq!(
            out,
            b"STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n"
        );
    }

    #[test]
    fn gats_and_cas_report_the_cas_id() {
        let (out, _) = run(b"set a 0 0 1\r\nx\r\ngats 100 a\r\ncas a 0 0 1 1\r\ny\r\ncas a 0 0 1 1\r\nz\r\ngets a\r\n");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "STORED\r\nVALUE a 0 1 1\r\nx\r\nEND\r\nSTORED\r\nEXISTS\r\nVALUE a 0 1 2\r\ny\r\nEND\r\n"
        );
    }
}
