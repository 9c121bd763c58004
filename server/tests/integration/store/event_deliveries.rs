//! Credential events in the store on both engines: a client change queues its event for each
//! enabled endpoint of its organization that receives it, in the change's own transaction (a change
//! that fails queues nothing), and an endpoint's queue is read oldest first, one delivery at a time.

use super::fixtures::{Org, add_client, fresh_db, id, org};
use crate::support::{Engine, count_rows, engines};
use app::event_signature::EventSecret;
use app::model::{ClientName, Description, EndpointUrl, EventType, EventTypes};
use app::store::clients::{self, NewClient};
use app::store::event_deliveries::{self, Attempt};
use app::store::event_endpoints::{self, NewEndpoint};
use app::store::{Db, StoreError, now_millis};

async fn endpoint(db: &Db, org: &Org, types: &str) -> String {
    event_endpoints::create(
        db,
        &org.ctx,
        &NewEndpoint {
            url: &EndpointUrl::parse("https://hooks.example.com/keygate").unwrap(),
            event_types: &EventTypes::parse(types).unwrap(),
            secret: &EventSecret::generate(),
        },
    )
    .await
    .expect("an endpoint")
    .id
}

async fn queued_types(db: &Db, endpoint: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM event_deliveries WHERE endpoint_id = $1 ORDER BY id")
        .bind(endpoint)
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[engines]
async fn a_change_that_fails_queues_no_event(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let endpoint = endpoint(&db, &acme, "client.created").await;
    add_client(&db, &acme, "taken-1", "Taken").await;
    assert_eq!(queued_types(&db, &endpoint).await, ["client.created"]);

    // An import of two: the first is created, audited and its event queued in the transaction,
    // then the second's Client ID is taken and the whole transaction rolls back.
    let (name, description) = (
        ClientName::parse("New").unwrap(),
        Description::parse("").unwrap(),
    );
    let (fresh, taken) = (id("fresh-1"), id("taken-1"));
    let no_rules = app::model::TopicRules::default();
    let new: Vec<NewClient<'_>> = [&fresh, &taken]
        .into_iter()
        .map(|client_id| NewClient {
            client_id,
            workspace_id: &acme.workspace_id,
            name: &name,
            description: &description,
            key_hash: "$argon2id$not-a-real-hash",
            key_ends_at: None,
            scope: None,
            active: true,
            topic_rules: &no_rules,
            idempotency: None,
        })
        .collect();
    let failed = clients::create_many(&db, &acme.ctx, &new, 100).await;
    assert!(
        matches!(failed, Err(StoreError::ClientIdTaken)),
        "{failed:?}"
    );
    assert!(
        clients::get(&db, &acme.ctx.organization_id, &fresh)
            .await
            .is_err()
    );
    assert_eq!(
        queued_types(&db, &endpoint).await,
        ["client.created"],
        "the failed change queued nothing"
    );
}

#[engines]
async fn each_change_queues_its_event_for_the_endpoints_that_receive_it(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let everything = endpoint(
        &db,
        &acme,
        "client.created client.updated client.deactivated client.deleted",
    )
    .await;
    let deletions = endpoint(&db, &acme, "client.deleted").await;
    let switched_off = endpoint(&db, &acme, "client.created").await;
    event_endpoints::set_enabled(&db, &acme.ctx, &switched_off, false)
        .await
        .unwrap();
    let theirs = endpoint(&db, &globex, "client.created").await;

    add_client(&db, &acme, "c-events", "Events").await;
    clients::update(
        &db,
        &acme.ctx,
        &id("c-events"),
        &ClientName::parse("Renamed").unwrap(),
        &Description::parse("").unwrap(),
    )
    .await
    .unwrap();
    clients::update_active(&db, &acme.ctx, &id("c-events"), false)
        .await
        .unwrap();
    clients::delete(&db, &acme.ctx, &id("c-events"))
        .await
        .unwrap();

    assert_eq!(
        queued_types(&db, &everything).await,
        [
            "client.created",
            "client.updated",
            "client.deactivated",
            "client.deleted"
        ]
    );
    assert_eq!(queued_types(&db, &deletions).await, ["client.deleted"]);
    assert!(queued_types(&db, &switched_off).await.is_empty());
    assert!(queued_types(&db, &theirs).await.is_empty());
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM event_deliveries WHERE endpoint_id = $1 ORDER BY id",
    )
    .bind(&everything)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let updated: serde_json::Value = serde_json::from_str(&payloads[1]).unwrap();
    assert_eq!(updated["data"]["name"], "Renamed");
    let deactivated: serde_json::Value = serde_json::from_str(&payloads[2]).unwrap();
    assert_eq!(deactivated["data"]["active"], false);

    // Oldest first, one at a time: the head moves only once it is delivered.
    let head = event_deliveries::head(&db, &everything)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.event_type, EventType::ClientCreated);
    let at = now_millis();
    let failed = Attempt {
        at,
        response_status: Some(500),
    };
    event_deliveries::record_failure(&db, head.id, &failed, "HTTP 500", at + 60_000)
        .await
        .unwrap();
    assert!(
        !event_deliveries::due(&db, at)
            .await
            .unwrap()
            .contains(&everything),
        "a failed head waits for its retry, and so does everything behind it"
    );
    assert_eq!(
        event_deliveries::head(&db, &everything)
            .await
            .unwrap()
            .unwrap()
            .id,
        head.id
    );
    let delivered = Attempt {
        at,
        response_status: Some(204),
    };
    event_deliveries::mark_delivered(&db, head.id, &delivered)
        .await
        .unwrap();
    let next = event_deliveries::head(&db, &everything)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.event_type, EventType::ClientUpdated);
    assert!(
        event_deliveries::due(&db, now_millis())
            .await
            .unwrap()
            .contains(&everything)
    );
    assert_eq!(count_rows(&db, "event_deliveries").await, 5);
}
