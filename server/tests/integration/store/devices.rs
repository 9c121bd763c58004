//! Devices on both engines: create (one and many), get, list (search, sort, pages, at 10,000),
//! count, update and delete, always within the caller's organization; tags written to both their
//! places together; and what a device's change does to restricted clients: a device that leaves a
//! client's scope (untagged or deleted) queues a revocation for exactly that client.

use super::fixtures::{Org, add_client, audit_count, fresh_db, id, org, outbox_rows};
use crate::support::{self, Engine, count_rows, engines};
use app::model::{
    DeviceId, DeviceName, DeviceQuery, DeviceRow, DeviceSortKey, Namespace, RevocationReason,
    Scope, Tag, TopicRules, WorkspaceName, parse_tags,
};
use app::store::devices::{self, NewDevice};
use app::store::{Db, StoreError, clients, workspaces};
use std::collections::HashSet;

fn device(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

fn tags(raw: &str) -> Vec<Tag> {
    parse_tags(raw).unwrap()
}

fn query(search: &str, sort: DeviceSortKey, descending: bool, page: u32) -> DeviceQuery {
    DeviceQuery {
        search: search.into(),
        sort,
        descending,
        page,
    }
}

async fn add_in(
    db: &Db,
    org: &Org,
    workspace_id: &str,
    device_id: &str,
    name: &str,
    tag_text: &str,
) -> Result<DeviceRow, StoreError> {
    devices::create(
        db,
        &org.ctx,
        NewDevice {
            workspace_id,
            device_id: &device(device_id),
            name: &DeviceName::parse(name).unwrap(),
            tags: &tags(tag_text),
        },
    )
    .await
}

async fn add(db: &Db, org: &Org, device_id: &str, name: &str, tag_text: &str) -> DeviceRow {
    add_in(db, org, &org.workspace_id, device_id, name, tag_text)
        .await
        .unwrap_or_else(|e| panic!("creating {device_id} failed: {e}"))
}

async fn ids(db: &Db, workspace_id: &str, q: &DeviceQuery) -> (Vec<String>, u64) {
    let (rows, total) = devices::list(db, workspace_id, q).await.unwrap();
    (
        rows.into_iter()
            .map(|r| r.device_id.as_str().to_owned())
            .collect(),
        total,
    )
}

/// The tags of `device_id` as `device_tags` holds them, sorted.
async fn tag_rows(db: &Db, workspace_id: &str, device_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT t.tag FROM device_tags t JOIN devices d ON d.id = t.device_row
         WHERE d.workspace_id = $1 AND d.device_id = $2 AND t.workspace_id = $1 ORDER BY t.tag",
    )
    .bind(workspace_id)
    .bind(device_id)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn set_times(db: &Db, device_id: &str, created_at: i64, last_seen_at: Option<i64>) {
    sqlx::query("UPDATE devices SET created_at = $1, last_seen_at = $2 WHERE device_id = $3")
        .bind(created_at)
        .bind(last_seen_at)
        .bind(device_id)
        .execute(db.pool())
        .await
        .unwrap();
}

/// Restricts `client_id` of `org` to `scope`.
async fn restrict(db: &Db, org: &Org, client_id: &str, scope: &str) {
    clients::update_access(
        db,
        &org.ctx,
        &id(client_id),
        Some(&Scope::parse(scope).unwrap()),
        &TopicRules::default(),
    )
    .await
    .unwrap();
}

/// The ScopeNarrowed revocations queued for each of `clients`.
async fn narrowed(db: &Db, clients: &[&str]) -> Vec<usize> {
    let mut counts = Vec::new();
    for client_id in clients {
        let rows = outbox_rows(db, client_id).await;
        counts.push(
            rows.iter()
                .filter(|r| r.reason == RevocationReason::ScopeNarrowed)
                .count(),
        );
    }
    counts
}

/// How many ScopeNarrowed revocations each of `clients` got since `before` was taken.
async fn narrowed_since(db: &Db, clients: &[&str], before: &[usize]) -> Vec<usize> {
    narrowed(db, clients)
        .await
        .iter()
        .zip(before)
        .map(|(now, then)| now - then)
        .collect()
}

#[engines]
async fn create_then_get_returns_the_device_with_its_sorted_tags(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let created = add(&db, &acme, "sensor-01", "Roof sensor", "zone=b, env=prod").await;
    assert_eq!(created.device_id.as_str(), "sensor-01");
    assert_eq!(created.name, "Roof sensor");
    assert_eq!(created.tags, tags("env=prod, zone=b"));
    assert_eq!(
        (created.last_seen_at, created.last_client_id.clone()),
        (None, None)
    );
    let got = devices::get(
        &db,
        &acme.ctx.organization_id,
        &acme.workspace_id,
        &device("sensor-01"),
    )
    .await
    .unwrap();
    assert_eq!(got, created);
    assert!(matches!(
        devices::get(
            &db,
            &acme.ctx.organization_id,
            &acme.workspace_id,
            &device("nobody")
        )
        .await,
        Err(StoreError::NotFound)
    ));
}

#[engines]
async fn create_writes_the_tags_to_device_tags_and_one_audit_event(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let audits = audit_count(&db, &acme).await;
    add(&db, &acme, "sensor-01", "", "zone=b, env=prod").await;
    assert_eq!(
        tag_rows(&db, &acme.workspace_id, "sensor-01").await,
        ["env=prod", "zone=b"]
    );
    assert_eq!(audit_count(&db, &acme).await, audits + 1);
    assert_eq!(count_rows(&db, "revocation_outbox").await, 0);
}

#[engines]
async fn a_taken_device_id_is_device_id_taken_and_writes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "sensor-01", "First", "env=prod").await;
    let before = support::counts(&db).await;
    let tag_count = count_rows(&db, "device_tags").await;
    let result = add_in(&db, &acme, &acme.workspace_id, "sensor-01", "Again", "a=1").await;
    assert!(
        matches!(result, Err(StoreError::DeviceIdTaken)),
        "{result:?}"
    );
    assert_eq!(support::counts(&db).await, before);
    assert_eq!(count_rows(&db, "device_tags").await, tag_count);
}

