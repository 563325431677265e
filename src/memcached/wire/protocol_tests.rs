//! Tests of `protocol.rs` (kept apart so the module itself stays short).
use super::*;

fn limits() -> Limits {
    Limits::default()
}

fn one(buf: &[u8]) -> (Frame, usize) {
    match parse(buf, &limits()) {
        Parse::Frame { frame, consumed } => (frame, consumed),
        other => panic!("{other:?}: {:?}", String::from_utf8_lossy(buf)),
    }
}

fn err(buf: &[u8]) -> (ProtocolError, bool) {
    match one(buf).0 {
        Frame::Error { error, noreply } => (error, noreply),
        other => panic!("not an error: {other:?}"),
    }
}

fn set(key: &[u8], data: &[u8]) -> Command {
    Command::Store {
        mode: StoreMode::Set,
        key: key.to_vec(),
        flags: 0,
        exptime: 0,
        data: data.to_vec(),
        cas: 0,
        noreply: false,
    }
}

#[test]
fn every_prefix_of_a_frame_is_incomplete() {
    let buf = b"set k 5 10 3 noreply\r\na\r\n\r\n";
    let line = b"set k 5 10 3 noreply\r\n".len();
    for end in 0..buf.len() {
        let want = if end < line {
            Parse::Incomplete
        } else {
            Parse::Awaiting {
                frame_len: buf.len(),
            }
        };
        assert_eq!(parse(&buf[..end], &limits()), want, "{end}");
    }
    let (frame, consumed) = one(buf);
    assert_eq!(consumed, buf.len());
    assert_eq!(
        frame,
        Frame::Command(Command::Store {
            mode: StoreMode::Set,
            key: b"k".to_vec(),
            flags: 5,
            exptime: 10,
            data: b"a\r\n".to_vec(),
            cas: 0,
            noreply: true,
        })
    );
}

#[test]
fn pipelined_frames_are_taken_one_at_a_time() {
    let buf = b"set a 0 0 1\r\nx\r\nget a b\r\ndelete a\r\nincr n 5";
    let mut at = 0;
    let mut frames = Vec::new();
    while let Parse::Frame { frame, consumed } = parse(&buf[at..], &limits()) {
        frames.push(frame);
        at += consumed;
    }
    assert_eq!(&buf[at..], b"incr n 5");
    assert_eq!(
        frames,
        vec![
            Frame::Command(set(b"a", b"x")),
            Frame::Command(Command::Get {
                keys: vec![b"a".to_vec(), b"b".to_vec()],
                cas: false
            }),
            Frame::Command(Command::Delete {
                key: b"a".to_vec(),
                noreply: false
            }),
        ]
    );
}

#[test]
fn binary_data_and_bare_newlines() {
    let (frame, _) = one(b"set k 0 0 4\r\n\r\n\0\xff\r\n");
    assert_eq!(frame, Frame::Command(set(b"k", b"\r\n\0\xff")));
    let (frame, consumed) = one(b"get k\nget j\r\n");
    assert_eq!(consumed, 6);
    assert!(matches!(frame, Frame::Command(Command::Get { .. })));
}

