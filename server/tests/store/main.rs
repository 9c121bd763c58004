//! The credential store on both engines: every verb of clients, workspaces, users and sessions,
//! tenant scoping, and the revocation guarantee (a change and its outbox row commit together);
//! and the clients use cases built on it (`use_cases.rs`).

#[path = "../support/mod.rs"]
mod support;

mod device_sessions;
mod migration;
mod mqtt_usernames;
mod use_cases;

use app::store::device_sessions as sessions_store;

use app::model::{
    ClientId, ClientName, ClientQuery, ClientRow, Description, Email, Namespace, OrgName, SortKey,
    WorkspaceName,
};
use app::store::audit::{self, AuditContext};
use app::store::clients::{self, NewClient};
use app::store::sessions::DbSessionStore;
use app::store::{Db, StoreError, organizations, outbox, users, workspaces};
use std::collections::HashSet;
use std::sync::Arc;
use support::{Engine, TestDatabase, count_rows, outbox_done, stored_client, unique_suffix};
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

engines!(
    create_then_get_returns_the_client_with_its_owner,
    create_writes_one_audit_event_and_no_outbox_row,
    get_of_another_organizations_client_is_not_found,
    create_in_another_organizations_workspace_is_not_found_and_writes_nothing,
    client_id_is_globally_unique_across_organizations,
    exists_sees_every_organizations_clients,
    list_searches_id_and_name_case_insensitively,
    list_search_treats_percent_underscore_and_backslash_literally,
    list_search_folds_the_case_of_non_ascii_names,
    list_sorts_by_every_key_in_both_directions,
    list_last_seen_puts_never_seen_clients_last_in_both_directions,
    list_pages_never_overlap_and_cover_every_client,
    list_page_beyond_the_end_is_empty_and_keeps_the_total,
    list_and_count_see_only_their_workspace,
    update_changes_name_and_description_with_an_audit_event_and_no_outbox_row,
    update_of_another_organizations_client_is_not_found_and_changes_nothing,
    deactivate_writes_exactly_one_outbox_row_and_one_audit_event,
    activate_writes_an_audit_event_and_no_outbox_row,
    update_key_replaces_the_hash_and_writes_one_outbox_row_and_one_audit_event,
    delete_removes_the_client_and_writes_one_outbox_row_and_one_audit_event,
    revocations_of_another_organizations_client_are_not_found_and_write_nothing,
    a_revocation_whose_outbox_row_cannot_be_written_is_rolled_back,
    namespace_is_globally_unique,
    free_namespace_adds_a_numeric_suffix_while_taken,
    organizations_with_the_same_name_get_distinct_namespaces,
    concurrent_sign_ups_with_the_same_name_all_succeed,
    concurrent_workspaces_with_a_derived_namespace_all_succeed,
    concurrent_changes_to_different_clients_all_succeed,
    workspaces_list_counts_clients_and_get_is_scoped,
    rename_of_another_organizations_workspace_is_not_found,
    email_is_unique_and_case_insensitive,
    audit_list_is_newest_first_and_scoped,
    session_save_load_and_delete_round_trip,
    expired_sessions_do_not_load_and_are_swept,
    session_save_replaces_the_stored_record,
    a_revocation_gets_one_delivery_per_target_and_is_done_when_all_confirm,
    a_target_registered_later_gets_the_pending_revocations_only,
    only_one_holder_has_a_targets_lease_until_it_expires_or_is_released,
    failed_attempts_are_recorded_per_delivery_and_target,
    progress_is_scoped_to_the_organization,
    a_forgotten_target_stops_holding_up_revocations,
    a_served_or_unknown_target_cannot_be_forgotten_and_nothing_changes,
);

/// An organization with its owner and default workspace, as sign-up makes it.
struct Org {
    ctx: AuditContext,
    workspace_id: String,
}

async fn fresh_db(engine: Engine) -> (TestDatabase, Db) {
    let database = TestDatabase::create(engine).await;
    let db = database.connect().await;
    (database, db)
}

