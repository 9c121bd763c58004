//! Device sessions on both engines: the embedded broker's batched connects and disconnects, a
//! webhook's atomic claim of an MQTT client identifier (owned by the client row, never the bare
//! Client ID), external brokers' events, the per-client limit, and what a revocation reads.

use super::fixtures::{Org, add_client, claim, client_ref, fresh_db, id, org};
use crate::support::{Engine, count_rows, engines};
use app::model::{ClientQuery, ClientRef, ClientRow, DeviceId};
use app::store::device_sessions::{
    self, BrokerEvent, Claimed, Connected, ConnectionEvent, Disconnected, SeenDevice,
};
use app::store::{Db, clients};

const BROKER: &str = "embedded:n1";

fn connected(conn: &str, owner: &ClientRef, broker: &str, at: i64) -> ConnectionEvent {
    ConnectionEvent::Connected(Connected {
        id: conn.into(),
        key_id: "k".into(),
        broker: broker.into(),
        owner: owner.clone(),
        mqtt_client_id: format!("device-of-{conn}"),
        source: "192.0.2.7:50123".into(),
        device: None,
        at,
    })
}

fn disconnected(conn: &str, owner: &ClientRef, at: i64) -> ConnectionEvent {
    ConnectionEvent::Disconnected(Disconnected {
        id: conn.into(),
        owner: owner.clone(),
        at,
    })
}

async fn row(db: &Db, org: &Org, client: &str) -> ClientRow {
    clients::get(db, &org.ctx.organization_id, &id(client))
        .await
        .unwrap()
        .row
}

#[engines]
async fn connects_and_disconnects_keep_live_sessions_and_last_seen(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    assert_eq!(row(&db, &acme, "boiler-01").await.live_sessions, 0);

    device_sessions::apply(
        &db,
        &[
            connected("a", &boiler, BROKER, 1_000),
            connected("b", &boiler, BROKER, 2_000),
        ],
    )
    .await
    .unwrap();
    let r = row(&db, &acme, "boiler-01").await;
    assert_eq!((r.live_sessions, r.last_seen_at), (2, Some(2_000)));
    let sessions = device_sessions::list(&db, &boiler).await.unwrap();
    assert_eq!(
        sessions
            .iter()
            .map(|s| (s.mqtt_client_id.as_str(), s.broker.as_str(), s.since))
            .collect::<Vec<_>>(),
        vec![
            ("device-of-a", BROKER, 1_000),
            ("device-of-b", BROKER, 2_000)
        ],
        "oldest first"
    );
    assert_eq!(sessions[0].source, "192.0.2.7:50123");
    // The list page carries the count too.
    let (rows, _) = clients::list(&db, &acme.workspace_id, &ClientQuery::default())
        .await
        .unwrap();
    assert_eq!(rows[0].live_sessions, 2);

    // One batch: a disconnect, then a connect; applied in order.
    device_sessions::apply(
        &db,
        &[
            disconnected("a", &boiler, 3_000),
            connected("c", &boiler, BROKER, 3_500),
        ],
    )
    .await
    .unwrap();
    let r = row(&db, &acme, "boiler-01").await;
    assert_eq!((r.live_sessions, r.last_seen_at), (2, Some(3_500)));
    device_sessions::apply(
        &db,
        &[
            disconnected("b", &boiler, 4_000),
            disconnected("c", &boiler, 5_000),
        ],
    )
    .await
    .unwrap();
    let r = row(&db, &acme, "boiler-01").await;
    assert_eq!((r.live_sessions, r.last_seen_at), (0, Some(5_000)));
    // Last seen never moves back (another node's older batch landing late).
    device_sessions::apply(&db, &[disconnected("zz", &boiler, 4_500)])
        .await
        .unwrap();
    assert_eq!(row(&db, &acme, "boiler-01").await.last_seen_at, Some(5_000));
}

