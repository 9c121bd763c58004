//! Ready-to-paste connection snippets and the downloadable credentials file, built in the browser
//! from the one response that carries the key.

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
    /// default device is the Client ID itself).
    pub fn render(self, c: &ConnectionInfo, key: &str) -> String {
        let (host, port, id, user, topic) = (
            &c.broker_host,
            c.broker_port,
            c.client_id.as_str(),
            c.username_namespace(),
            c.example_topic(),
        );
        match self {
            Snippet::MosquittoPub => format!(
                "mosquitto_pub -h {host} -p {port} -V mqttv311 \\\n  -i '{id}' -u '{user}' -P '{key}' \\\n  -t '{topic}' -m '{{\"temperature\": 21.5}}' -q 1"
            ),
            Snippet::PythonPaho => format!(
                "import json\nimport paho.mqtt.client as mqtt  # pip install \"paho-mqtt>=2\"\n\nclient = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=\"{id}\")\nclient.username_pw_set(\"{user}\", \"{key}\")\nclient.connect(\"{host}\", {port})\nclient.loop_start()\nclient.publish(\"{topic}\", json.dumps({{\"temperature\": 21.5}}), qos=1).wait_for_publish()\nclient.loop_stop()\nclient.disconnect()"
            ),
            Snippet::MqttJs => format!(
                "// npm install mqtt\nconst mqtt = require(\"mqtt\");\n\nconst client = mqtt.connect(\"mqtt://{host}:{port}\", {{\n  clientId: \"{id}\",\n  username: \"{user}\",\n  password: \"{key}\",\n}});\nclient.on(\"connect\", () => {{\n  client.publish(\"{topic}\", JSON.stringify({{ temperature: 21.5 }}), {{ qos: 1 }}, () => client.end());\n}});\nclient.on(\"error\", (err) => console.error(err.message));"
            ),
            Snippet::Curl => match &c.publish_url {
                Some(url) => format!(
                    "curl -u '{id}:{key}' \\\n  --data-binary '{{\"temperature\": 21.5}}' \\\n  '{url}/{topic}?qos=1'"
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

/// The downloaded credentials file: dotenv format, loadable by most MQTT tooling.
pub fn credentials_file(c: &ConnectionInfo, key: &str, created_at: i64) -> String {
    format!(
        "# Keygate credentials for client {id}, issued {when}.\n\
         # Keep this file secret: the key is shown once and Keygate cannot show it again.\n\
         MQTT_HOST={host}\n\
         MQTT_PORT={port}\n\
         MQTT_CLIENT_ID={id}\n\
         MQTT_USERNAME={namespace}\n\
         MQTT_PASSWORD={key}\n\
         # Other ways to connect with the same key:\n\
         #   username={id}@{org} with any client identifier\n\
         #   username={id} with a device id as client identifier\n\
         KEYGATE_ORGANIZATION_ID={org}\n\
         KEYGATE_NAMESPACE={namespace}\n",
        id = c.client_id,
        when = time_format::utc_minutes(created_at),
        host = c.broker_host,
        port = c.broker_port,
        namespace = c.namespace,
        org = c.organization_id,
    )
}

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
            for part in [
                "mqtt.example.test",
                "1883",
                "c-abc12345",
                "\"acme\"",
                "kgk_SECRET",
                "acme/devices/c-abc12345/telemetry",
            ] {
                let part = if s == Snippet::MosquittoPub {
                    part.replace('"', "'")
                } else {
                    part.to_owned()
                };
                assert!(text.contains(&part), "{} lacks {part}:\n{text}", s.label());
            }
        }
    }

    #[test]
    fn the_curl_snippet_publishes_over_http_with_the_client_id_and_key() {
        assert_eq!(
            Snippet::Curl.render(&info(), "kgk_SECRET"),
            "curl -u 'c-abc12345:kgk_SECRET' \\\n  --data-binary '{\"temperature\": 21.5}' \\\n  \
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
