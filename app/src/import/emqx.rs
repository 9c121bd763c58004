//! EMQX 5's built-in database users as its `import_users` takes them and its dashboard exports
//! them: a JSON array of `{"user_id", "password_hash", "salt", "is_superuser"}` or a CSV with
//! those columns. The file does not say how the hashes were made: that is the authenticator's
//! `password_hash_algorithm` ([`EmqxHashing`]), chosen with the file. Hashes are hex and
//! compared without regard to case, as EMQX does; a salt is used as the text it is. Keygate has
//! no superusers: `is_superuser` is ignored, and every client stays in its workspace's topics.

use super::rows::{self, Row};
use super::{Credential, ImportError, ImportProblem, ImportedEntry, Parsed, Position, client_id};
use crate::model::{EmqxHashing, HashDigest};
use crate::secrets::{ImportedHash, MAX_BCRYPT_COST, MAX_PBKDF2_ITERATIONS, digest_len};

/// Every user of an EMQX export whose hashes `hashing` made.
pub fn parse(text: &str, hashing: EmqxHashing) -> Parsed {
    if let EmqxHashing::Pbkdf2 { iterations, .. } = hashing
        && iterations > MAX_PBKDF2_ITERATIONS
    {
        return Err(vec![ImportError::at(
            Position::File,
            ImportProblem::BadIterations {
                max: MAX_PBKDF2_ITERATIONS,
            },
        )]);
    }
    let rows = rows::read(text, &["user_id", "password_hash"])?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match entry(&row, hashing) {
            Ok(entry) => entries.push(entry),
            Err(e) => errors.push(e),
        }
    }
    Ok((entries, errors))
}

fn entry(row: &Row, hashing: EmqxHashing) -> Result<ImportedEntry, ImportError> {
    let position = row.position;
    let at = |problem| ImportError::at(position, problem);
    let user_id = row
        .text("user_id")
        .ok_or(at(ImportProblem::Missing("user_id")))?;
    let client_id = client_id(position, &user_id)?;
    let hash = row
        .text("password_hash")
        .ok_or(at(ImportProblem::Missing("password_hash")))?;
    let salt = row.text("salt").unwrap_or_default().into_bytes();
    let not = |what: String| {
        at(ImportProblem::Invalid {
            column: "password_hash",
            why: format!("not {what}"),
        })
    };
    let hex_of = |digest: HashDigest, len: Option<usize>| {
        decode_hex(&hash)
            .filter(|b| len.is_none_or(|len| b.len() == len) && !b.is_empty() && b.len() <= 256)
            .ok_or_else(|| not(format!("a {digest} hash in hex")))
    };
    let credential = match hashing {
        EmqxHashing::Plain => Credential::Plain(secrecy::SecretString::from(hash.clone())),
        EmqxHashing::Digest {
            digest,
            salt: salt_at,
        } => Credential::Hash(
            ImportedHash::salted(
                digest,
                salt_at,
                salt,
                hex_of(digest, Some(digest_len(digest)))?,
            )
            .ok_or_else(|| not(format!("a {digest} hash")))?,
        ),
        EmqxHashing::Pbkdf2 { digest, iterations } => Credential::Hash(
            ImportedHash::pbkdf2(digest, iterations, salt, hex_of(digest, None)?)
                .ok_or_else(|| not("a PBKDF2 hash".into()))?,
        ),
        EmqxHashing::Bcrypt => Credential::Hash(ImportedHash::bcrypt(&hash).ok_or_else(|| {
            not(format!(
                "a bcrypt hash ($2b$ and a cost up to {MAX_BCRYPT_COST})"
            ))
        })?),
    };
    Ok(ImportedEntry {
        position,
        client_id,
        credential,
        fields: None,
    })
}

