//! Web sessions (tower-sessions' store) on both engines: save, load, replace, delete, and the
//! sweep of expired ones.

use super::fixtures::fresh_db;
use crate::support::{Engine, count_rows, engines};
use app::store::sessions::DbSessionStore;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

fn record(expires_in: Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("user_id".to_owned(), serde_json::json!("user-1"));
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

#[engines]
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

#[engines]
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

#[engines]
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

/// A request that was in flight when its session signed out saves the session at its end: the
/// sign-out must stand.
#[engines]
async fn a_save_after_the_session_was_deleted_does_not_bring_it_back(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let store = DbSessionStore::new(db.clone());
    let mut session = record(Duration::hours(1));
    store.create(&mut session).await.unwrap();
    let in_flight = store.load(&session.id).await.unwrap().unwrap();

    store.delete(&session.id).await.unwrap();
    store.save(&in_flight).await.unwrap();

    assert!(store.load(&session.id).await.unwrap().is_none());
    assert_eq!(count_rows(&db, "sessions").await, 0);
}

#[engines]
async fn a_users_sessions_are_listed_and_ended_together_but_for_the_one_kept(engine: Engine) {
    use app::store::sessions::{delete_for_user, list_for_user};
    let (_database, db) = fresh_db(engine).await;
    let store = DbSessionStore::new(db.clone());
    let mut mine = Vec::new();
    for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        let mut session = record(Duration::hours(1));
        session
            .data
            .insert("address".into(), serde_json::json!(address));
        store.create(&mut session).await.unwrap();
        mine.push(session);
    }
    let mut someone_else = record(Duration::hours(1));
    someone_else
        .data
        .insert("user_id".into(), serde_json::json!("user-2"));
    store.create(&mut someone_else).await.unwrap();

    let listed = list_for_user(&db, "user-1").await.unwrap();
    let mut addresses: Vec<_> = listed.iter().map(|s| s.address.as_str()).collect();
    addresses.sort();
    assert_eq!(addresses, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);

    let kept = mine[0].id.to_string();
    assert_eq!(
        delete_for_user(&db, "user-1", Some(&kept)).await.unwrap(),
        2
    );
    assert!(store.load(&mine[0].id).await.unwrap().is_some());
    assert!(store.load(&mine[1].id).await.unwrap().is_none());
    assert!(store.load(&mine[2].id).await.unwrap().is_none());
    assert!(store.load(&someone_else.id).await.unwrap().is_some());
}
