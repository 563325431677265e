//! `cachelab serve` against a real memcached 1.6.18, byte for byte: both servers get the
//! same raw command scripts and must send the same replies (after two normalisations:
//! the `VERSION` line differs by design, and CAS ids are compared by consistency, a
//! mapping between the two servers' ids that must stay one-to-one, not by number).
//!
//! Scripts cover every classic command, `noreply`, malformed lines and data blocks,
//! pipelining, a script written one byte at a time, binary data, expiry with short sleeps,
//! and a seeded random sequence of 12 000 operations over 16 keys. Shaped after mini-redis
//! `tests/server.rs`: bind `127.0.0.1:0`, write raw bytes, compare raw bytes.
//!
//! Needs the `memcached` binary on `PATH`. Without it the differential tests fail when
//! `CI=true` and otherwise print a loud notice and pass. The seed's Python examples
//! (`tests/python/seed_examples.py`) need `pymemcache`, which the test provisions into
//! `target/pyenv` when missing (`tests/common/python.rs`), under the same rule.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use cachelab::memcached::client::{
    Client, MetaDeleteFlags, MetaGetFlags, MetaItem, MetaSetFlags, MetaSetMode, StoreResult,
};
use cachelab::memcached::server::{Background, Options};
use cachelab::memcached::{ServerClock, Settings, Store};

mod common;
use common::{Server, memcached_missing};

// ---- helpers --------------------------------------------------------------------------

/// A real memcached in compat mode, `-o no_lru_maintainer` (which also turns LRU
/// segmentation off): the mode the store models reply for reply. In memcached's default
/// mode the background LRU maintainer holds a reference to an item hit while in COLD until
/// it gets round to moving it, and `incr`/`decr`/`ma` rewrite a value in place only when
/// nobody else holds it: whether the counter keeps its length (and its `h` fetched flag)
/// then depends on thread timing, which made this test flaky. (The store applies that bump
/// at once; see its `lru` module.)
fn start_memcached() -> (Server, SocketAddr) {
    start_memcached_with(&["-o", "no_lru_maintainer"])
}

fn start_memcached_with(extra: &[&str]) -> (Server, SocketAddr) {
    common::start_memcached(&[&["-m", "64"], extra].concat())
}

/// `cachelab serve` in the same LRU mode as [`start_memcached`]'s memcached.
fn start_cachelab() -> Background {
    start_cachelab_with(Settings {
        lru_segmented: false,
        ..Settings::default()
    })
}

fn start_cachelab_with(settings: Settings) -> Background {
    let store = Store::new(settings, ServerClock::wall()).expect("store");
    let options = Options::for_store(&store, 64, 2);
    Background::start("127.0.0.1:0", Arc::new(Mutex::new(store)), options)
        .expect("cachelab server starts")
}

/// Both servers, fresh. `None` when memcached is missing (and that is allowed).
struct Pair {
    _memcached: Server,
    real: SocketAddr,
    ours: Background,
}

fn pair() -> Option<Pair> {
    if memcached_missing("the memcached server differential check") {
        return None;
    }
    let (memcached, real) = start_memcached();
    Some(Pair {
        _memcached: memcached,
        real,
        ours: start_cachelab(),
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

/// Reads replies up to and including the `VERSION` line that answers our sentinel
/// `version` command; `VALUE` blocks are read by length so data never looks like a line.
/// Returns the replies before the sentinel, and whether the server closed first.
fn read_until_version(reader: &mut BufReader<TcpStream>) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => {
                out.extend_from_slice(&line);
                return (out, true);
            }
            Ok(_) => {}
        }
        if line.starts_with(b"VERSION ") {
            return (out, false);
        }
        let block = match line.strip_prefix(b"VALUE ") {
            Some(rest) => Some((rest, 2)),
            None => line.strip_prefix(b"VA ").map(|rest| (rest, 0)),
        };
        if let Some((rest, field)) = block {
            let text = String::from_utf8_lossy(rest);
            let len: usize = text
                .split(' ')
                .nth(field)
                .and_then(|n| n.trim().parse().ok())
                .expect("VALUE line has a length");
            let mut data = vec![0; len + 2];
            reader.read_exact(&mut data).expect("data block");
            line.extend_from_slice(&data);
        }
        out.extend_from_slice(&line);
    }
}

/// How a script is written.
#[derive(Clone, Copy)]
enum Feed {
    /// In one write, with the sentinel.
    Whole,
    /// In pieces of this many bytes, each flushed.
    Chunks(usize),
    /// In one write, then a pause so the server acts on it (a line without a newline),
    /// then the sentinel.
    Paused,
}

/// Sends `script` then a sentinel `version`; see [`Feed`].
fn exchange(addr: SocketAddr, script: &[u8], how: Feed) -> (Vec<u8>, bool) {
    let stream = connect(addr);
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut all = script.to_vec();
    all.extend_from_slice(b"version\r\n");
    let chunk = match how {
        Feed::Whole => None,
        Feed::Chunks(n) => Some(n),
        Feed::Paused => {
            writer.write_all(script).expect("write");
            // Long enough for a loaded machine: if the sentinel arrived before the server
            // had acted on the script, both would be read as one line.
            std::thread::sleep(Duration::from_millis(1000));
            // The server may have closed already.
            let _ = writer.write_all(b"version\r\n");
            return read_until_version(&mut reader);
        }
    };
    match chunk {
        None => writer.write_all(&all).expect("write"),
        Some(n) => {
            for piece in all.chunks(n) {
                // The server may close (quit, bad line) before we are done writing.
                if writer.write_all(piece).is_err() {
                    break;
                }
                writer.flush().expect("flush");
            }
        }
    }
    read_until_version(&mut reader)
}

