//! Charts drawn with plotters, SVG or PNG chosen by the file name: [`LineChart`] (named
//! series of (x, y) points, with vertical marks) and [`BarChart`] (values per category),
//! plus the builders for the charts cachelab's reports draw.
//!
//! Start from [`LineChart::new`] and its builder methods. Each series' colour, dash and
//! marker come from its name ([`style`]: Okabe–Ito and Paul Tol colours, fixed for every
//! policy, method and strategy cachelab knows), so `lru` looks the same in every chart.
//! Axes count in an [`AxisUnit`] (`64 MiB`, `35%`, whole clients) and fit the data
//! ([`axis`]); the legend sits beside the plot or below it, never on the data, sized from
//! its labels (`layout`); `render` draws the plan. Output is deterministic: identical
//! charts give byte-identical SVG. Points that are not finite (or not positive on a log
//! axis) are skipped; an empty chart draws its axes and says "no data".
//!
//! The builders here: [`miss_ratio_chart`] (miss ratio against cache size per policy, from
//! result rows) and [`node_load_chart`] (reads and hits per cluster node). Others live
//! beside their data: `report::curve::curve_chart`, `report::contention::charts` and the
//! migration charts of `cachelab migrate`.

pub mod axis;
mod layout;
mod render;
pub mod style;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use axis::AxisUnit;
pub use style::{Dash, Look, Marker, look_for};

use self::axis::Scale;
use self::layout::{Frame, Plan, Rect, XAxis};
use super::ResultRow;
use crate::catalog::CATALOG;

/// Canvas size in pixels, for SVG and PNG alike.
pub const SIZE: (u32, u32) = (900, 560);

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label; its look comes from it ([`style::style_key`]).
    pub name: String,
    /// Points, drawn in x order.
    pub points: Vec<(f64, f64)>,
    /// A dash pattern instead of the name's own (`p50` dotted beside `p99` solid).
    pub dash: Option<Dash>,
}

impl Series {
    /// A series of `points` called `name`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            dash: None,
        }
    }

    /// The same series drawn with `dash` whatever its name.
    #[must_use]
    pub fn dash(mut self, dash: Dash) -> Series {
        self.dash = Some(dash);
        self
    }
}

/// A vertical line across the plot at `x`, labelled above it ("switch", "node2 fails").
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Where, in x-axis units.
    pub x: f64,
    /// What happened there.
    pub label: String,
}

/// A chart of several lines over shared axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Logarithmic x axis (for cache sizes that span decades).
    pub log_x: bool,
    /// What the x axis counts.
    pub x_unit: AxisUnit,
    /// What the y axis counts.
    pub y_unit: AxisUnit,
    /// The lines.
    pub series: Vec<Series>,
    /// Vertical marks.
    pub marks: Vec<Mark>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot draw chart: {message}")]
