//! The report document model: what a report says, apart from how it is written.
//!
//! A [`Document`] is sections of [`Block`]s — paragraphs, [`Table`]s, charts and
//! preformatted text. Every output format is a renderer over this one model, and no
//! renderer knows another (the shape of ripgrep's `crates/printer`: one data model, one file
//! per format): [`super::text`] for the terminal, [`super::markdown`], [`super::html`]
//! (one self-contained file) and [`super::data`] (each table as CSV). A table's cells are
//! typed ([`Cell`]), and each cell has exactly one text ([`Cell::text`]) used by every
//! renderer, so a number reads the same in the terminal, the Markdown, the HTML and the CSV.

use super::chart::Chart;
use crate::units::format_bytes;

/// A whole report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The title.
    pub title: String,
    /// Paragraphs before the first section: what was run, on what.
    pub intro: Vec<Block>,
    /// The sections, in reading order (the answer first, then the detail).
    pub sections: Vec<Section>,
}

/// A titled part of a report; sections nest one level (`subsections`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// A stable identifier, used for anchors and file names (`plan`, `policies-zipf`).
    pub id: String,
    /// The heading.
    pub title: String,
    /// The content.
    pub blocks: Vec<Block>,
    /// Nested sections, one level down.
    pub subsections: Vec<Section>,
}

impl Section {
    /// An empty section with an id and a heading.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            ..Section::default()
        }
    }

    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Section {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Section {
        self.blocks.push(block);
        self
    }
}

/// One piece of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Prose. Text between backticks is code; nothing else is markup.
    Paragraph(String),
    /// A bulleted list of short items.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// A chart, drawn to its own file and shown inline.
    Chart(Figure),
    /// Text shown as it is, in a fixed-width font (trace statistics).
    Preformatted(String),
}

/// A chart with the file stem it is drawn to.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem, unique within a document (`mrc_zipf`): the chart is `<name>.svg`.
    pub name: String,
    /// One sentence saying what the chart shows (the image's alternative text).
    pub caption: String,
    /// The chart.
    pub chart: Chart,
}

/// A table of typed cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// File stem for the table's CSV, unique within a document (`plan`, `results`).
    pub name: String,
    /// What the table shows, shown above it; empty for none.
    pub caption: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with a name, a caption and column headings.
    pub fn new(name: impl Into<String>, caption: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            name: name.into(),
            caption: caption.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    ///
    /// When the row does not have one cell per column: a table is built by code, never
    /// from input, so a mismatch is a bug in that code.
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "table {}: a row must have one cell per column",
            self.name
        );
        self.rows.push(row);
    }

    /// True when a column holds numbers (every cell that is not missing is a number), so
    /// renderers right-align it.
    pub fn is_numeric(&self, column: usize) -> bool {
        let mut any = false;
        for row in &self.rows {
            match &row[column] {
                Cell::Missing => {}
                Cell::Text(_) => return false,
                _ => any = true,
            }
        }
        any
    }
}

/// One table cell, typed so that every renderer writes it the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Words.
    Text(String),
    /// A count.
    Count(u64),
    /// A signed whole number.
    Int(i64),
    /// A number with a fixed number of decimals.
    Fixed(f64, usize),
    /// A ratio in 0..=1 shown as a percentage with a fixed number of decimals.
    Percent(f64, usize),
    /// A byte count in binary units (`64.0 MiB`); the CSV keeps the exact count.
    Bytes(u64),
    /// No value: nothing was measured, or it does not apply (`-`).
    Missing,
}

impl Cell {
    /// A ratio to 4 decimals, or missing.
    pub fn ratio(value: Option<f64>) -> Cell {
        value.map_or(Cell::Missing, |v| Cell::Fixed(v, 4))
    }

    /// Text for people: the same in every format.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Fixed(v, decimals) if v.is_finite() => format!("{v:.decimals$}"),
            Cell::Percent(v, decimals) if v.is_finite() => format!("{:.decimals$}%", v * 100.0),
            Cell::Fixed(..) | Cell::Percent(..) | Cell::Missing => "-".to_string(),
            Cell::Bytes(n) => format_bytes(*n),
        }
    }

    /// Text for data files: exact byte counts and ratios (not percentages), empty when
    /// missing, so a spreadsheet reads numbers.
    pub fn data(&self) -> String {
        match self {
            Cell::Bytes(n) => n.to_string(),
            Cell::Percent(v, decimals) if v.is_finite() => {
                format!("{v:.prec$}", prec = decimals + 2)
            }
            Cell::Missing => String::new(),
            Cell::Fixed(v, _) | Cell::Percent(v, _) if !v.is_finite() => String::new(),
            other => other.text(),
        }
    }
}

/// Every table of a document, sections in order, depth first.
pub fn tables(document: &Document) -> Vec<&Table> {
    let mut out = Vec::new();
    for section in &document.sections {
        collect(section, &mut out, &|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        });
    }
    out
}

/// Every figure of a document, sections in order, depth first.
pub fn figures(document: &Document) -> Vec<&Figure> {
    let mut out = Vec::new();
    for section in &document.sections {
        collect(section, &mut out, &|b| match b {
            Block::Chart(f) => Some(f),
            _ => None,
        });
    }
    out
}

fn collect<'a, T>(
    section: &'a Section,
    out: &mut Vec<&'a T>,
    pick: &dyn Fn(&'a Block) -> Option<&'a T>,
) {
    out.extend(section.blocks.iter().filter_map(pick));
    for sub in &section.subsections {
        collect(sub, out, pick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_the_same_everywhere_and_exactly_in_data() {
        assert_eq!(Cell::Fixed(0.123456, 4).text(), "0.1235");
        assert_eq!(Cell::Percent(0.95, 1).text(), "95.0%");
        assert_eq!(Cell::Percent(0.95, 1).data(), "0.950");
        assert_eq!(Cell::Bytes(64 << 20).text(), "64.0 MiB");
        assert_eq!(Cell::Bytes(64 << 20).data(), "67108864");
        assert_eq!(Cell::ratio(None).text(), "-");
        assert_eq!(Cell::ratio(None).data(), "");
        assert_eq!(Cell::Fixed(f64::NAN, 2).text(), "-");
    }

    #[test]
    fn numeric_columns_are_those_without_text() {
        let mut t = Table::new("t", "", &["name", "n", "gap"]);
        t.push(vec![Cell::Text("a".into()), Cell::Count(1), Cell::Missing]);
        t.push(vec![Cell::Text("b".into()), Cell::Missing, Cell::Missing]);
        assert!(!t.is_numeric(0));
        assert!(t.is_numeric(1));
        assert!(
            !t.is_numeric(2),
            "a column with no value at all is not numeric"
        );
    }
}