#[engines]
async fn the_same_device_id_may_live_in_two_workspaces(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add(&db, &acme, "sensor-01", "Acme's", "").await;
    add(&db, &globex, "sensor-01", "Globex's", "").await;
    assert_eq!(devices::count(&db, &acme.workspace_id).await.unwrap(), 1);
    assert_eq!(devices::count(&db, &globex.workspace_id).await.unwrap(), 1);
}

#[engines]
async fn another_organizations_devices_are_not_found_and_never_changed(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let theirs = add(&db, &globex, "pump-1", "Pump", "env=prod").await;
    let before = support::counts(&db).await;
    let (org_id, ws) = (&acme.ctx.organization_id, &globex.workspace_id);
    let pump = device("pump-1");

    let created = add_in(&db, &acme, ws, "sneaky", "", "").await;
    assert!(matches!(created, Err(StoreError::NotFound)), "{created:?}");
    let bulk = devices::create_many(&db, &acme.ctx, ws, &[device("sneaky")]).await;
    assert!(matches!(bulk, Err(StoreError::NotFound)), "{bulk:?}");
    assert!(matches!(
        devices::get(&db, org_id, ws, &pump).await,
        Err(StoreError::NotFound)
    ));
    let updated = devices::update(
        &db,
        &acme.ctx,
        ws,
        &pump,
        &DeviceName::parse("Mine now").unwrap(),
        &[],
    )
    .await;
    assert!(matches!(updated, Err(StoreError::NotFound)), "{updated:?}");
    let deleted = devices::delete(&db, &acme.ctx, ws, &pump).await;
    assert!(matches!(deleted, Err(StoreError::NotFound)), "{deleted:?}");

    assert_eq!(support::counts(&db).await, before);
    let still = devices::get(&db, &globex.ctx.organization_id, ws, &pump)
        .await
        .unwrap();
    assert_eq!(still, theirs);
    assert_eq!(tag_rows(&db, ws, "pump-1").await, ["env=prod"]);
}

