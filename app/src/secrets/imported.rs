//! Hashes imported from other brokers, kept until the device's first successful login replaces
//! each with Keygate's own form, and verified meanwhile exactly as the broker that made them did:
//! Mosquitto's PBKDF2-HMAC-SHA512 (`password_file` `$7$`, dynamic security) and salted SHA-512
//! (`$6$`), and EMQX's built-in database algorithms: a digest with the salt before or after the
//! password, PBKDF2 with its configured function and iterations, and bcrypt. Their cost is
//! bounded here, since a stored hash is data someone else wrote.

use crate::model::{HashDigest, SaltPosition};

/// More PBKDF2 iterations than this are refused on import and never run at login: a hash with
/// billions of them would hold a verification worker for minutes. Mosquitto's default is 101,
/// EMQX's 4096; a million costs about a second.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// The highest bcrypt cost accepted (2^14 rounds, about a second), for the same reason. EMQX
/// offers 5 to 10.
pub const MAX_BCRYPT_COST: u32 = 14;

/// Longest salt and hash accepted, in bytes: Mosquitto's are 12 and 64, EMQX's salts 16.
const MAX_IMPORTED_BYTES: usize = 256;

/// A hash imported from another broker.
#[derive(Clone, PartialEq, Eq)]
pub enum ImportedHash {
    /// PBKDF2-HMAC with `digest` (Mosquitto: SHA-512; EMQX: its `mac_fun`); the derived key is
    /// as long as `hash`.
    Pbkdf2 {
        digest: HashDigest,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `digest` of the salt and the password, in the order `salt_position` says (Mosquitto 1.x:
    /// SHA-512, suffix); with [`SaltPosition::Disable`] the salt is empty and unused.
    Salted {
        digest: HashDigest,
        salt_position: SaltPosition,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// A bcrypt string (`$2b$10$…`): its version, cost, salt and hash.
    Bcrypt(String),
}

impl std::fmt::Debug for ImportedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pbkdf2 {
                digest, iterations, ..
            } => f
                .debug_struct("Pbkdf2")
                .field("digest", digest)
                .field("iterations", iterations)
                .finish_non_exhaustive(),
            Self::Salted {
                digest,
                salt_position,
                ..
            } => f
                .debug_struct("Salted")
                .field("digest", digest)
                .field("salt_position", salt_position)
                .finish_non_exhaustive(),
            Self::Bcrypt(_) => f.debug_struct("Bcrypt").finish_non_exhaustive(),
        }
    }
}

/// The stored form of a PBKDF2 hash starts with this and the digest's name:
/// `$pbkdf2-sha512$ITERATIONS$SALT$HASH`, salt and hash in standard base64.
const PBKDF2_PREFIX: &str = "$pbkdf2-";

/// The stored form of a salted digest starts with this, the digest's name and the salt's
/// position: `$salted-sha256-suffix$SALT$HASH` (an empty salt is empty).
const SALTED_PREFIX: &str = "$salted-";

/// The first stored form of Mosquitto 1.x's salted SHA-512, still read: `$sha512-salted$SALT$HASH`.
const SHA512_SALTED_PREFIX: &str = "$sha512-salted$";

fn decode(text: &str, may_be_empty: bool) -> Option<Vec<u8>> {
    use base64ct::{Base64, Encoding};
    Base64::decode_vec(text)
        .ok()
        .filter(|b| (may_be_empty || !b.is_empty()) && b.len() <= MAX_IMPORTED_BYTES)
}

fn encode(bytes: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(bytes)
}

/// How many bytes `digest` makes.
pub fn digest_len(digest: HashDigest) -> usize {
    match digest {
        HashDigest::Md5 => 16,
        HashDigest::Sha1 => 20,
        HashDigest::Sha224 => 28,
        HashDigest::Sha256 => 32,
        HashDigest::Sha384 => 48,
        HashDigest::Sha512 => 64,
    }
}

