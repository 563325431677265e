//! memcached's LRU crawler and `watch` in cachelab: hand-worked cases on a manual clock
//! (what a crawl reclaims and counts, `metadump`'s lines and order, when the maintainer
//! schedules its own crawls), the exact replies of every `lru_crawler` subcommand, the
//! `watch` log lines another connection's commands produce, and the same `lru_crawler`
//! replies from a real memcached 1.6.18.
//!
//! The real-memcached comparison needs the `memcached` binary: without it, it fails under
//! `CI=true` and otherwise says loudly that it did not run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cachelab::memcached::model::store::{CrawlScope, WatchMask};
use cachelab::memcached::server::{Background, Options};
use cachelab::memcached::wire::cmd::{self, Flow};
use cachelab::memcached::wire::protocol::{Limits, Parse, parse};
use cachelab::memcached::{ServerClock, Settings, Store};

mod common;
use common::memcached_missing;

const T0: u64 = 1_700_000_000;

/// A store on a manual clock at [`T0`].
fn store(settings: Settings) -> (Store, ServerClock) {
    let clock = ServerClock::manual(T0);
    (Store::new(settings, clock.clone()).unwrap(), clock)
}

/// Compat mode: one LRU per class and no maintainer, so nothing moves but what a test does.
fn compat() -> Settings {
    Settings {
        lru_segmented: false,
        ..Settings::default()
    }
}

