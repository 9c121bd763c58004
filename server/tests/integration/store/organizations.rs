//! Organizations on both engines: sign-up creates one with its owner and a default workspace,
//! whose namespace stays unique however many organizations share a name or sign up at once.

use super::fixtures::{fresh_db, org};
use crate::support::{Engine, count_rows, engines, unique_suffix};
use app::model::{Email, OrgName};
use app::store::{organizations, workspaces};
use std::collections::HashSet;

#[engines]
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

#[engines]
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
                    true,
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
