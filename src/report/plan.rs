//! A capacity plan ([`crate::plan::PlanDocument`]) for people and spreadsheets: the table
//! every renderer shows ([`plan_table`]), the terminal summary of `cachelab plan`
//! ([`summary`]) and the CSV rows of `-o` ([`csv_rows`]). All three are built from the
//! document's rows, so they agree.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::document::{Cell, Table};
use crate::plan::{PlanDocument, PlanRow, PlanStatus, RateSource};
use crate::units::format_bytes;

/// The plan's columns, in order.
const COLUMNS: [&str; 14] = [
    "target",
    "policy",
    "status",
    "cache size",
    "% of working set",
    "predicted hit ratio",
    "floor miss ratio",
    "memcached -m (MiB)",
    "hash table",
    "nodes",
    "node type",
    "cost / month",
    "origin req/s",
    "warm-up (s)",
];

/// The plan as a table: one row per target and policy, in the document's order (by
/// target, then policy as given). Numbers that do not apply are missing (`-`).
pub fn plan_table(doc: &PlanDocument) -> Table {
    let currency = doc.prices.as_ref().map(|p| p.currency.as_str());
    let mut columns: [&str; 14] = COLUMNS;
    let cost_heading = currency.map(|c| format!("cost / month ({c})"));
    if let Some(heading) = &cost_heading {
        columns[11] = heading;
    }
    let mut table = Table::new(
        "plan",
        format!(
            "What each policy needs for each target hit ratio on {}: the cache size (confirmed by simulation), memcached's memory, nodes, cost, origin load and warm-up.",
            doc.trace
        ),
        &columns,
    );
    for row in &doc.rows {
        table.push(vec![
            Cell::Fixed(row.target_hit_ratio, target_decimals(row.target_hit_ratio)),
            Cell::Text(row.policy.clone()),
            Cell::Text(row.status.as_str().to_string()),
            row.cache_bytes.map_or(Cell::Missing, Cell::Bytes),
            row.pct_of_working_set
                .map_or(Cell::Missing, |p| Cell::Percent(p / 100.0, 1)),
            Cell::ratio(row.predicted_hit_ratio),
            Cell::Fixed(row.floor_miss_ratio, 4),
            row.memcached_m_mib.map_or(Cell::Missing, Cell::Count),
            row.hash_table_bytes.map_or(Cell::Missing, Cell::Bytes),
            row.nodes.map_or(Cell::Missing, Cell::Count),
            row.node_type
                .as_ref()
                .map_or(Cell::Missing, |t| Cell::Text(t.clone())),
            row.monthly_cost
                .map_or(Cell::Missing, |c| Cell::Fixed(c, 2)),
            row.origin_requests_per_s
                .map_or(Cell::Missing, |r| Cell::Fixed(r, 1)),
            row.warmup_s.map_or(Cell::Missing, |s| Cell::Fixed(s, 1)),
        ]);
    }
    table
}

/// Decimals that show a target as typed: 0.9, 0.95, 0.995.
fn target_decimals(target: f64) -> usize {
    (1..=6)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            ((target * scale).round() / scale - target).abs() < 1e-12
        })
        .unwrap_or(6)
}

/// What `cachelab plan` prints: the trace and the assumptions, the table, then each row's
/// notes and the plan's.
pub fn summary(doc: &PlanDocument) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: {} requests, {} keys, working set {}",
        doc.trace,
        doc.requests,
        doc.working_set.objects,
        format_bytes(doc.working_set.bytes)
    );
    let rate = match (doc.request_rate_per_s, doc.rate_source) {
        (Some(r), Some(RateSource::Given)) => format!("{r:.1} requests/s (--rate)"),
        (Some(r), _) => format!("{r:.1} requests/s (the trace's timestamps)"),
        (None, _) => "none (pass --rate)".to_string(),
    };
    let nodes = match &doc.prices {
        Some(p) => format!(
            "the cheapest of {} node types in {}",
            p.node_types.len(),
            p.source
        ),
        None => format!(
            "{} with {:.0}% usable by memcached",
            format_bytes(doc.node.memory_bytes),
            doc.node.usable * 100.0
        ),
    };
    let _ = writeln!(text, "request rate {rate}; nodes: {nodes}");
    text.push('\n');
    text.push_str(&super::text::table(&plan_table(doc)));
    let noted: Vec<&PlanRow> = doc.rows.iter().filter(|r| !r.notes.is_empty()).collect();
    if !noted.is_empty() {
        text.push('\n');
        for row in noted {
            for note in &row.notes {
                let _ = writeln!(text, "[{} {}] {note}", row.target_hit_ratio, row.policy);
            }
        }
    }
    text
}

