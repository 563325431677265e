//! `slabs reassign`, `slabs automove` and `cache_memlimit` (`doc/protocol.txt`, "Slab
//! Reassign", "Slabs Automove", "cache_memlimit"), with memcached 1.6.18's replies
//! (`proto_text.c`: `process_slabs_command`, `process_slabs_automove_command`,
//! `process_memlimit_command`).

use super::reply;
use crate::memcached::model::number::{strtol32, strtoul32};
use crate::memcached::model::store::Store;

/// The tokens after `slabs`. memcached counts a terminal empty token, so `slabs reassign
/// 1 2` is its 5 tokens and `slabs automove 1` its 4.
pub fn slabs(store: &mut Store, out: &mut Vec<u8>, args: &[Vec<u8>]) {
    let ntokens = args.len() + 2;
    let word = args.first().map(Vec::as_slice);
    if ntokens == 5 && word == Some(b"reassign") {
        if !store.settings().slab_reassign {
            reply(out, false, b"CLIENT_ERROR slab reassignment disabled");
            return;
        }
        let (Some(src), Some(dst)) = (strtol32(&args[1]), strtol32(&args[2])) else {
            reply(out, false, b"CLIENT_ERROR bad command line format");
            return;
        };
        let answer = store.slabs_reassign(src as i32, dst as i32);
        reply(out, false, answer.reply());
    } else if ntokens >= 4 && word == Some(b"automove") {
        let noreply = args.last().is_some_and(|t| t == b"noreply");
        if args[1] == b"ratio" {
            let ratio = args
                .get(2)
                .filter(|_| ntokens >= 5)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| t.parse::<f64>().ok());
            match ratio {
                Some(r) => store.set_automove_ratio(r),
                None => return reply(out, noreply, b"ERROR"),
            }
        } else {
            match strtoul32(&args[1]) {
                None => return reply(out, noreply, b"CLIENT_ERROR bad command line format"),
                Some(level @ 0..=2) => store.set_automove(level as u8),
                Some(_) => return reply(out, noreply, b"ERROR"),
            }
        }
        reply(out, noreply, b"OK");
    } else {
        reply(out, false, b"ERROR");
    }
}

/// `cache_memlimit <MiB>`: `OK`, or memcached's refusals (below 8 MiB, or a number that
/// looks like bytes).
pub fn memlimit(store: &mut Store, out: &mut Vec<u8>, limit: &[u8], noreply: bool) {
    let line: &[u8] = match strtoul32(limit) {
        None => b"ERROR",
        Some(m) if m < 8 => b"MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m",
        Some(m) if m > 1_000_000_000 => {
            b"MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes"
        }
        Some(m) => {
            store.adjust_mem_limit(u64::from(m) << 20);
            b"OK"
        }
    };
    reply(out, noreply, line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcached::{ServerClock, Settings};

    fn run(settings: Settings, lines: &[&[&str]]) -> Vec<String> {
        let mut store = Store::new(settings, ServerClock::manual(1_700_000_000)).unwrap();
        lines
            .iter()
            .map(|words| {
                let mut out = Vec::new();
                let (first, rest) = words.split_first().unwrap();
                let args: Vec<Vec<u8>> = rest.iter().map(|w| w.as_bytes().to_vec()).collect();
                if *first == "slabs" {
                    slabs(&mut store, &mut out, &args);
                } else {
                    memlimit(&mut store, &mut out, &args[0], false);
                }
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    #[test]
    fn replies_are_memcached_s() {
        let got = run(
            Settings::default(),
            &[
                &["slabs", "automove", "invalid"],
                &["slabs", "automove", "3"],
                &["slabs", "automove", "2"],
                &["slabs", "automove", "0", "noreply"],
                &["slabs", "automove", "ratio", "0.5"],
                &["slabs", "reassign", "invalid1", "invalid2"],
                &["slabs", "reassign", "1", "1"],
                &["slabs", "reassign", "1", "2"],
                &["slabs", "reassign", "1", "99"],
                &["slabs", "reassign", "-1", "2"],
                &["slabs", "reassign", "1"],
                &["slabs"],
                &["cache_memlimit", "4"],
                &["cache_memlimit", "2000000000"],
                &["cache_memlimit", "x"],
                &["cache_memlimit", "100"],
            ],
        );
        let want = [
            "CLIENT_ERROR bad command line format\r\n",
            "ERROR\r\n",
            "OK\r\n",
            "",
            "OK\r\n",
            "CLIENT_ERROR bad command line format\r\n",
            "SAME src and dst class are identical\r\n",
            "NOSPARE source class has no spare pages\r\n",
            "BADCLASS invalid src or dst class id\r\n",
            // No class has two pages: pick_any finds none.
            "BADCLASS invalid src or dst class id\r\n",
            "ERROR\r\n",
            "ERROR\r\n",
            "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n",
            "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n",
            "ERROR\r\n",
            "OK\r\n",
        ];
        assert_eq!(got, want);
        let off = Settings {
            slab_reassign: false,
            ..Settings::default()
        };
        assert_eq!(
            run(off, &[&["slabs", "reassign", "1", "2"]]),
            ["CLIENT_ERROR slab reassignment disabled\r\n"]
        );
    }
}
