//! The Devices page's server functions over HTTP: create (one, or many from a paste), get, list,
//! update and delete in the caller's current workspace; every bad input is a 422 at its field
//! with the parser's sentence, another organization's device is a 404 like a missing one, and a
//! signed-out caller gets a 401; none of those changes anything.

use crate::support::{Engine, Tenant, TestApp, count_rows, engines, expect_not_found};
use app::error::AppError;
use app::model::{BulkCreated, DeviceId, DevicePage, DeviceRow, FieldError, parse_tags};
use app::store::Db;
use reqwest::StatusCode;

/// Rows of every table a refused device request must leave alone.
async fn counts(db: &Db) -> [i64; 4] {
    [
        count_rows(db, "devices").await,
        count_rows(db, "device_tags").await,
        count_rows(db, "audit_events").await,
        count_rows(db, "revocation_outbox").await,
    ]
}

async fn create(
    tenant: &Tenant,
    device_id: &str,
    name: &str,
    tags: &str,
) -> Result<DeviceRow, AppError> {
    tenant
        .call(
            "devices/create",
            &[("device_id", device_id), ("name", name), ("tags", tags)],
        )
        .await
}

async fn update(
    tenant: &Tenant,
    device_id: &str,
    name: &str,
    tags: &str,
) -> Result<DeviceRow, AppError> {
    tenant
        .call(
            "devices/update",
            &[("device_id", device_id), ("name", name), ("tags", tags)],
        )
        .await
}

async fn list(
    tenant: &Tenant,
    search: &str,
    sort: &str,
    descending: bool,
    page: u32,
) -> DevicePage {
    let (descending, page) = (descending.to_string(), page.to_string());
    tenant
        .call(
            "devices/list",
            &[
                ("search", search),
                ("sort", sort),
                ("descending", &descending),
                ("page", &page),
            ],
        )
        .await
        .expect("devices/list")
}

fn ids(page: &DevicePage) -> Vec<&str> {
    page.rows.iter().map(|r| r.device_id.as_str()).collect()
}

#[engines]
async fn create_get_update_and_delete_a_device_in_the_current_workspace(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = create(&ann, " sensor-01 ", " Roof sensor ", "zone=b, env=prod")
        .await
        .unwrap();
    assert_eq!(created.device_id.as_str(), "sensor-01");
    assert_eq!(created.name, "Roof sensor");
    assert_eq!(created.tags, parse_tags("env=prod, zone=b").unwrap());
    let got: DeviceRow = ann
        .call("devices/get", &[("device_id", "sensor-01")])
        .await
        .unwrap();
    assert_eq!(got, created);

    let updated = update(&ann, "sensor-01", "", "floor=2").await.unwrap();
    assert_eq!((updated.name.as_str(), updated.tags.len()), ("", 1));
    let page = list(&ann, "floor=2", "device_id", false, 1).await;
    assert_eq!(ids(&page), ["sensor-01"]);
    assert_eq!((page.total, page.workspace_total), (1, 1));

    ann.call::<()>("devices/delete", &[("device_id", "sensor-01")])
        .await
        .unwrap();
    expect_not_found(
        ann.call::<DeviceRow>("devices/get", &[("device_id", "sensor-01")])
            .await,
    );
    assert_eq!(list(&ann, "", "created", true, 1).await.workspace_total, 0);
    app.stop().await;
}

#[engines]
async fn list_searches_sorts_and_pages_only_the_callers_workspace(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    for (id, name, tags) in [
        ("alpha", "Roof", "env=prod"),
        ("bravo", "Cellar", ""),
        ("charlie", "Roof 2", "env=staging"),
    ] {
        create(&ann, id, name, tags).await.unwrap();
    }
    create(&bob, "roof-globex", "Roof", "env=prod")
        .await
        .unwrap();

    let page = list(&ann, "", "device_id", false, 1).await;
    assert_eq!(ids(&page), ["alpha", "bravo", "charlie"]);
    assert_eq!(page.per_page, app::model::DeviceQuery::PER_PAGE);
    assert_eq!(
        ids(&list(&ann, "", "device_id", true, 1).await),
        ["charlie", "bravo", "alpha"]
    );
    let page = list(&ann, "ROOF", "name", false, 1).await;
    assert_eq!(ids(&page), ["alpha", "charlie"]);
    assert_eq!((page.total, page.workspace_total), (2, 3));
    assert_eq!(
        ids(&list(&ann, "env=", "device_id", false, 1).await),
        ["alpha", "charlie"]
    );
    // An unknown sort falls back to the default; a page past the end is empty with the total.
    assert_eq!(
        list(&ann, "", "DROP TABLE devices", false, 1).await.total,
        3
    );
    let page = list(&ann, "", "device_id", false, 2).await;
    assert!(page.rows.is_empty() && page.total == 3);
    app.stop().await;
}

