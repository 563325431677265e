//! What `cachelab bench` prints: its speed rows as an aligned text table, one line at a time
//! so that each row can be shown as soon as it is measured, and the engine-scaling line.
//!
//! The rows themselves are measured by [`crate::sim::speed`]; this file only formats them.

use crate::sim::speed::{Scaling, SpeedRow};

/// The table's header line (no newline): policy, capacity, millions of requests per second,
/// metadata bytes per object.
pub fn header() -> String {
    format!(
        "{:<34} {:>12} {:>12} {:>14}",
        "policy", "capacity", "Mreq/s", "bytes/object"
    )
}

/// One row of the table (no newline), aligned under [`header`]: speed in millions of
/// requests per second to 2 decimals, bytes per object to 1.
pub fn row(row: &SpeedRow) -> String {
    format!(
        "{:<34} {:>12} {:>12.2} {:>14.1}",
        row.policy,
        row.capacity,
        row.requests_per_second / 1e6,
        row.bytes_per_object
    )
}

/// The engine-scaling summary line (no newline): throughput on one thread and on many, in
/// millions of requests per second, and the speed-up.
pub fn scaling(scaling: &Scaling) -> String {
    format!(
        "engine, {} configurations: {:.1} M req/s on 1 thread, {:.1} M req/s on {} threads ({:.2}x)",
        scaling.configurations,
        scaling.one_thread / 1e6,
        scaling.many_threads / 1e6,
        scaling.threads,
        scaling.speedup()
    )
}

/// The whole table, header first, a line per row and the scaling line when there is one,
/// each ending in a newline: what `cachelab bench` prints, for callers that have every row.
pub fn render(rows: &[SpeedRow], scaling_result: Option<&Scaling>) -> String {
    let mut text = header();
    text.push('\n');
    for r in rows {
        text.push_str(&row(r));
        text.push('\n');
    }
    if let Some(s) = scaling_result {
        text.push_str(&scaling(s));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speed_row() -> SpeedRow {
        SpeedRow {
            policy: "lru".to_string(),
            capacity: 1000,
            requests: 10,
            requests_per_second: 12_345_678.0,
            bytes_per_object: 48.0,
            hits: 3,
        }
    }

    #[test]
    fn rows_align_under_the_header() {
        let header = header();
        let line = row(&speed_row());
        assert_eq!(header.len(), line.len());
        assert!(line.starts_with("lru "));
        let numbers = format!(" {:>12} {:>14}", "12.35", "48.0");
        assert!(line.ends_with(&numbers), "{line}");
    }

    #[test]
    fn render_is_header_rows_and_scaling() {
        let scaling = Scaling {
            configurations: 4,
            threads: 2,
            one_thread: 10e6,
            many_threads: 15e6,
        };
        let text = render(&[speed_row()], Some(&scaling));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[2],
            "engine, 4 configurations: 10.0 M req/s on 1 thread, 15.0 M req/s on 2 threads (1.50x)"
        );
        assert!(text.ends_with('\n'));
    }
}
