//! Fuzzes the unit parsers (`cachelab::units`: sizes, cache sizes, durations, TTLs, rates,
//! percentages, warm-ups), the `key=value` grammar under each of its rule sets with every
//! typed getter of [`Param`].
//!
//! Each must give a value or an error naming the text; and what parses must make sense: a
//! cache size above zero, a resolved percentage of at least 1, a warm-up fraction below 1,
//! finite rates and percentages, and `format_duration_ns` output that renders.

#![no_main]

use cachelab::units::kv::{Grammar, KeyValues, Param};
use cachelab::units::{
    CacheSize, Warmup, format_duration_ns, parse_bytes, parse_duration_ns, parse_percent,
    parse_rate, parse_ttl,
};
use libfuzzer_sys::fuzz_target;

/// The rule sets callers use: strict (specs), CSV's `delim=,`, memcached's `-o`.
const GRAMMARS: [Grammar; 3] = [
    Grammar::STRICT,
    Grammar {
        comma_values: &["delim", "delimiter"],
        ..Grammar::STRICT
    },
    Grammar {
        flags: true,
        repeats: true,
        case_sensitive: true,
        comma_values: &[],
    },
];

fn getters(param: &Param<'_>) {
    let _ = param
        .f64_in(0.0, 1.0)
        .map(|v| assert!((0.0..=1.0).contains(&v)));
    let _ = param.finite_f64().map(|v| assert!(v.is_finite()));
    let _ = param
        .u64_in(1, 1000)
        .map(|v| assert!((1..=1000).contains(&v)));
    let _ = param.count();
    let _ = param
        .bytes_in(1, 1 << 40)
        .map(|v| assert!((1..=1 << 40).contains(&v)));
    let _ = param.duration_ns();
    let _ = param.bad("anything").to_string();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let _ = parse_bytes(text).map_err(|e| e.to_string());
    match text.parse::<CacheSize>() {
        Ok(CacheSize::Absolute(n)) => assert!(n > 0),
        Ok(size @ CacheSize::Percent(p)) => {
            assert!(p > 0.0 && p.is_finite(), "{p}");
            for ws in [0, 1, 1000, u64::MAX] {
                assert!(size.resolve(ws) >= 1);
            }
        }
        Err(e) => assert!(e.to_string().contains(&format!("{text:?}"))),
    }
    if let Ok(ns) = parse_duration_ns(text) {
        let _ = format_duration_ns(ns);
    }
    let _ = parse_ttl(text);
    if let Ok(rate) = parse_rate(text) {
        assert!(rate.is_finite() && rate >= 0.0, "rate {rate}");
    }
    if let Ok(pct) = parse_percent(text) {
        assert!(pct.is_finite(), "percent {pct}");
    }
    match text.parse::<Warmup>() {
        Ok(Warmup::Fraction(f)) => {
            assert!((0.0..1.0).contains(&f));
            assert!(Warmup::Fraction(f).requests(1_000_000) < 1_000_000);
        }
        Ok(w) => {
            let _ = w.requests(10);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    for grammar in GRAMMARS {
        match KeyValues::parse_with(text, grammar) {
            Ok(kv) => {
                let _ = kv.text();
                for item in kv.entries() {
                    assert!(!item.key.is_empty() || grammar.flags);
                    if let Some(value) = &item.value {
                        getters(&Param::new(&item.key, value));
                    }
                    let _ = kv.get(&item.key);
                }
                let keys: Vec<&str> = kv.entries().iter().map(|i| i.key.as_str()).collect();
                assert!(kv.check_keys(&keys).is_ok() || grammar.flags);
                let _ = kv.check_keys(&["a", "b"]).map_err(|e| e.reason());
            }
            Err(e) => {
                let _ = (e.to_string(), e.reason());
            }
        }
    }
    getters(&Param::new("fuzz", text));
});