#[engines]
async fn create_many_creates_the_pasted_ids_and_reports_the_ones_the_workspace_has(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    create(&ann, "d-2", "Kept", "env=prod").await.unwrap();
    let result: BulkCreated = ann
        .call("devices/create_many", &[("ids", "d-1\nd-2, d-3\n\nd-1")])
        .await
        .unwrap();
    let id = |raw| DeviceId::parse(raw).unwrap();
    assert_eq!(result.created, [id("d-1"), id("d-3")]);
    assert_eq!(result.skipped, [id("d-2")]);
    let existing: Vec<DeviceId> = ann
        .call("devices/existing", &[("ids", "d-3\nd-9\nnot valid")])
        .await
        .unwrap();
    assert_eq!(existing, [id("d-3")]);
    assert_eq!(list(&ann, "", "device_id", false, 1).await.total, 3);
    app.stop().await;
}

#[engines]
async fn another_organizations_device_is_not_found_like_a_missing_one_and_stays_as_it_was(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    create(&ann, "own-device", "", "").await.unwrap();
    let theirs = create(&bob, "pump-1", "Pump", "env=prod").await.unwrap();
    let before = counts(&app.db).await;

    for device_id in ["pump-1", "nobody-has-this"] {
        let get = ann.post("devices/get", &[("device_id", device_id)]).await;
        assert_eq!(get.status, StatusCode::NOT_FOUND, "{}", get.body);
        let update = ann
            .post(
                "devices/update",
                &[("device_id", device_id), ("name", "Mine"), ("tags", "")],
            )
            .await;
        assert_eq!(update.status, StatusCode::NOT_FOUND, "{}", update.body);
        let delete = ann
            .post("devices/delete", &[("device_id", device_id)])
            .await;
        assert_eq!(delete.status, StatusCode::NOT_FOUND, "{}", delete.body);
        for answer in [&get, &update, &delete] {
            assert!(matches!(answer.decode::<()>(), Err(AppError::NotFound(_))));
            assert!(!answer.body.contains("Pump"), "{}", answer.body);
        }
    }
    // Bob's device does not show up in Ann's list or search either.
    assert_eq!(list(&ann, "pump", "device_id", false, 1).await.total, 0);
    assert_eq!(counts(&app.db).await, before);
    let still: DeviceRow = bob
        .call("devices/get", &[("device_id", "pump-1")])
        .await
        .unwrap();
    assert_eq!(still, theirs);
    app.stop().await;
}

/// A bad input: the endpoint, its form, the field to blame and the sentence shown there.
struct BadInput {
    endpoint: &'static str,
    form: Vec<(&'static str, String)>,
    field: FieldError,
    sentence: String,
}

fn bad_inputs() -> Vec<BadInput> {
    let many_tags: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
    let form = |id: &str, name: &str, tags: &str| {
        vec![
            ("device_id", id.to_owned()),
            ("name", name.to_owned()),
            ("tags", tags.to_owned()),
        ]
    };
    let bad_id = "'/' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'.";
    let mut cases = vec![
        ("devices/create", form("a/b", "", ""), FieldError::DeviceId, bad_id.to_owned()),
        ("devices/create", form("", "", ""), FieldError::DeviceId, "Enter a device id.".to_owned()),
        ("devices/create", form("..", "", ""), FieldError::DeviceId, "'.' and '..' cannot be device ids.".to_owned()),
        (
            "devices/create",
            form("taken-1", "", ""),
            FieldError::DeviceId,
            "This device id is already in this workspace.".to_owned(),
        ),
        (
            "devices/create",
            form("new-1", "", "env"),
            FieldError::Tag,
            "Write a tag as key=value, both sides filled in.".to_owned(),
        ),
        (
            "devices/create",
            form("new-1", "", "env=pr od"),
            FieldError::Tag,
            "' ' is not allowed in a tag: write key=value with letters, digits, '-', '_', '.', ':' and '@'.".to_owned(),
        ),
        ("devices/create", form("new-1", "", &many_tags.join(",")), FieldError::Tag, "At most 32 tags are allowed.".to_owned()),
        ("devices/create", form("new-1", "two\nlines", ""), FieldError::Name, "A name must fit on one line.".to_owned()),
        ("devices/create", form("new-1", &"n".repeat(81), ""), FieldError::Name, "A name can have at most 80 characters.".to_owned()),
        (
            "devices/update",
            form("taken-1", "", "env=prod, =x"),
            FieldError::Tag,
            "Write a tag as key=value, both sides filled in.".to_owned(),
        ),
        ("devices/update", form("taken-1", "", &many_tags.join(",")), FieldError::Tag, "At most 32 tags are allowed.".to_owned()),
        ("devices/update", form("taken-1", "bell\u{7}", ""), FieldError::Name, "A name cannot contain control characters.".to_owned()),
    ];
    cases.push((
        "devices/create_many",
        vec![("ids", "ok-1\nbad id\nok-2".to_owned())],
        FieldError::DeviceId,
        "Line 2: ' ' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'.".to_owned(),
    ));
    cases.push((
        "devices/create_many",
        vec![("ids", " \n, ".to_owned())],
        FieldError::DeviceId,
        "Paste at least one device id.".to_owned(),
    ));
    cases
        .into_iter()
        .map(|(endpoint, form, field, sentence)| BadInput {
            endpoint,
            form,
            field,
            sentence,
        })
        .collect()
}

#[engines]
async fn each_bad_input_is_a_422_at_its_field_in_the_parsers_words_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    create(&ann, "taken-1", "Taken", "env=prod").await.unwrap();
    let before = counts(&app.db).await;
    for BadInput {
        endpoint,
        form,
        field,
        sentence,
    } in bad_inputs()
    {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = ann.post(endpoint, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint} {form:?}: {}",
            answer.body
        );
        match answer.decode::<()>() {
            Err(AppError::Invalid { field: f, message }) => {
                assert_eq!(
                    (f, message.as_str()),
                    (field, sentence.as_str()),
                    "{endpoint} {form:?}"
                );
            }
            other => panic!("{endpoint} {form:?}: expected a field error, got {other:?}"),
        }
    }
    assert_eq!(counts(&app.db).await, before);
    app.stop().await;
}

