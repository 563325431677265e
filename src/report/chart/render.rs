//! Drawing a [`Plan`] with plotters: the frame (title, grid, axes, ticks), the data (dashed
//! lines with thinned markers, or bars), the vertical marks and the legend.
//!
//! Everything is drawn in pixel coordinates on the root area, so SVG and PNG get the same
//! shapes; dashes are cut into separate segments here (plotters has no dash style for
//! paths) and markers are plain polygons, circles and strokes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::layout::{
    self, ENTRY_H, FONT, LABEL_SIZE, LEGEND_SIZE, MARK_ROW_H, MARK_SIZE, Plan, Rect, SWATCH_GAP,
    SWATCH_W, TICK_LEN, TICK_SIZE, TITLE_SIZE,
};
use super::style::{Dash, Look, Marker};

/// Most markers drawn on one series; longer series get every k-th point marked.
pub(crate) const MAX_MARKERS: usize = 12;

const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const MARK: RGBColor = RGBColor(0x80, 0x80, 0x80);
const PANEL: RGBColor = RGBColor(0xC8, 0xC8, 0xC8);

/// A line ready to draw: its points in pixels, in x order, and its look.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub points: Vec<(f64, f64)>,
    pub look: Look,
    /// Which points get a marker.
    pub markers: Vec<usize>,
}

/// A bar ready to draw.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub rect: Rect,
    pub colour: [u8; 3],
}

type Result<T> = std::result::Result<T, String>;

fn px(v: f64) -> i32 {
    // Canvas coordinates are a few thousand pixels at most.
    v.round() as i32
}

fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// The indices of the points of a series of `n` that get a marker: all of them up to
/// [`MAX_MARKERS`], else every k-th, starting `phase` of the way into the stride so series
/// of the same length do not mark the same x.
pub(crate) fn marker_indices(n: usize, phase: usize, of: usize) -> Vec<usize> {
    if n <= MAX_MARKERS {
        return (0..n).collect();
    }
    let stride = n.div_ceil(MAX_MARKERS);
    let offset = (phase * stride / of.max(1)) % stride;
    (offset..n).step_by(stride).collect()
}

/// Cuts the polyline `points` into the "on" pieces of `pattern` (on, off, on, off… lengths
/// in pixels); a solid pattern gives the polyline back whole.
pub(crate) fn dash_pieces(points: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || points.len() < 2 {
        return vec![points.to_vec()];
    }
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = vec![points[0]];
    let mut index = 0;
    let mut left = pattern[0];
    let mut on = true;
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut done = 0.0;
        while length - done > left {
            done += left;
            let t = done / length;
            let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on {
                current.push(p);
                pieces.push(std::mem::take(&mut current));
            } else {
                current = vec![p];
            }
            on = !on;
            index = (index + 1) % pattern.len();
            left = pattern[index];
        }
        left -= length - done;
        if on {
            current.push(b);
        }
    }
    if on && current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

fn text_style(size: f64, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FONT, size, FontStyle::Normal)
        .color(colour)
        .pos(Pos::new(h, v))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn path<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<()> {
    let mut pts: Vec<(i32, i32)> = points.iter().map(|p| (px(p.0), px(p.1))).collect();
    pts.dedup();
    if pts.len() < 2 {
        return Ok(());
    }
    area.draw(&PathElement::new(pts, style)).map_err(err)
}

fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    at: (f64, f64),
    style: &TextStyle,
) -> Result<()> {
    if s.is_empty() {
        return Ok(());
    }
    area.draw(&Text::new(s, (px(at.0), px(at.1)), style.clone()))
        .map_err(err)
}

/// A polyline in `look`'s colour and dash.
fn dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    colour: RGBColor,
    dash: Dash,
    width: u32,
) -> Result<()> {
    for piece in dash_pieces(points, dash.pattern()) {
        path(area, &piece, colour.stroke_width(width))?;
    }
    Ok(())
}

/// One marker centred at `at`.
fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (f64, f64),
    look: &Look,
) -> Result<()> {
    let colour = rgb(look.colour);
    let (x, y) = (px(at.0), px(at.1));
    let fill = colour.filled();
    let polygon = |points: Vec<(i32, i32)>| area.draw(&Polygon::new(points, fill)).map_err(err);
    match look.marker {
        Marker::Circle => area.draw(&Circle::new((x, y), 4, fill)).map_err(err),
        Marker::Square => area
            .draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill))
            .map_err(err),
        Marker::Triangle => polygon(vec![(x, y - 5), (x + 5, y + 4), (x - 5, y + 4)]),
        Marker::TriangleDown => polygon(vec![(x, y + 5), (x + 5, y - 4), (x - 5, y - 4)]),
        Marker::Diamond => polygon(vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)]),
        Marker::Cross => {
            let s = colour.stroke_width(2);
            area.draw(&PathElement::new(vec![(x - 4, y - 4), (x + 4, y + 4)], s))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(x - 4, y + 4), (x + 4, y - 4)], s))
                .map_err(err)
        }
        Marker::Plus => {
            let s = colour.stroke_width(2);
            area.draw(&PathElement::new(vec![(x - 5, y), (x + 5, y)], s))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(x, y - 5), (x, y + 5)], s))
                .map_err(err)
        }
    }
}

