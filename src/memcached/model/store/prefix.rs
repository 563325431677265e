//! Per-prefix statistics: `stats detail on|off|dump` and the `-D` delimiter (memcached
//! 1.6.18's `stats_prefix.c`, and the `stats_prefix_record_*` calls of `proto_text.c`).
//!
//! A key's prefix is its bytes before the first delimiter (`:` unless `-D` says
//! otherwise); a key without the delimiter has no prefix and is not counted. While
//! collection is on, every key of `get`/`gets`/`gat`/`gats` counts a get (and a hit when it
//! was found), every storage command that reaches its item allocation a set (before the
//! allocation, so a too-large value counts too) and every `delete` a delete; meta commands,
//! `touch` and arithmetic count nothing, as in memcached.
//!
//! `dump` writes one `PREFIX <prefix> get <n> hit <n> set <n> del <n>` line per prefix and
//! `END`, in memcached's order: prefixes sit in 256 buckets by MurmurHash3 (x86, 32-bit,
//! seed 0: memcached's default `hash_algorithm`) of the prefix, buckets in order, the newest
//! prefix first within a bucket. memcached finds a prefix by comparing only the new key's
//! prefix length (`strncmp`), so a longer prefix already in the bucket (`foobar`) absorbs
//! a shorter one that hashes to the same bucket (`foo`); that quirk is kept. `stats reset`
//! forgets every prefix; turning collection off keeps what was counted.

use crate::memcached::model::murmur3::murmur3_32;

/// memcached's `PREFIX_HASH_SIZE`.
const BUCKETS: usize = 256;

/// memcached's default `-D`.
pub const DEFAULT_DELIMITER: u8 = b':';

/// One prefix's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    prefix: Vec<u8>,
    gets: u64,
    hits: u64,
    sets: u64,
    deletes: u64,
}

/// The per-prefix counters and whether they are being collected.
#[derive(Debug, Clone)]
pub struct PrefixStats {
    delimiter: u8,
    enabled: bool,
    /// Each bucket newest first, as memcached links new entries at the head.
    buckets: Vec<Vec<Entry>>,
}

impl Default for PrefixStats {
    fn default() -> PrefixStats {
        PrefixStats::new(DEFAULT_DELIMITER, false)
    }
}

impl PrefixStats {
    /// Empty counters with `delimiter`, collecting from the start when `enabled` (memcached
    /// turns collection on when `-D` is given).
    pub fn new(delimiter: u8, enabled: bool) -> PrefixStats {
        PrefixStats {
            delimiter,
            enabled,
            buckets: vec![Vec::new(); BUCKETS],
        }
    }

