//! Where everything goes on the canvas, worked out before anything is drawn: the plot
//! rectangle, the legend panel beside it (or below it when it would not fit), the ticks and
//! their labels, and the rows of vertical-mark labels above the plot.
//!
//! Text is measured with the same fonts plotters draws with, so the layout is the same for
//! SVG and PNG, and the legend and labels are sized from what they say: nothing is clipped
//! and nothing is drawn over the data. [`plan`] is a pure function of the chart, which is
//! what the tests check.

use plotters::style::{FontDesc, FontFamily, FontStyle};

use super::axis::{self, AxisUnit, Scale};
use super::style::Look;

/// The font every text uses (fontconfig's default sans-serif, DejaVu Sans here).
pub(crate) const FONT: FontFamily<'static> = FontFamily::SansSerif;
/// Title size in pixels.
pub(crate) const TITLE_SIZE: f64 = 22.0;
/// Axis description size.
pub(crate) const LABEL_SIZE: f64 = 16.0;
/// Tick label size.
pub(crate) const TICK_SIZE: f64 = 14.0;
/// Legend text size.
pub(crate) const LEGEND_SIZE: f64 = 14.0;
/// Mark label size.
pub(crate) const MARK_SIZE: f64 = 14.0;
/// Tick length outside the plot.
pub(crate) const TICK_LEN: f64 = 5.0;
/// Width of the line sample in a legend entry.
pub(crate) const SWATCH_W: f64 = 34.0;
/// Space between the sample and the text.
pub(crate) const SWATCH_GAP: f64 = 6.0;
/// Height of one legend entry.
pub(crate) const ENTRY_H: f64 = 20.0;
/// Padding inside the legend panel.
pub(crate) const LEGEND_PAD: f64 = 8.0;

const MARGIN: f64 = 14.0;
const TITLE_H: f64 = 34.0;
const X_TICK_H: f64 = 22.0;
const X_DESC_H: f64 = 24.0;
const Y_DESC_W: f64 = 24.0;
const LEGEND_GAP: f64 = 16.0;
const COL_GAP: f64 = 18.0;
const MAX_LABEL_W: f64 = 230.0;
const MAX_MARK_W: f64 = 360.0;
pub(crate) const MARK_ROW_H: f64 = 18.0;
const MAX_X_TICKS: usize = 8;

/// The width in pixels of `text` at `size`; estimated from the character count when the
/// font cannot be loaded.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    match FontDesc::new(FONT, size, FontStyle::Normal).box_size(text) {
        Ok((w, _)) => f64::from(w),
        Err(_) => 0.6 * size * text.chars().count() as f64,
    }
}

/// `text`, cut with `…` so it is at most `max` pixels wide at `size`.
pub(crate) fn ellipsize(text: &str, size: f64, max: f64) -> String {
    if text_width(text, size) <= max {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut keep = chars.len();
    while keep > 0 {
        keep -= 1;
        let candidate: String = chars[..keep].iter().collect::<String>() + "…";
        if text_width(&candidate, size) <= max {
            return candidate;
        }
    }
    "…".to_string()
}

/// An axis-aligned rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    pub fn width(&self) -> f64 {
        self.right - self.left
    }
    pub fn height(&self) -> f64 {
        self.bottom - self.top
    }
}

/// A tick: where it is along its axis, in pixels, and its label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    pub px: f64,
    pub label: String,
}

/// The x axis: a fitted numeric scale or one slot per category.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum XAxis {
    Numeric { scale: Scale, unit: AxisUnit },
    Categories(Vec<String>),
}

/// What a chart asks the layout for.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x: XAxis,
    pub y: Scale,
    pub y_unit: AxisUnit,
    /// Legend entries: full label and look.
    pub legend: Vec<(String, Look)>,
    /// Vertical marks: x and label (numeric x axes only).
    pub marks: Vec<(f64, String)>,
}

/// One legend entry: the top-left of its sample, the text shown and the look.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub look: Look,
}

/// The legend panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Legend {
    pub rect: Rect,
    /// True when the panel sits below the plot (too many or too long entries for the side).
    pub below: bool,
    pub entries: Vec<Entry>,
}