/// Maps each server's CAS ids to the order of first appearance, so two reply streams
/// compare equal exactly when their CAS ids correspond one to one.
#[derive(Default)]
struct CasMap(HashMap<u64, u64>);

impl CasMap {
    fn normalise(&mut self, replies: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(replies.len());
        let mut rest = replies;
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let (line, tail) = rest.split_at(end);
            rest = tail;
            let Some(fields) = line.strip_prefix(b"VALUE ") else {
                out.extend_from_slice(line);
                continue;
            };
            let text = String::from_utf8_lossy(fields).into_owned();
            let parts: Vec<&str> = text.trim_end().split(' ').collect();
            let len: usize = parts[2].parse().expect("length");
            if parts.len() == 4 {
                let cas: u64 = parts[3].parse().expect("cas");
                let next = self.0.len() as u64;
                let id = *self.0.entry(cas).or_insert(next);
                out.extend_from_slice(
                    format!("VALUE {} {} {} #{id}\r\n", parts[0], parts[1], len).as_bytes(),
                );
            } else {
                out.extend_from_slice(line);
            }
            let take = (len + 2).min(rest.len());
            out.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        out
    }
}

/// Runs `script` on both servers and requires identical replies.
fn same_replies(pair: &Pair, script: &[u8], how: Feed) -> Vec<u8> {
    let (real, real_closed) = exchange(pair.real, script, how);
    let (ours, ours_closed) = exchange(pair.ours.addr(), script, how);
    let real_n = CasMap::default().normalise(&real);
    let ours_n = CasMap::default().normalise(&ours);
    assert_eq!(
        String::from_utf8_lossy(&ours_n),
        String::from_utf8_lossy(&real_n),
        "replies differ for script {:?}",
        String::from_utf8_lossy(&script[..script.len().min(400)])
    );
    assert_eq!(ours_closed, real_closed, "closing differs");
    real
}

// ---- scripts --------------------------------------------------------------------------

const EVERY_COMMAND: &[u8] = b"set a 1 0 1\r\n1\r\nget a\r\ngets a\r\nadd a 0 0 1\r\nx\r\n\
add b 2 0 2\r\nbb\r\nreplace a 3 0 2\r\n10\r\nreplace zz 0 0 1\r\nx\r\nappend a 0 0 1\r\n5\r\n\
prepend a 0 0 1\r\n0\r\nappend zz 0 0 1\r\nx\r\nprepend zz 0 0 1\r\nx\r\nget a b zz a\r\n\
gets a b\r\nincr a 5\r\ndecr a 1000\r\nget a\r\nincr a 18446744073709551615\r\nincr a 2\r\n\
incr b 1\r\nincr zz 1\r\ndecr zz 1\r\ntouch a 100\r\ntouch zz 100\r\ngat 100 a b zz\r\n\
gats 0 a\r\ndelete a\r\ndelete a\r\ndelete b 0\r\nget a b\r\nflush_all\r\nverbosity 1\r\n\
set c 0 0 3\r\n 12\r\nincr c 1\r\nset d 0 0 3\r\n12 \r\nincr d 1\r\nget c d\r\n\
set e 0 0 0\r\n\r\nget e\r\nincr e 1\r\nflush_all 0\r\nget c d e\r\nstats reset\r\n";

const NOREPLY: &[u8] = b"set a 0 0 1 noreply\r\n1\r\nadd a 0 0 1 noreply\r\nx\r\n\
replace a 0 0 1 noreply\r\n2\r\nappend a 0 0 1 noreply\r\n3\r\nprepend a 0 0 1 noreply\r\n4\r\n\
incr a 1 noreply\r\ndecr a 1 noreply\r\ntouch a 10 noreply\r\nget a\r\n\
cas a 0 0 1 1 noreply\r\nx\r\ndelete a noreply\r\ndelete a 0 noreply\r\nget a\r\n\
flush_all noreply\r\nflush_all 0 noreply\r\nverbosity 1 noreply\r\n\
incr a x noreply\r\ntouch a x noreply\r\ndelete a 1 noreply\r\nset a 0 0 1 noreply\r\nxyz\r\n\
set a 0 0 -1 noreply\r\n";

const BAD_INPUT: &[u8] = b"\r\n\n\0\r\nx\r\nGET a\r\nget\r\nset a 0 0\r\nab\r\n\
set a 0 0 1 2 3\r\nx\r\nset a -1 0 1\r\nx\r\nset a 0 x 1\r\nx\r\nset a 0 0 1x\r\nx\r\n\
set a 0 0 -1\r\nx\r\nset a 0 0 2147483646\r\nset a 4294967296 2147483648 4294967297\r\nx\r\n\
get a\r\nset a 0 0 1\r\nab\r\nset a 0 0 3\r\nabcdefgh\r\nxyz\r\nget a\r\n\
cas a 0 0 1\r\nx\r\ncas a 0 0 1 x\r\nx\r\nincr\r\nincr a\r\nincr a 1 2 3\r\nincr a -1\r\n\
incr a abc\r\nincr a 18446744073709551616\r\nincr a -0\r\ntouch a\r\ntouch a x\r\n\
gat x a\r\ngat 10\r\ndelete\r\ndelete a 1\r\ndelete a x y\r\ndelete a 0 noreply x\r\n\
flush_all x\r\nflush_all 1 2 3\r\nverbosity\r\nverbosity x\r\nverbosity 1 2 3\r\n\
stats nonsense\r\nnonsense\r\nset a 0 0 1 \r\nx\r\nset b\tc 0 0 1\r\nx\r\nget b\tc\r\n\
get a\x00junk\r\nget / HTTP/1.1\r\n";

