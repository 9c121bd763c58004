//! The dashboard and the broker share a process: each keeps answering while the other is busy.
//! (How fast is measured in bench/, not here.)

use crate::broker::device::{Device, Login, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, engines};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

fn busy(config: &mut server::config::Config) {
    config.mqtt_lockout_after = 100_000;
    config.mqtt_address_lockout_after = 100_000;
}

#[engines]
async fn the_broker_serves_while_the_dashboard_is_loaded(engine: Engine) {
    let setup = Arc::new(Setup::with(engine, busy).await);
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (setup, stop, pages) = (setup.clone(), stop.clone(), pages.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, _) = setup.tenant.page("/clients").await;
                assert!(status.is_success(), "{status}");
                pages.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Fresh clients each time, so every connect pays for argon2id under the load.
    for i in 0..5 {
        let client = setup.tenant.new_client(&format!("Under load {i}")).await;
        let mut device = Device::connect(
            Version::V5,
            &setup.tcp(),
            &login(Form::Namespace, &client, client.key.expose()),
        )
        .await
        .expect("connects under dashboard load");
        let t = topic(&client, "load");
        assert_eq!(device.subscribe(&t).await, 1);
        assert_eq!(device.publish(&t, b"x").await, 0);
        assert!(device.message(Duration::from_secs(10)).await.is_some());
        device.disconnect().await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("every page answered");
    }
    assert!(pages.load(Ordering::Relaxed) > 0);
    Arc::into_inner(setup)
        .expect("no other owners")
        .app
        .stop()
        .await;
}

#[engines]
async fn the_dashboard_serves_during_a_connect_storm(engine: Engine) {
    let setup = Arc::new(Setup::with(engine, busy).await);
    let ns = setup.client.connection.username_namespace().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let mut storm = Vec::new();
    // Eight devices hammering CONNECT with wrong keys: each attempt costs argon2id.
    for d in 0..8 {
        let (setup, stop, attempts, ns) =
            (setup.clone(), stop.clone(), attempts.clone(), ns.clone());
        storm.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let guess = Login::new(
                    &format!("c-storm{d}x{i}"),
                    &ns,
                    "kgk_not-the-right-key-at-all",
                );
                assert!(
                    Device::connect(Version::V311, &setup.tcp(), &guess)
                        .await
                        .is_err()
                );
                attempts.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile the dashboard answers pages and changes.
    for i in 0..5 {
        let (status, html) = setup.tenant.page("/clients").await;
        assert!(status.is_success());
        assert!(html.contains("Boiler room sensor"));
        setup
            .tenant
            .new_client(&format!("During the storm {i}"))
            .await;
    }
    // And a legitimate device still gets in.
    Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .expect("a good key connects during the storm")
    .disconnect()
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in storm {
        task.await.expect("every storm connect was refused");
    }
    assert!(attempts.load(Ordering::Relaxed) >= 8, "the storm ran");
    Arc::into_inner(setup)
        .expect("no other owners")
        .app
        .stop()
        .await;
}