fn stat(rows: &[(String, String)], name: &str) -> Option<String> {
    rows.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// Runs a script through the wire layer (parse, then apply) and returns the replies.
fn replies(store: &mut Store, script: &[u8]) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    while let Parse::Frame { frame, consumed } = parse(&script[at..], &Limits::default()) {
        at += consumed;
        if cmd::apply(&frame, store, &mut out) != Flow::Continue {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn a_crawl_reclaims_expired_and_flushed_items_and_counts_them() {
    let (mut s, clock) = store(compat());
    s.set(b"immortal", b"v", 0, 0).unwrap();
    s.set(b"short", b"v", 0, 1).unwrap();
    s.set(b"edge", b"v", 0, 2).unwrap();
    s.set(b"long", b"v", 0, 3600).unwrap();
    clock.advance(2);
    // At T0+2: `short` expired at T0+1 (reclaimed); `edge` expires at T0+2 and the crawler
    // compares strictly (`exptime < now`), so it stays although a get would miss it.
    assert_eq!(s.crawl(&CrawlScope::Classes(vec![1])), Ok(()));
    let items = s.stats_items();
    assert_eq!(
        stat(&items, "items:1:crawler_reclaimed").as_deref(),
        Some("1")
    );
    assert_eq!(
        stat(&items, "items:1:crawler_items_checked").as_deref(),
        Some("4")
    );
    assert_eq!(stat(&items, "items:1:number").as_deref(), Some("3"));
    let general = s.stats();
    assert_eq!(stat(&general, "expired_unfetched").as_deref(), Some("1"));
    assert_eq!(stat(&general, "crawler_reclaimed").as_deref(), Some("1"));
    assert_eq!(stat(&general, "lru_crawler_starts").as_deref(), Some("1"));
    assert_eq!(stat(&general, "lru_crawler_running").as_deref(), Some("0"));
    // A flush covers everything older: the next crawl takes the other three, and a flushed
    // item does not count as expired unfetched.
    clock.advance(1);
    s.flush_all(0);
    clock.advance(1);
    assert_eq!(s.crawl(&CrawlScope::All), Ok(()));
    assert!(s.is_empty());
    let general = s.stats();
    assert_eq!(stat(&general, "crawler_reclaimed").as_deref(), Some("4"));
    assert_eq!(
        stat(&general, "crawler_items_checked").as_deref(),
        Some("7")
    );
    assert_eq!(stat(&general, "expired_unfetched").as_deref(), Some("1"));
    assert_eq!(stat(&general, "lru_crawler_starts").as_deref(), Some("2"));
    // `stats reset` zeroes the crawler's counters too.
    s.reset_stats();
    assert_eq!(stat(&s.stats(), "crawler_reclaimed").as_deref(), Some("0"));
}

#[test]
fn tocrawl_limits_each_lru_from_its_tail() {
    let (mut s, clock) = store(compat());
    for key in ["a", "b", "c"] {
        s.set(key.as_bytes(), b"v", 0, 1).unwrap();
    }
    clock.advance(5);
    assert_eq!(
        replies(&mut s, b"lru_crawler tocrawl 2\r\nlru_crawler crawl 1\r\n"),
        "OK\r\nOK\r\n"
    );
    // The two oldest (the tail) went; `c`, at the head, was not reached.
    assert!(s.peek(b"c").is_none() && s.len() == 1);
    let items = s.stats_items();
    assert_eq!(
        stat(&items, "items:1:crawler_items_checked").as_deref(),
        Some("2")
    );
}

#[test]
fn metadump_prints_memcached_lines_in_the_crawlers_order() {
    let (mut s, clock) = store(compat());
    s.set(b"k 1", b"x", 5, 0).unwrap(); // class 1, cas 1
    s.set(b"big", &[b'y'; 200], 0, 100).unwrap(); // class 6 (262 of 304 bytes), cas 2
    s.set(b"k2", b"xy", 0, 0).unwrap(); // class 1, cas 3
    s.set(b"gone", b"z", 0, 1).unwrap(); // class 1, cas 4, expired below
    clock.advance(2);
    assert!(s.get(b"k2").unwrap().is_some());
    // One item of each class's list in turn, each list from its tail: `k 1` (class 1),
    // `big` (class 6), then `k2`; `gone` has expired and is skipped. Sizes are
    // `ITEM_ntotal`: 48 + key + 1 + value + 2 + 8 (CAS) + 4 when flags are set.
    let want = format!(
        "key=k%201 exp=-1 la={T0} cas=1 fetch=no cls=1 size=67\n\
         key=big exp={} la={T0} cas=2 fetch=no cls=6 size=262\n\
         key=k2 exp=-1 la={T0} cas=3 fetch=yes cls=1 size=63\n\
         END\r\n",
        T0 + 100
    );
    assert_eq!(replies(&mut s, b"lru_crawler metadump all\r\n"), want);
    assert_eq!(
        replies(&mut s, b"lru_crawler metadump 6\r\n"),
        want.lines().nth(1).unwrap().to_string() + "\nEND\r\n"
    );
    // The hash walk lists the same live items (in the table's order) and still skips the
    // expired one.
    let hash = replies(&mut s, b"lru_crawler metadump hash\r\n");
    let mut lines: Vec<&str> = hash.lines().collect();
    assert_eq!(lines.pop(), Some("END"));
    lines.sort_unstable();
    let mut all: Vec<&str> = want.lines().filter(|l| *l != "END").collect();
    all.sort_unstable();
    assert_eq!(lines, all);
    // A metadump examines items (and counts them) but reclaims nothing.
    assert_eq!(s.len(), 4);
    let items = s.stats_items();
    assert_eq!(
        stat(&items, "items:1:crawler_reclaimed").as_deref(),
        Some("0")
    );
}

#[test]
fn lru_crawler_subcommands_reply_as_memcached() {
    let (mut s, _) = store(compat());
    let script = b"lru_crawler crawl 0\r\nlru_crawler crawl 64\r\nlru_crawler crawl 1,x\r\n\
lru_crawler crawl ,\r\nlru_crawler crawl hash\r\nlru_crawler metadump ,\r\n\
lru_crawler sleep 2000000\r\nlru_crawler sleep x\r\nlru_crawler sleep 1000000\r\n\
lru_crawler tocrawl x\r\nlru_crawler tocrawl 7\r\nlru_crawler enable\r\nlru_crawler foo\r\n\
lru_crawler\r\nlru_crawler crawl\r\nlru_crawler crawl 1 2\r\nlru_crawler crawl 63\r\n\
lru_crawler disable\r\nlru_crawler disable\r\nlru_crawler crawl 1\r\n\
lru_crawler metadump all\r\nlru_crawler enable\r\nlru_crawler crawl 1,2\r\n";
    let want = "BADCLASS invalid class id\r\nBADCLASS invalid class id\r\n\
BADCLASS invalid class id\r\nNOTSTARTED no items to crawl\r\n\
ERROR an unknown error happened\r\n\
ERROR cannot pipeline other commands before metadump\r\n\
CLIENT_ERROR sleep must be one second or less\r\nCLIENT_ERROR bad command line format\r\nOK\r\n\
CLIENT_ERROR bad command line format\r\nOK\r\nERROR failed to start lru crawler thread\r\n\
ERROR\r\nERROR\r\nERROR\r\nERROR\r\nOK\r\nOK\r\nOK\r\n\
CLIENT_ERROR lru crawler disabled\r\nCLIENT_ERROR lru crawler disabled\r\nOK\r\nOK\r\n";
    assert_eq!(replies(&mut s, script), want);
    // Alone (nothing stacked before it), an empty class list starts nothing.
    assert_eq!(
        replies(&mut s, b"lru_crawler metadump ,\r\n"),
        "NOTSTARTED no items to crawl\r\n"
    );
    let settings = s.stats_settings();
    assert_eq!(stat(&settings, "lru_crawler").as_deref(), Some("yes"));
    assert_eq!(
        stat(&settings, "lru_crawler_sleep").as_deref(),
        Some("1000000")
    );
    assert_eq!(stat(&settings, "lru_crawler_tocrawl").as_deref(), Some("7"));
}

#[test]
fn crawler_suboptions_parse_as_memcached_takes_them() {
    let mut s = Settings::default();
    s.apply_options("no_lru_crawler,lru_crawler_sleep=50,lru_crawler_tocrawl=9,temporary_ttl=61,watcher_logbuf_size=8,worker_logbuf_size=2")
        .unwrap();
    assert!(!s.lru_crawler);
    assert_eq!(
        (s.lru_crawler_sleep, s.lru_crawler_tocrawl, s.temporary_ttl),
        (50, 9, Some(61))
    );
    assert_eq!((s.watcher_logbuf_size, s.worker_logbuf_size), (8192, 2048));
    s.apply_options("lru_crawler").unwrap();
    assert!(s.lru_crawler);
    let mut m = Settings::default();
    m.apply_options("no_modern").unwrap();
    assert!(!m.lru_crawler && !m.lru_segmented);
    assert_eq!(m.slab_chunk_max, m.slab_page_size);
    // `atoi` reads these: no digits is 0, trailing bytes are ignored.
    let mut a = Settings::default();
    a.apply_options("lru_crawler_sleep=x,temporary_ttl=30s")
        .unwrap();
    assert_eq!((a.lru_crawler_sleep, a.temporary_ttl), (0, Some(30)));
    for bad in [
        "lru_crawler_sleep=1000001",
        "lru_crawler_sleep=-1",
        "lru_crawler_tocrawl=x",
        "watcher_logbuf_size",
    ] {
        assert!(Settings::default().apply_options(bad).is_err(), "{bad}");
    }
    let (st, _) = store(Settings {
        temporary_ttl: Some(61),
        ..Settings::default()
    });
    let rows = st.stats_settings();
    assert_eq!(stat(&rows, "temp_lru").as_deref(), Some("yes"));
    assert_eq!(
        stat(&rows, "watcher_logbuf_size").as_deref(),
        Some("262144")
    );
}

#[test]
fn the_maintainer_reclaims_expired_items_in_the_background() {
    // lru-maintainer.t: ten items with a one-second TTL, nobody touches them, three
    // seconds later `stats` shows them reclaimed. The maintainer's juggle finds them at
    // HOT's tail on the first tick after they expired.
    let (mut s, clock) = store(Settings::default());
    for i in 0..10 {
        s.set(format!("ifoo{i}").as_bytes(), b"ok", 0, 1).unwrap();
    }
    clock.advance(3);
    s.maintain();
    assert_eq!(stat(&s.stats(), "reclaimed").as_deref(), Some("10"));
    assert!(s.is_empty());
}

#[test]
fn the_maintainer_schedules_crawls_from_what_the_last_one_saw() {
    // T0: the first tick juggles the lone item from HOT to COLD (HOT holds more than 20%
    // of the class), then crawls every LRU (none was ever crawled): start 1. T0+1: each
    // crawl's result sets its LRU's next crawl. Empty LRUs saw nothing expiring: wait 60,
    // next at T0+66. Class 1's COLD saw one item expiring within the hour, not more than
    // the 1% watermark (1): its wait stays 0, next at T0+6. So T0+7 crawls again.
    let (mut s, clock) = store(Settings::default());
    s.set(b"soon", b"v", 0, 600).unwrap();
    let starts = |s: &Store| stat(&s.stats(), "lru_crawler_starts").unwrap();
    s.maintain();
    assert_eq!(starts(&s), "1");
    s.maintain(); // the same second: nothing
    assert_eq!(starts(&s), "1");
    for _ in 1..=6 {
        clock.advance(1);
        s.maintain();
    }
    assert_eq!(starts(&s), "1", "no crawl before T0+7");
    clock.advance(1);
    s.maintain();
    assert_eq!(starts(&s), "2");
    // Without the maintainer (compat mode) nothing runs in the background.
    let (mut c, clock) = store(compat());
    c.set(b"x", b"v", 0, 1).unwrap();
    clock.advance(5);
    c.maintain();
    assert_eq!(c.len(), 1);
    assert_eq!(stat(&c.stats(), "lru_crawler_starts").as_deref(), Some("0"));
}

// ---- over TCP ---------------------------------------------------------------------------

fn server(settings: Settings) -> Background {
    let store = Store::new(settings, ServerClock::wall()).unwrap();
    let options = Options::for_store(&store, 64, 2);
    Background::start("127.0.0.1:0", Arc::new(Mutex::new(store)), options).unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Writes `script`, then reads until the reply ends with `end`.
fn ask(stream: &mut TcpStream, script: &[u8], end: &str) -> String {
    stream.write_all(script).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end.as_bytes()) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// The fields of a `watch` line after `ts=… gid=…`.
fn body(line: &str) -> String {
    let mut words = line.trim_end_matches('\n').splitn(3, ' ');
    let ts = words.next().unwrap();
    let gid = words.next().unwrap();
    assert!(
        ts.starts_with("ts=") && ts[3..].split_once('.').is_some(),
        "{line}"
    );
    assert!(
        gid.starts_with("gid=") && gid[4..].parse::<u64>().is_ok(),
        "{line}"
    );
    words.next().unwrap().to_string()
}

#[test]
fn watchers_see_other_connections_fetches_and_stores() {
    let server = server(Settings::default());
    let mut watcher = BufReader::new(connect(server.addr()));
    watcher
        .get_mut()
        .write_all(b"watch fetchers mutations\n")
        .unwrap();
    let mut line = String::new();
    watcher.read_line(&mut line).unwrap();
    assert_eq!(line, "OK\r\n");
    let mut client = connect(server.addr());
    let mut stats = connect(server.addr());
    assert!(ask(&mut stats, b"stats\r\n", "END\r\n").contains("STAT log_watchers 1\r\n"));
    assert_eq!(
        ask(&mut client, b"set v/foo 0 0 4\r\nvbar\r\n", "\r\n"),
        "STORED\r\n"
    );
    assert_eq!(
        ask(&mut client, b"get v/foo\r\n", "END\r\n"),
        "VALUE v/foo 0 4\r\nvbar\r\nEND\r\n"
    );
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        watcher.read_line(&mut l).unwrap();
        assert!(l.ends_with('\n') && !l.ends_with("\r\n"), "{l:?}");
        lines.push(body(&l));
    }
    // The set's own lookup, the store, the get: memcached's order and fields. The key is
    // URI-encoded; `cfd` is the client's descriptor on the server, the same in all three.
    let cfd = lines[0]
        .rsplit_once("cfd=")
        .unwrap()
        .1
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        lines,
        [
            format!("type=item_get key=v%2Ffoo status=not_found clsid=0 cfd={cfd} size=0"),
            format!(
                "type=item_store key=v%2Ffoo status=stored cmd=set ttl=0 clsid=1 cfd={cfd} size=4"
            ),
            format!("type=item_get key=v%2Ffoo status=found clsid=1 cfd={cfd} size=4"),
        ]
    );
    drop(watcher);
    // The watcher is gone once its connection closes.
    let mut gone = false;
    for _ in 0..100 {
        if ask(&mut stats, b"stats\r\n", "END\r\n").contains("STAT log_watchers 0\r\n") {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone, "the closed watcher is still counted");
}

#[test]
fn watch_and_metadump_refuse_stacked_replies_but_not_after_a_get() {
    let server = server(Settings::default());
    let mut c = connect(server.addr());
    assert_eq!(
        ask(
            &mut c,
            b"mg foo v\r\nlru_crawler metadump all\r\n",
            "metadump\r\n"
        ),
        "EN\r\nERROR cannot pipeline other commands before metadump\r\n"
    );
    assert_eq!(
        ask(&mut c, b"mn\r\nlru_crawler metadump all\r\n", "END\r\n"),
        "MN\r\nEND\r\n"
    );
    assert_eq!(ask(&mut c, b"watch bogus\r\n", "\r\n"), "ERROR\r\n");
    // A get makes memcached write what it holds, so the watch is not pipelined.
    assert_eq!(
        ask(&mut c, b"get a\r\nwatch\r\n", "OK\r\n"),
        "END\r\nOK\r\n"
    );
}

#[test]
fn evictions_are_logged_with_memcached_fields() {
    let server = server(Settings {
        max_bytes: 2 << 20,
        item_size_max: 512 << 10,
        ..Settings::default()
    });
    let mut watcher = BufReader::new(connect(server.addr()));
    watcher.get_mut().write_all(b"watch evictions\r\n").unwrap();
    let mut line = String::new();
    watcher.read_line(&mut line).unwrap();
    assert_eq!(line, "OK\r\n");
    let mut client = connect(server.addr());
    let value = vec![b'B'; 11_000];
    let mut script = Vec::new();
    for i in 0..400 {
        script.extend_from_slice(format!("set n,foo{i} 0 0 11000 noreply\r\n").as_bytes());
        script.extend_from_slice(&value);
        script.extend_from_slice(b"\r\n");
    }
    script.extend_from_slice(b"version\r\n");
    ask(&mut client, &script, "\r\n");
    line.clear();
    watcher.read_line(&mut line).unwrap();
    let b = body(&line);
    // The oldest item goes first; never fetched, no TTL.
    assert!(
        b.starts_with("type=eviction key=n%2Cfoo0 fetch=no ttl=-1 la="),
        "{b}"
    );
    assert!(b.ends_with(" size=11000"), "{b}");
}

#[test]
fn lru_crawler_replies_match_a_real_memcached() {
    if memcached_missing("the lru_crawler comparison with a real memcached") {
        return;
    }
    // Replies that do not depend on the crawler thread's timing: errors, settings, and
    // one crawl last (after which memcached is BUSY for a moment).
    let script = b"lru_crawler crawl 0\r\nlru_crawler crawl 64\r\nlru_crawler crawl 1,x\r\n\
lru_crawler sleep 2000000\r\nlru_crawler sleep x\r\nlru_crawler sleep 100\r\n\
lru_crawler tocrawl x\r\nlru_crawler tocrawl 0\r\nlru_crawler enable\r\nlru_crawler foo\r\n\
lru_crawler\r\nlru_crawler crawl\r\nmg foo v\r\nlru_crawler metadump all\r\n\
set a%b 5 0 1\r\nx\r\nget a%b\r\nlru_crawler crawl 1\r\nversion\r\n";
    let (_mc, real) = common::start_memcached(&["-m", "64"]);
    let ours = server(Settings::default());
    let mut a = connect(real);
    let mut b = connect(ours.addr());
    let theirs = ask(&mut a, script, "\r\nVERSION 1.6.18\r\n");
    let mine = ask(&mut b, script, "\r\nVERSION 1.6.18-cachelab\r\n");
    assert_eq!(
        mine.trim_end_matches("VERSION 1.6.18-cachelab\r\n"),
        theirs.trim_end_matches("VERSION 1.6.18\r\n")
    );
    // A metadump line of the same item, once memcached's crawler is idle again.
    std::thread::sleep(Duration::from_millis(300));
    let theirs = ask(&mut a, b"lru_crawler metadump 1\r\n", "END\r\n");
    let mine = ask(&mut b, b"lru_crawler metadump 1\r\n", "END\r\n");
    let strip_la = |s: &str| {
        s.split(' ')
            .filter(|w| !w.starts_with("la="))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(strip_la(&mine), strip_la(&theirs));
    assert!(mine.starts_with("key=a%25b exp=-1 la="), "{mine}");
}

#[test]
fn a_watcher_that_falls_behind_gets_a_skipped_line() {
    // A 1 KiB queue holds 8 item_get lines for a 8-byte key (`ts=T0.0 gid=N
    // type=item_get key=… status=not_found clsid=0 cfd=0 size=0\n`, 85 to 86 bytes) and a
    // few more: lines past it are counted, not queued. Once the queue is drained, the next
    // line comes after `skipped=N`.
    let (mut s, _) = store(Settings {
        watcher_logbuf_size: 1024,
        ..compat()
    });
    let id = s.watch_add(WatchMask {
        fetchers: true,
        ..WatchMask::default()
    });
    for i in 0..20 {
        assert!(s.get(format!("missing{i}").as_bytes()).unwrap().is_none());
    }
    let mut out = Vec::new();
    assert!(s.watch_take(id, &mut out));
    let text = String::from_utf8(out).unwrap();
    let queued = text.lines().count();
    assert!(
        text.len() <= 1024 && text.len() + 87 > 1024,
        "{}",
        text.len()
    );
    assert!(
        text.lines()
            .all(|l| l.contains(" type=item_get key=missing"))
    );
    assert!(s.get(b"again").unwrap().is_none());
    let mut out = Vec::new();
    s.watch_take(id, &mut out);
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("skipped={}", 20 - queued).as_str())
    );
    let last = lines.next().unwrap();
    assert!(
        last.starts_with(&format!(
            "ts={T0}.0 gid=21 type=item_get key=again status=not_found"
        )),
        "{last}"
    );
    s.watch_remove(id);
    assert_eq!(s.log_watchers(), 0);
    assert!(!s.watch_take(id, &mut Vec::new()));
}

#[test]
fn temporary_ttl_items_live_in_temp_and_are_never_evicted() {
    // lru-maintainer.t's TEMP_LRU case, scaled down: with `-o temporary_ttl=61` an item
    // with 30 s to live goes to TEMP (not HOT), stays there through hits, and survives a
    // flood of longer-lived items of its class that evicts from COLD.
    let settings = Settings {
        max_bytes: 2 << 20,
        item_size_max: 512 << 10,
        temporary_ttl: Some(61),
        ..Settings::default()
    };
    settings.validate().unwrap();
    let (mut s, clock) = store(settings);
    let value = vec![b'B'; 66_560];
    s.set(b"canary", &value, 0, 30).unwrap();
    let items = s.stats_items();
    let class = items
        .iter()
        .find(|(n, v)| n.ends_with(":number_temp") && v == "1")
        .map(|(n, _)| n.split(':').nth(1).unwrap().to_string())
        .expect("one class with one TEMP item");
    let row = |s: &Store, f: &str| stat(&s.stats_items(), &format!("items:{class}:{f}"));
    assert_eq!(row(&s, "number_hot").as_deref(), Some("0"));
    assert!(s.get(b"canary").unwrap().is_some() && s.get(b"canary").unwrap().is_some());
    assert_eq!(row(&s, "hits_to_temp").as_deref(), Some("2"));
    for i in 0..100 {
        s.set(format!("key{i}").as_bytes(), &value, 0, 3600)
            .unwrap();
        clock.advance(0);
    }
    assert_ne!(row(&s, "evictions").as_deref(), Some("0"));
    assert_eq!(row(&s, "number_temp").as_deref(), Some("1"));
    assert!(s.get(b"canary").unwrap().is_some());
    s.validate().unwrap();
    // Once it expires, the maintainer reclaims it from TEMP's tail.
    clock.advance(31);
    s.maintain();
    assert_eq!(row(&s, "number_temp").as_deref(), Some("0"));
    // memcached refuses TEMP without its maintainer.
    let flat = Settings {
        lru_segmented: false,
        temporary_ttl: Some(61),
        ..Settings::default()
    };
    assert!(flat.validate().is_err());
}

/// The `watch fetchers mutations` lines a fixed client script produces on `addr`, without
/// `ts=… gid=…` and with `cfd=` blanked (descriptors differ between servers).
fn watch_lines(addr: SocketAddr) -> Vec<String> {
    let mut watcher = BufReader::new(connect(addr));
    watcher
        .get_mut()
        .write_all(b"watch mutations fetchers\r\n")
        .unwrap();
    let mut line = String::new();
    watcher.read_line(&mut line).unwrap();
    assert_eq!(line, "OK\r\n");
    let mut client = connect(addr);
    let steps: [(&[u8], &str); 10] = [
        (b"set k 0 0 5\r\nhello\r\n", "\r\n"),
        (b"add k 0 50 3\r\nabc\r\n", "\r\n"),
        (b"replace no%key 0 0 2\r\nxy\r\n", "\r\n"),
        (b"cas k 0 0 1 999\r\nz\r\n", "\r\n"),
        (b"append k 0 0 2\r\nzz\r\n", "\r\n"),
        (b"prepend k 5 0 2\r\nzz\r\n", "\r\n"),
        (b"touch k 10\r\n", "\r\n"),
        (b"incr k 1\r\n", "\r\n"),
        (b"delete k\r\n", "\r\n"),
        (b"gets k\r\n", "END\r\n"),
    ];
    for (step, end) in steps {
        ask(&mut client, step, end);
    }
    // The set's own lookup misses first; the `gets` miss is the last line.
    let mut lines = Vec::new();
    let mut misses = 0;
    loop {
        let mut l = String::new();
        watcher.read_line(&mut l).unwrap();
        let b = body(&l);
        let cfd = b
            .split(' ')
            .find(|w| w.starts_with("cfd="))
            .unwrap()
            .to_string();
        lines.push(b.replace(&cfd, "cfd=N"));
        if lines
            .last()
            .unwrap()
            .starts_with("type=item_get key=k status=not_found")
        {
            misses += 1;
            if misses == 2 {
                return lines;
            }
        }
    }
}

#[test]
fn watch_lines_match_a_real_memcached() {
    if memcached_missing("the watch comparison with a real memcached") {
        return;
    }
    let (_mc, real) = common::start_memcached(&["-m", "64"]);
    let ours = server(Settings::default());
    let theirs = watch_lines(real);
    assert_eq!(watch_lines(ours.addr()), theirs);
    assert_eq!(theirs.len(), 16, "{theirs:#?}");
}