async fn org(db: &Db, name: &str) -> Org {
    let email = Email::parse(&format!("owner-{}@example.test", unique_suffix())).unwrap();
    let account = organizations::create_with_owner(
        db,
        &OrgName::parse(name).unwrap(),
        &email,
        "$argon2id$not-a-real-hash",
        "192.0.2.1",
    )
    .await
    .expect("an organization");
    Org {
        ctx: AuditContext {
            organization_id: account.organization_id,
            actor: email.as_str().to_owned(),
            address: "192.0.2.1".into(),
        },
        workspace_id: account.workspace_id,
    }
}

fn id(raw: &str) -> ClientId {
    ClientId::parse(raw).unwrap()
}

async fn add_client_in(
    db: &Db,
    org: &Org,
    workspace_id: &str,
    client_id: &str,
    name: &str,
) -> StoreResultRow {
    clients::create(
        db,
        &org.ctx,
        NewClient {
            client_id: &id(client_id),
            workspace_id,
            name: &ClientName::parse(name).unwrap(),
            description: &Description::parse("").unwrap(),
            key_hash: &format!("$argon2id$hash-of-{client_id}"),
        },
    )
    .await
}

type StoreResultRow = Result<ClientRow, StoreError>;

async fn add_client(db: &Db, org: &Org, client_id: &str, name: &str) -> ClientRow {
    add_client_in(db, org, &org.workspace_id, client_id, name)
        .await
        .unwrap_or_else(|e| panic!("creating {client_id} failed: {e}"))
}

async fn audit_count(db: &Db, org: &Org) -> u64 {
    audit::count(db, &org.ctx.organization_id).await.unwrap()
}

async fn outbox_rows(db: &Db, client_id: &str) -> Vec<outbox::OutboxRow> {
    outbox::list_pending(db, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.client_id == client_id)
        .collect()
}

async fn actions_for(db: &Db, org: &Org, client_id: &str) -> Vec<String> {
    audit::list(db, &org.ctx.organization_id, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.target == client_id)
        .map(|e| e.action.as_str().to_owned())
        .collect()
}

fn query(search: &str, sort: SortKey, descending: bool, page: u32) -> ClientQuery {
    ClientQuery {
        search: search.into(),
        sort,
        descending,
        page,
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
        },
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

async fn create_in_another_organizations_workspace_is_not_found_and_writes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let before = support::counts(&db).await;
    let result = add_client_in(&db, &acme, &globex.workspace_id, "sneaky", "Sneaky").await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(support::counts(&db).await, before);
}

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

async fn exists_sees_every_organizations_clients(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &globex, "globex-pump", "Pump").await;
    assert!(clients::exists(&db, &id("globex-pump")).await.unwrap());
    assert!(!clients::exists(&db, &id("nobody-has-it")).await.unwrap());
}

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

