//! Mosquitto's `dynamic-security.json`: its `clients`, each with a `username` and, when it has
//! a password, `password` (the PBKDF2-HMAC-SHA512 hash), `salt` (both base64) and
//! `iterations`. Roles and groups are not imported: Keygate's scopes are set per client.

use super::{
    Credential, ImportError, ImportProblem, ImportedEntry, Parsed, Position, base64, client_id,
};
use crate::model::HashDigest;
use crate::secrets::ImportedHash;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    clients: Vec<Client>,
}

#[derive(Deserialize)]
struct Client {
    username: Option<String>,
    password: Option<String>,
    salt: Option<String>,
    iterations: Option<u64>,
}

/// Every client of a `dynamic-security.json`.
pub fn parse(text: &str) -> Parsed {
    let file: File = serde_json::from_str(text).map_err(|e| {
        vec![ImportError::at(
            if e.line() > 0 {
                Position::Line(e.line())
            } else {
                Position::File
            },
            ImportProblem::Json(e.to_string()),
        )]
    })?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, client) in file.clients.into_iter().enumerate() {
        match entry(Position::Client(i + 1), client) {
            Ok(entry) => entries.push(entry),
            Err(e) => errors.push(e),
        }
    }
    Ok((entries, errors))
}

fn entry(position: Position, client: Client) -> Result<ImportedEntry, ImportError> {
    let missing = |what| ImportError::at(position, ImportProblem::Missing(what));
    let username = client.username.ok_or(missing("username"))?;
    let client_id = client_id(position, &username)?;
    let hash = client.password.ok_or(missing("password"))?;
    let salt = client.salt.ok_or(missing("salt"))?;
    Ok(ImportedEntry {
        position,
        client_id,
        credential: Credential::Hash(ImportedHash::Pbkdf2 {
            digest: HashDigest::Sha512,
            iterations: super::iterations(position, client.iterations)?,
            salt: base64(position, "salt", &salt)?,
            hash: base64(position, "hash", &hash)?,
        }),
        fields: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ImportFormat, parse};
    use super::*;

    /// The client `mosquitto_ctrl dynsec init FILE admin secretpw` wrote (Mosquitto 2.0.11).
    const ADMIN: &str = r#"{"clients": [{"username": "admin", "textName": "Dynsec admin user",
        "password": "TgzW1lcTxS9I5NnXJl3BP22LaRl/lAHbumpmAp0MbvZxR+ROn/z+I/SOhZlLTtKGdXcjbUBH1gtHclibB4acnQ==",
        "salt": "0gNSB3Af8c6HJQai", "iterations": 101, "roles": [{"rolename": "admin"}]}],
        "roles": []}"#;

    #[test]
    fn a_dynsec_client_verifies_its_password_only() {
        let entries = parse(ImportFormat::MosquittoDynsec, ADMIN).unwrap();
        assert_eq!(entries[0].client_id.as_str(), "admin");
        assert!(entries[0].credential.hash().verify(b"secretpw"));
        assert!(!entries[0].credential.hash().verify(b"secretpx"));
    }

    #[test]
    fn broken_json_is_reported_at_its_line() {
        let errors = parse(ImportFormat::MosquittoDynsec, "{\n\"clients\": [\n}").unwrap_err();
        assert_eq!(errors[0].position, Position::Line(3));
    }

    #[test]
    fn a_client_without_a_password_or_with_bad_base64_is_reported_by_its_place() {
        let text = r#"{"clients": [{"username": "nopw"},
            {"username": "bad", "password": "***", "salt": "AAAA", "iterations": 101}]}"#;
        let errors = parse(ImportFormat::MosquittoDynsec, text).unwrap_err();
        assert_eq!(
            errors,
            vec![
                ImportError::at(Position::Client(1), ImportProblem::Missing("password")),
                ImportError::at(Position::Client(2), ImportProblem::BadBase64("hash")),
            ]
        );
    }
}
