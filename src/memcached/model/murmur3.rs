//! MurmurHash3 x86 32-bit: the hash memcached 1.6 uses by default (`hash_algorithm
//! murmur3`, for its hash table and `stats detail`'s prefix buckets) and pymemcache's
//! rendezvous placement uses for nodes. Here because both the store model and the cluster
//! placement need it, and the cluster depends on the model, not the other way.

/// MurmurHash3 x86 32-bit of `data` (Austin Appleby's `MurmurHash3_x86_32`, which
/// pymemcache's `murmur3_32` follows for ASCII text).
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xCC9E_2D51;
    const C2: u32 = 0x1B87_3593;
    let mix = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut hash = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        hash ^= mix(u32::from_le_bytes([block[0], block[1], block[2], block[3]]));
        hash = hash
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xE654_6B64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &byte| (k << 8) | u32::from(byte));
        hash ^= mix(k);
    }
    hash ^= data.len() as u32;
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85EB_CA6B);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xC2B2_AE35);
    hash ^ (hash >> 16)
}
