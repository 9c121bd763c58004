//! Clients on both engines: create, get, exists, list (search, sort, pages), count, update,
//! activate and deactivate, new keys and delete, always within the caller's organization; each
//! change writes one audit event, and each revocation one outbox row in the same transaction.

use super::fixtures::{
    actions_for, add_client, add_client_in, audit_count, fresh_db, id, org, outbox_rows,
};
use crate::support::{self, Engine, count_rows, engines, stored_client};
use app::model::{ClientName, ClientQuery, Description, Namespace, SortKey, WorkspaceName};
use app::store::clients::{self, NewClient};
use app::store::{Db, StoreError, workspaces};
use std::collections::HashSet;
use std::sync::Arc;

fn query(search: &str, sort: SortKey, descending: bool, page: u32) -> ClientQuery {
    ClientQuery {
        search: search.into(),
        sort,
        descending,
        page,
        ..ClientQuery::default()
    }
}

async fn ids(db: &Db, workspace_id: &str, q: &ClientQuery) -> (Vec<String>, u64) {
    let (rows, total) = clients::list(db, workspace_id, q).await.unwrap();
    (
        rows.into_iter()
            .map(|r| r.client_id.as_str().to_owned())
            .collect(),
        total,
    )
}

async fn set_times(db: &Db, client_id: &str, created_at: i64, last_seen_at: Option<i64>) {
    sqlx::query("UPDATE clients SET created_at = $1, last_seen_at = $2 WHERE client_id = $3")
        .bind(created_at)
        .bind(last_seen_at)
        .bind(client_id)
        .execute(db.pool())
        .await
        .unwrap();
}

#[engines]
async fn create_then_get_returns_the_client_with_its_owner(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let created = clients::create(
        &db,
        &acme.ctx,
        NewClient {
            client_id: &id("boiler-01"),
            workspace_id: &acme.workspace_id,
            name: &ClientName::parse("Boiler 1").unwrap(),
            description: &Description::parse("In the basement").unwrap(),
            key_hash: "$argon2id$boiler",
            key_ends_at: None,
            scope: None,
            idempotency: None,
            active: true,
            topic_rules: &Default::default(),
        },
        u32::MAX,
    )
    .await
    .unwrap();
    assert!(created.active, "a new client is active");
    assert_eq!(created.last_seen_at, None);
    assert_eq!(created.created_at, created.updated_at);

    let got = clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!(got.row, created);
    assert_eq!(got.workspace_id, acme.workspace_id);
    assert_eq!(got.organization_id, acme.ctx.organization_id);
    assert_eq!(got.row.description, "In the basement");
    assert_eq!(
        clients::get_key_hash(&db, &id("boiler-01")).await.unwrap(),
        "$argon2id$boiler"
    );
    assert!(matches!(
        clients::get(&db, &acme.ctx.organization_id, &id("no-such-client")).await,
        Err(StoreError::NotFound)
    ));
}

#[engines]
async fn create_writes_one_audit_event_and_no_outbox_row(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await,
        ["client.created"]
    );
    assert!(outbox_rows(&db, "boiler-01").await.is_empty());
}

#[engines]
async fn get_of_another_organizations_client_is_not_found(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &globex, "globex-pump", "Pump").await;
    assert!(matches!(
        clients::get(&db, &acme.ctx.organization_id, &id("globex-pump")).await,
        Err(StoreError::NotFound)
    ));
}

#[engines]
async fn create_in_another_organizations_workspace_is_not_found_and_writes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let before = support::counts(&db).await;
    let result = add_client_in(&db, &acme, &globex.workspace_id, "sneaky", "Sneaky").await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(support::counts(&db).await, before);
}

#[engines]
async fn client_id_is_globally_unique_across_organizations(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "shared-name", "Acme's").await;
    let before = support::counts(&db).await;
    let stored = stored_client(&db, "shared-name").await;

    // The store itself refuses, whatever the server function checked first (a race).
    for (who, workspace) in [(&globex, &globex.workspace_id), (&acme, &acme.workspace_id)] {
        let result = add_client_in(&db, who, workspace, "shared-name", "Again").await;
        assert!(
            matches!(result, Err(StoreError::ClientIdTaken)),
            "{result:?}"
        );
    }
    assert_eq!(support::counts(&db).await, before);
    assert_eq!(stored_client(&db, "shared-name").await, stored);
}

