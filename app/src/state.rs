//! What every server function and page render can reach: the store and the settings.

use crate::store::Db;
use crate::throttle::Throttle;
use crate::verified_keys::VerifiedKeys;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Settings the dashboard needs (the server's flags hold more).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The broker host shown in connection details; `None` means "the host the dashboard was
    /// reached at".
    pub broker_host: Option<String>,
    pub broker_port: u16,
    /// Whether anyone may sign up. The first visitor of an empty install always may.
    pub open_signup: bool,
}

/// Shared state: handed to axum as router state and to server functions as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub sign_in_throttle: Arc<Throttle>,
    /// Keys the broker verified recently; every change of a client forgets its entry.
    pub verified_keys: Arc<VerifiedKeys>,
    /// Woken after a change that revokes a credential, so the revocation worker delivers it now.
    pub revocations: Arc<tokio::sync::Notify>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
