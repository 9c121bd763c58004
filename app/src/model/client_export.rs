//! A workspace's clients as a file (CSV or JSON), for the Clients page's Export and later the API:
//! what each client is and may do, never a key nor a hash (a key's fingerprint tells which key a
//! device holds, nothing more).

use super::{ClientExpiry, ClientRow, time_format};
use serde::{Deserialize, Serialize};

/// The file formats an export is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    #[default]
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// One client in a JSON export. Times are Unix milliseconds, as everywhere in the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedClient {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    /// A restricted client's devices and tags; `None`: any device of the workspace.
    pub scope: Option<String>,
    pub topic_rules: super::TopicRules,
    pub keys: Vec<ExportedKey>,
}

/// One key of an exported client: which it is and when it ends, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedKey {
    pub fingerprint: String,
    pub created_at: i64,
    pub ends_at: Option<i64>,
    pub retiring: bool,
}

impl From<&ClientRow> for ExportedClient {
    fn from(row: &ClientRow) -> Self {
        ExportedClient {
            client_id: row.client_id.to_string(),
            name: row.name.clone(),
            description: row.description.clone(),
            active: row.active,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            scope: row.scope.as_ref().map(|s| s.to_text()),
            topic_rules: row.topic_rules.clone(),
            keys: row
                .keys
                .iter()
                .map(|k| ExportedKey {
                    fingerprint: k.fingerprint.clone(),
                    created_at: k.created_at,
                    ends_at: k.ends_at,
                    retiring: k.retiring,
                })
                .collect(),
        }
    }
}

const CSV_HEADER: [&str; 10] = [
    "client_id",
    "name",
    "description",
    "active",
    "scope",
    "topic_rules",
    "created_utc",
    "last_seen_utc",
    "key_fingerprints",
    "expires_utc",
];

/// The clients as `format`, at `now` (a client's expiry is judged then).
pub fn write(rows: &[ClientRow], format: ExportFormat, now: i64) -> String {
    match format {
        ExportFormat::Json => {
            let clients: Vec<ExportedClient> = rows.iter().map(ExportedClient::from).collect();
            serde_json::to_string_pretty(&clients).unwrap_or_else(|_| "[]".to_owned())
        }
        ExportFormat::Csv => super::csv::to_csv(
            &CSV_HEADER,
            rows.iter().map(|row| {
                let expires = match ClientExpiry::of(&row.keys, now) {
                    ClientExpiry::Never => String::new(),
                    ClientExpiry::Ends(at) => time_format::utc_seconds(at),
                    ClientExpiry::Expired => "expired".to_owned(),
                };
                [
                    row.client_id.to_string(),
                    row.name.clone(),
                    row.description.clone(),
                    row.active.to_string(),
                    row.scope.as_ref().map(|s| s.to_text()).unwrap_or_default(),
                    if row.topic_rules.is_empty() {
                        String::new()
                    } else {
                        row.topic_rules.to_json()
                    },
                    time_format::utc_seconds(row.created_at),
                    row.last_seen_at
                        .map(time_format::utc_seconds)
                        .unwrap_or_default(),
                    row.keys
                        .iter()
                        .map(|k| k.fingerprint.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    expires,
                ]
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, KeyInfo, TopicRules};

    fn row(id: &str, name: &str) -> ClientRow {
        ClientRow {
            client_id: ClientId::parse(id).unwrap(),
            name: name.into(),
            description: String::new(),
            active: true,
            created_at: 1_764_633_600_000,
            updated_at: 1_764_633_600_000,
            last_seen_at: None,
            live_sessions: 0,
            revocation: None,
            scope: None,
            topic_rules: TopicRules::default(),
            keys: vec![KeyInfo {
                id: "k1".into(),
                fingerprint: "0a1b2c3d".into(),
                created_at: 1_764_633_600_000,
                ends_at: Some(1_764_720_000_000),
                retiring: false,
                last_used_at: Some(1),
                last_address: Some("10.0.0.1:5000".into()),
                live_sessions: 2,
            }],
        }
    }

    #[test]
    fn csv_has_a_line_per_client_defuses_formulas_and_holds_no_key_ids_or_addresses() {
        let csv = write(&[row("c-1", "=cmd|' /C calc'!A0")], ExportFormat::Csv, 0);
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("\"c-1\",\"'=cmd"), "{csv}");
        assert!(
            lines[1].contains("\"0a1b2c3d\",\"2025-12-03 00:00:00\""),
            "{csv}"
        );
        assert!(!csv.contains("k1") && !csv.contains("10.0.0.1"), "{csv}");
    }

    #[test]
    fn json_reads_back_as_what_was_written() {
        let json = write(&[row("c-1", "Boiler")], ExportFormat::Json, 0);
        let back: Vec<ExportedClient> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![ExportedClient::from(&row("c-1", "Boiler"))]);
        assert!(!json.contains("10.0.0.1") && !json.contains("\"k1\""));
    }
}