impl ImportedHash {
    /// A PBKDF2 hash, if its iterations and lengths are within bounds.
    pub fn pbkdf2(
        digest: HashDigest,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    ) -> Option<Self> {
        ((1..=MAX_PBKDF2_ITERATIONS).contains(&iterations)
            && !hash.is_empty()
            && hash.len() <= MAX_IMPORTED_BYTES
            && salt.len() <= MAX_IMPORTED_BYTES)
            .then_some(Self::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
            })
    }

    /// A salted digest, if `hash` is as long as `digest` makes; with
    /// [`SaltPosition::Disable`] the salt is dropped.
    pub fn salted(
        digest: HashDigest,
        salt_position: SaltPosition,
        salt: Vec<u8>,
        hash: Vec<u8>,
    ) -> Option<Self> {
        let salt = if salt_position == SaltPosition::Disable {
            Vec::new()
        } else {
            salt
        };
        (hash.len() == digest_len(digest) && salt.len() <= MAX_IMPORTED_BYTES).then_some(
            Self::Salted {
                digest,
                salt_position,
                salt,
                hash,
            },
        )
    }

    /// A bcrypt string (`$2a$`, `$2b$`, `$2x$` or `$2y$`, a cost up to [`MAX_BCRYPT_COST`], 53
    /// characters of salt and hash).
    pub fn bcrypt(text: &str) -> Option<Self> {
        let rest = ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .find_map(|v| text.strip_prefix(v))?;
        let (cost, body) = rest.split_once('$')?;
        let cost: u32 = (cost.len() == 2).then(|| cost.parse().ok()).flatten()?;
        let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
        ((4..=MAX_BCRYPT_COST).contains(&cost) && body.len() == 53 && body.chars().all(alphabet))
            .then(|| Self::Bcrypt(text.to_owned()))
    }

    /// Reads a stored imported hash; `None` for anything malformed or out of bounds.
    pub fn parse(stored: &str) -> Option<Self> {
        if stored.starts_with("$2") {
            return Self::bcrypt(stored);
        }
        if let Some(rest) = stored.strip_prefix(SHA512_SALTED_PREFIX) {
            let (salt, hash) = rest.split_once('$')?;
            return Self::salted(
                HashDigest::Sha512,
                SaltPosition::Suffix,
                decode(salt, false)?,
                decode(hash, false)?,
            );
        }
        if let Some(rest) = stored.strip_prefix(PBKDF2_PREFIX) {
            let mut parts = rest.split('$');
            let (Some(digest), Some(iterations), Some(salt), Some(hash), None) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return None;
            };
            return Self::pbkdf2(
                HashDigest::parse(digest).ok()?,
                iterations.parse().ok()?,
                decode(salt, true)?,
                decode(hash, false)?,
            );
        }
        let rest = stored.strip_prefix(SALTED_PREFIX)?;
        let mut parts = rest.split('$');
        let (Some(kind), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let (digest, position) = kind.split_once('-')?;
        Self::salted(
            HashDigest::parse(digest).ok()?,
            SaltPosition::parse(position).ok()?,
            decode(salt, true)?,
            decode(hash, false)?,
        )
    }

    /// The stored form, which [`ImportedHash::parse`] reads back.
    pub fn to_stored(&self) -> super::SecretHash {
        super::SecretHash(match self {
            Self::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
            } => format!(
                "{PBKDF2_PREFIX}{digest}${iterations}${}${}",
                encode(salt),
                encode(hash)
            ),
            Self::Salted {
                digest,
                salt_position,
                salt,
                hash,
            } => format!(
                "{SALTED_PREFIX}{digest}-{salt_position}${}${}",
                encode(salt),
                encode(hash)
            ),
            Self::Bcrypt(text) => text.clone(),
        })
    }

    /// Whether `presented` is the password this hash was made from, compared in constant time.
    /// Blocking (PBKDF2 and bcrypt run their rounds here): for the argon2id pool's workers.
    pub fn verify(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        match self {
            Self::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
            } => {
                if *iterations > MAX_PBKDF2_ITERATIONS {
                    return false;
                }
                let mut out = vec![0u8; hash.len()];
                pbkdf2_into(*digest, presented, salt, *iterations, &mut out);
                out.ct_eq(hash).into()
            }
            Self::Salted {
                digest,
                salt_position,
                salt,
                hash,
            } => {
                let computed = match salt_position {
                    SaltPosition::Prefix => digest_of(*digest, &[salt, presented]),
                    SaltPosition::Suffix => digest_of(*digest, &[presented, salt]),
                    SaltPosition::Disable => digest_of(*digest, &[presented]),
                };
                computed.ct_eq(hash).into()
            }
            Self::Bcrypt(text) => bcrypt::verify(presented, text).unwrap_or(false),
        }
    }
}

