//! What can be done with Keygate's objects, each as one function that does the whole of it: the
//! hashing, the store's transaction, waking the revocation workers, and reading back what the
//! caller shows. A use case takes who acts and the process's state as arguments and knows nothing
//! of HTTP or Leptos, so the dashboard's server functions and any other front door call the same
//! code: each parses its request, calls a use case and maps the result.

pub mod actor;
pub mod api_tokens;
pub mod clients;
pub mod devices;
pub mod events;
pub mod imports;
pub mod install;
pub mod login_activity;
pub mod members;
pub mod workspaces;

pub use actor::{Actor, Denied, Failure, TokenLimit};
