//! CSV (RFC 4180) for the exports: every field quoted, lines ending in CRLF, and a field a
//! spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) given a leading `'`. Exports carry text from the network and from other members (an
//! MQTT client identifier, a client's name), and opening one must not run what someone chose to
//! send.

/// The CSV of a header (plain column names, written as they are) and rows of fields (quoted).
pub fn to_csv<R>(header: &[&str], rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = String>,
{
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        push_line(&mut out, row);
    }
    out
}

fn push_line(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, &field);
    }
    out.push_str("\r\n");
}

/// What a field a spreadsheet would run as a formula starts with.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A field as it was before [`to_csv`] defused it: the `'` before a formula's start is dropped,
/// so a file Keygate exported reads back as it was exported.
pub fn undefused(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => field,
    }
}

fn push_field(out: &mut String, field: &str) {
    out.push('"');
    if field.starts_with(FORMULA_STARTS) {
        out.push('\'');
    }
    for c in field.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_quoted_quotes_doubled_and_formulas_defused() {
        let csv = to_csv(
            &["a", "b"],
            [vec![
                "say \"hi\"".to_owned(),
                "=HYPERLINK(\"x\")".to_owned(),
            ]],
        );
        assert_eq!(
            csv,
            "a,b\r\n\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
        for start in ["+1", "-1", "@x", "\tx", "\rx"] {
            assert!(
                to_csv(&["a"], [vec![start.to_owned()]]).contains("\"'"),
                "{start:?}"
            );
            assert_eq!(undefused(&format!("'{start}")), start);
        }
        assert_eq!(undefused("'quoted"), "'quoted");
        assert_eq!(undefused("plain"), "plain");
    }
}