async fn list_and_count_see_only_their_workspace(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let staging = workspaces::create(
        &db,
        &acme.ctx,
        &WorkspaceName::parse("Staging").unwrap(),
        &Namespace::parse("acme-staging").unwrap(),
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

async fn update_key_replaces_the_hash_and_writes_one_outbox_row_and_one_audit_event(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let audit_before = audit_count(&db, &acme).await;

    let record = clients::update_key(&db, &acme.ctx, &id("boiler-01"), "$argon2id$new-hash")
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
        clients::update_key(&db, &acme.ctx, &target, "$argon2id$stolen")
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

async fn a_revocation_whose_outbox_row_cannot_be_written_is_rolled_back(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    add_client(&db, &acme, "boiler-02", "Boiler").await;
    let before = stored_client(&db, "boiler-01").await;
    let before_2 = stored_client(&db, "boiler-02").await;
    let audit_before = audit_count(&db, &acme).await;

    // Without its table the outbox insert fails after the change and the audit event are
    // written: the whole transaction must go.
    sqlx::query("ALTER TABLE revocation_outbox RENAME TO revocation_outbox_away")
        .execute(db.pool())
        .await
        .unwrap();
    let target = id("boiler-01");
    assert!(
        clients::update_active(&db, &acme.ctx, &target, false)
            .await
            .is_err()
    );
    assert!(
        clients::update_key(&db, &acme.ctx, &target, "$argon2id$new")
            .await
            .is_err()
    );
    assert!(clients::delete(&db, &acme.ctx, &target).await.is_err());
    // A change that queues no revocation is unaffected.
    clients::update_active(&db, &acme.ctx, &id("boiler-02"), true)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE revocation_outbox_away RENAME TO revocation_outbox")
        .execute(db.pool())
        .await
        .unwrap();

    assert_eq!(stored_client(&db, "boiler-01").await, before);
    assert_eq!(audit_count(&db, &acme).await, audit_before + 1);
    assert_ne!(stored_client(&db, "boiler-02").await, before_2);
}

async fn namespace_is_globally_unique(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let namespace = Namespace::parse("factory-floor").unwrap();
    let name = WorkspaceName::parse("Factory").unwrap();
    workspaces::create(&db, &acme.ctx, &name, &namespace)
        .await
        .unwrap();
    assert!(
        app::store::mqtt_usernames::exists(&db, namespace.as_str())
            .await
            .unwrap()
    );
    let before = support::counts(&db).await;
    for who in [&globex, &acme] {
        let result = workspaces::create(&db, &who.ctx, &name, &namespace).await;
        assert!(
            matches!(result, Err(StoreError::NamespaceTaken)),
            "{result:?}"
        );
    }
    assert_eq!(support::counts(&db).await, before);
}

async fn free_namespace_adds_a_numeric_suffix_while_taken(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let base = Namespace::parse("plant").unwrap();
    let name = WorkspaceName::parse("Plant").unwrap();
    assert_eq!(workspaces::free_namespace(&db, &base).await.unwrap(), base);
    for expected in ["plant", "plant-2", "plant-3"] {
        let free = workspaces::free_namespace(&db, &base).await.unwrap();
        assert_eq!(free.as_str(), expected);
        workspaces::create(&db, &acme.ctx, &name, &free)
            .await
            .unwrap();
    }
    assert_eq!(
        workspaces::free_namespace(&db, &base)
            .await
            .unwrap()
            .as_str(),
        "plant-4"
    );
}

async fn organizations_with_the_same_name_get_distinct_namespaces(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let mut namespaces = Vec::new();
    for _ in 0..3 {
        let org = org(&db, "Acme Corp (EU)").await;
        let list = workspaces::list(&db, &org.ctx.organization_id)
            .await
            .unwrap();
        assert_eq!(list.len(), 1, "one default workspace");
        assert_eq!(list[0].name, "Default");
        namespaces.push(list[0].namespace.as_str().to_owned());
    }
    assert_eq!(
        namespaces,
        ["acme-corp-eu", "acme-corp-eu-2", "acme-corp-eu-3"]
    );
    assert_eq!(count_rows(&db, "organizations").await, 3);
}

async fn concurrent_sign_ups_with_the_same_name_all_succeed(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    // Sign-up picks a free namespace before its transaction; two sign-ups of the same name at
    // the same moment pick the same one, and the loser must not fail (its form has no namespace
    // field to show an error at).
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let email =
                    Email::parse(&format!("owner-{i}-{}@example.test", unique_suffix())).unwrap();
                organizations::create_with_owner(
                    &db,
                    &OrgName::parse("Rush Hour").unwrap(),
                    &email,
                    "$argon2id$x",
                    "::1",
                )
                .await
            })
        })
        .collect();
    let mut namespaces = HashSet::new();
    for attempt in attempts {
        let account = attempt.await.unwrap().expect("every sign-up succeeds");
        let list = workspaces::list(&db, &account.organization_id)
            .await
            .unwrap();
        namespaces.insert(list[0].namespace.as_str().to_owned());
    }
    assert_eq!(namespaces.len(), 6, "{namespaces:?}");
    assert!(namespaces.contains("rush-hour"));
}

