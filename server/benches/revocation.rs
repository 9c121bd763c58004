//! Click to disconnect: how long after the server function that deactivates a client returns does
//! that client's device see its MQTT connection closed? 1,000 clients each hold a live session; each
//! is deactivated in turn. An external broker target (a stand-in rmqtt admin API on loopback) is
//! configured too, and the time until its disconnect request arrives is measured alongside.
//!
//! `cargo bench -p server --bench revocation` (release build; a real `keygate` on loopback ports
//! with a fresh SQLite file, rumqttc devices over TCP).

mod common;

use server::config::Config;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot};

const CLIENTS: usize = 1_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[(((p / 100.0) * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
}

/// Connects a device and returns a receiver that fires with the instant the broker closes it.
async fn device(
    addr: std::net::SocketAddr,
    id: &str,
    ns: &str,
    key: &str,
) -> oneshot::Receiver<Instant> {
    let mut o = rumqttc::MqttOptions::new(id, addr.ip().to_string(), addr.port());
    o.set_credentials(ns, key);
    o.set_keep_alive(Duration::from_secs(120));
    let (client, mut el) = rumqttc::AsyncClient::new(o, 10);
    loop {
        match el.poll().await {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => break,
            Ok(_) => {}
            Err(e) => panic!("{id} could not connect: {e}"),
        }
    }
    let (closed, when) = oneshot::channel();
    tokio::spawn(async move {
        let _client = client;
        while el.poll().await.is_ok() {}
        let _ = closed.send(Instant::now());
    });
    when
}

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A stand-in external broker admin API: records when each `DELETE /api/v1/clients/{id}` arrives.
async fn external_broker() -> (std::net::SocketAddr, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let seen = seen.clone();
        async move {
            let now = Instant::now();
            if let Some(id) = uri.path().strip_prefix("/api/v1/clients/") {
                seen.lock().unwrap().entry(id.to_owned()).or_insert(now);
            }
            axum::http::StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, arrivals)
}

fn report(what: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{what}, {CLIENTS} revocations with {CLIENTS} live sessions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (external, arrivals) = external_broker().await;
    let config = Config {
        broker_targets: vec![format!("rmqtt=http://{external}").parse().unwrap()],
        listen: "127.0.0.1:0".parse().unwrap(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}/bench.db", dir.path().display()),
        open_signup: true,
        site_root: "target/site".into(),
        ..Config::defaults()
    };
    let running = server::start(config).await.unwrap();
    let base = format!("http://{}", running.addr);
    let mqtt = running.mqtt_addr().unwrap();
    let http = common::signed_up(&base, "Bench Corp").await;

    eprintln!("creating {CLIENTS} clients and connecting a device for each…");
    let gate = Arc::new(Semaphore::new(8));
    let mut created = Vec::new();
    for i in 0..CLIENTS {
        let (http, base, gate) = (http.clone(), base.clone(), gate.clone());
        created.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let id = format!("rev-{i:04}");
            let key = format!("kgk-revocation-bench-{i:04}");
            let answer: serde_json::Value = http
                .post(format!("{base}/api/clients/create"))
                .form(&[
                    ("client_id", id.as_str()),
                    ("key", key.as_str()),
                    ("name", id.as_str()),
                    ("description", ""),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let ns = answer["connection"]["namespace"]
                .as_str()
                .unwrap()
                .to_owned();
            (id, key, ns)
        }));
    }
    let mut devices = Vec::new();
    for task in created {
        let (id, key, ns) = task.await.unwrap();
        let closed = device(mqtt, &id, &ns, &key).await;
        devices.push((id, closed));
    }

    eprintln!("deactivating each client in turn…");
    let mut latencies = Vec::with_capacity(CLIENTS);
    let mut external_latencies = Vec::with_capacity(CLIENTS);
    for (id, closed) in devices {
        let answer = http
            .post(format!("{base}/api/clients/set_active"))
            .form(&[("client_id", id.as_str()), ("active", "false")])
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
        let returned = Instant::now();
        let at = tokio::time::timeout(Duration::from_secs(10), closed)
            .await
            .unwrap_or_else(|_| panic!("{id} was still connected 10 s after deactivation"))
            .unwrap();
        latencies.push(at.saturating_duration_since(returned));
        let deadline = Instant::now() + Duration::from_secs(10);
        let arrived = loop {
            if let Some(at) = arrivals.lock().unwrap().get(&id) {
                break *at;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: no disconnect request at the external broker 10 s after deactivation"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        external_latencies.push(arrived.saturating_duration_since(returned));
    }
    report("click to disconnect (embedded broker)", latencies);
    report(
        "click to admin API request (external broker target)",
        external_latencies,
    );
    running.stop().await;
}