fn long_keys() -> Vec<u8> {
    let long = "k".repeat(251);
    let ok = "k".repeat(250);
    format!(
        "set {long} 0 0 1\r\nx\r\nset {ok} 0 0 1\r\nx\r\nget {ok}\r\nget {long}\r\n\
         touch {long} 1\r\nincr {long} 1\r\ndelete {long}\r\nset {long} 0 0 1 noreply\r\nx\r\n"
    )
    .into_bytes()
}

fn binary_and_large() -> Vec<u8> {
    let mut script = Vec::new();
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    script.extend_from_slice(b"set bin 7 0 3000\r\n");
    script.extend_from_slice(&binary);
    script.extend_from_slice(b"\r\nget bin\r\nset crlf 0 0 6\r\n\r\n\r\n\r\n\r\nget crlf\r\n");
    // Chunked items (over 512 KiB), the largest that fits, and too large ones.
    for (key, len) in [
        ("big", 600_000usize),
        ("fits", (1 << 20) - 62),
        ("over", (1 << 20) - 50),
        ("huge", 2_000_000),
    ] {
        script.extend_from_slice(format!("set {key} 0 0 {len}\r\n").as_bytes());
        script.extend(std::iter::repeat_n(b'v', len));
        script.extend_from_slice(format!("\r\nget {key}\r\n").as_bytes());
    }
    script.extend_from_slice(b"set big 0 0 1\r\nx\r\nset big 0 0 2000000\r\n");
    script.extend(std::iter::repeat_n(b'v', 2_000_000));
    script.extend_from_slice(b"\r\nget big\r\nset huge 0 0 1048577 noreply\r\n");
    script.extend(std::iter::repeat_n(b'v', 1_048_577));
    script.extend_from_slice(b"\r\nappend fits 0 0 100\r\n");
    script.extend(std::iter::repeat_n(b'a', 100));
    script.extend_from_slice(b"\r\nget fits\r\n");
    script
}

/// Meta commands with the flags cachelab takes (no `c`: CAS ids in status lines are not
/// normalised), the recache flags (`N`, `R`, `md … I`; `W`, `X`, `Z` in replies), and
/// their error replies.
const META: &[u8] = b"mn\r\nms m1 2\r\nhi\r\nmg m1 v\r\nmg m1 k v f s t O123\r\nmg nope v\r\n\
mg nope v q\r\nmg m1\r\nmg m1 q k\r\nms m2 2 T100 F5\r\nhi\r\nmg m2 t f v\r\nms m2 2 MA\r\n!!\r\n\
mg m2 v\r\nms m2 2 MP\r\n<<\r\nmg m2 v\r\nms m3 2 ME\r\nzz\r\nms m3 2 ME\r\nyy\r\nms m3 2 MR\r\nrr\r\n\
ms m2 2 C1\r\nxx\r\nms nope 2 MR\r\nxx\r\nms m2 2 q\r\nqq\r\nms m2 2 k O9\r\nqq\r\n\
ms m10 2 MS C99\r\nhi\r\nmd m2\r\nmd m2\r\nmd m3 q\r\nmd nope q\r\nmd m1 k O5\r\n\
ma cnt\r\nma cnt N0 J10\r\nma cnt v\r\nma cnt MD D3 v\r\nma cnt t v\r\nma cnt M+ D100 v\r\n\
ma cnt q\r\nma cnt q D1000 MD v\r\nmg cnt v\r\nma nope q\r\nms s 1\r\nx\r\nma s\r\n\
ma m20 N0 J18446744073709551615 v\r\nma m20 v\r\nms m7 2 T-1\r\nhi\r\nmg m7 v\r\n\
ma m9 N100 J5 t v\r\nma m9 T0 t v\r\nmg m9 t\r\nmd m9 C1\r\nmg m9 q\r\nmg m9 T30 t\r\n\
ms m11 0\r\n\r\nmg m11 v s\r\nms m11 3 I\r\nabc\r\nmg m11 s v\r\n\
ms m12 2 F4294967296 T2147483648\r\nhi\r\nmg m12 f t v\r\n\
mg\r\nms m5\r\nms m5 x\r\nhi\r\nms m5 2 Zbad\r\nhi\r\nmg m5 Q\r\nms m6 -1\r\n\
ms m8 2 Tx\r\nhi\r\nms m8 2 MX\r\nhi\r\nms m8 2 Fx\r\nhi\r\nms m8 1 T1 T2\r\nx\r\n\
ma m11 MX\r\nma m11 Dx\r\nma m30 Jx\r\nma m30 D1 D2\r\nmg m30 Tx\r\nmg m30 v v\r\n\
md m30 Cx\r\nmd m30 q q\r\nms m1 2 S\r\nhi\r\n\
mg w1 N30 v t\r\nmg w1 N30 v t\r\nmg w1 v\r\nms w1 2\r\nhi\r\nmg w1 v\r\nms w2 2 T10\r\nhi\r\n\
mg w2 R30 v\r\nmg w2 R30 v\r\nmg w2 R5 v\r\nmd w2 I T30\r\nmg w2 v t\r\nmg w2 v\r\n\
ms w2 2 I\r\nzz\r\nmg w2 v\r\nmg w3 N30 s\r\nmg w3 k\r\nmd w3 I\r\nmg w3 s\r\nmd nope I\r\n\
mg w4 Rx\r\nmg w4 Nx\r\nmd w4 I Tx\r\nms w5 1 T100\r\nx\r\nmg w5 R50 v\r\nmg w5 R500 v q\r\n\
mg w6 N0 v\r\nms hi 1\r\nx\r\nmg hi h l v\r\nmg hi h l\r\nmg hi E5\r\nmg nope h l\r\n\
mg hw N30 h l\r\nmg hw h l t\r\n\
mg o1 t N30\r\nmg o2 N30 t\r\nmg o3 T30 t N50\r\nmg o3 t\r\nmg o4 N50 T30 t\r\nmg o4 t\r\n\
ms o5 1 T100\r\nx\r\nmg o5 t T30\r\nmg o5 T40 t\r\nmg o6 N50 t T-1\r\nmg o6 t\r\n\
mg o7 T30\r\nmn\r\n";