/// A vertical mark: its x in pixels and its label's place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MarkPlace {
    pub px: f64,
    pub label: String,
    /// The label's left edge.
    pub label_x: f64,
    /// The label's vertical centre.
    pub label_y: f64,
    pub label_w: f64,
}

/// Everything's place on a canvas.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub width: f64,
    pub height: f64,
    pub title: String,
    pub plot: Rect,
    pub x: XAxis,
    pub y: Scale,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// Top of the tick labels below the plot.
    pub x_tick_y: f64,
    /// Top of the x description.
    pub x_desc_y: f64,
    /// Centre x of the (rotated) y description.
    pub y_desc_x: f64,
    pub x_label: String,
    pub y_label: String,
    pub legend: Option<Legend>,
    pub marks: Vec<MarkPlace>,
}

impl Plan {
    /// The pixel x of data value `v` (numeric axes; categories use [`Plan::slot`]).
    pub fn x_px(&self, v: f64) -> f64 {
        match &self.x {
            XAxis::Numeric { scale, .. } => self.plot.left + scale.frac(v) * self.plot.width(),
            XAxis::Categories(c) => self.plot.left + v / c.len().max(1) as f64 * self.plot.width(),
        }
    }

    /// The pixel y of data value `v`.
    pub fn y_px(&self, v: f64) -> f64 {
        self.plot.bottom - self.y.frac(v) * self.plot.height()
    }

    /// The left and right pixel edges of category `i`'s slot.
    pub fn slot(&self, i: usize) -> (f64, f64) {
        (self.x_px(i as f64), self.x_px(i as f64 + 1.0))
    }
}

/// True when labels centred at `centres` with `widths` leave `gap` pixels between
/// neighbours and stay within `lo..=hi`.
fn spaced(centres: &[f64], widths: &[f64], gap: f64, lo: f64, hi: f64) -> bool {
    let inside = centres
        .iter()
        .zip(widths)
        .all(|(c, w)| c - w / 2.0 >= lo && c + w / 2.0 <= hi);
    let apart = centres
        .windows(2)
        .zip(widths.windows(2))
        .all(|(c, w)| (c[1] - c[0]).abs() >= (w[0] + w[1]) / 2.0 + gap);
    inside && apart
}

/// Ticks of a numeric x axis spread over `plot`'s width.
fn numeric_x_ticks(scale: &Scale, unit: AxisUnit, plot: &Rect, width: f64) -> Vec<Tick> {
    let px = |v: f64| plot.left + scale.frac(v) * plot.width();
    let chosen = axis::ticks(scale, unit, MAX_X_TICKS, |t| {
        let centres: Vec<f64> = t.iter().map(|v| px(*v)).collect();
        let widths: Vec<f64> = t
            .iter()
            .map(|v| text_width(&unit.format(*v), TICK_SIZE))
            .collect();
        spaced(&centres, &widths, 10.0, 2.0, width - 2.0)
    });
    chosen
        .iter()
        .map(|v| Tick {
            px: px(*v),
            label: unit.format(*v),
        })
        .collect()
}

/// One label per category slot, every `k`-th one when they would not fit, ellipsized to
/// the space they have.
fn category_ticks(categories: &[String], plot: &Rect) -> Vec<Tick> {
    let n = categories.len();
    if n == 0 {
        return Vec::new();
    }
    let slot = plot.width() / n as f64;
    let widest = categories
        .iter()
        .map(|c| text_width(c, TICK_SIZE))
        .fold(0.0, f64::max);
    // Every k-th label, k just large enough for the labels (up to 60 px) to fit.
    let need = widest.min(60.0) + 8.0;
    let k = ((need / slot).ceil() as usize).clamp(1, n);
    (0..n)
        .step_by(k)
        .map(|i| Tick {
            px: plot.left + (i as f64 + 0.5) * slot,
            label: ellipsize(&categories[i], TICK_SIZE, (k as f64 * slot - 8.0).max(12.0)),
        })
        .collect()
}

