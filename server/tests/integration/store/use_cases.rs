//! The clients use cases (`app::use_cases::clients`) on both engines: each does the whole change
//! once (hashing, the store's transaction, waking the revocation workers, forgetting the verified
//! key, reading the row back with its revocation), and a change refused for any reason changes
//! nothing, not even the process's memory of verified keys.

use super::fixtures::{Org, fresh_db, id, org, spec};
use crate::support::{Engine, counts, engines, key_verifies, stored_client};
use app::argon2_pool::Argon2Pool;
use app::model::{
    ClientId, ClientKey, ClientName, ClientQuery, Description, RevocationReason, SortKey,
};
use app::state::{AppState, RevocationSignal, Settings};
use app::store::workspaces::{self, Workspace};
use app::store::{Db, StoreError, broker_targets};
use app::throttle::Throttle;
use app::use_cases::clients::{self, ClientError, NewClient};
use app::verified_keys::VerifiedKeys;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The process state a use case runs in, on `db`.
pub(super) fn state(db: &Db) -> AppState {
    AppState {
        db: db.clone(),
        settings: Arc::new(Settings {
            broker_host: None,
            broker_port: 1883,
            open_signup: true,
            session_idle_ms: 60_000,
            max_workspaces_per_organization: 50,
            max_clients_per_workspace: 1000,
            webhooks: false,
            http_publish: false,
        }),
        sign_in_throttle: Arc::new(Throttle::new(
            5,
            Duration::from_secs(2),
            Duration::from_secs(900),
        )),
        passwords: Arc::new(Argon2Pool::unobserved("test-password", 1, 32)),
        verified_keys: Arc::new(VerifiedKeys::new()),
        revocations: Arc::new(RevocationSignal::new()),
        events: Arc::new(app::state::Bell::new()),
        back_off: Arc::new(app::back_off::Idle),
        leptos_options: leptos::config::LeptosOptions::builder()
            .output_name("keygate")
            .build(),
    }
}

pub(super) async fn workspace(db: &Db, org: &Org) -> Workspace {
    workspaces::get(db, &org.ctx.organization_id, &org.workspace_id)
        .await
        .unwrap()
}

fn new_client(client_id: &str, key: &ClientKey) -> NewClient {
    NewClient {
        client_id: id(client_id),
        key: key.clone(),
        name: ClientName::parse("Boiler").unwrap(),
        description: Description::parse("In the basement").unwrap(),
        scope: None,
        expiry: None,
    }
}

/// Creates `client_id` in `org`'s default workspace through the use case; its key.
async fn create(state: &AppState, org: &Org, client_id: &str) -> ClientKey {
    let key = ClientKey::generate();
    let workspace = workspace(&state.db, org).await;
    clients::create(state, &org.owner, &workspace, new_client(client_id, &key))
        .await
        .unwrap_or_else(|e| panic!("creating {client_id} failed: {e}"));
    key
}

/// A verified key the broker would have remembered for `client_id`.
fn remember(state: &AppState, client_id: &str) {
    state
        .verified_keys
        .remember(client_id, "$argon2id$stored", b"kgk_presented");
}

fn remembered(state: &AppState, client_id: &str) -> bool {
    state
        .verified_keys
        .contains(client_id, "$argon2id$stored", b"kgk_presented")
}

/// Whether the revocation workers were woken since the last look.
fn rung(workers: &mut watch::Receiver<u64>) -> bool {
    let rung = workers.has_changed().unwrap();
    workers.borrow_and_update();
    rung
}

/// What a committed change of boiler-01 leaves behind: the workers woken (for a revocation) or
/// not, its verified key forgotten, and `revocations` outbox rows in all.
async fn expect_aftermath(
    state: &AppState,
    workers: &mut watch::Receiver<u64>,
    revoked: bool,
    revocations: i64,
) {
    assert_eq!(
        rung(workers),
        revoked,
        "the workers are woken for a revocation"
    );
    assert!(!remembered(state, "boiler-01"), "a change forgets the key");
    let outbox_rows = stored_client(&state.db, "boiler-01")
        .await
        .map_or(0, |c| c.outbox_rows);
    assert_eq!(outbox_rows, revocations);
}

