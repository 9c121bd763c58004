//! Types both sides share: the browser validates with them as you type, the server with them for real.

mod client_id;
mod client_key;
mod dto;
mod fields;
mod namespace;
pub mod time_format;

pub use client_id::{ClientId, ClientIdError};
pub use client_key::{ClientKey, ClientKeyError, KEY_PREFIX};
pub use dto::*;
pub use fields::{
    ClientName, Description, Email, FieldError, OrgName, Password, SecretInput, WorkspaceName,
};
pub use namespace::{Namespace, NamespaceError};

/// Fills `buf` from the OS random number generator (the browser's `crypto.getRandomValues` in WASM).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::getrandom(buf)
        .expect("the operating system's random number generator is unavailable");
}
