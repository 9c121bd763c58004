//! Hashing and verifying secrets: client keys and user passwords.
//!
//! Two forms, chosen by what the secret is:
//!
//! - **A generated key** (`kgk_`, 32 bytes from the OS's random source, see
//!   [`ClientKey::is_generated`]) is stored as its SHA-256 ([`FAST_PREFIX`]). Nobody can guess
//!   256 random bits, slowly or fast, so a slow hash would only slow down every cold CONNECT (as
//!   services that issue random API tokens store a SHA-256 of them). A stolen database still
//!   gives no key: SHA-256 has no known preimage attack.
//! - **Everything a person chose** (a typed key, a password) stays argon2id, which makes guessing
//!   it from a stolen hash expensive. Hashing it costs tens of milliseconds of CPU and 19 MiB on
//!   purpose, so it runs on a bounded pool of threads ([`Argon2Pool`]: the dashboard's for
//!   passwords and typed keys, the broker's for device keys) and never stalls the async runtime
//!   that serves pages.
//!
//! Keys generated before the fast form existed are argon2id hashes; they keep verifying, and the
//! broker replaces each with the fast form after its next successful verification. Hashes
//! imported from other brokers ([`imported`]) verify as those brokers made them until the same
//! replacement after a device's first successful login.

use crate::argon2_pool::Argon2Pool;
use crate::model::{ClientKey, Password};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use std::sync::OnceLock;

mod imported;

pub use imported::{ImportedHash, MAX_BCRYPT_COST, MAX_PBKDF2_ITERATIONS, digest_len};
#[cfg(any(test, feature = "test-support"))]
pub use imported::{pbkdf2_digest, salted_digest};

/// What is stored for a secret: an argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), or
/// for a generated key its SHA-256 (`$keygate-sha256$` and 64 hex digits). Safe to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("hashing failed: {0}")]
    Hash(String),
    /// The argon2id pool's queue is full: the caller should try again in a moment.
    #[error("too many argon2id jobs are waiting")]
    Busy,
    #[error("the argon2id workers have stopped")]
    Stopped,
}

/// A hash of a random value, to verify against when there is no real hash (unknown user), so a
/// wrong email takes as long as a wrong password. Made once, in the memory of the first worker
/// that needs it.
fn decoy_hash(memory: &mut Argon2Memory) -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_with(memory, b"keygate-decoy-secret")
            .expect("argon2 with default parameters")
            .0
    })
}

/// argon2id's working memory (19 MiB with the default parameters), kept by a thread that hashes
/// and verifies secret after secret, so each one neither allocates nor page-faults it afresh.
#[derive(Default)]
pub struct Argon2Memory(Vec<argon2::Block>);

/// Whether `presented` matches `hash`; with no hash (an unknown client), verifies against the
/// decoy so the answer takes as long, and says no. Blocking: for [`Argon2Pool`]'s workers, each
/// with its own [`Argon2Memory`].
pub fn verify_or_decoy_with(
    memory: &mut Argon2Memory,
    presented: &[u8],
    hash: Option<&str>,
) -> bool {
    match hash {
        Some(hash) => verify_with(memory, presented, hash),
        None => {
            let decoy = decoy_hash(memory);
            verify_with(memory, presented, decoy);
            false
        }
    }
}

/// A new argon2id hash of `secret` (default parameters, a fresh salt), computed in `memory`.
/// Blocking: for [`Argon2Pool`]'s workers.
pub fn hash_with(memory: &mut Argon2Memory, secret: &[u8]) -> Result<SecretHash, SecretError> {
    use argon2::password_hash::{Output, ParamsString};
    use argon2::{Algorithm, Params, Version};
    let fail = |e: &dyn std::fmt::Display| SecretError::Hash(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| fail(&e))?;
    let params = Params::default();
    let blocks = params.block_count();
    if memory.0.len() < blocks {
        memory.0.resize(blocks, argon2::Block::default());
    }
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(secret, salt_raw, &mut out, &mut memory.0[..blocks])
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(SecretHash(phc.to_string()))
}

