//! The memcached model's memory after a run ([`MemoryReport`]) as a table: per slab class,
//! chunk size, pages, chunks, items and the bytes lost to chunk rounding, with totals.

use super::document::{Cell, Table};
use crate::memcached::model::policy::MemoryReport;
use crate::policy::Details;

/// The memory report a policy's [`Details`] carries, when the policy is the memcached
/// model (`None` for other policies' details).
pub fn memory_report(details: &Details) -> Option<MemoryReport> {
    serde_json::from_value(details.data.clone()).ok()
}

/// One line per slab class with pages, then a totals line.
pub fn usage_table(memory: &MemoryReport, name: &str) -> Table {
    let mut table = Table::new(
        name,
        format!(
            "Slab classes after the run: {} of {} allocated, {} in items, {} lost to chunk rounding.",
            crate::units::format_bytes(memory.memory_malloced_bytes),
            crate::units::format_bytes(memory.memory_limit_bytes),
            crate::units::format_bytes(memory.item_bytes),
            crate::units::format_bytes(memory.waste_bytes),
        ),
        &[
            "class",
            "chunk size",
            "pages",
            "used chunks",
            "items",
            "requested",
            "waste",
            "waste %",
        ],
    );
    for c in &memory.classes {
        let held = u64::from(c.chunk_size_bytes) * c.used_chunks;
        table.push(vec![
            Cell::Count(u64::from(c.class)),
            Cell::Count(u64::from(c.chunk_size_bytes)),
            Cell::Count(u64::from(c.pages)),
            Cell::Count(c.used_chunks),
            Cell::Count(c.items),
            Cell::Count(c.requested_bytes),
            Cell::Count(c.waste_bytes),
            if held == 0 {
                Cell::Missing
            } else {
                Cell::Percent(c.waste_bytes as f64 / held as f64, 2)
            },
        ]);
    }
    table
}