pub struct ChartError {
    /// The output file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// True when `path` names a PNG file.
fn is_png(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// Draws `draw_on` to `path` (PNG or SVG by extension).
fn draw_file(
    path: &Path,
    draw_on: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
    draw_svg: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<(), ChartError> {
    let failed = |message: String| ChartError {
        path: path.display().to_string(),
        message,
    };
    if is_png(path) {
        let area = BitMapBackend::new(path, SIZE).into_drawing_area();
        draw_on(&area)
            .and_then(|()| area.present().map_err(|e| e.to_string()))
            .map_err(failed)
    } else {
        // Drawn in memory, then written under a temporary name and renamed, as every
        // output is; callers check the target before their run.
        let svg = svg_string(draw_svg)?;
        super::output::write_text(path, &svg, true).map_err(|e| failed(e.to_string()))
    }
}

/// Draws to an SVG string.
fn svg_string(
    draw_svg: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw_svg(&area)
            .and_then(|()| area.present().map_err(|e| e.to_string()))
            .map_err(|message| ChartError {
                path: "<svg>".into(),
                message,
            })?;
    }
    Ok(out)
}

impl LineChart {
    /// An empty chart: linear axes of plain numbers, no series, no marks.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> LineChart {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            x_unit: AxisUnit::Plain,
            y_unit: AxisUnit::Plain,
            series: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A logarithmic x axis.
    #[must_use]
    pub fn log_x(mut self) -> LineChart {
        self.log_x = true;
        self
    }

    /// The x axis counts in `unit`.
    #[must_use]
    pub fn x_unit(mut self, unit: AxisUnit) -> LineChart {
        self.x_unit = unit;
        self
    }

    /// The y axis counts in `unit`.
    #[must_use]
    pub fn y_unit(mut self, unit: AxisUnit) -> LineChart {
        self.y_unit = unit;
        self
    }

    /// Adds a series.
    #[must_use]
    pub fn series(mut self, series: Series) -> LineChart {
        self.series.push(series);
        self
    }

    /// Adds a series of `points` called `name`.
    #[must_use]
    pub fn line(self, name: impl Into<String>, points: Vec<(f64, f64)>) -> LineChart {
        self.series(Series::new(name, points))
    }

    /// Adds every series of `all`, in order.
    #[must_use]
    pub fn extend_series(mut self, all: impl IntoIterator<Item = Series>) -> LineChart {
        self.series.extend(all);
        self
    }

    /// Adds a vertical mark at `x` labelled `label`.
    #[must_use]
    pub fn mark(mut self, x: f64, label: impl Into<String>) -> LineChart {
        self.marks.push(Mark {
            x,
            label: label.into(),
        });
        self
    }

    /// The looks of the series, in order ([`style::assign_looks`]).
    pub fn looks(&self) -> Vec<Look> {
        let keys: Vec<(&str, Option<Dash>)> = self
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.dash))
            .collect();
        style::assign_looks(&keys)
    }

    /// The x scale, fitted to the points and marks.
    fn x_scale(&self) -> Scale {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| p.1.is_finite()).map(|p| p.0))
            .chain(self.marks.iter().map(|m| m.x));
        Scale::fit(
            xs,
            self.log_x,
            self.x_unit,
            if self.log_x { 0.03 } else { 0.02 },
        )
    }

    /// Where everything goes.
    fn plan(&self) -> (Plan, Vec<render::Line>) {
        let x = self.x_scale();
        let drawable = |p: &(f64, f64)| x.accepts(p.0) && p.1.is_finite();
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| drawable(p)).map(|p| p.1));
        let y = Scale::fit(ys, false, self.y_unit, 0.05);
        let looks = self.looks();
        let frame = Frame {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x: XAxis::Numeric {
                scale: x,
                unit: self.x_unit,
            },
            y,
            y_unit: self.y_unit,
            legend: self
                .series
                .iter()
                .zip(&looks)
                .map(|(s, l)| (s.name.clone(), *l))
                .collect(),
            marks: self.marks.iter().map(|m| (m.x, m.label.clone())).collect(),
        };
        let plan = layout::plan(&frame, f64::from(SIZE.0), f64::from(SIZE.1));
        let count = self.series.len();
        let lines = self
            .series
            .iter()
            .zip(&looks)
            .enumerate()
            .map(|(i, (s, look))| {
                let mut points: Vec<(f64, f64)> =
                    s.points.iter().copied().filter(|p| drawable(p)).collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                let points: Vec<(f64, f64)> = points
                    .iter()
                    .map(|&(x, y)| (plan.x_px(x), plan.y_px(y)))
                    .collect();
                render::Line {
                    markers: render::marker_indices(points.len(), i, count),
                    points,
                    look: *look,
                }
            })
            .collect();
        (plan, lines)
    }

    fn draw_on<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (plan, lines) = self.plan();
        let empty = lines.iter().all(|l| l.points.is_empty());
        render::frame(area, &plan, empty)?;
        render::mark_lines(area, &plan)?;
        render::lines(area, &lines)?;
        render::mark_labels(area, &plan)?;
        render::legend(area, &plan, false)
    }

    /// Draws the chart to `path`: PNG when the name ends in `.png`, SVG otherwise.
    pub fn draw(&self, path: &Path) -> Result<(), ChartError> {
        draw_file(path, |a| self.draw_on(a), |a| self.draw_on(a))
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        svg_string(|a| self.draw_on(a))
    }
}

