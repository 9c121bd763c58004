//! `store::client_keys` on both engines: a rotation gives a client a second key and sets the
//! current one to retire, at most two; a retirement or an expiry is applied once, with a
//! revocation of that key alone, whoever races for it; another organization's requests find
//! nothing and change nothing; the ends survive in the database for the next process.

use super::fixtures::{actions_for, add_client, fresh_db, id, org, outbox_rows};
use crate::support::{Engine, engines, stored_client};
use app::model::{ClientExpiry, ClientQuery, ExpiryFilter, RevocationReason};
use app::store::client_keys::{self, Rotation};
use app::store::{StoreError, clients, now_millis};

const HOUR: i64 = 3_600_000;

fn rotation(hash: &str, retire_at: i64) -> Rotation<'_> {
    Rotation {
        hash,
        ends_at: None,
        retire_at,
    }
}

async fn keys(
    db: &app::store::Db,
    org: &super::fixtures::Org,
    client: &str,
) -> Vec<app::model::KeyInfo> {
    clients::get(db, &org.ctx.organization_id, &id(client))
        .await
        .unwrap()
        .row
        .keys
}

#[engines]
async fn a_rotation_adds_a_key_retires_the_current_one_later_and_allows_no_third(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let before = keys(&db, &acme, "boiler-01").await;
    assert_eq!(before.len(), 1);
    let retire_at = now_millis() + HOUR;
    let new_id = client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$second", retire_at),
    )
    .await
    .unwrap();
    let after = keys(&db, &acme, "boiler-01").await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(
        (after[0].ends_at, after[0].retiring),
        (Some(retire_at), true)
    );
    assert_eq!(after[1].id, new_id);
    assert_eq!((after[1].ends_at, after[1].retiring), (None, false));
    assert!(
        outbox_rows(&db, "boiler-01").await.is_empty(),
        "a rotation revokes nothing yet"
    );
    assert!(
        actions_for(&db, &acme, "boiler-01")
            .await
            .contains(&"client.key_rotated".to_owned())
    );

    let stored = stored_client(&db, "boiler-01").await;
    assert!(matches!(
        client_keys::rotate(
            &db,
            &acme.ctx,
            &id("boiler-01"),
            rotation("$argon2id$third", retire_at)
        )
        .await,
        Err(StoreError::KeysFull)
    ));
    assert_eq!(
        stored_client(&db, "boiler-01").await,
        stored,
        "a third key changes nothing"
    );
}

/// A rotation keeps an earlier expiry: a key that expires before the rotation's end still does,
/// and expires (it does not "retire").
#[engines]
async fn a_rotation_never_extends_the_current_keys_life(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let key = keys(&db, &acme, "boiler-01").await.remove(0);
    let expires = now_millis() + HOUR;
    client_keys::update_expiry(&db, &acme.ctx, &id("boiler-01"), &key.id, Some(expires))
        .await
        .unwrap();
    client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$n", expires + 24 * HOUR),
    )
    .await
    .unwrap();
    let after = keys(&db, &acme, "boiler-01").await;
    assert_eq!(
        (after[0].ends_at, after[0].retiring),
        (Some(expires), false)
    );
}

#[engines]
async fn the_only_working_key_cannot_be_retired(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let key = keys(&db, &acme, "boiler-01").await.remove(0);
    let stored = stored_client(&db, "boiler-01").await;
    assert!(matches!(
        client_keys::retire(&db, &acme.ctx, &id("boiler-01"), &key.id).await,
        Err(StoreError::OnlyKey)
    ));
    assert_eq!(stored_client(&db, "boiler-01").await, stored);
    // The new key of a rotation cannot be retired while the old one is retiring either: the old
    // one still works, so it could, and then the old key is the one that remains.
    let new_id = client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$n", now_millis() + HOUR),
    )
    .await
    .unwrap();
    client_keys::retire(&db, &acme.ctx, &id("boiler-01"), &key.id)
        .await
        .unwrap();
    let left = keys(&db, &acme, "boiler-01").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, new_id);
    let rows = outbox_rows(&db, "boiler-01").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reason, RevocationReason::KeyRetired);
    assert_eq!(rows[0].key_id.as_deref(), Some(key.id.as_str()));
}