// ---- differential tests ---------------------------------------------------------------

/// The counters for the commands' bookkeeping (hits, misses, sets, touches, items).
const COUNTERS: &[&str] = &[
    "cmd_get",
    "cmd_set",
    "cmd_touch",
    "get_hits",
    "get_misses",
    "get_expired",
    "touch_hits",
    "touch_misses",
    "delete_hits",
    "delete_misses",
    "incr_hits",
    "incr_misses",
    "decr_hits",
    "decr_misses",
    "cas_hits",
    "cas_misses",
    "cas_badval",
    "curr_items",
    "total_items",
];

/// Sends `script`, then `stats`; returns the [`COUNTERS`] the server reports.
fn counters_after(addr: SocketAddr, script: &[u8]) -> Vec<(&'static str, Option<String>)> {
    let stream = connect(addr);
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut bytes = script.to_vec();
    bytes.extend_from_slice(b"stats\r\nversion\r\n");
    (&stream).write_all(&bytes).expect("write");
    let (reply, _) = read_until_version(&mut reader);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let stats: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("STAT "))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect();
    COUNTERS
        .iter()
        .map(|c| (*c, stats.get(*c).cloned()))
        .collect()
}

/// `script` on fresh servers leaves the same [`COUNTERS`] on both.
fn same_counters(script: &[u8]) {
    let Some(pair) = pair() else { return };
    assert_eq!(
        counters_after(pair.ours.addr(), script),
        counters_after(pair.real, script),
        "counters differ (ours, then memcached's)"
    );
}

#[test]
fn meta_and_classic_commands_count_as_in_memcached() {
    same_counters(META);
    same_counters(EVERY_COMMAND);
}

#[test]
fn every_command_replies_as_memcached() {
    let Some(pair) = pair() else { return };
    same_replies(&pair, EVERY_COMMAND, Feed::Whole);
}

#[test]
fn noreply_is_silent_as_in_memcached() {
    let Some(pair) = pair() else { return };
    let replies = same_replies(&pair, NOREPLY, Feed::Whole);
    assert!(
        replies.starts_with(b"VALUE a 0 3\r\n423\r\nEND\r\nEND\r\nERROR\r\n"),
        "{}",
        String::from_utf8_lossy(&replies)
    );
}

#[test]
fn meta_commands_reply_as_memcached() {
    let Some(pair) = pair() else { return };
    same_replies(&pair, META, Feed::Whole);
    same_replies(&pair, META, Feed::Chunks(3));
}

#[test]
fn meta_debug_reports_as_memcached_on_fresh_servers() {
    // Fresh servers give the same CAS ids, so `cas=` can be compared as is.
    let Some(pair) = pair() else { return };
    let mut script = b"me\r\nme nope\r\nset s 0 0 1\r\n1\r\nme s\r\nget s\r\nme s x\r\n\
set n 3 0 2\r\n10\r\nincr n 1\r\nme n\r\nset big 5 0 600000\r\n"
        .to_vec();
    script.extend(std::iter::repeat_n(b'x', 600_000));
    script.extend_from_slice(b"\r\nme big\r\n");
    script.extend_from_slice(format!("me {}\r\n", "k".repeat(251)).as_bytes());
    let replies = same_replies(&pair, &script, Feed::Whole);
    assert!(
        String::from_utf8_lossy(&replies).contains("ME big exp=-1 la=0 cas=4 fetch=no cls=39"),
        "{}",
        String::from_utf8_lossy(&replies)
    );
}

#[test]
fn bad_input_gets_memcached_errors_and_keeps_the_connection() {
    let Some(pair) = pair() else { return };
    same_replies(&pair, BAD_INPUT, Feed::Whole);
    same_replies(&pair, &long_keys(), Feed::Whole);
}

