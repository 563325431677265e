//! Fuzzes the spec parsers: policy specs (`s3fifo:small=0.1`) with the catalog's check and
//! short labels, key distributions (`zipf:alpha=0.9`, `hotset:…`) and the key streams
//! built from them, size distributions and histograms, CSV options, contention strategies,
//! delays and backoffs, memcached's `-o` suboptions, miss-ratio-curve methods, and the
//! cluster specs (nodes, hashing, failures, joins, trace points, migration strategies).
//!
//! Every parser gets the same text; each must give a value or an error that renders, never
//! a panic or an unbounded allocation. A parsed policy spec must parse back from its own
//! text; a key stream over a small key space must stay inside it; sizes must fall inside
//! the distribution's range; a parsed curve method must parse back from its own text to
//! the same method.

#![no_main]

use cachelab::catalog::CATALOG;
use cachelab::cluster::migrate::Strategy as MigrationStrategy;
use cachelab::cluster::{FailureSpec, HashKind, JoinSpec, NodesSpec, TracePoint};
use cachelab::mrc::Method;
use cachelab::contention::{Backoff, Delay, Strategy};
use cachelab::memcached::Settings;
use cachelab::policy::spec::PolicySpec;
use cachelab::trace::CsvOptions;
use cachelab::trace::key_dist::{KeyDist, KeyPicker, KeyStream};
use cachelab::trace::sizes::{SizeDist, SizeHistogram};
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Key spaces small enough that any table built over them is cheap.
const KEYS: u64 = 1000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    match text.parse::<Method>() {
        Ok(method) => {
            let shown = method.to_string();
            let back: Method = shown.parse().expect("a method's own text parses");
            assert_eq!(back, method, "{shown} parses to another method");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(nodes) = text.parse::<NodesSpec>() {
        assert_eq!(nodes.memory.len(), nodes.names.len());
        assert!(!nodes.memory.is_empty() && nodes.memory.iter().all(|&m| m > 0));
    }
    let _ = text.parse::<HashKind>().map(|h| h.to_string());
    let _ = text.parse::<FailureSpec>();
    let _ = text.parse::<JoinSpec>();
    let _ = text.parse::<TracePoint>().map(|p| p.resolve(1_000_000));
    let _ = text.parse::<MigrationStrategy>().map(|s| s.to_string());

    match text.parse::<PolicySpec>() {
        Ok(spec) => {
            let again: PolicySpec = spec.text.parse().expect("a spec's own text parses");
            assert_eq!(again, spec, "a spec's text parses to another spec");
            match CATALOG.check(&spec) {
                Ok(info) => assert_eq!(info.name, spec.name),
                Err(e) => {
                    let _ = e.to_string();
                }
            }
            let _ = CATALOG.short_label(&spec.text);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = CATALOG.short_label(text);

    match text.parse::<KeyDist>() {
        Ok(dist) => {
            let _ = dist.shorthand();
            let shown = dist.to_string();
            if let Ok(back) = shown.parse::<KeyDist>() {
                let _ = back.to_string();
            }
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            if let Ok(mut stream) = KeyStream::new(&dist, KEYS, 7, &mut rng) {
                for index in 0..64 {
                    let key = stream.next_key(index, &mut rng);
                    assert!(key < KEYS, "{dist}: key {key} outside 0..{KEYS}");
                }
            }
            if KeyPicker::supports(&dist)
                && let Ok(picker) = KeyPicker::new(&dist, KEYS as u32)
            {
                for _ in 0..64 {
                    assert!(u64::from(picker.pick(&mut rng)) < KEYS);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // `histogram:<file>` reads a file: keep the fuzzer off the file system (the text
    // format is fuzzed through `SizeHistogram::parse` below).
    let reads_a_file = text.to_ascii_lowercase().contains("histogram");
    match (!reads_a_file).then(|| text.parse::<SizeDist>()) {
        None => {}
        Some(Ok(dist)) => {
            let _ = dist.to_string();
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            for key in 0..16 {
                let _ = dist.size_of(3, key);
                let _ = dist.sample(&mut rng);
            }
        }
        Some(Err(e)) => {
            let _ = e.to_string();
        }
    }
    match SizeHistogram::parse("fuzz-input", text) {
        Ok(histogram) => {
            let p = histogram.probabilities();
            let sum: f64 = p.iter().sum();
            assert!(p.iter().all(|x| (0.0..=1.0).contains(x)), "{p:?}");
            assert!((sum - 1.0).abs() < 1e-6 || p.is_empty(), "sum {sum}");
        }
        Err(e) => assert!(e.to_string().contains("fuzz-input"), "{e}"),
    }

    if let Err(e) = text.parse::<CsvOptions>() {
        let _ = e.to_string();
    }
    if let Err(e) = text.parse::<Strategy>() {
        let _ = e.to_string();
    }
    if let Err(e) = text.parse::<Delay>() {
        let _ = e.to_string();
    }
    if let Err(e) = text.parse::<Backoff>() {
        let _ = e.to_string();
    }
    if let Err(e) = Settings::default().apply_options(text) {
        let _ = e.to_string();
    }
});
