//! Roles, from the outside: an organization's owner invites an admin and a viewer (each accepts
//! the link in a browser of their own), then each of them sends every server function, forged as
//! a hand-made request would be. What their role does not allow answers 403 with a message, and
//! nothing in the database changed; what it allows works. A member of another organization is
//! no operator of the install, and the install's operator is whoever signed up first.

use crate::support::{Engine, Tenant, TestApp, count_rows, engines, invited, unique_suffix};
use app::error::AppError;
use app::model::{IssuedInvitation, Role, Team};
use serde_json::Value;

/// Which roles a server function admits.
#[derive(Clone, Copy, Debug)]
enum Admits {
    /// Any member: reads.
    Members,
    /// Owners and admins: clients, devices, workspaces.
    Admins,
    /// Owners: members and roles.
    Owners,
    /// Operators of the install, whatever their role.
    Operators,
}

struct Team3 {
    app: TestApp,
    owner: Tenant,
    admin: Tenant,
    viewer: Tenant,
}

async fn team(engine: Engine) -> Team3 {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let admin = invited(&owner, Role::Admin).await;
    let viewer = invited(&owner, Role::Viewer).await;
    Team3 {
        app,
        owner,
        admin,
        viewer,
    }
}

/// Everything a refused request must leave as it was.
async fn snapshot(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for table in [
        "organizations",
        "users",
        "memberships",
        "invitations",
        "api_tokens",
        "event_endpoints",
        "event_deliveries",
        "operators",
        "workspaces",
        "clients",
        "devices",
        "audit_events",
        "revocation_outbox",
    ] {
        out.push((
            table.to_owned(),
            count_rows(&app.db, table).await.to_string(),
        ));
    }
    for (what, query) in [
        (
            "api_tokens",
            "SELECT id || '|' || COALESCE(CAST(revoked_at AS TEXT), '-') FROM api_tokens ORDER BY id",
        ),
        (
            "event endpoints",
            "SELECT id || '|' || CAST(enabled AS TEXT) FROM event_endpoints ORDER BY id",
        ),
        (
            "clients",
            "SELECT client_id || '|' || name || '|' || description || '|' || CAST(active AS TEXT) FROM clients ORDER BY client_id",
        ),
        (
            "keys",
            "SELECT client_id || '|' || key_hash || '|' || CAST(COALESCE(ends_at, 0) AS TEXT) || '|' || CAST(retiring AS TEXT) FROM client_keys ORDER BY id",
        ),
        (
            "workspaces",
            "SELECT name || '|' || namespace FROM workspaces ORDER BY id",
        ),
        (
            "key defaults",
            "SELECT id || '|' || CAST(COALESCE(default_key_days, 0) AS TEXT) FROM organizations ORDER BY id",
        ),
        (
            "roles",
            "SELECT user_id || '|' || role FROM memberships ORDER BY user_id",
        ),
        (
            "invitations",
            "SELECT id || '|' || CAST(COALESCE(revoked_at, 0) AS TEXT) FROM invitations ORDER BY id",
        ),
        (
            "devices",
            "SELECT device_id || '|' || name || '|' || tags FROM devices ORDER BY id",
        ),
        (
            "install",
            "SELECT CAST(COALESCE(signup_open, -1) AS TEXT) FROM install",
        ),
    ] {
        let rows: Vec<String> = sqlx::query_scalar(query)
            .fetch_all(app.db.pool())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        out.push((what.to_owned(), rows.join("\n")));
    }
    out
}