/// Whether `presented` matches a stored slow hash of any kind ([`HashKind`]), in constant time.
/// Blocking: imported PBKDF2 and bcrypt hashes can cost as much as argon2id, so they run on the
/// same pool.
fn verify_with(memory: &mut Argon2Memory, presented: &[u8], stored: &str) -> bool {
    match HashKind::of(stored) {
        HashKind::Argon2 => verify_argon2_with(memory, presented, stored),
        HashKind::Fast => verify_fast_or_decoy(presented, Some(stored)),
        HashKind::Imported(imported) => imported.verify(presented),
        HashKind::Unknown => false,
    }
}

/// What argon2's `PasswordVerifier::verify_password` does, computing into `memory` instead of a fresh
/// allocation, and comparing in constant time.
fn verify_argon2_with(memory: &mut Argon2Memory, presented: &[u8], phc: &str) -> bool {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Params, Version};
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.0.len() < blocks {
        memory.0.resize(blocks, argon2::Block::default());
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(presented, salt, out, &mut memory.0[..blocks])
        .is_ok()
        // Output's equality is constant-time.
        && Output::new(out).is_ok_and(|computed| computed == expected)
}

/// The stored form of a generated key's hash starts with this.
pub const FAST_PREFIX: &str = "$keygate-sha256$";

/// The fast form of a generated key (no salt: the key itself is 256 random bits).
pub fn fast_hash(key: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key);
    let mut out = String::with_capacity(FAST_PREFIX.len() + 64);
    out.push_str(FAST_PREFIX);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Eight hex digits that tell a client's keys apart, from the stored hash alone. A generated key's
/// are the start of its SHA-256 (what its fast form holds), so the key's holder can check them
/// (`printf %s KEY | sha256sum`); any other key's are the start of the SHA-256 of its argon2id
/// hash, which says nothing of the key: the start of a typed key's own SHA-256 would let whoever
/// reads the database test guesses at SHA-256's speed instead of argon2id's.
pub fn fingerprint(stored_hash: &str) -> String {
    if let Some(hex) = stored_hash.strip_prefix(FAST_PREFIX)
        && hex.len() >= 8
    {
        return hex[..8].to_owned();
    }
    use sha2::Digest;
    sha2::Sha256::digest(stored_hash.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a stored hash is the fast form.
pub fn is_fast_hash(hash: &str) -> bool {
    HashKind::of(hash) == HashKind::Fast
}

/// What a stored hash is. The one place that tells the kinds apart: the broker's verifier, the
/// pool's workers and the upgrade after a login all ask it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// A generated key's SHA-256 ([`FAST_PREFIX`]).
    Fast,
    /// An argon2id PHC string: Keygate's own form for everything a person chose.
    Argon2,
    /// A hash imported from another broker, kept until the key's first successful login.
    Imported(ImportedHash),
    /// Nothing Keygate can verify: never matches.
    Unknown,
}

impl HashKind {
    /// The kind of `stored`.
    pub fn of(stored: &str) -> Self {
        if stored.starts_with(FAST_PREFIX) {
            Self::Fast
        } else if stored.starts_with("$argon2") {
            Self::Argon2
        } else if let Some(imported) = ImportedHash::parse(stored) {
            Self::Imported(imported)
        } else {
            Self::Unknown
        }
    }
}

/// How a key whose hash just verified should be stored instead, if at all: Keygate's own form
/// for what was presented (the fast form for a generated-format key, argon2id for anything
/// else). A generated key still stored as argon2id (made before the fast form existed) and every
/// imported hash are replaced; Keygate's own forms stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rehash {
    Fast,
    Argon2,
}

/// [`Rehash`] for a key stored as `stored` that verified with a key of generated format or not.
pub fn rehash_after_login(stored: &str, generated: bool) -> Option<Rehash> {
    match (HashKind::of(stored), generated) {
        (HashKind::Fast, _) => None,
        (HashKind::Argon2, true) => Some(Rehash::Fast),
        (HashKind::Argon2, false) => None,
        (HashKind::Imported(_), true) => Some(Rehash::Fast),
        (HashKind::Imported(_), false) => Some(Rehash::Argon2),
        (HashKind::Unknown, _) => None,
    }
}

/// Whether `presented` is the key whose fast hash is `hash`, compared in constant time; with no
/// hash (an unknown client), compares against a decoy so it costs the same, and says no.
pub fn verify_fast_or_decoy(presented: &[u8], hash: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    const DECOY: &str =
        "$keygate-sha256$0000000000000000000000000000000000000000000000000000000000000000";
    let computed = fast_hash(presented);
    let matched: bool = computed
        .as_bytes()
        .ct_eq(hash.unwrap_or(DECOY).as_bytes())
        .into();
    matched && hash.is_some()
}

