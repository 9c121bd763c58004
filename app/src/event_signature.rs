//! The signing secret of an event endpoint and the Standard Webhooks signature made with it: the
//! one place that knows the `whsec_` format and what is signed.
//!
//! A receiver checks `webhook-signature: v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`
//! with the secret's bytes (the base64 after `whsec_`), and refuses a `webhook-timestamp` far from
//! its own clock, so each attempt is signed when it is sent.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;

/// The prefix Standard Webhooks gives a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// 24 random bytes, as Standard Webhooks' reference libraries make them: 192 bits nobody guesses.
const SECRET_BYTES: usize = 24;

/// An endpoint's signing secret, `whsec_` and base64. No `Display`, a redacted `Debug`, zeroed
/// when dropped; [`EventSecret::expose`] is for storing it and the one reveal.
#[derive(Clone)]
pub struct EventSecret(SecretString);

/// A stored secret that is not `whsec_` and base64: the row was not written by Keygate.
#[derive(Debug, thiserror::Error)]
#[error("an event endpoint's secret is not whsec_ and base64")]
pub struct MalformedSecret;

impl EventSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::getrandom(&mut bytes)
            .expect("the operating system's random number generator is unavailable");
        Self(SecretString::from(format!(
            "{SECRET_PREFIX}{}",
            Base64::encode_string(&bytes)
        )))
    }

    /// The secret as the store keeps it.
    pub fn from_stored(text: String) -> Self {
        Self(SecretString::from(text))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The `webhook-signature` header's value for message `id` sent at `timestamp` (Unix
    /// seconds) with `body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> Result<String, MalformedSecret> {
        let key = self
            .expose()
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b64| Base64::decode_vec(b64).ok())
            .filter(|key| !key.is_empty())
            .ok_or(MalformedSecret)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        Ok(format!(
            "v1,{}",
            Base64::encode_string(&mac.finalize().into_bytes())
        ))
    }
}

impl fmt::Debug for EventSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_specification_example() {
        // The example of the Standard Webhooks specification (and of its reference libraries'
        // tests): this secret, id, timestamp and body give this signature.
        let secret = EventSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let signature = secret
            .sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#,
            )
            .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_generated_secret_is_prefixed_base64_of_24_bytes_and_never_printed() {
        let secret = EventSecret::generate();
        let b64 = secret.expose().strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(Base64::decode_vec(b64).unwrap().len(), SECRET_BYTES);
        assert_ne!(secret.expose(), EventSecret::generate().expose());
        assert_eq!(format!("{secret:?}"), "EventSecret(<redacted>)");
        assert!(
            EventSecret::from_stored("nope".into())
                .sign("a", 1, "b")
                .is_err()
        );
    }
}