/// Background, title, grid, axes, ticks and axis descriptions.
pub(crate) fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
    empty: bool,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let p = plan.plot;
    text(
        area,
        &plan.title,
        (plan.width / 2.0, 12.0),
        &text_style(TITLE_SIZE, &TEXT, HPos::Center, VPos::Top),
    )?;
    let grid = GRID.stroke_width(1);
    for t in &plan.y_ticks {
        path(area, &[(p.left, t.px), (p.right, t.px)], grid)?;
    }
    for t in &plan.x_ticks {
        if matches!(plan.x, layout::XAxis::Numeric { .. }) {
            path(area, &[(t.px, p.top), (t.px, p.bottom)], grid)?;
        }
    }
    let axis = AXIS.stroke_width(1);
    path(
        area,
        &[(p.left, p.top), (p.left, p.bottom), (p.right, p.bottom)],
        axis,
    )?;
    let tick_text = text_style(TICK_SIZE, &TEXT, HPos::Right, VPos::Center);
    for t in &plan.y_ticks {
        path(area, &[(p.left - TICK_LEN, t.px), (p.left, t.px)], axis)?;
        text(area, &t.label, (p.left - TICK_LEN - 3.0, t.px), &tick_text)?;
    }
    let tick_text = text_style(TICK_SIZE, &TEXT, HPos::Center, VPos::Top);
    for t in &plan.x_ticks {
        path(area, &[(t.px, p.bottom), (t.px, p.bottom + TICK_LEN)], axis)?;
        text(area, &t.label, (t.px, plan.x_tick_y), &tick_text)?;
    }
    text(
        area,
        &plan.x_label,
        ((p.left + p.right) / 2.0, plan.x_desc_y),
        &text_style(LABEL_SIZE, &TEXT, HPos::Center, VPos::Top),
    )?;
    text(
        area,
        &plan.y_label,
        (plan.y_desc_x, (p.top + p.bottom) / 2.0),
        &text_style(LABEL_SIZE, &TEXT, HPos::Center, VPos::Center)
            .transform(FontTransform::Rotate270),
    )?;
    if empty {
        text(
            area,
            "no data",
            ((p.left + p.right) / 2.0, (p.top + p.bottom) / 2.0),
            &text_style(LABEL_SIZE, &MARK, HPos::Center, VPos::Center),
        )?;
    }
    Ok(())
}

/// The marks' dashed vertical lines, from their labels above the plot down to its bottom
/// (under the data).
pub(crate) fn mark_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
) -> Result<()> {
    for m in &plan.marks {
        let line = [
            (m.px, m.label_y - MARK_ROW_H / 2.0 + 2.0),
            (m.px, plan.plot.bottom),
        ];
        for piece in dash_pieces(&line, &[6.0, 4.0]) {
            path(area, &piece, MARK.stroke_width(1))?;
        }
    }
    Ok(())
}

/// The marks' labels, above the plot beside their lines.
pub(crate) fn mark_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
) -> Result<()> {
    let style = text_style(MARK_SIZE, &TEXT, HPos::Left, VPos::Center);
    for m in &plan.marks {
        text(area, &m.label, (m.label_x, m.label_y), &style)?;
    }
    Ok(())
}

/// The data lines, then their markers.
pub(crate) fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
) -> Result<()> {
    for line in lines {
        dashed(area, &line.points, rgb(line.look.colour), line.look.dash, 2)?;
    }
    for line in lines {
        for &i in &line.markers {
            if let Some(&p) = line.points.get(i) {
                marker(area, p, &line.look)?;
            }
        }
    }
    Ok(())
}

/// The bars.
pub(crate) fn bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, bars: &[Bar]) -> Result<()> {
    for b in bars {
        let r = b.rect;
        if r.width() < 0.5 || r.height() < 0.5 {
            continue;
        }
        area.draw(&Rectangle::new(
            [(px(r.left), px(r.top)), (px(r.right), px(r.bottom))],
            rgb(b.colour).filled(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// The legend panel: a sample of each line (or a swatch for bars) and its label.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
    swatches: bool,
) -> Result<()> {
    let Some(legend) = &plan.legend else {
        return Ok(());
    };
    let r = legend.rect;
    area.draw(&Rectangle::new(
        [(px(r.left), px(r.top)), (px(r.right), px(r.bottom))],
        PANEL.stroke_width(1),
    ))
    .map_err(err)?;
    let style = text_style(LEGEND_SIZE, &TEXT, HPos::Left, VPos::Center);
    for e in &legend.entries {
        let mid = e.y + ENTRY_H / 2.0;
        if swatches {
            let c = e.x + SWATCH_W / 2.0;
            area.draw(&Rectangle::new(
                [(px(c - 7.0), px(mid - 6.0)), (px(c + 7.0), px(mid + 6.0))],
                rgb(e.look.colour).filled(),
            ))
            .map_err(err)?;
        } else {
            dashed(
                area,
                &[(e.x, mid), (e.x + SWATCH_W, mid)],
                rgb(e.look.colour),
                e.look.dash,
                2,
            )?;
            marker(area, (e.x + SWATCH_W / 2.0, mid), &e.look)?;
        }
        text(area, &e.label, (e.x + SWATCH_W + SWATCH_GAP, mid), &style)?;
    }
    Ok(())
}