/// One named set of bars, a value per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// Legend label; its colour comes from it.
    pub name: String,
    /// One value per category, in the categories' order (missing ones are not drawn).
    pub values: Vec<f64>,
}

/// Grouped bars: one group per category, one bar per [`Bars`] in each. The y axis starts at
/// zero (a bar's length is its value).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// What the y axis counts.
    pub y_unit: AxisUnit,
    /// The category names, left to right.
    pub categories: Vec<String>,
    /// The bar sets.
    pub bars: Vec<Bars>,
}

impl BarChart {
    /// An empty bar chart of plain numbers.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> BarChart {
        BarChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            y_unit: AxisUnit::Plain,
            categories: Vec::new(),
            bars: Vec::new(),
        }
    }

    /// The y axis counts in `unit`.
    #[must_use]
    pub fn y_unit(mut self, unit: AxisUnit) -> BarChart {
        self.y_unit = unit;
        self
    }

    /// Sets the categories.
    #[must_use]
    pub fn categories<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> BarChart {
        self.categories = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a bar set called `name`.
    #[must_use]
    pub fn bars(mut self, name: impl Into<String>, values: Vec<f64>) -> BarChart {
        self.bars.push(Bars {
            name: name.into(),
            values,
        });
        self
    }

    fn plan(&self) -> (Plan, Vec<render::Bar>) {
        let names: Vec<(&str, Option<Dash>)> =
            self.bars.iter().map(|b| (b.name.as_str(), None)).collect();
        let looks = style::assign_looks(&names);
        let values = self
            .bars
            .iter()
            .flat_map(|b| b.values.iter().take(self.categories.len()))
            .copied()
            .filter(|v| v.is_finite());
        let y = Scale::fit(values.chain([0.0]), false, self.y_unit, 0.05);
        let y = Scale {
            lo: y.lo.min(0.0),
            ..y
        };
        let frame = Frame {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x: XAxis::Categories(self.categories.clone()),
            y,
            y_unit: self.y_unit,
            legend: self
                .bars
                .iter()
                .zip(&looks)
                .map(|(b, l)| (b.name.clone(), *l))
                .collect(),
            marks: Vec::new(),
        };
        let plan = layout::plan(&frame, f64::from(SIZE.0), f64::from(SIZE.1));
        let sets = self.bars.len().max(1) as f64;
        let zero = plan.y_px(0.0f64.clamp(y.lo, y.hi));
        let mut out = Vec::new();
        for i in 0..self.categories.len() {
            let (l, r) = plan.slot(i);
            let group = (r - l) * 0.8;
            let width = group / sets;
            let start = l + (r - l - group) / 2.0;
            for (j, (b, look)) in self.bars.iter().zip(&looks).enumerate() {
                let Some(&v) = b.values.get(i).filter(|v| v.is_finite()) else {
                    continue;
                };
                let top = plan.y_px(v);
                out.push(render::Bar {
                    rect: Rect {
                        left: start + j as f64 * width,
                        right: start + (j as f64 + 1.0) * width
                            - if sets > 1.0 { 1.0 } else { 0.0 },
                        top: top.min(zero),
                        bottom: top.max(zero),
                    },
                    colour: look.colour,
                });
            }
        }
        (plan, out)
    }

    fn draw_on<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (plan, bars) = self.plan();
        render::frame(area, &plan, bars.is_empty())?;
        render::bars(area, &bars)?;
        render::legend(area, &plan, true)
    }

    /// Draws the chart to `path`: PNG when the name ends in `.png`, SVG otherwise.
    pub fn draw(&self, path: &Path) -> Result<(), ChartError> {
        draw_file(path, |a| self.draw_on(a), |a| self.draw_on(a))
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        svg_string(|a| self.draw_on(a))
    }
}