    /// The delimiter (`stat_key_prefix` in `stats settings`).
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Whether collection is on (`detail_enabled`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `stats detail on` / `off`.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Forgets every prefix (`stats reset`).
    pub fn clear(&mut self) {
        self.buckets.iter_mut().for_each(Vec::clear);
    }

    /// Counts a retrieval of `key` (a hit when `hit`), if collecting.
    pub fn record_get(&mut self, key: &[u8], hit: bool) {
        if let Some(e) = self.entry(key) {
            e.gets += 1;
            e.hits += u64::from(hit);
        }
    }

    /// Counts a storage command on `key`, if collecting.
    pub fn record_set(&mut self, key: &[u8]) {
        if let Some(e) = self.entry(key) {
            e.sets += 1;
        }
    }

    /// Counts a `delete` of `key`, if collecting.
    pub fn record_delete(&mut self, key: &[u8]) {
        if let Some(e) = self.entry(key) {
            e.deletes += 1;
        }
    }

    /// `stats detail dump`: the `PREFIX …` lines and `END`, each ending in `\r\n`.
    pub fn dump(&self, out: &mut Vec<u8>) {
        let mut n = itoa::Buffer::new();
        for e in self.buckets.iter().flatten() {
            out.extend_from_slice(b"PREFIX ");
            out.extend_from_slice(&e.prefix);
            for (label, value) in [
                (&b" get "[..], e.gets),
                (b" hit ", e.hits),
                (b" set ", e.sets),
                (b" del ", e.deletes),
            ] {
                out.extend_from_slice(label);
                out.extend_from_slice(n.format(value).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"END\r\n");
    }

    /// The entry for `key`'s prefix, created on first sight; `None` when not collecting or
    /// when the key has no delimiter (memcached's `stats_prefix_find`).
    fn entry(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if !self.enabled {
            return None;
        }
        // memcached scans up to a NUL byte too (its keys are C strings there).
        let len = key
            .iter()
            .take_while(|&&b| b != 0)
            .position(|&b| b == self.delimiter)?;
        let prefix = &key[..len];
        let bucket = &mut self.buckets[murmur3_32(prefix, 0) as usize % BUCKETS];
        // `strncmp(stored, key, len) == 0`: the stored prefix's first `len` bytes match and
        // it is not shorter (a shorter one would end in its NUL within `len` bytes).
        let found = bucket
            .iter()
            .position(|e| e.prefix.len() >= len && &e.prefix[..len] == prefix);
        let at = match found {
            Some(at) => at,
            None => {
                bucket.insert(
                    0,
                    Entry {
                        prefix: prefix.to_vec(),
                        gets: 0,
                        hits: 0,
                        sets: 0,
                        deletes: 0,
                    },
                );
                0
            }
        };
        Some(&mut bucket[at])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(p: &PrefixStats) -> String {
        let mut out = Vec::new();
        p.dump(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn counts_only_while_enabled_and_only_keys_with_the_delimiter() {
        let mut p = PrefixStats::default();
        p.record_set(b"foo:1");
        assert_eq!(dump(&p), "END\r\n");
        p.set_enabled(true);
        p.record_set(b"foo:1");
        p.record_get(b"foo:1", true);
        p.record_get(b"foo:2", false);
        p.record_delete(b"foo:3");
        p.record_get(b"nodelimiter", true);
        assert_eq!(dump(&p), "PREFIX foo get 2 hit 1 set 1 del 1\r\nEND\r\n");
        p.set_enabled(false);
        p.record_get(b"foo:1", true);
        assert_eq!(dump(&p), "PREFIX foo get 2 hit 1 set 1 del 1\r\nEND\r\n");
        p.clear();
        assert_eq!(dump(&p), "END\r\n");
    }

    #[test]
    fn an_empty_prefix_counts_and_the_delimiter_is_configurable() {
        let mut p = PrefixStats::new(b'-', true);
        p.record_set(b"-x");
        p.record_set(b"a:b");
        p.record_set(b"a-b-c");
        let text = dump(&p);
        assert!(
            text.contains("PREFIX  get 0 hit 0 set 1 del 0\r\n"),
            "{text}"
        );
        assert!(
            text.contains("PREFIX a get 0 hit 0 set 1 del 0\r\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn prefixes_come_out_in_hash_bucket_order() {
        let mut p = PrefixStats::new(b':', true);
        let names: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
        for n in &names {
            p.record_set(format!("{n}:k").as_bytes());
        }
        let text = dump(&p);
        let order: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("PREFIX "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let mut want: Vec<(usize, usize, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                // Newest first within a bucket: a later insertion sorts before.
                let bucket = murmur3_32(n.as_bytes(), 0) as usize % BUCKETS;
                (bucket, names.len() - i, n.as_str())
            })
            .collect();
        want.sort();
        let want: Vec<&str> = want.into_iter().map(|(_, _, n)| n).collect();
        assert_eq!(order, want);
    }

    #[test]
    fn a_longer_prefix_in_the_same_bucket_absorbs_a_shorter_one() {
        // Find two prefixes where one starts with the other and both hash alike.
        let base = b"ab".to_vec();
        let bucket = murmur3_32(&base, 0) as usize % BUCKETS;
        let longer = (0..100_000u32)
            .map(|i| format!("ab{i}").into_bytes())
            .find(|p| murmur3_32(p, 0) as usize % BUCKETS == bucket)
            .expect("some extension hashes to the same bucket");
        let mut p = PrefixStats::new(b':', true);
        let mut key = longer.clone();
        key.extend_from_slice(b":1");
        p.record_set(&key);
        p.record_get(b"ab:1", true);
        let want = format!(
            "PREFIX {} get 1 hit 1 set 1 del 0\r\nEND\r\n",
            String::from_utf8_lossy(&longer)
        );
        assert_eq!(dump(&p), want);
    }
}
