//! Keygate's own export read back ([`crate::model::client_export`]), CSV or JSON, so a workspace
//! moves or is restored with one file: each row's `client_id`, `name`, `description`, `active`,
//! `scope` and `topic_rules`; the export's dates and fingerprints describe keys it never holds
//! and are ignored. Keys are generated for every row, or read from a `key` column a person added
//! ([`KeySource`]). A CSV field the export defused (`'=…`) reads back as it was.

use super::rows::{self, Row};
use super::{
    ClientFields, Credential, ImportError, ImportProblem, ImportedEntry, Parsed, client_id, field,
};
use crate::model::csv::undefused;
use crate::model::{ClientKey, ClientName, Description, KeySource, Scope, TopicRule};
use serde_json::Value;

/// Every row of a Keygate export.
pub fn parse(text: &str, keys: KeySource) -> Parsed {
    let rows = rows::read(text, &["client_id"])?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match entry(&row, keys) {
            Ok(entry) => entries.push(entry),
            Err(e) => errors.push(e),
        }
    }
    Ok((entries, errors))
}

fn entry(row: &Row, keys: KeySource) -> Result<ImportedEntry, ImportError> {
    let position = row.position;
    let at = |problem| ImportError::at(position, problem);
    let text = |column| row.text(column).map(|t| undefused(&t).to_owned());
    let id_text = text("client_id").ok_or(at(ImportProblem::Missing("client_id")))?;
    let client_id = client_id(position, &id_text)?;
    let name = field(
        position,
        "name",
        ClientName::parse(&text("name").unwrap_or_else(|| id_text.clone())),
    )?;
    let description = field(
        position,
        "description",
        Description::parse(&text("description").unwrap_or_default()),
    )?;
    let active = match row.value("active") {
        None => true,
        Some(Value::Bool(active)) => *active,
        Some(other) => match other
            .as_str()
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("true" | "yes" | "1") => true,
            Some("false" | "no" | "0") => false,
            _ => {
                return Err(at(ImportProblem::Invalid {
                    column: "active",
                    why: "write true or false".into(),
                }));
            }
        },
    };
    let scope = text("scope")
        .map(|t| field(position, "scope", Scope::parse(&t)))
        .transpose()?;
    let topic_rules: Vec<TopicRule> = match row.value("topic_rules") {
        None => Vec::new(),
        Some(Value::String(json)) => field(position, "topic_rules", serde_json::from_str(json))?,
        Some(value) => field(
            position,
            "topic_rules",
            serde_json::from_value(value.clone()),
        )?,
    };
    let credential = match (keys, row.text("key")) {
        (KeySource::Generated, None) => Credential::Generate,
        (KeySource::Generated, Some(_)) => return Err(at(ImportProblem::KeyNotWanted)),
        (KeySource::Given, None) => return Err(at(ImportProblem::Missing("key"))),
        (KeySource::Given, Some(key)) => {
            Credential::Key(field(position, "key", ClientKey::parse(&key))?)
        }
    };
    Ok(ImportedEntry {
        position,
        client_id,
        credential,
        fields: Some(ClientFields {
            name,
            description,
            active,
            scope,
            topic_rules,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ImportFormat, Position, parse};
    use super::*;
    use crate::model::client_export::{self, ExportFormat};
    use crate::model::{ClientId, ClientRow, TopicRules};

    fn exported(id: &str, name: &str, active: bool, scope: Option<&str>, rules: &str) -> ClientRow {
        ClientRow {
            client_id: ClientId::parse(id).unwrap(),
            name: name.into(),
            description: "=cmd|' /C calc'!A0".into(),
            active,
            created_at: 1_764_633_600_000,
            updated_at: 1_764_633_600_000,
            last_seen_at: None,
            live_sessions: 0,
            revocation: None,
            scope: scope.map(|s| Scope::parse(s).unwrap()),
            topic_rules: TopicRules::from_json(rules).unwrap(),
            keys: Vec::new(),
        }
    }

    #[test]
    fn an_export_reads_back_as_it_was_in_either_format() {
        let rules = r#"[{"permission":"deny","action":"publish","filter":"acme/secret/#"}]"#;
        let rows = vec![
            exported("c-one", "-first", true, None, "[]"),
            exported(
                "c-two",
                "Second, \"quoted\"",
                false,
                Some("dev-1,site=berlin"),
                rules,
            ),
        ];
        for format in [ExportFormat::Csv, ExportFormat::Json] {
            let text = client_export::write(&rows, format, 0);
            let entries = parse(ImportFormat::Keygate(KeySource::Generated), &text)
                .unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            assert_eq!(entries.len(), 2);
            for (entry, row) in entries.iter().zip(&rows) {
                let fields = entry.fields.as_ref().unwrap();
                assert_eq!(entry.client_id, row.client_id);
                assert_eq!(fields.name.as_str(), row.name);
                assert_eq!(fields.description.as_str(), row.description);
                assert_eq!(fields.active, row.active);
                assert_eq!(fields.scope, row.scope);
                assert_eq!(fields.topic_rules, row.topic_rules.clone().into_vec());
                assert!(matches!(entry.credential, Credential::Generate));
            }
        }
    }

    #[test]
    fn given_keys_come_from_the_key_column_and_a_bad_one_is_named_by_its_line() {
        let text =
            "client_id,name,key\nc-one,One,my-own-typed-key-0123\nc-two,Two,tiny\nc-three,Three,\n";
        let errors = parse(ImportFormat::Keygate(KeySource::Given), text).unwrap_err();
        let found: Vec<(Position, String)> = errors
            .iter()
            .map(|e| (e.position, e.problem.to_string()))
            .collect();
        assert_eq!(found[0].0, Position::Line(3));
        assert!(found[0].1.starts_with("key: "), "{found:?}");
        assert!(!found[0].1.contains("tiny"), "a key is never repeated");
        assert_eq!(found[1], (Position::Line(4), "key is missing".into()));
        let errors = parse(ImportFormat::Keygate(KeySource::Generated), text).unwrap_err();
        assert_eq!(errors[0].problem, ImportProblem::KeyNotWanted);
        let one = "client_id,key\nc-one,my-own-typed-key-0123\n";
        let entries = parse(ImportFormat::Keygate(KeySource::Given), one).unwrap();
        let Credential::Key(key) = &entries[0].credential else {
            panic!("a key")
        };
        assert_eq!(key.expose(), "my-own-typed-key-0123");
        assert_eq!(entries[0].fields.as_ref().unwrap().name.as_str(), "c-one");
    }

    #[test]
    fn every_bad_row_is_reported_by_its_line() {
        let text = "client_id,name,active,scope,topic_rules\n\
                    c-good,Good,true,,\n\
                    bad id,x,true,,\n\
                    c-active,x,maybe,,\n\
                    c-scope,x,true,\"a b\",\n\
                    c-rules,x,true,,not json\n\
                    c-good,again,true,,\n";
        let errors = parse(ImportFormat::Keygate(KeySource::Generated), text).unwrap_err();
        let lines: Vec<Position> = errors.iter().map(|e| e.position).collect();
        assert_eq!(
            lines,
            [2usize, 3, 4, 5, 6]
                .iter()
                .map(|n| Position::Line(n + 1))
                .collect::<Vec<_>>(),
            "{errors:?}"
        );
    }
}
