//! Results as an aligned text table for the terminal.

use super::ResultRow;
use crate::catalog::CATALOG;

/// A ratio to 4 decimals, or `-` when there was nothing to divide by.
fn ratio_cell(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_string(), |r| format!("{r:.4}"))
}

/// Renders rows as a table with a header, policies by their short labels
/// ([`crate::policy::Registry::short_label`]), numbers right-aligned, ratios to 4 decimals
/// (`-` where no read was counted).
pub fn render(rows: &[ResultRow]) -> String {
    let header = [
        "trace",
        "policy",
        "capacity",
        "unit",
        "requests",
        "hits",
        "miss_ratio",
        "byte_miss",
        "evictions",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.trace.clone(),
                CATALOG.short_label(&r.policy),
                r.capacity.to_string(),
                r.capacity_unit.to_string(),
                r.requests.to_string(),
                r.hits.to_string(),
                ratio_cell(r.miss_ratio),
                ratio_cell(r.byte_miss_ratio),
                r.evictions.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[&str]| {
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            if i < 2 {
                out.push_str(&format!("{cell:<w$}"));
            } else {
                out.push_str(&format!("{cell:>w$}"));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header);
    for row in &cells {
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &refs);
    }
    out
}