/// Either kind of chart, for code that holds charts of both kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Lines.
    Line(LineChart),
    /// Bars.
    Bar(BarChart),
}

impl Chart {
    /// Draws the chart to `path`: PNG when the name ends in `.png`, SVG otherwise.
    pub fn draw(&self, path: &Path) -> Result<(), ChartError> {
        match self {
            Chart::Line(c) => c.draw(path),
            Chart::Bar(c) => c.draw(path),
        }
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        match self {
            Chart::Line(c) => c.to_svg(),
            Chart::Bar(c) => c.to_svg(),
        }
    }

    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(c) => &c.title,
            Chart::Bar(c) => &c.title,
        }
    }
}

impl From<LineChart> for Chart {
    fn from(chart: LineChart) -> Chart {
        Chart::Line(chart)
    }
}

impl From<BarChart> for Chart {
    fn from(chart: BarChart) -> Chart {
        Chart::Bar(chart)
    }
}

/// Miss ratio against cache size for one trace, one line per policy (by its short label), in
/// first-seen order; a log size axis in bytes or objects, the miss ratio as a percentage.
pub fn miss_ratio_chart(rows: &[ResultRow], trace: &str) -> LineChart {
    let mut series: Vec<Series> = Vec::new();
    let mut unit = "bytes";
    for row in rows.iter().filter(|r| r.trace == trace) {
        unit = row.capacity_unit.as_str();
        let Some(miss_ratio) = row.miss_ratio else {
            continue;
        };
        let point = (row.capacity as f64, miss_ratio);
        let label = CATALOG.short_label(&row.policy);
        match series.iter_mut().find(|s| s.name == label) {
            Some(s) => s.points.push(point),
            None => series.push(Series::new(label, vec![point])),
        }
    }
    let x_unit = if unit == "bytes" {
        AxisUnit::Bytes
    } else {
        AxisUnit::Count
    };
    LineChart::new(
        format!("Miss ratio on {trace}"),
        format!("cache size ({unit})"),
        "miss ratio",
    )
    .log_x()
    .x_unit(x_unit)
    .y_unit(AxisUnit::Percent)
    .extend_series(series)
}

/// Reads and hits per node of a cluster replay, one pair of bars per node in the result's
/// node order. When every node listens on the same port, the port moves to the axis label so
/// the bars are labelled `node1`, `node2`…
pub fn node_load_chart(result: &crate::cluster::ClusterResult) -> BarChart {
    let scope = match result.only_node {
        Some(i) => format!(" (node {i} alone)"),
        None => String::new(),
    };
    let (names, port) = node_categories(result.nodes.iter().map(|n| n.node.as_str()));
    let x_label = match port {
        Some(port) => format!("node (all on port {port})"),
        None => "node".to_string(),
    };
    BarChart::new(
        format!("Load per node on {} ({}){scope}", result.trace, result.hash),
        x_label,
        "reads",
    )
    .categories(names)
    .bars(
        "requests",
        result.nodes.iter().map(|n| n.requests as f64).collect(),
    )
    .bars("hits", result.nodes.iter().map(|n| n.hits as f64).collect())
}

/// Node names as bar labels, and the port they all share (which the labels then leave out).
fn node_categories<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<String>, Option<String>) {
    let names: Vec<&str> = names.collect();
    let split = |n: &'a str| n.rsplit_once(':').filter(|(host, _)| !host.is_empty());
    let port = names.first().and_then(|n| split(n)).map(|(_, p)| p);
    match port {
        Some(port)
            if names
                .iter()
                .all(|n| split(n).is_some_and(|(_, p)| p == port)) =>
        {
            (
                names
                    .iter()
                    .filter_map(|n| split(n).map(|(host, _)| host.to_string()))
                    .collect(),
                Some(port.to_string()),
            )
        }
        _ => (names.iter().map(|n| n.to_string()).collect(), None),
    }
}

#[cfg(test)]
mod tests;
