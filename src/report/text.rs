//! The terminal renderer: a [`Table`] as aligned columns of plain text.

use super::document::Table;

/// Renders a table with a header line, text columns left-aligned and numeric columns
/// right-aligned, two spaces between columns, one line per row. The caption is not
/// printed: the command around the table says what it is.
pub fn table(table: &Table) -> String {
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|c| c.text()).collect())
        .collect();
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| table.is_numeric(i))
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = widths[i] - cell.chars().count();
            if numeric[i] {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&table.columns);
    for row in &cells {
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::Cell;

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let mut t = Table::new("t", "", &["policy", "hit ratio"]);
        t.push(vec![Cell::Text("lru".into()), Cell::Fixed(0.5, 4)]);
        t.push(vec![Cell::Text("s3fifo".into()), Cell::Missing]);
        assert_eq!(
            table(&t),
            "policy  hit ratio\nlru        0.5000\ns3fifo          -\n"
        );
    }
}