/// Hashes a client key: a generated key to its fast form, any other with argon2id and a fresh
/// salt on `pool`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hash_key(pool: &Argon2Pool, key: &ClientKey) -> Result<SecretHash, SecretError> {
    if key.is_generated() {
        return Ok(SecretHash(fast_hash(key.expose().as_bytes())));
    }
    pool.hash(key.expose().as_bytes()).await
}

/// Whether `key` matches the stored hash, in either form (argon2id on `pool`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify_key(
    pool: &Argon2Pool,
    key: &ClientKey,
    hash: &SecretHash,
) -> Result<bool, SecretError> {
    if is_fast_hash(&hash.0) {
        return Ok(verify_fast_or_decoy(key.expose().as_bytes(), Some(&hash.0)));
    }
    pool.verify(key.expose().as_bytes(), Some(&hash.0)).await
}

/// Hashes a user's password with a fresh salt, on `pool`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hash_password(
    pool: &Argon2Pool,
    password: &Password,
) -> Result<SecretHash, SecretError> {
    pool.hash(password.expose().as_bytes()).await
}

/// Whether `password` matches `hash`, on `pool`; with no hash, verifies against a decoy and says
/// no.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify_password(
    pool: &Argon2Pool,
    password: &Password,
    hash: Option<&str>,
) -> Result<bool, SecretError> {
    pool.verify(password.expose().as_bytes(), hash).await
}

/// The secret part of an invitation link (`kgi_` and 32 random bytes in base58). Only its
/// SHA-256 is stored ([`token_hash`]): like a generated key, it is too random to guess, so a
/// fast hash is enough. No `Debug` or `Display`: it cannot reach a log line by accident.
pub struct InviteToken(secrecy::SecretString);

const INVITE_PREFIX: &str = "kgi_";

impl InviteToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        argon2::password_hash::rand_core::RngCore::fill_bytes(&mut OsRng, &mut bytes);
        Self(secrecy::SecretString::from(format!(
            "{INVITE_PREFIX}{}",
            bs58::encode(bytes).into_string()
        )))
    }

    /// The token a link carries; anything that is not one a Keygate made is `None` (and then no
    /// invitation), before any database lookup.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(INVITE_PREFIX)?;
        let decoded = bs58::decode(body).into_vec().ok()?;
        (decoded.len() == 32).then(|| Self(secrecy::SecretString::from(raw.to_owned())))
    }

    /// The token itself, for the one link that shows it.
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