/// A [`PlanRow`] as one CSV record: the same fields, its notes joined by ` | `.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCsvRow {
    /// The trace's name.
    pub trace: String,
    /// The target hit ratio.
    pub target_hit_ratio: f64,
    /// The policy spec.
    pub policy: String,
    /// The curve's method.
    pub method: String,
    /// `ok`, `unreachable` or `beyond`.
    pub status: PlanStatus,
    /// The cache size in bytes.
    pub cache_bytes: Option<u64>,
    /// The cache size as a percentage of the working set's bytes.
    pub pct_of_working_set: Option<f64>,
    /// The simulated hit ratio at that size.
    pub predicted_hit_ratio: Option<f64>,
    /// The curve's hit ratio at that size.
    pub curve_hit_ratio: Option<f64>,
    /// Distinct keys over requests.
    pub floor_miss_ratio: f64,
    /// memcached's `-m` in MiB.
    pub memcached_m_mib: Option<u64>,
    /// Items held at most.
    pub items: Option<u64>,
    /// The hash table on one node, in bytes.
    pub hash_table_bytes: Option<u64>,
    /// Nodes.
    pub nodes: Option<u64>,
    /// The node type chosen.
    pub node_type: Option<String>,
    /// Each node's `-m` in MiB.
    pub node_m_mib: Option<u64>,
    /// Cost per month.
    pub monthly_cost: Option<f64>,
    /// Its currency.
    pub currency: Option<String>,
    /// Requests per second reaching the origin.
    pub origin_requests_per_s: Option<f64>,
    /// Requests until warm.
    pub warmup_requests: Option<u64>,
    /// Seconds until warm.
    pub warmup_s: Option<f64>,
    /// The row's notes.
    pub notes: String,
}

/// The document's rows as CSV records, in order.
pub fn csv_rows(doc: &PlanDocument) -> Vec<PlanCsvRow> {
    doc.rows
        .iter()
        .map(|r| PlanCsvRow {
            trace: doc.trace.clone(),
            target_hit_ratio: r.target_hit_ratio,
            policy: r.policy.clone(),
            method: r.method.clone(),
            status: r.status,
            cache_bytes: r.cache_bytes,
            pct_of_working_set: r.pct_of_working_set,
            predicted_hit_ratio: r.predicted_hit_ratio,
            curve_hit_ratio: r.curve_hit_ratio,
            floor_miss_ratio: r.floor_miss_ratio,
            memcached_m_mib: r.memcached_m_mib,
            items: r.items,
            hash_table_bytes: r.hash_table_bytes,
            nodes: r.nodes,
            node_type: r.node_type.clone(),
            node_m_mib: r.node_m_mib,
            monthly_cost: r.monthly_cost,
            currency: r.currency.clone(),
            origin_requests_per_s: r.origin_requests_per_s,
            warmup_requests: r.warmup_requests,
            warmup_s: r.warmup_s,
            notes: r.notes.join(" | "),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::NodeSummary;
    use crate::sim::WorkingSet;

    fn row(target: f64, policy: &str, status: PlanStatus) -> PlanRow {
        let ok = status == PlanStatus::Ok;
        PlanRow {
            target_hit_ratio: target,
            policy: policy.into(),
            method: "exact".into(),
            status,
            cache_bytes: ok.then_some(64 << 20),
            pct_of_working_set: ok.then_some(25.0),
            predicted_hit_ratio: ok.then_some(0.9512),
            curve_hit_ratio: ok.then_some(0.95),
            floor_miss_ratio: 0.02,
            memcached_m_mib: ok.then_some(80),
            items: ok.then_some(1000),
            hash_table_bytes: ok.then_some(512 << 10),
            nodes: ok.then_some(1),
            node_type: None,
            node_m_mib: ok.then_some(80),
            monthly_cost: None,
            currency: None,
            origin_requests_per_s: ok.then_some(97.6),
            warmup_requests: ok.then_some(5000),
            warmup_s: ok.then_some(0.25),
            notes: vec!["a note".into()],
        }
    }

    fn doc() -> PlanDocument {
        PlanDocument {
            kind: "plan".into(),
            trace: "t".into(),
            requests: 10_000,
            working_set: WorkingSet {
                requests: 10_000,
                objects: 200,
                bytes: 256 << 20,
            },
            request_rate_per_s: Some(2000.0),
            rate_source: Some(RateSource::Given),
            node: NodeSummary {
                memory_bytes: 64 << 30,
                usable: 0.85,
                usable_bytes: ((64u64 << 30) as f64 * 0.85) as u64,
            },
            prices: None,
            sample_rate: 1.0,
            rows: vec![
                row(0.95, "lru", PlanStatus::Ok),
                row(0.99, "lru", PlanStatus::Unreachable),
            ],
            notes: vec![],
        }
    }

    #[test]
    fn the_table_shows_every_row_with_missing_numbers_as_dashes() {
        let t = plan_table(&doc());
        assert_eq!(t.columns.len(), COLUMNS.len());
        let text = super::super::text::table(&t);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].trim_start().starts_with("0.95"), "{text}");
        assert!(
            lines[1].contains("64.0 MiB") && lines[1].contains("25.0%"),
            "{text}"
        );
        assert!(
            lines[2].contains("unreachable") && lines[2].contains(" - "),
            "{text}"
        );
    }

    #[test]
    fn targets_show_as_typed() {
        assert_eq!(target_decimals(0.9), 1);
        assert_eq!(target_decimals(0.95), 2);
        assert_eq!(target_decimals(0.995), 3);
    }

    #[test]
    fn csv_rows_carry_every_field_and_join_the_notes() {
        let rows = csv_rows(&doc());
        assert_eq!(rows[0].notes, "a note");
        assert_eq!(rows[1].cache_bytes, None);
    }
}
