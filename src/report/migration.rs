//! A migration run ([`MigrationRow`]s of every strategy) as a summary table: per strategy,
//! the hit ratio before and after the switch, the worst window after it, what the origin
//! absorbed and when the old cluster can be retired.

use super::chart::{AxisUnit, LineChart, Series};
use super::document::{Cell, Table};
use crate::cluster::migrate::{Migration, MigrationRow, Strategy, retire_after};

/// The strategies of a run, in the order they first appear.
pub fn strategies(rows: &[MigrationRow]) -> Vec<Strategy> {
    let mut out = Vec::new();
    for r in rows {
        if !out.contains(&r.strategy) {
            out.push(r.strategy);
        }
    }
    out
}

fn ratio(hits: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| hits as f64 / requests as f64)
}

/// One line per strategy. `name` makes the table's file name unique.
pub fn summary_table(rows: &[MigrationRow], name: &str) -> Table {
    let mut table = Table::new(
        name,
        "Per strategy: hit ratio before and after the switch, the worst window after it, reads the origin served, and the window from which the old cluster serves under 1% of reads for good.",
        &[
            "strategy",
            "hit ratio before",
            "hit ratio after",
            "worst window after",
            "origin requests",
            "peak origin (window)",
            "retire at window",
        ],
    );
    for strategy in strategies(rows) {
        let lane: Vec<MigrationRow> = rows
            .iter()
            .filter(|r| r.strategy == strategy)
            .cloned()
            .collect();
        let switch = lane.iter().find(|r| r.switch).map(|r| r.window);
        let (before, after): (Vec<&MigrationRow>, Vec<&MigrationRow>) = lane
            .iter()
            .partition(|r| switch.is_none_or(|s| r.window < s));
        let total = |part: &[&MigrationRow]| {
            ratio(
                part.iter().map(|r| r.hits).sum(),
                part.iter().map(|r| r.requests).sum(),
            )
        };
        let worst = after
            .iter()
            .filter_map(|r| r.hit_ratio)
            .fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.min(h))));
        let peak = after.iter().map(|r| r.origin_requests).max();
        table.push(vec![
            Cell::Text(strategy.name().to_string()),
            Cell::ratio(total(&before)),
            Cell::ratio(total(&after)),
            Cell::ratio(worst),
            Cell::Count(lane.iter().map(|r| r.origin_requests).sum()),
            peak.map_or(Cell::Missing, Cell::Count),
            switch
                .and_then(|s| retire_after(&lane, s))
                .map_or(Cell::Text("never".into()), Cell::Count),
        ]);
    }
    table
}

/// The runs of a migration, one per strategy, rebuilt from its rows (as `migrate --json`
/// writes them), with the window each could retire the old cluster.
pub fn runs_from_rows(rows: &[MigrationRow]) -> Vec<Migration> {
    strategies(rows)
        .into_iter()
        .map(|strategy| {
            let windows: Vec<MigrationRow> = rows
                .iter()
                .filter(|r| r.strategy == strategy)
                .cloned()
                .collect();
            let retire_window = windows
                .iter()
                .find(|r| r.switch)
                .and_then(|r| retire_after(&windows, r.window));
            Migration {
                strategy,
                windows,
                retire_window,
            }
        })
        .collect()
}

/// The marks of a migration chart: where the clusters are warm (the first window whose hit
/// ratio reaches 95% of the best before the switch), the switch, and the window from which
/// each strategy could retire the old cluster.
fn migration_marks(runs: &[Migration]) -> Vec<(f64, String)> {
    let mut marks = Vec::new();
    let Some(first) = runs.first() else {
        return marks;
    };
    let before: Vec<&MigrationRow> = first.windows.iter().take_while(|w| !w.switch).collect();
    let best = before
        .iter()
        .filter_map(|w| w.hit_ratio)
        .fold(0.0, f64::max);
    if best > 0.0
        && let Some(w) = before
            .iter()
            .find(|w| w.hit_ratio.is_some_and(|h| h >= 0.95 * best))
    {
        marks.push((w.window as f64, "warm (95%)".to_string()));
    }
    if let Some(w) = first.windows.iter().find(|w| w.switch) {
        marks.push((w.window as f64, "switch".to_string()));
    }
    // One mark per retire window, naming every strategy that retires there.
    let mut retire: Vec<(u64, Vec<&str>)> = Vec::new();
    for run in runs {
        if let Some(w) = run.retire_window {
            match retire.iter_mut().find(|(at, _)| *at == w) {
                Some((_, names)) => names.push(run.strategy.name()),
                None => retire.push((w, vec![run.strategy.name()])),
            }
        }
    }
    for (w, names) in retire {
        marks.push((w as f64, format!("retire old: {}", names.join(", "))));
    }
    marks
}

/// Hit ratio per window, one line per strategy, warm-up, switch and retirement marked.
pub fn hit_ratio_chart(runs: &[Migration], trace: &str) -> LineChart {
    per_window(
        runs,
        format!("Migration on {trace}: hit ratio"),
        "hit ratio",
        AxisUnit::Percent,
        |w| w.hit_ratio,
    )
}

/// Origin requests per window, one line per strategy, the same marks.
pub fn origin_chart(runs: &[Migration], trace: &str) -> LineChart {
    per_window(
        runs,
        format!("Migration on {trace}: requests to the origin"),
        "origin requests per window",
        AxisUnit::Plain,
        |w| Some(w.origin_requests as f64),
    )
}

/// One value per window, one line per strategy, with [`migration_marks`].
fn per_window(
    runs: &[Migration],
    title: String,
    y_label: &str,
    y_unit: AxisUnit,
    value: impl Fn(&MigrationRow) -> Option<f64>,
) -> LineChart {
    let mut chart = LineChart::new(title, "window", y_label)
        .x_unit(AxisUnit::Count)
        .y_unit(y_unit)
        .extend_series(runs.iter().map(|m| {
            Series::new(
                m.strategy.name(),
                m.windows
                    .iter()
                    .filter_map(|w| value(w).map(|v| (w.window as f64, v)))
                    .collect(),
            )
        }));
    for (x, label) in migration_marks(runs) {
        chart = chart.mark(x, label);
    }
    chart
}
