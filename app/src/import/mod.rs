//! Reading a file of clients to import ([`ImportFormat`]): Keygate's own export, with keys
//! generated or given ([`keygate`]), or the credentials another broker already holds, so its
//! devices keep their passwords: a Mosquitto `password_file` ([`mosquitto`]), a Mosquitto
//! `dynamic-security.json` ([`dynsec`]) or an EMQX built-in database user export ([`emqx`]).
//! Each entry becomes an [`ImportedEntry`]: a username that is a valid Client ID and its
//! [`Credential`]; another broker's hash ([`ImportedHash`]) is verified as it is until the
//! device's first successful login replaces it with Keygate's own form.
//!
//! The files' text is hostile: it is size-limited, every problem is an [`ImportError`] at a
//! line (or a client of the JSON file), and one bad entry fails the whole file, so an import is
//! all or nothing. A username that is not a valid Client ID is such a problem (with the Client
//! ID rule's own sentence), not silently renamed: the device would connect with the old name.

pub mod dynsec;
pub mod emqx;
pub mod keygate;
pub mod mosquitto;
mod rows;

pub use crate::model::ImportFormat;
use crate::model::{ClientId, ClientKey, ClientName, Description, Scope, TopicRule};
use crate::secrets::ImportedHash;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Largest file accepted, in bytes: a password file line is about 130 bytes, so this holds about
/// 8,000 devices and stays under the server's 2 MiB request limit; a larger fleet imports in parts.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Most entries accepted from one file.
pub const MAX_IMPORT_ENTRIES: usize = 10_000;

/// Most keys a person chose (or plain passwords) in one file: each costs an argon2id hash on
/// import, tens of milliseconds of the dashboard's few hashing threads.
pub const MAX_SLOW_KEYS: usize = 1_000;

/// One client read from a file.
#[derive(Clone, Debug)]
pub struct ImportedEntry {
    pub position: Position,
    pub client_id: ClientId,
    pub credential: Credential,
    /// What Keygate's own files say of the client; other brokers' files name only the user.
    pub fields: Option<ClientFields>,
}

/// What a client's devices will authenticate with.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A new generated key, shown once after the import.
    Generate,
    /// The key the file gives.
    Key(ClientKey),
    /// The hash another broker made, verified as it is until the first successful login.
    Hash(ImportedHash),
    /// A password another broker kept as it is (EMQX's `plain`): hashed on import, never
    /// stored.
    Plain(secrecy::SecretString),
}

impl Credential {
    /// Whether storing it costs an argon2id hash.
    fn is_slow(&self) -> bool {
        match self {
            Self::Key(key) => !key.is_generated(),
            Self::Plain(_) => true,
            Self::Generate | Self::Hash(_) => false,
        }
    }

    /// The imported hash, for tests that verify what a parser read.
    #[cfg(test)]
    pub(crate) fn hash(&self) -> &ImportedHash {
        match self {
            Self::Hash(hash) => hash,
            other => panic!("not a hash: {other:?}"),
        }
    }
}

/// A Keygate file's description of a client, beside its Client ID and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFields {
    pub name: ClientName,
    pub description: Description,
    pub active: bool,
    /// `None`: any device in the workspace.
    pub scope: Option<Scope>,
    /// Checked against the namespace of the workspace it is imported into.
    pub topic_rules: Vec<TopicRule>,
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
    #[error("the file has no {0} column")]
    MissingColumn(&'static str),
    #[error("not valid CSV: {0}")]
    Csv(String),
    #[error("{column}: {why}")]
    Invalid { column: &'static str, why: String },
    #[error("the Client ID {0} is taken by another client or workspace")]
    Taken(String),
    #[error("the row has a key: import the file \"with the keys in the file\" to keep it")]
    KeyNotWanted,
    #[error("the file has more than {max} keys to hash: import it in parts")]
    TooManySlowKeys { max: usize },
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
        ImportFormat::Keygate(keys) => keygate::parse(text, keys),
        ImportFormat::MosquittoPasswordFile => mosquitto::parse_password_file(text),
        ImportFormat::MosquittoDynsec => dynsec::parse(text),
        ImportFormat::Emqx(hashing) => emqx::parse(text, hashing),
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
    if entries.iter().filter(|e| e.credential.is_slow()).count() > MAX_SLOW_KEYS {
        errors.push(ImportError::at(
            Position::File,
            ImportProblem::TooManySlowKeys { max: MAX_SLOW_KEYS },
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

/// A text field of a row, as Keygate's parsers check it: `parse`'s error is the problem.
fn field<T, E: fmt::Display>(
    position: Position,
    column: &'static str,
    parsed: Result<T, E>,
) -> Result<T, ImportError> {
    parsed.map_err(|e| {
        ImportError::at(
            position,
            ImportProblem::Invalid {
                column,
                why: e.to_string(),
            },
        )
    })
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
