//! The activity log as CSV, for Settings → Activity's export, written by [`super::csv`] (every
//! field quoted, formulas defused: events carry text from the network, an MQTT client's
//! identifier, a username).

use super::{AuditEntry, time_format};

const HEADER: [&str; 6] = ["time_utc", "who", "what", "target", "detail", "address"];

/// The CSV of `entries`, a header line first, lines ending in CRLF.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    super::csv::to_csv(
        &HEADER,
        entries.iter().map(|e| {
            [
                time_format::utc_seconds(e.at),
                e.actor.clone(),
                e.action.as_str().to_owned(),
                e.target.clone(),
                e.detail.clone(),
                e.address.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuditAction;

    fn entry(actor: &str, target: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            id: 1,
            at: 1_764_633_600_000,
            actor: actor.into(),
            action: AuditAction::MqttAuthFailed,
            target: target.into(),
            detail: detail.into(),
            address: "192.0.2.7".into(),
        }
    }

    #[test]
    fn quotes_commas_newlines_and_quotes_survive_a_csv_parser_round_trip() {
        let csv = to_csv(&[entry(
            "ann@example.test",
            "pump, \"north\"",
            "line 1\nline 2",
        )]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next(), Some(HEADER.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(
                "\"2025-12-02 00:00:00\",\"ann@example.test\",\"mqtt.auth_failed\",\"pump, \"\"north\"\"\",\"line 1\nline 2\",\"192.0.2.7\""
            )
        );
    }

    #[test]
    fn a_field_that_would_run_as_a_formula_is_defused() {
        for hostile in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tcmd",
        ] {
            let csv = to_csv(&[entry("a", hostile, "")]);
            assert!(
                csv.contains(&format!("\"'{}\"", hostile.replace('"', "\"\""))),
                "{csv}"
            );
        }
    }
}
