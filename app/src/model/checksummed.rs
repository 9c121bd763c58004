//! The format of every secret Keygate generates for someone to copy (a client's `kgk_` key, an API
//! token's `kgt_`): a prefix secret scanners recognise, 32 bytes from the OS random source and a
//! CRC32 of them, in base58. The checksum tells a typo (or a made-up value) from a real secret
//! before any lookup. One place for the format, so the kinds of secret cannot drift apart.

/// How many random bytes a generated secret carries: 256 bits nobody can guess.
pub(crate) const RANDOM_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 4;

/// A fresh secret: `prefix`, then base58 of 32 random bytes and their CRC32.
pub(crate) fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; RANDOM_BYTES + CHECKSUM_BYTES];
    super::random_bytes(&mut bytes[..RANDOM_BYTES]);
    let crc = crc32fast::hash(&bytes[..RANDOM_BYTES]);
    bytes[RANDOM_BYTES..].copy_from_slice(&crc.to_be_bytes());
    format!("{prefix}{}", bs58::encode(&bytes).into_string())
}

/// The 32 random bytes of `raw` if it is `prefix`, base58 of 36 bytes, and its checksum is right.
pub(crate) fn random_part(prefix: &str, raw: &str) -> Option<[u8; RANDOM_BYTES]> {
    let body = raw.strip_prefix(prefix)?;
    let bytes = bs58::decode(body).into_vec().ok()?;
    if bytes.len() != RANDOM_BYTES + CHECKSUM_BYTES {
        return None;
    }
    let (random, checksum) = bytes.split_at(RANDOM_BYTES);
    (crc32fast::hash(random).to_be_bytes() == checksum).then(|| {
        let mut out = [0u8; RANDOM_BYTES];
        out.copy_from_slice(random);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_reads_back_under_its_own_prefix_only() {
        let raw = generate("kgx_");
        assert!(random_part("kgx_", &raw).is_some());
        assert!(random_part("kgy_", &raw).is_none());
        assert_ne!(raw, generate("kgx_"));
    }
}
