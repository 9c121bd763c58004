//! Why delivering a revocation to a broker target failed, and whether retrying can fix it. Its
//! sentence is what Settings → Brokers shows as the target's last error (stored as text).

use super::admin_api::Kind;
use app::store::StoreError;

/// Why a delivery did not go through.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The broker gave no answer: no connection, a timeout, a request that broke off.
    #[error("{reason}: {cause}")]
    Unreachable {
        reason: Unreachable,
        /// The innermost cause, as the transport said it.
        cause: String,
    },
    /// The broker answered with an error status.
    #[error("{} answered {status}: {body}", kind.as_str())]
    Refused {
        kind: Kind,
        status: reqwest::StatusCode,
        /// The start of its answer.
        body: String,
    },
    /// An MQTT client identifier the admin API's URL cannot carry (`.` and `..`).
    #[error(
        "the MQTT client identifier {identifier:?} cannot be sent in {}'s admin API path; close its session on the broker by hand",
        kind.as_str()
    )]
    UnsendableIdentifier { kind: Kind, identifier: String },
    /// The store could not say which identifiers the client holds on the broker, or forget them.
    #[error("cannot read or forget the client's MQTT client identifiers: {0}")]
    Store(#[from] StoreError),
}

/// How a request got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("cannot connect")]
    Connect,
    #[error("timed out")]
    Timeout,
    #[error("request failed")]
    Request,
}

impl DeliveryError {
    /// Whether trying again later can succeed: no answer, a 5xx, 408 (timeout) or 429 (too many
    /// requests), or the store. Another 4xx says the request itself is wrong (a bad credential, a
    /// path the broker does not know), and an unsendable identifier stays unsendable: the delivery
    /// is set aside for an operator instead, so it does not hold back the revocations behind it.
    pub fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Unreachable { .. } | DeliveryError::Store(_) => true,
            DeliveryError::Refused { status, .. } => {
                !status.is_client_error()
                    || *status == reqwest::StatusCode::REQUEST_TIMEOUT
                    || *status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            DeliveryError::UnsendableIdentifier { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn refused(status: StatusCode) -> DeliveryError {
        DeliveryError::Refused {
            kind: Kind::Emqx,
            status,
            body: "{\"code\":\"X\"}".into(),
        }
    }

    #[test]
    fn only_answers_retrying_can_change_are_transient() {
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
        ] {
            assert!(refused(status).is_transient(), "{status}");
        }
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::METHOD_NOT_ALLOWED,
        ] {
            assert!(!refused(status).is_transient(), "{status}");
        }
        assert!(
            DeliveryError::Unreachable {
                reason: Unreachable::Timeout,
                cause: "deadline has elapsed".into()
            }
            .is_transient()
        );
        assert!(
            !DeliveryError::UnsendableIdentifier {
                kind: Kind::Rmqtt,
                identifier: "..".into()
            }
            .is_transient()
        );
    }

    #[test]
    fn each_error_reads_as_the_target_status_shows_it() {
        assert_eq!(
            refused(StatusCode::UNAUTHORIZED).to_string(),
            "emqx answered 401 Unauthorized: {\"code\":\"X\"}"
        );
        assert_eq!(
            DeliveryError::Unreachable {
                reason: Unreachable::Connect,
                cause: "Connection refused (os error 111)".into()
            }
            .to_string(),
            "cannot connect: Connection refused (os error 111)"
        );
        assert_eq!(
            DeliveryError::UnsendableIdentifier {
                kind: Kind::Rmqtt,
                identifier: ".".into()
            }
            .to_string(),
            "the MQTT client identifier \".\" cannot be sent in rmqtt's admin API path; close its session on the broker by hand"
        );
    }
}
