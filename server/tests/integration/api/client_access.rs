//! Who may use a client and where (its scope of devices and its topic rules) through the server
//! functions: create with a scope, update_access, the live count of devices in scope, the preview
//! box, and the list filter. Every bad entry and rule is a field error that changes nothing;
//! another organization's client is not found.

use crate::support::{
    Engine, Tenant, TestApp, count_rows, engines, expect_field_error, expect_not_found,
};
use app::error::AppError;
use app::model::{
    AccessPreview, ClientDetails, ClientPage, ClientRow, FieldError, Me, PreviewReason,
    RevealedKey, access::Because,
};
use app::store::Db;

/// A rule as the form sends it: permission, action, filter.
type Rule<'a> = (&'a str, &'a str, &'a str);

/// The form of `clients/update_access` (and the draft part of `clients/preview_access`).
fn access_form(client_id: &str, mode: &str, scope: &str, rules: &[Rule]) -> Vec<(String, String)> {
    let mut form = vec![
        ("client_id".to_owned(), client_id.to_owned()),
        ("scope_mode".to_owned(), mode.to_owned()),
        ("scope".to_owned(), scope.to_owned()),
    ];
    for (i, (permission, action, filter)) in rules.iter().enumerate() {
        form.push((format!("rules[{i}][permission]"), (*permission).to_owned()));
        form.push((format!("rules[{i}][action]"), (*action).to_owned()));
        form.push((format!("rules[{i}][filter]"), (*filter).to_owned()));
    }
    form
}

async fn call<T: serde::de::DeserializeOwned>(
    tenant: &Tenant,
    endpoint: &str,
    form: &[(String, String)],
) -> Result<T, AppError> {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    tenant.call(endpoint, &form).await
}

