//! Tests of the chart module: tick labels and units, fixed looks per name, the layout (the
//! legend beside the plot, mark labels apart), marker thinning, dashes, and drawing (empty,
//! degenerate and deterministic charts, SVG and PNG).

use super::axis::{self, AxisUnit, Scale};
use super::layout::{self, Frame, XAxis};
use super::render::{self, MAX_MARKERS};
use super::style::{self, Dash, FIXED, PALETTE};
use super::*;

/// The (x, y, text) of every `<text>` element of an SVG plotters wrote.
fn svg_texts(svg: &str) -> Vec<(f64, f64, String)> {
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
        let end = start + tag[start..].find('"').expect("closing quote");
        tag[start..end].parse().expect("a number")
    };
    svg.split("<text ")
        .skip(1)
        .map(|rest| {
            let (tag, after) = rest.split_once('>').expect("tag end");
            let tag = format!(" {tag}");
            let body = after
                .split("</text>")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            (attr(&tag, "x"), attr(&tag, "y"), body)
        })
        .collect()
}

fn two_policies() -> LineChart {
    LineChart::new("t", "cache size (bytes)", "miss ratio")
        .log_x()
        .x_unit(AxisUnit::Bytes)
        .y_unit(AxisUnit::Percent)
        .line(
            "lru",
            vec![(1024.0 * 1024.0, 0.5), (64.0 * 1024.0 * 1024.0, 0.2)],
        )
        .line(
            "fifo",
            vec![(1024.0 * 1024.0, 0.6), (64.0 * 1024.0 * 1024.0, 0.3)],
        )
}

#[test]
fn tick_labels_carry_their_units() {
    assert_eq!(AxisUnit::Bytes.format(64.0 * 1024.0 * 1024.0), "64 MiB");
    assert_eq!(AxisUnit::Bytes.format(512.0 * 1024.0), "512 KiB");
    assert_eq!(
        AxisUnit::Bytes.format(2.0 * 1024.0 * 1024.0 * 1024.0),
        "2 GiB"
    );
    assert_eq!(
        AxisUnit::Bytes.format(1.5 * 1024.0 * 1024.0 * 1024.0),
        "1.5 GiB"
    );
    assert_eq!(AxisUnit::Bytes.format(100.0), "100 B");
    assert_eq!(AxisUnit::Percent.format(0.35), "35%");
    assert_eq!(AxisUnit::Percent.format(0.025), "2.5%");
    assert_eq!(AxisUnit::Ratio.format(0.35), "0.35");
    assert_eq!(AxisUnit::Ratio.format(0.30000000000000004), "0.3");
    assert_eq!(AxisUnit::Plain.format(1500.0), "1.5k");
    assert_eq!(AxisUnit::Plain.format(20_000_000.0), "20M");
    assert_eq!(AxisUnit::Plain.format(12.0), "12");
    assert_eq!(AxisUnit::Count.format(16.0), "16");
    assert_eq!(AxisUnit::Seconds.format(90.0), "90 s");
    assert_eq!(AxisUnit::Seconds.format(300.0), "5 min");
    assert_eq!(AxisUnit::Seconds.format(7200.0), "2 h");
    assert_eq!(AxisUnit::Seconds.format(250e-6), "250 µs");
    assert_eq!(AxisUnit::Seconds.format(0.0015), "1.5 ms");
}

/// Ticks without a width limit on their labels.
fn free_ticks(scale: &Scale, unit: AxisUnit, max: usize) -> Vec<f64> {
    axis::ticks(scale, unit, max, |_| true)
}