/// `digest` of `parts` one after the other.
fn digest_of(digest: HashDigest, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for part in parts {
            d.update(part);
        }
        d.finalize().to_vec()
    }
    match digest {
        HashDigest::Md5 => run::<md5::Md5>(parts),
        HashDigest::Sha1 => run::<sha1::Sha1>(parts),
        HashDigest::Sha224 => run::<sha2::Sha224>(parts),
        HashDigest::Sha256 => run::<sha2::Sha256>(parts),
        HashDigest::Sha384 => run::<sha2::Sha384>(parts),
        HashDigest::Sha512 => run::<sha2::Sha512>(parts),
    }
}

/// PBKDF2-HMAC-`digest` of `password` into `out`.
fn pbkdf2_into(digest: HashDigest, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    use pbkdf2::pbkdf2_hmac;
    match digest {
        HashDigest::Md5 => pbkdf2_hmac::<md5::Md5>(password, salt, iterations, out),
        HashDigest::Sha1 => pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out),
        HashDigest::Sha224 => pbkdf2_hmac::<sha2::Sha224>(password, salt, iterations, out),
        HashDigest::Sha256 => pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out),
        HashDigest::Sha384 => pbkdf2_hmac::<sha2::Sha384>(password, salt, iterations, out),
        HashDigest::Sha512 => pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, out),
    }
}

/// The hash a digest with a salt makes, for tests that write files as EMQX would.
#[cfg(any(test, feature = "test-support"))]
pub fn salted_digest(
    digest: HashDigest,
    position: SaltPosition,
    salt: &[u8],
    password: &[u8],
) -> Vec<u8> {
    match position {
        SaltPosition::Prefix => digest_of(digest, &[salt, password]),
        SaltPosition::Suffix => digest_of(digest, &[password, salt]),
        SaltPosition::Disable => digest_of(digest, &[password]),
    }
}