#[engines]
async fn create_many_creates_new_ids_and_skips_existing_ones_in_one_go(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "d-2", "Kept", "env=prod").await;
    let audits = audit_count(&db, &acme).await;
    let result = devices::create_many(
        &db,
        &acme.ctx,
        &acme.workspace_id,
        &[device("d-1"), device("d-2"), device("d-3")],
    )
    .await
    .unwrap();
    assert_eq!(result.created, [device("d-1"), device("d-3")]);
    assert_eq!(result.skipped, [device("d-2")]);
    let (found, total) = ids(
        &db,
        &acme.workspace_id,
        &query("", DeviceSortKey::DeviceId, false, 1),
    )
    .await;
    assert_eq!(found, ["d-1", "d-2", "d-3"]);
    assert_eq!(total, 3);
    // The skipped device is untouched, and each created one is audited.
    let kept = devices::get(
        &db,
        &acme.ctx.organization_id,
        &acme.workspace_id,
        &device("d-2"),
    )
    .await
    .unwrap();
    assert_eq!((kept.name.as_str(), kept.tags), ("Kept", tags("env=prod")));
    assert_eq!(audit_count(&db, &acme).await, audits + 2);
}

#[engines]
async fn list_searches_device_id_name_and_tags_case_insensitively(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "Sensor-ABC", "Roof", "env=prod").await;
    add(
        &db,
        &acme,
        "pump-1",
        "Über Pumpe",
        "env=staging, zone=cellar",
    )
    .await;
    add(&db, &acme, "valve_9", "", "").await;
    let ws = &acme.workspace_id;
    for (search, expected) in [
        ("sensor-abc", vec!["Sensor-ABC"]),
        ("ÜBER", vec!["pump-1"]),
        ("env=prod", vec!["Sensor-ABC"]),
        ("ZONE=CELLAR", vec!["pump-1"]),
        ("env=", vec!["Sensor-ABC", "pump-1"]),
        ("_", vec!["valve_9"]),
        ("  valve ", vec!["valve_9"]),
        ("nothing-like-it", vec![]),
    ] {
        let (found, total) = ids(&db, ws, &query(search, DeviceSortKey::DeviceId, false, 1)).await;
        let mut found = found;
        found.sort();
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(found, expected, "search {search:?}");
        assert_eq!(total, expected.len() as u64, "total for {search:?}");
    }
}

/// Devices whose order is the same under any collation, with names, creation and last-seen times
/// that disagree with the id order.
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
    for (device_id, name, created, seen) in SORT_FIXTURE {
        add(&db, &acme, device_id, name, "").await;
        set_times(&db, device_id, created, seen).await;
    }
    let ws = &acme.workspace_id;
    for (sort, ascending) in [
        (
            DeviceSortKey::DeviceId,
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (
            DeviceSortKey::Name,
            vec!["echo", "delta", "bravo", "alpha", "charlie"],
        ),
        (
            DeviceSortKey::Created,
            vec!["echo", "charlie", "delta", "bravo", "alpha"],
        ),
    ] {
        let (found, _) = ids(&db, ws, &query("", sort, false, 1)).await;
        assert_eq!(found, ascending, "{sort:?} ascending");
        let (found, _) = ids(&db, ws, &query("", sort, true, 1)).await;
        let descending: Vec<_> = ascending.iter().rev().copied().collect();
        assert_eq!(found, descending, "{sort:?} descending");
    }
    // Never seen devices come last in both directions.
    let (found, _) = ids(&db, ws, &query("", DeviceSortKey::LastSeen, false, 1)).await;
    assert_eq!(found, ["echo", "bravo", "delta", "alpha", "charlie"]);
    let (found, _) = ids(&db, ws, &query("", DeviceSortKey::LastSeen, true, 1)).await;
    assert_eq!(found, ["delta", "bravo", "echo", "charlie", "alpha"]);
}

#[engines]
async fn list_pages_never_overlap_and_cover_every_device(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let per_page = DeviceQuery::PER_PAGE as usize;
    let n = 2 * per_page + 10;
    let mut all = HashSet::new();
    for i in 0..n {
        let device_id = format!("dev{i:03}");
        // Ties everywhere: only the device id keeps pages apart.
        add(
            &db,
            &acme,
            &device_id,
            ["alpha", "bravo", "charlie"][i % 3],
            "",
        )
        .await;
        set_times(
            &db,
            &device_id,
            1_000 + (i % 2) as i64,
            (i % 7 == 0).then_some(77),
        )
        .await;
        all.insert(device_id);
    }
    for sort in DeviceSortKey::ALL {
        for descending in [false, true] {
            let mut seen = Vec::new();
            for page in 1..=3u32 {
                let (found, total) =
                    ids(&db, &acme.workspace_id, &query("", sort, descending, page)).await;
                assert_eq!(total, n as u64);
                seen.extend(found);
            }
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                seen.len(),
                "{sort:?} desc={descending}: overlap"
            );
            assert_eq!(
                unique, all,
                "{sort:?} desc={descending}: pages skip devices"
            );
        }
    }
    // Past the end: empty, with the total; page 0 reads as page 1.
    let (found, total) = ids(
        &db,
        &acme.workspace_id,
        &query("", DeviceSortKey::DeviceId, false, u32::MAX),
    )
    .await;
    assert!(found.is_empty());
    assert_eq!(total, n as u64);
    let (found, _) = ids(
        &db,
        &acme.workspace_id,
        &query("", DeviceSortKey::DeviceId, false, 0),
    )
    .await;
    assert_eq!(found.first().map(String::as_str), Some("dev000"));
}

