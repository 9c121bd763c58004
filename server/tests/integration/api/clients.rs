//! The Clients page's server functions for the organization that owns the clients: create (with a
//! generated or chosen id and key), reveal-once, get, list, update, activate, regenerate, delete,
//! and a clear field error for every bad input.

use crate::support::{
    Engine, Tenant, TestApp, count_rows, engines, expect_field_error, expect_not_found,
    key_verifies, occurrences, stored_client,
};
use app::model::{
    Availability, ClientDetails, ClientId, ClientKey, ClientPage, ClientRow, FieldError,
    RevealedKey,
};

fn list_form<'a>(
    search: &'a str,
    sort: &'a str,
    descending: &'a str,
    page: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("search", search),
        ("sort", sort),
        ("descending", descending),
        ("page", page),
    ]
}

async fn list(
    tenant: &Tenant,
    search: &str,
    sort: &str,
    descending: bool,
    page: u32,
) -> ClientPage {
    let descending = descending.to_string();
    let page = page.to_string();
    tenant
        .call("clients/list", &list_form(search, sort, &descending, &page))
        .await
        .expect("clients/list")
}

fn ids(page: &ClientPage) -> Vec<&str> {
    page.rows.iter().map(|r| r.client_id.as_str()).collect()
}

#[engines]
async fn create_with_generated_id_and_key_reveals_the_key_exactly_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let me = ann.me().await;
    let id = ClientId::generate();
    let key = ClientKey::generate();
    let answer = ann
        .post(
            "clients/create",
            &[
                ("client_id", id.as_str()),
                ("key", key.expose()),
                ("name", "  Boiler 1 "),
                ("description", "In the basement"),
            ],
        )
        .await;
    assert_eq!(
        occurrences(&answer.body, key.expose()),
        1,
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("$argon2"), "no hash in the answer");
    let revealed: RevealedKey = answer.decode().unwrap();
    assert_eq!(revealed.key.expose(), key.expose());
    assert_eq!(revealed.row.client_id, id);
    assert_eq!(revealed.row.name, "Boiler 1");
    assert_eq!(revealed.row.description, "In the basement");
    assert!(revealed.row.active);
    assert_eq!(revealed.connection.client_id, id);
    assert_eq!(
        revealed.connection.namespace,
        me.current_workspace().unwrap().namespace
    );
    assert_eq!(revealed.connection.organization_id, me.organization_id);
    assert_eq!(revealed.connection.broker_host, "127.0.0.1");
    assert_eq!(revealed.connection.broker_port, 1883);

    let stored = stored_client(&app.db, id.as_str()).await.unwrap();
    assert!(
        stored.keys.starts_with(app::secrets::FAST_PREFIX),
        "a generated key is stored as its SHA-256"
    );
    assert!(!stored.keys.contains(key.expose()));
    assert_eq!(stored.workspace_id, me.current_workspace_id);
    assert_eq!(stored.organization_id, me.organization_id);
    assert!(key_verifies(&app.db, id.as_str(), key.expose()).await);
    assert_eq!(stored.audit_events, 1);
    assert_eq!(stored.outbox_rows, 0);
    app.stop().await;
}

#[engines]
async fn create_with_own_id_and_key_stores_them_as_typed(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let own_key = "my-own-secret-key-0123!";
    let revealed = ann
        .create_client(" My-Sensor_01.a ", own_key, "Sensor", "")
        .await
        .unwrap();
    assert_eq!(revealed.row.client_id.as_str(), "My-Sensor_01.a");
    assert_eq!(revealed.key.expose(), own_key);
    assert!(key_verifies(&app.db, "My-Sensor_01.a", own_key).await);
    assert!(!key_verifies(&app.db, "My-Sensor_01.a", "my-own-secret-key-0124!").await);
    let details: ClientDetails = ann
        .call("clients/get", &[("client_id", "My-Sensor_01.a")])
        .await
        .unwrap();
    assert_eq!(details.row, revealed.row);
    app.stop().await;
}

