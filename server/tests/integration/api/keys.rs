//! The key server functions over HTTP, as the Edit modal, the New modal and Settings call them:
//! rotate, retire now, change a key's expiry, the organization's default expiry, the expiry
//! filter and the header's count. Every bad input is a clear error at its field that changes
//! nothing; another organization's forged request finds nothing and changes nothing.

use crate::support::{
    Engine, Tenant, TestApp, engines, expect_field_error, expect_not_found, key_verifies,
    stored_client,
};
use app::error::AppError;
use app::model::{ClientKey, ClientPage, ClientRow, DAY_MS, FieldError, KeyPolicy, RevealedKey};

async fn rotate(
    tenant: &Tenant,
    client: &str,
    key: &str,
    retire: &str,
    expiry: &str,
) -> Result<RevealedKey, AppError> {
    tenant
        .call(
            "clients/rotate_key",
            &[
                ("client_id", client),
                ("key", key),
                ("retire", retire),
                ("expiry", expiry),
            ],
        )
        .await
}

fn within(actual: Option<i64>, expected: i64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() < 60_000)
}

#[engines]
async fn rotate_reveals_the_new_key_once_and_both_keys_verify_until_the_old_retires(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let client = acme.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    let new = ClientKey::generate();
    let rotated = rotate(&acme, &id, new.expose(), "24h", "90").await.unwrap();
    assert_eq!(rotated.key.expose(), new.expose());
    let now = app::store::now_millis();
    let keys = &rotated.row.keys;
    assert_eq!(keys.len(), 2);
    assert!(
        keys[0].retiring && within(keys[0].ends_at, now + DAY_MS),
        "{keys:?}"
    );
    assert!(
        !keys[1].retiring && within(keys[1].ends_at, now + 90 * DAY_MS),
        "{keys:?}"
    );
    // A generated key's fingerprint is the start of its SHA-256: its holder can check it.
    let digest = app::secrets::fast_hash(new.expose().as_bytes());
    assert!(digest.ends_with(&keys[1].fingerprint) || digest.contains(&keys[1].fingerprint));
    assert!(key_verifies(&app.db, &id, client.key.expose()).await);
    assert!(key_verifies(&app.db, &id, new.expose()).await);
    // No page or answer shows a key again.
    let (_, html) = acme.page("/clients").await;
    assert!(!html.contains(new.expose()) && !html.contains(client.key.expose()));

    // A third key is refused with what to do, and changes nothing.
    let before = stored_client(&app.db, &id).await;
    match rotate(&acme, &id, ClientKey::generate().expose(), "1h", "").await {
        Err(AppError::Forbidden(message)) => assert!(message.contains("retire"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(stored_client(&app.db, &id).await, before);

    // Retire now: one key left, the old one stops verifying.
    let row: ClientRow = acme
        .call(
            "clients/retire_key",
            &[("client_id", &id), ("key_id", &keys[0].id)],
        )
        .await
        .unwrap();
    assert_eq!(row.keys.len(), 1);
    assert!(!key_verifies(&app.db, &id, client.key.expose()).await);
    assert!(key_verifies(&app.db, &id, new.expose()).await);
    app.stop().await;
}

#[engines]
async fn bad_rotation_inputs_are_field_errors_and_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let client = acme.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    let before = stored_client(&app.db, &id).await;
    let key = ClientKey::generate();
    for retire in ["", "2h", "forever", "2001-01-01", "2030-13-01"] {
        expect_field_error(
            rotate(&acme, &id, key.expose(), retire, "").await,
            FieldError::RetireAt,
        );
    }
    for expiry in ["0", "3651", "-1", "soon", "1999-12-31"] {
        expect_field_error(
            rotate(&acme, &id, key.expose(), "24h", expiry).await,
            FieldError::KeyExpiry,
        );
    }
    expect_field_error(
        rotate(&acme, &id, "short", "24h", "").await,
        FieldError::Key,
    );
    assert_eq!(stored_client(&app.db, &id).await, before, "nothing changed");
    app.stop().await;
}

#[engines]
async fn another_organizations_key_requests_find_nothing_and_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let client = acme.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    let rotated = rotate(&acme, &id, ClientKey::generate().expose(), "7d", "")
        .await
        .unwrap();
    let old = rotated.row.keys[0].id.clone();
    let new = rotated.row.keys[1].id.clone();
    let before = stored_client(&app.db, &id).await;
    let counts = app.counts().await;
    expect_not_found(rotate(&globex, &id, ClientKey::generate().expose(), "1h", "").await);
    expect_not_found(
        globex
            .call::<ClientRow>(
                "clients/retire_key",
                &[("client_id", &id), ("key_id", &old)],
            )
            .await,
    );
    expect_not_found(
        globex
            .call::<ClientRow>(
                "clients/set_key_expiry",
                &[("client_id", &id), ("key_id", &new), ("expiry", "30")],
            )
            .await,
    );
    // Acme's own client with Globex's idea of a key id, or a key id of another client of
    // Acme's: not found either.
    let other = acme.new_client("Other").await;
    expect_not_found(
        acme.call::<ClientRow>(
            "clients/retire_key",
            &[
                ("client_id", other.connection.client_id.as_str()),
                ("key_id", &old),
            ],
        )
        .await,
    );
    assert_eq!(stored_client(&app.db, &id).await, before);
    let mut after = app.counts().await;
    after.clients -= 1;
    after.audit_events -= 1;
    assert_eq!(after, counts, "only Acme's new client was added");
    app.stop().await;
}

#[engines]
async fn the_organizations_default_expiry_applies_to_new_keys_unless_one_is_chosen(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let policy: KeyPolicy = acme.call("keys/policy", &[]).await.unwrap();
    assert_eq!(policy, KeyPolicy::default(), "keys never expire by default");
    for bad in ["0", "2030-01-01", "weekly"] {
        expect_field_error(
            acme.call::<()>("keys/set_default_expiry", &[("expiry", bad)])
                .await,
            FieldError::KeyExpiry,
        );
    }
    let () = acme
        .call("keys/set_default_expiry", &[("expiry", "30")])
        .await
        .unwrap();
    let policy: KeyPolicy = acme.call("keys/policy", &[]).await.unwrap();
    assert_eq!(policy.default_days, Some(30));

    let now = app::store::now_millis();
    let defaulted = acme.new_client("Defaulted").await;
    assert!(
        within(defaulted.row.keys[0].ends_at, now + 30 * DAY_MS),
        "{:?}",
        defaulted.row.keys
    );
    let never: RevealedKey = acme
        .call(
            "clients/create",
            &[
                ("client_id", "never-expires"),
                ("key", ClientKey::generate().expose()),
                ("name", "Never"),
                ("description", ""),
                ("expiry", "never"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(never.row.keys[0].ends_at, None);
    let dated: RevealedKey = acme
        .call(
            "clients/create",
            &[
                ("client_id", "dated"),
                ("key", ClientKey::generate().expose()),
                ("name", "Dated"),
                ("description", ""),
                ("expiry", "2099-06-30"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(dated.row.keys[0].ends_at, Some(4_086_460_800_000));

    // Another organization's default is its own.
    let globex = app.sign_up("Globex").await;
    let theirs = globex.new_client("Theirs").await;
    assert_eq!(theirs.row.keys[0].ends_at, None);

    // The header counts the keys expiring within 7 days: none yet; then one.
    let policy: KeyPolicy = acme.call("keys/policy", &[]).await.unwrap();
    assert_eq!(policy.expiring, 0);
    let soon = app::model::time_format::utc_minutes(now + 3 * DAY_MS)
        .replace(' ', "T")
        .trim_end_matches("TUTC")
        .to_owned();
    let _: ClientRow = acme
        .call(
            "clients/set_key_expiry",
            &[
                ("client_id", "never-expires"),
                ("key_id", &never.row.keys[0].id),
                ("expiry", &soon),
            ],
        )
        .await
        .unwrap();
    let policy: KeyPolicy = acme.call("keys/policy", &[]).await.unwrap();
    assert_eq!(policy.expiring, 1);
    let page: ClientPage = acme
        .call(
            "clients/list",
            &[
                ("search", ""),
                ("expiry", "expiring"),
                ("sort", "client_id"),
                ("descending", "false"),
                ("page", "1"),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<String> = page.rows.iter().map(|r| r.client_id.to_string()).collect();
    assert_eq!(ids, ["never-expires"]);
    assert_eq!(page.total, 1);
    assert!(
        page.workspace_total > 1,
        "the filter is not the workspace's size"
    );
    app.stop().await;
}
