//! Reading the credentials another broker already holds, so its devices keep their passwords:
//! a Mosquitto `password_file` ([`mosquitto`]) and a Mosquitto `dynamic-security.json`
//! ([`dynsec`]). Each entry becomes an [`ImportedEntry`]: a username that is a valid Client ID
//! and the hash as that broker made it ([`ImportedHash`]), which Keygate verifies as it is until
//! the device's first successful login replaces it with Keygate's own form.
//!
//! The files' text is hostile: it is size-limited, every problem is an [`ImportError`] at a
//! line (or a client of the JSON file), and one bad entry fails the whole file, so an import is
//! all or nothing. A username that is not a valid Client ID is such a problem (with the Client
//! ID rule's own sentence), not silently renamed: the device would connect with the old name.

pub mod dynsec;
pub mod mosquitto;

use crate::model::ClientId;
use crate::secrets::ImportedHash;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Largest file accepted, in bytes: a password file line is about 130 bytes, so this holds about
/// 8,000 devices and stays under the server's 2 MiB request limit; a larger fleet imports in parts.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Most entries accepted from one file.
pub const MAX_IMPORT_ENTRIES: usize = 10_000;

/// Which file an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportFormat {
    /// Mosquitto's `password_file`, as `mosquitto_passwd` writes it (`$7$` and `$6$` lines).
    MosquittoPasswordFile,
    /// Mosquitto's dynamic-security plugin's `dynamic-security.json`.
    MosquittoDynsec,
}

/// One device's credential read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedEntry {
    pub position: Position,
    pub client_id: ClientId,
    pub hash: ImportedHash,
}

/// Where in the file an entry or a problem is: a line (1-based), or for JSON the client's place
/// in `clients` (1-based) or a line when the JSON itself is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    File,
    Line(usize),
    Client(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => f.write_str("file"),
            Self::Line(n) => write!(f, "line {n}"),
            Self::Client(n) => write!(f, "client {n}"),
        }
    }
}

/// What is wrong at a [`Position`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportProblem {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("the file has more than {max} entries")]
    TooManyEntries { max: usize },
    #[error("the file has no credentials")]
    Empty,
    #[error("expected username:hash")]
    NoSeparator,
    #[error("unknown hash type {0:?} (expected $7$ or $6$)")]
    UnknownHashType(String),
    #[error("the hash has the wrong number of $-separated parts")]
    MalformedHash,
    #[error("the iterations are not a number from 1 to {max}")]
    BadIterations { max: u32 },
    #[error("the {0} is not valid base64")]
    BadBase64(&'static str),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("the username is not a valid Client ID: {0}")]
    InvalidClientId(String),
    #[error("the username {username:?} is also at {first}")]
    Duplicate { username: String, first: Position },
}

/// A problem and where it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {problem}")]
pub struct ImportError {
    pub position: Position,
    pub problem: ImportProblem,
}

impl ImportError {
    fn at(position: Position, problem: ImportProblem) -> Self {
        Self { position, problem }
    }
}

/// Reads `text` as a file of `format`: every entry, or every problem found (none imported).
pub fn parse(format: ImportFormat, text: &str) -> Result<Vec<ImportedEntry>, Vec<ImportError>> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(vec![ImportError::at(
            Position::File,
            ImportProblem::TooLarge {
                max: MAX_IMPORT_BYTES,
            },
        )]);
    }
    let parsed = match format {
        ImportFormat::MosquittoPasswordFile => mosquitto::parse_password_file(text),
        ImportFormat::MosquittoDynsec => dynsec::parse(text),
    };
    let (entries, mut errors) = parsed?;
    let mut seen: HashMap<String, Position> = HashMap::new();
    for entry in &entries {
        if let Some(first) = seen.get(entry.client_id.as_str()) {
            errors.push(ImportError::at(
                entry.position,
                ImportProblem::Duplicate {
                    username: entry.client_id.as_str().to_owned(),
                    first: *first,
                },
            ));
        } else {
            seen.insert(entry.client_id.as_str().to_owned(), entry.position);
        }
    }
    if entries.len() > MAX_IMPORT_ENTRIES {
        errors.push(ImportError::at(
            Position::File,
            ImportProblem::TooManyEntries {
                max: MAX_IMPORT_ENTRIES,
            },
        ));
    }
    if entries.is_empty() && errors.is_empty() {
        errors.push(ImportError::at(Position::File, ImportProblem::Empty));
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// What the format parsers hand back: the entries read and the problems found beside them; a
/// file that cannot be read at all is only problems.
type Parsed = Result<(Vec<ImportedEntry>, Vec<ImportError>), Vec<ImportError>>;

/// The Client ID a username becomes, exactly as the device sends it.
fn client_id(position: Position, username: &str) -> Result<ClientId, ImportError> {
    ClientId::parse(username)
        .map_err(|e| e.to_string())
        .and_then(|id| {
            if id.as_str() == username {
                Ok(id)
            } else {
                Err("it has spaces around it".to_owned())
            }
        })
        .map_err(|why| ImportError::at(position, ImportProblem::InvalidClientId(why)))
}

/// Standard base64 (Mosquitto's), at most a few hundred bytes, never empty.
fn base64(position: Position, what: &'static str, text: &str) -> Result<Vec<u8>, ImportError> {
    use base64ct::{Base64, Encoding};
    Base64::decode_vec(text)
        .ok()
        .filter(|b| !b.is_empty() && b.len() <= 256)
        .ok_or(ImportError::at(position, ImportProblem::BadBase64(what)))
}

/// Iterations of PBKDF2 within [`crate::secrets::MAX_PBKDF2_ITERATIONS`].
fn iterations(position: Position, iterations: Option<u64>) -> Result<u32, ImportError> {
    let max = crate::secrets::MAX_PBKDF2_ITERATIONS;
    iterations
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or(ImportError::at(
            position,
            ImportProblem::BadIterations { max },
        ))
}