#[engines]
async fn get_and_list_never_return_the_key_or_its_hash(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let revealed = ann.new_client("Boiler").await;
    let id = revealed.row.client_id.as_str();
    let key = revealed.key.expose();

    let get = ann.post("clients/get", &[("client_id", id)]).await;
    let details: ClientDetails = get.decode().unwrap();
    assert_eq!(details.row, revealed.row);
    assert_eq!(details.connection, revealed.connection);
    let listed = ann
        .post("clients/list", &list_form("", "created", "false", "1"))
        .await;
    let page: ClientPage = listed.decode().unwrap();
    assert_eq!(page.rows, std::slice::from_ref(&revealed.row));
    for body in [&get.body, &listed.body] {
        assert_eq!(occurrences(body, key), 0, "{body}");
        assert!(!body.contains("$argon2"), "{body}");
        assert!(
            !body.contains(&key[4..20]),
            "not even part of the key: {body}"
        );
    }
    app.stop().await;
}

#[engines]
async fn regenerate_makes_the_old_key_fail_and_the_new_one_verify(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let id = created.row.client_id.as_str();
    let old_key = created.key.expose().to_owned();
    let before = stored_client(&app.db, id).await.unwrap();

    let new_key = ClientKey::generate();
    let answer = ann
        .post(
            "clients/regenerate_key",
            &[("client_id", id), ("key", new_key.expose())],
        )
        .await;
    assert_eq!(occurrences(&answer.body, new_key.expose()), 1);
    assert_eq!(occurrences(&answer.body, &old_key), 0);
    let revealed: RevealedKey = answer.decode().unwrap();
    assert_eq!(revealed.key.expose(), new_key.expose());
    assert_eq!(revealed.row.client_id.as_str(), id);
    assert!(revealed.row.active);
    assert_eq!(revealed.connection, created.connection);

    assert!(
        !key_verifies(&app.db, id, &old_key).await,
        "the old key is dead"
    );
    assert!(key_verifies(&app.db, id, new_key.expose()).await);
    let after = stored_client(&app.db, id).await.unwrap();
    assert_ne!(after.keys, before.keys);
    assert_eq!(after.audit_events, before.audit_events + 1);
    assert_eq!(after.outbox_rows, before.outbox_rows + 1);
    // Queued in the same transaction (the revocation worker may have delivered it since).
    let queued = app::store::outbox::list_for_client(&app.db, id)
        .await
        .unwrap();
    assert_eq!(queued.last().unwrap().0.reason.as_str(), "key_regenerated");
    app.stop().await;
}

#[engines]
async fn regenerate_with_an_own_key_reveals_it_once_and_stores_only_its_hash(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann
        .create_client("pump-7", "first-own-key-0000", "Pump", "")
        .await
        .unwrap();
    assert_eq!(created.key.expose(), "first-own-key-0000");
    let answer = ann
        .post(
            "clients/regenerate_key",
            &[("client_id", "pump-7"), ("key", "second-own-key-1111")],
        )
        .await;
    assert_eq!(occurrences(&answer.body, "second-own-key-1111"), 1);
    answer.decode::<RevealedKey>().unwrap();
    assert!(!key_verifies(&app.db, "pump-7", "first-own-key-0000").await);
    assert!(key_verifies(&app.db, "pump-7", "second-own-key-1111").await);
    let stored = stored_client(&app.db, "pump-7").await.unwrap();
    assert!(!stored.keys.contains("second-own-key"));
    assert_eq!(stored.outbox_rows, 1);
    app.stop().await;
}

/// Keys the server must refuse, each with a reason at the Key field.
fn bad_keys() -> Vec<(&'static str, String)> {
    let generated = ClientKey::generate();
    let mut typo: Vec<char> = generated.expose().chars().collect();
    let i = typo.len() - 2;
    typo[i] = if typo[i] == 'a' { 'b' } else { 'a' };
    vec![
        ("empty", String::new()),
        ("too short", "fifteen-chars-x".into()),
        ("too long", "k".repeat(ClientKey::MAX_LEN + 1)),
        ("with spaces", "a key with spaces inside".into()),
        ("with a leading space", " leading-space-key-123".into()),
        ("non-ASCII", "schlüssel-schlüssel-1".into()),
        ("bad kgk_ checksum", typo.into_iter().collect()),
        (
            "kgk_ prefix but no checksum",
            "kgk_this-is-not-base58-at-all".into(),
        ),
    ]
}

