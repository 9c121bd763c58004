//! What the dashboard may ask of the device back-off: whether a client is locked out, the refused
//! logins it counted and has not written yet, and clearing a client's lock-out. The back-off
//! itself (`server::device_auth::failures`) lives beside the brokers, in the server crate, which
//! `app` cannot name; the server hands its [`BackOff`] to [`crate::state::AppState`].
//!
//! The back-off is in memory, per process: with several Keygate processes on one database, each
//! answers for the logins it decided.

use crate::model::{ClientRef, Lockout};
use crate::store::login_failures::Tally;

/// The device back-off, as the dashboard sees it.
pub trait BackOff: Send + Sync + std::fmt::Debug {
    /// What the back-off holds against `client` now; `None` while nothing is locked.
    fn lockout(&self, client: &ClientRef) -> Option<Lockout>;

    /// Clears `client`'s lock-out and the counts behind it: its own, and each address's for it.
    /// A device with the right key gets in at its next attempt. What was locked before.
    fn clear_lockout(&self, client: &ClientRef) -> Option<Lockout>;

    /// `client`'s refused logins counted since they were last written to the store.
    fn unwritten(&self, client: &ClientRef) -> Vec<Tally>;
}

/// A back-off that holds nothing: for a state built without the server (the use-case tests).
#[cfg(feature = "test-support")]
#[derive(Debug, Default)]
pub struct Idle;

#[cfg(feature = "test-support")]
impl BackOff for Idle {
    fn lockout(&self, _: &ClientRef) -> Option<Lockout> {
        None
    }

    fn clear_lockout(&self, _: &ClientRef) -> Option<Lockout> {
        None
    }

    fn unwritten(&self, _: &ClientRef) -> Vec<Tally> {
        Vec::new()
    }
}
