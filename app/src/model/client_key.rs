//! `ClientKey`: a client's secret key, generated in the browser or typed, never logged.

use super::checksummed::{self, RANDOM_BYTES};
use super::{FieldError, ParseError, Problem};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The fixed prefix of generated keys, so secret scanners can recognise a leaked Keygate key.
pub const KEY_PREFIX: &str = "kgk_";

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
        if raw.starts_with(KEY_PREFIX) {
            match Self::generated_bytes(raw) {
                None => return Err(invalid(Problem::Checksum)),
                Some(random) if !looks_random(&random) => {
                    return Err(invalid(Problem::NotRandom));
                }
                Some(_) => {}
            }
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// Whether this key is in Keygate's generated format: `kgk_`, 32 bytes, a valid checksum, and
    /// bytes that look random. Only such a key is 256 bits nobody can guess, so only such a key is
    /// stored as a fast hash (see `crate::secrets`).
    pub fn is_generated(&self) -> bool {
        Self::is_generated_text(self.expose())
    }

    /// [`ClientKey::is_generated`] for text a device presented (the MQTT password).
    pub fn is_generated_text(raw: &str) -> bool {
        Self::generated_bytes(raw).is_some_and(|random| looks_random(&random))
    }

    /// The 32 random bytes of a `kgk_` key whose checksum is right.
    fn generated_bytes(raw: &str) -> Option<[u8; RANDOM_BYTES]> {
        checksummed::random_part(KEY_PREFIX, raw)
    }

    /// 32 random bytes from the OS RNG, base58, with a prefix and a CRC32 checksum: `kgk_…`.
    pub fn generate() -> Self {
        Self(SecretString::from(checksummed::generate(KEY_PREFIX)))
    }

    /// Whether `raw` carries a valid Keygate checksum (what a secret scanner would check).
    pub fn checksum_ok(raw: &str) -> bool {
        Self::generated_bytes(raw).is_some()
    }

    /// The plain key. Call sites are few on purpose: hashing, verifying, and the one reveal.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Fewer distinct values than this among 32 bytes is not the OS's random source: 32 random bytes
/// have about 30 distinct values, and fewer than 16 happens with a probability below 10^-20. A key
/// made by hand to look generated (all zeros, a counter) would be guessable, so it is refused.
const MIN_DISTINCT_BYTES: usize = 16;

fn looks_random(bytes: &[u8; RANDOM_BYTES]) -> bool {
    let mut seen = [false; 256];
    for b in bytes {
        seen[*b as usize] = true;
    }
    seen.iter().filter(|s| **s).count() >= MIN_DISTINCT_BYTES
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

    /// A `kgk_` key with a valid checksum whose 32 bytes are `bytes`.
    fn kgk_of(random: [u8; RANDOM_BYTES]) -> String {
        let mut bytes = random.to_vec();
        bytes.extend_from_slice(&crc32fast::hash(&random).to_be_bytes());
        format!("{KEY_PREFIX}{}", bs58::encode(bytes).into_string())
    }

    #[test]
    fn a_generated_key_is_told_from_a_typed_one() {
        assert!(ClientKey::generate().is_generated());
        assert!(!ClientKey::parse("my-own-sixteen-c").unwrap().is_generated());
        let mut counter = [0u8; RANDOM_BYTES];
        for (i, b) in counter.iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        assert!(ClientKey::parse(&kgk_of(counter)).unwrap().is_generated());
    }

    #[test]
    fn a_kgk_key_whose_bytes_are_not_random_is_refused() {
        for random in [[0u8; RANDOM_BYTES], [0xAB; RANDOM_BYTES], {
            let mut few = [0u8; RANDOM_BYTES];
            for (i, b) in few.iter_mut().enumerate() {
                *b = (i % 15) as u8;
            }
            few
        }] {
            let raw = kgk_of(random);
            assert!(ClientKey::checksum_ok(&raw), "the checksum is right");
            assert_eq!(
                problem_of(ClientKey::parse(&raw), FieldError::Key),
                Problem::NotRandom
            );
            assert!(!ClientKey::is_generated_text(&raw));
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ClientKey::parse("super-secret-value-123").unwrap();
        assert!(!format!("{key:?}").contains("super-secret"));
    }
}
