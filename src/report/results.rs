//! Tables of simulation results ([`ResultRow`]): every row as it was measured, and the
//! answer a reader looks for first — per cache size, the policy that wins and what it gains
//! over LRU.

use super::document::{Cell, Table};
use super::{JsonResultRow, ResultRow};
use crate::catalog::CATALOG;

/// A capacity in its unit: bytes shown in binary units, objects as a count.
fn capacity_cell(row: &ResultRow) -> Cell {
    if row.capacity_unit == "objects" {
        Cell::Count(row.capacity)
    } else {
        Cell::Bytes(row.capacity)
    }
}

fn hit_ratio(row: &ResultRow) -> Option<f64> {
    row.miss_ratio.map(|m| 1.0 - m)
}

/// Every row: trace, policy (short label), capacity, reads, hits, hit and miss ratios,
/// byte miss ratio and evictions. Ratios are given to 4 decimals.
pub fn results_table(rows: &[ResultRow]) -> Table {
    let objects = !rows.is_empty() && rows.iter().all(|r| r.capacity_unit == "objects");
    let mut table = Table::new(
        "results",
        "Every (trace, policy, size) simulated. Ratios count reads; byte ratios weigh them by size.",
        &[
            "trace",
            "policy",
            if objects {
                "capacity (objects)"
            } else {
                "capacity"
            },
            "requests",
            "hits",
            "hit ratio",
            "miss ratio",
            "byte miss ratio",
            "evictions",
        ],
    );
    for r in rows {
        table.push(vec![
            Cell::Text(r.trace.clone()),
            Cell::Text(CATALOG.short_label(&r.policy)),
            capacity_cell(r),
            Cell::Count(r.requests),
            Cell::Count(r.hits),
            Cell::ratio(hit_ratio(r)),
            Cell::ratio(r.miss_ratio),
            Cell::ratio(r.byte_miss_ratio),
            Cell::Count(r.evictions),
        ]);
    }
    table
}

/// The name of the baseline every other policy is compared with.
const BASELINE: &str = "lru";

/// True for policies that read the future (Belady): an offline bound to compare with,
/// never a winner a cache could run.
fn is_offline(policy: &str) -> bool {
    policy
        .parse::<crate::policy::PolicySpec>()
        .ok()
        .and_then(|spec| CATALOG.lookup(&spec.name).ok())
        .is_some_and(|info| info.needs_next_access)
}

/// The best policy at one cache size of one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Winner<'a> {
    /// The winner's row.
    pub row: &'a JsonResultRow,
    /// Its hit ratio.
    pub hit_ratio: f64,
    /// LRU's hit ratio at the same size, when LRU was simulated.
    pub lru: Option<f64>,
    /// The size as a share of the working set, when the run measured it.
    pub share: Option<f64>,
    /// The best hit ratio of an offline policy (Belady) at the same size, when one ran.
    pub offline: Option<f64>,
}

/// For one trace, per cache size (ascending), the online policy with the highest hit ratio
/// (ties go to the policy listed first), LRU's hit ratio there and the offline bound.
pub fn winners<'a>(rows: &'a [JsonResultRow], trace: &str) -> Vec<Winner<'a>> {
    let rows: Vec<&JsonResultRow> = rows.iter().filter(|r| r.row.trace == trace).collect();
    let mut capacities: Vec<u64> = rows.iter().map(|r| r.row.capacity).collect();
    capacities.sort_unstable();
    capacities.dedup();
    let mut out = Vec::new();
    for capacity in capacities {
        let at: Vec<&JsonResultRow> = rows
            .iter()
            .copied()
            .filter(|r| r.row.capacity == capacity)
            .collect();
        let mut best: Option<(&JsonResultRow, f64)> = None;
        let mut offline: Option<f64> = None;
        for r in &at {
            if is_offline(&r.row.policy) {
                if let Some(h) = hit_ratio(&r.row) {
                    offline = Some(offline.map_or(h, |o: f64| o.max(h)));
                }
                continue;
            }
            if let Some(h) = hit_ratio(&r.row)
                && best.is_none_or(|(_, b)| h > b)
            {
                best = Some((r, h));
            }
        }
        let Some((row, hit_ratio_best)) = best else {
            continue;
        };
        let lru = at
            .iter()
            .find(|r| CATALOG.short_label(&r.row.policy) == BASELINE)
            .and_then(|r| hit_ratio(&r.row));
        let share = row.working_set.and_then(|ws| {
            let units = if row.row.capacity_unit == "objects" {
                ws.objects
            } else {
                ws.bytes
            };
            (units > 0).then(|| capacity as f64 / units as f64)
        });
        out.push(Winner {
            row,
            hit_ratio: hit_ratio_best,
            lru,
            share,
            offline,
        });
    }
    out
}