async fn concurrent_workspaces_with_a_derived_namespace_all_succeed(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = Arc::new(org(&db, "Acme").await);
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let (db, acme) = (db.clone(), acme.clone());
            tokio::spawn(async move {
                workspaces::create_with_free_namespace(
                    &db,
                    &acme.ctx,
                    &WorkspaceName::parse("Staging").unwrap(),
                    &Namespace::parse("acme-staging").unwrap(),
                )
                .await
            })
        })
        .collect();
    let mut namespaces = HashSet::new();
    for attempt in attempts {
        let workspace = attempt.await.unwrap().expect("every workspace is created");
        namespaces.insert(workspace.namespace.as_str().to_owned());
    }
    assert_eq!(namespaces.len(), 6, "{namespaces:?}");
    assert_eq!(
        workspaces::list(&db, &acme.ctx.organization_id)
            .await
            .unwrap()
            .len(),
        7
    );
}

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
                    2 => clients::update_key(&db, &acme.ctx, &target, "$argon2id$new")
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

async fn workspaces_list_counts_clients_and_get_is_scoped(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let staging = workspaces::create(
        &db,
        &acme.ctx,
        &WorkspaceName::parse("Staging").unwrap(),
        &Namespace::parse("acme-staging").unwrap(),
    )
    .await
    .unwrap();
    add_client(&db, &acme, "dev-1", "Device").await;
    add_client(&db, &acme, "dev-2", "Device").await;

    let list = workspaces::list(&db, &acme.ctx.organization_id)
        .await
        .unwrap();
    let summary: Vec<_> = list
        .iter()
        .map(|w| (w.name.as_str(), w.client_count))
        .collect();
    assert_eq!(summary, [("Default", 2), ("Staging", 0)]);

    let got = workspaces::get(&db, &acme.ctx.organization_id, &staging.id)
        .await
        .unwrap();
    assert_eq!(got, staging);
    assert!(matches!(
        workspaces::get(&db, &globex.ctx.organization_id, &staging.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn rename_of_another_organizations_workspace_is_not_found(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let new_name = WorkspaceName::parse("Renamed").unwrap();
    let before = support::counts(&db).await;
    assert!(matches!(
        workspaces::update_name(&db, &acme.ctx, &globex.workspace_id, &new_name).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(support::counts(&db).await, before);
    let globex_ws = workspaces::get(&db, &globex.ctx.organization_id, &globex.workspace_id)
        .await
        .unwrap();
    assert_eq!(globex_ws.name, "Default");

    workspaces::update_name(&db, &acme.ctx, &acme.workspace_id, &new_name)
        .await
        .unwrap();
    let acme_ws = workspaces::get(&db, &acme.ctx.organization_id, &acme.workspace_id)
        .await
        .unwrap();
    assert_eq!(acme_ws.name, "Renamed");
}

async fn email_is_unique_and_case_insensitive(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let name = OrgName::parse("Acme").unwrap();
    let email = Email::parse("Ann@Example.test").unwrap();
    let account = organizations::create_with_owner(&db, &name, &email, "$argon2id$x", "::1")
        .await
        .unwrap();
    let user = users::find_by_email(&db, &Email::parse("ann@EXAMPLE.test").unwrap())
        .await
        .unwrap()
        .expect("found whatever the case");
    assert_eq!(user.id, account.user_id);
    assert_eq!(user.organization_id, account.organization_id);
    assert!(users::exists_by_email(&db, &email).await.unwrap());

    let before = support::counts(&db).await;
    let again = organizations::create_with_owner(
        &db,
        &OrgName::parse("Other").unwrap(),
        &Email::parse("ANN@example.TEST").unwrap(),
        "$argon2id$y",
        "::1",
    )
    .await;
    assert!(matches!(again, Err(StoreError::EmailTaken)), "{again:?}");
    assert_eq!(
        support::counts(&db).await,
        before,
        "a refused sign-up leaves no organization behind"
    );
}

async fn audit_list_is_newest_first_and_scoped(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "first", "First").await;
    add_client(&db, &acme, "second", "Second").await;
    add_client(&db, &globex, "theirs", "Theirs").await;
    let entries = audit::list(&db, &acme.ctx.organization_id, 10)
        .await
        .unwrap();
    let targets: Vec<_> = entries.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["second", "first", "Acme"]);
    assert_eq!(entries[0].actor, acme.ctx.actor);
    assert_eq!(entries[0].address, "192.0.2.1");
    assert_eq!(
        audit::list(&db, &acme.ctx.organization_id, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(audit_count(&db, &acme).await, 3);
}

fn record(expires_in: Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("user_id".to_owned(), serde_json::json!("user-1"));
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

async fn session_save_load_and_delete_round_trip(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let store = DbSessionStore::new(db.clone());
    let mut saved = record(Duration::hours(1));
    store.create(&mut saved).await.unwrap();
    let loaded = store.load(&saved.id).await.unwrap().expect("a session");
    assert_eq!(loaded.id, saved.id);
    assert_eq!(loaded.data, saved.data);
    assert_eq!(
        loaded.expiry_date.unix_timestamp(),
        saved.expiry_date.unix_timestamp()
    );
    assert!(store.load(&Id::default()).await.unwrap().is_none());

    store.delete(&saved.id).await.unwrap();
    assert!(store.load(&saved.id).await.unwrap().is_none());
    assert_eq!(count_rows(&db, "sessions").await, 0);
    // Deleting what is gone is fine.
    store.delete(&saved.id).await.unwrap();
}

async fn expired_sessions_do_not_load_and_are_swept(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let store = DbSessionStore::new(db.clone());
    let mut live = record(Duration::hours(1));
    let mut expired = record(Duration::seconds(-5));
    store.create(&mut live).await.unwrap();
    store.create(&mut expired).await.unwrap();
    assert_eq!(count_rows(&db, "sessions").await, 2);
    assert!(store.load(&expired.id).await.unwrap().is_none());
    assert!(store.load(&live.id).await.unwrap().is_some());

    store.delete_expired().await.unwrap();
    assert_eq!(count_rows(&db, "sessions").await, 1);
    assert!(store.load(&live.id).await.unwrap().is_some());
}

async fn session_save_replaces_the_stored_record(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let store = DbSessionStore::new(db.clone());
    let mut session = record(Duration::hours(1));
    store.create(&mut session).await.unwrap();
    session
        .data
        .insert("workspace_id".into(), serde_json::json!("ws-2"));
    session.expiry_date += Duration::days(1);
    store.save(&session).await.unwrap();
    let loaded = store.load(&session.id).await.unwrap().unwrap();
    assert_eq!(loaded.data, session.data);
    assert_eq!(
        loaded.expiry_date.unix_timestamp(),
        session.expiry_date.unix_timestamp()
    );
    assert_eq!(count_rows(&db, "sessions").await, 1);
}

use app::store::broker_targets::{self, TargetSpec};
use app::store::deliveries;

/// The client row of `client` in `org`.
fn client_ref(org: &Org, client: &str) -> app::model::ClientRef {
    app::model::ClientRef {
        organization_id: org.ctx.organization_id.clone(),
        client_id: id(client),
    }
}

/// Claims `identifier` on `broker` for `owner` as a webhook does; what the store decided.
async fn claim(
    db: &Db,
    broker: &str,
    owner: &app::model::ClientRef,
    identifier: &str,
) -> sessions_store::Claimed {
    sessions_store::claim(
        db,
        &sessions_store::Claim {
            broker,
            mqtt_client_id: identifier,
            owner,
            source: "192.0.2.9",
        },
        100,
    )
    .await
    .unwrap()
}

fn spec(name: &str) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: app::model::BrokerKind::Rmqtt,
        endpoint: format!("http://{name}.internal:6060"),
    }
}

async fn pending_ids(db: &Db, target: &str) -> Vec<i64> {
    deliveries::list_pending(db, target, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.revocation.id)
        .collect()
}

async fn a_revocation_gets_one_delivery_per_target_and_is_done_when_all_confirm(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    for name in ["a", "b"] {
        assert_eq!(broker_targets::register(&db, &spec(name)).await.unwrap(), 0);
    }
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    clients::update_active(&db, &acme.ctx, &id("boiler-01"), false)
        .await
        .unwrap();
    let row = outbox_rows(&db, "boiler-01").await.remove(0);
    assert_eq!(pending_ids(&db, "a").await, vec![row.id]);
    assert_eq!(pending_ids(&db, "b").await, vec![row.id]);

    deliveries::mark_delivered(&db, "a", row.id).await.unwrap();
    assert_eq!(pending_ids(&db, "a").await, Vec::<i64>::new());
    assert_eq!(
        outbox_done(&db, "boiler-01").await,
        vec![false],
        "b has not confirmed"
    );
    // Confirming twice changes nothing.
    deliveries::mark_delivered(&db, "a", row.id).await.unwrap();
    deliveries::mark_delivered(&db, "b", row.id).await.unwrap();
    assert_eq!(outbox_done(&db, "boiler-01").await, vec![true]);
    let targets = broker_targets::list(&db).await.unwrap();
    assert!(
        targets
            .iter()
            .all(|t| t.queue_depth == 0 && t.last_success_at.is_some())
    );
}

async fn a_target_registered_later_gets_the_pending_revocations_only(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "one", "One").await;
    add_client(&db, &acme, "two", "Two").await;
    clients::update_active(&db, &acme.ctx, &id("one"), false)
        .await
        .unwrap();
    clients::update_active(&db, &acme.ctx, &id("two"), false)
        .await
        .unwrap();
    let one = outbox_rows(&db, "one").await.remove(0);
    let two = outbox_rows(&db, "two").await.remove(0);
    deliveries::mark_delivered(&db, "a", one.id).await.unwrap();

    // "one" is done everywhere it had to go; "two" still waits, so the newcomer gets it.
    assert_eq!(
        broker_targets::register(&db, &spec("late")).await.unwrap(),
        1
    );
    assert_eq!(pending_ids(&db, "late").await, vec![two.id]);
    // Registering again (a restart) adds nothing and keeps the queue.
    assert_eq!(
        broker_targets::register(&db, &spec("late")).await.unwrap(),
        0
    );
    assert_eq!(pending_ids(&db, "late").await, vec![two.id]);

    // With no target at all, a revocation waits for the first one.
    let (_database, empty) = fresh_db(engine).await;
    let acme = org(&empty, "Acme").await;
    add_client(&empty, &acme, "three", "Three").await;
    clients::delete(&empty, &acme.ctx, &id("three"))
        .await
        .unwrap();
    assert_eq!(outbox_done(&empty, "three").await, vec![false]);
    assert_eq!(
        broker_targets::register(&empty, &spec("first"))
            .await
            .unwrap(),
        1
    );
}

async fn only_one_holder_has_a_targets_lease_until_it_expires_or_is_released(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let later = app::store::now_millis() + 60_000;
    assert!(
        broker_targets::lease(&db, "a", "node-1", later)
            .await
            .unwrap()
    );
    assert!(
        !broker_targets::lease(&db, "a", "node-2", later)
            .await
            .unwrap()
    );
    assert!(
        broker_targets::lease(&db, "a", "node-1", later + 1)
            .await
            .unwrap(),
        "renewed"
    );
    assert!(
        !broker_targets::lease(&db, "missing", "node-1", later)
            .await
            .unwrap()
    );
    // Another node's release does nothing; the holder's frees it at once.
    broker_targets::release(&db, "a", "node-2").await.unwrap();
    assert!(
        !broker_targets::lease(&db, "a", "node-2", later)
            .await
            .unwrap()
    );
    broker_targets::release(&db, "a", "node-1").await.unwrap();
    assert!(
        broker_targets::lease(&db, "a", "node-2", later)
            .await
            .unwrap()
    );
    // A lease that ran out (its holder died) can be taken.
    assert!(broker_targets::lease(&db, "a", "node-2", 1).await.unwrap());
    assert!(
        broker_targets::lease(&db, "a", "node-3", later)
            .await
            .unwrap()
    );
    let t = broker_targets::list(&db).await.unwrap().remove(0);
    assert_eq!(t.served_by.as_deref(), Some("node-3"));
}

async fn failed_attempts_are_recorded_per_delivery_and_target(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    clients::delete(&db, &acme.ctx, &id("boiler-01"))
        .await
        .unwrap();
    let row = outbox_rows(&db, "boiler-01").await.remove(0);
    let retry_at = app::store::now_millis() + 5_000;
    deliveries::mark_failed(&db, "a", row.id, "rmqtt answered 503", retry_at)
        .await
        .unwrap();
    deliveries::mark_failed(&db, "a", row.id, "cannot connect: refused", retry_at)
        .await
        .unwrap();
    let pending = deliveries::list_pending(&db, "a", 10).await.unwrap();
    assert_eq!(pending[0].attempts, 2);
    assert_eq!(pending[0].revocation.reason.as_str(), "deleted");
    let t = broker_targets::list(&db).await.unwrap().remove(0);
    assert_eq!((t.failures, t.queue_depth), (2, 1));
    assert_eq!(t.last_error.as_deref(), Some("cannot connect: refused"));
    assert_eq!(t.next_attempt_at, Some(retry_at));
    assert!(t.oldest_pending_at.is_some() && t.last_success_at.is_none());

    deliveries::mark_delivered(&db, "a", row.id).await.unwrap();
    let t = broker_targets::list(&db).await.unwrap().remove(0);
    assert_eq!((t.failures, t.queue_depth, t.next_attempt_at), (0, 0, None));
    assert_eq!(
        t.last_error.as_deref(),
        Some("cannot connect: refused"),
        "kept for the record"
    );
}

async fn progress_is_scoped_to_the_organization(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "acme-1", "A").await;
    add_client(&db, &acme, "acme-2", "B").await;
    add_client(&db, &globex, "globex-1", "G").await;
    clients::update_active(&db, &acme.ctx, &id("acme-1"), false)
        .await
        .unwrap();
    clients::update_active(&db, &globex.ctx, &id("globex-1"), false)
        .await
        .unwrap();

    let found = deliveries::progress(
        &db,
        &acme.ctx.organization_id,
        &["acme-1", "acme-2", "globex-1"],
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        vec!["acme-1"],
        "no revocation for acme-2, none of Globex's"
    );
    let p = &found["acme-1"];
    assert_eq!(
        (p.confirmed, p.brokers, p.done, p.reason.as_str()),
        (0, 1, false, "deactivated")
    );
    // A done revocation older than `since` is no longer shown.
    let row = outbox_rows(&db, "acme-1").await.remove(0);
    deliveries::mark_delivered(&db, "a", row.id).await.unwrap();
    let later = app::store::now_millis() + 1_000;
    assert!(
        deliveries::progress(&db, &acme.ctx.organization_id, &["acme-1"], later)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        deliveries::progress(&db, &acme.ctx.organization_id, &[], 0)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_forgotten_target_stops_holding_up_revocations(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    for name in ["live", "gone", "other-gone"] {
        broker_targets::register(&db, &spec(name)).await.unwrap();
    }
    let acme = org(&db, "Acme").await;
    for client in ["one", "two", "three"] {
        add_client(&db, &acme, client, client).await;
    }
    let three_ref = client_ref(&acme, "three");
    for broker in ["gone", "other-gone"] {
        claim(&db, broker, &three_ref, "sensor-3").await;
    }
    clients::update_active(&db, &acme.ctx, &id("one"), false)
        .await
        .unwrap();
    clients::update_active(&db, &acme.ctx, &id("two"), false)
        .await
        .unwrap();
    clients::delete(&db, &acme.ctx, &id("three")).await.unwrap();
    let [one, two, three] = [
        outbox_rows(&db, "one").await.remove(0),
        outbox_rows(&db, "two").await.remove(0),
        outbox_rows(&db, "three").await.remove(0),
    ];
    // "live" confirms one and three; "other-gone" confirmed one only.
    for row in [&one, &three] {
        deliveries::mark_delivered(&db, "live", row.id)
            .await
            .unwrap();
    }
    deliveries::mark_delivered(&db, "other-gone", one.id)
        .await
        .unwrap();

    let forgotten = broker_targets::forget(&db, "gone").await.unwrap();
    assert_eq!(
        forgotten,
        broker_targets::Forgotten {
            dropped: 3,
            completed: 1
        },
        "three rows waited for it; only one waited for it alone"
    );
    assert_eq!(outbox_done(&db, "one").await, vec![true]);
    assert_eq!(
        outbox_done(&db, "two").await,
        vec![false],
        "still waits for live"
    );
    assert_eq!(
        outbox_done(&db, "three").await,
        vec![false],
        "still waits for other-gone"
    );
    let names: Vec<String> = broker_targets::list(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["live", "other-gone"]);
    assert_eq!(pending_ids(&db, "gone").await, Vec::<i64>::new());
    assert_eq!(pending_ids(&db, "live").await, vec![two.id]);
    assert!(
        sessions_store::list_identifiers(&db, "gone", &three_ref)
            .await
            .unwrap()
            .is_empty(),
        "what was known on the forgotten broker goes with it"
    );
    assert_eq!(
        sessions_store::list_identifiers(&db, "other-gone", &three_ref)
            .await
            .unwrap(),
        ["sensor-3"],
        "the deleted client's deletion still waits for other-gone"
    );

    // The last target holding the deletion goes: what was known on it goes with it.
    let forgotten = broker_targets::forget(&db, "other-gone").await.unwrap();
    assert_eq!(
        forgotten,
        broker_targets::Forgotten {
            dropped: 2,
            completed: 1
        }
    );
    assert_eq!(outbox_done(&db, "three").await, vec![true]);
    assert!(
        sessions_store::list_identifiers(&db, "other-gone", &three_ref)
            .await
            .unwrap()
            .is_empty()
    );
    // Forgetting a target does not confirm what the remaining ones still owe.
    assert_eq!(outbox_done(&db, "two").await, vec![false]);
    assert_eq!(pending_ids(&db, "live").await, vec![two.id]);
    // Nothing waits for a forgotten target that registers again (a node brought back).
    assert_eq!(
        broker_targets::register(&db, &spec("gone")).await.unwrap(),
        1
    );
    assert_eq!(pending_ids(&db, "gone").await, vec![two.id]);
}

async fn a_served_or_unknown_target_cannot_be_forgotten_and_nothing_changes(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    for name in ["a", "b"] {
        broker_targets::register(&db, &spec(name)).await.unwrap();
    }
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "one", "One").await;
    clients::update_active(&db, &acme.ctx, &id("one"), false)
        .await
        .unwrap();
    let row = outbox_rows(&db, "one").await.remove(0);
    deliveries::mark_delivered(&db, "a", row.id).await.unwrap();
    let far = app::store::now_millis() + 60_000;
    assert!(
        broker_targets::lease(&db, "b", "node-b", far)
            .await
            .unwrap()
    );

    match broker_targets::forget(&db, "b").await {
        Err(StoreError::TargetServed { holder }) => assert_eq!(holder, "node-b"),
        other => panic!("a served target was forgotten: {other:?}"),
    }
    assert!(matches!(
        broker_targets::forget(&db, "nope").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(broker_targets::list(&db).await.unwrap().len(), 2);
    assert_eq!(pending_ids(&db, "b").await, vec![row.id]);
    assert_eq!(outbox_done(&db, "one").await, vec![false]);

    // Once its process lets go, it can be.
    broker_targets::release(&db, "b", "node-b").await.unwrap();
    broker_targets::forget(&db, "b").await.unwrap();
    assert_eq!(outbox_done(&db, "one").await, vec![true]);
}