/// The form a server function gets, with fresh objects made by the owner for it to act on.
async fn form_for(t: &Team3, endpoint: &str) -> Vec<(String, String)> {
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let fresh_client = || async { t.owner.new_client("Target").await.row.client_id.to_string() };
    let fresh_device = || async {
        let id = format!("dev-{}", unique_suffix());
        t.owner
            .call::<Value>(
                "devices/create",
                &[("device_id", &id), ("name", ""), ("tags", "")],
            )
            .await
            .expect("a device");
        id
    };
    // An endpoint nothing listens at (loopback: tests send nothing off the machine), for events
    // of `types`: only the resend's receives the clients this test makes, so the event worker's
    // retries stay few.
    let fresh_endpoint = |types: &'static str| async move {
        let url = format!(
            "http://{}/hook",
            crate::support::event_receiver::refusing_address()
        );
        let issued: app::model::IssuedEventEndpoint = t
            .owner
            .call("events/create", &[("url", &url), ("event_types", types)])
            .await
            .expect("an endpoint");
        issued.row.id
    };
    let suffix = unique_suffix();
    let key = app::model::ClientKey::generate();
    let key = key.expose();
    match endpoint {
        "clients/create" => owned(&[
            ("client_id", &format!("made-{suffix}")),
            ("key", key),
            ("name", "Made"),
            ("description", ""),
        ]),
        "clients/update" => owned(&[
            ("client_id", &fresh_client().await),
            ("name", "Renamed"),
            ("description", "changed"),
        ]),
        "clients/set_active" => owned(&[("client_id", &fresh_client().await), ("active", "false")]),
        "clients/regenerate_key" => owned(&[("client_id", &fresh_client().await), ("key", key)]),
        "clients/delete" => owned(&[("client_id", &fresh_client().await)]),
        "clients/rotate_key" => owned(&[
            ("client_id", &fresh_client().await),
            ("key", key),
            ("retire", "24h"),
        ]),
        "clients/retire_key" | "clients/set_key_expiry" => {
            let client = fresh_client().await;
            let rotated: app::model::RevealedKey = t
                .owner
                .call(
                    "clients/rotate_key",
                    &[
                        ("client_id", &client),
                        ("key", app::model::ClientKey::generate().expose()),
                        ("retire", "7d"),
                    ],
                )
                .await
                .expect("a rotation");
            if endpoint == "clients/retire_key" {
                owned(&[("client_id", &client), ("key_id", &rotated.row.keys[0].id)])
            } else {
                owned(&[
                    ("client_id", &client),
                    ("key_id", &rotated.row.keys[1].id),
                    ("expiry", "90"),
                ])
            }
        }
        "keys/set_default_expiry" => owned(&[("expiry", "30")]),
        "clients/import" => owned(&[
            ("format", "keygate-generated"),
            (
                "text",
                &format!("client_id,name\nimported-{suffix},Imported\n"),
            ),
            ("commit", "true"),
        ]),
        "clients/update_access" => owned(&[
            ("client_id", &fresh_client().await),
            ("scope_mode", "only"),
            ("scope", "sensor-1"),
        ]),
        "clients/get"
        | "clients/login_activity"
        | "clients/clear_lockout"
        | "clients/disconnect_sessions" => owned(&[("client_id", &fresh_client().await)]),
        "devices/create" => owned(&[
            ("device_id", &format!("made-{suffix}")),
            ("name", ""),
            ("tags", "a=1"),
        ]),
        "devices/create_many" => owned(&[("ids", &format!("many-{suffix}-1\nmany-{suffix}-2"))]),
        "devices/update" => owned(&[
            ("device_id", &fresh_device().await),
            ("name", "Renamed"),
            ("tags", "b=2"),
        ]),
        "devices/delete" => owned(&[("device_id", &fresh_device().await)]),
        "workspaces/create" => owned(&[("name", &format!("Made {suffix}")), ("namespace", "")]),
        "workspaces/rename" => owned(&[
            ("id", &t.owner.me().await.current_workspace_id),
            ("name", &format!("Renamed {suffix}")),
        ]),
        "members/invite" => owned(&[
            ("email", &format!("new-{suffix}@example.test")),
            ("role", "viewer"),
        ]),
        "members/revoke_invitation" => {
            let issued: IssuedInvitation = t
                .owner
                .call(
                    "members/invite",
                    &[
                        ("email", &format!("revoked-{suffix}@example.test")),
                        ("role", "admin"),
                    ],
                )
                .await
                .expect("an invitation");
            owned(&[("id", &issued.invitation.id)])
        }
        "members/change_role" | "members/remove" => {
            // A member of their own to change or remove, so every role's attempt has one.
            let extra = invited(&t.owner, Role::Viewer).await;
            let team: Team = t.owner.call("members/team", &[]).await.unwrap();
            let id = team
                .members
                .iter()
                .find(|m| m.email == extra.email)
                .expect("the extra member")
                .user_id
                .clone();
            if endpoint == "members/change_role" {
                owned(&[("user_id", &id), ("role", "admin")])
            } else {
                owned(&[("user_id", &id)])
            }
        }
        "clients/list" | "devices/list" => owned(&[
            ("search", ""),
            ("sort", "created"),
            ("descending", "true"),
            ("page", "1"),
        ]),
        "install/set_signup_open" => owned(&[("open", "true")]),
        "install/name_operator" => owned(&[("email", &t.viewer.email)]),
        "install/remove_operator" => {
            // An operator of their own to remove, so every role's attempt has one.
            let extra = invited(&t.owner, Role::Viewer).await;
            t.owner
                .call::<()>("install/name_operator", &[("email", &extra.email)])
                .await
                .expect("an operator named");
            owned(&[("email", &extra.email)])
        }
        "brokers/retry" => owned(&[("target", "embedded")]),
        "api_tokens/create" => owned(&[
            ("name", &format!("token {suffix}")),
            ("scope", "manage_clients"),
            ("workspace_id", ""),
            ("lifetime", "30"),
        ]),
        "api_tokens/revoke" => {
            let issued: app::model::IssuedApiToken = t
                .owner
                .call(
                    "api_tokens/create",
                    &[
                        ("name", "to revoke"),
                        ("scope", "read"),
                        ("workspace_id", ""),
                        ("lifetime", "never"),
                    ],
                )
                .await
                .expect("a token");
            owned(&[("id", &issued.row.id)])
        }
        "events/create" => owned(&[
            ("url", &format!("https://hooks.example.com/{suffix}")),
            ("event_types", "client.created,client.deleted"),
        ]),
        "events/set_enabled" | "events/delete" | "events/deliveries" => {
            let id = fresh_endpoint("client.auth_failures").await;
            if endpoint == "events/set_enabled" {
                owned(&[("id", &id), ("enabled", "false")])
            } else {
                owned(&[("id", &id)])
            }
        }
        "events/resend" => {
            let id = fresh_endpoint("client.created").await;
            fresh_client().await;
            let deliveries: Vec<app::model::EventDeliveryRow> = t
                .owner
                .call("events/deliveries", &[("id", &id)])
                .await
                .expect("its deliveries");
            // Off, so the worker leaves it alone: a resend queues all the same.
            let _: app::model::EventEndpointRow = t
                .owner
                .call("events/set_enabled", &[("id", &id), ("enabled", "false")])
                .await
                .expect("the endpoint disabled");
            owned(&[("id", &deliveries[0].id.to_string())])
        }
        _ => Vec::new(),
    }
}

