//! Heap bytes per cached object of each policy at a full, large cache: 1,000,000 objects of
//! size 1 after a stream of 3,000,000 reads over 2,000,000 keys (so ghosts fill too).
//!
//! ```text
//! cargo run --release --example heap_per_object
//! ```

use cachelab::catalog::CATALOG;
use cachelab::request::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for info in CATALOG.rows() {
        let mut policy = CATALOG.build(&info.name.parse()?, 1_000_000, 0)?;
        let mut x = 1u64;
        for _ in 0..3_000_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            policy.get(&Request::get((x >> 33) % 2_000_000, 1));
        }
        println!(
            "{:8} {:6.1} bytes/object ({} objects)",
            info.name,
            policy.heap_bytes() as f64 / policy.len() as f64,
            policy.len()
        );
    }
    Ok(())
}
