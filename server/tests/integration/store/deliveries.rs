//! Revocation deliveries on both engines: one per broker target, the target's lease, failed
//! attempts, progress per organization, and forgetting a target that is gone.

use super::fixtures::{add_client, claim, client_ref, fresh_db, id, org, outbox_rows, spec};
use crate::support::{Engine, engines, outbox_done};
use app::store::broker_targets;
use app::store::clients;
use app::store::deliveries;
use app::store::device_sessions as sessions_store;
use app::store::{Db, StoreError};

async fn pending_ids(db: &Db, target: &str) -> Vec<i64> {
    deliveries::list_pending(db, target, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.revocation.id)
        .collect()
}

#[engines]
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

#[engines]
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

#[engines]
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

#[engines]
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

#[engines]
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

#[engines]
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
        sessions_store::list_identifiers(&db, "gone", &three_ref, None)
            .await
            .unwrap()
            .is_empty(),
        "what was known on the forgotten broker goes with it"
    );
    assert_eq!(
        sessions_store::list_identifiers(&db, "other-gone", &three_ref, None)
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
        sessions_store::list_identifiers(&db, "other-gone", &three_ref, None)
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

#[engines]
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