const ENDPOINTS: &[(&str, Admits)] = &[
    ("clients/list", Admits::Members),
    ("clients/get", Admits::Members),
    ("clients/export", Admits::Members),
    ("clients/login_activity", Admits::Members),
    ("devices/list", Admits::Members),
    ("members/team", Admits::Members),
    ("activity/list", Admits::Members),
    ("activity/export", Admits::Members),
    ("brokers/revocations", Admits::Members),
    ("api_tokens/list", Admits::Members),
    ("api_tokens/create", Admits::Admins),
    ("api_tokens/revoke", Admits::Admins),
    ("events/list", Admits::Members),
    ("events/deliveries", Admits::Members),
    ("events/create", Admits::Admins),
    ("events/set_enabled", Admits::Admins),
    ("events/delete", Admits::Admins),
    ("events/resend", Admits::Admins),
    ("clients/create", Admits::Admins),
    ("clients/update", Admits::Admins),
    ("clients/set_active", Admits::Admins),
    ("clients/regenerate_key", Admits::Admins),
    ("clients/update_access", Admits::Admins),
    ("clients/delete", Admits::Admins),
    ("clients/rotate_key", Admits::Admins),
    ("clients/import", Admits::Admins),
    ("clients/retire_key", Admits::Admins),
    ("clients/set_key_expiry", Admits::Admins),
    ("keys/policy", Admits::Members),
    ("keys/set_default_expiry", Admits::Admins),
    ("clients/clear_lockout", Admits::Admins),
    ("clients/disconnect_sessions", Admits::Admins),
    ("devices/create", Admits::Admins),
    ("devices/create_many", Admits::Admins),
    ("devices/update", Admits::Admins),
    ("devices/delete", Admits::Admins),
    ("workspaces/create", Admits::Admins),
    ("workspaces/rename", Admits::Admins),
    ("members/invite", Admits::Owners),
    ("members/revoke_invitation", Admits::Owners),
    ("members/change_role", Admits::Owners),
    ("members/remove", Admits::Owners),
    ("install/settings", Admits::Operators),
    ("install/set_signup_open", Admits::Operators),
    ("install/name_operator", Admits::Operators),
    ("install/remove_operator", Admits::Operators),
    ("brokers/status", Admits::Operators),
    ("brokers/retry", Admits::Operators),
];

