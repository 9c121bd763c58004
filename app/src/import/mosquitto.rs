//! Mosquitto's `password_file`, one `username:hash` a line, as `mosquitto_passwd` writes it:
//! `$7$ITERATIONS$SALT$HASH` (PBKDF2-HMAC-SHA512, Mosquitto 2's default) or `$6$SALT$HASH`
//! (SHA-512 of the password and the salt, Mosquitto 1.x), salt and hash in base64. Blank lines
//! and `#` comments are skipped, as Mosquitto does.

use super::{
    Credential, ImportError, ImportProblem, ImportedEntry, Parsed, Position, base64, client_id,
};
use crate::model::{HashDigest, SaltPosition};
use crate::secrets::ImportedHash;

/// Every line of a password file.
pub fn parse_password_file(text: &str) -> Parsed {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let position = Position::Line(i + 1);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(position, line) {
            Ok(entry) => entries.push(entry),
            Err(e) => errors.push(e),
        }
    }
    Ok((entries, errors))
}

fn parse_line(position: Position, line: &str) -> Result<ImportedEntry, ImportError> {
    let fail = |problem| ImportError::at(position, problem);
    let (username, hash) = line
        .split_once(':')
        .ok_or(fail(ImportProblem::NoSeparator))?;
    let client_id = client_id(position, username)?;
    let hash = parse_hash(position, hash)?;
    Ok(ImportedEntry {
        position,
        client_id,
        credential: Credential::Hash(hash),
        fields: None,
    })
}

/// One `$7$…` or `$6$…` hash.
pub fn parse_hash(position: Position, hash: &str) -> Result<ImportedHash, ImportError> {
    let fail = |problem| ImportError::at(position, problem);
    let parts: Vec<&str> = hash.split('$').collect();
    match parts.as_slice() {
        ["", "7", iterations, salt, hash] => Ok(ImportedHash::Pbkdf2 {
            digest: HashDigest::Sha512,
            iterations: super::iterations(position, iterations.parse().ok())?,
            salt: base64(position, "salt", salt)?,
            hash: base64(position, "hash", hash)?,
        }),
        ["", "6", salt, hash] => {
            let hash = base64(position, "hash", hash)?;
            ImportedHash::salted(
                HashDigest::Sha512,
                SaltPosition::Suffix,
                base64(position, "salt", salt)?,
                hash,
            )
            .ok_or(fail(ImportProblem::BadBase64("hash")))
        }
        ["", "7" | "6", ..] => Err(fail(ImportProblem::MalformedHash)),
        ["", kind, ..] => Err(fail(ImportProblem::UnknownHashType(format!(
            "${}$",
            kind.chars().take(8).collect::<String>()
        )))),
        _ => Err(fail(ImportProblem::UnknownHashType(
            hash.chars().take(8).collect(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ImportFormat, parse};
    use super::*;

    /// Written by `mosquitto_passwd -c -b FILE alice alicepw` (Mosquitto 2.0.11).
    const ALICE: &str = "alice:$7$101$9f5jc+oY+D/moMBO$HammUd6cH1twKhKpoUnsafBmg61kGgwlOjLrseyWVVVijX8Ey/0sPxmBNIf3W70YDw4jtXFxsPtqjXhsNUVGUQ==";

    #[test]
    fn a_mosquitto_2_line_verifies_its_password_only() {
        let entries = parse(ImportFormat::MosquittoPasswordFile, ALICE).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].client_id.as_str(), "alice");
        assert!(entries[0].credential.hash().verify(b"alicepw"));
        assert!(!entries[0].credential.hash().verify(b"alicepx"));
    }

    #[test]
    fn a_mosquitto_1_line_verifies_sha512_of_password_then_salt() {
        use base64ct::{Base64, Encoding};
        use sha2::{Digest, Sha512};
        let salt = b"0123456789ab";
        let digest = Sha512::new()
            .chain_update(b"oldpw")
            .chain_update(salt)
            .finalize();
        let line = format!(
            "bob-1:$6${}${}",
            Base64::encode_string(salt),
            Base64::encode_string(&digest)
        );
        let entries = parse(ImportFormat::MosquittoPasswordFile, &line).unwrap();
        assert!(entries[0].credential.hash().verify(b"oldpw"));
        assert!(!entries[0].credential.hash().verify(b"oldpx"));
    }

    #[test]
    fn comments_blank_lines_and_crlf_are_skipped() {
        let text = format!("# devices\r\n\r\n{ALICE}\r\n");
        assert_eq!(
            parse(ImportFormat::MosquittoPasswordFile, &text)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn every_bad_line_is_reported_by_its_number_and_nothing_is_imported() {
        let text = format!(
            "{ALICE}\ngarbage\nbob:$7$101$!!!$AAAA\ncarol:$5$x$y\nx y:$6$AAAA$AAAA\n{ALICE}\n\
             dave:$7$99999999999$AAAA$AAAA\neve:$7$101$AAAA\n"
        );
        let errors = parse(ImportFormat::MosquittoPasswordFile, &text).unwrap_err();
        let found: Vec<(Position, ImportProblem)> = errors
            .into_iter()
            .map(|e| (e.position, e.problem))
            .collect();
        assert_eq!(
            found,
            vec![
                (Position::Line(2), ImportProblem::NoSeparator),
                (Position::Line(3), ImportProblem::BadBase64("salt")),
                (
                    Position::Line(4),
                    ImportProblem::UnknownHashType("$5$".into())
                ),
                (
                    Position::Line(5),
                    ImportProblem::InvalidClientId(
                        "' ' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'."
                            .into()
                    )
                ),
                (
                    Position::Line(7),
                    ImportProblem::BadIterations {
                        max: crate::secrets::MAX_PBKDF2_ITERATIONS
                    }
                ),
                (Position::Line(8), ImportProblem::MalformedHash),
                (
                    Position::Line(6),
                    ImportProblem::Duplicate {
                        username: "alice".into(),
                        first: Position::Line(1)
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_huge_or_empty_file_is_refused() {
        let huge = "a".repeat(super::super::MAX_IMPORT_BYTES + 1);
        assert!(matches!(
            parse(ImportFormat::MosquittoPasswordFile, &huge).unwrap_err()[0].problem,
            ImportProblem::TooLarge { .. }
        ));
        assert_eq!(
            parse(ImportFormat::MosquittoPasswordFile, "\n# none\n").unwrap_err()[0].problem,
            ImportProblem::Empty
        );
    }
}
