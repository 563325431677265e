//! memcached's response objects under `-o read_buf_mem_limit`: how many replies one
//! connection may stack before it has to write them.
//!
//! memcached 1.6.18 builds every reply in a response object (`mc_resp`, 1,184 bytes on
//! 64-bit: a 1 KiB write buffer and its bookkeeping), 13 to a 16 KiB bundle, and takes the
//! bundles from the same per-thread cache as the connections' 16 KiB read buffers. With
//! `-o read_buf_mem_limit=N` that cache holds at most N MiB / `-t` / 16 KiB buffers (at
//! least 1) per worker thread (`thread.c`, `setup_thread`). A command starts one response
//! object (`process_command_ascii`), a `get` one more per key after the first; they are
//! freed once the replies are written, which memcached does at once after a `get` (all of
//! its forms) and after `mn`, and otherwise only when the window ends. When no object can
//! be had, a `get` answers
//! `SERVER_ERROR out of memory writing get response` in place of its stacked replies, and
//! any other command closes the connection (`resp_start` failing: `conn_closing`); either
//! way `response_obj_oom` counts it.
//!
//! Our connections stack their replies in one buffer per window of `-R` commands, so the
//! same count is kept per window. The cache is per connection here, not per worker thread
//! shared by its connections: memcached's test (`conn-limits.t`) uses one connection per
//! thread, and per connection the limit never depends on how connections were spread.

use crate::memcached::wire::protocol::{Command, Frame, MetaVerb};

/// Response objects in one 16 KiB bundle: (16,384 - 24) / 1,184.
pub const PER_BUNDLE: usize = 13;

/// memcached's `READ_BUFFER_SIZE`: one read buffer or one bundle of response objects.
pub const BUFFER: u64 = 16 * 1024;

/// Bundles of response objects a connection may hold: the per-thread buffers
/// `read_buf_mem_limit` allows, less the connection's own read buffer; `None` without a
/// limit.
pub fn bundle_limit(read_buf_mem_limit: u64, threads: usize) -> Option<usize> {
    if read_buf_mem_limit == 0 {
        return None;
    }
    let per_thread = read_buf_mem_limit / threads.max(1) as u64;
    let buffers = (per_thread / BUFFER).max(1);
    Some(usize::try_from(buffers - 1).unwrap_or(usize::MAX))
}

/// Response objects `frame` takes: one, or one per key of a `get`/`gets`/`gat`/`gats`.
pub fn objects(frame: &Frame) -> usize {
    match frame {
        Frame::Command(Command::Get { keys, .. } | Command::Gat { keys, .. }) => keys.len().max(1),
        _ => 1,
    }
}

/// Whether `frame` is a retrieval, which answers a shortage with `SERVER_ERROR` instead of
/// closing.
pub fn is_retrieval(frame: &Frame) -> bool {
    matches!(
        frame,
        Frame::Command(Command::Get { .. } | Command::Gat { .. })
    )
}

/// Whether memcached writes the stacked replies right after `frame` (`conn_mwrite`:
/// retrievals and `mn`), freeing their response objects.
pub fn flushes(frame: &Frame) -> bool {
    is_retrieval(frame)
        || matches!(
            frame,
            Frame::Command(Command::Meta {
                verb: MetaVerb::NoOp,
                ..
            })
        )
}

/// The bundles `objects` response objects fill.
pub fn bundles(objects: usize) -> usize {
    objects.div_ceil(PER_BUNDLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_limits_t_leaves_one_bundle() {
        // -o read_buf_mem_limit=1 -t 32: 32 KiB per thread, two buffers, one for reading.
        assert_eq!(bundle_limit(1 << 20, 32), Some(1));
        // Under one buffer per thread memcached still allows one: none left for replies.
        assert_eq!(bundle_limit(1 << 20, 128), Some(0));
        assert_eq!(bundle_limit(0, 4), None);
        assert_eq!(bundle_limit(64 << 20, 4), Some(1023));
        assert_eq!((bundles(13), bundles(14), bundles(0)), (1, 2, 0));
    }
}
