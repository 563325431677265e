//! Fuzzes the memcached server's whole text path without a socket: frames parsed by
//! `protocol::parse` are applied to a `Store` by `wire::cmd::apply`, exactly as a
//! connection does (a too-large block skipped, the pipeline window released every 21
//! frames), with a manual clock that moves one second per frame so that expiry, `flush_all`
//! delays and `touch`/`gat` are reached. The first byte picks the LRU (segmented or compat)
//! and whether CAS ids are kept; memory is 4 MiB so that evictions happen.
//!
//! Checked: no panic; a `Close` frame writes nothing more; the store's accounting stays
//! inside its limit (`malloced` within `-m` plus one page per slab class, memcached's
//! minimum).

#![no_main]

use cachelab::memcached::model::store::Store;
use cachelab::memcached::wire::cmd::{Flow, apply};
use cachelab::memcached::wire::protocol::{Command, Frame, Limits, Parse, parse};
use cachelab::memcached::{ServerClock, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&options, buf)) = data.split_first() else {
        return;
    };
    let mut settings = Settings {
        max_bytes: 4 << 20,
        ..Settings::default()
    };
    settings.lru_segmented = options & 1 == 0;
    settings.use_cas = options & 2 == 0;
    let clock = ServerClock::manual(1_000);
    let Ok(mut store) = Store::new(settings, clock.clone()) else {
        return;
    };
    let limits = Limits {
        item_size_max: store.settings().item_size_max as usize,
        max_get_line: 4096,
        buffer_max: usize::MAX,
    };
    let mut out = Vec::new();
    let mut at = 0;
    let mut served = 0;
    while at < buf.len() {
        let Parse::Frame { frame, consumed } = parse(&buf[at..], &limits) else {
            break;
        };
        at += consumed;
        if let Frame::Command(Command::TooLarge { skip, .. }) = &frame {
            at = at.saturating_add(*skip).min(buf.len());
        }
        let before = out.len();
        let flow = apply(&frame, &mut store, &mut out);
        served += 1;
        if served % 21 == 0 {
            store.release_held();
        }
        clock.advance(1);
        match flow {
            Flow::Continue => {}
            Flow::Quit => break,
            Flow::Close => {
                assert_eq!(out.len(), before, "a close wrote a reply");
                break;
            }
        }
    }
    store.release_held();
    let classes = store.classes().classes().len() as u64;
    let page = u64::from(store.settings().slab_page_size);
    assert!(
        store.malloced() <= store.settings().max_bytes.max(classes * page) + classes * page,
        "malloced {} over -m {}",
        store.malloced(),
        store.settings().max_bytes
    );
});