#[engines]
async fn exists_sees_every_organizations_clients(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &globex, "globex-pump", "Pump").await;
    assert!(clients::exists(&db, &id("globex-pump")).await.unwrap());
    assert!(!clients::exists(&db, &id("nobody-has-it")).await.unwrap());
}

#[engines]
async fn list_searches_id_and_name_case_insensitively(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "Sensor-ABC", "Roof sensor").await;
    add_client(&db, &acme, "pump-1", "Boiler Room pump").await;
    add_client(&db, &acme, "valve-9", "Garden valve").await;
    let ws = &acme.workspace_id;

    for (search, expected) in [
        ("sensor-abc", vec!["Sensor-ABC"]),
        ("SENSOR", vec!["Sensor-ABC"]),
        ("boiler room", vec!["pump-1"]),
        ("OILER R", vec!["pump-1"]),
        ("  valve  ", vec!["valve-9"]),
        ("e", vec!["Sensor-ABC", "pump-1", "valve-9"]),
        ("nothing-like-it", vec![]),
    ] {
        let (found, total) = ids(&db, ws, &query(search, SortKey::ClientId, false, 1)).await;
        let mut found = found;
        found.sort();
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(found, expected, "search {search:?}");
        assert_eq!(total, expected.len() as u64, "total for {search:?}");
    }
}

#[engines]
async fn list_search_treats_percent_underscore_and_backslash_literally(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "a_b", "plain").await;
    add_client(&db, &acme, "axb", "plain too").await;
    add_client(&db, &acme, "juice", "100% orange").await;
    add_client(&db, &acme, "juice-2", "1000 oranges").await;
    add_client(&db, &acme, "path", r"C:\temp").await;
    let ws = &acme.workspace_id;

    for (search, expected) in [
        ("_", vec!["a_b"]),
        ("a_b", vec!["a_b"]),
        ("%", vec!["juice"]),
        ("0% o", vec!["juice"]),
        ("0%", vec!["juice"]),
        (r"\", vec!["path"]),
        (r":\t", vec!["path"]),
    ] {
        let (found, total) = ids(&db, ws, &query(search, SortKey::ClientId, false, 1)).await;
        assert_eq!(found, expected, "search {search:?}");
        assert_eq!(total, expected.len() as u64, "total for {search:?}");
    }
}

#[engines]
async fn list_search_folds_the_case_of_non_ascii_names(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "dev-1", "Über-Sensor Ölraum").await;
    add_client(&db, &acme, "dev-2", "ÉCOLE Δέλτα").await;
    add_client(&db, &acme, "dev-3", "plain").await;
    let ws = &acme.workspace_id;
    for (search, expected) in [
        ("über", vec!["dev-1"]),
        ("ÜBER", vec!["dev-1"]),
        ("ölraum", vec!["dev-1"]),
        ("école", vec!["dev-2"]),
        ("δέλτα", vec!["dev-2"]),
        ("ΔΈΛΤΑ", vec!["dev-2"]),
    ] {
        let (found, total) = ids(&db, ws, &query(search, SortKey::ClientId, false, 1)).await;
        assert_eq!(found, expected, "search {search:?}");
        assert_eq!(total, expected.len() as u64, "total for {search:?}");
    }
    // A renamed client is found by its new name only.
    clients::update(
        &db,
        &acme.ctx,
        &id("dev-3"),
        &ClientName::parse("Ärger-Zähler").unwrap(),
        &Description::parse("").unwrap(),
    )
    .await
    .unwrap();
    let (found, _) = ids(&db, ws, &query("ÄRGER", SortKey::ClientId, false, 1)).await;
    assert_eq!(found, ["dev-3"]);
    let (found, _) = ids(&db, ws, &query("plain", SortKey::ClientId, false, 1)).await;
    assert!(found.is_empty());
}

/// Clients whose order is the same under any collation (lowercase ASCII letters only), with
/// distinct names, creation and last-seen times that disagree with the id order.
const SORT_FIXTURE: [(&str, &str, i64, Option<i64>); 5] = [
    ("delta", "kilo", 3_000, Some(50)),
    ("alpha", "mike", 5_000, None),
    ("echo", "juliet", 1_000, Some(10)),
    ("bravo", "lima", 4_000, Some(40)),
    ("charlie", "november", 2_000, None),
];

