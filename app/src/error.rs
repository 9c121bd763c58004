//! The one error type of the server functions: what the user sees. Internal causes are logged on
//! the server and never sent; validation failures name the field they belong to.

use crate::model::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
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
    /// A request no form of ours sends (a hand-made one with a missing or mistyped field).
    #[error("Malformed request: {0}")]
    BadRequest(String),
    #[error("Too many attempts. Try again in {0} seconds.")]
    TooManyAttempts(u64),
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
}
