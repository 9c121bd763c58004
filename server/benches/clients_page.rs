//! Server render time of the Clients page with 10,000 clients in the workspace.
//!
//! Starts the real `keygate` server on a random loopback port with a fresh SQLite file, signs up,
//! seeds the workspace, then times complete GET requests (request to last byte) for the first page,
//! a deep page, a search and a sort. Run with `cargo bench -p server --bench clients_page`.

mod common;

use app::store::{Db, clients, users};
use server::config::Config;
use std::time::{Duration, Instant};

const CLIENTS: usize = 10_000;
const WARMUP: usize = 20;
const SAMPLES: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(http: &reqwest::Client, url: &str) -> (Duration, Duration, Duration, usize) {
    let mut bytes = 0;
    for _ in 0..WARMUP {
        bytes = http
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
    }
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        let response = http.get(url).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let body = response.bytes().await.unwrap();
        times.push(start.elapsed());
        assert!(body.len() > 1000);
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        mean,
        bytes,
    )
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported here.
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/bench.db", dir.path().display());
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        open_signup: true,
        site_root: "target/site".into(),
        ..Config::defaults()
    };
    let running = server::start(config).await.unwrap();
    let base = format!("http://{}", running.addr);
    let http = common::signed_up(&base, "Bench Org").await;

    let db = Db::connect(&database_url).await.unwrap();
    let user = users::find_by_email(&db, &app::model::Email::parse("bench@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let workspace = app::store::workspaces::list(&db, &user.organization_id)
        .await
        .unwrap()
        .remove(0);
    // One real hash shared by every row (a generated key's: no argon2id): the page never reads
    // it.
    let pool = app::argon2_pool::Argon2Pool::unobserved("bench-hash", 1, 1);
    let hash = app::secrets::hash_key(&pool, &app::model::ClientKey::generate())
        .await
        .unwrap();
    let seeding = Instant::now();
    clients::insert_many_for_bench(
        &db,
        &workspace.id,
        &user.organization_id,
        CLIENTS,
        hash.as_str(),
    )
    .await
    .unwrap();
    eprintln!("seeded {CLIENTS} clients in {:.1?}", seeding.elapsed());
    assert_eq!(
        clients::count(&db, &workspace.id).await.unwrap(),
        CLIENTS as u64
    );

    println!(
        "Clients page, {CLIENTS} clients in the workspace, SQLite, {SAMPLES} sequential requests each (after {WARMUP} warm-up):"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9}",
        "request", "p50", "p99", "mean", "bytes"
    );
    for (label, path) in [
        ("GET /clients (page 1, newest)", "/clients"),
        ("GET /clients?page=200", "/clients?page=200"),
        ("GET /clients?q=sensor 0099", "/clients?q=sensor%200099"),
        (
            "GET /clients?sort=name&dir=asc",
            "/clients?sort=name&dir=asc",
        ),
        ("GET /clients?sort=last_seen", "/clients?sort=last_seen"),
    ] {
        let (p50, p99, mean, bytes) = measure(&http, &format!("{base}{path}")).await;
        println!(
            "{label:<34} {:>7.2}ms {:>7.2}ms {:>7.2}ms {bytes:>9}",
            ms(p50),
            ms(p99),
            ms(mean)
        );
    }
    db.close().await;
    running.stop().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
