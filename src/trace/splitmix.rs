//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014): the bit-exact hash and tiny RNG that per-key sizes
//! ([`super::sizes`]) and the Zipf rank permutation ([`super::key_dist`]) derive their
//! seeds from, so a generated trace is the same on every machine. A leaf: it uses nothing
//! else in the crate.

use rand::RngCore;

/// SplitMix64's output function: a fast, well-mixed bijection on `u64` (Steele, Lea and
/// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 as an RNG: specified to the bit, so a key's size is the same on every machine,
/// and cheap to seed once per request (ChaCha would cost a block per key).
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }
}

impl RngCore for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let out = splitmix64(self.state);
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        out
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dst);
    }
}
