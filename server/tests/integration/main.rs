//! Keygate's integration tests: one test binary (one link, one `cargo test` target), a folder per
//! area, a file per feature, and what every test starts from in `support/` (a fresh database per
//! test, the real server on random ports, a browser-like tenant).
//!
//! | module        | what it tests                                                             |
//! |---------------|---------------------------------------------------------------------------|
//! | `api/`        | the server functions over real HTTP, as the browser calls them            |
//! | `architecture_map` | docs/architecture.md's module map against the source tree            |
//! | `broker/`     | the embedded broker with real MQTT clients, webhooks, revocation delivery |
//! | `http/`       | what the HTTP layer refuses or redirects before any route runs            |
//! | `rest/`       | the REST API as scripts call it, with API tokens, and the `keygate` CLI   |
//! | `store/`      | the store's verbs, one file per store module                              |
//! | `secret_leak` | no secret in the database, the logs or the HTML                           |
//!
//! A test on both engines is an `async fn name(engine: Engine)` marked `#[engines]`; it runs as
//! `name::sqlite` and `name::postgres`. Filter by path:
//!
//! ```text
//! cargo test -p server --test integration                      everything
//! cargo test -p server --test integration store::clients::     one file
//! cargo test -p server --test integration broker:: -- --skip ::postgres   one area, SQLite only
//! ```

mod api;
mod architecture_map;
mod broker;
mod http;
mod rest;
mod secret_leak;
mod store;
mod support;
