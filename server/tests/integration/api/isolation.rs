//! Tenant isolation: a signed-in user of organization A sends hand-made requests naming a client
//! of organization B to every client endpoint. Each answers exactly what it answers for a client
//! that does not exist, and B's client (row, key hash, audit events, outbox rows) is untouched.

use crate::support::{
    Counts, Engine, StoredClient, Tenant, TestApp, engines, expect_not_found, key_verifies,
    stored_client,
};
use app::error::AppError;
use app::model::{ClientDetails, ClientKey, ClientPage, ClientRow, RevealedKey};

/// Ann (Acme) and Bob (Globex), Bob's client, and everything stored before Ann tries anything.
struct Fixture {
    app: TestApp,
    ann: Tenant,
    bob: Tenant,
    target: RevealedKey,
    stored: StoredClient,
    counts: Counts,
}

impl Fixture {
    async fn new(engine: Engine) -> Self {
        let app = TestApp::spawn(engine).await;
        let ann = app.sign_up("Acme").await;
        let bob = app.sign_up("Globex").await;
        ann.new_client("Acme's own").await;
        let target = bob.new_client("Globex pump").await;
        let stored = stored_client(&app.db, target.row.client_id.as_str())
            .await
            .unwrap();
        let counts = app.counts().await;
        Self {
            app,
            ann,
            bob,
            target,
            stored,
            counts,
        }
    }

    fn id(&self) -> &str {
        self.target.row.client_id.as_str()
    }

    /// Ann's request about Bob's client and the same request about a client nobody has: both
    /// must be NotFound and indistinguishable.
    async fn assert_not_found_like_a_missing_client<
        T: std::fmt::Debug + serde::de::DeserializeOwned,
    >(
        &self,
        endpoint: &str,
        extra: &[(&str, &str)],
    ) {
        let mut theirs = vec![("client_id", self.id())];
        theirs.extend_from_slice(extra);
        let mut missing = vec![("client_id", "nobody-has-this-id")];
        missing.extend_from_slice(extra);
        let answer = self.ann.post(endpoint, &theirs).await;
        let result = answer.decode::<T>();
        assert!(
            matches!(result, Err(AppError::NotFound(_))),
            "{endpoint}: {result:?}"
        );
        assert!(
            !answer.body.contains("Globex"),
            "{endpoint}: {}",
            answer.body
        );
        let for_missing = self.ann.call::<T>(endpoint, &missing).await;
        assert_eq!(
            format!("{result:?}"),
            format!("{for_missing:?}"),
            "{endpoint} tells an existing foreign client from a missing one"
        );
    }

    /// Bob's client and the whole database are as they were.
    async fn assert_untouched(self) {
        assert_eq!(
            stored_client(&self.app.db, self.id()).await.as_ref(),
            Some(&self.stored)
        );
        assert_eq!(self.app.counts().await, self.counts);
        assert!(key_verifies(&self.app.db, self.id(), self.target.key.expose()).await);
        let details: ClientDetails = self
            .bob
            .call("clients/get", &[("client_id", self.id())])
            .await
            .expect("Bob still sees his client");
        // Progress of Bob's own earlier revocation moves on by itself (the worker delivers it);
        // the outbox count above already says no revocation was added.
        let settled = |row: &ClientRow| ClientRow {
            revocation: None,
            ..row.clone()
        };
        assert_eq!(settled(&details.row), settled(&self.target.row));
        self.app.stop().await;
    }
}

#[engines]
async fn another_organization_cannot_list_a_client(engine: Engine) {
    let f = Fixture::new(engine).await;
    for search in ["", f.id(), "Globex"] {
        let page: ClientPage = f
            .ann
            .call(
                "clients/list",
                &[
                    ("search", search),
                    ("sort", "client_id"),
                    ("descending", "false"),
                    ("page", "1"),
                ],
            )
            .await
            .unwrap();
        assert!(
            page.rows
                .iter()
                .all(|r| r.client_id != f.target.row.client_id),
            "search {search:?} shows Globex's client"
        );
        assert_eq!(page.workspace_total, 1, "only Acme's own client counts");
    }
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_get_a_client(engine: Engine) {
    let f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<ClientDetails>("clients/get", &[])
        .await;
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_update_a_client(engine: Engine) {
    let f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<ClientRow>(
        "clients/update",
        &[("name", "Owned by Acme"), ("description", "")],
    )
    .await;
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_deactivate_or_activate_a_client(engine: Engine) {
    let mut f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<ClientRow>(
        "clients/set_active",
        &[("active", "false")],
    )
    .await;
    // Bob deactivates it himself; Ann cannot turn it back on either.
    let row: ClientRow = f
        .bob
        .call(
            "clients/set_active",
            &[("client_id", f.id()), ("active", "false")],
        )
        .await
        .unwrap();
    f.target.row = row;
    f.stored = stored_client(&f.app.db, f.id()).await.unwrap();
    f.counts = f.app.counts().await;
    f.assert_not_found_like_a_missing_client::<ClientRow>(
        "clients/set_active",
        &[("active", "true")],
    )
    .await;
    expect_not_found(
        f.ann
            .call::<ClientRow>(
                "clients/set_active",
                &[("client_id", f.id()), ("active", "true")],
            )
            .await,
    );
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_regenerate_a_clients_key(engine: Engine) {
    let f = Fixture::new(engine).await;
    let stolen = ClientKey::generate();
    let answer = f
        .ann
        .post(
            "clients/regenerate_key",
            &[("client_id", f.id()), ("key", stolen.expose())],
        )
        .await;
    assert!(!answer.body.contains(stolen.expose()));
    f.assert_not_found_like_a_missing_client::<RevealedKey>(
        "clients/regenerate_key",
        &[("key", stolen.expose())],
    )
    .await;
    assert!(!key_verifies(&f.app.db, f.id(), stolen.expose()).await);
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_delete_a_client(engine: Engine) {
    let f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<()>("clients/delete", &[])
        .await;
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_change_a_clients_access(engine: Engine) {
    let f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<ClientRow>(
        "clients/update_access",
        &[("scope_mode", "only"), ("scope", "d-1")],
    )
    .await;
    f.assert_not_found_like_a_missing_client::<ClientRow>(
        "clients/update_access",
        &[
            ("scope_mode", "any"),
            ("rules[0][permission]", "deny"),
            ("rules[0][action]", "both"),
            ("rules[0][filter]", "globex/#"),
        ],
    )
    .await;
    f.assert_untouched().await;
}

#[engines]
async fn another_organization_cannot_preview_a_clients_access(engine: Engine) {
    let f = Fixture::new(engine).await;
    f.assert_not_found_like_a_missing_client::<app::model::AccessPreview>(
        "clients/preview_access",
        &[
            ("scope_mode", "any"),
            ("device", "d-1"),
            ("topic", "globex/devices/d-1/x"),
            ("action", "Publish"),
        ],
    )
    .await;
    f.assert_untouched().await;
}