#[engines]
async fn another_organizations_key_changes_are_not_found_and_change_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$n", now_millis() + HOUR),
    )
    .await
    .unwrap();
    let old = keys(&db, &acme, "boiler-01").await.remove(0);
    let stored = stored_client(&db, "boiler-01").await;
    assert!(matches!(
        client_keys::rotate(
            &db,
            &globex.ctx,
            &id("boiler-01"),
            rotation("$argon2id$x", now_millis() + HOUR)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        client_keys::retire(&db, &globex.ctx, &id("boiler-01"), &old.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        client_keys::update_expiry(&db, &globex.ctx, &id("boiler-01"), &old.id, None).await,
        Err(StoreError::NotFound)
    ));
    // Acme's own client, with a key id of nothing it has.
    assert!(matches!(
        client_keys::retire(&db, &acme.ctx, &id("boiler-01"), "no-such-key").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(stored_client(&db, "boiler-01").await, stored);
    assert!(outbox_rows(&db, "boiler-01").await.is_empty());
}

#[engines]
async fn a_retiring_keys_end_is_not_an_expiry_to_change(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$n", now_millis() + HOUR),
    )
    .await
    .unwrap();
    let old = keys(&db, &acme, "boiler-01").await.remove(0);
    assert!(matches!(
        client_keys::update_expiry(&db, &acme.ctx, &id("boiler-01"), &old.id, None).await,
        Err(StoreError::NotFound)
    ));
}

/// Two processes (or two passes) race to apply the same ends: each end is applied once, with one
/// revocation and one audit event; a retired key is gone, an expired one stays, marked.
#[engines]
async fn each_end_is_applied_once_however_many_race_for_it(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "rotated", "Rotated").await;
    add_client(&db, &acme, "expiring", "Expiring").await;
    client_keys::rotate(
        &db,
        &acme.ctx,
        &id("rotated"),
        rotation("$argon2id$n", now_millis() + HOUR),
    )
    .await
    .unwrap();
    let old = keys(&db, &acme, "rotated").await.remove(0);
    let expiring = keys(&db, &acme, "expiring").await.remove(0);
    let past = now_millis() - 10;
    client_keys::set_end_for_test(&db, &old.id, past)
        .await
        .unwrap();
    client_keys::set_end_for_test(&db, &expiring.id, past)
        .await
        .unwrap();
    assert_eq!(client_keys::next_end(&db).await.unwrap(), Some(past));

    let racers: Vec<_> = (0..6)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { client_keys::end_due(&db, now_millis()).await })
        })
        .collect();
    let mut ended = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(e) => ended.extend(e),
            // SQLite may refuse a racer outright; it applies nothing, and the next pass retries.
            Err(e) => assert!(matches!(e, StoreError::Database(_)), "{e}"),
        }
    }
    ended.extend(client_keys::end_due(&db, now_millis()).await.unwrap());
    ended.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    assert_eq!(ended.len(), 2, "each end once: {ended:?}");

    let retired = outbox_rows(&db, "rotated").await;
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].reason, RevocationReason::KeyRetired);
    assert_eq!(retired[0].key_id.as_deref(), Some(old.id.as_str()));
    let expired = outbox_rows(&db, "expiring").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].reason, RevocationReason::KeyExpired);
    assert_eq!(expired[0].key_id.as_deref(), Some(expiring.id.as_str()));

    assert_eq!(
        keys(&db, &acme, "rotated").await.len(),
        1,
        "the retired key is gone"
    );
    let left = keys(&db, &acme, "expiring").await;
    assert_eq!(left.len(), 1, "the expired key stays, refused");
    assert_eq!(ClientExpiry::of(&left, now_millis()), ClientExpiry::Expired);
    assert_eq!(
        client_keys::next_end(&db).await.unwrap(),
        None,
        "nothing left to apply"
    );
    assert_eq!(
        actions_for(&db, &acme, "expiring")
            .await
            .iter()
            .filter(|a| *a == "client.key_expired")
            .count(),
        1
    );
}

/// Rotating a client whose key expired replaces the expired key: its end is applied in the same
/// transaction (its sessions are revoked) and the client has one working key again.
#[engines]
async fn rotating_an_expired_client_drops_the_expired_key(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let old = keys(&db, &acme, "boiler-01").await.remove(0);
    client_keys::set_end_for_test(&db, &old.id, now_millis() - 1)
        .await
        .unwrap();
    let new_id = client_keys::rotate(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        rotation("$argon2id$n", now_millis() + HOUR),
    )
    .await
    .unwrap();
    let left = keys(&db, &acme, "boiler-01").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, new_id);
    let rows = outbox_rows(&db, "boiler-01").await;
    assert_eq!(rows.len(), 1, "the expired key's sessions are revoked");
    assert_eq!(rows[0].key_id.as_deref(), Some(old.id.as_str()));
}

#[engines]
async fn the_clients_page_filters_by_expiry_and_the_header_counts_expiring_keys(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    for client in ["never", "soon", "later", "gone", "rotating"] {
        add_client(&db, &acme, client, client).await;
    }
    add_client(&db, &globex, "theirs-soon", "Theirs").await;
    let now = now_millis();
    let set = |client: &'static str, end: i64| {
        let db = db.clone();
        let org = if client.starts_with("theirs") {
            &globex
        } else {
            &acme
        };
        let org_ctx = org.ctx.organization_id.clone();
        async move {
            let key = clients::get(&db, &org_ctx, &id(client))
                .await
                .unwrap()
                .row
                .keys
                .remove(0);
            client_keys::set_end_for_test(&db, &key.id, end)
                .await
                .unwrap();
        }
    };
    set("soon", now + 2 * 24 * HOUR).await;
    set("later", now + 20 * 24 * HOUR).await;
    set("gone", now - HOUR).await;
    set("theirs-soon", now + HOUR).await;
    // A rotation whose old key retires within the week but whose new key never ends is not
    // "expiring": the client keeps working.
    client_keys::rotate(
        &db,
        &acme.ctx,
        &id("rotating"),
        rotation("$argon2id$n", now + HOUR),
    )
    .await
    .unwrap();
    let listed = |expiry| {
        let db = db.clone();
        let workspace = acme.workspace_id.clone();
        async move {
            let (rows, total) = clients::list(
                &db,
                &workspace,
                &ClientQuery {
                    expiry,
                    page: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let mut ids: Vec<String> = rows.iter().map(|r| r.client_id.to_string()).collect();
            ids.sort();
            assert_eq!(total as usize, ids.len());
            ids
        }
    };
    assert_eq!(listed(ExpiryFilter::Expiring).await, ["soon"]);
    assert_eq!(listed(ExpiryFilter::Expired).await, ["gone"]);
    assert_eq!(listed(ExpiryFilter::All).await.len(), 5);
    let week = 7 * 24 * HOUR;
    assert_eq!(
        client_keys::count_expiring(&db, &acme.workspace_id, now, week)
            .await
            .unwrap(),
        1,
        "one key of Acme's workspace expires within the week (a retiring key is not counted)"
    );
    assert_eq!(
        client_keys::count_expiring(&db, &globex.workspace_id, now, week)
            .await
            .unwrap(),
        1,
        "Globex's is its own"
    );
}