/// Places mark labels in rows above the plot, each starting just right of its line (or
/// ending just left of it near the right edge). Each line rises to its own label, so a
/// row is free for a label when no label there overlaps it, no line from a higher row
/// crosses it, and its own line would cross no label in a lower row. Returns the places
/// and the number of rows.
fn place_marks(frame: &Frame, plan: &Plan, band_top: f64) -> (Vec<MarkPlace>, usize) {
    let XAxis::Numeric { scale, .. } = &frame.x else {
        return (Vec::new(), 0);
    };
    let mut marks: Vec<(f64, String)> = frame
        .marks
        .iter()
        .filter(|(x, _)| scale.accepts(*x))
        .map(|(x, label)| (plan.x_px(*x), ellipsize(label, MARK_SIZE, MAX_MARK_W)))
        .collect();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    // (row, label span with a little air, line x) of every placed mark.
    let mut taken: Vec<(usize, (f64, f64), f64)> = Vec::new();
    let mut placed = Vec::new();
    for (px, label) in marks {
        let w = text_width(&label, MARK_SIZE);
        let left = if px + 4.0 + w <= plan.width - MARGIN {
            px + 4.0
        } else {
            (px - 4.0 - w).max(MARGIN)
        };
        let span = (left - 4.0, left + w + 4.0);
        let inside = |x: f64, s: (f64, f64)| x >= s.0 && x <= s.1;
        let free = |row: usize| {
            taken.iter().all(|&(r, s, x)| {
                if r == row {
                    span.1 <= s.0 || span.0 >= s.1
                } else if r < row {
                    !inside(x, span)
                } else {
                    !inside(px, s)
                }
            })
        };
        let rows = taken.iter().map(|t| t.0 + 1).max().unwrap_or(0);
        let row = (0..rows).find(|&r| free(r)).unwrap_or(rows);
        taken.push((row, span, px));
        placed.push(MarkPlace {
            px,
            label,
            label_x: left,
            label_y: band_top + row as f64 * MARK_ROW_H + MARK_ROW_H / 2.0,
            label_w: w,
        });
    }
    let rows = taken.iter().map(|t| t.0 + 1).max().unwrap_or(0);
    (placed, rows)
}

