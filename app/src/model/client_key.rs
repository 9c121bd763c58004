//! `ClientKey`: a client's secret key, generated in the browser or typed, never logged.

use super::{FieldError, ParseError, Problem};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The fixed prefix of generated keys, so secret scanners can recognise a leaked Keygate key.
pub const KEY_PREFIX: &str = "kgk_";
const RANDOM_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 4;

/// A client's key (the MQTT password). It has no `Display`, its `Debug` is redacted, and it is
/// zeroed when dropped: the only ways out are [`ClientKey::expose`] and serialization, which the
/// server uses exactly once, in the response that reveals a new key.
#[derive(Clone)]
pub struct ClientKey(SecretString);

impl ClientKey {
    pub const MIN_LEN: usize = 16;
    pub const MAX_LEN: usize = 256;

    /// The error never names a character of `raw`: it is a secret.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::Key, problem);
        if raw.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(Problem::Shape));
        }
        if raw.len() < Self::MIN_LEN {
            return Err(invalid(Problem::TooShort { min: Self::MIN_LEN }));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(invalid(Problem::TooLong { max: Self::MAX_LEN }));
        }
        if raw.starts_with(KEY_PREFIX) && !Self::checksum_ok(raw) {
            return Err(invalid(Problem::Checksum));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// 32 random bytes from the OS RNG, base58, with a prefix and a CRC32 checksum: `kgk_…`.
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_BYTES + CHECKSUM_BYTES];
        super::random_bytes(&mut bytes[..RANDOM_BYTES]);
        let crc = crc32fast::hash(&bytes[..RANDOM_BYTES]);
        bytes[RANDOM_BYTES..].copy_from_slice(&crc.to_be_bytes());
        let encoded = bs58::encode(&bytes).into_string();
        Self(SecretString::from(format!("{KEY_PREFIX}{encoded}")))
    }

    /// Whether `raw` carries a valid Keygate checksum (what a secret scanner would check).
    pub fn checksum_ok(raw: &str) -> bool {
        let Some(body) = raw.strip_prefix(KEY_PREFIX) else {
            return false;
        };
        match bs58::decode(body).into_vec() {
            Ok(bytes) if bytes.len() == RANDOM_BYTES + CHECKSUM_BYTES => {
                let (random, checksum) = bytes.split_at(RANDOM_BYTES);
                crc32fast::hash(random).to_be_bytes() == checksum
            }
            _ => false,
        }
    }

    /// The plain key. Call sites are few on purpose: hashing, verifying, and the one reveal.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey(<redacted>)")
    }
}

impl Serialize for ClientKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for ClientKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    #[test]
    fn generated_keys_carry_prefix_and_valid_checksum() {
        let key = ClientKey::generate();
        assert!(key.expose().starts_with(KEY_PREFIX));
        assert!(ClientKey::checksum_ok(key.expose()));
        assert!(ClientKey::parse(key.expose()).is_ok());
        assert_ne!(key.expose(), ClientKey::generate().expose());
    }

    #[test]
    fn a_typo_in_a_generated_key_is_caught_by_the_checksum() {
        let key = ClientKey::generate();
        let mut chars: Vec<char> = key.expose().chars().collect();
        let i = chars.len() - 3;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(
            ClientKey::parse(&typo).unwrap_err().problem,
            Problem::Checksum
        );
    }

    #[test]
    fn rejects_bad_chosen_keys_with_a_reason() {
        let problem = |raw: &str| problem_of(ClientKey::parse(raw), FieldError::Key);
        assert_eq!(problem(""), Problem::Empty);
        assert_eq!(problem("short-key-15chr"), Problem::TooShort { min: 16 });
        assert_eq!(problem(&"k".repeat(257)), Problem::TooLong { max: 256 });
        assert_eq!(problem("has a space in it!"), Problem::Shape);
        assert_eq!(problem("ünicode-is-not-ok-here"), Problem::Shape);
        assert!(ClientKey::parse("my-own-sixteen-c").is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ClientKey::parse("super-secret-value-123").unwrap();
        assert!(!format!("{key:?}").contains("super-secret"));
    }
}