fn admitted(admits: Admits, role: Role, operator: bool) -> bool {
    match admits {
        Admits::Members => true,
        Admits::Admins => role != Role::Viewer,
        Admits::Owners => role == Role::Owner,
        Admits::Operators => operator,
    }
}

#[engines]
async fn every_server_function_admits_exactly_the_roles_it_should(engine: Engine) {
    let t = team(engine).await;
    // The owner signed up first: they claimed the install and operate it.
    assert!(t.owner.me().await.operator);
    for (who, role) in [
        (&t.viewer, Role::Viewer),
        (&t.admin, Role::Admin),
        (&t.owner, Role::Owner),
    ] {
        let me = who.me().await;
        assert_eq!(me.role, role);
        for &(endpoint, admits) in ENDPOINTS {
            let form = form_for(&t, endpoint).await;
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let before = snapshot(&t.app).await;
            let answer = who.post(endpoint, &form).await;
            if admitted(admits, role, me.operator) {
                assert!(
                    answer.status.is_success(),
                    "{role:?} must be allowed {endpoint}: {} {}",
                    answer.status,
                    answer.body
                );
            } else {
                assert_eq!(
                    answer.status, 403,
                    "{role:?} must be refused {endpoint}: {}",
                    answer.body
                );
                match answer.decode::<Value>() {
                    Err(AppError::Forbidden(message)) => assert!(!message.is_empty()),
                    other => panic!("{role:?} on {endpoint}: {other:?}"),
                }
                assert_eq!(
                    snapshot(&t.app).await,
                    before,
                    "{role:?}'s refused {endpoint} changed something"
                );
            }
        }
    }
    t.app.stop().await;
}

#[engines]
async fn another_organizations_owner_operates_nothing_and_sees_no_broker(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| config.open_signup = true).await;
    let first = app.sign_up("Acme").await;
    let second = app.sign_up("Globex").await;
    assert!(first.me().await.operator);
    assert!(!second.me().await.operator);
    for endpoint in ["brokers/status", "install/settings"] {
        let answer = second.post(endpoint, &[]).await;
        assert_eq!(answer.status, 403, "{endpoint}: {}", answer.body);
        assert!(
            !answer.body.contains("embedded") && !answer.body.contains("127.0.0.1"),
            "{endpoint} told a non-operator about a broker: {}",
            answer.body
        );
    }
    let before = snapshot(&app).await;
    let closed = second
        .post("install/set_signup_open", &[("open", "false")])
        .await;
    assert_eq!(closed.status, 403);
    assert_eq!(snapshot(&app).await, before);
    // Their own organization's revocations, counted, are theirs to see.
    let mine: app::model::OrganizationRevocations =
        second.call("brokers/revocations", &[]).await.unwrap();
    assert_eq!(mine.waiting, 0);
    app.stop().await;
}
