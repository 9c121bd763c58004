//! The revocation outbox on both engines: a revocation commits with its outbox row or not at all.

use super::fixtures::{add_client, audit_count, fresh_db, id, org};
use crate::support::{Engine, engines, stored_client};
use app::store::clients;

#[engines]
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
        clients::update_key(&db, &acme.ctx, &target, "$argon2id$new", None)
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
