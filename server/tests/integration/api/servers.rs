//! This suite runs many servers in one process. Starting one must never stall the pages of
//! another: listing a router's routes switches resource loading off process-wide for a moment,
//! and a page whose data first loads in that moment must not wait forever.

use crate::support::{Engine, TestApp, engines};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Far above a page's time on a loaded CI machine, far below the client's own 60 s.
const PAGE_DEADLINE: Duration = Duration::from_secs(15);

#[engines]
async fn pages_finish_while_other_servers_start(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let tenant = Arc::new(app.sign_up("Acme").await);
    tenant.new_client("Sensor").await;
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for _ in 0..6 {
        let (tenant, stop, pages) = (tenant.clone(), stop.clone(), pages.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, html) = tokio::time::timeout(PAGE_DEADLINE, tenant.page("/clients"))
                    .await
                    .expect("the Clients page finished while another server started");
                assert!(status.is_success(), "{status}");
                assert!(html.contains("Sensor"), "the page carries its data");
                pages.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for _ in 0..12 {
        TestApp::spawn(Engine::Sqlite).await.stop().await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("every page finished");
    }
    assert!(
        pages.load(Ordering::Relaxed) > 0,
        "pages were loaded meanwhile"
    );
    app.stop().await;
}