#[engines]
async fn list_sorts_by_every_key_in_both_directions(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    for (client_id, name, created, seen) in SORT_FIXTURE {
        add_client(&db, &acme, client_id, name).await;
        set_times(&db, client_id, created, seen).await;
    }
    for (sort, ascending) in [
        (
            SortKey::ClientId,
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (
            SortKey::Name,
            vec!["echo", "delta", "bravo", "alpha", "charlie"],
        ),
        (
            SortKey::Created,
            vec!["echo", "charlie", "delta", "bravo", "alpha"],
        ),
    ] {
        let (found, _) = ids(&db, &acme.workspace_id, &query("", sort, false, 1)).await;
        assert_eq!(found, ascending, "{sort:?} ascending");
        let (found, _) = ids(&db, &acme.workspace_id, &query("", sort, true, 1)).await;
        let descending: Vec<_> = ascending.iter().rev().copied().collect();
        assert_eq!(found, descending, "{sort:?} descending");
    }
}

#[engines]
async fn list_last_seen_puts_never_seen_clients_last_in_both_directions(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    for (client_id, name, created, seen) in SORT_FIXTURE {
        add_client(&db, &acme, client_id, name).await;
        set_times(&db, client_id, created, seen).await;
    }
    let ws = &acme.workspace_id;
    let (found, _) = ids(&db, ws, &query("", SortKey::LastSeen, false, 1)).await;
    assert_eq!(found, ["echo", "bravo", "delta", "alpha", "charlie"]);
    let (found, _) = ids(&db, ws, &query("", SortKey::LastSeen, true, 1)).await;
    assert_eq!(found, ["delta", "bravo", "echo", "charlie", "alpha"]);
}

#[engines]
async fn list_pages_never_overlap_and_cover_every_client(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let per_page = ClientQuery::PER_PAGE as usize;
    let n = 2 * per_page + 10;
    let mut all = HashSet::new();
    for i in 0..n {
        let client_id = format!("dev{i:03}");
        // Ties everywhere: three names, two creation times, last seen mostly missing. Only the
        // Client ID tie-breaker keeps pages apart.
        add_client(&db, &acme, &client_id, ["alpha", "bravo", "charlie"][i % 3]).await;
        set_times(
            &db,
            &client_id,
            1_000 + (i % 2) as i64,
            (i % 7 == 0).then_some(77),
        )
        .await;
        all.insert(client_id);
    }
    for sort in SortKey::ALL {
        for descending in [false, true] {
            let mut seen = Vec::new();
            for page in 1..=3u32 {
                let (found, total) =
                    ids(&db, &acme.workspace_id, &query("", sort, descending, page)).await;
                assert_eq!(total, n as u64);
                let expected_len = if page < 3 { per_page } else { n - 2 * per_page };
                assert_eq!(
                    found.len(),
                    expected_len,
                    "{sort:?} desc={descending} page {page}"
                );
                seen.extend(found);
            }
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                seen.len(),
                "{sort:?} desc={descending}: pages overlap"
            );
            assert_eq!(
                unique, all,
                "{sort:?} desc={descending}: pages skip clients"
            );
        }
    }
}

#[engines]
async fn list_page_beyond_the_end_is_empty_and_keeps_the_total(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    for i in 0..3 {
        add_client(&db, &acme, &format!("dev{i}"), "Device").await;
    }
    for page in [2, 3, 1000, u32::MAX] {
        let (found, total) = ids(
            &db,
            &acme.workspace_id,
            &query("", SortKey::Created, false, page),
        )
        .await;
        assert!(found.is_empty(), "page {page}");
        assert_eq!(total, 3, "page {page}");
    }
    // Page 0 is read as page 1.
    let (found, _) = ids(
        &db,
        &acme.workspace_id,
        &query("", SortKey::ClientId, false, 0),
    )
    .await;
    assert_eq!(found, ["dev0", "dev1", "dev2"]);
}