/// Hex in either case, as EMQX compares it.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::super::{ImportFormat, parse};
    use super::*;
    use crate::model::SaltPosition;

    /// EMQX's documented example: password "public", salt "slat_foo123", sha256 with the salt
    /// as a suffix (the built-in database's default).
    const PUBLIC: &str = "44edc2d57cde8d79c98145003e105b90a14f1460b79186ea9cfe83942fc5abb5";

    #[test]
    fn a_csv_export_with_the_default_hashing_verifies_its_passwords() {
        let text = format!(
            "user_id,password_hash,salt,is_superuser\nemqx_u,{},slat_foo123,true\n",
            PUBLIC.to_uppercase()
        );
        let entries = parse(ImportFormat::Emqx(EmqxHashing::DEFAULT), &text).unwrap();
        assert_eq!(entries[0].client_id.as_str(), "emqx_u");
        assert!(entries[0].credential.hash().verify(b"public"));
        assert!(!entries[0].credential.hash().verify(b"publid"));
        let prefix = ImportFormat::Emqx(EmqxHashing::Digest {
            digest: HashDigest::Sha256,
            salt: SaltPosition::Prefix,
        });
        let entries = parse(prefix, &text).unwrap();
        assert!(
            !entries[0].credential.hash().verify(b"public"),
            "another algorithm"
        );
    }

    #[test]
    fn a_json_export_reads_each_user_with_its_salt() {
        let text = format!(
            r#"[{{"user_id": "emqx_u", "password_hash": "{PUBLIC}", "salt": "slat_foo123", "is_superuser": false}},
               {{"user_id": "plain-user", "password_hash": "{PUBLIC}"}}]"#
        );
        let entries = parse(ImportFormat::Emqx(EmqxHashing::DEFAULT), &text).unwrap();
        assert!(entries[0].credential.hash().verify(b"public"));
        assert!(!entries[1].credential.hash().verify(b"public"), "no salt");
    }

    #[test]
    fn pbkdf2_and_bcrypt_verify_as_configured() {
        let hash = crate::secrets::pbkdf2_digest(HashDigest::Sha256, 4096, b"salty", b"pw-1", 32);
        let text = format!(
            "user_id,password_hash,salt\nuser-1,{},salty\n",
            hex::encode(&hash)
        );
        let pbkdf2 = |iterations| {
            ImportFormat::Emqx(EmqxHashing::Pbkdf2 {
                digest: HashDigest::Sha256,
                iterations,
            })
        };
        let entries = parse(pbkdf2(4096), &text).unwrap();
        assert!(entries[0].credential.hash().verify(b"pw-1"));
        assert!(
            !parse(pbkdf2(4095), &text).unwrap()[0]
                .credential
                .hash()
                .verify(b"pw-1")
        );
        assert!(parse(pbkdf2(MAX_PBKDF2_ITERATIONS + 1), &text).is_err());

        let bcrypt = bcrypt::hash_with_salt(b"pw-2", 5, *b"fedcba9876543210")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let text = format!(
            r#"[{{"user_id": "user-2", "password_hash": "{bcrypt}", "salt": "{}"}}]"#,
            &bcrypt[..29]
        );
        let entries = parse(ImportFormat::Emqx(EmqxHashing::Bcrypt), &text).unwrap();
        assert!(entries[0].credential.hash().verify(b"pw-2"));
        assert!(!entries[0].credential.hash().verify(b"pw-3"));
    }

    #[test]
    fn a_plain_password_is_kept_to_be_hashed_and_bad_rows_are_named_by_line() {
        let entries = parse(
            ImportFormat::Emqx(EmqxHashing::Plain),
            "user_id,password_hash\nuser-1,secret\n",
        )
        .unwrap();
        assert!(matches!(entries[0].credential, Credential::Plain(_)));
        let text = format!(
            "user_id,password_hash,salt\nokay,{PUBLIC},s\nbad id,{PUBLIC},s\nshort,abcd,s\nnothex,{},s\nempty,,s\n",
            "zz".repeat(32)
        );
        let errors = parse(ImportFormat::Emqx(EmqxHashing::DEFAULT), &text).unwrap_err();
        let lines: Vec<Position> = errors.iter().map(|e| e.position).collect();
        assert_eq!(
            lines,
            vec![
                Position::Line(3),
                Position::Line(4),
                Position::Line(5),
                Position::Line(6)
            ],
            "{errors:?}"
        );
        assert_eq!(
            errors[1].problem.to_string(),
            "password_hash: not a sha256 hash in hex"
        );
    }
}
