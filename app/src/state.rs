//! What every server function and page render can reach: the store and the settings.

use crate::argon2_pool::Argon2Pool;
use crate::back_off::BackOff;
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
    /// How long a dashboard session lasts without a request (`--session-idle-secs`).
    pub session_idle_ms: i64,
    /// How many workspaces an organization may have (`--max-workspaces-per-organization`).
    pub max_workspaces_per_organization: u32,
    /// How many clients a workspace may have (`--max-clients-per-workspace`).
    pub max_clients_per_workspace: u32,
    /// Whether the broker webhooks are on (a webhook secret is configured).
    pub webhooks: bool,
    /// Whether devices can publish over HTTP (`/v1/publish`): only into the embedded broker.
    pub http_publish: bool,
}

/// Shared state: handed to axum as router state and to server functions as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub sign_in_throttle: Arc<Throttle>,
    /// argon2id for passwords (sign-in, sign-up) and typed client keys: a few threads, so a burst
    /// of sign-ins cannot take the process's cores and memory from the broker.
    pub passwords: Arc<Argon2Pool>,
    /// Keys the broker verified recently; every change of a client forgets its entry.
    pub verified_keys: Arc<VerifiedKeys>,
    /// Rung after a change that revokes a credential, so the revocation workers deliver it now.
    pub revocations: Arc<RevocationSignal>,
    /// Rung after a change that may have queued credential events, so the event worker sends
    /// them now.
    pub events: Arc<Bell>,
    /// The device back-off: a client's lock-out, and its refused logins not written yet.
    pub back_off: Arc<dyn BackOff>,
    pub leptos_options: LeptosOptions,
}

/// Wakes every worker that waits on it at once (one per broker target for revocations, the event
/// worker for events); a worker that was busy sees the ring when it next waits, so none is missed.
#[derive(Debug)]
pub struct Bell(tokio::sync::watch::Sender<u64>);

/// The bell of the revocation workers.
pub type RevocationSignal = Bell;

impl Bell {
    pub fn new() -> Self {
        Self(tokio::sync::watch::channel(0).0)
    }

    pub fn ring(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

impl Default for Bell {
    fn default() -> Self {
        Self::new()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
