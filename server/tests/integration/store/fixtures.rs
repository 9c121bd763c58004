//! What the store tests start from: a fresh database, an organization as sign-up makes it,
//! clients in it, and the rows a change leaves behind (audit events, outbox rows).

use crate::support::{Engine, TestDatabase, unique_suffix};
use app::model::{ClientId, ClientName, ClientRow, Description, Email, OrgName};
use app::store::audit::{self, AuditContext};
use app::store::clients::{self, NewClient};
use app::store::device_sessions as sessions_store;
use app::store::{Db, StoreError, organizations, outbox};

/// An organization with its owner and default workspace, as sign-up makes it.
pub struct Org {
    pub ctx: AuditContext,
    /// Its owner, as the use cases know them.
    pub owner: app::use_cases::Actor,
    pub workspace_id: String,
}

pub async fn fresh_db(engine: Engine) -> (TestDatabase, Db) {
    let database = TestDatabase::create(engine).await;
    let db = database.connect().await;
    (database, db)
}

pub async fn org(db: &Db, name: &str) -> Org {
    let email = Email::parse(&format!("owner-{}@example.test", unique_suffix())).unwrap();
    let account = organizations::create_with_owner(
        db,
        &OrgName::parse(name).unwrap(),
        &email,
        "$argon2id$not-a-real-hash",
        "192.0.2.1",
        true,
    )
    .await
    .expect("an organization");
    Org {
        owner: app::use_cases::Actor {
            user_id: account.user_id.clone(),
            email: email.as_str().to_owned(),
            organization_id: account.organization_id.clone(),
            role: app::model::Role::Owner,
            operator: false,
            address: "192.0.2.1".into(),
            token: None,
        },
        ctx: AuditContext {
            organization_id: account.organization_id,
            actor: email.as_str().to_owned(),
            address: "192.0.2.1".into(),
        },
        workspace_id: account.workspace_id,
    }
}

pub fn id(raw: &str) -> ClientId {
    ClientId::parse(raw).unwrap()
}

pub async fn add_client_in(
    db: &Db,
    org: &Org,
    workspace_id: &str,
    client_id: &str,
    name: &str,
) -> StoreResultRow {
    clients::create(
        db,
        &org.ctx,
        NewClient {
            client_id: &id(client_id),
            workspace_id,
            name: &ClientName::parse(name).unwrap(),
            description: &Description::parse("").unwrap(),
            key_hash: &format!("$argon2id$hash-of-{client_id}"),
            key_ends_at: None,
            scope: None,
            idempotency: None,
            active: true,
            topic_rules: &Default::default(),
        },
        u32::MAX,
    )
    .await
}

pub type StoreResultRow = Result<ClientRow, StoreError>;

pub async fn add_client(db: &Db, org: &Org, client_id: &str, name: &str) -> ClientRow {
    add_client_in(db, org, &org.workspace_id, client_id, name)
        .await
        .unwrap_or_else(|e| panic!("creating {client_id} failed: {e}"))
}

pub async fn audit_count(db: &Db, org: &Org) -> u64 {
    audit::count(db, &org.ctx.organization_id, &Default::default())
        .await
        .unwrap()
}

pub async fn outbox_rows(db: &Db, client_id: &str) -> Vec<outbox::OutboxRow> {
    outbox::list_pending(db, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.client_id == client_id)
        .collect()
}

pub async fn actions_for(db: &Db, org: &Org, client_id: &str) -> Vec<String> {
    audit::list(
        db,
        &org.ctx.organization_id,
        &Default::default(),
        None,
        1000,
    )
    .await
    .unwrap()
    .into_iter()
    .filter(|e| e.target == client_id)
    .map(|e| e.action.as_str().to_owned())
    .collect()
}

/// The client row of `client` in `org`.
pub fn client_ref(org: &Org, client: &str) -> app::model::ClientRef {
    app::model::ClientRef {
        organization_id: org.ctx.organization_id.clone(),
        client_id: id(client),
    }
}

/// Claims `identifier` on `broker` for `owner` as a webhook does; what the store decided.
pub async fn claim(
    db: &Db,
    broker: &str,
    owner: &app::model::ClientRef,
    identifier: &str,
) -> sessions_store::Claimed {
    sessions_store::claim(
        db,
        &sessions_store::Claim {
            broker,
            mqtt_client_id: identifier,
            owner,
            key_id: "k",
            source: "192.0.2.9",
            device: None,
        },
        100,
    )
    .await
    .unwrap()
}

/// A broker target named `name` (an rmqtt admin API on a made-up host).
pub fn spec(name: &str) -> app::store::broker_targets::TargetSpec {
    app::store::broker_targets::TargetSpec {
        name: name.into(),
        kind: app::model::BrokerKind::Rmqtt,
        endpoint: format!("http://{name}.internal:6060"),
    }
}
