//! Line charts drawn with plotters, SVG or PNG chosen by the file name.
//!
//! [`LineChart`] is generic (named series of (x, y) points) so every experiment draws with
//! it; [`miss_ratio_chart`] builds the one `cachelab sim --plot` draws: miss ratio against
//! cache size, one line per policy. Series are drawn in the order given, so output is
//! deterministic.

use std::path::Path;

use plotters::prelude::*;

use super::ResultRow;
use crate::catalog::CATALOG;

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points, drawn in x order.
    pub points: Vec<(f64, f64)>,
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
    /// The lines.
    pub series: Vec<Series>,
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

impl LineChart {
    /// Draws the chart to `path`: PNG when the name ends in `.png`, SVG otherwise.
    pub fn draw(&self, path: &Path) -> Result<(), ChartError> {
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let result = if is_png {
            self.draw_on(BitMapBackend::new(path, (900, 560)).into_drawing_area())
        } else {
            self.draw_on(SVGBackend::new(path, (900, 560)).into_drawing_area())
        };
        result.map_err(|message| ChartError {
            path: path.display().to_string(),
            message,
        })
    }

    fn bounds(&self) -> (f64, f64, f64, f64) {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
            points().map(pick).fold(init, f)
        };
        let (mut x0, mut x1) = (
            fold(f64::min, f64::INFINITY, |p| p.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.0),
        );
        let (mut y0, mut y1) = (
            fold(f64::min, f64::INFINITY, |p| p.1),
            fold(f64::max, f64::NEG_INFINITY, |p| p.1),
        );
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (1.0, 10.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 * 2.0 + 1.0;
        }
        y0 = y0.min(0.0);
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        (x0, x1, y0, y1 * 1.05)
    }

    fn draw_on<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (x0, x1, y0, y1) = self.bounds();
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64);
        if self.log_x && x0 > 0.0 {
            let mut chart = builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| human_number(*v))
                .draw()
                .map_err(|e| err(&e))?;
            self.draw_series(&mut chart).map_err(|e| err(&e))?;
        } else {
            let mut chart = builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| human_number(*v))
                .draw()
                .map_err(|e| err(&e))?;
            self.draw_series(&mut chart).map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))
    }

    fn draw_series<'a, DB, X>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64>,
    {
        for (i, series) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut points = series.points.clone();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(series.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
    }
}

/// Formats axis numbers compactly: 1.5k, 20M, 3G.
fn human_number(value: f64) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

/// Miss ratio against cache size for one trace, one line per policy (by its short label), in
/// first-seen order.
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
            None => series.push(Series {
                name: label,
                points: vec![point],
            }),
        }
    }
    LineChart {
        title: format!("Miss ratio on {trace}"),
        x_label: format!("cache size ({unit})"),
        y_label: "miss ratio".to_string(),
        log_x: true,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(human_number(1500.0), "1.5k");
        assert_eq!(human_number(20_000_000.0), "20M");
        assert_eq!(human_number(12.0), "12");
    }

    #[test]
    fn draws_svg_and_png_with_one_line_per_series() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_x: true,
            series: vec![
                Series {
                    name: "lru".into(),
                    points: vec![(10.0, 0.5), (100.0, 0.2)],
                },
                Series {
                    name: "fifo".into(),
                    points: vec![(10.0, 0.6), (100.0, 0.3)],
                },
            ],
        };
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("c.svg");
        chart.draw(&svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("lru") && text.contains("fifo"));
        // One marker per point: two series of two points.
        assert_eq!(text.matches("<circle").count(), 4);
        let png = dir.path().join("c.png");
        chart.draw(&png).unwrap();
        assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    }
}
