//! Ready-to-paste connection snippets and the downloadable credentials file, built in the browser
//! from the one response that carries the key.

mod quote;

use crate::model::{ConnectionInfo, time_format};

/// The languages the reveal step offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Snippet {
    MosquittoPub,
    PythonPaho,
    MqttJs,
    /// The same key over HTTP: `POST /v1/publish/TOPIC` with HTTP Basic.
    Curl,
}

impl Snippet {
    pub const ALL: [Snippet; 4] = [
        Snippet::MosquittoPub,
        Snippet::PythonPaho,
        Snippet::MqttJs,
        Snippet::Curl,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Snippet::MosquittoPub => "mosquitto_pub",
            Snippet::PythonPaho => "Python (paho-mqtt)",
            Snippet::MqttJs => "JavaScript (mqtt.js)",
            Snippet::Curl => "curl (HTTP)",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Snippet::MosquittoPub => "mosquitto",
            Snippet::PythonPaho => "python",
            Snippet::MqttJs => "javascript",
            Snippet::Curl => "curl",
        }
    }

    /// The snippet for connection form 1 (client identifier = Client ID, username = namespace);
    /// curl's user is the Client ID, which publishes as the Client ID (form 3's username, whose
    /// default device is the Client ID itself). Every value is quoted for the snippet's language
    /// (see [`quote`]): a typed key may hold quotes, `$`, backticks or backslashes.
    pub fn render(self, c: &ConnectionInfo, key: &str) -> String {
        let (host, port, id, user, topic) = (
            c.broker_host.as_str(),
            c.broker_port,
            c.client_id.as_str(),
            c.username_namespace(),
            c.example_topic(),
        );
        match self {
            Snippet::MosquittoPub => format!(
                "mosquitto_pub -h {host} -p {port} -V mqttv311 \\\n  -i {id} -u {user} -P {key} \\\n  -t {topic} -m '{{\"temperature\": 21.5}}' -q 1",
                host = quote::sh(host),
                id = quote::sh(id),
                user = quote::sh(user),
                key = quote::sh(key),
                topic = quote::sh(&topic),
            ),
            Snippet::PythonPaho => format!(
                "import json\nimport paho.mqtt.client as mqtt  # pip install \"paho-mqtt>=2\"\n\nclient = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id={id})\nclient.username_pw_set({user}, {key})\nclient.connect({host}, {port})\nclient.loop_start()\nclient.publish({topic}, json.dumps({{\"temperature\": 21.5}}), qos=1).wait_for_publish()\nclient.loop_stop()\nclient.disconnect()",
                id = quote::python(id),
                user = quote::python(user),
                key = quote::python(key),
                host = quote::python(host),
                topic = quote::python(&topic),
            ),
            Snippet::MqttJs => format!(
                "// npm install mqtt\nconst mqtt = require(\"mqtt\");\n\nconst client = mqtt.connect({url}, {{\n  clientId: {id},\n  username: {user},\n  password: {key},\n}});\nclient.on(\"connect\", () => {{\n  client.publish({topic}, JSON.stringify({{ temperature: 21.5 }}), {{ qos: 1 }}, () => client.end());\n}});\nclient.on(\"error\", (err) => console.error(err.message));",
                url = quote::js(&format!("mqtt://{host}:{port}")),
                id = quote::js(id),
                user = quote::js(user),
                key = quote::js(key),
                topic = quote::js(&topic),
            ),
            Snippet::Curl => match &c.publish_url {
                Some(url) => format!(
                    "curl -u {user} \\\n  --data-binary '{{\"temperature\": 21.5}}' \\\n  {url}",
                    user = quote::sh(&format!("{id}:{key}")),
                    url = quote::sh(&format!("{url}/{topic}?qos=1")),
                ),
                None => "# Publishing over HTTP needs Keygate's embedded broker,\n# and this Keygate runs without it (--no-broker).".to_owned(),
            },
        }
    }
}

/// The name of the downloaded credentials file.
pub fn credentials_filename(c: &ConnectionInfo) -> String {
    format!("keygate-{}.env", c.client_id)
}

