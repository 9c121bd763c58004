//! The embedded broker with real MQTT clients over TCP: each test starts Keygate on random ports
//! with a fresh database (SQLite and PostgreSQL), creates clients through the dashboard's server
//! functions, and connects, subscribes and publishes as a device would.

mod access_paths;
mod auth_failure_events;
mod client_activity;
mod commands;
mod connect;
mod crash;
pub mod device;
pub(crate) mod external_rmqtt;
mod fake_admin_api;
mod identifiers;
mod imports;
mod isolation;
mod key_forms;
mod key_rotation;
mod limits;
mod load;
mod metrics;
mod options;
mod outcomes;
mod ownership;
mod raw;
mod revocation;
mod scopes;
mod targets;
mod throttle;
mod topic_rules;
mod tracking;
mod transports;
mod webhook_sessions;
pub(crate) mod webhooks;

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

/// Sets which devices `client` of `tenant` serves (`None`: any in the workspace) and its topic
/// rules (each `(permission, action, filter)`) through the Edit modal's server function: one
/// change, committed with its revocation when it narrows access.
pub async fn set_access(
    tenant: &Tenant,
    client: &RevealedKey,
    scope: Option<&str>,
    rules: &[(&str, &str, &str)],
) {
    let mut form: Vec<(String, String)> = vec![
        ("client_id".into(), client.connection.client_id.to_string()),
        (
            "scope_mode".into(),
            if scope.is_some() { "only" } else { "any" }.into(),
        ),
        ("scope".into(), scope.unwrap_or_default().into()),
    ];
    for (i, (permission, action, filter)) in rules.iter().enumerate() {
        form.push((format!("rules[{i}][permission]"), (*permission).into()));
        form.push((format!("rules[{i}][action]"), (*action).into()));
        form.push((format!("rules[{i}][filter]"), (*filter).into()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let _: app::model::ClientRow = tenant
        .call("clients/update_access", &form)
        .await
        .expect("update_access");
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

    /// Sets which devices the client serves (`None`: any in the workspace) and its topic rules
    /// (see [`set_access`]).
    pub async fn set_access(&self, scope: Option<&str>, rules: &[(&str, &str, &str)]) {
        set_access(&self.tenant, &self.client, scope, rules).await;
    }

    /// Adds the device `device` with these tags (`key=value`) through the Devices page's server
    /// function.
    pub async fn tag_device(&self, device: &str, tags: &[&str]) {
        let _: app::model::DeviceRow = self
            .tenant
            .call(
                "devices/create",
                &[
                    ("device_id", device),
                    ("name", ""),
                    ("tags", &tags.join(", ")),
                ],
            )
            .await
            .expect("the device is added");
    }

    /// Changes the tags of `device` through the Devices page's server function.
    pub async fn retag_device(&self, device: &str, tags: &[&str]) {
        let _: serde_json::Value = self
            .tenant
            .call(
                "devices/update",
                &[
                    ("device_id", device),
                    ("name", ""),
                    ("tags", &tags.join(", ")),
                ],
            )
            .await
            .expect("the device is updated");
    }

    /// Deletes `device` through the Devices page's server function.
    pub async fn delete_device(&self, device: &str) {
        let _: serde_json::Value = self
            .tenant
            .call("devices/delete", &[("device_id", device)])
            .await
            .expect("the device is deleted");
    }

    /// A topic of device `device` in the client's namespace.
    pub fn device_topic(&self, device: &str, leaf: &str) -> String {
        format!(
            "{}/devices/{device}/{leaf}",
            self.client.connection.namespace
        )
    }

    /// The CONNECT of device `device` in connection form 3 (username = Client ID).
    pub fn device_login(&self, device: &str) -> Login {
        Login::new(
            device,
            self.client.connection.username_client_id(),
            self.key(),
        )
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
