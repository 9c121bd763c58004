//! The snippets and the credentials file run by the programs that read them: `sh` (dash) and
//! `bash` with the commands replaced by a function that prints its arguments, `python3` and `node`
//! with stand-ins for paho-mqtt and mqtt.js that print what they were given, and python-dotenv.
//! Each must give back every value byte for byte, for keys holding every character a typed key
//! may hold and for a broker host and organization id that hold worse.
//!
//! python-dotenv comes from `KEYGATE_TEST_PYTHON` (scripts/install.sh makes a venv with it and
//! scripts/test.sh sets the variable), else from `python3`.

use super::*;
use crate::model::{ClientId, ClientKey, Namespace};
use std::path::Path;
use std::process::{Command, Stdio};

/// Typed keys, each accepted by `ClientKey::parse` (16 to 256 printable ASCII characters, no
/// space), with whether some quoting of it reads the same in sh and in python-dotenv: no quoting
/// does for a key with `'` and `$` (sh takes `'` only outside single quotes or in double quotes,
/// where it expands `$`; python-dotenv's double quotes keep `\$` as written), for `${…}`, which
/// python-dotenv expands whatever the quotes, nor for a final `\`, which python-dotenv's
/// versions read differently.
const HOSTILE_KEYS: &[(&str, bool)] = &[
    ("it's-a-'single'-quoted-key", true),
    ("a-\"double\"-quoted-key\"", true),
    ("$HOME-is-not-expanded-$1$$", true),
    ("$(id)-is-not-run-$(id", true),
    ("`id`-is-not-run-either`", true),
    ("back\\slash-\\\\-double-\\n-\\t", true),
    ("ends-with-a-backslash\\", false),
    ("\\'-backslash-quote-\\\"", true),
    ("#starts-with-a-hash-and-has-#-one", true),
    ("bang!-history!!-expansion!-1", true),
    ("^caret-first-then-^", true),
    ("-starts-with-a-dash--", true),
    ("glob*?[a]~{b,c};&|<>()=%:@,+", true),
    ("every-'\"$`\\#!^*?-at-once", false),
    ("it's-$HOME-in-the-end", false),
    ("braces-${HOME}-expand", false),
    ("back\\slash-and-${X}", false),
];

/// A broker host and organization id no real server sends, but that the snippets must survive:
/// spaces, both quotes, substitutions, a comment sign, a line break, and non-ASCII characters
/// (U+2028 ends a line in old JavaScript engines, U+0085 is a C1 control).
const HOSTILE_HOST: &str = "evil host 'x' \"y\" $(id) `id` ${HOME} \\ # ünï\u{2028}\u{85}";
const HOSTILE_ORG: &str = "org-'1'\n# KEYGATE_INJECTED=$(id)";

fn plain() -> ConnectionInfo {
    ConnectionInfo {
        client_id: ClientId::parse("c-abc12345").unwrap(),
        namespace: Namespace::parse("acme").unwrap(),
        organization_id: "0b5f0c1e-8a3d-4f0e-9a51-6b1c2d3e4f50".into(),
        broker_host: "mqtt.example.test".into(),
        broker_port: 1883,
        publish_url: Some("https://keygate.example.test/v1/publish".into()),
    }
}

fn hostile() -> ConnectionInfo {
    ConnectionInfo {
        client_id: ClientId::parse("c_odd.id-9").unwrap(),
        organization_id: HOSTILE_ORG.into(),
        broker_host: HOSTILE_HOST.into(),
        publish_url: Some("http://h'o\"st $(id):3000/v1/publish".into()),
        ..plain()
    }
}

/// Every (connection, key) pair the tests run, each key checked to be one a person may type.
fn cases() -> Vec<(ConnectionInfo, &'static str, bool)> {
    let mut cases = Vec::new();
    for (key, portable) in HOSTILE_KEYS {
        assert!(
            ClientKey::parse(key).is_ok(),
            "{key:?} is not a key a person may type"
        );
        cases.push((plain(), *key, *portable));
        cases.push((hostile(), *key, *portable));
    }
    cases
}

/// What a program printed on stdout, split at its NUL separators; panics with its stderr when it
/// failed.
struct Run {
    ok: bool,
    values: Vec<String>,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let mut values: Vec<String> = stdout.split('\0').map(str::to_owned).collect();
    // Every value ends with a NUL, so the last piece is empty.
    values.pop();
    Run {
        ok: output.status.success(),
        values,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Collects every mismatch, so that one run shows all that is wrong.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, what: &str, got: &Run, expected: &[String]) {
        self.check_allowing_warnings(what, got, expected, false);
    }

