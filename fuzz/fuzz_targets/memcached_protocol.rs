//! Fuzzes memcached's text protocol parser (`cachelab::memcached::wire::protocol::parse`)
//! as a connection drives it: take frames from the front of the buffer until it is
//! incomplete, skipping the data block of a too-large storage command.
//!
//! Checked for every frame: it consumes at least one byte and no more than the buffer
//! holds; it is a function of its own bytes (the same frame from a buffer cut right after
//! it); and one byte less is never a frame but `Incomplete` (or, past 2048 bytes without a
//! newline, memcached's close). The first two bytes pick small limits (`-I` and the longest
//! `get` line) so that the too-large and over-long paths are reached by short inputs.

#![no_main]

use cachelab::memcached::wire::protocol::{
    Command, Frame, Limits, MAX_LINE_WITHOUT_NEWLINE, Parse, parse,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (limits, buf) = match data {
        [a, b, rest @ ..] => (
            Limits {
                item_size_max: 2 + usize::from(*a) * 16,
                max_get_line: MAX_LINE_WITHOUT_NEWLINE + usize::from(*b) * 16,
                // No read budget here: the checks below hold for frames that are parsed.
                buffer_max: usize::MAX,
            },
            rest,
        ),
        _ => return,
    };
    let mut at = 0;
    // Every frame takes a byte, so this ends within buf.len() rounds.
    for _ in 0..=buf.len() {
        let rest = &buf[at..];
        let Parse::Frame { frame, consumed } = parse(rest, &limits) else {
            break;
        };
        assert!(
            consumed >= 1 && consumed <= rest.len(),
            "consumed {consumed} of {}",
            rest.len()
        );
        match parse(&rest[..consumed], &limits) {
            Parse::Frame {
                frame: again,
                consumed: c,
            } => {
                assert_eq!(
                    (&again, c),
                    (&frame, consumed),
                    "frame depends on later bytes"
                );
            }
            Parse::Incomplete | Parse::Awaiting { .. } => {
                panic!("a frame is incomplete when cut right after it")
            }
        }
        match parse(&rest[..consumed - 1], &limits) {
            Parse::Incomplete => {}
            // A storage command one byte short of its data block says how long the whole
            // frame is: exactly what it consumes once complete.
            Parse::Awaiting { frame_len } => {
                assert_eq!(frame_len, consumed, "awaiting a frame of another length");
            }
            Parse::Frame {
                frame: Frame::Close,
                ..
            } if consumed - 1 > MAX_LINE_WITHOUT_NEWLINE => {}
            other => panic!("one byte short of {frame:?} parsed as {other:?}"),
        }
        if let Frame::Command(Command::Store { key, .. } | Command::TooLarge { key, .. }) = &frame {
            assert!(key.len() <= 250, "a storage key of {} bytes", key.len());
        }
        at += consumed;
        if let Frame::Command(Command::TooLarge { skip, .. }) = frame {
            assert!(skip > limits.item_size_max);
            at = at.saturating_add(skip).min(buf.len());
        }
        if matches!(frame, Frame::Close) || at == buf.len() {
            break;
        }
    }
});