#[engines]
async fn a_workspace_of_10000_devices_lists_page_400(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    devices::insert_many_for_bench(&db, &acme.workspace_id, &acme.ctx.organization_id, 10_000)
        .await
        .unwrap();
    let ws = &acme.workspace_id;
    assert_eq!(devices::count(&db, ws).await.unwrap(), 10_000);
    let started = std::time::Instant::now();
    let (found, total) = ids(&db, ws, &query("", DeviceSortKey::DeviceId, false, 400)).await;
    let expected: Vec<String> = (9_975..10_000).map(|i| format!("dev-{i:05}")).collect();
    assert_eq!(found, expected);
    assert_eq!(total, 10_000);
    let (found, _) = ids(&db, ws, &query("", DeviceSortKey::Created, true, 400)).await;
    assert_eq!(found.len(), 25);
    let (found, total) = ids(&db, ws, &query("", DeviceSortKey::DeviceId, false, 401)).await;
    assert!(found.is_empty() && total == 10_000);
    let (found, total) = ids(
        &db,
        ws,
        &query("dev-0999", DeviceSortKey::DeviceId, false, 1),
    )
    .await;
    assert_eq!(total, 10);
    assert_eq!(found.len(), 10);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "listing took {:?}",
        started.elapsed()
    );
}

#[engines]
async fn list_and_count_see_only_their_workspace(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let staging = workspaces::create(
        &db,
        &acme.ctx,
        &WorkspaceName::parse("Staging").unwrap(),
        &Namespace::parse("acme-staging").unwrap(),
        u32::MAX,
    )
    .await
    .unwrap();
    add(&db, &acme, "prod-1", "", "").await;
    add_in(&db, &acme, &staging.id, "staging-1", "", "")
        .await
        .unwrap();
    let (found, total) = ids(
        &db,
        &acme.workspace_id,
        &query("", DeviceSortKey::DeviceId, false, 1),
    )
    .await;
    assert_eq!((found, total), (vec!["prod-1".to_owned()], 1));
    assert_eq!(devices::count(&db, &staging.id).await.unwrap(), 1);
    assert_eq!(devices::count(&db, "no-such-workspace").await.unwrap(), 0);
}

#[engines]
async fn update_replaces_name_and_tags_in_both_places_with_an_audit_event(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "sensor-01", "Old", "env=prod, zone=a").await;
    let audits = audit_count(&db, &acme).await;
    let changed = devices::update(
        &db,
        &acme.ctx,
        &acme.workspace_id,
        &device("sensor-01"),
        &DeviceName::parse("New").unwrap(),
        &tags("zone=b, env=prod, floor=2"),
    )
    .await
    .unwrap();
    assert_eq!(changed.row.name, "New");
    assert_eq!(changed.row.tags, tags("env=prod, floor=2, zone=b"));
    assert_eq!(changed.revoked, 0);
    assert_eq!(
        tag_rows(&db, &acme.workspace_id, "sensor-01").await,
        ["env=prod", "floor=2", "zone=b"]
    );
    let got = devices::get(
        &db,
        &acme.ctx.organization_id,
        &acme.workspace_id,
        &device("sensor-01"),
    )
    .await
    .unwrap();
    assert_eq!(got, changed.row);
    assert_eq!(audit_count(&db, &acme).await, audits + 1);
    // Every tag removed: none left in either place.
    devices::update(
        &db,
        &acme.ctx,
        &acme.workspace_id,
        &device("sensor-01"),
        &DeviceName::parse("").unwrap(),
        &[],
    )
    .await
    .unwrap();
    assert!(
        tag_rows(&db, &acme.workspace_id, "sensor-01")
            .await
            .is_empty()
    );
    assert_eq!(count_rows(&db, "device_tags").await, 0);
}