#[test]
fn unknown_commands_and_token_counts_are_error() {
    for line in [
        &b"\r\n"[..],
        b"\n",
        b"g\r\n",
        b"GET k\r\n",
        b"get\r\n",
        b"set k 0 0\r\n",
        b"set k 0 0 1 noreply x\r\n",
        b"cas k 0 0 1\r\n",
        b"incr k\r\n",
        b"incr k 1 2 3\r\n",
        b"touch k\r\n",
        b"delete\r\n",
        b"delete k 0 noreply x\r\n",
        b"flush_all 1 2 3\r\n",
        b"verbosity\r\n",
        b"stats nonsense\r\n",
        b"\0\r\n",
    ] {
        assert_eq!(
            err(line),
            (ProtocolError::UnknownCommand, false),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn bad_numbers_and_long_keys_are_client_errors() {
    use ProtocolError::*;
    let long = format!("set {} 0 0 1\r\n", "a".repeat(251));
    assert_eq!(err(long.as_bytes()), (BadCommandLine, false));
    let long = format!("set {} 0 0 1 noreply\r\n", "a".repeat(251));
    assert_eq!(err(long.as_bytes()), (BadCommandLine, true));
    assert_eq!(err(b"set k -1 0 1\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"set k 0 x 1\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"set k 0 0 1x\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"set k 0 0 -1\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"set k 0 0 2147483646\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"cas k 0 0 1 x\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"incr k -1\r\n"), (InvalidDelta, false));
    assert_eq!(
        err(b"incr k 18446744073709551616 noreply\r\n"),
        (InvalidDelta, true)
    );
    assert_eq!(err(b"touch k x\r\n"), (InvalidExptime, false));
    assert_eq!(err(b"gat x k\r\n"), (InvalidExptime, false));
    assert_eq!(err(b"flush_all x\r\n"), (InvalidExptime, false));
    assert_eq!(err(b"verbosity x\r\n"), (BadCommandLine, false));
    assert_eq!(err(b"delete k 1\r\n"), (DeleteUsage, false));
    assert_eq!(err(b"delete k x y\r\n"), (DeleteUsage, false));
    assert_eq!(err(b"set k 0 0 1\r\nab\r\n"), (BadDataChunk, false));
    // The data block is 3 bytes (`ab\r`); the `\n` after it is the next line.
    assert_eq!(one(b"set k 0 0 1\r\nab\r\n").1, 16);
}

#[test]
fn too_large_blocks_are_skipped_not_buffered() {
    let (frame, consumed) = one(b"set k 0 0 2000000\r\nxx");
    assert_eq!(consumed, 19);
    assert_eq!(
        frame,
        Frame::Command(Command::TooLarge {
            mode: StoreMode::Set,
            key: b"k".to_vec(),
            skip: 2_000_002,
            noreply: false
        })
    );
}

#[test]
fn blocks_past_the_buffer_budget_are_refused_and_skipped() {
    let tight = Limits {
        buffer_max: 100,
        ..limits()
    };
    let refused = |buf: &[u8]| match parse(buf, &tight) {
        Parse::Frame { frame, consumed } => (frame, consumed),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(b"add k 0 0 1000 noreply\r\nxx"),
        (
            Frame::Command(Command::NoMemory {
                mode: StoreMode::Add,
                key: b"k".to_vec(),
                skip: 1002,
                noreply: true
            }),
            24
        )
    );
    assert!(matches!(
        refused(b"ms k 1000 T1\r\n").0,
        Frame::Command(Command::NoMemory { skip: 1002, .. })
    ));
    // A frame that fits is awaited as usual; one over -I is still too large.
    assert_eq!(
        parse(b"set k 0 0 10\r\nx", &tight),
        Parse::Awaiting { frame_len: 26 }
    );
    assert!(matches!(
        refused(b"set k 0 0 2000000\r\n").0,
        Frame::Command(Command::TooLarge { .. })
    ));
}

#[test]
fn long_lines_without_newline_close_unless_get() {
    assert_eq!(one(&[b'x'; 3000]).0, Frame::Close);
    let mut get = b"get ".to_vec();
    get.extend(std::iter::repeat_n(b'a', 3000));
    assert_eq!(parse(&get, &limits()), Parse::Incomplete);
    assert_eq!(one(b"GET / HTTP/1.1\r\n").0, Frame::Close);
    assert!(matches!(
        one(b"get / HTTP/1.1\r\n").0,
        Frame::Command(Command::Get { .. })
    ));
}

#[test]
fn meta_commands_keep_flags_in_order_and_check_them() {
    assert_eq!(
        one(b"ms k 2 T10 c\r\nhi\r\n"),
        (
            Frame::Command(Command::Meta {
                verb: MetaVerb::Set,
                key: b"k".to_vec(),
                flags: vec![(b'T', b"10".to_vec()), (b'c', Vec::new())],
                data: b"hi".to_vec(),
            }),
            18
        )
    );
    assert_eq!(
        parse(b"ms k 2\r\nh", &limits()),
        Parse::Awaiting { frame_len: 12 }
    );
    assert_eq!(err(b"mg\r\n"), (ProtocolError::UnknownCommand, false));
    assert_eq!(err(b"mg k Q\r\n"), (ProtocolError::InvalidFlag, false));
    assert_eq!(err(b"mg k v v\r\n"), (ProtocolError::DuplicateFlag, false));
    assert_eq!(
        err(b"md k q q\r\n"),
        (ProtocolError::InvalidOrDuplicateFlag, false)
    );
    assert_eq!(err(b"ms k x\r\n"), (ProtocolError::BadCommandLine, false));
    // A bad flag still consumes the data block, as memcached swallows it.
    assert_eq!(
        one(b"ms k 2 Z\r\nhi\r\nmn\r\n"),
        (
            Frame::Error {
                error: ProtocolError::InvalidFlag,
                noreply: false
            },
            14
        )
    );
}

#[test]
fn noreply_and_optional_arguments() {
    assert_eq!(
        one(b"delete k 0 noreply\r\n").0,
        Frame::Command(Command::Delete {
            key: b"k".to_vec(),
            noreply: true
        })
    );
    assert_eq!(
        one(b"flush_all 1 2\r\n").0,
        Frame::Command(Command::FlushAll {
            delay: 1,
            noreply: false
        })
    );
    assert_eq!(
        one(b"flush_all noreply\r\n").0,
        Frame::Command(Command::FlushAll {
            delay: 0,
            noreply: true
        })
    );
    assert_eq!(
        one(b"touch k 10 junk\r\n").0,
        Frame::Command(Command::Touch {
            key: b"k".to_vec(),
            exptime: 10,
            noreply: false
        })
    );
    assert_eq!(
        one(b"gat 10\r\n").0,
        Frame::Command(Command::Gat {
            exptime: 10,
            keys: vec![],
            cas: false
        })
    );
}
