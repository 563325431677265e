//! Axes: the unit an axis counts in ([`AxisUnit`]), the range fitted to the data, and the
//! ticks and their labels.
//!
//! Ranges follow the data (min..max with a little padding) rather than starting at zero,
//! but padding never crosses zero for non-negative data and never passes 1 for ratios.
//! Ticks are "nice" numbers: 1-2-5 steps in decimal units, powers of two for bytes (and for
//! small counts on a log axis), whole numbers only for counts. The layout asks for a tick
//! set with at most so many ticks whose labels do not collide, finest first.

/// What an axis counts, which decides how its ticks are chosen and labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AxisUnit {
    /// Any number, with SI suffixes: `1.5k`, `20M`.
    #[default]
    Plain,
    /// Whole things (clients, windows, objects): integer ticks only.
    Count,
    /// Bytes, in binary units: `512 KiB`, `64 MiB`, `2 GiB`.
    Bytes,
    /// A fraction in 0..=1 shown as a percentage: `35%`.
    Percent,
    /// A fraction in 0..=1 shown as is: `0.35`.
    Ratio,
    /// Seconds, shown in ns, µs, ms, s, min or h.
    Seconds,
}

/// `value` with at most `decimals` decimals, trailing zeros dropped.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A number without a unit: two decimals above 1, three significant digits below.
fn number(value: f64) -> String {
    let abs = value.abs();
    if abs == 0.0 {
        return "0".to_string();
    }
    if abs < 1.0 {
        // At most 12 decimals: the cast is of a small positive number.
        let decimals = ((-abs.log10()).floor() as usize + 3).min(12);
        return trimmed(value, decimals);
    }
    trimmed(value, 2)
}

/// A number with an SI suffix: 1.5k, 20M, 3G, 0.25.
fn si(value: f64) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e12 {
        (value / 1e12, "T")
    } else if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    format!("{}{suffix}", number(scaled))
}

/// The time unit (factor in seconds, suffix) a span of `magnitude` seconds reads best in.
fn time_unit(magnitude: f64) -> (f64, &'static str) {
    if magnitude == 0.0 || !magnitude.is_finite() {
        (1.0, "s")
    } else if magnitude >= 7200.0 {
        (3600.0, "h")
    } else if magnitude >= 120.0 {
        (60.0, "min")
    } else if magnitude >= 1.0 {
        (1.0, "s")
    } else if magnitude >= 1e-3 {
        (1e-3, "ms")
    } else if magnitude >= 1e-6 {
        (1e-6, "µs")
    } else {
        (1e-9, "ns")
    }
}

/// The binary unit (factor, suffix) of `bytes`.
fn byte_unit(bytes: f64) -> (f64, &'static str) {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut factor = 1.0;
    let mut i = 0;
    while i + 1 < UNITS.len() && bytes.abs() >= factor * 1024.0 {
        factor *= 1024.0;
        i += 1;
    }
    (factor, UNITS[i])
}

impl AxisUnit {
    /// `value` as a tick label in this unit: `64 MiB`, `35%`, `0.35`, `16`, `1.5k`,
    /// `250 µs`. Non-finite values print as they are.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return value.to_string();
        }
        match self {
            AxisUnit::Plain => si(value),
            AxisUnit::Ratio => number(value),
            AxisUnit::Percent => format!("{}%", number(value * 100.0)),
            AxisUnit::Count => {
                if value.abs() >= 10_000.0 || value.fract() != 0.0 {
                    si(value)
                } else {
                    format!("{value:.0}")
                }
            }
            AxisUnit::Bytes => {
                let (factor, suffix) = byte_unit(value);
                format!("{} {suffix}", number(value / factor))
            }
            AxisUnit::Seconds => {
                let (factor, suffix) = time_unit(value.abs());
                format!("{} {suffix}", number(value / factor))
            }
        }
    }

    /// True for units whose values are fractions of a whole.
    fn is_fraction(self) -> bool {
        matches!(self, AxisUnit::Percent | AxisUnit::Ratio)
    }
}

/// A fitted axis range, linear or logarithmic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    /// The lowest value shown.
    pub lo: f64,
    /// The highest value shown.
    pub hi: f64,
    /// Logarithmic (then `lo > 0`).
    pub log: bool,
}

impl Scale {
    /// Where `v` lies between `lo` (0) and `hi` (1).
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// True when `v` can be drawn on this axis (finite, and positive on a log axis).
    pub fn accepts(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }

