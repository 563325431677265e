//! Miss-ratio curves ([`crate::mrc`]) as outputs: CSV rows ([`CurveRow`]), the JSON
//! document ([`CurveDocument`]), the chart and the summary `cachelab mrc` prints.

use serde::{Deserialize, Serialize};

use super::chart::{AxisUnit, LineChart, Series};
use super::document::{Cell, Table};
use crate::mrc::{Curve, Floor, MrcOutput, SizeForTarget, WorkingSetEstimate};
use crate::units::format_bytes;

/// One point of one method's curve: a row of `cachelab mrc -o`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurveRow {
    /// The method's label.
    pub method: String,
    /// The cache size.
    pub cache_size: u64,
    /// `bytes` or `objects`.
    pub size_unit: String,
    /// The size as a percentage of the working set the grid was laid over.
    pub pct_of_working_set: f64,
    /// Misses over requests.
    pub miss_ratio: f64,
    /// Bytes missed over bytes requested.
    pub byte_miss_ratio: f64,
}

impl CurveRow {
    /// Every point of every curve, methods in order, sizes ascending.
    pub fn all(out: &MrcOutput) -> Vec<CurveRow> {
        let units = out.working_set.units(out.objects);
        out.curves
            .iter()
            .flat_map(|curve| {
                curve.points.iter().map(move |p| CurveRow {
                    method: curve.method.clone(),
                    cache_size: p.cache_size,
                    size_unit: unit(out.objects).to_string(),
                    pct_of_working_set: if units > 0.0 {
                        round6(100.0 * p.cache_size as f64 / units)
                    } else {
                        0.0
                    },
                    miss_ratio: round6(p.miss_ratio),
                    byte_miss_ratio: round6(p.byte_miss_ratio),
                })
            })
            .collect()
    }
}

/// Six decimals are more than any estimate's accuracy and keep files diff-able.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn unit(objects: bool) -> &'static str {
    if objects { "objects" } else { "bytes" }
}

/// The size a method needs for one target hit ratio.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetRow {
    /// The target hit ratio.
    pub hit_ratio: f64,
    /// What the curve says.
    pub size: SizeForTarget,
}

/// One method in the JSON document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurveEntry {
    /// The method's label.
    pub method: String,
    /// The working set as this method knows it.
    pub working_set: WorkingSetEstimate,
    /// The compulsory-miss floor.
    pub floor: Floor,
    /// The points.
    pub points: Vec<crate::mrc::CurvePoint>,
    /// The size for each target hit ratio asked for.
    pub targets: Vec<TargetRow>,
    /// How the points were made, where the user should know.
    pub notes: Vec<String>,
}

/// What `cachelab mrc --json` writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurveDocument {
    /// The trace's name.
    pub trace: String,
    /// True when sizes count objects.
    pub objects: bool,
    /// Requests read.
    pub requests: u64,
    /// The working set the grid was laid over.
    pub working_set: WorkingSetEstimate,
    /// One entry per method.
    pub curves: Vec<CurveEntry>,
}

impl CurveDocument {
    /// The document of a run, with the sizes for `targets` (hit ratios).
    pub fn new(out: &MrcOutput, targets: &[f64]) -> CurveDocument {
        CurveDocument {
            trace: out.trace.clone(),
            objects: out.objects,
            requests: out.requests,
            working_set: out.working_set,
            curves: out
                .curves
                .iter()
                .map(|c| CurveEntry {
                    method: c.method.clone(),
                    working_set: c.working_set,
                    floor: c.floor,
                    points: c.points.clone(),
                    targets: target_rows(c, targets),
                    notes: c.notes.clone(),
                })
                .collect(),
        }
    }
}

fn target_rows(curve: &Curve, targets: &[f64]) -> Vec<TargetRow> {
    targets
        .iter()
        .map(|&hit_ratio| TargetRow {
            hit_ratio,
            size: curve.size_for_hit_ratio(hit_ratio),
        })
        .collect()
}

/// Miss ratio against cache size, one line per method: a log size axis in bytes or
/// objects, the miss ratio as a percentage.
pub fn curve_chart(out: &MrcOutput) -> LineChart {
    document_chart(&CurveDocument::new(out, &[]))
}

/// [`curve_chart`] from the JSON document, as `cachelab report` reads it back.
pub fn document_chart(doc: &CurveDocument) -> LineChart {
    LineChart::new(
        format!("Miss-ratio curve of {}", doc.trace),
        format!("cache size ({})", unit(doc.objects)),
        "miss ratio",
    )
    .log_x()
    .x_unit(if doc.objects {
        AxisUnit::Count
    } else {
        AxisUnit::Bytes
    })
    .y_unit(AxisUnit::Percent)
    .extend_series(doc.curves.iter().map(|c| {
        Series::new(
            c.method.clone(),
            c.points
                .iter()
                .map(|p| (p.cache_size.max(1) as f64, p.miss_ratio))
                .collect(),
        )
    }))
}

/// A size for people: bytes in binary units, objects as a count.
fn size_text(size: u64, objects: bool) -> String {
    if objects {
        format!("{size} objects")
    } else {
        format_bytes(size)
    }
}