#[test]
fn client_ticks_are_whole_numbers() {
    // Clients 1..16 on a log axis: powers of two.
    let log = Scale::fit([1.0, 2.0, 4.0, 8.0, 16.0], true, AxisUnit::Count, 0.03);
    assert_eq!(
        free_ticks(&log, AxisUnit::Count, 8),
        [1.0, 2.0, 4.0, 8.0, 16.0]
    );
    // Clients 1..5 on a linear axis: no 2.5.
    let linear = Scale::fit([1.0, 2.0, 3.0, 4.0, 5.0], false, AxisUnit::Count, 0.02);
    let ticks = free_ticks(&linear, AxisUnit::Count, 8);
    assert!(!ticks.is_empty());
    assert!(ticks.iter().all(|t| t.fract() == 0.0), "{ticks:?}");
    // Two clients only: still no halves.
    let narrow = Scale::fit([2.0, 3.0], false, AxisUnit::Count, 0.05);
    let ticks = free_ticks(&narrow, AxisUnit::Count, 8);
    assert_eq!(ticks, [2.0, 3.0]);
    // The same with a plain unit would have used fractions.
    assert!(
        free_ticks(&narrow, AxisUnit::Plain, 8)
            .iter()
            .any(|t| t.fract() != 0.0)
    );
}

#[test]
fn byte_ticks_on_a_log_axis_are_powers_of_two() {
    let mib = 1024.0 * 1024.0;
    let scale = Scale::fit([mib, 1024.0 * mib], true, AxisUnit::Bytes, 0.03);
    let ticks = free_ticks(&scale, AxisUnit::Bytes, 8);
    assert!(ticks.len() <= 8 && ticks.len() >= 3, "{ticks:?}");
    assert!(ticks.iter().all(|t| t.log2().fract() == 0.0), "{ticks:?}");
    let labels: Vec<String> = ticks.iter().map(|t| AxisUnit::Bytes.format(*t)).collect();
    assert!(labels.contains(&"1 MiB".to_string()), "{labels:?}");
    assert!(labels.contains(&"1 GiB".to_string()), "{labels:?}");
}

#[test]
fn y_range_fits_the_data_and_stays_within_zero_and_one_for_ratios() {
    let s = Scale::fit([0.4, 0.6], false, AxisUnit::Percent, 0.05);
    assert!(
        (s.lo - 0.39).abs() < 1e-9 && (s.hi - 0.61).abs() < 1e-9,
        "{s:?}"
    );
    let s = Scale::fit([0.02, 1.0], false, AxisUnit::Ratio, 0.05);
    assert_eq!((s.lo, s.hi), (0.0, 1.0));
    // Throughput far from zero does not start at zero.
    let s = Scale::fit([90_000.0, 100_000.0], false, AxisUnit::Plain, 0.05);
    assert!(s.lo > 80_000.0, "{s:?}");
    // All-equal values get a range around them.
    let s = Scale::fit([5.0, 5.0], false, AxisUnit::Plain, 0.05);
    assert!(s.lo < 5.0 && s.hi > 5.0);
    // Nothing finite: a default range.
    let s = Scale::fit([f64::NAN, f64::INFINITY], false, AxisUnit::Plain, 0.05);
    assert_eq!((s.lo, s.hi), (0.0, 1.0));
}

#[test]
fn a_name_looks_the_same_in_every_chart() {
    let a = LineChart::new("a", "x", "y")
        .line("fifo", vec![(1.0, 1.0)])
        .line("lru", vec![(1.0, 1.0)]);
    let b = LineChart::new("b", "x", "y")
        .line("arc", vec![(1.0, 1.0)])
        .line("s3fifo", vec![(1.0, 1.0)])
        .line("lru", vec![(1.0, 1.0)]);
    assert_eq!(a.looks()[1], b.looks()[2]);
    assert_eq!(a.looks()[1], look_for("lru"));
    // A policy's parameters do not change its colour.
    assert_eq!(
        look_for("s3fifo:small=0.2").colour,
        look_for("s3fifo").colour
    );
    // An unknown name is the same in any position, too.
    let c = LineChart::new("c", "x", "y").line("mystery", vec![(1.0, 1.0)]);
    let d = LineChart::new("d", "x", "y")
        .line("lru", vec![(1.0, 1.0)])
        .line("mystery", vec![(1.0, 1.0)]);
    assert_eq!(c.looks()[0], d.looks()[1]);
}

