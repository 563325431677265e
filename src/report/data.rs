//! The data renderer: each [`Table`] of a report as CSV, with exact values ([`Cell::data`]:
//! byte counts, ratios rather than percentages, empty where nothing was measured).

use super::document::{Cell, Table};

/// The table as CSV with a header row.
pub fn table_csv(table: &Table) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing into a Vec cannot fail, and every record has the header's length (`Table::push`).
    writer
        .write_record(&table.columns)
        .expect("writing CSV into memory");
    for row in &table.rows {
        writer
            .write_record(row.iter().map(Cell::data))
            .expect("writing CSV into memory");
    }
    String::from_utf8(writer.into_inner().expect("flushing CSV into memory"))
        .expect("CSV of UTF-8 cells is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_keeps_exact_values() {
        let mut t = Table::new("t", "", &["policy", "bytes", "hit"]);
        t.push(vec![
            Cell::Text("a,b".into()),
            Cell::Bytes(1536),
            Cell::Missing,
        ]);
        assert_eq!(table_csv(&t), "policy,bytes,hit\n\"a,b\",1536,\n");
    }
}
