//! A cluster replay ([`ClusterResult`]) as a table: per node, its memory, load, hit ratio,
//! origin requests and what it holds, with a totals line.

use super::document::{Cell, Table};
use crate::cluster::ClusterResult;

/// One line per node, then the whole cluster. `name` makes the table's file name unique.
pub fn node_table(result: &ClusterResult, name: &str) -> Table {
    let mut table = Table::new(
        name,
        format!(
            "Per node, {} hashing: the share of reads each node serves and what it misses.",
            result.hash
        ),
        &[
            "node",
            "memory",
            "requests",
            "share of requests",
            "hit ratio",
            "origin requests",
            "evictions",
            "bytes used",
            "objects",
        ],
    );
    let total: u64 = result.nodes.iter().map(|n| n.requests).sum();
    let share = |requests: u64| {
        if total > 0 {
            Cell::Percent(requests as f64 / total as f64, 1)
        } else {
            Cell::Missing
        }
    };
    for n in &result.nodes {
        table.push(vec![
            Cell::Text(n.node.clone()),
            Cell::Bytes(n.memory),
            Cell::Count(n.requests),
            share(n.requests),
            Cell::ratio(n.hit_ratio),
            Cell::Count(n.origin_requests),
            Cell::Count(n.evictions),
            Cell::Bytes(n.bytes_used),
            Cell::Count(n.objects),
        ]);
    }
    let sum = |f: fn(&crate::cluster::replay::NodeRow) -> u64| -> u64 {
        result.nodes.iter().map(f).sum()
    };
    table.push(vec![
        Cell::Text("all".to_string()),
        Cell::Bytes(sum(|n| n.memory)),
        Cell::Count(total),
        share(total),
        Cell::ratio(result.hit_ratio()),
        Cell::Count(sum(|n| n.origin_requests)),
        Cell::Count(sum(|n| n.evictions)),
        Cell::Bytes(sum(|n| n.bytes_used)),
        Cell::Count(sum(|n| n.objects)),
    ]);
    table
}

/// The lines under the node table: imbalance, keys that would move, warm-up and the
/// hottest keys, as short sentences.
pub fn cluster_facts(r: &ClusterResult) -> Vec<String> {
    let ratio = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    let mut facts = vec![
        format!(
            "hit ratio {}, imbalance (busiest node over the mean) {}",
            ratio(r.hit_ratio()),
            ratio(r.imbalance())
        ),
        format!(
            "keys that would move: {:.1}% if a node joined, {:.1}% if node 1 left",
            100.0 * r.moved_if_added,
            100.0 * r.moved_if_removed
        ),
    ];
    if let Some(warm) = r.warm_hit_ratio() {
        let mut text = format!("warm hit ratio (second half of the windows) {warm:.4}; reached");
        for p in [0.9, 0.95, 0.99] {
            let at = r.warm_after(p).map_or("never".to_string(), |w| {
                format!("in window {} (time {})", w.window, w.time)
            });
            text.push_str(&format!(" {:.0}%: {at};", p * 100.0));
        }
        facts.push(text.trim_end_matches(';').to_string());
    }
    if !r.hottest.is_empty() {
        let keys: Vec<String> = r
            .hottest
            .iter()
            .map(|k| format!("{} ({} requests, {})", k.key, k.requests, k.node))
            .collect();
        facts.push(format!("hottest keys: {}", keys.join(", ")));
    }
    facts
}