#[engines]
async fn list_and_count_see_only_their_workspace(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let staging = workspaces::create(
        &db,
        &acme.ctx,
        &WorkspaceName::parse("Staging").unwrap(),
        &Namespace::parse("acme-staging").unwrap(),
        u32::MAX,
    )
    .await
    .unwrap();
    add_client(&db, &acme, "acme-prod-1", "Device").await;
    add_client(&db, &acme, "acme-prod-2", "Device").await;
    add_client_in(&db, &acme, &staging.id, "acme-staging-1", "Device")
        .await
        .unwrap();
    add_client(&db, &globex, "globex-1", "Device").await;

    let (found, total) = ids(
        &db,
        &acme.workspace_id,
        &query("", SortKey::ClientId, false, 1),
    )
    .await;
    assert_eq!(found, ["acme-prod-1", "acme-prod-2"]);
    assert_eq!(total, 2);
    let (found, _) = ids(&db, &staging.id, &query("", SortKey::ClientId, false, 1)).await;
    assert_eq!(found, ["acme-staging-1"]);
    let (found, total) = ids(
        &db,
        &acme.workspace_id,
        &query("globex", SortKey::ClientId, false, 1),
    )
    .await;
    assert!(found.is_empty() && total == 0);

    assert_eq!(clients::count(&db, &acme.workspace_id).await.unwrap(), 2);
    assert_eq!(clients::count(&db, &staging.id).await.unwrap(), 1);
    assert_eq!(clients::count(&db, &globex.workspace_id).await.unwrap(), 1);
    assert_eq!(clients::count(&db, "no-such-workspace").await.unwrap(), 0);
}

#[engines]
async fn update_changes_name_and_description_with_an_audit_event_and_no_outbox_row(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let created = add_client(&db, &acme, "boiler-01", "Boiler").await;
    let hash_before = clients::get_key_hash(&db, &id("boiler-01")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let updated = clients::update(
        &db,
        &acme.ctx,
        &id("boiler-01"),
        &ClientName::parse("Boiler (new)").unwrap(),
        &Description::parse("Replaced in May").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(updated.name, "Boiler (new)");
    assert_eq!(updated.description, "Replaced in May");
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert!(updated.active);
    let got = clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!(got.row, updated);
    assert_eq!(
        clients::get_key_hash(&db, &id("boiler-01")).await.unwrap(),
        hash_before
    );
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await,
        ["client.updated", "client.created"]
    );
    assert!(outbox_rows(&db, "boiler-01").await.is_empty());
}

#[engines]
async fn update_of_another_organizations_client_is_not_found_and_changes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &globex, "globex-pump", "Pump").await;
    let before = stored_client(&db, "globex-pump").await;
    let counts = support::counts(&db).await;
    let result = clients::update(
        &db,
        &acme.ctx,
        &id("globex-pump"),
        &ClientName::parse("Mine now").unwrap(),
        &Description::parse("").unwrap(),
    )
    .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(stored_client(&db, "globex-pump").await, before);
    assert_eq!(support::counts(&db).await, counts);
}

#[engines]
async fn deactivate_writes_exactly_one_outbox_row_and_one_audit_event(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let audit_before = audit_count(&db, &acme).await;

    let row = clients::update_active(&db, &acme.ctx, &id("boiler-01"), false)
        .await
        .unwrap();
    assert!(!row.active);
    assert!(
        !clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
            .await
            .unwrap()
            .row
            .active
    );
    assert_eq!(audit_count(&db, &acme).await, audit_before + 1);
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await[0],
        "client.deactivated"
    );
    let rows = outbox_rows(&db, "boiler-01").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].reason.as_str(), "deactivated");
    assert_eq!(rows[0].organization_id, acme.ctx.organization_id);
}

#[engines]
async fn activate_writes_an_audit_event_and_no_outbox_row(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    clients::update_active(&db, &acme.ctx, &id("boiler-01"), false)
        .await
        .unwrap();
    let outbox_before = count_rows(&db, "revocation_outbox").await;
    let audit_before = audit_count(&db, &acme).await;

    let row = clients::update_active(&db, &acme.ctx, &id("boiler-01"), true)
        .await
        .unwrap();
    assert!(row.active);
    assert_eq!(count_rows(&db, "revocation_outbox").await, outbox_before);
    assert_eq!(audit_count(&db, &acme).await, audit_before + 1);
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await[0],
        "client.activated"
    );
}

#[engines]
async fn update_key_replaces_the_hash_and_writes_one_outbox_row_and_one_audit_event(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let audit_before = audit_count(&db, &acme).await;

    let record = clients::update_key(&db, &acme.ctx, &id("boiler-01"), "$argon2id$new-hash", None)
        .await
        .unwrap();
    assert_eq!(record.workspace_id, acme.workspace_id);
    assert!(record.row.active, "a new key does not deactivate");
    assert_eq!(
        clients::get_key_hash(&db, &id("boiler-01")).await.unwrap(),
        "$argon2id$new-hash"
    );
    assert_eq!(audit_count(&db, &acme).await, audit_before + 1);
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await[0],
        "client.key_regenerated"
    );
    let rows = outbox_rows(&db, "boiler-01").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].reason.as_str(), "key_regenerated");
}

