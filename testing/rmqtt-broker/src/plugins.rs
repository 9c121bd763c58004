//! The three rmqtt plugins, configured the way docs/external-brokers.md tells an operator to, as
//! TOML strings handed to rmqtt's plugin manager (no files on disk). Each string is what
//! `plugins/NAME.toml` would hold; the keys are the plugins' own (`PluginConfig` in each crate's
//! `config.rs`).

use crate::flags::Flags;
use std::net::SocketAddr;

/// The names rmqtt registers the plugins under (their package names): the keys of their configs.
pub const AUTH_HTTP: &str = "rmqtt-auth-http";
pub const HTTP_API: &str = "rmqtt-http-api";
pub const WEB_HOOK: &str = "rmqtt-web-hook";

/// rmqtt-auth-http: every CONNECT to `/webhooks/emqx/authn`, every SUBSCRIBE and PUBLISH the
/// authentication answer's ACL does not settle to `/webhooks/emqx/authz`, form-encoded, with the
/// secret as a bearer token.
///
/// Keygate answers the CONNECT with an `acl` (allow `NAMESPACE/#`, deny `#` and `$SYS/#`), which
/// rmqtt then applies itself, so the authorization webhook is rarely asked. A rejected PUBLISH
/// closes the connection (`disconnect_if_pub_rejected`, on by default), unlike Keygate's
/// embedded broker, which answers it with PUBACK 0x87.
pub fn auth_http(flags: &Flags) -> String {
    let authn = flags.keygate.endpoint("/webhooks/emqx/authn", &flags.name);
    let authz = flags.keygate.endpoint("/webhooks/emqx/authz", &flags.name);
    let bearer = format!("Bearer {}", flags.secret);
    format!(
        r#"
# A webhook that cannot be reached refuses the CONNECT instead of ignoring it. (A non-2xx answer
# is "ignore" whatever this says; with no other authenticator rmqtt then refuses with "not
# authorized".)
deny_if_error = true
# Past the tests' 10 s wait for a CONNACK: a slow Keygate fails a test as slow, not as a refusal.
http_timeout = "15s"
http_headers.Authorization = {bearer}

http_auth_req.url = {authn}
http_auth_req.method = "post"
http_auth_req.headers = {{ content-type = "application/x-www-form-urlencoded" }}
http_auth_req.params = {{ clientid = "%c", username = "%u", password = "%P", ipaddr = "%a", protocol = "%r" }}

http_acl_req.url = {authz}
http_acl_req.method = "post"
http_acl_req.headers = {{ content-type = "application/x-www-form-urlencoded" }}
http_acl_req.params = {{ access = "%A", username = "%u", clientid = "%c", ipaddr = "%a", topic = "%t" }}
"#,
        bearer = toml_string(&bearer),
        authn = toml_string(&authn),
        authz = toml_string(&authz),
    )
}

/// rmqtt-http-api on `api`: the admin API Keygate's revocation worker calls
/// (`DELETE /api/v1/clients/{clientid}`), behind a bearer token when one is given.
pub fn http_api(api: SocketAddr, token: Option<&str>) -> String {
    let mut toml = format!("http_laddr = {}\n", toml_string(&api.to_string()));
    if let Some(token) = token {
        toml.push_str(&format!("http_bearer_token = {}\n", toml_string(token)));
    }
    toml
}

/// rmqtt-web-hook: connects, disconnects and ended sessions to `/webhooks/events`, the secret as
/// the HTTP Basic password. Failed posts are retried (with back-off, for up to a minute) and then
/// dropped; they never affect the MQTT side.
pub fn web_hook(flags: &Flags) -> String {
    let url = flags.keygate.endpoint_with_basic(
        "/webhooks/events",
        &flags.name,
        "keygate",
        &flags.secret,
    );
    format!(
        r#"
urls = [{url}]
rule.client_connected = [{{ action = "client_connected" }}]
rule.client_disconnected = [{{ action = "client_disconnected" }}]
rule.session_terminated = [{{ action = "session_terminated" }}]
"#,
        url = toml_string(&url),
    )
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_toml() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny"), r#""x\u000Ay""#);
    }
}