/// One sentence with the answer: which policy wins most sizes, and its largest gain over
/// LRU, with the size where it happens.
pub fn headline(rows: &[JsonResultRow], trace: &str) -> Option<String> {
    let winners = winners(rows, trace);
    let mut counts: Vec<(String, usize)> = Vec::new();
    for w in &winners {
        let label = CATALOG.short_label(&w.row.row.policy);
        match counts.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => counts.push((label, 1)),
        }
    }
    // `max_by_key` keeps the last of equals; reversed, that is the first listed.
    let (top, wins) = counts.iter().rev().max_by_key(|(_, n)| *n)?;
    let mut text = format!(
        "On {trace}, {top} has the highest hit ratio at {wins} of {} sizes.",
        winners.len()
    );
    let biggest = winners
        .iter()
        .filter_map(|w| w.lru.map(|l| (w, w.hit_ratio - l)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((w, gain)) = biggest
        && gain > 0.0
    {
        let size = capacity_cell(&w.row.row).text();
        let share = w.share.map_or(String::new(), |s| {
            format!(" ({:.2}% of the working set)", 100.0 * s)
        });
        text.push_str(&format!(
            " The largest gain over LRU is {} at {size}{share}: hit ratio {:.4} against {:.4} (+{gain:.4}).",
            CATALOG.short_label(&w.row.row.policy),
            w.hit_ratio,
            w.hit_ratio - gain,
        ));
    }
    Some(text)
}

/// For one trace, one line per cache size: the size (and its share of the working set,
/// when the run measured it), the policy with the highest hit ratio there, its hit ratio
/// and byte hit ratio, LRU's hit ratio, and the winner's gain over LRU in hit-ratio points
/// and relative to LRU (see [`winners`]). `name` makes the table's file name unique in a
/// report.
pub fn winners_table(rows: &[JsonResultRow], trace: &str, name: &str) -> Table {
    let mut table = Table::new(
        name,
        format!(
            "The best policy at each size on {trace}, what it gains over LRU (hit ratio, higher is better), and the offline optimum no cache can beat."
        ),
        &[
            "cache size",
            "% of working set",
            "best policy",
            "hit ratio",
            "byte hit ratio",
            "LRU hit ratio",
            "gain over LRU",
            "relative gain",
            "offline bound (Belady)",
        ],
    );
    for w in winners(rows, trace) {
        table.push(vec![
            capacity_cell(&w.row.row),
            w.share.map_or(Cell::Missing, |s| Cell::Percent(s, 2)),
            Cell::Text(CATALOG.short_label(&w.row.row.policy)),
            Cell::Fixed(w.hit_ratio, 4),
            Cell::ratio(w.row.row.byte_miss_ratio.map(|m| 1.0 - m)),
            Cell::ratio(w.lru),
            w.lru
                .map_or(Cell::Missing, |l| Cell::Fixed(w.hit_ratio - l, 4)),
            w.lru
                .filter(|&l| l > 0.0)
                .map_or(Cell::Missing, |l| Cell::Percent(w.hit_ratio / l - 1.0, 1)),
            Cell::ratio(w.offline),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::WorkingSet;

    fn row(policy: &str, capacity: u64, hits: u64) -> JsonResultRow {
        JsonResultRow {
            row: ResultRow {
                trace: "t".into(),
                policy: policy.into(),
                capacity,
                capacity_unit: "bytes".into(),
                requests: 100,
                hits,
                misses: 100 - hits,
                miss_ratio: Some((100 - hits) as f64 / 100.0),
                byte_miss_ratio: Some(0.5),
                bytes_requested: 1000,
                bytes_missed: 500,
                evictions: 0,
                refused: 0,
            },
            details: None,
            working_set: Some(WorkingSet {
                requests: 100,
                objects: 10,
                bytes: 4096,
            }),
        }
    }

    #[test]
    fn winner_and_gain_over_lru_per_size() {
        let rows = [
            row("lru", 1024, 40),
            row("s3fifo", 1024, 50),
            row("lru", 2048, 70),
            row("fifo", 2048, 60),
        ];
        let t = winners_table(&rows, "t", "w");
        let text: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect();
        assert_eq!(
            text[0],
            [
                "1.0 KiB", "25.00%", "s3fifo", "0.5000", "0.5000", "0.4000", "0.1000", "25.0%", "-"
            ]
        );
        assert_eq!(text[1][2], "lru", "LRU wins where it is best");
        assert_eq!(text[1][6], "0.0000");
        assert_eq!(
            headline(&rows, "t").unwrap(),
            "On t, s3fifo has the highest hit ratio at 1 of 2 sizes. The largest gain over LRU is \
             s3fifo at 1.0 KiB (25.00% of the working set): hit ratio 0.5000 against 0.4000 (+0.1000)."
        );
    }
}
