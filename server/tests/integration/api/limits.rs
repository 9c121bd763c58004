//! The configured limits, from the outside: a tenant of an open install bursting creations in
//! parallel gets exactly the allowed number of workspaces and clients, a clear refusal for the
//! rest, and nothing half-made.

use crate::support::{Engine, TestApp, count_rows, engines, join_all};
use app::error::AppError;
use app::model::{ClientId, ClientKey, RevealedKey, WorkspaceInfo};

#[engines]
async fn parallel_creations_stop_exactly_at_the_limits(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| {
        config.max_workspaces_per_organization = 3;
        config.max_clients_per_workspace = 4;
    })
    .await;
    let tenant = std::sync::Arc::new(app.sign_up("Squatter").await);

    // The default workspace is one of the three.
    let attempts = (0..10).map(|i| {
        let tenant = tenant.clone();
        async move {
            tenant
                .call::<WorkspaceInfo>(
                    "workspaces/create",
                    &[("name", &format!("w{i}")), ("namespace", "")],
                )
                .await
        }
    });
    let results = join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        2,
        "{results:?}"
    );
    for refused in results.iter().filter(|r| r.is_err()) {
        match refused {
            Err(AppError::Forbidden(message)) => {
                assert!(message.contains("at most 3 workspaces"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(count_rows(&app.db, "workspaces").await, 3);

    let audit_before = count_rows(&app.db, "audit_events").await;
    let attempts = (0..10).map(|_| {
        let tenant = tenant.clone();
        async move {
            let id = ClientId::generate();
            let key = ClientKey::generate();
            tenant
                .call::<RevealedKey>(
                    "clients/create",
                    &[
                        ("client_id", id.as_str()),
                        ("key", key.expose()),
                        ("name", "Burst"),
                        ("description", ""),
                    ],
                )
                .await
        }
    });
    let results = join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        4,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(AppError::Forbidden(m)) if m.contains("at most 4 clients"))),
        "{results:?}"
    );
    assert_eq!(count_rows(&app.db, "clients").await, 4);
    assert_eq!(count_rows(&app.db, "mqtt_usernames").await - 3, 4);
    assert_eq!(count_rows(&app.db, "audit_events").await, audit_before + 4);
    app.stop().await;
}