#[test]
fn closing_cases_match() {
    let Some(pair) = pair() else { return };
    for script in [
        b"get a\r\nquit\r\nget a\r\n".to_vec(),
        b"set q 0 0 1\r\nx\r\nquit extra\r\n".to_vec(),
        b"GET / HTTP/1.1\r\n".to_vec(),
        vec![b'x'; 3000],
        [b"set ".as_slice(), &[b'k'; 3000]].concat(),
    ] {
        same_replies(&pair, &script, Feed::Paused);
        let (_, closed) = exchange(pair.ours.addr(), &script, Feed::Paused);
        assert!(closed, "every one of these scripts ends the connection");
    }
}

#[test]
fn pipelined_and_byte_by_byte_scripts_match() {
    let Some(pair) = pair() else { return };
    for script in [EVERY_COMMAND, NOREPLY, BAD_INPUT] {
        same_replies(&pair, script, Feed::Chunks(1));
        same_replies(&pair, script, Feed::Chunks(7));
    }
}

#[test]
fn binary_and_large_values_match() {
    let Some(pair) = pair() else { return };
    same_replies(&pair, &binary_and_large(), Feed::Whole);
    same_replies(&pair, &binary_and_large(), Feed::Chunks(65_536));
}

#[test]
fn expiry_touch_and_delayed_flush_match_over_time() {
    let Some(pair) = pair() else { return };
    let setup = b"set short 0 1 1\r\ns\r\nset long 0 100 1\r\nl\r\nset never 0 0 1\r\nn\r\n\
set neg 0 -1 1\r\nx\r\nset touched 0 1 1\r\nt\r\ntouch touched 100\r\nset gatted 0 1 1\r\ng\r\n\
gat 100 gatted\r\nset absolute 0 1000000000 1\r\na\r\nget short long never neg\r\n";
    same_replies(&pair, setup, Feed::Whole);
    std::thread::sleep(Duration::from_millis(2500));
    same_replies(
        &pair,
        b"get short long never neg touched gatted absolute\r\ntouch long 1\r\n",
        Feed::Whole,
    );
    std::thread::sleep(Duration::from_millis(2500));
    same_replies(
        &pair,
        b"get long never\r\nflush_all 2\r\nget never\r\n",
        Feed::Whole,
    );
    std::thread::sleep(Duration::from_millis(3500));
    same_replies(
        &pair,
        b"get never\r\nset after 0 0 1\r\nx\r\nget after\r\n",
        Feed::Whole,
    );
}

/// One abstract operation of the random sequence, rendered per server (a `cas` uses the
/// id that server last reported for the key).
fn random_op(rng: &mut SmallRng, keys: usize) -> (String, Option<String>, Vec<u8>) {
    let key = format!("r{}", rng.random_range(0..keys));
    let noreply = if rng.random_bool(0.1) { " noreply" } else { "" };
    let value: Vec<u8> = if rng.random_bool(0.4) {
        rng.random_range(0u64..1_000_000).to_string().into_bytes()
    } else {
        let len = rng.random_range(0..40);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
        // A value of white space only sends memcached's `incr` past the value's end into
        // whatever the slab chunk held before (strtoull skips the white space and the
        // `\r\n`): undefined, so never generated.
        if !bytes.is_empty() && bytes.iter().all(|b| b" \t\n\x0b\x0c\r".contains(b)) {
            bytes.push(b'x');
        }
        bytes
    };
    let exptime = match rng.random_range(0..10) {
        0 => -1,
        1 => 1000,
        _ => 0,
    };
    let flags = rng.random_range(0..4u32);
    let verbs = [
        "set", "add", "replace", "append", "prepend", "cas", "get", "gets", "gat", "gats", "touch",
        "incr", "decr", "delete", "mget", "mg", "ms", "md", "ma",
    ];
    let verb = verbs[rng.random_range(0..verbs.len())];
    let line = match verb {
        "set" | "add" | "replace" | "append" | "prepend" => {
            let line = format!(
                "{verb} {key} {flags} {exptime} {}{noreply}\r\n",
                value.len()
            );
            return (line, None, value);
        }
        "cas" => {
            // Rendered later with the server's own CAS id for the key.
            let line = format!(
                "cas {key} {flags} {exptime} {} {{}}{noreply}\r\n",
                value.len()
            );
            return (line, Some(key), value);
        }
        "get" | "gets" => format!("{verb} {key}\r\n"),
        "gat" | "gats" => format!("{verb} {exptime} {key}\r\n"),
        "touch" => format!("touch {key} {exptime}{noreply}\r\n"),
        "incr" | "decr" => format!("{verb} {key} {}{noreply}\r\n", rng.random_range(0..1000u64)),
        "delete" => format!("delete {key}{noreply}\r\n"),
        // Meta commands, without flags whose replies depend on the clock (`t`, `l`) or
        // print CAS ids (`c`).
        "mg" => {
            let mut line = format!("mg {key}");
            for flag in [
                " v", " f", " s", " k", " h", " q", " O7", " N0", " R500", " T0",
            ] {
                if rng.random_bool(0.3) {
                    line.push_str(flag);
                }
            }
            line + "\r\n"
        }
        "ms" => {
            let mut line = format!("ms {key} {} F{flags} T{exptime}", value.len());
            if rng.random_bool(0.4) {
                let modes = ["E", "A", "P", "R", "S"];
                line.push_str(&format!(" M{}", modes[rng.random_range(0..modes.len())]));
            }
            if rng.random_bool(0.2) {
                line.push_str(" q");
            }
            return (line + "\r\n", None, value);
        }
        "md" => {
            let mut line = format!("md {key}");
            for flag in [" q", " I", " k"] {
                if rng.random_bool(0.3) {
                    line.push_str(flag);
                }
            }
            line + "\r\n"
        }
        "ma" => {
            let mut line = format!("ma {key}");
            if rng.random_bool(0.3) {
                line.push_str(&format!(" N0 J{}", rng.random_range(0..100)));
            }
            for flag in [" D7", " MD", " v", " q"] {
                if rng.random_bool(0.3) {
                    line.push_str(flag);
                }
            }
            line + "\r\n"
        }
        _ => {
            let other = format!("r{}", rng.random_range(0..keys));
            format!("gets {key} {other} {key}\r\n")
        }
    };
    (line, None, Vec::new())
}

