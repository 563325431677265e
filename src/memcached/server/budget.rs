//! [`ReadBudget`]: the bytes every connection's read buffer may hold beyond its first
//! [`BASE`], shared by the whole server, so that unfinished reads cannot take more memory
//! than `-m` allows however many connections hold them.
//!
//! memcached reads a storage command's data block straight into the item it allocated from
//! the slab memory (`-m`), so an unfinished `set` costs memory `-m` already bounds, and when
//! no item can be had it answers `SERVER_ERROR out of memory storing object` and swallows
//! the data (`process_update_command`, `conn_swallow`). Our connections buffer the whole
//! frame before parsing it, so without a bound `-c` connections each holding a declared but
//! unfinished `-I` value took `-c` × `-I` bytes. Here every byte a read buffer holds past
//! [`BASE`] is charged to one budget (by default as large as `-m`); a connection that cannot
//! charge the frame it waits for refuses it as memcached does and skips its data, and a
//! connection gives its bytes back (and shrinks its buffer) as soon as the frame is served
//! or it closes. `stats` reports the totals as memcached's `read_buf_bytes` and
//! `read_buf_oom`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes of read buffer every connection may hold without charging the budget: one read's
/// worth, what a connection of small commands ever needs.
pub const BASE: usize = 16 * 1024;

/// The server-wide budget for read buffers beyond `BASE` per connection.
#[derive(Debug)]
pub struct ReadBudget {
    limit: usize,
    /// Bytes charged now (beyond each connection's base).
    charged: AtomicUsize,
    /// Bytes of base buffers now (one [`BASE`] per open connection).
    base: AtomicUsize,
    /// Frames refused, or connections closed, because the budget was spent.
    refused: AtomicU64,
}

impl ReadBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> ReadBudget {
        ReadBudget {
            limit,
            charged: AtomicUsize::new(0),
            base: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Charges `bytes` if the budget has room for them; false (and nothing charged) if not.
    pub fn try_charge(&self, bytes: usize) -> bool {
        self.charged
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    /// Gives back `bytes` charged earlier.
    pub fn release(&self, bytes: usize) {
        self.charged.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Counts a connection's base buffer in or out of [`ReadBudget::bytes`].
    pub fn count_base(&self, open: bool) {
        if open {
            self.base.fetch_add(BASE, Ordering::Relaxed);
        } else {
            self.base.fetch_sub(BASE, Ordering::Relaxed);
        }
    }

    /// Counts a refusal (`read_buf_oom`).
    pub fn count_refusal(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes charged beyond the base buffers: what unfinished reads hold now.
    pub fn charged(&self) -> usize {
        self.charged.load(Ordering::Acquire)
    }

    /// Bytes the read buffers hold now, base buffers included (`read_buf_bytes`).
    pub fn bytes(&self) -> usize {
        self.base.load(Ordering::Relaxed) + self.charged()
    }

    /// Frames refused and connections closed for want of budget (`read_buf_oom`).
    pub fn refusals(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit_and_gives_back() {
        let budget = ReadBudget::new(100);
        assert!(budget.try_charge(60));
        assert!(!budget.try_charge(41));
        assert!(budget.try_charge(40));
        assert!(!budget.try_charge(1));
        budget.release(60);
        assert_eq!(budget.charged(), 40);
        assert!(!budget.try_charge(usize::MAX));
        budget.count_base(true);
        assert_eq!(budget.bytes(), 40 + BASE);
    }
}
