//! The records of a table-shaped file, CSV or JSON, as Keygate's export and EMQX's user export
//! write them: a JSON array of objects when the text starts with `[`, otherwise CSV with a header
//! line. Each record keeps where it is (a line of the CSV, a place in the array), so every
//! problem found in it later is reported there.

use super::{ImportError, ImportProblem, Position};
use serde_json::{Map, Value};

/// One record: where it is and its fields by column name. A CSV's cells are strings; a JSON
/// object's values are as written.
#[derive(Debug)]
pub struct Row {
    pub position: Position,
    fields: Map<String, Value>,
}

impl Row {
    /// The value of `column`; `None` when it is absent, `null` or an empty string.
    pub fn value(&self, column: &str) -> Option<&Value> {
        match self.fields.get(column)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            value => Some(value),
        }
    }

    /// The text of `column`: a string as it is, a number or a boolean as JSON writes it.
    pub fn text(&self, column: &str) -> Option<String> {
        match self.value(column)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// Every record of `text`, each of which must have the `required` columns; the problems
/// instead when the file cannot be read as a table.
pub fn read(text: &str, required: &[&'static str]) -> Result<Vec<Row>, Vec<ImportError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        read_json(text)
    } else {
        read_csv(text, required)
    }
}

fn read_json(text: &str) -> Result<Vec<Row>, Vec<ImportError>> {
    let objects: Vec<Map<String, Value>> = serde_json::from_str(text).map_err(|e| {
        vec![ImportError::at(
            if e.line() > 0 {
                Position::Line(e.line())
            } else {
                Position::File
            },
            ImportProblem::Json(e.to_string()),
        )]
    })?;
    Ok(objects
        .into_iter()
        .enumerate()
        .map(|(i, fields)| Row {
            position: Position::Client(i + 1),
            fields,
        })
        .collect())
}

fn read_csv(text: &str, required: &[&'static str]) -> Result<Vec<Row>, Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| vec![csv_error(text, &e)])?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let missing: Vec<ImportError> = required
        .iter()
        .filter(|column| !header.iter().any(|h| h == *column))
        .map(|column| ImportError::at(Position::Line(1), ImportProblem::MissingColumn(column)))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| line_at(text, p.byte()));
                rows.push(Row {
                    position: Position::Line(line),
                    fields: header
                        .iter()
                        .cloned()
                        .zip(record.iter().map(|cell| Value::String(cell.to_owned())))
                        .collect(),
                });
            }
            Err(e) => errors.push(csv_error(text, &e)),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The 1-based line of `text` a record starting at byte `offset` is on. After a CRLF the reader
/// puts a record's start on the LF that ends the line before (and counts its lines from there),
/// so that LF belongs to the earlier line.
fn line_at(text: &str, offset: u64) -> usize {
    let bytes = text.as_bytes();
    let mut offset = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    if bytes.get(offset) == Some(&b'\n') {
        offset += 1;
    }
    1 + bytes[..offset].iter().filter(|b| **b == b'\n').count()
}

/// A CSV reader's error at its line: a record with more or fewer fields than the header.
fn csv_error(text: &str, e: &csv::Error) -> ImportError {
    let position = e
        .position()
        .map_or(Position::File, |p| Position::Line(line_at(text, p.byte())));
    let problem = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => ImportProblem::Csv(format!("{len} fields where the header has {expected_len}")),
        _ => ImportProblem::Csv(e.to_string()),
    };
    ImportError::at(position, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_lines_and_json_rows_their_places() {
        let csv = "\u{feff}a,b\r\n1,\"two\nlines\"\r\n3,4\r\n";
        let errors = read("a,b\r\n1,2\r\n3\r\n", &["a"]).unwrap_err();
        assert_eq!(
            errors[0].position,
            Position::Line(3),
            "CRLF lines count once"
        );
        let rows = read(csv, &["a"]).unwrap();
        assert_eq!(rows[0].position, Position::Line(2));
        assert_eq!(rows[0].text("b").as_deref(), Some("two\nlines"));
        assert_eq!(rows[1].position, Position::Line(4));
        let json = r#" [{"a": "x", "b": true, "c": null}, {"a": ""}]"#;
        let rows = read(json, &["a"]).unwrap();
        assert_eq!(rows[0].position, Position::Client(1));
        assert_eq!(rows[0].text("b").as_deref(), Some("true"));
        assert_eq!(rows[0].text("c"), None);
        assert_eq!(rows[1].text("a"), None);
    }

    #[test]
    fn a_missing_column_or_a_short_row_is_reported_at_its_line() {
        let errors = read("b\n1\n", &["a"]).unwrap_err();
        assert_eq!(errors[0].problem, ImportProblem::MissingColumn("a"));
        let errors = read("a,b\n1,2\n3\n4,5\n", &["a"]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].position, Position::Line(3));
    }
}
