//! The embedded broker with real MQTT clients over TCP: each test starts Keygate on random ports
//! with a fresh database (SQLite and PostgreSQL), creates clients through the dashboard's server
//! functions, and connects, subscribes and publishes as a device would.

mod commands;
mod connect;
mod crash;
pub mod device;
mod external_rmqtt;
mod fake_admin_api;
mod identifiers;
mod isolation;
mod limits;
mod load;
mod metrics;
mod options;
mod outcomes;
mod ownership;
mod raw;
mod revocation;
mod targets;
mod throttle;
mod tracking;
mod transports;
mod webhook_sessions;
mod webhooks;

use crate::support::{self, Engine, Tenant, TestApp};
use app::model::{ClientKey, RevealedKey};
use device::{Login, Transport};

/// The three ways a device can present a client's credentials (README, "Connecting devices").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// client identifier = Client ID, username = namespace.
    Namespace,
    /// username = `CLIENT_ID@ORGANIZATION_ID`, any client identifier.
    WithOrganization,
    /// username = Client ID, client identifier = a device id.
    ClientIdUsername,
}

pub const FORMS: [Form; 3] = [
    Form::Namespace,
    Form::WithOrganization,
    Form::ClientIdUsername,
];

/// The CONNECT a device of `client` sends in `form` with `key`.
pub fn login(form: Form, client: &RevealedKey, key: &str) -> Login {
    let c = &client.connection;
    match form {
        Form::Namespace => Login::new(c.client_id.as_str(), c.username_namespace(), key),
        Form::WithOrganization => Login::new(
            &format!("device-{}", support::unique_suffix()),
            &c.username_with_org(),
            key,
        ),
        Form::ClientIdUsername => Login::new(
            &format!("sensor-{}", support::unique_suffix()),
            c.username_client_id(),
            key,
        ),
    }
}

/// A topic inside `client`'s namespace.
pub fn topic(client: &RevealedKey, leaf: &str) -> String {
    format!(
        "{}/devices/{}/{leaf}",
        client.connection.namespace, client.connection.client_id
    )
}

/// A running Keygate, a signed-up tenant and one client of theirs.
pub struct Setup {
    pub app: TestApp,
    pub tenant: Tenant,
    pub client: RevealedKey,
}

impl Setup {
    pub async fn new(engine: Engine) -> Self {
        Self::with(engine, |_| {}).await
    }

    pub async fn with(engine: Engine, configure: impl FnOnce(&mut server::config::Config)) -> Self {
        let app = TestApp::spawn_with(engine, configure).await;
        let tenant = app.sign_up("Acme Devices").await;
        let client = tenant.new_client("Boiler room sensor").await;
        Self {
            app,
            tenant,
            client,
        }
    }

    pub fn tcp(&self) -> Transport {
        Transport::Tcp(self.app.mqtt.expect("the embedded broker runs"))
    }

    pub fn key(&self) -> &str {
        self.client.key.expose()
    }

    /// Gives the client a new key of the test's choosing through the dashboard's server function.
    pub async fn regenerate(&self) -> (ClientKey, RevealedKey) {
        let key = ClientKey::generate();
        let revealed = self
            .tenant
            .call(
                "clients/regenerate_key",
                &[
                    ("client_id", self.client.connection.client_id.as_str()),
                    ("key", key.expose()),
                ],
            )
            .await
            .expect("regenerate");
        (key, revealed)
    }

    /// Activates or deactivates the client through the dashboard's server function.
    pub async fn set_active(&self, active: bool) {
        let _: app::model::ClientRow = self
            .tenant
            .call(
                "clients/set_active",
                &[
                    ("client_id", self.client.connection.client_id.as_str()),
                    ("active", if active { "true" } else { "false" }),
                ],
            )
            .await
            .expect("set_active");
    }
}
