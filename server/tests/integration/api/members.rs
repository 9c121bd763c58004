//! Members and invitations from the outside: a link works once, for its address only, not after
//! it was revoked or expired, not twice when accepted in parallel; the last owner stays; the
//! first sign-up of an empty install is the only one that gets in when two race; a password change
//! and "sign out everywhere" end other sessions; a session ends after its idle period, not before.

use crate::support::{Engine, Tenant, TestApp, count_rows, engines, unique_suffix};
use app::error::AppError;
use app::model::{IssuedInvitation, Me, Role, Team};

const PASSWORD: &str = "a long enough password";

async fn invite(owner: &Tenant, email: &str, role: Role) -> IssuedInvitation {
    owner
        .call(
            "members/invite",
            &[("email", email), ("role", role.as_str())],
        )
        .await
        .expect("an invitation")
}

fn token(issued: &IssuedInvitation) -> String {
    issued.path.trim_start_matches("/invite/").to_owned()
}

async fn accept(app: &TestApp, token: &str) -> (Tenant, Result<(), AppError>) {
    let browser = app.anonymous();
    let result = browser
        .call(
            "members/accept",
            &[("token", token), ("password", PASSWORD)],
        )
        .await;
    (browser, result)
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, AppError>) -> String {
    match result {
        Err(AppError::Forbidden(message)) => message,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[engines]
async fn an_invitation_works_once_and_only_while_pending(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let email = format!("ann-{}@example.test", unique_suffix());
    let issued = invite(&owner, &email, Role::Admin).await;

    // Twenty browsers accept the same link at once: exactly one account comes of it.
    let users_before = count_rows(&app.db, "users").await;
    let attempts = (0..20).map(|_| {
        let (browser, token) = (app.anonymous(), token(&issued));
        async move {
            let result = browser
                .call::<()>(
                    "members/accept",
                    &[("token", &token), ("password", PASSWORD)],
                )
                .await;
            (browser, result)
        }
    });
    let results = crate::support::join_all(attempts).await;
    let joined: Vec<&Tenant> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(t, _)| t)
        .collect();
    assert_eq!(joined.len(), 1, "one acceptance, not {}", joined.len());
    for (_, result) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(
            matches!(result, Err(AppError::Forbidden(_))),
            "a late acceptance: {result:?}"
        );
    }
    assert_eq!(count_rows(&app.db, "users").await, users_before + 1);
    let me: Me = joined[0].me().await;
    assert_eq!((me.email.as_str(), me.role), (email.as_str(), Role::Admin));
    assert_eq!(me.organization_name, "Acme");

    // Used: the link's page says so, and it cannot be used again.
    let view: app::model::InvitationView = app
        .anonymous()
        .call("members/invitation", &[("token", &token(&issued))])
        .await
        .unwrap();
    assert_eq!(view.state, app::model::InvitationState::Accepted);
    forbidden(accept(&app, &token(&issued)).await.1);

    // Revoked before use: refused, and nobody was created.
    let revoked = invite(&owner, "bob@example.test", Role::Viewer).await;
    owner
        .call::<()>(
            "members/revoke_invitation",
            &[("id", &revoked.invitation.id)],
        )
        .await
        .unwrap();
    let users = count_rows(&app.db, "users").await;
    forbidden(accept(&app, &token(&revoked)).await.1);
    assert_eq!(count_rows(&app.db, "users").await, users);

    // Expired: refused.
    let expired = invite(&owner, "carol@example.test", Role::Viewer).await;
    sqlx::query("UPDATE invitations SET expires_at = 0 WHERE id = $1")
        .bind(&expired.invitation.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    forbidden(accept(&app, &token(&expired)).await.1);

    // A well-formed link nobody made: refused like a used one, and nobody is created.
    let users = count_rows(&app.db, "users").await;
    forbidden(
        accept(&app, "kgi_8NNniaJjPzv8HzGjTmSECu2Jk18zjYDUWZBEFWGB6XBx")
            .await
            .1,
    );
    assert_eq!(count_rows(&app.db, "users").await, users);

    // Links mangled: "not found", before any lookup.
    for bad in [
        "",
        "kgi_",
        "../../etc/passwd",
        // '0' is not in base58's alphabet (a character appended instead can still decode to 32
        // bytes: a well-formed token nobody made, refused below).
        &format!("{}0", &token(&expired)[..token(&expired).len() - 1]),
    ] {
        let answer = accept(&app, bad).await.1;
        assert!(
            matches!(
                answer,
                Err(AppError::NotFound(_)) | Err(AppError::BadRequest(_))
            ),
            "{bad:?}: {answer:?}"
        );
    }
    app.stop().await;
}

#[engines]
async fn an_invitation_is_for_its_address_only(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let other = app.sign_up("Globex").await;
    let issued = invite(&owner, "dora@example.test", Role::Viewer).await;
    // Globex's owner, signed in, cannot take Dora's invitation, and it stays usable.
    let message = forbidden(
        other
            .call::<()>("members/accept", &[("token", &token(&issued))])
            .await,
    );
    assert!(message.contains("another email address"), "{message}");
    assert_eq!(other.me().await.organizations.len(), 1);
    let (dora, result) = accept(&app, &token(&issued)).await;
    result.expect("Dora accepts");
    assert_eq!(dora.me().await.role, Role::Viewer);

    // An existing account accepts signed in: it belongs to both organizations and switches.
    let invited = invite(&other, &owner.email, Role::Admin).await;
    owner
        .call::<()>("members/accept", &[("token", &token(&invited))])
        .await
        .expect("the owner of Acme joins Globex");
    let me = owner.me().await;
    assert_eq!(me.organization_name, "Globex");
    assert_eq!(me.role, Role::Admin);
    assert_eq!(me.organizations.len(), 2);
    let acme = me
        .organizations
        .iter()
        .find(|o| o.name == "Acme")
        .unwrap()
        .id
        .clone();
    owner
        .call::<()>("account/switch_organization", &[("id", &acme)])
        .await
        .unwrap();
    assert_eq!(owner.me().await.role, Role::Owner);
    // An organization one is not in cannot be switched to.
    let globex_only = other.me().await.organization_id;
    let answer = dora
        .call::<()>("account/switch_organization", &[("id", &globex_only)])
        .await;
    assert!(matches!(answer, Err(AppError::NotFound(_))), "{answer:?}");
    app.stop().await;
}

#[engines]
async fn the_last_owner_can_neither_leave_nor_be_demoted_and_a_removed_member_loses_access(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let me = owner.me().await;
    let team: Team = owner.call("members/team", &[]).await.unwrap();
    let owner_id = team.you.clone();
    let roles_before = count_rows(&app.db, "memberships").await;
    forbidden(
        owner
            .call::<()>(
                "members/change_role",
                &[("user_id", &owner_id), ("role", "admin")],
            )
            .await,
    );
    forbidden(owner.call::<()>("members/leave", &[]).await);
    assert_eq!(count_rows(&app.db, "memberships").await, roles_before);
    assert_eq!(owner.me().await.role, Role::Owner);

    // A second owner, then both try to demote each other at once: one owner remains.
    let issued = invite(&owner, "erin@example.test", Role::Owner).await;
    let (erin, result) = accept(&app, &token(&issued)).await;
    result.unwrap();
    let erin_id = erin.call::<Team>("members/team", &[]).await.unwrap().you;
    let demote_erin = [("user_id", erin_id.as_str()), ("role", "viewer")];
    let demote_owner = [("user_id", owner_id.as_str()), ("role", "viewer")];
    let (a, b) = tokio::join!(
        owner.call::<()>("members/change_role", &demote_erin),
        erin.call::<()>("members/change_role", &demote_owner),
    );
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    let owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'",
    )
    .bind(&me.organization_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(owners, 1, "{a:?} {b:?}");

    // Whoever is still owner removes the other; the removed one's session loses the organization.
    let (remaining, removed, removed_id) = if a.is_ok() {
        (&owner, &erin, &erin_id)
    } else {
        (&erin, &owner, &owner_id)
    };
    remaining
        .call::<()>("members/remove", &[("user_id", removed_id)])
        .await
        .unwrap();
    let organization = remaining.me().await.organization_id;
    let after = removed.call::<Option<Me>>("account/me", &[]).await.unwrap();
    assert!(
        after.is_none_or(|me| me.organization_id != organization),
        "a removed member still sees the organization"
    );
    let answer = removed
        .post(
            "clients/list",
            &[
                ("search", ""),
                ("sort", "created"),
                ("descending", "true"),
                ("page", "1"),
            ],
        )
        .await;
    assert!(!answer.status.is_success() || !answer.body.contains(&organization));
    app.stop().await;
}

#[engines]
async fn two_sign_ups_racing_for_an_empty_closed_install_make_one_organization(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| config.open_signup = false).await;
    let attempts = (0..8).map(|i| {
        let tenant = app.anonymous();
        async move {
            let email = format!("first-{i}-{}@example.test", unique_suffix());
            tenant
                .call::<()>(
                    "account/sign_up",
                    &[
                        ("email", email.as_str()),
                        ("password", PASSWORD),
                        ("organization", &format!("Org {i}")),
                    ],
                )
                .await
        }
    });
    let results = crate::support::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for refused in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(refused, Err(AppError::Forbidden(_))),
            "{refused:?}"
        );
    }
    assert_eq!(count_rows(&app.db, "organizations").await, 1);
    assert_eq!(count_rows(&app.db, "users").await, 1);
    assert_eq!(count_rows(&app.db, "operators").await, 1);
    app.stop().await;
}