    /// Fits a scale to `values` (non-finite ones, and non-positive ones on a log axis,
    /// skipped) with `pad` of the span added on each side. A log axis with nothing positive
    /// to show becomes linear.
    pub fn fit(
        values: impl IntoIterator<Item = f64>,
        log: bool,
        unit: AxisUnit,
        pad: f64,
    ) -> Scale {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if log {
            let positive = values.iter().copied().filter(|v| *v > 0.0);
            let (min, max) = positive.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            if min.is_finite() {
                let (mut l0, mut l1) = (min.ln(), max.ln());
                if l1 - l0 < 1e-9 {
                    l0 -= std::f64::consts::LN_2;
                    l1 += std::f64::consts::LN_2;
                } else {
                    let span = l1 - l0;
                    l0 -= pad * span;
                    l1 += pad * span;
                }
                let (lo, mut hi) = (l0.exp(), l1.exp());
                if unit.is_fraction() && max <= 1.0 {
                    hi = hi.min(1.0);
                }
                return Scale { lo, hi, log: true };
            }
        }
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if !min.is_finite() {
            return Scale {
                lo: 0.0,
                hi: 1.0,
                log: false,
            };
        }
        let (mut lo, mut hi) = if max - min <= max.abs().max(min.abs()) * 1e-12 {
            let d = match unit {
                AxisUnit::Count => 1.0,
                _ if unit.is_fraction() && (0.0..=1.0).contains(&min) => 0.05,
                _ if min == 0.0 => 1.0,
                _ => min.abs() * 0.1,
            };
            (min - d, max + d)
        } else {
            let span = max - min;
            (min - pad * span, max + pad * span)
        };
        if min >= 0.0 && lo < 0.0 {
            lo = 0.0;
        }
        if unit.is_fraction() && max <= 1.0 && hi > 1.0 {
            hi = 1.0;
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        Scale { lo, hi, log: false }
    }
}

/// The smallest "nice" step in `unit` that is at least `raw`.
fn nice_step(raw: f64, unit: AxisUnit) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    match unit {
        AxisUnit::Bytes => {
            let step = 2f64.powi(raw.log2().ceil() as i32);
            step.max(1.0)
        }
        AxisUnit::Seconds => {
            let (factor, _) = time_unit(raw * 4.0);
            decimal_step(raw / factor) * factor
        }
        AxisUnit::Count => decimal_step(raw).max(1.0),
        _ => decimal_step(raw),
    }
}

/// The smallest of 1, 2, 5 × 10^e that is at least `raw`.
fn decimal_step(raw: f64) -> f64 {
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    for m in [1.0, 2.0, 5.0, 10.0] {
        let step = m * base;
        if step >= raw * (1.0 - 1e-9) {
            return step;
        }
    }
    10.0 * base
}

/// The multiples of `step` within `scale`.
fn multiples(scale: &Scale, step: f64) -> Vec<f64> {
    let first = (scale.lo / step - 1e-9).ceil();
    let last = (scale.hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 1000.0 {
        return Vec::new();
    }
    // Bounded by the check above, so the casts are exact.
    (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .map(|v| if v == 0.0 { 0.0 } else { v })
        .collect()
}

/// Linear tick sets for `scale`, finest first.
fn linear_candidates(scale: &Scale, unit: AxisUnit) -> Vec<Vec<f64>> {
    let span = scale.hi - scale.lo;
    let mut step = nice_step(span / 16.0, unit);
    let mut out = Vec::new();
    for _ in 0..16 {
        out.push(multiples(scale, step));
        let next = nice_step(step * 1.0001, unit);
        step = if next > step { next } else { step * 2.0 };
    }
    out
}

/// Log tick sets for `scale`, finest first.
fn log_candidates(scale: &Scale, unit: AxisUnit) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    let powers_of_two = match unit {
        AxisUnit::Bytes => true,
        AxisUnit::Count => scale.hi <= 8192.0,
        _ => false,
    };
    let whole = matches!(unit, AxisUnit::Bytes | AxisUnit::Count);
    if powers_of_two {
        let k0 = scale.lo.log2().ceil() as i32;
        let k1 = scale.hi.log2().floor() as i32;
        for stride in [1, 2, 5, 10, 20, 30, 50] {
            let ticks: Vec<f64> = (k0..=k1)
                .filter(|k| k.rem_euclid(stride) == 0 && (!whole || *k >= 0))
                .map(|k| 2f64.powi(k))
                .collect();
            out.push(ticks);
        }
        return out;
    }
    let e0 = scale.lo.log10().floor() as i32;
    let e1 = scale.hi.log10().ceil() as i32;
    let in_range = |v: f64| v >= scale.lo * (1.0 - 1e-9) && v <= scale.hi * (1.0 + 1e-9);
    let sets: [&[f64]; 3] = [
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 3.0],
    ];
    for mantissas in sets {
        let ticks: Vec<f64> = (e0..=e1)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| in_range(*v) && (!whole || *v >= 1.0))
            .collect();
        out.push(ticks);
    }
    for stride in [1, 2, 3, 5, 10] {
        let ticks: Vec<f64> = (e0..=e1)
            .filter(|e| e.rem_euclid(stride) == 0)
            .map(|e| 10f64.powi(e))
            .filter(|v| in_range(*v) && (!whole || *v >= 1.0))
            .collect();
        out.push(ticks);
    }
    out
}

/// Chooses ticks for `scale`: the finest candidate set with 2 to `max` ticks whose labels
/// `fit`; failing that, the first set of one tick that fits; failing that, none. Log axes
/// try their own sets first and linear steps when a range is too narrow for them.
pub(crate) fn ticks(
    scale: &Scale,
    unit: AxisUnit,
    max: usize,
    fits: impl Fn(&[f64]) -> bool,
) -> Vec<f64> {
    let mut candidates = Vec::new();
    if scale.log {
        candidates.extend(log_candidates(scale, unit));
    }
    candidates.extend(linear_candidates(scale, unit));
    let ok = |t: &Vec<f64>| t.iter().all(|v| scale.accepts(*v)) && fits(t);
    if let Some(found) = candidates
        .iter()
        .find(|t| (2..=max.max(2)).contains(&t.len()) && ok(t))
    {
        return found.clone();
    }
    candidates
        .into_iter()
        .find(|t| t.len() == 1 && ok(t))
        .unwrap_or_default()
}