/// What is stored for an invitation token: its SHA-256 in hex.
pub fn token_hash(token: &InviteToken) -> String {
    fast_hash(token.expose().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    fn pool() -> Argon2Pool {
        Argon2Pool::unobserved("test-argon2", 1, 8)
    }

    #[tokio::test]
    async fn a_generated_key_is_stored_in_the_fast_form_and_verifies() {
        let pool = pool();
        let key = ClientKey::generate();
        let hash = hash_key(&pool, &key).await.unwrap();
        assert!(hash.as_str().starts_with(FAST_PREFIX), "{}", hash.as_str());
        assert_eq!(hash.as_str().len(), FAST_PREFIX.len() + 64);
        assert!(!hash.as_str().contains(key.expose()));
        assert!(verify_key(&pool, &key, &hash).await.unwrap());
        assert!(
            !verify_key(&pool, &ClientKey::generate(), &hash)
                .await
                .unwrap()
        );
        assert!(verify_fast_or_decoy(
            key.expose().as_bytes(),
            Some(hash.as_str())
        ));
        assert!(!verify_fast_or_decoy(key.expose().as_bytes(), None));
    }

    #[tokio::test]
    async fn a_typed_key_verifies_against_its_own_argon2id_hash_only() {
        let pool = pool();
        let key = ClientKey::parse("my-own-typed-key-0123").unwrap();
        let hash = hash_key(&pool, &key).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(!hash.as_str().contains(key.expose()));
        assert!(verify_key(&pool, &key, &hash).await.unwrap());
        let other = ClientKey::parse("my-own-typed-key-0124").unwrap();
        assert!(!verify_key(&pool, &other, &hash).await.unwrap());
        assert_ne!(
            hash_key(&pool, &key).await.unwrap(),
            hash,
            "every hash has its own salt"
        );
    }

    #[tokio::test]
    async fn verifying_into_reused_memory_agrees_with_the_library() {
        let pool = pool();
        let mut memory = Argon2Memory::default();
        let key = ClientKey::parse("my-own-typed-key-0123").unwrap();
        let hash = hash_key(&pool, &key).await.unwrap();
        let other = ClientKey::parse("my-own-typed-key-0124").unwrap();
        for _ in 0..2 {
            assert!(verify_or_decoy_with(
                &mut memory,
                key.expose().as_bytes(),
                Some(hash.as_str())
            ));
            assert!(!verify_or_decoy_with(
                &mut memory,
                other.expose().as_bytes(),
                Some(hash.as_str())
            ));
            assert!(!verify_or_decoy_with(
                &mut memory,
                key.expose().as_bytes(),
                None
            ));
        }
        assert!(!verify_or_decoy_with(
            &mut memory,
            b"x",
            Some("not a PHC string")
        ));
        // A hash with other parameters (a smaller memory cost) verifies too.
        let small = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"kgk_small", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(verify_or_decoy_with(
            &mut memory,
            b"kgk_small",
            Some(&small)
        ));
        assert!(!verify_or_decoy_with(
            &mut memory,
            b"kgk_smalL",
            Some(&small)
        ));
    }

    /// PBKDF2-HMAC-SHA512("password", "salt"), 1 and 2 iterations: the published test vectors.
    const PBKDF2_1: &str = "$pbkdf2-sha512$1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/pQ8CPBQI119aLHaVeY/c7YKV/zg==";
    const PBKDF2_2: &str = "$pbkdf2-sha512$2$c2FsdA==$4dnBaqaBcIpF9cfE4hXOtm4BGi6fAEBxPxiu/bhm1Tz3bKsoaKObn3hA7c5P71qCvmczXHemBo4EESdU8nzPTg==";

    #[tokio::test]
    async fn an_imported_pbkdf2_hash_verifies_on_the_pool_as_the_vectors_say() {
        let pool = pool();
        for stored in [PBKDF2_1, PBKDF2_2] {
            assert!(matches!(HashKind::of(stored), HashKind::Imported(_)));
            assert!(pool.verify(b"password", Some(stored)).await.unwrap());
            assert!(!pool.verify(b"passwore", Some(stored)).await.unwrap());
        }
        assert_eq!(pool.runs(), 4, "each ran on the pool");
        assert!(
            !pool
                .verify(b"password", Some(&PBKDF2_1.replace("$1$", "$2$")))
                .await
                .unwrap(),
            "the iterations count"
        );
    }

    #[test]
    fn only_imported_hashes_and_argon2id_of_generated_keys_are_rehashed_after_login() {
        let argon2 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$AAAA";
        let fast = fast_hash(b"k");
        assert_eq!(rehash_after_login(PBKDF2_1, false), Some(Rehash::Argon2));
        assert_eq!(rehash_after_login(PBKDF2_1, true), Some(Rehash::Fast));
        assert_eq!(rehash_after_login(argon2, true), Some(Rehash::Fast));
        assert_eq!(rehash_after_login(argon2, false), None);
        assert_eq!(rehash_after_login(&fast, true), None);
        assert_eq!(rehash_after_login("nonsense", false), None);
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let pool = pool();
        let password = Password::parse_new("correct horse battery").unwrap();
        assert!(!verify_password(&pool, &password, None).await.unwrap());
        let hash = hash_password(&pool, &password).await.unwrap();
        assert!(
            verify_password(&pool, &password, Some(hash.as_str()))
                .await
                .unwrap()
        );
    }

    #[test]
    fn an_invitation_token_parses_back_and_nothing_else_does() {
        let token = InviteToken::generate();
        let parsed = InviteToken::parse(token.expose()).expect("its own token");
        assert_eq!(token_hash(&parsed), token_hash(&token));
        for bad in [
            "",
            "kgi_",
            "kgi_0OIl",
            "kgk_abc",
            "kgi_../../etc",
            &token.expose()[..20],
        ] {
            assert!(InviteToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
