//! The contention experiments' rows ([`ContentionRow`]) as a table: per strategy and client
//! count, what was lost, what the CAS loop cost, throughput and latency.

use super::chart::{AxisUnit, Dash, LineChart, Series};
use super::document::{Cell, Table};
use crate::contention::result::ContentionRow;

/// One line per run: mode, strategy, backoff, clients, expected and final totals, lost
/// updates (count and fraction), CAS failures (count and per update), retries, throughput,
/// p50/p99 latency and Jain's fairness index. `name` makes the table's file name unique.
/// When a row stands for repeated runs (`--repeat`), four more columns give the runs and
/// the min–max of lost updates, CAS failures per update and throughput (the row's own
/// numbers are then the median run's).
pub fn contention_table(rows: &[ContentionRow], name: &str) -> Table {
    let repeated = rows.iter().any(|r| r.runs > 1);
    let mut headers = vec![
        "mode",
        "strategy",
        "backoff",
        "clients",
        "expected",
        "final",
        "lost",
        "lost fraction",
        "CAS failures",
        "failures/update",
        "retries (mean)",
        "retries (max)",
        "updates/s",
        "p50 µs",
        "p99 µs",
        "fairness",
    ];
    if repeated {
        headers.extend([
            "runs",
            "lost (min–max)",
            "failures/update (min–max)",
            "updates/s (min–max)",
        ]);
    }
    let mut table = Table::new(
        name,
        "One counter, many clients. Lost updates are what naive get+set loses; CAS failures are EXISTS replies that forced a retry.",
        &headers,
    );
    for r in rows {
        let mut cells = vec![
            Cell::Text(r.mode.name().to_string()),
            Cell::Text(r.strategy.clone()),
            Cell::Text(r.backoff.clone()),
            Cell::Count(u64::from(r.clients)),
            Cell::Count(r.expected),
            Cell::Count(r.final_total),
            Cell::Int(r.lost_updates),
            if r.expected > 0 {
                Cell::Fixed(r.lost_updates as f64 / r.expected as f64, 4)
            } else {
                Cell::Missing
            },
            Cell::Count(r.cas_failures),
            Cell::Fixed(r.cas_failures_per_update, 3),
            Cell::Fixed(r.retries_mean, 3),
            Cell::Count(r.retries_max),
            Cell::Fixed(r.throughput_per_s, 0),
            Cell::Fixed(r.latency_p50_us, 1),
            Cell::Fixed(r.latency_p99_us, 1),
            Cell::Fixed(r.fairness, 4),
        ];
        if repeated {
            let range = |lo: String, hi: String| Cell::Text(format!("{lo}–{hi}"));
            let lost = |x: Option<i64>| x.unwrap_or(r.lost_updates).to_string();
            let cas = |x: Option<f64>| format!("{:.3}", x.unwrap_or(r.cas_failures_per_update));
            let rate = |x: Option<f64>| format!("{:.0}", x.unwrap_or(r.throughput_per_s));
            cells.extend([
                Cell::Count(u64::from(r.runs)),
                range(lost(r.lost_updates_min), lost(r.lost_updates_max)),
                range(
                    cas(r.cas_failures_per_update_min),
                    cas(r.cas_failures_per_update_max),
                ),
                range(rate(r.throughput_per_s_min), rate(r.throughput_per_s_max)),
            ]);
        }
        table.push(cells);
    }
    table
}

/// The answer in one paragraph: at the largest client count, what naive get+set lost and
/// what the CAS loop paid for not losing it.
pub fn describe(rows: &[ContentionRow]) -> String {
    let Some(most) = rows.iter().map(|r| r.clients).max() else {
        return "No runs.".to_string();
    };
    let at = |strategy: &str| {
        rows.iter()
            .find(|r| r.clients == most && r.strategy == strategy)
    };
    let mut parts = vec![format!("With {most} clients")];
    if let Some(r) = at("naive")
        && r.expected > 0
    {
        parts.push(format!(
            "naive get+set lost {} of {} updates ({:.1}%)",
            r.lost_updates,
            r.expected,
            100.0 * r.lost_updates as f64 / r.expected as f64
        ));
    }
    if let Some(r) = at("cas") {
        parts.push(format!(
            "gets/cas lost {} but met {:.3} CAS failures per update (p99 latency {:.1} µs)",
            r.lost_updates, r.cas_failures_per_update, r.latency_p99_us
        ));
    }
    if let Some(r) = at("incr") {
        parts.push(format!(
            "incr lost {} at {:.0} updates/s",
            r.lost_updates, r.throughput_per_s
        ));
    }
    let mut text = parts.join("; ");
    text.push('.');
    if let Some(r) = rows.first()
        && let Some(rtt) = &r.rtt_dist
    {
        text.push_str(&format!(
            " Simulated network delay per round trip {rtt}, service time {}, think time {}.",
            r.service_dist.as_deref().unwrap_or("-"),
            r.think_dist
        ));
        if let Some(p) = r.rtt_persistence.filter(|&p| p > 0.0) {
            text.push_str(&format!(
                " A client's round trip repeats its previous one with probability {p:.3} (delays persist, as on a busy machine)."
            ));
        }
        if rtt.starts_with("loopback-net") {
            text.push_str(
                " Both delays are sampled (seeded) from the histograms cachelab bundles, measured \
                 from memcached 1.6.18 over 127.0.0.1.",
            );
        }
    } else if let Some(order) = rows
        .iter()
        .find(|r| r.clients == most)
        .and_then(|r| r.serving_order.as_deref())
    {
        text.push_str(&format!(
            " Simulated by replaying the order in which a live server served {most} \
             connections at once, as calibration measured it ({order})."
        ));
    }
    text
}