/// Lays `frame` out on a `width` × `height` canvas.
pub(crate) fn plan(frame: &Frame, width: f64, height: f64) -> Plan {
    let title = ellipsize(&frame.title, TITLE_SIZE, width - 2.0 * MARGIN);
    let top0 = MARGIN + if title.is_empty() { 0.0 } else { TITLE_H };
    let labels: Vec<String> = frame
        .legend
        .iter()
        .map(|(l, _)| ellipsize(l, LEGEND_SIZE, MAX_LABEL_W))
        .collect();
    let widest = labels
        .iter()
        .map(|l| text_width(l, LEGEND_SIZE))
        .fold(0.0, f64::max);
    let entry_w = SWATCH_W + SWATCH_GAP + widest;
    let panel_w = 2.0 * LEGEND_PAD + entry_w;
    let n = labels.len();
    let bottom_fixed = MARGIN + X_TICK_H + X_DESC_H;
    let mut mark_rows = 0;
    let mut result = None;
    for _ in 0..4 {
        let top = top0 + mark_rows as f64 * MARK_ROW_H + if mark_rows > 0 { 6.0 } else { 0.0 };
        let room = height - top - bottom_fixed;
        let side =
            n > 0 && panel_w <= width * 0.34 && n as f64 * ENTRY_H + 2.0 * LEGEND_PAD <= room;
        let cols = if n == 0 || side {
            1
        } else {
            (((width - 2.0 * MARGIN + COL_GAP) / (entry_w + COL_GAP)).floor() as usize).clamp(1, n)
        };
        let below_h = if n > 0 && !side {
            n.div_ceil(cols) as f64 * ENTRY_H + 2.0 * LEGEND_PAD + 6.0
        } else {
            0.0
        };
        let bottom = (height - bottom_fixed - below_h).max(top + 40.0);
        let plot_h = bottom - top;
        // The y ticks depend on the height only; their labels' width sets the left edge.
        let y_max = ((plot_h / 42.0).floor() as usize).clamp(3, 9);
        let y_px = |v: f64| bottom - frame.y.frac(v) * plot_h;
        let y_values = axis::ticks(&frame.y, frame.y_unit, y_max, |t| {
            t.windows(2)
                .all(|w| (y_px(w[0]) - y_px(w[1])).abs() >= TICK_SIZE + 6.0)
        });
        let y_tick_w = y_values
            .iter()
            .map(|v| text_width(&frame.y_unit.format(*v), TICK_SIZE))
            .fold(0.0, f64::max);
        let left = MARGIN + Y_DESC_W + y_tick_w + TICK_LEN + 6.0;
        let right = width - MARGIN - if side { panel_w + LEGEND_GAP } else { 0.0 };
        let plot = Rect {
            left,
            top,
            right: right.max(left + 40.0),
            bottom,
        };
        let x_ticks = match &frame.x {
            XAxis::Numeric { scale, unit } => numeric_x_ticks(scale, *unit, &plot, width),
            XAxis::Categories(c) => category_ticks(c, &plot),
        };
        let legend = (n > 0).then(|| {
            let (rect, positions): (Rect, Vec<(f64, f64)>) = if side {
                let rect = Rect {
                    left: plot.right + LEGEND_GAP,
                    top: plot.top,
                    right: plot.right + LEGEND_GAP + panel_w,
                    bottom: plot.top + n as f64 * ENTRY_H + 2.0 * LEGEND_PAD,
                };
                let pos = (0..n)
                    .map(|i| {
                        (
                            rect.left + LEGEND_PAD,
                            rect.top + LEGEND_PAD + i as f64 * ENTRY_H,
                        )
                    })
                    .collect();
                (rect, pos)
            } else {
                let total = cols as f64 * entry_w + (cols - 1) as f64 * COL_GAP + 2.0 * LEGEND_PAD;
                let l = ((width - total) / 2.0).max(MARGIN);
                let t = plot.bottom + X_TICK_H + X_DESC_H + 6.0;
                let rect = Rect {
                    left: l,
                    top: t,
                    right: l + total,
                    bottom: t + n.div_ceil(cols) as f64 * ENTRY_H + 2.0 * LEGEND_PAD,
                };
                let pos = (0..n)
                    .map(|i| {
                        (
                            rect.left + LEGEND_PAD + (i % cols) as f64 * (entry_w + COL_GAP),
                            rect.top + LEGEND_PAD + (i / cols) as f64 * ENTRY_H,
                        )
                    })
                    .collect();
                (rect, pos)
            };
            Legend {
                rect,
                below: !side,
                entries: positions
                    .into_iter()
                    .zip(&labels)
                    .zip(&frame.legend)
                    .map(|(((x, y), label), (_, look))| Entry {
                        x,
                        y,
                        label: label.clone(),
                        look: *look,
                    })
                    .collect(),
            }
        });
        let mut plan = Plan {
            width,
            height,
            title: title.clone(),
            plot,
            x: frame.x.clone(),
            y: frame.y,
            x_ticks,
            y_ticks: Vec::new(),
            x_tick_y: plot.bottom + TICK_LEN + 3.0,
            x_desc_y: plot.bottom + X_TICK_H + 2.0,
            y_desc_x: MARGIN + Y_DESC_W / 2.0,
            x_label: ellipsize(&frame.x_label, LABEL_SIZE, width - 2.0 * MARGIN),
            y_label: ellipsize(&frame.y_label, LABEL_SIZE, plot_h),
            legend,
            marks: Vec::new(),
        };
        plan.y_ticks = y_values
            .iter()
            .map(|v| Tick {
                px: plan.y_px(*v),
                label: frame.y_unit.format(*v),
            })
            .collect();
        let (marks, rows) = place_marks(frame, &plan, top0 + 2.0);
        plan.marks = marks;
        let settled = rows == mark_rows;
        mark_rows = rows;
        result = Some(plan);
        if settled {
            break;
        }
    }
    result.expect("the loop runs at least once")
}