/// The PBKDF2 hash EMQX would store, for tests that write files as EMQX would.
#[cfg(any(test, feature = "test-support"))]
pub fn pbkdf2_digest(
    digest: HashDigest,
    iterations: u32,
    salt: &[u8],
    password: &[u8],
    len: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; len];
    pbkdf2_into(digest, password, salt, iterations, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PBKDF2-HMAC-SHA512("password", "salt"), 1 and 2 iterations: the published test vectors.
    pub const PBKDF2_1: &str = "$pbkdf2-sha512$1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/pQ8CPBQI119aLHaVeY/c7YKV/zg==";
    const PBKDF2_2: &str = "$pbkdf2-sha512$2$c2FsdA==$4dnBaqaBcIpF9cfE4hXOtm4BGi6fAEBxPxiu/bhm1Tz3bKsoaKObn3hA7c5P71qCvmczXHemBo4EESdU8nzPTg==";

    #[test]
    fn an_imported_hash_reads_back_as_it_was_stored_and_malformed_ones_do_not() {
        let Some(ImportedHash::Pbkdf2 { iterations, .. }) = ImportedHash::parse(PBKDF2_2) else {
            panic!("PBKDF2")
        };
        assert_eq!(iterations, 2);
        assert_eq!(
            ImportedHash::parse(PBKDF2_2).unwrap().to_stored().as_str(),
            PBKDF2_2
        );
        for bad in [
            "$pbkdf2-sha512$0$c2FsdA==$AAAA",
            "$pbkdf2-sha512$1000001$c2FsdA==$AAAA",
            "$pbkdf2-sha512$1$c2FsdA==",
            "$pbkdf2-sha512$1$***$AAAA",
            "$pbkdf2-sha999$1$c2FsdA==$AAAA",
            "$sha512-salted$c2FsdA==$AAAA",
            "$salted-sha256-suffix$c2FsdA==$AAAA",
            "$salted-sha256-middle$$AAAA",
            "$2b$31$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyza",
            "$2b$10$short",
            "plain",
        ] {
            assert_eq!(ImportedHash::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn pbkdf2_verifies_as_the_published_vectors_say() {
        for stored in [PBKDF2_1, PBKDF2_2] {
            let hash = ImportedHash::parse(stored).unwrap();
            assert!(hash.verify(b"password"));
            assert!(!hash.verify(b"passwore"));
        }
        let once = ImportedHash::parse(&PBKDF2_1.replace("$1$", "$2$")).unwrap();
        assert!(!once.verify(b"password"), "the iterations count");
        // RFC 6070: PBKDF2-HMAC-SHA1("password", "salt", 2 iterations, 20 bytes).
        let sha1 = ImportedHash::pbkdf2(
            HashDigest::Sha1,
            2,
            b"salt".to_vec(),
            hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        )
        .unwrap();
        assert!(sha1.verify(b"password"));
        assert!(!sha1.verify(b"passwore"));
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn a_salted_digest_puts_the_salt_where_it_was_configured() {
        // EMQX's documented example: sha256 of "public" + "slat_foo123" (suffix).
        let emqx = ImportedHash::salted(
            HashDigest::Sha256,
            SaltPosition::Suffix,
            b"slat_foo123".to_vec(),
            hex("44edc2d57cde8d79c98145003e105b90a14f1460b79186ea9cfe83942fc5abb5"),
        )
        .unwrap();
        assert!(emqx.verify(b"public"));
        assert!(!emqx.verify(b"publid"));
        for &digest in HashDigest::ALL {
            for &position in SaltPosition::ALL {
                let hash = ImportedHash::salted(
                    digest,
                    position,
                    b"salt".to_vec(),
                    salted_digest(digest, position, b"salt", b"pw"),
                )
                .unwrap();
                assert!(hash.verify(b"pw"), "{digest} {position}");
                assert!(!hash.verify(b"pX"), "{digest} {position}");
                assert_eq!(
                    ImportedHash::parse(hash.to_stored().as_str()),
                    Some(hash.clone()),
                    "{digest} {position}"
                );
            }
        }
        let prefix = salted_digest(HashDigest::Sha256, SaltPosition::Prefix, b"s", b"pw");
        let suffix = ImportedHash::salted(
            HashDigest::Sha256,
            SaltPosition::Suffix,
            b"s".to_vec(),
            prefix,
        )
        .unwrap();
        assert!(!suffix.verify(b"pw"), "the salt's position counts");
        assert_eq!(
            ImportedHash::salted(
                HashDigest::Sha256,
                SaltPosition::Suffix,
                vec![],
                vec![0; 31]
            ),
            None,
            "a hash of the wrong length"
        );
    }

    #[test]
    fn mosquitto_1s_first_stored_form_still_reads_as_salted_sha512() {
        use base64ct::{Base64, Encoding};
        let digest = salted_digest(
            HashDigest::Sha512,
            SaltPosition::Suffix,
            b"salt",
            b"password",
        );
        let stored = format!("$sha512-salted$c2FsdA==${}", Base64::encode_string(&digest));
        let hash = ImportedHash::parse(&stored).unwrap();
        assert!(hash.verify(b"password"));
        assert!(!hash.verify(b"passwordsalt"));
    }

    #[test]
    fn bcrypt_verifies_its_own_string() {
        // "hunter2" at cost 4 with a fixed salt, written as EMQX stores it (`$2b$`).
        let text = bcrypt::hash_with_salt(b"hunter2", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let hash = ImportedHash::bcrypt(&text).expect("a bcrypt string");
        assert!(hash.verify(b"hunter2"));
        assert!(!hash.verify(b"hunter3"));
        assert_eq!(ImportedHash::parse(hash.to_stored().as_str()), Some(hash));
        assert_eq!(
            ImportedHash::bcrypt(&text.replacen("$04$", "$15$", 1)),
            None,
            "too costly"
        );
    }
}