#[track_caller]
fn expect_not_found(result: Result<impl std::fmt::Debug, ClientError>) {
    assert!(
        matches!(result, Err(ClientError::Store(StoreError::NotFound))),
        "expected NotFound, got {result:?}"
    );
}

#[track_caller]
fn expect_taken(result: Result<impl std::fmt::Debug, ClientError>) {
    assert!(
        matches!(result, Err(ClientError::Store(StoreError::ClientIdTaken))),
        "expected ClientIdTaken, got {result:?}"
    );
}

#[engines]
async fn create_stores_a_hash_the_key_verifies_and_reveals_the_key_with_its_namespace(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let workspace = workspace(&db, &acme).await;
    let key = ClientKey::generate();
    let issued = clients::create(
        &state,
        &acme.owner,
        &workspace,
        new_client("boiler-01", &key),
    )
    .await
    .unwrap();
    assert_eq!(
        issued.key.expose(),
        key.expose(),
        "the reveal carries the key"
    );
    assert_eq!(issued.namespace, workspace.namespace);
    assert_eq!(issued.row.client_id, id("boiler-01"));
    assert!(issued.row.active);
    assert_eq!(issued.row.revocation, None);
    let stored = stored_client(&db, "boiler-01").await.unwrap();
    assert!(
        stored.keys.starts_with(app::secrets::FAST_PREFIX),
        "only a hash is stored, a generated key's fast one"
    );
    assert!(key_verifies(&db, "boiler-01", key.expose()).await);
    assert_eq!((stored.audit_events, stored.outbox_rows), (1, 0));
}

#[engines]
async fn create_with_a_client_id_in_use_is_taken_and_changes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    create(&state, &globex, "boiler-01").await;
    let globex_namespace = workspace(&db, &globex).await.namespace;
    let acme_workspace = workspace(&db, &acme).await;
    let before = counts(&db).await;
    for taken in ["boiler-01", globex_namespace.as_str()] {
        let result = clients::create(
            &state,
            &acme.owner,
            &acme_workspace,
            new_client(taken, &ClientKey::generate()),
        )
        .await;
        expect_taken(result);
    }
    assert_eq!(counts(&db).await, before);
}

#[engines]
async fn create_in_another_organizations_workspace_is_not_found_and_changes_nothing(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let globex_workspace = workspace(&db, &globex).await;
    let before = counts(&db).await;
    let result = clients::create(
        &state,
        &acme.owner,
        &globex_workspace,
        new_client("boiler-01", &ClientKey::generate()),
    )
    .await;
    expect_not_found(result);
    assert_eq!(counts(&db).await, before);
    assert_eq!(stored_client(&db, "boiler-01").await, None);
}

#[engines]
async fn update_renames_forgets_the_verified_key_and_revokes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    create(&state, &acme, "boiler-01").await;
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    let row = clients::update(
        &state,
        &acme.owner,
        &id("boiler-01"),
        &ClientName::parse("Boiler (new)").unwrap(),
        &Description::parse("Replaced in May").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        (row.name.as_str(), row.description.as_str()),
        ("Boiler (new)", "Replaced in May")
    );
    expect_aftermath(&state, &mut workers, false, 0).await;
}

#[engines]
async fn deactivate_revokes_wakes_the_workers_and_reads_back_the_progress(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let acme = org(&db, "Acme").await;
    create(&state, &acme, "boiler-01").await;
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    let row = clients::set_active(&state, &acme.owner, &id("boiler-01"), false)
        .await
        .unwrap();
    assert!(!row.active);
    let progress = row.revocation.expect("the row carries its revocation");
    assert_eq!(progress.reason, RevocationReason::Deactivated);
    assert_eq!((progress.confirmed, progress.brokers), (0, 1));
    assert!(!progress.done);
    expect_aftermath(&state, &mut workers, true, 1).await;
}

#[engines]
async fn activate_forgets_the_verified_key_and_revokes_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    create(&state, &acme, "boiler-01").await;
    clients::set_active(&state, &acme.owner, &id("boiler-01"), false)
        .await
        .unwrap();
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    let row = clients::set_active(&state, &acme.owner, &id("boiler-01"), true)
        .await
        .unwrap();
    assert!(row.active);
    assert_eq!(
        row.revocation.map(|p| p.reason),
        Some(RevocationReason::Deactivated),
        "the deactivation's revocation is still shown"
    );
    expect_aftermath(&state, &mut workers, false, 1).await;
}