#[engines]
async fn a_password_change_and_sign_out_everywhere_end_the_other_sessions(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let laptop = app.sign_up("Acme").await;
    let email = laptop.me().await.email;
    let phone = app.anonymous();
    phone.sign_in(&email, &laptop.password).await.unwrap();
    let sessions: Vec<app::model::SessionRow> = laptop.call("account/sessions", &[]).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);

    // The wrong current password changes nothing.
    let wrong = laptop
        .call::<()>(
            "account/change_password",
            &[
                ("current", "not my password"),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    crate::support::expect_field_error(wrong, app::model::FieldError::CurrentPassword);
    assert!(
        phone
            .call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_some()
    );

    laptop
        .call::<()>(
            "account/change_password",
            &[
                ("current", &laptop.password),
                ("new_password", "a brand new password"),
            ],
        )
        .await
        .unwrap();
    assert!(
        phone
            .call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        laptop
            .call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        app.anonymous()
            .sign_in(&email, &laptop.password)
            .await
            .is_err()
    );

    let tablet = app.anonymous();
    tablet
        .sign_in(&email, "a brand new password")
        .await
        .unwrap();
    tablet
        .call::<()>("account/sign_out_everywhere", &[])
        .await
        .unwrap();
    assert!(
        laptop
            .call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tablet
            .call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_none()
    );
    app.stop().await;
}

#[engines]
async fn a_session_ends_after_its_idle_period_and_not_while_it_is_used(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| config.session_idle_secs = 10).await;
    let user = app.sign_up("Acme").await;
    // Used every 2.5 s for 15 s: longer than the idle period since sign-in, never idle that long.
    for _ in 0..6 {
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert!(
            user.call::<Option<Me>>("account/me", &[])
                .await
                .unwrap()
                .is_some(),
            "an active session ended"
        );
    }
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert!(
        user.call::<Option<Me>>("account/me", &[])
            .await
            .unwrap()
            .is_none()
    );
    app.stop().await;
}