#[engines]
async fn untagging_revokes_exactly_the_restricted_clients_that_lose_the_device(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "sensor-01", "", "env=prod, zone=a").await;
    for client in ["by-env", "by-zone", "by-id", "other-tag", "anyone"] {
        add_client(&db, &acme, client, "Client").await;
    }
    restrict(&db, &acme, "by-env", "env=prod").await;
    restrict(&db, &acme, "by-zone", "zone=a").await;
    restrict(&db, &acme, "by-id", "sensor-01").await;
    restrict(&db, &acme, "other-tag", "env=staging").await;
    let clients = ["by-env", "by-zone", "by-id", "other-tag", "anyone"];
    // Restricting a client queued one revocation of its own: count from here.
    let before = narrowed(&db, &clients).await;
    let outbox = count_rows(&db, "revocation_outbox").await;

    // env=prod goes, zone=a stays: only the client that selected it by env=prod loses it.
    let changed = devices::update(
        &db,
        &acme.ctx,
        &acme.workspace_id,
        &device("sensor-01"),
        &DeviceName::parse("").unwrap(),
        &tags("zone=a"),
    )
    .await
    .unwrap();
    assert_eq!(changed.revoked, 1);
    assert_eq!(count_rows(&db, "revocation_outbox").await, outbox + 1);
    assert_eq!(
        narrowed_since(&db, &clients, &before).await,
        [1, 0, 0, 0, 0]
    );
}

#[engines]
async fn tagging_widens_and_revokes_nobody(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "sensor-01", "", "zone=a").await;
    add_client(&db, &acme, "by-env", "Client").await;
    add_client(&db, &acme, "by-zone", "Client").await;
    restrict(&db, &acme, "by-env", "env=prod").await;
    restrict(&db, &acme, "by-zone", "zone=a").await;
    let outbox = count_rows(&db, "revocation_outbox").await;
    let changed = devices::update(
        &db,
        &acme.ctx,
        &acme.workspace_id,
        &device("sensor-01"),
        &DeviceName::parse("Renamed").unwrap(),
        &tags("zone=a, env=prod"),
    )
    .await
    .unwrap();
    assert_eq!(changed.revoked, 0);
    assert_eq!(count_rows(&db, "revocation_outbox").await, outbox);
}

#[engines]
async fn deleting_revokes_every_restricted_client_that_held_the_device(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add(&db, &acme, "sensor-01", "", "env=prod").await;
    add(&db, &acme, "sensor-02", "", "env=staging").await;
    for client in ["by-env", "by-id", "other", "anyone"] {
        add_client(&db, &acme, client, "Client").await;
    }
    restrict(&db, &acme, "by-env", "env=prod").await;
    restrict(&db, &acme, "by-id", "sensor-01").await;
    restrict(&db, &acme, "other", "sensor-02, env=staging").await;
    let clients = ["by-env", "by-id", "other", "anyone"];
    let before = narrowed(&db, &clients).await;
    let audits = audit_count(&db, &acme).await;
    let revoked = devices::delete(&db, &acme.ctx, &acme.workspace_id, &device("sensor-01"))
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    assert_eq!(narrowed_since(&db, &clients, &before).await, [1, 1, 0, 0]);
    assert_eq!(audit_count(&db, &acme).await, audits + 1);
    // The device and its tag rows are gone; the other device keeps its own.
    assert!(matches!(
        devices::get(
            &db,
            &acme.ctx.organization_id,
            &acme.workspace_id,
            &device("sensor-01")
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        tag_rows(&db, &acme.workspace_id, "sensor-01")
            .await
            .is_empty()
    );
    assert_eq!(count_rows(&db, "device_tags").await, 1);
    // A second delete finds nothing and queues nothing.
    let outbox = count_rows(&db, "revocation_outbox").await;
    assert!(matches!(
        devices::delete(&db, &acme.ctx, &acme.workspace_id, &device("sensor-01")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(count_rows(&db, "revocation_outbox").await, outbox);
}
