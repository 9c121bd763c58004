//! The one error type of the server functions: what the user sees, and the HTTP status it is
//! answered with. Every error of a lower layer becomes one here, and nowhere else: internal
//! causes are logged on the server and never sent; validation failures name the field they belong
//! to.

use crate::model::{FieldError, ParseError, ScopeError};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input, shown next to the field.
    #[error("{message}")]
    Invalid { field: FieldError, message: String },
    #[error("Your session has ended. Please sign in again.")]
    Unauthorized,
    /// Also what another organization's objects look like: their existence is not revealed.
    #[error("That {0} does not exist (any more).")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts what happened since (a retry of a create whose client was deleted).
    #[error("{0}")]
    Conflict(String),
    /// A request no form of ours sends (a hand-made one with a missing or mistyped field).
    #[error("Malformed request: {0}")]
    BadRequest(String),
    #[error("Too many attempts. Try again in {0} seconds.")]
    TooManyAttempts(u64),
    /// Too many passwords are being checked at once; nothing was done.
    #[error("Keygate is busy checking other passwords. Try again in a moment.")]
    Busy,
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: FieldError, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The message to show at `field`, if this error belongs there.
    pub fn for_field(&self, field: FieldError) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if *f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status that says what the error is, so hand-made clients and access logs can
    /// tell bad input from a missing client from a crash. The browser treats every 4xx and 5xx
    /// alike and decodes the same JSON body.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A field that did not parse is shown at that field, with the parser's sentence.
impl From<ParseError> for AppError {
    fn from(e: ParseError) -> Self {
        AppError::invalid(e.field, e.to_string())
    }
}

/// A scope list that did not parse is shown at the scope field, naming the entry at fault.
impl From<ScopeError> for AppError {
    fn from(e: ScopeError) -> Self {
        let message = if e.text.is_empty() {
            e.error.to_string()
        } else {
            e.to_string()
        };
        AppError::invalid(FieldError::Scope, message)
    }
}

#[cfg(feature = "ssr")]
mod from_server_errors {
    use super::AppError;
    use crate::model::FieldError;
    use crate::secrets::SecretError;
    use crate::store::StoreError;
    use crate::use_cases::clients::ClientError;
    use crate::use_cases::{Denied, Failure};

    impl From<StoreError> for AppError {
        fn from(e: StoreError) -> Self {
            match e {
                StoreError::ClientIdTaken => AppError::invalid(
                    FieldError::ClientId,
                    "This Client ID is taken. Choose another one.",
                ),
                StoreError::DeviceIdTaken => AppError::invalid(
                    FieldError::DeviceId,
                    "This device id is already in this workspace.",
                ),
                StoreError::EmailTaken => AppError::invalid(
                    FieldError::Email,
                    "An account with this email exists. Sign in instead.",
                ),
                StoreError::NamespaceTaken => AppError::invalid(
                    FieldError::Namespace,
                    "This namespace is taken. Choose another one.",
                ),
                StoreError::NotFound => AppError::NotFound("item".into()),
                StoreError::AlreadyMember => AppError::invalid(
                    FieldError::Email,
                    "This person is a member of the organization already.",
                ),
                StoreError::LastOwner => AppError::Forbidden(
                    "The organization's last owner cannot leave or be demoted. Make someone else an owner first.".into(),
                ),
                StoreError::LastOperator => AppError::Forbidden(
                    "This Keygate's last operator cannot be removed. Name another operator first.".into(),
                ),
                StoreError::KeysFull => AppError::Forbidden(
                    "This client has two keys already: retire the old one before rotating again.".into(),
                ),
                StoreError::OnlyKey => AppError::Forbidden(
                    "This is the client's only working key: rotate first, or regenerate to replace it at once.".into(),
                ),
                StoreError::OnlyOrganization => AppError::Forbidden(
                    "You cannot leave your only organization.".into(),
                ),
                StoreError::LimitReached { what, limit } => AppError::Forbidden(format!(
                    "This Keygate allows at most {limit} {what}; nothing was created. Delete one, or ask an operator of this Keygate to raise the limit."
                )),
                StoreError::SignupClosed => AppError::Forbidden(
                    "Sign-up is closed on this Keygate. Ask an administrator for an account.".into(),
                ),
                StoreError::InvitationUnusable => AppError::Forbidden(
                    "This invitation was used, revoked, or has expired. Ask for a new one.".into(),
                ),
                StoreError::InvitationForSomeoneElse => AppError::Forbidden(
                    "This invitation is for another email address. Sign in with that address, or ask for a new invitation.".into(),
                ),
                other => {
                    tracing::error!(error = %other, "store error");
                    AppError::Internal
                }
            }
        }
    }

