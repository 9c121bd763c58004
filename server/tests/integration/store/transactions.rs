//! Write transactions under a burst of parallel writers. A SQLite transaction that reads before it
//! writes cannot wait for another writer: when another commits after its read, its write fails at
//! once ("database is locked"), whatever busy_timeout says. Every write transaction of the store
//! therefore takes the write lock when it begins (`Db::begin`), so a burst waits its turn instead
//! of failing. The verbs here read before they write.

use super::fixtures::{fresh_db, org};
use crate::support::{Engine, engines, join_all};
use app::model::{Email, Role};
use app::store::invitations;

#[engines]
async fn a_burst_of_read_then_write_transactions_all_commit(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let results = join_all((0..24).map(|i| {
        let (db, ctx) = (db.clone(), acme.ctx.clone());
        async move {
            let email = Email::parse(&format!("person-{i}@example.test")).unwrap();
            invitations::create(
                &db,
                &ctx,
                &email,
                Role::Viewer,
                &format!("hash-{i}"),
                i64::MAX / 2,
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
        }
    }))
    .await;
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of 24 failed: {failed:?}",
        failed.len()
    );
}