#[engines]
async fn a_paste_of_more_than_1000_ids_is_refused_whole(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = counts(&app.db).await;
    let ids: Vec<String> = (0..=app::model::MAX_PASTE)
        .map(|i| format!("d-{i}"))
        .collect();
    let result = ann
        .call::<BulkCreated>("devices/create_many", &[("ids", &ids.join("\n"))])
        .await;
    match result {
        Err(AppError::Invalid {
            field: FieldError::DeviceId,
            message,
        }) => {
            assert_eq!(message, "Paste at most 1000 device ids at once.");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(counts(&app.db).await, before);
    app.stop().await;
}

#[engines]
async fn a_signed_out_caller_gets_401_from_every_device_endpoint(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    create(&ann, "sensor-01", "", "").await.unwrap();
    let before = counts(&app.db).await;
    let anonymous = app.anonymous();
    for (endpoint, form) in [
        (
            "devices/list",
            vec![
                ("search", ""),
                ("sort", "created"),
                ("descending", "true"),
                ("page", "1"),
            ],
        ),
        ("devices/get", vec![("device_id", "sensor-01")]),
        (
            "devices/create",
            vec![("device_id", "d-9"), ("name", ""), ("tags", "")],
        ),
        ("devices/create_many", vec![("ids", "d-9")]),
        ("devices/existing", vec![("ids", "sensor-01")]),
        (
            "devices/update",
            vec![("device_id", "sensor-01"), ("name", "x"), ("tags", "")],
        ),
        ("devices/delete", vec![("device_id", "sensor-01")]),
    ] {
        let answer = anonymous.post(endpoint, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{endpoint}: {}",
            answer.body
        );
        assert!(
            matches!(answer.decode::<()>(), Err(AppError::Unauthorized)),
            "{endpoint}"
        );
    }
    assert_eq!(counts(&app.db).await, before);
    app.stop().await;
}

#[engines]
async fn untagging_a_device_through_the_api_revokes_the_restricted_client_that_loses_it(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let client = ann.new_client("Restricted").await;
    let client_id = client.row.client_id.as_str();
    create(&ann, "sensor-01", "", "env=prod").await.unwrap();
    let me = ann.me().await;
    app::store::clients::update_access(
        &app.db,
        &app::store::audit::AuditContext {
            organization_id: me.organization_id.clone(),
            actor: me.email.clone(),
            address: "192.0.2.1".into(),
        },
        &client.row.client_id,
        Some(&app::model::Scope::parse("env=prod").unwrap()),
        &app::model::TopicRules::default(),
    )
    .await
    .unwrap();
    let rows = |db: Db| async move {
        app::store::outbox::list_for_client(&db, client_id)
            .await
            .unwrap()
            .len()
    };
    let before = rows(app.db.clone()).await;
    update(&ann, "sensor-01", "", "env=staging").await.unwrap();
    assert_eq!(rows(app.db.clone()).await, before + 1);
    app.stop().await;
}
