//! Workspaces: the current one, switching (only within the caller's organization), creating with
//! a typed or derived namespace, renaming, and the activity log.

use crate::support::{Engine, Tenant, TestApp, engines, expect_field_error};
use app::error::AppError;
use app::model::{ClientKey, ClientPage, FieldError, WorkspaceInfo};

async fn create_workspace(
    tenant: &Tenant,
    name: &str,
    namespace: &str,
) -> Result<WorkspaceInfo, AppError> {
    tenant
        .call(
            "workspaces/create",
            &[("name", name), ("namespace", namespace)],
        )
        .await
}

async fn switch(tenant: &Tenant, id: &str) -> Result<(), AppError> {
    tenant.call("workspaces/switch", &[("id", id)]).await
}

async fn listed_ids(tenant: &Tenant) -> Vec<String> {
    let page: ClientPage = tenant
        .call(
            "clients/list",
            &[
                ("search", ""),
                ("sort", "client_id"),
                ("descending", "false"),
                ("page", "1"),
            ],
        )
        .await
        .unwrap();
    page.rows
        .into_iter()
        .map(|r| r.client_id.as_str().to_owned())
        .collect()
}

#[engines]
async fn current_workspace_after_sign_up_is_the_default_one(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme Corp").await;
    let me = ann.me().await;
    let current = me.current_workspace().expect("a current workspace");
    assert_eq!(current.name, "Default");
    assert_eq!(current.namespace.as_str(), "acme-corp");
    app.stop().await;
}

#[engines]
async fn switching_workspace_moves_listing_and_creating_there(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let default_id = ann.me().await.current_workspace_id;
    ann.create_client("in-default", ClientKey::generate().expose(), "D", "")
        .await
        .unwrap();
    let staging = create_workspace(&ann, "Staging", "acme-staging")
        .await
        .unwrap();
    assert_eq!(staging.namespace.as_str(), "acme-staging");
    assert_eq!(staging.client_count, 0);
    assert_eq!(
        ann.me().await.current_workspace_id,
        default_id,
        "creating a workspace does not switch to it"
    );

    switch(&ann, &staging.id).await.unwrap();
    let me = ann.me().await;
    assert_eq!(me.current_workspace_id, staging.id);
    assert_eq!(me.workspaces.len(), 2);
    assert!(listed_ids(&ann).await.is_empty());
    let created = ann
        .create_client("in-staging", ClientKey::generate().expose(), "S", "")
        .await
        .unwrap();
    assert_eq!(created.connection.namespace.as_str(), "acme-staging");
    assert_eq!(listed_ids(&ann).await, ["in-staging"]);
    let stored = crate::support::stored_client(&app.db, "in-staging")
        .await
        .unwrap();
    assert_eq!(stored.workspace_id, staging.id);

    switch(&ann, &default_id).await.unwrap();
    assert_eq!(listed_ids(&ann).await, ["in-default"]);
    // A client of another workspace of the same organization stays reachable by id.
    ann.call::<app::model::ClientDetails>("clients/get", &[("client_id", "in-staging")])
        .await
        .unwrap();
    let counts: Vec<_> = ann
        .me()
        .await
        .workspaces
        .iter()
        .map(|w| w.client_count)
        .collect();
    assert_eq!(counts, [1, 1]);
    app.stop().await;
}