#[engines]
async fn operators_name_and_remove_each_other_but_never_the_last(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let first = app.sign_up("Acme").await;
    let second = app.sign_up("Globex").await;
    assert!(!second.me().await.operator);
    first
        .call::<()>("install/name_operator", &[("email", &second.email)])
        .await
        .unwrap();
    assert!(second.me().await.operator);
    let unknown = first
        .call::<()>("install/name_operator", &[("email", "nobody@example.test")])
        .await;
    assert!(matches!(unknown, Err(AppError::NotFound(_))), "{unknown:?}");

    // Both remove the other at once: one operator remains.
    let remove_second = [("email", second.email.as_str())];
    let remove_first = [("email", first.email.as_str())];
    let (a, b) = tokio::join!(
        first.call::<()>("install/remove_operator", &remove_second),
        second.call::<()>("install/remove_operator", &remove_first),
    );
    assert_eq!(count_rows(&app.db, "operators").await, 1, "{a:?} {b:?}");
    let last = if a.is_ok() { &first } else { &second };
    let message = forbidden(
        last.call::<()>("install/remove_operator", &[("email", &last.email)])
            .await,
    );
    assert!(message.contains("last operator"), "{message}");
    assert_eq!(count_rows(&app.db, "operators").await, 1);
    app.stop().await;
}
