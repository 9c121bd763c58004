//! API tokens on both engines: the store keeps only a token's hash and audits each change; the use
//! cases decide who may make one, and `authenticate` turns a bearer token into an actor acting as
//! the token, or refuses it the same way whatever is wrong with it.

use super::fixtures::{Org, audit_count, fresh_db, org};
use crate::support::{Engine, count_rows, engines};
use app::model::{Role, TokenLifetime, TokenName, TokenScope};
use app::store::{Db, StoreError};
use app::use_cases::api_tokens::{self, TokenRequest, Unauthorized};
use app::use_cases::{Actor, Denied, Failure};

fn request(name: &str, scope: TokenScope) -> TokenRequest {
    TokenRequest {
        name: TokenName::parse(name).unwrap(),
        scope,
        workspace_id: None,
        lifetime: TokenLifetime::Never,
    }
}

fn as_role(org: &Org, role: Role) -> Actor {
    Actor {
        role,
        ..org.owner.clone()
    }
}

async fn stored_hashes(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[engines]
async fn a_token_is_shown_once_stored_hashed_and_listed_without_it(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let before = audit_count(&db, &org).await;
    let issued = api_tokens::create(
        &db,
        &org.owner,
        &request("CI deploy", TokenScope::ManageClients),
    )
    .await
    .unwrap();
    assert!(issued.token.starts_with("kgt_"));
    assert_eq!(issued.row.name, "CI deploy");
    assert_eq!(audit_count(&db, &org).await, before + 1);
    let hashes = stored_hashes(&db).await;
    assert_eq!(hashes.len(), 1);
    assert!(!hashes[0].contains(&issued.token), "only a hash is stored");
    let listed = api_tokens::list(&db, &org.owner).await.unwrap();
    assert_eq!(listed, vec![issued.row.clone()]);
    assert!(!format!("{listed:?}").contains(&issued.token));
}

#[engines]
async fn authenticate_acts_as_the_token_and_audits_under_its_name(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let issued = api_tokens::create(
        &db,
        &org.owner,
        &request("CI deploy", TokenScope::ManageClients),
    )
    .await
    .unwrap();
    let actor = api_tokens::authenticate(&db, &bearer(&issued.token), "198.51.100.7")
        .await
        .unwrap();
    assert_eq!(actor.organization_id, org.ctx.organization_id);
    assert_eq!(actor.email, "token CI deploy");
    assert_eq!(actor.role, Role::Admin);
    assert_eq!(actor.audit().actor, "token CI deploy");
    assert!(actor.require(app::model::Capability::ManageClients).is_ok());
    assert!(
        actor
            .require(app::model::Capability::ManageWorkspaces)
            .is_err(),
        "a manage token manages clients only"
    );
    let limit = actor.token.clone().unwrap();
    assert_eq!(limit.workspace_id, None);
    assert!(limit.reaches(&org.workspace_id));
    let listed = api_tokens::list(&db, &org.owner).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "the use is recorded");
    // A token cannot make or revoke tokens.
    let err = api_tokens::create(&db, &actor, &request("child", TokenScope::Read))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Failure::Denied(Denied::TokenScope { .. })),
        "{err:?}"
    );
}

#[engines]
async fn a_read_token_acts_as_a_viewer_in_its_one_workspace(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let mut req = request("dashboards", TokenScope::Read);
    req.workspace_id = Some(org.workspace_id.clone());
    let issued = api_tokens::create(&db, &org.owner, &req).await.unwrap();
    let actor = api_tokens::authenticate(&db, &bearer(&issued.token), "::1")
        .await
        .unwrap();
    assert_eq!(actor.role, Role::Viewer);
    assert!(
        actor
            .require(app::model::Capability::ManageClients)
            .is_err()
    );
    let limit = actor.token.unwrap();
    assert_eq!(
        limit.workspace_id.as_deref(),
        Some(org.workspace_id.as_str())
    );
    assert!(limit.reaches(&org.workspace_id));
    assert!(!limit.reaches("another-workspace"));
}