#[engines]
async fn regenerate_bad_key_is_a_key_field_error_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let id = created.row.client_id.as_str();
    let before = stored_client(&app.db, id).await;
    let counts = app.counts().await;
    for (what, key) in bad_keys() {
        let result = ann
            .call::<RevealedKey>(
                "clients/regenerate_key",
                &[("client_id", id), ("key", &key)],
            )
            .await;
        let message = expect_field_error(result, FieldError::Key);
        assert!(
            key.is_empty() || !message.contains(&key),
            "{what}: the message repeats the key"
        );
    }
    assert_eq!(stored_client(&app.db, id).await, before);
    assert_eq!(app.counts().await, counts);
    assert!(key_verifies(&app.db, id, created.key.expose()).await);
    app.stop().await;
}

#[engines]
async fn client_id_taken_is_a_field_error_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let first = ann
        .create_client("boiler-01", "first-own-key-0000", "Boiler", "")
        .await
        .unwrap();
    let before = stored_client(&app.db, "boiler-01").await;
    let counts = app.counts().await;
    let key = ClientKey::generate();
    // Whatever the surrounding space: ids are trimmed before they are compared.
    for taken in ["boiler-01", " boiler-01 "] {
        let message = expect_field_error(
            ann.create_client(taken, key.expose(), "Other", "").await,
            FieldError::ClientId,
        );
        assert!(message.to_lowercase().contains("taken"), "{message}");
    }
    assert_eq!(stored_client(&app.db, "boiler-01").await, before);
    assert_eq!(app.counts().await, counts);
    assert!(key_verifies(&app.db, "boiler-01", first.key.expose()).await);
    app.stop().await;
}

#[engines]
async fn client_id_taken_by_another_organization_is_a_client_id_field_error_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let theirs = bob.new_client("Pump").await;
    let id = theirs.row.client_id.as_str();
    let before = stored_client(&app.db, id).await;
    let counts = app.counts().await;
    expect_field_error(
        ann.create_client(id, ClientKey::generate().expose(), "Mine", "")
            .await,
        FieldError::ClientId,
    );
    assert_eq!(stored_client(&app.db, id).await, before);
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn client_id_available_knows_every_organizations_ids(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let mine = ann.new_client("Mine").await;
    let theirs = bob.new_client("Theirs").await;
    for (id, expected) in [
        (mine.row.client_id.as_str(), Availability::Taken),
        (theirs.row.client_id.as_str(), Availability::Taken),
        ("still-free", Availability::Available),
    ] {
        assert_eq!(
            ann.call::<Availability>("clients/available", &[("client_id", id)])
                .await,
            Ok(expected),
            "{id}"
        );
    }
    expect_field_error(
        ann.call::<Availability>("clients/available", &[("client_id", "no spaces")])
            .await,
        FieldError::ClientId,
    );
    app.stop().await;
}

/// One refused create: what is wrong, the form (id, key, name, description), the field to blame.
struct CreateCase {
    what: String,
    form: [String; 4],
    field: FieldError,
}

#[engines]
async fn create_bad_input_is_a_field_error_at_that_field_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let good_key = ClientKey::generate();
    let good = ("good-id", good_key.expose(), "Name", "");
    let long_id = "i".repeat(ClientId::MAX_LEN + 1);
    let long_name = "n".repeat(81);
    let long_description = "d".repeat(501);
    let mut cases: Vec<CreateCase> = Vec::new();
    let mut case = |what: &str, id: &str, key: &str, name: &str, description: &str, field| {
        cases.push(CreateCase {
            what: what.to_owned(),
            form: [id.into(), key.into(), name.into(), description.into()],
            field,
        });
    };
    for (what, id) in [
        ("empty id", ""),
        ("blank id", "   "),
        ("too short id", "ab"),
        ("too long id", long_id.as_str()),
        ("id with a space", "bad id"),
        ("id with a slash", "a/b"),
        ("id with a plus", "dev+1"),
        ("id with MQTT wildcards", "dev#1"),
        ("non-ASCII id", "ünïcode"),
    ] {
        case(what, id, good.1, good.2, good.3, FieldError::ClientId);
    }
    let bad_keys = bad_keys();
    for (what, key) in &bad_keys {
        case(what, good.0, key, good.2, good.3, FieldError::Key);
    }
    for (what, name) in [
        ("empty name", ""),
        ("blank name", "  "),
        ("too long name", long_name.as_str()),
        ("name with a control character", "bell\u{7}"),
        ("name on two lines", "two\nlines"),
    ] {
        case(what, good.0, good.1, name, good.3, FieldError::Name);
    }
    case(
        "too long description",
        good.0,
        good.1,
        good.2,
        &long_description,
        FieldError::Description,
    );
    case(
        "description with a control character",
        good.0,
        good.1,
        good.2,
        "tab\tinside",
        FieldError::Description,
    );

    let counts = app.counts().await;
    for CreateCase { what, form, field } in cases {
        let [id, key, name, description] = &form;
        let result = ann.create_client(id, key, name, description).await;
        match result {
            Err(app::error::AppError::Invalid { field: f, .. }) if f == field => {}
            other => panic!("{what}: expected a field error at {field:?}, got {other:?}"),
        }
    }
    assert_eq!(app.counts().await, counts);
    assert_eq!(count_rows(&app.db, "clients").await, 0);
    // The good values really are good: the refusals above came from the one bad field each.
    ann.create_client(good.0, good.1, good.2, good.3)
        .await
        .unwrap();
    app.stop().await;
}