    impl From<SecretError> for AppError {
        fn from(e: SecretError) -> Self {
            match e {
                SecretError::Busy => {
                    tracing::warn!("the password pool's queue is full; a request was turned away");
                    AppError::Busy
                }
                e => {
                    tracing::error!(error = %e, "hashing error");
                    AppError::Internal
                }
            }
        }
    }

    /// A client that is missing, or another organization's, is a "client" not found.
    impl From<ClientError> for AppError {
        fn from(e: ClientError) -> Self {
            match e {
                ClientError::Store(e) => AppError::missing("client")(e),
                ClientError::Hashing(e) => e.into(),
                ClientError::Rule(e) => AppError::invalid(FieldError::TopicRule, e.to_string()),
                ClientError::Denied(e) => e.into(),
                e @ (ClientError::BadIdempotencyKey | ClientError::IdempotencyKeyReused) => {
                    AppError::invalid(FieldError::IdempotencyKey, capitalized(&e.to_string()))
                }
                ClientError::ReplayedClientGone => AppError::Conflict(
                    "The client this Idempotency-Key created has been deleted since; send a new key to create it again.".into(),
                ),
            }
        }
    }

    /// A lower layer's sentence as a message: its first letter capitalized, a full stop added.
    fn capitalized(sentence: &str) -> String {
        let mut chars = sentence.chars();
        match chars.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
            None => String::new(),
        }
    }

    impl From<Denied> for AppError {
        fn from(e: Denied) -> Self {
            tracing::info!(reason = %e, "a request the caller's role does not allow was refused");
            AppError::Forbidden(match e {
                Denied::Role { role, .. } => format!(
                    "Your role in this organization ({}) does not allow this. Ask an owner.",
                    role.label()
                ),
                Denied::NotOperator => {
                    "Only an operator of this Keygate can see or change this.".to_owned()
                }
                Denied::TokenScope { scope, .. } => format!(
                    "This API token's scope ({}) does not allow this.",
                    scope.label()
                ),
            })
        }
    }

    impl From<Failure> for AppError {
        fn from(e: Failure) -> Self {
            match e {
                Failure::Denied(e) => e.into(),
                Failure::Store(e) => e.into(),
            }
        }
    }

    impl AppError {
        /// A change of one key of a client: a key that is missing, ended, or another client's
        /// (or organization's) is a "key" not found.
        pub fn missing_key(e: ClientError) -> AppError {
            match e {
                ClientError::Store(StoreError::NotFound) => AppError::NotFound("key".into()),
                other => other.into(),
            }
        }

        /// Maps a use case's or the store's error for an object of the caller's organization:
        /// "not found" names `what` ("client", "workspace"), whether it is missing or belongs to
        /// someone else.
        pub fn missing<E: Into<Failure>>(what: &'static str) -> impl Fn(E) -> AppError {
            move |e| match e.into() {
                Failure::Store(StoreError::NotFound) => AppError::NotFound(what.into()),
                other => other.into(),
            }
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode: only a hand-made request sends those.
            ServerFnErrorErr::Args(message) => AppError::BadRequest(message),
            other => AppError::Transport(other.to_string()),
        }
    }

    /// Every error a server function answers with is encoded here, on its way into the response:
    /// one the function returned, and one its arguments made by not decoding. server_fn 0.8 gives
    /// every error response the status 500, so this is also where the error's own status is set,
    /// through the request's `ResponseOptions`, which leptos_axum applies to the response. A page
    /// render that calls a server function directly never comes here: its results travel
    /// serialized inside the page.
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.status());
        }
        <Self::Encoder as Encodes<Self>>::encode(self).unwrap_or_else(|e| {
            let fallback =
                Self::from_server_fn_error(ServerFnErrorErr::Serialization(e.to_string()));
            <Self::Encoder as Encodes<Self>>::encode(&fallback)
                .expect("an AppError without a payload to fail on encodes")
        })
    }
}
