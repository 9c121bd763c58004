//! Workspaces on both engines: globally unique namespaces, a free one derived when asked, list
//! with client counts, get and rename within the caller's organization.

use super::fixtures::{add_client, fresh_db, org};
use crate::support::{self, Engine, engines};
use app::model::{Namespace, WorkspaceName};
use app::store::{StoreError, workspaces};
use std::collections::HashSet;
use std::sync::Arc;

#[engines]
async fn namespace_is_globally_unique(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let namespace = Namespace::parse("factory-floor").unwrap();
    let name = WorkspaceName::parse("Factory").unwrap();
    workspaces::create(&db, &acme.ctx, &name, &namespace, u32::MAX)
        .await
        .unwrap();
    assert!(
        app::store::mqtt_usernames::exists(&db, namespace.as_str())
            .await
            .unwrap()
    );
    let before = support::counts(&db).await;
    for who in [&globex, &acme] {
        let result = workspaces::create(&db, &who.ctx, &name, &namespace, u32::MAX).await;
        assert!(
            matches!(result, Err(StoreError::NamespaceTaken)),
            "{result:?}"
        );
    }
    assert_eq!(support::counts(&db).await, before);
}

#[engines]
async fn free_namespace_adds_a_numeric_suffix_while_taken(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let base = Namespace::parse("plant").unwrap();
    let name = WorkspaceName::parse("Plant").unwrap();
    assert_eq!(workspaces::free_namespace(&db, &base).await.unwrap(), base);
    for expected in ["plant", "plant-2", "plant-3"] {
        let free = workspaces::free_namespace(&db, &base).await.unwrap();
        assert_eq!(free.as_str(), expected);
        workspaces::create(&db, &acme.ctx, &name, &free, u32::MAX)
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

#[engines]
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
                    u32::MAX,
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

#[engines]
async fn workspaces_list_counts_clients_and_get_is_scoped(engine: Engine) {
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

#[engines]
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
