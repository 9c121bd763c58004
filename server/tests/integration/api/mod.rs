//! The server functions over real HTTP, as the browser calls them: form-encoded POSTs to
//! `/api/...` with the session cookie, JSON answers, and errors as server_fn 0.8 sends them; and
//! the HTTP publish endpoint as curl calls it (`http_publish`). Every test runs on a fresh SQLite
//! file and on a fresh PostgreSQL database.

mod account;
mod activity;
mod api_tokens;
mod client_access;
mod client_import;
mod clients;
mod devices;
mod events;
mod export;
mod http_publish;
mod isolation;
mod keys;
mod limits;
mod members;
mod request_ids;
mod roles;
mod servers;
mod sign_in_burst;
mod statuses;
mod workspaces;
