//! API tokens: what a script or CI job authenticates with instead of a browser session. The token
//! itself (`kgt_…`) is a secret shown once; a token's name, scope, workspace and expiry are what
//! Settings → API tokens lists.

use super::checksummed;
use super::{DAY_MS, FieldError, ParseError, Problem, text_enum};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The fixed prefix of API tokens, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "kgt_";

/// An API token. It has no `Display`, its `Debug` is redacted, and it is zeroed when dropped; the
/// only way out is [`ApiToken::expose`], for hashing and the one reveal.
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    /// A fresh token: `kgt_`, 32 random bytes and a CRC32, in base58.
    pub fn generate() -> Self {
        Self(SecretString::from(checksummed::generate(TOKEN_PREFIX)))
    }

    /// The token a request presented, if it has the shape and checksum of one Keygate made; `None`
    /// for anything else (then no lookup is made). Never says why: the text is a secret.
    pub fn parse(raw: &str) -> Option<Self> {
        checksummed::random_part(TOKEN_PREFIX, raw)
            .map(|_| Self(SecretString::from(raw.to_owned())))
    }

    /// The plain token: for hashing and the one reveal only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

text_enum!(
    /// What a token may do, stored in `api_tokens.scope` as its text.
    TokenScope, "token scope" {
        /// Reads clients, devices, workspaces and activity; changes nothing (a Viewer's reach).
        Read = "read",
        /// Also creates, edits, regenerates, (de)activates and deletes clients (an Admin's reach
        /// over clients; never members).
        ManageClients = "manage_clients",
    }
);

impl TokenScope {
    /// The name the dashboard shows.
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Read => "Read-only",
            TokenScope::ManageClients => "Manage clients",
        }
    }

    /// The scope a form's text names, as a field error when it names none.
    pub fn parse_field(raw: &str) -> Result<Self, ParseError> {
        Self::parse(raw.trim()).map_err(|_| ParseError::new(FieldError::TokenScope, Problem::Shape))
    }
}

text_enum!(
    /// How long a new token works, as the create form offers it.
    TokenLifetime, "token lifetime" {
        Never = "never",
        Days30 = "30",
        Days90 = "90",
        Days365 = "365",
    }
);

impl TokenLifetime {
    /// When a token made at `now` stops working; `None` for never.
    pub fn expires_at(self, now: i64) -> Option<i64> {
        let days = match self {
            TokenLifetime::Never => return None,
            TokenLifetime::Days30 => 30,
            TokenLifetime::Days90 => 90,
            TokenLifetime::Days365 => 365,
        };
        Some(now + days * DAY_MS)
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenLifetime::Never => "Never",
            TokenLifetime::Days30 => "In 30 days",
            TokenLifetime::Days90 => "In 90 days",
            TokenLifetime::Days365 => "In 365 days",
        }
    }

    /// The lifetime a form's text names, as a field error when it names none.
    pub fn parse_field(raw: &str) -> Result<Self, ParseError> {
        Self::parse(raw.trim()).map_err(|_| ParseError::new(FieldError::KeyExpiry, Problem::Shape))
    }
}

/// An API token as Settings → API tokens lists it (never the token: that is shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    /// The one workspace it is limited to; `None` for all of the organization's.
    pub workspace_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiTokenRow {
    /// Whether a request with this token is accepted at `now`.
    pub fn usable(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A new token and the token itself, shown once to its creator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedApiToken {
    pub row: ApiTokenRow,
    /// The plain `kgt_…` token, in this one response only.
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn scopes_and_lifetimes_round_trip_as_the_stored_texts() {
        assert_round_trips!(TokenScope, ["read", "manage_clients"]);
        assert_round_trips!(TokenLifetime, ["never", "30", "90", "365"]);
    }

    #[test]
    fn a_token_reads_back_and_a_typo_or_a_key_does_not() {
        let token = ApiToken::generate();
        assert!(token.expose().starts_with(TOKEN_PREFIX));
        assert!(ApiToken::parse(token.expose()).is_some());
        let mut typo: Vec<char> = token.expose().chars().collect();
        let i = typo.len() - 3;
        typo[i] = if typo[i] == 'a' { 'b' } else { 'a' };
        assert!(ApiToken::parse(&typo.into_iter().collect::<String>()).is_none());
        assert!(ApiToken::parse(crate::model::ClientKey::generate().expose()).is_none());
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    }
}