#[engines]
async fn connection_events_for_deleted_clients_and_replays_change_nothing(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    let deleted = client_ref(&acme, "deleted-01");
    // A replayed connect and a disconnect of a connection never recorded change nothing odd; a
    // client deleted between the connect and its write keeps its session known (its revocation
    // closes it) but shows nowhere.
    device_sessions::apply(
        &db,
        &[
            connected("a", &boiler, BROKER, 1_000),
            connected("a", &boiler, BROKER, 1_000),
            connected("x", &deleted, BROKER, 1_000),
            disconnected("never", &boiler, 900),
        ],
    )
    .await
    .unwrap();
    assert_eq!(count_rows(&db, "device_sessions").await, 2);
    let r = row(&db, &acme, "boiler-01").await;
    assert_eq!((r.live_sessions, r.last_seen_at), (1, Some(1_000)));
    device_sessions::apply(&db, &[disconnected("x", &deleted, 1_500)])
        .await
        .unwrap();
    assert_eq!(count_rows(&db, "device_sessions").await, 1);
}

#[engines]
async fn deleting_a_brokers_sessions_leaves_the_other_brokers_alone(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    device_sessions::apply(
        &db,
        &[
            connected("a", &boiler, "embedded:n1", 1_000),
            connected("b", &boiler, "embedded:n2", 1_000),
            connected("c", &boiler, "embedded:n1", 1_000),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        device_sessions::delete_for_broker(&db, "embedded:n1")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        device_sessions::delete_for_broker(&db, "embedded:n1")
            .await
            .unwrap(),
        0
    );
    let sessions = device_sessions::list(&db, &boiler).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].mqtt_client_id, "device-of-b");
}