#[engines]
async fn switching_to_another_organizations_workspace_is_not_found_and_keeps_the_current_one(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    bob.create_client("globex-secret", ClientKey::generate().expose(), "G", "")
        .await
        .unwrap();
    let bobs_workspace = bob.me().await.current_workspace_id;
    let anns_workspace = ann.me().await.current_workspace_id;
    let counts = app.counts().await;

    match switch(&ann, &bobs_workspace).await {
        Err(AppError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    let me = ann.me().await;
    assert_eq!(me.current_workspace_id, anns_workspace);
    assert!(me.workspaces.iter().all(|w| w.id != bobs_workspace));
    assert!(listed_ids(&ann).await.is_empty());
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn switching_to_an_unknown_workspace_is_not_found(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    for id in ["", "no-such-workspace", "' OR 1=1 --"] {
        match switch(&ann, id).await {
            Err(AppError::NotFound(_)) => {}
            other => panic!("{id:?}: expected NotFound, got {other:?}"),
        }
    }
    app.stop().await;
}

#[engines]
async fn workspace_create_with_a_bad_namespace_is_a_namespace_field_error_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let counts = app.counts().await;
    let too_long = "n".repeat(49);
    for namespace in [
        "Acme",
        "a",
        "-acme",
        "acme-",
        "ac--me",
        "acme/prod",
        "acme+",
        "acme#",
        "acme prod",
        "ünï",
        too_long.as_str(),
    ] {
        let message = expect_field_error(
            create_workspace(&ann, "Production", namespace).await,
            FieldError::Namespace,
        );
        assert!(!message.is_empty(), "{namespace}");
    }
    assert_eq!(app.counts().await, counts);
    assert_eq!(ann.me().await.workspaces.len(), 1);
    app.stop().await;
}

#[engines]
async fn workspace_create_with_a_taken_namespace_is_a_namespace_field_error_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    create_workspace(&ann, "Production", "acme-prod")
        .await
        .unwrap();
    let bobs_default = bob.me().await.workspaces[0].namespace.clone();
    let counts = app.counts().await;
    for (who, namespace) in [
        (&ann, "acme-prod"),
        (&bob, "acme-prod"),
        (&ann, bobs_default.as_str()),
        (&ann, " acme-prod "),
    ] {
        let message = expect_field_error(
            create_workspace(who, "Again", namespace).await,
            FieldError::Namespace,
        );
        assert!(message.to_lowercase().contains("taken"), "{message}");
    }
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn workspace_create_with_a_bad_name_is_a_workspace_name_field_error_and_changes_nothing(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let counts = app.counts().await;
    let too_long = "w".repeat(41);
    for name in ["", "   ", too_long.as_str(), "line\u{0}break"] {
        expect_field_error(
            create_workspace(&ann, name, "fine-namespace").await,
            FieldError::WorkspaceName,
        );
        expect_field_error(
            ann.call::<()>(
                "workspaces/rename",
                &[("id", &ann.me().await.current_workspace_id), ("name", name)],
            )
            .await,
            FieldError::WorkspaceName,
        );
    }
    assert_eq!(app.counts().await, counts);
    app.stop().await;
}

#[engines]
async fn workspace_create_without_a_namespace_derives_a_free_one(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let first = create_workspace(&ann, "Staging", "").await.unwrap();
    let second = create_workspace(&ann, "Staging", "  ").await.unwrap();
    assert_eq!(first.namespace.as_str(), "acme-staging");
    assert_eq!(second.namespace.as_str(), "acme-staging-2");
    assert_eq!(ann.me().await.workspaces.len(), 3);
    app.stop().await;
}

#[engines]
async fn renaming_another_organizations_workspace_is_not_found_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    let bobs_workspace = bob.me().await.current_workspace_id;
    let counts = app.counts().await;
    match ann
        .call::<()>(
            "workspaces/rename",
            &[("id", &bobs_workspace), ("name", "Hijacked")],
        )
        .await
    {
        Err(AppError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(bob.me().await.workspaces[0].name, "Default");
    assert_eq!(app.counts().await, counts);

    let own = ann.me().await.current_workspace_id;
    ann.call::<()>("workspaces/rename", &[("id", &own), ("name", "Production")])
        .await
        .unwrap();
    assert_eq!(ann.me().await.workspaces[0].name, "Production");
    app.stop().await;
}

#[engines]
async fn activity_shows_only_the_callers_organization(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let bob = app.sign_up("Globex").await;
    ann.create_client("acme-1", ClientKey::generate().expose(), "A", "")
        .await
        .unwrap();
    bob.create_client("globex-1", ClientKey::generate().expose(), "G", "")
        .await
        .unwrap();
    let activity = ann
        .call::<app::model::ActivityPage>("activity/list", &[])
        .await
        .unwrap()
        .entries;
    let seen: Vec<_> = activity
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("client.created", "acme-1"),
            ("organization.created", "Acme")
        ]
    );
    assert!(activity.iter().all(|e| e.actor == ann.email));
    app.stop().await;
}