#[test]
fn known_policies_have_different_colours() {
    let policies: Vec<&str> = crate::catalog::CATALOG.rows().map(|r| r.name).collect();
    assert!(policies.len() >= 14, "{policies:?}");
    let colours: Vec<[u8; 3]> = policies.iter().map(|p| look_for(p).colour).collect();
    for (i, a) in colours.iter().enumerate() {
        for (j, b) in colours.iter().enumerate().skip(i + 1) {
            assert_ne!(a, b, "{} and {}", policies[i], policies[j]);
        }
    }
    // Every fixed row names a palette colour; no colour is the too-light Okabe–Ito yellow.
    assert!(FIXED.iter().all(|&(_, c, ..)| c < PALETTE.len()));
    assert!(!PALETTE.contains(&[0xF0, 0xE4, 0x42]));
}

#[test]
fn variants_of_one_name_get_different_dashes() {
    let looks = style::assign_looks(&[
        ("s3fifo:small=0.1", None),
        ("s3fifo:small=0.2", None),
        ("cas p99", Some(Dash::Solid)),
        ("cas p50", Some(Dash::Dotted)),
    ]);
    assert_eq!(looks[0].colour, looks[1].colour);
    assert_ne!(looks[0].dash, looks[1].dash);
    assert_eq!(looks[2].colour, looks[3].colour);
    assert_eq!((looks[2].dash, looks[3].dash), (Dash::Solid, Dash::Dotted));
}

#[test]
fn unknown_names_take_free_colours() {
    let names: Vec<String> = (0..10).map(|i| format!("node{i}:11211")).collect();
    let series: Vec<(&str, Option<Dash>)> = names.iter().map(|n| (n.as_str(), None)).collect();
    let looks = style::assign_looks(&series);
    for (i, a) in looks.iter().enumerate() {
        for b in &looks[i + 1..] {
            assert_ne!(a.colour, b.colour);
        }
    }
}

fn frame_of(chart: &LineChart) -> Frame {
    Frame {
        title: chart.title.clone(),
        x_label: chart.x_label.clone(),
        y_label: chart.y_label.clone(),
        x: XAxis::Numeric {
            scale: chart.x_scale(),
            unit: chart.x_unit,
        },
        y: Scale::fit([0.0, 1.0], false, AxisUnit::Percent, 0.05),
        y_unit: chart.y_unit,
        legend: chart
            .series
            .iter()
            .zip(chart.looks())
            .map(|(s, l)| (s.name.clone(), l))
            .collect(),
        marks: chart.marks.iter().map(|m| (m.x, m.label.clone())).collect(),
    }
}

#[test]
fn the_legend_sits_right_of_the_plot() {
    let (plan, _) = two_policies().plan();
    let legend = plan.legend.expect("two series have a legend");
    assert!(!legend.below);
    assert!(
        legend.rect.left >= plan.plot.right + 1.0,
        "{legend:?} {:?}",
        plan.plot
    );
    assert!(legend.rect.right <= plan.width);
    assert!(legend.entries.iter().all(|e| e.x > plan.plot.right));
    assert_eq!(legend.entries[0].label, "lru");
    // And in the SVG: the legend's texts start right of the plot, the tick labels do not.
    let svg = two_policies().to_svg().unwrap();
    let texts = svg_texts(&svg);
    let lru = texts
        .iter()
        .find(|t| t.2 == "lru")
        .expect("lru in the legend");
    assert!(lru.0 > plan.plot.right, "{lru:?}");
    let tick = texts
        .iter()
        .find(|t| t.2 == "64 MiB")
        .expect("a 64 MiB tick");
    assert!(
        tick.0 <= plan.plot.right && tick.1 > plan.plot.bottom,
        "{tick:?}"
    );
}

#[test]
fn a_long_legend_goes_below_the_plot_and_is_not_cut() {
    let mut chart = LineChart::new("t", "x", "y");
    for i in 0..30 {
        chart = chart.line(format!("series number {i}"), vec![(1.0, i as f64)]);
    }
    let (plan, _) = chart.plan();
    let legend = plan.legend.expect("a legend");
    assert!(legend.below);
    assert!(legend.rect.top >= plan.plot.bottom);
    assert!(legend.rect.bottom <= plan.height);
    assert!(legend.rect.left >= 0.0 && legend.rect.right <= plan.width);
    assert!(
        legend
            .entries
            .iter()
            .all(|e| e.label.starts_with("series number"))
    );
    // A label too long for any panel keeps its start and ends in an ellipsis.
    let long = "x".repeat(200);
    let (plan, _) = LineChart::new("t", "x", "y")
        .line(long.clone(), vec![(1.0, 1.0)])
        .plan();
    let label = &plan.legend.expect("a legend").entries[0].label;
    assert!(label.ends_with('…') && label.len() < long.len());
}