#[engines]
async fn sessions_are_scoped_to_their_client_row(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let rival = org(&db, "Rival").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    device_sessions::apply(
        &db,
        &[connected(
            "a",
            &client_ref(&acme, "boiler-01"),
            BROKER,
            1_000,
        )],
    )
    .await
    .unwrap();
    assert!(
        device_sessions::list(&db, &client_ref(&rival, "boiler-01"))
            .await
            .unwrap()
            .is_empty(),
        "another organization sees none"
    );
    // The Client ID deleted in one organization and created in another: the new client row has
    // none of the old one's sessions.
    clients::delete(&db, &acme.ctx, &id("boiler-01"))
        .await
        .unwrap();
    add_client(&db, &rival, "boiler-01", "Theirs").await;
    assert_eq!(row(&db, &rival, "boiler-01").await.live_sessions, 0);
    assert!(
        device_sessions::list(&db, &client_ref(&rival, "boiler-01"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[engines]
async fn a_connect_takes_over_an_identifier_on_its_broker_only(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    // Two connections with one identifier on one broker: the later one holds it (the broker
    // took the session over), and the earlier one's disconnect does not remove it.
    let same = |conn: &str, broker: &str, at| {
        ConnectionEvent::Connected(Connected {
            id: conn.into(),
            key_id: "k".into(),
            broker: broker.into(),
            owner: boiler.clone(),
            mqtt_client_id: "sensor-1".into(),
            source: String::new(),
            device: None,
            at,
        })
    };
    device_sessions::apply(
        &db,
        &[
            same("first", BROKER, 1_000),
            same("second", BROKER, 2_000),
            same("elsewhere", "embedded:n2", 2_000),
            disconnected("first", &boiler, 2_500),
        ],
    )
    .await
    .unwrap();
    let sessions = device_sessions::list(&db, &boiler).await.unwrap();
    assert_eq!(
        sessions
            .iter()
            .map(|s| (s.broker.as_str(), s.since))
            .collect::<Vec<_>>(),
        vec![(BROKER, 2_000), ("embedded:n2", 2_000)]
    );
}

#[engines]
async fn an_identifier_belongs_to_the_client_row_that_claimed_it(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let rival = org(&db, "Rival").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    add_client(&db, &rival, "intruder-1", "Intruder").await;
    let boiler = client_ref(&acme, "boiler-01");
    assert_eq!(claim(&db, "emqx", &boiler, "gateway-7").await, Claimed::Yes);
    assert_eq!(
        claim(&db, "emqx", &boiler, "gateway-7").await,
        Claimed::Yes,
        "claiming again is the owner's reconnect"
    );
    assert_eq!(
        claim(&db, "emqx", &client_ref(&rival, "intruder-1"), "gateway-7").await,
        Claimed::HeldByAnother
    );
    // The same Client ID in another organization is another owner.
    clients::delete(&db, &acme.ctx, &id("boiler-01"))
        .await
        .unwrap();
    add_client(&db, &rival, "boiler-01", "Reused").await;
    assert_eq!(
        claim(&db, "emqx", &client_ref(&rival, "boiler-01"), "gateway-7").await,
        Claimed::HeldByAnother,
        "the deleted client's session may still be open on the broker until its revocation closes it"
    );
    // Another broker is another session.
    assert_eq!(
        claim(
            &db,
            "vernemq",
            &client_ref(&rival, "boiler-01"),
            "gateway-7"
        )
        .await,
        Claimed::Yes
    );
    assert_eq!(
        device_sessions::list_identifiers(&db, "emqx", &boiler, None)
            .await
            .unwrap(),
        ["gateway-7"]
    );
}

#[engines]
async fn racing_claims_for_one_identifier_have_one_winner(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let mut owners = Vec::new();
    for i in 0..6 {
        let tenant = org(&db, &format!("Tenant {i}")).await;
        let client = format!("client-{i}");
        add_client(&db, &tenant, &client, "Device").await;
        owners.push(client_ref(&tenant, &client));
    }
    let claims = owners.into_iter().map(|owner| {
        let db = db.clone();
        async move { claim(&db, "emqx", &owner, "shared-name").await }
    });
    let results = crate::support::join_all(claims).await;
    assert_eq!(
        results.iter().filter(|r| **r == Claimed::Yes).count(),
        1,
        "{results:?}"
    );
    assert_eq!(count_rows(&db, "device_sessions").await, 1);
}

#[engines]
async fn a_client_holds_at_most_its_limit_of_identifiers_per_broker(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    let limited = |identifier: &'static str| {
        let (db, boiler) = (db.clone(), boiler.clone());
        async move {
            device_sessions::claim(
                &db,
                &device_sessions::Claim {
                    broker: "emqx",
                    key_id: "k",
                    mqtt_client_id: identifier,
                    owner: &boiler,
                    source: "",
                    device: None,
                },
                2,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(limited("one").await, Claimed::Yes);
    assert_eq!(limited("two").await, Claimed::Yes);
    assert_eq!(limited("three").await, Claimed::TooMany, "both connected");
    assert_eq!(limited("two").await, Claimed::Yes, "a held one reconnects");
    // "one" goes offline: it makes room for a new one, and is forgotten.
    device_sessions::report(&db, "emqx", "one", BrokerEvent::Disconnected, i64::MAX)
        .await
        .unwrap();
    assert_eq!(limited("three").await, Claimed::Yes);
    let mut held = device_sessions::list_identifiers(&db, "emqx", &boiler, None)
        .await
        .unwrap();
    held.sort();
    assert_eq!(held, ["three", "two"]);
}

#[engines]
async fn broker_events_mark_sessions_offline_and_end_them_in_order(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    let before = app::store::now_millis() - 60_000;
    assert_eq!(claim(&db, "rmqtt", &boiler, "s-1").await, Claimed::Yes);
    assert_eq!(row(&db, &acme, "boiler-01").await.live_sessions, 1);
    // News older than the claim (the previous session of the identifier) changes nothing.
    let report = |event, at| device_sessions::report(&db, "rmqtt", "s-1", event, at);
    assert_eq!(report(BrokerEvent::Disconnected, before).await.unwrap(), 0);
    assert_eq!(row(&db, &acme, "boiler-01").await.live_sessions, 1);
    // A "terminated" while the session is connected is an older session's: ignored.
    assert_eq!(report(BrokerEvent::Terminated, i64::MAX).await.unwrap(), 0);
    let now = app::store::now_millis() + 1;
    assert_eq!(report(BrokerEvent::Disconnected, now).await.unwrap(), 1);
    assert_eq!(row(&db, &acme, "boiler-01").await.live_sessions, 0);
    assert_eq!(
        device_sessions::list_identifiers(&db, "rmqtt", &boiler, None)
            .await
            .unwrap(),
        ["s-1"],
        "offline, its session may persist: a revocation still closes it"
    );
    assert_eq!(report(BrokerEvent::Connected, now + 1).await.unwrap(), 1);
    assert_eq!(row(&db, &acme, "boiler-01").await.live_sessions, 1);
    assert_eq!(report(BrokerEvent::Disconnected, now + 2).await.unwrap(), 1);
    assert_eq!(report(BrokerEvent::Terminated, now + 3).await.unwrap(), 1);
    assert_eq!(count_rows(&db, "device_sessions").await, 0);
    // Events for identifiers nobody claimed change nothing.
    assert_eq!(
        device_sessions::report(&db, "rmqtt", "never", BrokerEvent::Connected, now)
            .await
            .unwrap(),
        0
    );
}

#[engines]
async fn a_revocation_forgets_only_the_sessions_that_began_before_it(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-01");
    assert_eq!(claim(&db, "emqx", &boiler, "old").await, Claimed::Yes);
    assert_eq!(claim(&db, "vernemq", &boiler, "old").await, Claimed::Yes);
    let revoked_at = app::store::now_millis();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(claim(&db, "emqx", &boiler, "new").await, Claimed::Yes);
    assert_eq!(
        device_sessions::delete_closed(&db, "emqx", &boiler, revoked_at)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        device_sessions::list_identifiers(&db, "emqx", &boiler, None)
            .await
            .unwrap(),
        ["new"],
        "the session opened after the change (a regenerated key) stays"
    );
    assert_eq!(
        device_sessions::list_identifiers(&db, "vernemq", &boiler, None)
            .await
            .unwrap(),
        ["old"],
        "another broker's are its own revocation's to forget"
    );
}

/// The tracker hands a storm of events over in batches of whatever size its queue holds; whatever
/// the mix of connects, take-overs, disconnects (of connections in the same batch, earlier batches
/// or none) and late timestamps, and however `apply` writes a batch, it must end exactly as the
/// same events applied one at a time.
#[engines]
async fn a_batch_ends_as_its_events_applied_one_by_one(engine: Engine) {
    enum Step {
        /// A connection id, and the (broker, MQTT client identifier) it holds.
        Connect(String, (String, String)),
        Disconnect(String),
    }
    let clients = ["boiler-01", "pump-02", "valve-03", "meter-04"];
    let events = {
        // A fixed pseudo-random sequence, so a failure is the same on every run.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut events = Vec::new();
        let mut connections = 0u64;
        for step in 0..600i64 {
            let client = clients[next(4) as usize];
            let at = 1_000 + step * 10 - next(40) as i64;
            if next(5) < 3 || connections == 0 {
                connections += 1;
                // Enough identifiers that most rows live to the end, few enough that take-overs
                // happen, some of them within a batch.
                let key = (
                    format!("embedded:n{}", next(3)),
                    format!("sensor-{}", next(60)),
                );
                events.push((
                    client,
                    Step::Connect(format!("conn-{connections}"), key),
                    at,
                ));
            } else {
                // Mostly one of the latest connections (often in the same batch), else any one,
                // or one never made.
                let n = if next(2) == 0 {
                    connections.saturating_sub(next(5)).max(1)
                } else {
                    1 + next(connections + 3)
                };
                events.push((client, Step::Disconnect(format!("conn-{n}")), at));
            }
        }
        events
    };

    let mut ends = Vec::new();
    for batched in [false, true] {
        let (_database, db) = fresh_db(engine).await;
        let acme = org(&db, "Acme").await;
        for client in clients {
            add_client(&db, &acme, client, client).await;
        }
        let all: Vec<ConnectionEvent> = events
            .iter()
            .map(|(client, step, at)| {
                let owner = client_ref(&acme, client);
                match step {
                    Step::Connect(conn, (broker, mqtt_client_id)) => {
                        ConnectionEvent::Connected(Connected {
                            id: conn.clone(),
                            key_id: "k".into(),
                            broker: broker.clone(),
                            owner,
                            mqtt_client_id: mqtt_client_id.clone(),
                            source: format!("192.0.2.7:{at}"),
                            device: None,
                            at: *at,
                        })
                    }
                    Step::Disconnect(conn) => disconnected(conn, &owner, *at),
                }
            })
            .collect();
        if batched {
            // Batches of uneven sizes, as the tracker's queue hands them over.
            let mut rest = &all[..];
            let mut size = 1;
            while !rest.is_empty() {
                let (batch, later) = rest.split_at(size.min(rest.len()));
                device_sessions::apply(&db, batch).await.unwrap();
                rest = later;
                size = size * 3 % 97 + 1;
            }
        } else {
            for event in &all {
                device_sessions::apply(&db, std::slice::from_ref(event))
                    .await
                    .unwrap();
            }
        }
        let sessions: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, broker, mqtt_client_id, client_id, source, connected_at FROM device_sessions
             ORDER BY broker, mqtt_client_id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let mut last_seen = Vec::new();
        for client in clients {
            last_seen.push(row(&db, &acme, client).await.last_seen_at);
        }
        assert!(
            sessions.len() > 10,
            "the sequence leaves sessions to compare"
        );
        ends.push((sessions, last_seen));
    }
    assert_eq!(ends[0], ends[1]);
}

/// The tracker's batch and a webhook's claim lock the same device and the same client row. On
/// PostgreSQL, taking them in opposite orders is a deadlock: the server fails one transaction (a
/// lost batch, or a CONNECT refused as unavailable). The batch here locks the device first and
/// the claim's client only at its end, with 200 events between, so the two overlap every round.
#[engines]
async fn a_batch_and_a_claim_on_one_device_and_client_both_commit(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "pump-02", "Pump").await;
    add_client(&db, &acme, "gateway-01", "Gateway").await;
    let (pump, gateway) = (
        client_ref(&acme, "pump-02"),
        client_ref(&acme, "gateway-01"),
    );
    for round in 0..5 {
        let seen = SeenDevice {
            workspace_id: acme.workspace_id.clone(),
            device_id: DeviceId::parse(&format!("sensor-{round}")).unwrap(),
        };
        let mut batch = vec![ConnectionEvent::Connected(Connected {
            device: Some(seen.clone()),
            ..connected_event(&format!("r{round}-first"), &pump)
        })];
        batch.extend((0..200).map(|n| connected(&format!("r{round}-{n}"), &pump, BROKER, 1_000)));
        batch.push(connected(
            &format!("r{round}-last"),
            &gateway,
            BROKER,
            1_000,
        ));
        let applying = tokio::spawn({
            let db = db.clone();
            async move { device_sessions::apply(&db, &batch).await }
        });
        let claiming = tokio::spawn({
            let (db, gateway, seen) = (db.clone(), gateway.clone(), seen.clone());
            async move {
                device_sessions::claim(
                    &db,
                    &device_sessions::Claim {
                        broker: "emqx",
                        key_id: "k",
                        mqtt_client_id: &format!("gw-{round}"),
                        owner: &gateway,
                        source: "",
                        device: Some(&seen),
                    },
                    256,
                )
                .await
            }
        });
        let (applied, claimed) = (applying.await.unwrap(), claiming.await.unwrap());
        assert!(
            applied.is_ok(),
            "round {round}: the batch failed: {applied:?}"
        );
        assert_eq!(claimed.unwrap(), Claimed::Yes, "round {round}: the claim");
    }
    assert_eq!(count_rows(&db, "device_sessions").await, 5 * 203);
}

fn connected_event(conn: &str, owner: &ClientRef) -> Connected {
    match connected(conn, owner, BROKER, 1_000) {
        ConnectionEvent::Connected(c) => c,
        ConnectionEvent::Disconnected(_) => unreachable!(),
    }
}