async fn update_access(
    tenant: &Tenant,
    client_id: &str,
    mode: &str,
    scope: &str,
    rules: &[Rule<'_>],
) -> Result<ClientRow, AppError> {
    call(
        tenant,
        "clients/update_access",
        &access_form(client_id, mode, scope, rules),
    )
    .await
}

/// The preview box's question about `client_id` with a draft access.
async fn preview(
    tenant: &Tenant,
    client_id: &str,
    (mode, scope, rules): (&str, &str, &[Rule<'_>]),
    device: &str,
    action: &str,
    topic: &str,
) -> Result<AccessPreview, AppError> {
    let mut form = access_form(client_id, mode, scope, rules);
    form.push(("device".into(), device.into()));
    form.push(("topic".into(), topic.into()));
    form.push(("action".into(), action.into()));
    call(tenant, "clients/preview_access", &form).await
}

async fn get(tenant: &Tenant, client_id: &str) -> ClientRow {
    tenant
        .call::<ClientDetails>("clients/get", &[("client_id", client_id)])
        .await
        .expect("clients/get")
        .row
}

async fn create_restricted(
    tenant: &Tenant,
    name: &str,
    scope: &str,
) -> Result<RevealedKey, AppError> {
    let id = app::model::ClientId::generate();
    let key = app::model::ClientKey::generate();
    tenant
        .call(
            "clients/create",
            &[
                ("client_id", id.as_str()),
                ("key", key.expose()),
                ("name", name),
                ("description", ""),
                ("scope_mode", "only"),
                ("scope", scope),
            ],
        )
        .await
}

async fn list(tenant: &Tenant, access: &str) -> ClientPage {
    tenant
        .call(
            "clients/list",
            &[
                ("search", ""),
                ("access", access),
                ("sort", "client_id"),
                ("descending", "false"),
                ("page", "1"),
            ],
        )
        .await
        .expect("clients/list")
}

/// The reasons of a client's revocations, oldest first.
async fn revocations(db: &Db, client_id: &str) -> Vec<String> {
    app::store::outbox::list_for_client(db, client_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(row, _)| row.reason.as_str().to_owned())
        .collect()
}

/// A device of the signed-in user's current workspace with `tags`, written as the devices store
/// writes it (the list, and one row per tag).
async fn add_device(db: &Db, me: &Me, device_id: &str, tags: &[&str]) {
    let row_id = format!("test-{device_id}-{}", crate::support::unique_suffix());
    sqlx::query(
        "INSERT INTO devices (id, workspace_id, organization_id, device_id, tags, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 0, 0)",
    )
    .bind(&row_id)
    .bind(&me.current_workspace_id)
    .bind(&me.organization_id)
    .bind(device_id)
    .bind(tags.join(", "))
    .execute(db.pool())
    .await
    .expect("a device");
    for tag in tags {
        sqlx::query("INSERT INTO device_tags (device_row, workspace_id, tag) VALUES ($1, $2, $3)")
            .bind(&row_id)
            .bind(&me.current_workspace_id)
            .bind(*tag)
            .execute(db.pool())
            .await
            .expect("a device tag");
    }
}

fn namespace(me: &Me) -> String {
    me.current_workspace().unwrap().namespace.to_string()
}

#[engines]
async fn another_organization_cannot_change_or_preview_a_clients_access(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let target = bob.new_client("Globex pump").await;
    let id = target.row.client_id.as_str();
    let outbox = count_rows(&app.db, "revocation_outbox").await;
    let audit = count_rows(&app.db, "audit_events").await;
    let rules: &[Rule] = &[("deny", "both", "globex/#")];

    for client in [id, "nobody-has-this-id"] {
        expect_not_found(update_access(&ann, client, "only", "d-1", &[]).await);
        expect_not_found(update_access(&ann, client, "any", "", rules).await);
        expect_not_found(
            preview(&ann, client, ("any", "", &[]), "d-1", "Publish", "globex/x").await,
        );
    }

    let row = get(&bob, id).await;
    assert_eq!(row.scope, None);
    assert!(row.topic_rules.is_empty());
    assert_eq!(count_rows(&app.db, "revocation_outbox").await, outbox);
    assert_eq!(count_rows(&app.db, "audit_events").await, audit);
    app.stop().await;
}

#[engines]
async fn each_invalid_scope_entry_is_refused_at_the_scope_field_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let client = ann.new_client("Boiler").await;
    let id = client.row.client_id.as_str();
    let outbox = count_rows(&app.db, "revocation_outbox").await;
    for (scope, says) in [
        (
            "d-1, a/b",
            "\"a/b\": '/' is not allowed in a device id or tag",
        ),
        (
            "env=",
            "\"env=\": Write a tag as key=value, both sides filled in.",
        ),
        ("d-1, =prod", "\"=prod\": Write a tag as key=value"),
        ("d 1", "\"d 1\": ' ' is not allowed"),
        ("", "List at least one device id or key=value tag."),
        (" , ", "List at least one device id or key=value tag."),
    ] {
        let message = expect_field_error(
            update_access(&ann, id, "only", scope, &[]).await,
            FieldError::Scope,
        );
        assert!(message.starts_with(says), "{scope:?}: {message}");
        let message = expect_field_error(
            create_restricted(&ann, "Refused", scope).await,
            FieldError::Scope,
        );
        assert!(message.starts_with(says), "{scope:?}: {message}");
    }
    let row = get(&ann, id).await;
    assert_eq!((row.scope, row.topic_rules.len()), (None, 0));
    assert_eq!(count_rows(&app.db, "revocation_outbox").await, outbox);
    assert_eq!(count_rows(&app.db, "clients").await, 1, "no refused create");
    app.stop().await;
}

#[engines]
async fn each_invalid_rule_is_refused_with_its_number_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let ns = namespace(&ann.me().await);
    let client = ann.new_client("Boiler").await;
    let id = client.row.client_id.as_str();
    let ok = format!("{ns}/devices/#");
    let bad_wildcard = format!("{ns}/#/x");
    let bad_placeholder = format!("{ns}/{{device}}/x");
    for (filter, says) in [
        (
            "other/#",
            "Rule 2: A topic filter must start with the workspace's namespace",
        ),
        (
            "#",
            "Rule 2: A topic filter must start with the workspace's namespace",
        ),
        (
            bad_wildcard.as_str(),
            "Rule 2: This is not a valid MQTT topic filter",
        ),
        (
            bad_placeholder.as_str(),
            "Rule 2: Use {client_id} or {device_id} as a whole level",
        ),
        ("", "Rule 2: Enter a topic filter."),
    ] {
        let rules: &[Rule] = &[("allow", "publish", &ok), ("deny", "both", filter)];
        let message = expect_field_error(
            update_access(&ann, id, "any", "", rules).await,
            FieldError::TopicRule,
        );
        assert!(message.starts_with(says), "{filter:?}: {message}");
    }
    let many: Vec<Rule> = (0..51).map(|_| ("deny", "publish", ok.as_str())).collect();
    let message = expect_field_error(
        update_access(&ann, id, "any", "", &many).await,
        FieldError::TopicRule,
    );
    assert!(message.contains("At most 50"), "{message}");

    let row = get(&ann, id).await;
    assert_eq!((row.scope, row.topic_rules.len()), (None, 0));
    assert!(revocations(&app.db, id).await.is_empty());
    app.stop().await;
}

#[engines]
async fn a_new_client_can_be_restricted_to_devices_and_tags(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = create_restricted(&ann, "Fleet", "d-2, env=prod, d-1, d-2")
        .await
        .unwrap();
    let scope = created.row.scope.as_ref().expect("restricted");
    assert_eq!(scope.to_text(), "d-1, d-2, env=prod");
    assert_eq!(get(&ann, created.row.client_id.as_str()).await, created.row);
    // "Any device" ignores whatever list the form still holds.
    let any: RevealedKey = ann
        .call(
            "clients/create",
            &[
                ("client_id", "any-device"),
                ("key", "a-key-of-sixteen-chars"),
                ("name", "Any"),
                ("description", ""),
                ("scope_mode", "any"),
                ("scope", "a/b"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(any.row.scope, None);
    app.stop().await;
}

#[engines]
async fn restricting_queues_a_scope_revocation_widening_none_and_a_rules_change_one(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let ns = namespace(&ann.me().await);
    let client = ann.new_client("Boiler").await;
    let id = client.row.client_id.as_str();

    let row = update_access(&ann, id, "only", "d-1, env=prod", &[])
        .await
        .unwrap();
    assert_eq!(row.scope.unwrap().to_text(), "d-1, env=prod");
    assert_eq!(revocations(&app.db, id).await, ["scope_narrowed"]);

    update_access(&ann, id, "only", "d-1, d-2, env=prod", &[])
        .await
        .unwrap();
    update_access(&ann, id, "any", "d-1", &[]).await.unwrap();
    assert_eq!(
        revocations(&app.db, id).await,
        ["scope_narrowed"],
        "widening takes nothing away"
    );

    let filter = format!("{ns}/devices/{{device_id}}/#");
    let row = update_access(&ann, id, "any", "", &[("allow", "subscribe", &filter)])
        .await
        .unwrap();
    assert_eq!(row.topic_rules.len(), 1);
    assert_eq!(row.topic_rules.iter().next().unwrap().filter, filter);
    assert_eq!(
        revocations(&app.db, id).await,
        ["scope_narrowed", "rules_changed"]
    );
    assert_eq!(get(&ann, id).await.topic_rules, row.topic_rules);
    app.stop().await;
}

#[engines]
async fn the_list_filter_returns_restricted_or_unrestricted_clients(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let open = ann.new_client("Open").await;
    let fleet = create_restricted(&ann, "Fleet", "env=prod").await.unwrap();
    let one = create_restricted(&ann, "One", "d-1").await.unwrap();
    let ids = |page: &ClientPage| {
        let mut ids: Vec<String> = page.rows.iter().map(|r| r.client_id.to_string()).collect();
        ids.sort();
        ids
    };
    let mut restricted = vec![
        fleet.row.client_id.to_string(),
        one.row.client_id.to_string(),
    ];
    restricted.sort();

    let page = list(&ann, "restricted").await;
    assert_eq!(ids(&page), restricted);
    assert_eq!((page.total, page.workspace_total), (2, 3));
    let page = list(&ann, "unrestricted").await;
    assert_eq!(ids(&page), [open.row.client_id.to_string()]);
    assert_eq!((page.total, page.workspace_total), (1, 3));
    assert_eq!(list(&ann, "all").await.total, 3);
    assert_eq!(list(&ann, "").await.total, 3);
    app.stop().await;
}

#[engines]
async fn the_live_count_counts_devices_by_id_and_by_tag_in_this_workspace(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let me = ann.me().await;
    add_device(&app.db, &me, "d-1", &["env=prod"]).await;
    add_device(&app.db, &me, "d-2", &["env=dev"]).await;
    add_device(&app.db, &me, "d-3", &["env=prod", "zone=eu"]).await;
    add_device(&app.db, &bob.me().await, "d-4", &["env=prod"]).await;
    let count = |scope: &'static str| {
        let ann = &ann;
        async move {
            ann.call::<u64>("clients/count_in_scope", &[("scope", scope)])
                .await
        }
    };
    assert_eq!(count("d-1").await.unwrap(), 1);
    assert_eq!(count("d-9").await.unwrap(), 0, "a listed id no device has");
    assert_eq!(
        count("d-4").await.unwrap(),
        0,
        "another organization's device"
    );
    assert_eq!(count("env=prod").await.unwrap(), 2);
    assert_eq!(count("d-2, env=prod").await.unwrap(), 3);
    assert_eq!(
        count("env=prod, zone=eu, d-1").await.unwrap(),
        2,
        "each device once"
    );
    let message = expect_field_error(count("d-1, a/b").await, FieldError::Scope);
    assert!(
        message.starts_with("\"a/b\": '/' is not allowed"),
        "{message}"
    );
    expect_field_error(count("").await, FieldError::Scope);
    app.stop().await;
}

#[engines]
async fn the_preview_answers_with_the_access_rule_the_brokers_apply(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let me = ann.me().await;
    let ns = namespace(&me);
    add_device(&app.db, &me, "d-3", &["env=prod"]).await;
    let client = ann.new_client("Boiler").await;
    let id = client.row.client_id.as_str();
    let secret = format!("{ns}/devices/+/secret");
    let rules: &[Rule] = &[("deny", "publish", &secret)];
    let topic = |device: &str, leaf: &str| format!("{ns}/devices/{device}/{leaf}");
    let ask = async |draft: (&str, &str, &[Rule<'_>]), device: &str, action: &str, topic: &str| {
        preview(&ann, id, draft, device, action, topic)
            .await
            .unwrap()
    };

    let any = ("any", "", rules);
    let answer = ask(any, "d-1", "Publish", &topic("d-1", "telemetry")).await;
    assert!(answer.allowed);
    assert_eq!(answer.reason, PreviewReason::Decided(Because::NoRule));
    assert_eq!(
        answer.to_string(),
        "Allowed: no rule matches (default inside the namespace)."
    );
    let answer = ask(any, "d-1", "Publish", &topic("d-1", "secret")).await;
    assert_eq!(answer.to_string(), "Denied by rule 1.");
    let answer = ask(any, "d-1", "Subscribe", &topic("d-1", "secret")).await;
    assert!(answer.allowed, "the rule is about publishing");
    let answer = ask(any, "d-1", "Publish", "other/x").await;
    assert_eq!(answer.to_string(), "Denied: outside the namespace.");

    let only = ("only", "d-1, env=prod", rules);
    let answer = ask(only, "d-9", "Publish", &topic("d-9", "x")).await;
    assert_eq!(
        answer.to_string(),
        "Denied: device d-9 is not in this client's scope — it could not even connect."
    );
    let answer = ask(only, "d-1", "Subscribe", &topic("d-2", "x")).await;
    assert_eq!(answer.reason, PreviewReason::Decided(Because::OutsideScope));
    let answer = ask(only, "d-1", "Subscribe", &topic("d-3", "x")).await;
    assert!(answer.allowed, "d-3 carries env=prod: {answer}");
    let answer = ask(only, "d-3", "Publish", &topic("d-3", "secret")).await;
    assert_eq!(answer.reason, PreviewReason::Decided(Because::Rule(0)));

    let bad_rule: &[Rule] = &[("deny", "publish", "other/#")];
    expect_field_error(
        preview(&ann, id, ("any", "", bad_rule), "d-1", "Publish", "x").await,
        FieldError::TopicRule,
    );
    expect_field_error(
        preview(&ann, id, any, "a/b", "Publish", &topic("d-1", "x")).await,
        FieldError::DeviceId,
    );
    // The draft is only previewed, never saved.
    let row = get(&ann, id).await;
    assert_eq!((row.scope, row.topic_rules.len()), (None, 0));
    app.stop().await;
}

#[engines]
async fn refusals_carry_their_http_status(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let own = ann.new_client("Boiler").await;
    let theirs = bob.new_client("Globex pump").await;
    let status = |form: Vec<(String, String)>, endpoint: &'static str| {
        let ann = &ann;
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ann.post(endpoint, &form).await.status.as_u16()
        }
    };
    let theirs = theirs.row.client_id.as_str();
    let own = own.row.client_id.as_str();
    assert_eq!(
        status(
            access_form(theirs, "only", "d-1", &[]),
            "clients/update_access"
        )
        .await,
        404
    );
    let mut question = access_form(theirs, "any", "", &[]);
    question.extend([
        ("device".into(), "d-1".into()),
        ("topic".into(), "x".into()),
        ("action".into(), "Publish".into()),
    ]);
    assert_eq!(status(question, "clients/preview_access").await, 404);
    assert_eq!(
        status(
            access_form(own, "only", "a/b", &[]),
            "clients/update_access"
        )
        .await,
        422
    );
    assert_eq!(
        status(
            access_form(own, "any", "", &[("deny", "both", "other/#")]),
            "clients/update_access"
        )
        .await,
        422
    );
    assert_eq!(
        status(
            vec![("scope".into(), "env=".into())],
            "clients/count_in_scope"
        )
        .await,
        422
    );
    app.stop().await;
}