#[test]
fn mark_labels_do_not_overlap() {
    let chart = LineChart::new("t", "window", "hit ratio")
        .x_unit(AxisUnit::Count)
        .line("cutover", (0..100).map(|w| (w as f64, 0.5)).collect())
        .mark(30.0, "switch")
        .mark(31.0, "warm (95%)")
        .mark(32.0, "retire old: fallback, dual-write");
    let (plan, _) = chart.plan();
    assert_eq!(plan.marks.len(), 3);
    for (i, a) in plan.marks.iter().enumerate() {
        assert!(a.label_y < plan.plot.top, "labels sit above the plot");
        for (j, b) in plan.marks.iter().enumerate() {
            if i == j {
                continue;
            }
            let same_row = (a.label_y - b.label_y).abs() < 1.0;
            let apart = a.label_x + a.label_w <= b.label_x || b.label_x + b.label_w <= a.label_x;
            assert!(!same_row || apart, "{a:?} {b:?}");
            // b's line rises to b's row: it must not cross a's label in a lower row.
            let crosses = b.px >= a.label_x && b.px <= a.label_x + a.label_w;
            assert!(!crosses || b.label_y > a.label_y, "{b:?} crosses {a:?}");
        }
    }
    // The frame reserved the rows: the plot starts below the lowest label.
    let f = frame_of(&chart);
    let again = layout::plan(&f, 900.0, 560.0);
    assert!(
        again
            .marks
            .iter()
            .all(|m| m.label_y + 6.0 <= again.plot.top)
    );
}

#[test]
fn x_tick_labels_do_not_collide() {
    let chart = LineChart::new("t", "size", "y")
        .log_x()
        .x_unit(AxisUnit::Bytes)
        .line("lru", vec![(1.0, 0.1), (1e15, 0.2)]);
    let (plan, _) = chart.plan();
    assert!(
        plan.x_ticks.len() >= 2 && plan.x_ticks.len() <= 8,
        "{:?}",
        plan.x_ticks
    );
    for w in plan.x_ticks.windows(2) {
        let need = (layout::text_width(&w[0].label, layout::TICK_SIZE)
            + layout::text_width(&w[1].label, layout::TICK_SIZE))
            / 2.0;
        assert!(w[1].px - w[0].px >= need, "{:?}", plan.x_ticks);
    }
}

#[test]
fn markers_are_thinned_on_long_series() {
    assert_eq!(render::marker_indices(5, 0, 1), [0, 1, 2, 3, 4]);
    let many = render::marker_indices(1000, 0, 3);
    assert!(
        many.len() <= MAX_MARKERS && many.len() >= MAX_MARKERS - 1,
        "{many:?}"
    );
    // Another series of the same length marks other points.
    let other = render::marker_indices(1000, 1, 3);
    assert!(other.iter().all(|i| !many.contains(i)));
    let chart =
        LineChart::new("t", "x", "y").line("lru", (0..500).map(|i| (i as f64, 1.0)).collect());
    let (_, lines) = chart.plan();
    assert!(lines[0].markers.len() <= MAX_MARKERS);
    // lru's marker is a circle: one per kept point plus the legend's.
    let svg = chart.to_svg().unwrap();
    assert_eq!(svg.matches("<circle").count(), lines[0].markers.len() + 1);
}

#[test]
fn dashes_cut_a_line_into_pieces() {
    let pieces = render::dash_pieces(&[(0.0, 0.0), (28.0, 0.0)], &[9.0, 5.0]);
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[0], [(0.0, 0.0), (9.0, 0.0)]);
    assert_eq!(pieces[1], [(14.0, 0.0), (23.0, 0.0)]);
    // The pattern carries across a corner.
    let pieces = render::dash_pieces(&[(0.0, 0.0), (6.0, 0.0), (6.0, 6.0)], &[9.0, 5.0]);
    assert_eq!(pieces[0], [(0.0, 0.0), (6.0, 0.0), (6.0, 3.0)]);
    // Solid is one piece.
    assert_eq!(render::dash_pieces(&[(0.0, 0.0), (5.0, 5.0)], &[]).len(), 1);
}

