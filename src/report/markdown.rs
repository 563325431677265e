//! The Markdown renderer: a [`Document`] as GitHub-flavoured Markdown, with each chart
//! referenced as the `<name>.svg` file written beside it.

use super::document::{Block, Document, Section, Table};

/// Renders the document. Headings are `#` (title), `##` (sections), `###` (subsections);
/// tables are pipe tables with numeric columns right-aligned.
pub fn render(document: &Document) -> String {
    let mut out = format!("# {}\n\n", document.title);
    blocks(&document.intro, &mut out);
    for section in &document.sections {
        render_section(section, 2, &mut out);
    }
    out
}

fn render_section(section: &Section, level: usize, out: &mut String) {
    out.push_str(&format!("{} {}\n\n", "#".repeat(level), section.title));
    blocks(&section.blocks, out);
    for sub in &section.subsections {
        render_section(sub, level + 1, out);
    }
}

fn blocks(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Paragraph(text) => out.push_str(&format!("{text}\n\n")),
            Block::List(items) => {
                for item in items {
                    out.push_str(&format!("- {item}\n"));
                }
                out.push('\n');
            }
            Block::Table(table) => render_table(table, out),
            Block::Chart(figure) => out.push_str(&format!(
                "![{}]({}.svg)\n\n",
                figure.caption.replace(['[', ']'], ""),
                figure.name
            )),
            Block::Preformatted(text) => {
                out.push_str("```text\n");
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("```\n\n");
            }
        }
    }
}

/// A pipe in a cell would end it.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn render_table(table: &Table, out: &mut String) {
    if !table.caption.is_empty() {
        out.push_str(&format!("{}\n\n", table.caption));
    }
    let header: Vec<String> = table.columns.iter().map(|c| escape(c)).collect();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let rule: Vec<&str> = (0..table.columns.len())
        .map(|i| if table.is_numeric(i) { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| escape(&c.text())).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::Cell;

    #[test]
    fn renders_headings_tables_and_chart_references() {
        let mut section = Section::new("plan", "Plan");
        section.paragraph("The answer.");
        let mut t = Table::new("plan", "Sizes.", &["policy", "size"]);
        t.push(vec![Cell::Text("a|b".into()), Cell::Bytes(1024)]);
        section.push(Block::Table(t));
        let doc = Document {
            title: "R".into(),
            intro: vec![],
            sections: vec![section],
        };
        assert_eq!(
            render(&doc),
            "# R\n\n## Plan\n\nThe answer.\n\nSizes.\n\n| policy | size |\n|---|---:|\n| a\\|b | 1.0 KiB |\n\n"
        );
    }
}
