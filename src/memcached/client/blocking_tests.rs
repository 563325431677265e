//! Tests of `blocking.rs` (kept apart so the module itself stays short).
use std::sync::{Arc, Mutex};

use super::*;
use crate::memcached::server::{Background, Options};
use crate::memcached::{ServerClock, Settings, Store};

fn serve() -> Background {
    let store = Store::new(Settings::default(), ServerClock::wall()).expect("default store");
    let options = Options::for_store(&store, 16, 1);
    Background::start("127.0.0.1:0", Arc::new(Mutex::new(store)), options)
        .expect("cachelab server starts")
}

/// The lease sequence the contention experiment uses: `mg … N R` vivifies a missing
/// key for the first caller (`W`, empty value), the next caller sees `Z`; the winner's
/// `ms … C T` replaces the item, and the next `mg` wins again (the remaining TTL is
/// below `R`).
#[test]
fn meta_get_hands_out_one_win_token_until_the_item_is_replaced() {
    let server = serve();
    let mut c = Client::connect(server.addr()).unwrap();
    let lease = MetaGetFlags {
        value: true,
        cas: true,
        ttl: true,
        vivify: Some(100),
        recache: Some(101),
        ..MetaGetFlags::default()
    };
    let first = c.mg(b"n", &lease).unwrap().expect("vivified");
    assert_eq!(first.value.as_deref(), Some(&b""[..]));
    assert_eq!(
        (first.won, first.token_sent, first.stale),
        (true, false, false)
    );
    assert_eq!(first.ttl, Some(100));
    let second = c.mg(b"n", &lease).unwrap().expect("hit");
    assert_eq!((second.won, second.token_sent), (false, true));
    let cas = first.cas.expect("c was asked for");
    assert_eq!(second.cas, Some(cas));
    let write = |cas| MetaSetFlags {
        cas: Some(cas),
        ttl: Some(100),
        ..MetaSetFlags::default()
    };
    assert_eq!(
        c.ms(b"n", b"1", &write(cas + 1)).unwrap(),
        MetaStatus::Exists
    );
    assert_eq!(c.ms(b"n", b"1", &write(cas)).unwrap(), MetaStatus::Stored);
    assert_eq!(
        c.ms(b"gone", b"1", &write(cas)).unwrap(),
        MetaStatus::NotFound
    );
    let third = c.mg(b"n", &lease).unwrap().expect("hit");
    assert_eq!(third.value.as_deref(), Some(&b"1"[..]));
    assert!(third.won && !third.token_sent);
    assert_ne!(third.cas, Some(cas));
    // Without v the reply is HD; without N a miss is EN.
    let bare = MetaGetFlags {
        flags: true,
        ..MetaGetFlags::default()
    };
    let hd = c.mg(b"n", &bare).unwrap().expect("hit");
    assert_eq!((hd.value, hd.flags, hd.token_sent), (None, Some(0), true));
    assert_eq!(c.mg(b"missing", &bare).unwrap(), None);
}

#[test]
fn meta_set_modes_and_meta_delete_statuses() {
    let server = serve();
    let mut c = Client::connect(server.addr()).unwrap();
    let mode = |mode| MetaSetFlags {
        mode,
        client_flags: Some(7),
        ..MetaSetFlags::default()
    };
    assert_eq!(
        c.ms(b"k", b"a", &mode(MetaSetMode::Replace)).unwrap(),
        MetaStatus::NotStored
    );
    assert_eq!(
        c.ms(b"k", b"a", &mode(MetaSetMode::Add)).unwrap(),
        MetaStatus::Stored
    );
    assert_eq!(
        c.ms(b"k", b"x", &mode(MetaSetMode::Add)).unwrap(),
        MetaStatus::NotStored
    );
    assert_eq!(
        c.ms(b"k", b"b", &mode(MetaSetMode::Append)).unwrap(),
        MetaStatus::Stored
    );
    assert_eq!(
        c.ms(b"k", b"<", &mode(MetaSetMode::Prepend)).unwrap(),
        MetaStatus::Stored
    );
    let v = c.gets(b"k").unwrap().expect("hit");
    assert_eq!((v.data.as_slice(), v.flags), (&b"<ab"[..], 7));
    // Pipelined: a CAS-guarded md that misses, an invalidation, and a mg that sees it.
    let wrong = MetaDeleteFlags {
        cas: Some(v.cas + 1),
        ..MetaDeleteFlags::default()
    };
    let invalidate = MetaDeleteFlags {
        invalidate: true,
        ttl: Some(30),
        ..MetaDeleteFlags::default()
    };
    c.send_md(b"k", &wrong).unwrap();
    c.send_md(b"k", &invalidate).unwrap();
    c.send_mg(b"k", &MetaGetFlags::default()).unwrap();
    assert_eq!(c.recv_meta_status().unwrap(), MetaStatus::Exists);
    assert_eq!(c.recv_meta_status().unwrap(), MetaStatus::Stored);
    let stale = c.recv_mg().unwrap().expect("still there");
    assert!(stale.stale && stale.won);
    assert_eq!(
        c.md(b"k", &MetaDeleteFlags::default()).unwrap(),
        MetaStatus::Stored
    );
    assert_eq!(
        c.md(b"k", &MetaDeleteFlags::default()).unwrap(),
        MetaStatus::NotFound
    );
    assert!(matches!(
        c.mg(b"bad key", &MetaGetFlags::default()),
        Err(ClientError::InvalidKey(_))
    ));
}