/// Remembers the last CAS id each server reported per key, from `gets`/`gats` replies.
fn learn_cas(replies: &[u8], last: &mut HashMap<String, u64>) {
    for line in replies.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"VALUE ") {
            let text = String::from_utf8_lossy(rest);
            let parts: Vec<&str> = text.trim_end().split(' ').collect();
            if parts.len() == 4
                && let Ok(cas) = parts[3].parse()
            {
                last.insert(parts[0].to_string(), cas);
            }
        }
    }
}

#[test]
fn seeded_random_operations_match() {
    // Several seeds: one seed's sequence once hid a whole class of differences (meta get
    // holds, see `Store::release_held`) that others found at once.
    for seed in [6, 8, 9, 13, 25] {
        let Some(pair) = pair() else { return };
        random_operations_match(&pair, seed);
    }
}

/// 12,000 seeded random operations in pipelined batches of 40, on fresh servers; every
/// batch's replies must be identical.
fn random_operations_match(pair: &Pair, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let (ops, batch, keys) = (12_000, 40, 16);
    let servers = [pair.real, pair.ours.addr()];
    let mut streams: Vec<(TcpStream, BufReader<TcpStream>)> = servers
        .iter()
        .map(|&addr| {
            let stream = connect(addr);
            (stream.try_clone().expect("clone"), BufReader::new(stream))
        })
        .collect();
    let mut cas_maps = [CasMap::default(), CasMap::default()];
    let mut last_cas = [HashMap::new(), HashMap::new()];
    let mut matched = 0;
    while matched < ops {
        let script: Vec<_> = (0..batch).map(|_| random_op(&mut rng, keys)).collect();
        let flush = rng.random_bool(0.002);
        let mut replies = Vec::new();
        for (i, (writer, reader)) in streams.iter_mut().enumerate() {
            let mut bytes = Vec::new();
            for (line, cas_key, data) in &script {
                let line = match cas_key {
                    Some(key) => {
                        let cas = last_cas[i].get(key).copied().unwrap_or(999_999);
                        line.replace("{}", &cas.to_string())
                    }
                    None => line.clone(),
                };
                bytes.extend_from_slice(line.as_bytes());
                if line.starts_with("set")
                    || line.starts_with("add")
                    || line.starts_with("replace")
                    || line.starts_with("append")
                    || line.starts_with("prepend")
                    || line.starts_with("cas")
                    || line.starts_with("ms ")
                {
                    bytes.extend_from_slice(data);
                    bytes.extend_from_slice(b"\r\n");
                }
            }
            if flush {
                bytes.extend_from_slice(b"flush_all\r\n");
            }
            bytes.extend_from_slice(b"version\r\n");
            writer.write_all(&bytes).expect("write");
            let (reply, closed) = read_until_version(reader);
            assert!(!closed, "server closed during the random sequence");
            learn_cas(&reply, &mut last_cas[i]);
            replies.push(cas_maps[i].normalise(&reply));
        }
        assert_eq!(
            String::from_utf8_lossy(&replies[1]),
            String::from_utf8_lossy(&replies[0]),
            "batch ending at op {} differs; its commands: {}",
            matched + batch,
            script
                .iter()
                .map(|(line, _, _)| line.trim_end())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        matched += batch;
    }
    let _ = std::io::stderr().write_all(
        format!("random differential, seed {seed}: {matched} operations matched\n").as_bytes(),
    );
}

// ---- our own server and client --------------------------------------------------------

#[test]
fn client_speaks_every_command() {
    let server = start_cachelab();
    let mut c = Client::connect(server.addr()).expect("connect");
    assert_eq!(c.set(b"k", b"v", 3, 0).unwrap(), StoreResult::Stored);
    assert_eq!(c.add(b"k", b"w", 0, 0).unwrap(), StoreResult::NotStored);
    assert_eq!(c.replace(b"k", b"w", 4, 0).unwrap(), StoreResult::Stored);
    assert_eq!(c.append(b"k", b"!", 0, 0).unwrap(), StoreResult::Stored);
    assert_eq!(c.prepend(b"k", b"<", 0, 0).unwrap(), StoreResult::Stored);
    let v = c.gets(b"k").unwrap().expect("hit");
    assert_eq!((v.data.as_slice(), v.flags), (&b"<w!"[..], 4));
    assert_eq!(
        c.cas(b"k", b"x", 0, 0, v.cas + 100).unwrap(),
        StoreResult::Exists
    );
    assert_eq!(c.cas(b"k", b"x", 0, 0, v.cas).unwrap(), StoreResult::Stored);
    assert_eq!(
        c.cas(b"gone", b"x", 0, 0, 1).unwrap(),
        StoreResult::NotFound
    );
    assert_eq!(c.set(b"n", b"41", 0, 0).unwrap(), StoreResult::Stored);
    assert_eq!(c.incr(b"n", 1).unwrap(), Some(42));
    assert_eq!(c.decr(b"n", 50).unwrap(), Some(0));
    assert_eq!(c.incr(b"missing", 1).unwrap(), None);
    assert!(matches!(
        c.incr(b"k", 1),
        Err(cachelab::memcached::client::ClientError::Server(_))
    ));
    assert!(c.touch(b"k", 100).unwrap());
    assert!(!c.touch(b"missing", 100).unwrap());
    assert_eq!(
        c.gat(b"k", 100, false).unwrap().map(|v| v.data),
        Some(b"x".to_vec())
    );
    let many = c.get_multi(&[b"k", b"missing", b"n"], false).unwrap();
    assert_eq!(many.len(), 2);
    assert!(c.delete(b"k").unwrap());
    assert!(!c.delete(b"k").unwrap());
    assert!(c.get(b"k").unwrap().is_none());
    assert!(c.version().unwrap().contains("cachelab"));
    let stats = c.stats(None).unwrap();
    assert!(stats.iter().any(|(k, v)| k == "cmd_get" && v != "0"));
    c.send_raw(b"stats reset\r\n").unwrap();
    assert_eq!(c.recv_line().unwrap(), "RESET");
    let stats = c.stats(None).unwrap();
    assert!(stats.iter().any(|(k, v)| k == "cmd_get" && v == "0"));
    assert!(!c.stats(Some("slabs")).unwrap().is_empty());
    c.flush_all(0).unwrap();
    assert!(c.get(b"n").unwrap().is_none());
    assert!(c.set(b"bad key", b"v", 0, 0).is_err());
    // Pipelined: three commands, one flush.
    c.send_store("set", b"p", b"1", 0, 0, None).unwrap();
    c.send_delta(b"p", 5, true).unwrap();
    c.send_get(&[b"p"], false).unwrap();
    assert_eq!(c.recv_store().unwrap(), StoreResult::Stored);
    assert_eq!(c.recv_delta().unwrap(), Some(6));
    assert_eq!(c.recv_values().unwrap()[0].data, b"6");
    c.quit().unwrap();
}

/// The client's typed meta replies for the lease sequence, a stale item and the set
/// modes; each step's reply with its CAS id replaced by the step that first saw that id.
fn meta_client_script(addr: SocketAddr) -> Vec<String> {
    let mut c = Client::connect(addr).expect("connect");
    let mut cas_ids: Vec<u64> = Vec::new();
    let mut named = |item: Option<MetaItem>| {
        item.map(|mut item| {
            if let Some(cas) = item.cas {
                let at = cas_ids.iter().position(|&c| c == cas).unwrap_or_else(|| {
                    cas_ids.push(cas);
                    cas_ids.len() - 1
                });
                item.cas = Some(at as u64);
            }
            format!("{item:?}")
        })
    };
    let lease = MetaGetFlags {
        value: true,
        cas: true,
        ttl: true,
        vivify: Some(100),
        recache: Some(101),
        ..MetaGetFlags::default()
    };
    let mut out = Vec::new();
    let first = c.mg(b"n", &lease).unwrap();
    let token = first.as_ref().and_then(|i| i.cas).expect("vivified with c");
    out.push(format!("{:?}", named(first)));
    out.push(format!("{:?}", named(c.mg(b"n", &lease).unwrap())));
    let write = |cas| MetaSetFlags {
        cas: Some(cas),
        ttl: Some(100),
        ..MetaSetFlags::default()
    };
    for (key, cas) in [(&b"n"[..], token + 1), (b"n", token), (b"gone", token)] {
        out.push(format!("{:?}", c.ms(key, b"1", &write(cas)).unwrap()));
    }
    out.push(format!("{:?}", named(c.mg(b"n", &lease).unwrap())));
    out.push(format!("{:?}", named(c.mg(b"n", &lease).unwrap())));
    let invalidate = MetaDeleteFlags {
        invalidate: true,
        ttl: Some(30),
        ..MetaDeleteFlags::default()
    };
    out.push(format!("{:?}", c.md(b"n", &invalidate).unwrap()));
    let plain = MetaGetFlags {
        value: true,
        flags: true,
        ..MetaGetFlags::default()
    };
    out.push(format!("{:?}", named(c.mg(b"n", &plain).unwrap())));
    out.push(format!("{:?}", named(c.mg(b"n", &plain).unwrap())));
    for mode in [
        MetaSetMode::Replace,
        MetaSetMode::Add,
        MetaSetMode::Add,
        MetaSetMode::Append,
        MetaSetMode::Prepend,
        MetaSetMode::Set,
    ] {
        let flags = MetaSetFlags {
            mode,
            client_flags: Some(9),
            ..MetaSetFlags::default()
        };
        out.push(format!("{:?}", c.ms(b"m", b"ab", &flags).unwrap()));
    }
    out.push(format!("{:?}", named(c.mg(b"m", &plain).unwrap())));
    out.push(format!(
        "{:?}",
        c.md(b"m", &MetaDeleteFlags::default()).unwrap()
    ));
    out.push(format!(
        "{:?}",
        c.md(b"m", &MetaDeleteFlags::default()).unwrap()
    ));
    out.push(format!("{:?}", named(c.mg(b"m", &plain).unwrap())));
    out
}

#[test]
fn client_meta_replies_are_the_same_on_both_servers() {
    let Some(pair) = pair() else { return };
    let real = meta_client_script(pair.real);
    let ours = meta_client_script(pair.ours.addr());
    assert_eq!(ours, real);
    // The lease sequence: W on the vivified item, Z after, EX/HD/NF, W again on the
    // written item.
    assert!(
        real[0].contains("won: true") && real[1].contains("token_sent: true"),
        "{real:?}"
    );
    assert_eq!(real[2..5], ["Exists", "Stored", "NotFound"]);
    assert!(
        real[5].contains("won: true") && real[6].contains("won: false"),
        "{real:?}"
    );
}

#[test]
fn connection_limit_refuses_with_memcached_error() {
    let store = Store::new(Settings::default(), ServerClock::wall()).unwrap();
    let options = Options::for_store(&store, 1, 1);
    let server = Background::start("127.0.0.1:0", Arc::new(Mutex::new(store)), options).unwrap();
    let mut first = Client::connect(server.addr()).unwrap();
    assert!(first.version().is_ok());
    let mut second = connect(server.addr());
    let mut reply = Vec::new();
    let _ = second.read_to_end(&mut reply);
    assert_eq!(reply, b"ERROR Too many open connections\r\n");
    drop(first);
    // The slot frees once the first connection is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = Client::connect(server.addr()).unwrap();
        if c.version().is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop().unwrap();
}

#[test]
fn seed_python_examples_pass_against_cachelab() {
    let Some(python) = common::python::python_with("the seed's Python examples", &["pymemcache"])
    else {
        return;
    };
    let server = start_cachelab();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/seed_examples.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(server.addr().to_string())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "seed_examples.py failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn look_aside_replay_through_the_server_equals_the_model() {
    use cachelab::memcached::model::policy::Memcached;
    use cachelab::policy::Policy;
    use cachelab::request::Request;
    use cachelab::trace::generate::{GenOptions, Generator};

    let mut generator = Generator::new(GenOptions {
        dist: "zipf:alpha=1.0".parse().expect("dist"),
        keys: 2_000,
        requests: 20_000,
        sizes: "uniform:min=100,max=10000".parse().expect("sizes"),
        seed: 7,
    })
    .expect("generator");
    let requests = cachelab::trace::read_all(&mut generator).expect("trace");
    let settings = Settings::memcached(4, 1.25, 48, 1 << 20).expect("settings");
    // The LRU reads the clock (HOT/WARM ages, compat's 60 s rule): server and model both
    // run at one fixed second, the server on a stopped clock, the model with every request
    // at time 0.
    let store = Store::new(settings.clone(), ServerClock::manual(0)).expect("store");
    let options = Options::for_store(&store, 16, 2);
    let server =
        Background::start("127.0.0.1:0", Arc::new(Mutex::new(store)), options).expect("server");
    let stats =
        cachelab::memcached::client::replay::replay(server.addr(), &requests, 1).expect("replay");
    let mut model = Memcached::new(settings).expect("model");
    let model_hits: u64 = requests
        .iter()
        .map(|r| u64::from(model.get(&Request { time: 0, ..*r }).hit))
        .sum();
    assert_eq!(stats.requests, 20_000);
    assert_eq!(
        stats.hits, model_hits,
        "server and in-process model must agree"
    );
    assert!(
        stats.hit_ratio() > 0.3 && stats.hit_ratio() < 0.95,
        "{stats:?}"
    );
}

/// `stats items` prints memcached's fields, in its order, for each LRU mode; `stats settings`
/// reports the mode as memcached does.
#[test]
fn lru_modes_report_stats_as_memcached() {
    if memcached_missing("the memcached server differential check") {
        return;
    }
    let script = b"set a 0 0 1\r\nx\r\nget a\r\nget a\r\nstats items\r\nstats settings\r\n";
    let lines = |replies: &[u8], prefix: &str| -> Vec<String> {
        String::from_utf8_lossy(replies)
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    };
    for (segmented, extra) in [(true, &[][..]), (false, &["-o", "no_lru_maintainer"][..])] {
        let (_memcached, real) = start_memcached_with(extra);
        let ours = start_cachelab_with(Settings {
            lru_segmented: segmented,
            ..Settings::default()
        });
        let (real, _) = exchange(real, script, Feed::Whole);
        let (ours, _) = exchange(ours.addr(), script, Feed::Whole);
        let names = |replies: &[u8]| -> Vec<String> {
            lines(replies, "STAT items:")
                .iter()
                .map(|l| l.split(' ').nth(1).unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(names(&ours), names(&real), "segmented {segmented}");
        for setting in [
            "lru_maintainer_thread",
            "lru_segmented",
            "hot_lru_pct",
            "warm_lru_pct",
            "hot_max_factor",
            "warm_max_factor",
        ] {
            let find =
                |replies: &[u8]| lines(replies, &format!("STAT {setting} ")).first().cloned();
            assert_eq!(find(&ours), find(&real), "segmented {segmented}");
        }
    }
}
