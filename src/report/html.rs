//! The HTML renderer: a [`Document`] as one self-contained page.
//!
//! Everything the page shows is inside the file: the style sheet is inline, every chart is
//! inline SVG (the `<svg>` element of the chart file, without its XML prologue or namespace
//! declaration, which HTML does not need), and there is no script, font, image or link to
//! fetch. The page therefore opens offline and sends no request; the browser test
//! (`tests/report_browser.rs`) checks that in Chromium. Each table carries
//! `id="table-<name>"` and each chart `id="chart-<name>"`, so tools find them.

use std::collections::BTreeMap;

use super::document::{Block, Document, Figure, Section, Table};

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.7em;border-bottom:2px solid #0072B2;padding-bottom:.2em}\
h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid #ccc}\
h3{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}\
caption{caption-side:top;text-align:left;padding:.3em 0;color:#444}\
th,td{border:1px solid #ccc;padding:.25em .6em}\
th{background:#eef3f8;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tr:nth-child(even) td{background:#fafafa}\
figure{margin:1em 0}\
figure svg{max-width:100%;height:auto}\
figcaption{color:#444;font-size:.9em}\
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}\
code{background:#f2f2f2;padding:0 .2em}\
nav ul{columns:2}\
.wide{overflow-x:auto}";

/// Renders the document; `svgs` maps each figure's name to its SVG text (as the chart file
/// holds it). A figure without an SVG is shown as its caption alone.
pub fn render(document: &Document, svgs: &BTreeMap<String, String>) -> String {
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&document.title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&document.title)));
    blocks(&document.intro, svgs, &mut out);
    if document.sections.len() > 1 {
        out.push_str("<nav><ul>\n");
        for s in &document.sections {
            out.push_str(&format!(
                "<li><a href=\"#{}\">{}</a></li>\n",
                escape(&s.id),
                escape(&s.title)
            ));
        }
        out.push_str("</ul></nav>\n");
    }
    for section in &document.sections {
        render_section(section, 2, svgs, &mut out);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn render_section(
    section: &Section,
    level: usize,
    svgs: &BTreeMap<String, String>,
    out: &mut String,
) {
    out.push_str(&format!(
        "<section id=\"{}\">\n<h{level}>{}</h{level}>\n",
        escape(&section.id),
        escape(&section.title)
    ));
    blocks(&section.blocks, svgs, out);
    for sub in &section.subsections {
        render_section(sub, (level + 1).min(6), svgs, out);
    }
    out.push_str("</section>\n");
}

fn blocks(blocks: &[Block], svgs: &BTreeMap<String, String>, out: &mut String) {
    for block in blocks {
        match block {
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", inline(text))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(table) => render_table(table, out),
            Block::Chart(figure) => render_figure(figure, svgs, out),
            Block::Preformatted(text) => out.push_str(&format!("<pre>{}</pre>\n", escape(text))),
        }
    }
}

fn render_table(table: &Table, out: &mut String) {
    out.push_str(&format!(
        "<div class=\"wide\"><table id=\"table-{}\">\n",
        escape(&table.name)
    ));
    if !table.caption.is_empty() {
        out.push_str(&format!("<caption>{}</caption>\n", inline(&table.caption)));
    }
    out.push_str("<thead><tr>");
    for c in &table.columns {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| table.is_numeric(i))
        .collect();
    for row in &table.rows {
        out.push_str("<tr>");
        for (cell, &n) in row.iter().zip(&numeric) {
            let class = if n { " class=\"n\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", escape(&cell.text())));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}

fn render_figure(figure: &Figure, svgs: &BTreeMap<String, String>, out: &mut String) {
    out.push_str(&format!(
        "<figure id=\"chart-{}\" role=\"img\" aria-label=\"{}\">\n",
        escape(&figure.name),
        escape(&figure.caption)
    ));
    if let Some(svg) = svgs.get(&figure.name) {
        out.push_str(&inline_svg(svg));
        out.push('\n');
    }
    out.push_str(&format!(
        "<figcaption>{}</figcaption>\n</figure>\n",
        inline(&figure.caption)
    ));
}

/// The `<svg>` element of an SVG file, without the XML prologue and the namespace
/// declarations (an HTML parser puts `<svg>` in the SVG namespace by itself).
pub fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..]
        .replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
        .trim_end()
        .to_string()
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Escaped text with `code` spans between backticks.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::Cell;

    #[test]
    fn page_is_self_contained_and_escaped() {
        let mut section = Section::new("s", "A <b> & c");
        section.paragraph("run `cachelab plan`");
        let mut t = Table::new("plan", "", &["policy", "n"]);
        t.push(vec![Cell::Text("<x>".into()), Cell::Count(3)]);
        section.push(Block::Table(t));
        let doc = Document {
            title: "T".into(),
            intro: vec![],
            sections: vec![section],
        };
        let html = render(&doc, &BTreeMap::new());
        assert!(html.contains("<h2>A &lt;b&gt; &amp; c</h2>"), "{html}");
        assert!(html.contains("run <code>cachelab plan</code>"));
        assert!(html.contains("<table id=\"table-plan\">"));
        assert!(html.contains("<td>&lt;x&gt;</td><td class=\"n\">3</td>"));
        assert!(!html.contains("http"), "nothing to fetch: {html}");
        assert!(!html.contains("<script") && !html.contains("<link"));
    }

    #[test]
    fn inline_svg_drops_prologue_and_namespaces() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n";
        assert_eq!(inline_svg(svg), "<svg width=\"10\"><rect/></svg>");
    }
}
