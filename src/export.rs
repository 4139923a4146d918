//! Tabular exports (CSV and HXL): one writer for every export, so that quoting and the guard
//! against spreadsheet formulas are the same everywhere.
//!
//! CSV is RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a
//! quote or a line break, quotes doubled. HXL is the same CSV with a row of HXL hashtags under
//! the header (hxlstandard.org), which humanitarian tools read to know what each column is.

use std::borrow::Cow;

/// A column: its header, and its HXL hashtag.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub hxl: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Hxl,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        "text/csv; charset=utf-8"
    }

    /// The file name for `stem`: `stem.csv`, or `stem.hxl.csv`.
    pub fn file_name(self, stem: &str) -> String {
        match self {
            Format::Csv => format!("{stem}.csv"),
            Format::Hxl => format!("{stem}.hxl.csv"),
        }
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) starts with an apostrophe instead, as OWASP recommends.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

fn write_records<'a>(records: impl IntoIterator<Item = Vec<Cow<'a, str>>>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        // Writing to a Vec cannot fail; a failure would only drop this record.
        let _ = writer.write_record(record.iter().map(|c| c.as_bytes()));
    }
    writer.into_inner().unwrap_or_default()
}

/// The header line (and, for HXL, the hashtag line).
pub fn header(columns: &[Column], format: Format) -> Vec<u8> {
    let mut lines = vec![columns.iter().map(|c| Cow::Borrowed(c.header)).collect()];
    if format == Format::Hxl {
        lines.push(columns.iter().map(|c| Cow::Borrowed(c.hxl)).collect());
    }
    write_records(lines)
}

/// Data lines, every cell neutralised.
pub fn rows(rows: &[Vec<String>]) -> Vec<u8> {
    write_records(
        rows.iter()
            .map(|r| r.iter().map(|c| neutralise(c)).collect::<Vec<_>>()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 2] = [
        Column {
            header: "Name",
            hxl: "#org+name",
        },
        Column {
            header: "Note",
            hxl: "#description",
        },
    ];

    #[test]
    fn cells_round_trip_through_a_csv_reader() {
        let data = vec![
            vec![
                "Fundación \"Rumiñahui\", Madrid".to_owned(),
                "two\nlines".to_owned(),
            ],
            vec!["=HYPERLINK(\"x\")".to_owned(), "-1".to_owned()],
        ];
        let mut bytes = header(&COLUMNS, Format::Hxl);
        bytes.extend(rows(&data));
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("Name,Note\r\n#org+name,#description\r\n"));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let read: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(read[2], data[0]);
        assert_eq!(read[3], ["'=HYPERLINK(\"x\")", "'-1"]);
    }

    #[test]
    fn only_formula_starts_are_neutralised() {
        for (cell, out) in [
            ("=1+1", "'=1+1"),
            ("+33 1", "'+33 1"),
            ("@SUM", "'@SUM"),
            ("\t=1", "'\t=1"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), out);
        }
    }
}