/// What a target row says, in words.
pub fn target_text(size: &SizeForTarget, objects: bool) -> String {
    match *size {
        SizeForTarget::At { size } if objects => size_text(size, objects),
        SizeForTarget::At { size } => format!("{} ({size} bytes)", format_bytes(size)),
        SizeForTarget::AtMost { size } => {
            format!(
                "at most {} (the smallest size computed)",
                size_text(size, objects)
            )
        }
        SizeForTarget::Beyond { size, hit_ratio } => format!(
            "more than {} (hit ratio {hit_ratio:.4} there; raise --to)",
            size_text(size, objects)
        ),
        SizeForTarget::Unreachable { ceiling } => {
            format!(
                "unreachable: ceiling {ceiling:.4} (compulsory misses {:.4})",
                1.0 - ceiling
            )
        }
    }
}

/// The summary `cachelab mrc` prints: the trace, each method's floor and the miss ratio at
/// about ten of the sizes, then the size each method needs for each target.
pub fn summary(out: &MrcOutput, targets: &[f64]) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let ws = out.working_set;
    let _ = writeln!(
        text,
        "{}: {} requests, working set {} objects, {}{}",
        out.trace,
        out.requests,
        ws.objects.round(),
        format_bytes(ws.bytes.round() as u64),
        if ws.exact { "" } else { " (estimated)" }
    );
    let step = (out.sizes.len() / 10).max(1);
    let shown: Vec<usize> = (0..out.sizes.len())
        .filter(|i| i % step == step - 1 || *i == out.sizes.len() - 1)
        .collect();
    let _ = write!(text, "{:>14} {:>9}", "cache size", "% of ws");
    for c in &out.curves {
        let _ = write!(text, " {:>22}", truncate(&c.method, 22));
    }
    text.push('\n');
    let units = ws.units(out.objects);
    for &i in &shown {
        let size = out.sizes[i];
        let _ = write!(
            text,
            "{:>14} {:>8.3}%",
            size_text(size, out.objects),
            100.0 * size as f64 / units.max(1.0)
        );
        for c in &out.curves {
            let miss = c
                .points
                .iter()
                .find(|p| p.cache_size == size)
                .map(|p| p.miss_ratio);
            match miss {
                Some(m) => {
                    let _ = write!(text, " {m:>22.4}");
                }
                None => {
                    let _ = write!(text, " {:>22}", "-");
                }
            }
        }
        text.push('\n');
    }
    let _ = write!(text, "{:>24}", "floor (compulsory)");
    for c in &out.curves {
        let _ = write!(text, " {:>22.4}", c.floor.miss_ratio);
    }
    text.push('\n');
    for &target in targets {
        let _ = writeln!(text, "hit ratio {target}:");
        for c in &out.curves {
            let _ = writeln!(
                text,
                "  {:<28} {}",
                c.method,
                target_text(&c.size_for_hit_ratio(target), out.objects)
            );
        }
    }
    text
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let cut: String = text.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

/// One sentence on a curve document: the trace, its requests and working set, and each
/// method's compulsory-miss floor.
pub fn describe(doc: &CurveDocument) -> String {
    let ws = doc.working_set;
    let floors: Vec<String> = doc
        .curves
        .iter()
        .map(|c| format!("{} {:.4}", c.method, c.floor.miss_ratio))
        .collect();
    format!(
        "{} requests; working set {} objects, {}{}. No cache size goes below the compulsory misses (first requests): {}.",
        doc.requests,
        ws.objects.round(),
        format_bytes(ws.bytes.round() as u64),
        if ws.exact { "" } else { " (estimated)" },
        floors.join(", ")
    )
}

/// Per method and target hit ratio, the size it needs (in bytes or objects and as a
/// share of the working set) or why no size does. `name` makes the table's file name
/// unique in a report.
pub fn target_table(doc: &CurveDocument, name: &str) -> Table {
    let mut table = Table::new(
        name,
        format!(
            "The cache size each method says {} needs for a target hit ratio.",
            doc.trace
        ),
        &[
            "method",
            "target hit ratio",
            "cache size",
            "% of working set",
            "note",
        ],
    );
    let units = doc.working_set.units(doc.objects);
    for c in &doc.curves {
        for t in &c.targets {
            let (size, note) = match t.size {
                SizeForTarget::At { size } => (Some(size), String::new()),
                SizeForTarget::AtMost { size } => {
                    (Some(size), "at most: the smallest size computed".into())
                }
                SizeForTarget::Beyond { size, hit_ratio } => (
                    None,
                    format!(
                        "more than {} (hit ratio {hit_ratio:.4} there)",
                        size_text(size, doc.objects)
                    ),
                ),
                SizeForTarget::Unreachable { ceiling } => (
                    None,
                    format!("unreachable: the compulsory misses cap the hit ratio at {ceiling:.4}"),
                ),
            };
            let size_cell = match size {
                Some(s) if doc.objects => Cell::Count(s),
                Some(s) => Cell::Bytes(s),
                None => Cell::Missing,
            };
            let share = size
                .filter(|_| units > 0.0)
                .map_or(Cell::Missing, |s| Cell::Percent(s as f64 / units, 2));
            table.push(vec![
                Cell::Text(c.method.clone()),
                Cell::Fixed(t.hit_ratio, 4),
                size_cell,
                share,
                Cell::Text(note),
            ]);
        }
    }
    table
}
