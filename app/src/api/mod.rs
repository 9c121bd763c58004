//! Server functions: the dashboard's whole API. Each is thin: who is calling, parse the input,
//! call the store, map the error (`crate::error`). They run on the server; the browser gets a
//! typed stub.

pub mod account;
pub mod activity;
pub mod api_tokens;
pub mod brokers;
pub mod clients;
pub mod devices;
pub mod events;
pub mod imports;
pub mod install;
pub mod keys;
pub mod login_activity;
pub mod members;
pub mod workspaces;