    /// [`Failures::check`], with anything on stderr allowed when `warnings`.
    fn check_allowing_warnings(
        &mut self,
        what: &str,
        got: &Run,
        expected: &[String],
        warnings: bool,
    ) {
        if !got.ok || got.values != expected || !(warnings || got.stderr.is_empty()) {
            self.0.push(format!(
                "{what}:\n  expected {expected:?}\n  got      {:?} (exit ok: {}, stderr: {:?})",
                got.values, got.ok, got.stderr
            ));
        }
    }

    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} failures:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn python() -> String {
    std::env::var("KEYGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The arguments `mosquitto_pub` is run with, as the snippet means them.
fn mosquitto_argv(c: &ConnectionInfo, key: &str) -> Vec<String> {
    let topic = c.example_topic();
    let port = c.broker_port.to_string();
    [
        "-h",
        &c.broker_host,
        "-p",
        &port,
        "-V",
        "mqttv311",
        "-i",
        c.client_id.as_str(),
        "-u",
        c.username_namespace(),
        "-P",
        key,
        "-t",
        &topic,
        "-m",
        "{\"temperature\": 21.5}",
        "-q",
        "1",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The arguments `curl` is run with.
fn curl_argv(c: &ConnectionInfo, key: &str) -> Vec<String> {
    vec![
        "-u".into(),
        format!("{}:{key}", c.client_id),
        "--data-binary".into(),
        "{\"temperature\": 21.5}".into(),
        format!(
            "{}/{}?qos=1",
            c.publish_url.as_deref().unwrap(),
            c.example_topic()
        ),
    ]
}

#[test]
fn the_shell_snippets_give_every_value_back_in_sh_and_bash() {
    // The commands become functions that print their arguments, one per NUL.
    let stand_ins =
        "mosquitto_pub() { printf '%s\\0' \"$@\"; }\ncurl() { printf '%s\\0' \"$@\"; }\n";
    let mut failures = Failures::default();
    for (c, key, _) in cases() {
        for (snippet, expected) in [
            (Snippet::MosquittoPub, mosquitto_argv(&c, key)),
            (Snippet::Curl, curl_argv(&c, key)),
        ] {
            let script = format!("{stand_ins}{}\n", snippet.render(&c, key));
            for shell in ["sh", "bash"] {
                let got = run(Command::new(shell).arg("-c").arg(&script));
                failures.check(
                    &format!(
                        "{} in {shell}, key {key:?}, host {:?}",
                        snippet.label(),
                        c.broker_host
                    ),
                    &got,
                    &expected,
                );
            }
        }
    }
    failures.assert_none();
}

#[test]
fn the_python_snippet_gives_every_value_back_to_paho() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for paho-mqtt 2 that prints every value the snippet hands it.
    write(
        &dir.path().join("paho/mqtt/client.py"),
        r#"import sys

def out(value):
    sys.stdout.write(str(value) + "\0")

class CallbackAPIVersion:
    VERSION2 = 2

class _Published:
    def wait_for_publish(self):
        pass

class Client:
    def __init__(self, api, client_id=""):
        out(api)
        out(client_id)
    def username_pw_set(self, username, password):
        out(username)
        out(password)
    def connect(self, host, port):
        out(host)
        out(port)
    def loop_start(self):
        pass
    def publish(self, topic, payload, qos):
        out(topic)
        out(payload)
        out(qos)
        return _Published()
    def loop_stop(self):
        pass
    def disconnect(self):
        pass
"#,
    );
    write(&dir.path().join("paho/__init__.py"), "");
    write(&dir.path().join("paho/mqtt/__init__.py"), "");
    let mut failures = Failures::default();
    for (c, key, _) in cases() {
        let script = dir.path().join("snippet.py");
        write(&script, &Snippet::PythonPaho.render(&c, key));
        let got = run(Command::new(python())
            .arg(&script)
            .env("PYTHONPATH", dir.path())
            .env("PYTHONIOENCODING", "utf-8"));
        let expected = [
            "2",
            c.client_id.as_str(),
            c.username_namespace(),
            key,
            &c.broker_host,
            &c.broker_port.to_string(),
            &c.example_topic(),
            "{\"temperature\": 21.5}",
            "1",
        ]
        .map(str::to_owned);
        failures.check(
            &format!("python, key {key:?}, host {:?}", c.broker_host),
            &got,
            &expected,
        );
    }
    failures.assert_none();
}

#[test]
fn the_javascript_snippet_gives_every_value_back_to_mqtt_js() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for mqtt.js that prints every value the snippet hands it and connects at once.
    write(
        &dir.path().join("node_modules/mqtt/index.js"),
        r#"const out = (value) => process.stdout.write(String(value) + "\0");
exports.connect = (url, options) => {
  out(url);
  out(options.clientId);
  out(options.username);
  out(options.password);
  const client = {
    on(event, handler) {
      if (event === "connect") setImmediate(handler);
      return client;
    },
    publish(topic, payload, options, done) {
      out(topic);
      out(payload);
      out(options.qos);
      done();
    },
    end() {},
  };
  return client;
};
"#,
    );
    let mut failures = Failures::default();
    for (c, key, _) in cases() {
        let script = dir.path().join("snippet.js");
        write(&script, &Snippet::MqttJs.render(&c, key));
        let got = run(Command::new("node").arg(&script));
        let expected = [
            &format!("mqtt://{}:{}", c.broker_host, c.broker_port),
            c.client_id.as_str(),
            c.username_namespace(),
            key,
            &c.example_topic(),
            "{\"temperature\":21.5}",
            "1",
        ]
        .map(|s| s.to_owned());
        failures.check(
            &format!("node, key {key:?}, host {:?}", c.broker_host),
            &got,
            &expected,
        );
    }
    failures.assert_none();
}

/// The variables of the credentials file, in the order the readers below print them.
const VARIABLES: [&str; 7] = [
    "MQTT_HOST",
    "MQTT_PORT",
    "MQTT_CLIENT_ID",
    "MQTT_USERNAME",
    "MQTT_PASSWORD",
    "KEYGATE_ORGANIZATION_ID",
    "KEYGATE_NAMESPACE",
];

fn variable_values(c: &ConnectionInfo, key: &str) -> [String; 7] {
    [
        c.broker_host.clone(),
        c.broker_port.to_string(),
        c.client_id.to_string(),
        c.username_namespace().to_owned(),
        key.to_owned(),
        c.organization_id.clone(),
        c.namespace.to_string(),
    ]
}

#[test]
fn the_credentials_file_gives_every_value_back_to_sh_and_bash() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keygate.env");
    let print = VARIABLES.map(|v| format!("\"${v}\"")).join(" ");
    // What `set -a; . ./FILE` exports, and nothing the file did not mean to set.
    let script = format!(
        "set -a; . \"$1\"; printf '%s\\0' {print}; \
         [ -z \"${{KEYGATE_INJECTED+set}}\" ] || echo 'KEYGATE_INJECTED was set' >&2"
    );
    let mut failures = Failures::default();
    for (c, key, _) in cases() {
        let text = credentials_file(&c, key, 0);
        write(&file, &text);
        for shell in ["sh", "bash"] {
            let got = run(Command::new(shell)
                .args(["-c", &script, shell])
                .arg(&file)
                .env_remove("KEYGATE_INJECTED"));
            failures.check(
                &format!(
                    "{shell} . FILE, key {key:?}, host {:?}:\n{text}",
                    c.broker_host
                ),
                &got,
                &variable_values(&c, key),
            );
        }
    }
    failures.assert_none();
}

#[test]
fn the_credentials_file_gives_every_value_back_to_python_dotenv_or_says_it_cannot() {
    let python = python();
    let has_dotenv = Command::new(&python)
        .args(["-c", "import dotenv"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_dotenv,
        "{python} has no python-dotenv: scripts/install.sh installs it in a venv, and \
         scripts/test.sh points KEYGATE_TEST_PYTHON at it"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keygate.env");
    // What load_dotenv() would set (interpolation on, as by default); `None` for a variable it
    // could not read.
    let reader = "import sys, dotenv\n\
                  values = dotenv.dotenv_values(sys.argv[1])\n\
                  for name in sys.argv[2:]:\n    \
                      sys.stdout.write(str(values.get(name)) + '\\0')\n";
    let mut failures = Failures::default();
    for (c, key, portable) in cases() {
        let text = credentials_file(&c, key, 0);
        write(&file, &text);
        let got = run(Command::new(&python)
            .args(["-c", reader])
            .arg(&file)
            .args(VARIABLES)
            .env("PYTHONIOENCODING", "utf-8"));
        // A value no quoting gives to both sh and python-dotenv is written for sh, and the line
        // before it says so; python-dotenv reads every other value back as it is.
        let warned = VARIABLES.map(|name| warns_about(&text, name));
        let expected: Vec<String> = variable_values(&c, key)
            .into_iter()
            .enumerate()
            .map(|(i, value)| match got.values.get(i) {
                Some(read) if warned[i] => read.clone(),
                _ => value,
            })
            .collect();
        // python-dotenv says on stderr which lines written for sh it could not parse.
        failures.check_allowing_warnings(
            &format!(
                "python-dotenv, key {key:?}, host {:?}:\n{text}",
                c.broker_host
            ),
            &got,
            &expected,
            warned.contains(&true),
        );
        let key_warned = warned[VARIABLES
            .iter()
            .position(|v| *v == "MQTT_PASSWORD")
            .unwrap()];
        if key_warned == portable {
            failures.0.push(format!(
                "key {key:?}: python-dotenv can{} read it, but the file {} it cannot:\n{text}",
                if portable { "" } else { "not" },
                if key_warned { "says" } else { "does not say" },
            ));
        }
    }
    failures.assert_none();
}

/// Whether the line before `NAME=` in `file` is a comment that warns python-dotenv's users.
fn warns_about(file: &str, name: &str) -> bool {
    let lines: Vec<&str> = file.lines().collect();
    let assignment = format!("{name}=");
    lines.windows(2).any(|pair| {
        pair[1].starts_with(&assignment)
            && pair[0].starts_with('#')
            && pair[0].contains("python-dotenv")
    })
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
