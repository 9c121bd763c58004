//! One name space for MQTT usernames, on both engines: no namespace may equal a Client ID and no
//! Client ID a namespace, however the requests race, and a deleted client gives its name back.

use super::fixtures::{add_client, add_client_in, fresh_db, id, org};
use crate::support::{Engine, count_rows, engines};
use app::model::{Namespace, WorkspaceName};
use app::store::mqtt_usernames::{self, UsernameKind};
use app::store::{StoreError, clients, workspaces};

#[engines]
async fn a_namespace_cannot_take_a_client_id_and_a_client_id_cannot_take_a_namespace(
    engine: Engine,
) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let rival = org(&db, "Rival").await;
    add_client(&db, &acme, "c-7k2m9x4q", "Boiler").await;
    let before = (
        count_rows(&db, "workspaces").await,
        count_rows(&db, "audit_events").await,
    );
    let taken = workspaces::create(
        &db,
        &rival.ctx,
        &WorkspaceName::parse("Hijack").unwrap(),
        &Namespace::parse("c-7k2m9x4q").unwrap(),
        u32::MAX,
    )
    .await;
    assert!(
        matches!(taken, Err(StoreError::NamespaceTaken)),
        "{taken:?}"
    );
    assert!(
        mqtt_usernames::exists(&db, "c-7k2m9x4q").await.unwrap(),
        "the Client ID holds the name"
    );
    // And the other way round: the rival's default namespace is no Client ID for anyone.
    let rival_namespace = workspaces::list(&db, &rival.ctx.organization_id)
        .await
        .unwrap()
        .remove(0)
        .namespace;
    let clash = add_client_in(
        &db,
        &acme,
        &acme.workspace_id,
        rival_namespace.as_str(),
        "Clash",
    )
    .await;
    assert!(matches!(clash, Err(StoreError::ClientIdTaken)), "{clash:?}");
    assert!(
        clients::exists(&db, &id(rival_namespace.as_str()))
            .await
            .unwrap()
    );
    assert_eq!(
        (
            count_rows(&db, "workspaces").await,
            count_rows(&db, "audit_events").await,
        ),
        before,
        "nothing was written"
    );
    assert_eq!(
        mqtt_usernames::find(&db, "c-7k2m9x4q").await.unwrap(),
        Some(UsernameKind::Client)
    );
    assert_eq!(
        mqtt_usernames::find(&db, rival_namespace.as_str())
            .await
            .unwrap(),
        Some(UsernameKind::Namespace)
    );
    assert_eq!(
        mqtt_usernames::find(&db, " c-7k2m9x4q").await.unwrap(),
        None,
        "exact"
    );
}

#[engines]
async fn a_deleted_client_gives_its_name_back(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let rival = org(&db, "Rival").await;
    add_client(&db, &acme, "reused-01", "Boiler").await;
    clients::delete(&db, &acme.ctx, &id("reused-01"))
        .await
        .unwrap();
    assert_eq!(mqtt_usernames::find(&db, "reused-01").await.unwrap(), None);
    add_client(&db, &rival, "reused-01", "Theirs now").await;
    assert_eq!(
        mqtt_usernames::find(&db, "reused-01").await.unwrap(),
        Some(UsernameKind::Client)
    );
}

#[engines]
async fn racing_client_and_workspace_for_one_name_have_one_winner(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    for round in 0..5 {
        let acme = org(&db, &format!("Acme {round}")).await;
        let rival = org(&db, &format!("Rival {round}")).await;
        let name = format!("contested-{round}");
        let client = {
            let (db, name) = (db.clone(), name.clone());
            tokio::spawn(async move {
                add_client_in(&db, &acme, &acme.workspace_id, &name, "Device")
                    .await
                    .is_ok()
            })
        };
        let workspace = {
            let (db, name) = (db.clone(), name.clone());
            tokio::spawn(async move {
                workspaces::create(
                    &db,
                    &rival.ctx,
                    &WorkspaceName::parse("Contested").unwrap(),
                    &Namespace::parse(&name).unwrap(),
                    u32::MAX,
                )
                .await
                .is_ok()
            })
        };
        let (client, workspace) = (client.await.unwrap(), workspace.await.unwrap());
        assert!(
            client ^ workspace,
            "round {round}: exactly one wins (client {client}, workspace {workspace})"
        );
    }
}