#[engines]
async fn delete_removes_the_client_and_writes_one_outbox_row_and_one_audit_event(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    add_client(&db, &acme, "boiler-02", "Boiler").await;
    let audit_before = audit_count(&db, &acme).await;

    clients::delete(&db, &acme.ctx, &id("boiler-01"))
        .await
        .unwrap();
    assert!(stored_client(&db, "boiler-01").await.is_none());
    assert!(stored_client(&db, "boiler-02").await.is_some());
    assert!(matches!(
        clients::get_key_hash(&db, &id("boiler-01")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(clients::count(&db, &acme.workspace_id).await.unwrap(), 1);
    assert_eq!(audit_count(&db, &acme).await, audit_before + 1);
    assert_eq!(
        actions_for(&db, &acme, "boiler-01").await[0],
        "client.deleted"
    );
    let rows = outbox_rows(&db, "boiler-01").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].reason.as_str(), "deleted");

    // Deleting again finds nothing and queues nothing more.
    assert!(matches!(
        clients::delete(&db, &acme.ctx, &id("boiler-01")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(outbox_rows(&db, "boiler-01").await.len(), 1);
    // The id is free again.
    assert!(!clients::exists(&db, &id("boiler-01")).await.unwrap());
    add_client(&db, &acme, "boiler-01", "Boiler again").await;
}

#[engines]
async fn revocations_of_another_organizations_client_are_not_found_and_write_nothing(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &globex, "globex-pump", "Pump").await;
    let before = stored_client(&db, "globex-pump").await;
    let counts = support::counts(&db).await;
    let target = id("globex-pump");

    let results = [
        clients::update_active(&db, &acme.ctx, &target, false)
            .await
            .map(drop),
        clients::update_active(&db, &acme.ctx, &target, true)
            .await
            .map(drop),
        clients::update_key(&db, &acme.ctx, &target, "$argon2id$stolen", None)
            .await
            .map(drop),
        clients::delete(&db, &acme.ctx, &target).await,
    ];
    for result in results {
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    assert_eq!(stored_client(&db, "globex-pump").await, before);
    assert_eq!(support::counts(&db).await, counts);
}

#[engines]
async fn concurrent_changes_to_different_clients_all_succeed(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = Arc::new(org(&db, "Acme").await);
    let n = 24;
    for i in 0..n {
        add_client(&db, &acme, &format!("dev-{i}"), "Device").await;
    }
    // Every verb at once, as a busy dashboard (or a script) would: none may fail with "database
    // is locked" or a serialization error.
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (db, acme) = (db.clone(), acme.clone());
            tokio::spawn(async move {
                let target = id(&format!("dev-{i}"));
                let result = match i % 5 {
                    0 => clients::delete(&db, &acme.ctx, &target).await,
                    4 => add_client_in(&db, &acme, &acme.workspace_id, &format!("new-{i}"), "New")
                        .await
                        .map(drop),
                    1 => clients::update_active(&db, &acme.ctx, &target, false)
                        .await
                        .map(drop),
                    2 => clients::update_key(&db, &acme.ctx, &target, "$argon2id$new", None)
                        .await
                        .map(drop),
                    _ => clients::update(
                        &db,
                        &acme.ctx,
                        &target,
                        &ClientName::parse("Renamed").unwrap(),
                        &Description::parse("").unwrap(),
                    )
                    .await
                    .map(drop),
                };
                (i, result)
            })
        })
        .collect();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        if let Err(e) = result {
            panic!("change {i} failed: {e}");
        }
    }
    let deleted = (0..n).filter(|i| i % 5 == 0).count();
    let created = (0..n).filter(|i| i % 5 == 4).count();
    let revoked = (0..n).filter(|i| matches!(i % 5, 0..=2)).count();
    assert_eq!(
        clients::count(&db, &acme.workspace_id).await.unwrap(),
        (n - deleted + created) as u64
    );
    assert_eq!(count_rows(&db, "revocation_outbox").await, revoked as i64);
}