/// The four charts of a sweep, as (file stem, chart), against clients (whole numbers on a
/// log axis), one line per strategy (and backoff, when several were swept) in the order
/// strategies first appear: the fraction of the expected total lost, CAS failures per
/// update, throughput, and update latency (p99 solid, p50 dotted, per strategy).
pub fn charts(rows: &[ContentionRow]) -> Vec<(&'static str, LineChart)> {
    type Metric = fn(&ContentionRow) -> f64;
    let metrics: [(&str, &str, &str, AxisUnit, Metric); 3] = [
        (
            "lost_updates",
            "Lost updates",
            "lost / expected total",
            AxisUnit::Percent,
            lost_fraction,
        ),
        (
            "cas_failures",
            "CAS failures per update",
            "EXISTS replies per update",
            AxisUnit::Plain,
            |r| r.cas_failures_per_update,
        ),
        (
            "throughput",
            "Throughput",
            "updates/s",
            AxisUnit::Plain,
            |r| r.throughput_per_s,
        ),
    ];
    let names = chart_series_names(rows);
    let mode = rows.first().map_or("sim", |r| r.mode.name());
    let base = |title: &str, y_label: &str| {
        LineChart::new(
            format!("{title} against clients ({mode})"),
            "clients",
            y_label,
        )
        .log_x()
        .x_unit(AxisUnit::Count)
    };
    let mut out: Vec<(&'static str, LineChart)> = metrics
        .iter()
        .map(|&(stem, title, y_label, unit, metric)| {
            let chart = base(title, y_label).y_unit(unit).extend_series(
                names
                    .iter()
                    .map(|name| Series::new(name.clone(), client_points(rows, name, metric))),
            );
            (stem, chart)
        })
        .collect();
    let latency = base("Update latency", "latency (p99 solid, p50 dotted)")
        .y_unit(AxisUnit::Seconds)
        .extend_series(names.iter().flat_map(|name| {
            [
                Series::new(
                    format!("{name} p99"),
                    client_points(rows, name, |r| r.latency_p99_us / 1e6),
                )
                .dash(Dash::Solid),
                Series::new(
                    format!("{name} p50"),
                    client_points(rows, name, |r| r.latency_p50_us / 1e6),
                )
                .dash(Dash::Dotted),
            ]
        }));
    out.push(("latency_p99", latency));
    out
}

/// Lost updates as a fraction of the total the counters should reach (NaN, so not drawn,
/// when nothing was expected).
fn lost_fraction(r: &ContentionRow) -> f64 {
    if r.expected == 0 {
        f64::NAN
    } else {
        r.lost_updates as f64 / r.expected as f64
    }
}

/// A row's series name: its strategy, with the backoff when several were swept.
fn chart_series_names(rows: &[ContentionRow]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        let name = chart_series_name(rows, r);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `r`'s series name among `rows`.
fn chart_series_name(rows: &[ContentionRow], r: &ContentionRow) -> String {
    if rows.iter().any(|o| o.backoff != r.backoff) {
        format!("{} ({})", r.strategy, r.backoff)
    } else {
        r.strategy.clone()
    }
}

/// (clients, metric) of the rows named `name`, by clients.
fn client_points(
    rows: &[ContentionRow],
    name: &str,
    metric: fn(&ContentionRow) -> f64,
) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| chart_series_name(rows, r) == name)
        .map(|r| (f64::from(r.clients), metric(r)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contention::serving_order::ServingOrder;
    use crate::contention::{Mode, Strategy, Workload, run};
    use std::sync::Arc;

    /// The paragraph names what the simulation ran on: the delays drawn, or the measured
    /// serving order replayed.
    #[test]
    fn describe_says_what_was_simulated() {
        let w = Workload {
            strategy: Strategy::Cas,
            clients: 2,
            updates_per_client: 10,
            initial: Some(0),
            ..Workload::default()
        };
        let drawn = describe(&[run(Mode::Sim, &w).unwrap()]);
        assert!(
            drawn.contains("Simulated network delay per round trip loopback-net"),
            "{drawn}"
        );
        let order = ServingOrder {
            clients: 2,
            served: vec![0, 1, 1, 0],
            reply_ns: vec![1, 2, 3, 4],
        };
        let replayed = Workload {
            serving_order: Some(Arc::new(order)),
            ..w
        };
        let text = describe(&[run(Mode::Sim, &replayed).unwrap()]);
        assert!(
            text.contains("replaying the order in which a live server served 2 connections")
                && text.contains("measured@2[4 places]")
                && !text.contains("network delay"),
            "{text}"
        );
    }
}