#[engines]
async fn regenerate_replaces_the_key_revokes_the_old_one_and_reveals_the_new_one(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let old = create(&state, &acme, "boiler-01").await;
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    let new = ClientKey::generate();
    let issued = clients::regenerate(&state, &acme.owner, &id("boiler-01"), new.clone(), None)
        .await
        .unwrap();
    assert_eq!(issued.key.expose(), new.expose());
    assert_eq!(issued.namespace, workspace(&db, &acme).await.namespace);
    assert_eq!(
        issued.row.revocation.map(|p| p.reason),
        Some(RevocationReason::KeyRegenerated)
    );
    assert!(key_verifies(&db, "boiler-01", new.expose()).await);
    assert!(!key_verifies(&db, "boiler-01", old.expose()).await);
    expect_aftermath(&state, &mut workers, true, 1).await;
}

#[engines]
async fn delete_removes_the_client_revokes_it_and_forgets_the_verified_key(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    create(&state, &acme, "boiler-01").await;
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    clients::delete(&state, &acme.owner, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!(stored_client(&db, "boiler-01").await, None);
    assert!(rung(&mut workers));
    assert!(!remembered(&state, "boiler-01"));
    assert_eq!(
        crate::support::outbox_done(&db, "boiler-01").await,
        [false],
        "its revocation waits for the brokers"
    );
}

#[engines]
async fn changes_to_another_organizations_client_are_not_found_and_change_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let key = create(&state, &acme, "boiler-01").await;
    remember(&state, "boiler-01");
    let mut workers = state.revocations.subscribe();
    let before = (counts(&db).await, stored_client(&db, "boiler-01").await);
    let target = id("boiler-01");
    let name = ClientName::parse("Mine now").unwrap();
    let description = Description::parse("").unwrap();
    expect_not_found(clients::update(&state, &globex.owner, &target, &name, &description).await);
    for active in [false, true] {
        expect_not_found(clients::set_active(&state, &globex.owner, &target, active).await);
    }
    expect_not_found(
        clients::regenerate(&state, &globex.owner, &target, ClientKey::generate(), None).await,
    );
    expect_not_found(clients::delete(&state, &globex.owner, &target).await);
    let missing = ClientId::parse("no-such-client").unwrap();
    expect_not_found(clients::delete(&state, &acme.owner, &missing).await);
    assert_eq!(
        (counts(&db).await, stored_client(&db, "boiler-01").await),
        before
    );
    assert!(key_verifies(&db, "boiler-01", key.expose()).await);
    assert!(
        remembered(&state, "boiler-01"),
        "nothing changed, nothing is forgotten"
    );
    assert!(!rung(&mut workers), "nothing was revoked");
}

#[engines]
async fn list_and_get_read_the_rows_with_their_latest_revocation(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    broker_targets::register(&db, &spec("a")).await.unwrap();
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    create(&state, &acme, "boiler-01").await;
    create(&state, &acme, "boiler-02").await;
    clients::set_active(&state, &acme.owner, &id("boiler-02"), false)
        .await
        .unwrap();
    let query = ClientQuery {
        search: "02".into(),
        sort: SortKey::ClientId,
        descending: false,
        page: 1,
        ..ClientQuery::default()
    };
    let listed = clients::list(&state, &workspace(&db, &acme).await, &query)
        .await
        .unwrap();
    assert_eq!((listed.total, listed.workspace_total), (1, 2));
    assert_eq!(
        listed.rows[0].revocation.as_ref().map(|p| p.reason),
        Some(RevocationReason::Deactivated)
    );
    let details = clients::get(&state, &acme.owner, &id("boiler-02"))
        .await
        .unwrap();
    assert_eq!(details.row, listed.rows[0]);
    assert_eq!(details.namespace, workspace(&db, &acme).await.namespace);
    assert!(details.sessions.is_empty());
    assert_eq!(
        clients::revocation(&state, &acme.ctx.organization_id, &id("boiler-02"))
            .await
            .unwrap(),
        details.row.revocation
    );
    assert_eq!(
        clients::revocation(&state, &acme.ctx.organization_id, &id("boiler-01"))
            .await
            .unwrap(),
        None
    );
    expect_not_found(clients::get(&state, &globex.owner, &id("boiler-02")).await);
}
