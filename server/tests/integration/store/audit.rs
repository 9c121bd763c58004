//! The activity log on both engines: newest first, and only the caller's organization's.

use super::fixtures::{add_client, audit_count, fresh_db, org};
use crate::support::{Engine, engines};
use app::store::audit;

#[engines]
async fn audit_list_is_newest_first_and_scoped(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "first", "First").await;
    add_client(&db, &acme, "second", "Second").await;
    add_client(&db, &globex, "theirs", "Theirs").await;
    let entries = audit::list(
        &db,
        &acme.ctx.organization_id,
        &Default::default(),
        None,
        10,
    )
    .await
    .unwrap();
    let targets: Vec<_> = entries.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["second", "first", "Acme"]);
    assert_eq!(entries[0].actor, acme.ctx.actor);
    assert_eq!(entries[0].address, "192.0.2.1");
    assert_eq!(
        audit::list(&db, &acme.ctx.organization_id, &Default::default(), None, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(audit_count(&db, &acme).await, 3);
}
