//! A burst of sign-ins, sent as an attacker would: 500 at once for one email, each from its own
//! cookie jar, against the real `keygate` binary. The back-off must hold however the requests
//! interleave (each reserves its attempt before its password is verified), and argon2id runs on
//! the dashboard's bounded pool (one worker by default), so the burst cannot take the process's
//! memory: one thread's 19 MiB, not a blocking thread's for each request.

use crate::support::keygate_process::KeygateProcess;
use crate::support::scrape::Scrape;
use crate::support::{Engine, TestDatabase, anonymous_at, engines, sign_up_at, unused_address};
use app::error::AppError;
use app::model::FieldError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How many verifications the dashboard's back-off (src/startup) allows in `elapsed`: five free
/// failures and the sixth, which locks for 2 s; then one more each time a lock runs out, the lock
/// doubling each time.
fn allowed_verifications(elapsed: Duration) -> u64 {
    let (mut allowed, mut lock, mut locked_until) =
        (6, Duration::from_secs(2), Duration::from_secs(2));
    while locked_until < elapsed {
        allowed += 1;
        lock *= 2;
        locked_until += lock;
    }
    allowed
}

/// How much the burst may add to the process's resident memory: one argon2id worker's 19 MiB and
/// room for 500 connections' buffers, far from 500 × 19 MiB.
const RESIDENT_BOUND_KIB: u64 = 96 * 1024;

/// `keygate_password_hashes_total` from the metrics endpoint.
async fn password_hashes(metrics: SocketAddr) -> u64 {
    Scrape::of(metrics)
        .await
        .count("keygate_password_hashes_total", &[]) as u64
}

#[engines]
async fn five_hundred_parallel_sign_ins_for_one_email_run_at_most_the_allowed_verifications(
    engine: Engine,
) {
    let database = TestDatabase::create(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let (listen, metrics) = (unused_address(), unused_address());
    let args: Vec<String> = [
        "--database-url",
        &database.url,
        "--no-broker",
        "--metrics-listen",
        &metrics.to_string(),
        "--site-root",
        &dir.path().to_string_lossy(),
    ]
    .map(String::from)
    .into();
    let keygate =
        Arc::new(KeygateProcess::start(listen, dir.path().join("keygate.log"), &args).await);
    let base = format!("http://{listen}");
    let ann = sign_up_at(&base, "Burst Corp").await;
    let hashes_before = password_hashes(metrics).await;
    let resident_before = keygate.resident_kib();

    // The highest resident size while the burst runs, sampled every 10 ms.
    let peak = Arc::new(AtomicU64::new(resident_before));
    let sampler = tokio::spawn({
        let (keygate, peak) = (keygate.clone(), peak.clone());
        async move {
            loop {
                peak.fetch_max(keygate.resident_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    // Every browser is made first (each builds its own HTTP client), then all 500 requests leave
    // together.
    let browsers: Vec<_> = (0..500).map(|_| anonymous_at(&base)).collect();
    let go = Arc::new(tokio::sync::Barrier::new(browsers.len()));
    let started = std::time::Instant::now();
    let burst: Vec<_> = browsers
        .into_iter()
        .map(|browser| {
            let (email, go) = (ann.email.clone(), go.clone());
            tokio::spawn(async move {
                go.wait().await;
                browser.sign_in(&email, "not the password").await
            })
        })
        .collect();
    let (mut wrong, mut throttled) = (0u64, 0u64);
    for answer in burst {
        match answer.await.unwrap() {
            Err(AppError::Invalid {
                field: FieldError::Password,
                ..
            }) => wrong += 1,
            Err(AppError::TooManyAttempts(seconds)) => {
                assert!(seconds >= 1);
                throttled += 1;
            }
            other => panic!("a wrong password was answered {other:?}"),
        }
    }
    let allowed = allowed_verifications(started.elapsed());
    sampler.abort();
    let verifications = password_hashes(metrics).await - hashes_before;

    assert!(
        (1..=allowed).contains(&verifications),
        "{verifications} passwords were verified for 500 parallel sign-ins in {:?}; the back-off allows {allowed}",
        started.elapsed()
    );
    assert_eq!(
        wrong, verifications,
        "every verification answered wrong password, nothing else did"
    );
    assert_eq!(wrong + throttled, 500);
    let grew = peak.load(Ordering::Relaxed).saturating_sub(resident_before);
    assert!(
        grew < RESIDENT_BOUND_KIB,
        "resident memory grew by {grew} KiB during the burst (bound {RESIDENT_BOUND_KIB} KiB)"
    );
    // The lock holds for the right password too, and nothing signed anyone in.
    match anonymous_at(&base).sign_in(&ann.email, &ann.password).await {
        Err(AppError::TooManyAttempts(_)) => {}
        other => panic!("the locked email was answered {other:?}"),
    }
    drop(database);
}
