//! Server functions: the dashboard's whole API. Each is thin: who is calling, parse the input,
//! call the store, map the error. They run on the server; the browser gets a typed stub.

pub mod account;
pub mod brokers;
pub mod clients;
pub mod workspaces;

#[cfg(feature = "ssr")]
pub(crate) use ssr_errors::missing;

#[cfg(feature = "ssr")]
mod ssr_errors {
    use crate::error::AppError;
    use crate::model::FieldError;
    use crate::secrets::SecretError;
    use crate::store::StoreError;

    impl From<StoreError> for AppError {
        fn from(e: StoreError) -> Self {
            match e {
                StoreError::ClientIdTaken => AppError::invalid(
                    FieldError::ClientId,
                    "This Client ID is taken. Choose another one.",
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
                other => {
                    tracing::error!(error = %other, "store error");
                    AppError::Internal
                }
            }
        }
    }

    impl From<SecretError> for AppError {
        fn from(e: SecretError) -> Self {
            tracing::error!(error = %e, "hashing error");
            AppError::Internal
        }
    }

    /// Maps a store error for an object of the caller's organization: "not found" names `what`
    /// ("client", "workspace"), whether it is missing or belongs to someone else.
    pub(crate) fn missing(what: &'static str) -> impl Fn(StoreError) -> AppError {
        move |e| match e {
            StoreError::NotFound => AppError::NotFound(what.into()),
            other => other.into(),
        }
    }
}
