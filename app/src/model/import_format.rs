//! What a file to import is, chosen on the import page and read by the server: Keygate's own
//! export (with keys generated, or with the file's `key` column), a Mosquitto `password_file`
//! or `dynamic-security.json`, or an EMQX built-in database user export with the hash algorithm
//! that EMQX was configured with (the file does not say it). One text per choice
//! (`emqx:sha256:suffix`), so the choice travels as one form field and reads back typed.

use super::text_enum;
use serde::{Deserialize, Serialize};
use std::fmt;

text_enum! {
    /// A hash function as EMQX's `password_hash_algorithm` names it.
    HashDigest, "hash function" {
        Md5 = "md5",
        /// SHA-1.
        Sha1 = "sha",
        Sha224 = "sha224",
        Sha256 = "sha256",
        Sha384 = "sha384",
        Sha512 = "sha512",
    }
}

text_enum! {
    /// Where EMQX put the salt: before the password, after it, or nowhere.
    SaltPosition, "salt position" {
        Prefix = "prefix",
        Suffix = "suffix",
        Disable = "disable",
    }
}

/// Where a Keygate file's clients get their keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// A new generated key each, shown once after the import.
    Generated,
    /// The file's `key` column.
    Given,
}

/// How the EMQX that wrote a user export hashed its passwords (its built-in database's
/// `password_hash_algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmqxHashing {
    /// `plain`: the password itself (Keygate hashes it on import and keeps no plain text).
    Plain,
    /// `md5`, `sha`, `sha256` or `sha512` of the password with the salt before or after it, hex.
    Digest {
        digest: HashDigest,
        salt: SaltPosition,
    },
    /// `pbkdf2` with its `mac_fun` and `iterations`, hex; the derived length is the hash's.
    Pbkdf2 { digest: HashDigest, iterations: u32 },
    /// `bcrypt`: the hash carries its own salt and cost.
    Bcrypt,
}

impl EmqxHashing {
    /// EMQX's default for its built-in database.
    pub const DEFAULT: Self = Self::Digest {
        digest: HashDigest::Sha256,
        salt: SaltPosition::Suffix,
    };
    /// EMQX's default `iterations` for `pbkdf2`.
    pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 4096;
}

/// Which file an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ImportFormat {
    /// Keygate's export, CSV or JSON (told apart by its first character).
    Keygate(KeySource),
    /// Mosquitto's `password_file`, as `mosquitto_passwd` writes it (`$7$` and `$6$` lines).
    MosquittoPasswordFile,
    /// Mosquitto's dynamic-security plugin's `dynamic-security.json`.
    MosquittoDynsec,
    /// EMQX 5's built-in database users, JSON or CSV, as its `import_users` takes them.
    Emqx(EmqxHashing),
}

impl ImportFormat {
    /// Whether the file's clients keep the passwords their devices have.
    pub fn keeps_passwords(self) -> bool {
        !matches!(self, Self::Keygate(_))
    }

    /// The description each client of such a file gets, when the file has none.
    pub fn description(self) -> &'static str {
        match self {
            Self::Keygate(_) => "",
            Self::MosquittoPasswordFile => "Imported from a Mosquitto password file",
            Self::MosquittoDynsec => "Imported from Mosquitto dynamic security",
            Self::Emqx(_) => "Imported from EMQX",
        }
    }
}

/// A format text that names no format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an import format")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for ImportFormat {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFormat(text.chars().take(64).collect());
        let parts: Vec<&str> = text.split(':').collect();
        let digest = |t: &str| HashDigest::parse(t).map_err(|_| unknown());
        Ok(match parts.as_slice() {
            ["keygate-generated"] => Self::Keygate(KeySource::Generated),
            ["keygate-given"] => Self::Keygate(KeySource::Given),
            ["mosquitto-password-file"] => Self::MosquittoPasswordFile,
            ["mosquitto-dynsec"] => Self::MosquittoDynsec,
            ["emqx", "plain"] => Self::Emqx(EmqxHashing::Plain),
            ["emqx", "bcrypt"] => Self::Emqx(EmqxHashing::Bcrypt),
            ["emqx", "pbkdf2", d, n] => Self::Emqx(EmqxHashing::Pbkdf2 {
                digest: digest(d)?,
                iterations: n.parse().ok().filter(|n| *n > 0).ok_or_else(unknown)?,
            }),
            ["emqx", d, salt] => Self::Emqx(EmqxHashing::Digest {
                digest: digest(d)?,
                salt: SaltPosition::parse(salt).map_err(|_| unknown())?,
            }),
            _ => return Err(unknown()),
        })
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keygate(KeySource::Generated) => f.write_str("keygate-generated"),
            Self::Keygate(KeySource::Given) => f.write_str("keygate-given"),
            Self::MosquittoPasswordFile => f.write_str("mosquitto-password-file"),
            Self::MosquittoDynsec => f.write_str("mosquitto-dynsec"),
            Self::Emqx(EmqxHashing::Plain) => f.write_str("emqx:plain"),
            Self::Emqx(EmqxHashing::Bcrypt) => f.write_str("emqx:bcrypt"),
            Self::Emqx(EmqxHashing::Pbkdf2 { digest, iterations }) => {
                write!(f, "emqx:pbkdf2:{}:{iterations}", digest.as_str())
            }
            Self::Emqx(EmqxHashing::Digest { digest, salt }) => {
                write!(f, "emqx:{}:{}", digest.as_str(), salt.as_str())
            }
        }
    }
}

impl TryFrom<String> for ImportFormat {
    type Error = UnknownFormat;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<ImportFormat> for String {
    fn from(format: ImportFormat) -> Self {
        format.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_reads_back_from_its_text() {
        let mut formats = vec![
            ImportFormat::Keygate(KeySource::Generated),
            ImportFormat::Keygate(KeySource::Given),
            ImportFormat::MosquittoPasswordFile,
            ImportFormat::MosquittoDynsec,
            ImportFormat::Emqx(EmqxHashing::Plain),
            ImportFormat::Emqx(EmqxHashing::Bcrypt),
            ImportFormat::Emqx(EmqxHashing::DEFAULT),
        ];
        for &digest in HashDigest::ALL {
            formats.push(ImportFormat::Emqx(EmqxHashing::Pbkdf2 {
                digest,
                iterations: 4096,
            }));
            for &salt in SaltPosition::ALL {
                formats.push(ImportFormat::Emqx(EmqxHashing::Digest { digest, salt }));
            }
        }
        for format in formats {
            let text = format.to_string();
            assert_eq!(text.parse::<ImportFormat>(), Ok(format), "{text}");
            let json = serde_json::to_string(&format).unwrap();
            assert_eq!(serde_json::from_str::<ImportFormat>(&json).unwrap(), format);
        }
        assert_eq!(
            "emqx:sha256:suffix".parse(),
            Ok(ImportFormat::Emqx(EmqxHashing::DEFAULT))
        );
        for bad in [
            "",
            "emqx",
            "emqx:sha1:suffix",
            "emqx:sha256:middle",
            "emqx:pbkdf2:sha256:0",
            "emqx:pbkdf2:sha256:x",
            "keygate",
        ] {
            assert!(bad.parse::<ImportFormat>().is_err(), "{bad}");
        }
    }
}
