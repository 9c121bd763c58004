//! Settings → API tokens from the outside: a token is revealed once and never listed; another
//! organization can neither see nor revoke it; a viewer makes none; bad input is a field error that
//! changes nothing; and the revealed token authenticates until it is revoked.

use crate::support::{
    Engine, Tenant, TestApp, count_rows, engines, expect_field_error, expect_not_found, invited,
};
use app::error::AppError;
use app::model::{ApiTokenRow, FieldError, IssuedApiToken, Role};
use app::use_cases::api_tokens;

async fn create(
    tenant: &Tenant,
    name: &str,
    scope: &str,
    workspace_id: &str,
    lifetime: &str,
) -> Result<IssuedApiToken, AppError> {
    tenant
        .call(
            "api_tokens/create",
            &[
                ("name", name),
                ("scope", scope),
                ("workspace_id", workspace_id),
                ("lifetime", lifetime),
            ],
        )
        .await
}

async fn list(tenant: &Tenant) -> Vec<ApiTokenRow> {
    tenant.call("api_tokens/list", &[]).await.expect("a list")
}

#[engines]
async fn a_token_is_revealed_once_listed_without_it_and_revocable(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let issued = create(&owner, "CI deploy", "manage_clients", "", "90")
        .await
        .expect("a token");
    assert!(issued.token.starts_with("kgt_"));
    assert!(issued.row.expires_at.is_some());
    let raw = owner.post("api_tokens/list", &[]).await;
    assert!(
        !raw.body.contains(&issued.token),
        "the list never shows a token"
    );
    assert_eq!(list(&owner).await, vec![issued.row.clone()]);

    let header = format!("Bearer {}", issued.token);
    let actor = api_tokens::authenticate(&app.db, &header, "::1")
        .await
        .unwrap();
    assert_eq!(actor.email, "token CI deploy");

    owner
        .call::<()>("api_tokens/revoke", &[("id", &issued.row.id)])
        .await
        .expect("revoked");
    assert!(list(&owner).await[0].revoked_at.is_some());
    assert!(
        api_tokens::authenticate(&app.db, &header, "::1")
            .await
            .is_err()
    );
}

#[engines]
async fn another_organization_cannot_list_or_revoke_a_token(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let other = app.sign_up("Other").await;
    let issued = create(&acme, "ci", "read", "", "never").await.unwrap();
    assert!(list(&other).await.is_empty());
    expect_not_found(
        other
            .call::<()>("api_tokens/revoke", &[("id", &issued.row.id)])
            .await,
    );
    assert!(list(&acme).await[0].revoked_at.is_none(), "nothing changed");
}

#[engines]
async fn a_viewer_sees_the_list_but_makes_no_token(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let viewer = invited(&owner, Role::Viewer).await;
    let issued = create(&owner, "ci", "read", "", "never").await.unwrap();
    for scope in ["manage_clients", "read"] {
        match create(&viewer, "mine", scope, "", "never").await {
            Err(AppError::Forbidden(_)) => {}
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }
    assert!(matches!(
        viewer
            .call::<()>("api_tokens/revoke", &[("id", &issued.row.id)])
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(count_rows(&app.db, "api_tokens").await, 1);
    assert_eq!(list(&viewer).await, list(&owner).await);
}

#[engines]
async fn bad_inputs_are_field_errors_that_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let long = "n".repeat(61);
    for (name, scope, lifetime, field) in [
        ("", "read", "never", FieldError::Name),
        (long.as_str(), "read", "never", FieldError::Name),
        ("ci", "admin", "never", FieldError::TokenScope),
        ("ci", "read", "7", FieldError::KeyExpiry),
        ("ci", "read", "", FieldError::KeyExpiry),
    ] {
        expect_field_error(create(&owner, name, scope, "", lifetime).await, field);
    }
    expect_not_found(create(&owner, "ci", "read", "no-such-workspace", "never").await);
    assert_eq!(count_rows(&app.db, "api_tokens").await, 0);
}

#[engines]
async fn a_token_limited_to_a_workspace_says_so(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace_id: String = sqlx::query_scalar("SELECT id FROM workspaces LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let issued = create(&owner, "ci", "read", &workspace_id, "30")
        .await
        .unwrap();
    assert_eq!(
        issued.row.workspace_id.as_deref(),
        Some(workspace_id.as_str())
    );
    let actor = api_tokens::authenticate(&app.db, &format!("Bearer {}", issued.token), "::1")
        .await
        .unwrap();
    let limit = actor.token.unwrap();
    assert!(limit.reaches(&workspace_id) && !limit.reaches("elsewhere"));
}
