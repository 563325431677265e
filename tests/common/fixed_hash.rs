//! A fixed hasher for the cache tests: keys get the same ids (and shards, and samples) in
//! every run, where the caches' default hasher is randomly seeded.

use std::hash::{BuildHasher, Hasher};

/// The odd multiplier [`Fixed`] mixes a key with.
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hashes a `u64` key to an odd multiple of itself (a bijection, so two keys never share an
/// id), the same in every run.
#[derive(Clone, Copy, Default)]
pub struct Fixed;

impl BuildHasher for Fixed {
    type Hasher = FixedHasher;
    fn build_hasher(&self) -> FixedHasher {
        FixedHasher(0)
    }
}

/// [`Fixed`]'s hasher: the last `u64` written (or the bytes written, packed), mixed.
pub struct FixedHasher(u64);

impl Hasher for FixedHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(MIX)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The id a `u64` key gets under [`Fixed`].
pub fn id_of(key: u64) -> u64 {
    key.wrapping_mul(MIX)
}