/// The downloaded credentials file: dotenv format, which `set -a; . ./FILE` in sh and dotenv
/// libraries load. Each value is quoted so that both read it back as it is (see
/// [`quote::dotenv`]); one that no quoting gives to both is written for sh, under a comment that
/// says so.
pub fn credentials_file(c: &ConnectionInfo, key: &str, created_at: i64) -> String {
    let filename = credentials_filename(c);
    let line = |name: &str, value: &str| {
        let value = quote::dotenv(value);
        let note = if value.portable {
            String::new()
        } else {
            format!(
                "# {name} below is written for sh (set -a; . ./{filename}): no quoting of it \
                 reads the same there and in python-dotenv or other dotenv libraries.\n"
            )
        };
        format!("{note}{name}={}\n", value.text)
    };
    let id = c.client_id.as_str();
    let namespace = c.namespace.as_str();
    // Comments end at a line break: one in a value would start a line of its own.
    let org_in_comment = c.organization_id.replace(char::is_control, " ");
    [
        format!(
            "# Keygate credentials for client {id}, issued {when}.\n\
             # Keep this file secret: the key is shown once and Keygate cannot show it again.\n",
            when = time_format::utc_minutes(created_at),
        ),
        line("MQTT_HOST", &c.broker_host),
        line("MQTT_PORT", &c.broker_port.to_string()),
        line("MQTT_CLIENT_ID", id),
        line("MQTT_USERNAME", namespace),
        line("MQTT_PASSWORD", key),
        format!(
            "# Other ways to connect with the same key:\n\
             #   username={id}@{org_in_comment} with any client identifier\n\
             #   username={id} with a device id as client identifier\n"
        ),
        line("KEYGATE_ORGANIZATION_ID", &c.organization_id),
        line("KEYGATE_NAMESPACE", namespace),
    ]
    .concat()
}

#[cfg(test)]
mod interpreter_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, Namespace};

    fn info() -> ConnectionInfo {
        ConnectionInfo {
            client_id: ClientId::parse("c-abc12345").unwrap(),
            namespace: Namespace::parse("acme").unwrap(),
            organization_id: "0b5f".into(),
            broker_host: "mqtt.example.test".into(),
            broker_port: 1883,
            publish_url: Some("https://keygate.example.test/v1/publish".into()),
        }
    }

    #[test]
    fn every_mqtt_snippet_carries_host_port_id_username_and_key() {
        for s in Snippet::ALL.into_iter().filter(|s| *s != Snippet::Curl) {
            let text = s.render(&info(), "kgk_SECRET");
            // A shell word needs no quotes when nothing in it is special.
            let user = if s == Snippet::MosquittoPub {
                "-u acme"
            } else {
                "\"acme\""
            };
            for part in [
                "mqtt.example.test",
                "1883",
                "c-abc12345",
                user,
                "kgk_SECRET",
                "acme/devices/c-abc12345/telemetry",
            ] {
                assert!(text.contains(part), "{} lacks {part}:\n{text}", s.label());
            }
        }
    }

    #[test]
    fn the_curl_snippet_publishes_over_http_with_the_client_id_and_key() {
        assert_eq!(
            Snippet::Curl.render(&info(), "kgk_SECRET"),
            "curl -u c-abc12345:kgk_SECRET \\\n  --data-binary '{\"temperature\": 21.5}' \\\n  \
             'https://keygate.example.test/v1/publish/acme/devices/c-abc12345/telemetry?qos=1'"
        );
        let without_broker = ConnectionInfo {
            publish_url: None,
            ..info()
        };
        let text = Snippet::Curl.render(&without_broker, "kgk_SECRET");
        assert!(
            text.starts_with('#') && text.contains("--no-broker"),
            "{text}"
        );
        assert!(!text.contains("kgk_SECRET"));
    }

    #[test]
    fn credentials_file_lists_the_three_connection_forms() {
        let file = credentials_file(&info(), "kgk_SECRET", 0);
        assert!(file.contains("MQTT_PASSWORD=kgk_SECRET"));
        assert!(file.contains("MQTT_USERNAME=acme"));
        assert!(file.contains("username=c-abc12345@0b5f"));
        assert!(file.contains("username=c-abc12345 with a device id"));
        assert_eq!(credentials_filename(&info()), "keygate-c-abc12345.env");
    }
}