#[engines]
async fn revoked_expired_unknown_malformed_and_mistyped_tokens_are_refused_alike(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let revoked = api_tokens::create(&db, &org.owner, &request("old", TokenScope::Read))
        .await
        .unwrap();
    api_tokens::revoke(&db, &org.owner, &revoked.row.id)
        .await
        .unwrap();
    let expired = api_tokens::create(&db, &org.owner, &request("expired", TokenScope::Read))
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = $1")
        .bind(&expired.row.id)
        .execute(db.pool())
        .await
        .unwrap();
    let good = api_tokens::create(&db, &org.owner, &request("good", TokenScope::Read))
        .await
        .unwrap();
    let mut typo: Vec<char> = good.token.chars().collect();
    let i = typo.len() - 2;
    typo[i] = if typo[i] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let unknown = app::model::ApiToken::generate();
    for header in [
        bearer(&revoked.token),
        bearer(&expired.token),
        bearer(unknown.expose()),
        bearer(&typo),
        bearer("kgt_not-base58-0OIl"),
        bearer(app::model::ClientKey::generate().expose()),
        good.token.clone(),
        format!("Basic {}", good.token),
        String::new(),
    ] {
        let refused = api_tokens::authenticate(&db, &header, "::1").await;
        assert!(matches!(refused, Err(Unauthorized::Refused)), "{refused:?}");
    }
    assert!(
        api_tokens::authenticate(&db, &bearer(&good.token), "::1")
            .await
            .is_ok()
    );
}

#[engines]
async fn last_used_is_written_at_most_once_a_minute(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let issued = api_tokens::create(&db, &org.owner, &request("busy", TokenScope::Read))
        .await
        .unwrap();
    let id = issued.row.id;
    let now = app::store::now_millis();
    use app::store::api_tokens as store;
    assert!(store::record_use(&db, &id, now).await.unwrap());
    assert!(!store::record_use(&db, &id, now + 30_000).await.unwrap());
    assert!(store::record_use(&db, &id, now + 60_000).await.unwrap());
}

#[engines]
async fn a_viewer_makes_no_token_and_another_organization_cannot_revoke(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let other = org(&db, "Other").await;
    for scope in [TokenScope::Read, TokenScope::ManageClients] {
        let err = api_tokens::create(&db, &as_role(&acme, Role::Viewer), &request("x", scope))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Failure::Denied(Denied::Role { .. })),
            "{err:?}"
        );
    }
    assert_eq!(count_rows(&db, "api_tokens").await, 0);
    let issued = api_tokens::create(
        &db,
        &as_role(&acme, Role::Admin),
        &request("ci", TokenScope::Read),
    )
    .await
    .unwrap();
    let err = api_tokens::revoke(&db, &other.owner, &issued.row.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Failure::Store(StoreError::NotFound)),
        "{err:?}"
    );
    assert!(
        api_tokens::list(&db, &other.owner)
            .await
            .unwrap()
            .is_empty()
    );
    let mut req = request("elsewhere", TokenScope::Read);
    req.workspace_id = Some(acme.workspace_id.clone());
    let err = api_tokens::create(&db, &other.owner, &req)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Failure::Store(StoreError::NotFound)),
        "{err:?}"
    );
    assert_eq!(count_rows(&db, "api_tokens").await, 1);
    assert!(
        api_tokens::list(&db, &acme.owner).await.unwrap()[0]
            .revoked_at
            .is_none()
    );
}

#[engines]
async fn a_token_never_outlasts_what_its_creator_may_do(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let org = org(&db, "Acme").await;
    let manage = api_tokens::create(
        &db,
        &org.owner,
        &request("deploy", TokenScope::ManageClients),
    )
    .await
    .unwrap();
    let read = api_tokens::create(&db, &org.owner, &request("read", TokenScope::Read))
        .await
        .unwrap();
    let works = |token: String| {
        let db = db.clone();
        async move {
            api_tokens::authenticate(&db, &bearer(&token), "::1")
                .await
                .is_ok()
        }
    };
    assert!(works(manage.token.clone()).await && works(read.token.clone()).await);
    // Demoted to viewer: the manage token stops, the read token goes on.
    sqlx::query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1")
        .bind(&org.owner.user_id)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(!works(manage.token.clone()).await);
    assert!(works(read.token.clone()).await);
    // No longer a member: neither works.
    sqlx::query("DELETE FROM memberships WHERE user_id = $1")
        .bind(&org.owner.user_id)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(!works(manage.token).await);
    assert!(!works(read.token).await);
}