/// The sentence under the field is the model parser's, word for word: the browser shows the same
/// one as you type, so the server's verdict never reads differently.
#[engines]
async fn a_field_error_says_what_is_wrong_in_the_parsers_words(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let key = ClientKey::generate();
    let long_description = "d".repeat(501);
    let counts = app.counts().await;
    for (id, key, name, description, field, sentence) in [
        (
            "a/b",
            key.expose(),
            "Boiler",
            "",
            FieldError::ClientId,
            "'/' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'.",
        ),
        (
            "boiler-01",
            "has a space in it!",
            "Boiler",
            "",
            FieldError::Key,
            "Use printable ASCII characters without spaces in a key.",
        ),
        (
            "boiler-01",
            key.expose(),
            "two\nlines",
            "",
            FieldError::Name,
            "A name must fit on one line.",
        ),
        (
            "boiler-01",
            key.expose(),
            "Boiler",
            long_description.as_str(),
            FieldError::Description,
            "A description can have at most 500 characters.",
        ),
    ] {
        let message =
            expect_field_error(ann.create_client(id, key, name, description).await, field);
        assert_eq!(message, sentence);
    }
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn update_changes_name_and_description_only(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let id = created.row.client_id.as_str();
    let before = stored_client(&app.db, id).await.unwrap();
    let row: ClientRow = ann
        .call(
            "clients/update",
            &[
                ("client_id", id),
                ("name", " Boiler (new) "),
                ("description", "Replaced in May"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.name, "Boiler (new)");
    assert_eq!(row.description, "Replaced in May");
    let after = stored_client(&app.db, id).await.unwrap();
    assert_eq!(after.keys, before.keys);
    assert_eq!(after.active, before.active);
    assert_eq!(after.audit_events, before.audit_events + 1);
    assert_eq!(
        after.outbox_rows, before.outbox_rows,
        "an edit revokes nothing"
    );
    assert!(key_verifies(&app.db, id, created.key.expose()).await);
    app.stop().await;
}

#[engines]
async fn update_bad_input_is_a_field_error_at_that_field_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let id = created.row.client_id.as_str();
    let before = stored_client(&app.db, id).await;
    let counts = app.counts().await;
    let long_name = "n".repeat(81);
    let long_description = "d".repeat(501);
    for (name, description, field) in [
        ("", "", FieldError::Name),
        ("   ", "fine", FieldError::Name),
        (long_name.as_str(), "", FieldError::Name),
        ("bell\u{7}", "", FieldError::Name),
        ("two\nlines", "", FieldError::Name),
        ("Fine", long_description.as_str(), FieldError::Description),
    ] {
        let result = ann
            .call::<ClientRow>(
                "clients/update",
                &[
                    ("client_id", id),
                    ("name", name),
                    ("description", description),
                ],
            )
            .await;
        expect_field_error(result, field);
    }
    assert_eq!(stored_client(&app.db, id).await, before);
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn deactivate_queues_a_revocation_and_activate_does_not(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let id = created.row.client_id.as_str();

    let row: ClientRow = ann
        .call(
            "clients/set_active",
            &[("client_id", id), ("active", "false")],
        )
        .await
        .unwrap();
    assert!(!row.active);
    let stored = stored_client(&app.db, id).await.unwrap();
    assert_eq!(stored.active, 0);
    assert_eq!(stored.outbox_rows, 1);
    assert_eq!(stored.audit_events, 2);

    let row: ClientRow = ann
        .call(
            "clients/set_active",
            &[("client_id", id), ("active", "true")],
        )
        .await
        .unwrap();
    assert!(row.active);
    let stored = stored_client(&app.db, id).await.unwrap();
    assert_eq!(stored.active, 1);
    assert_eq!(stored.outbox_rows, 1, "activating revokes nothing");
    assert_eq!(stored.audit_events, 3);
    app.stop().await;
}

#[engines]
async fn delete_removes_the_client_and_queues_a_revocation(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann.new_client("Boiler").await;
    let kept = ann.new_client("Kept").await;
    let id = created.row.client_id.as_str();
    let counts = app.counts().await;

    ann.call::<()>("clients/delete", &[("client_id", id)])
        .await
        .unwrap();
    assert!(stored_client(&app.db, id).await.is_none());
    let after = app.counts().await;
    assert_eq!(after.clients, counts.clients - 1);
    assert_eq!(after.outbox, counts.outbox + 1);
    assert_eq!(after.audit_events, counts.audit_events + 1);
    expect_not_found(
        ann.call::<ClientDetails>("clients/get", &[("client_id", id)])
            .await,
    );
    expect_not_found(ann.call::<()>("clients/delete", &[("client_id", id)]).await);
    assert_eq!(app.counts().await, after, "a second delete changes nothing");
    let page = list(&ann, "", "created", false, 1).await;
    assert_eq!(ids(&page), [kept.row.client_id.as_str()]);
    app.stop().await;
}

#[engines]
async fn list_searches_sorts_and_pages_the_current_workspace(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    for (id, name) in [
        ("alpha", "Roof"),
        ("bravo", "Cellar"),
        ("charlie", "Roof 2"),
    ] {
        ann.create_client(id, ClientKey::generate().expose(), name, "")
            .await
            .unwrap();
    }
    bob.create_client("roof-globex", ClientKey::generate().expose(), "Roof", "")
        .await
        .unwrap();

    let page = list(&ann, "", "client_id", false, 1).await;
    assert_eq!(ids(&page), ["alpha", "bravo", "charlie"]);
    assert_eq!((page.total, page.workspace_total, page.page), (3, 3, 1));
    assert_eq!(page.per_page, app::model::ClientQuery::PER_PAGE);
    let page = list(&ann, "", "client_id", true, 1).await;
    assert_eq!(ids(&page), ["charlie", "bravo", "alpha"]);
    let page = list(&ann, "ROOF", "name", false, 1).await;
    assert_eq!(ids(&page), ["alpha", "charlie"]);
    assert_eq!((page.total, page.workspace_total), (2, 3));
    let page = list(&ann, "", "name", true, 1).await;
    assert_eq!(ids(&page), ["charlie", "alpha", "bravo"]);
    // An unknown sort key falls back to the default (creation time) instead of failing.
    let page = list(&ann, "", "DROP TABLE clients", false, 1).await;
    assert_eq!(page.total, 3);
    let page = list(&ann, "", "client_id", false, 2).await;
    assert!(page.rows.is_empty());
    assert_eq!((page.total, page.page), (3, 2));
    let page = list(&ann, "", "client_id", false, 0).await;
    assert_eq!(page.page, 1, "page 0 is read as page 1");
    // A search longer than the limit is cut, not refused.
    let long = "r".repeat(500);
    assert_eq!(list(&ann, &long, "name", false, 1).await.total, 0);
    app.stop().await;
}

#[engines]
async fn unknown_or_malformed_client_ids_are_not_found(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    ann.new_client("Boiler").await;
    let counts = app.counts().await;
    let key = ClientKey::generate();
    for id in ["no-such-client", "bad id!", "", "x"] {
        expect_not_found(
            ann.call::<ClientDetails>("clients/get", &[("client_id", id)])
                .await,
        );
        expect_not_found(
            ann.call::<ClientRow>(
                "clients/update",
                &[("client_id", id), ("name", "N"), ("description", "")],
            )
            .await,
        );
        expect_not_found(
            ann.call::<ClientRow>(
                "clients/set_active",
                &[("client_id", id), ("active", "false")],
            )
            .await,
        );
        expect_not_found(
            ann.call::<RevealedKey>(
                "clients/regenerate_key",
                &[("client_id", id), ("key", key.expose())],
            )
            .await,
        );
        expect_not_found(ann.call::<()>("clients/delete", &[("client_id", id)]).await);
    }
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}