#[test]
fn degenerate_charts_draw() {
    let dir = tempfile::tempdir().unwrap();
    let charts = [
        LineChart::new("", "", ""),
        LineChart::new("empty series", "x", "y").line("lru", vec![]),
        LineChart::new("one point", "x", "y")
            .log_x()
            .line("lru", vec![(10.0, 0.5)]),
        LineChart::new("flat", "x", "y")
            .y_unit(AxisUnit::Percent)
            .line("lru", vec![(1.0, 0.3), (2.0, 0.3)]),
        LineChart::new("not finite", "x", "y").log_x().line(
            "lru",
            vec![
                (f64::NAN, 0.5),
                (0.0, 0.2),
                (10.0, f64::INFINITY),
                (-1.0, 1.0),
            ],
        ),
        LineChart::new("mark only", "x", "y").mark(5.0, "here"),
    ];
    for (i, chart) in charts.iter().enumerate() {
        let svg = chart.to_svg().unwrap();
        assert!(svg.contains("<svg"), "{}", chart.title);
        let png = dir.path().join(format!("{i}.png"));
        chart.draw(&png).unwrap();
    }
    assert!(charts[0].to_svg().unwrap().contains("no data"));
    let bars = BarChart::new("no nodes", "node", "reads");
    assert!(bars.to_svg().unwrap().contains("no data"));
}

#[test]
fn draws_svg_and_png_the_same_every_time() {
    let chart = two_policies().mark(8.0 * 1024.0 * 1024.0, "8 MiB");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.svg"), dir.path().join("b.svg"));
    chart.draw(&a).unwrap();
    chart.draw(&b).unwrap();
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(text, std::fs::read_to_string(&b).unwrap());
    assert_eq!(text, chart.to_svg().unwrap());
    let labels: Vec<String> = svg_texts(&text).into_iter().map(|t| t.2).collect();
    for want in [
        "lru",
        "fifo",
        "64 MiB",
        "1 MiB",
        "50%",
        "8 MiB",
        "miss ratio",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
    }
    assert!(text.contains("font-family=\"sans-serif\""));
    let png = dir.path().join("c.png");
    chart.draw(&png).unwrap();
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
}

#[test]
fn node_load_draws_a_pair_of_bars_per_node() {
    let chart = BarChart::new("load", "node", "reads")
        .categories(["node1:11211", "node2:11211", "node3:11211"])
        .bars("requests", vec![100.0, 300.0, 200.0])
        .bars("hits", vec![50.0, 250.0, f64::NAN]);
    let (plan, bars) = chart.plan();
    assert_eq!(bars.len(), 5);
    // Bars stand on zero, and the busiest node's is the tallest.
    let zero = plan.y_px(0.0);
    assert!(bars.iter().all(|b| (b.rect.bottom - zero).abs() < 1e-9));
    let tallest = bars
        .iter()
        .max_by(|a, b| a.rect.height().total_cmp(&b.rect.height()))
        .unwrap();
    assert!(tallest.rect.left > plan.slot(1).0 && tallest.rect.right < plan.slot(1).1);
    let svg = chart.to_svg().unwrap();
    let labels: Vec<String> = svg_texts(&svg).into_iter().map(|t| t.2).collect();
    assert!(labels.contains(&"node2:11211".to_string()), "{labels:?}");
    assert!(labels.contains(&"requests".to_string()), "{labels:?}");
}

#[test]
fn node_labels_leave_out_a_shared_port() {
    let (names, port) = node_categories(["node1:11211", "node2:11211"].into_iter());
    assert_eq!(
        (names, port.as_deref()),
        (
            vec!["node1".to_string(), "node2".to_string()],
            Some("11211")
        )
    );
    let (names, port) = node_categories(["a:1", "b:2"].into_iter());
    assert_eq!(
        (names, port),
        (vec!["a:1".to_string(), "b:2".to_string()], None)
    );
    let (names, port) = node_categories(std::iter::empty());
    assert!(names.is_empty() && port.is_none());
}
