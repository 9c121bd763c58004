//! Settings → Activity over real HTTP, at 100,000 events: pages walk back without gaps or
//! repeats, each filter selects exactly its events (and a filter's `%` or `_` is a character,
//! not a wildcard), the CSV export holds what the filters select, another organization's
//! events never show, and MQTT failures are there.

use crate::support::{Engine, TestApp, engines};
use app::model::{ActivityPage, AuditAction};
use app::store::audit::{Seeded, insert_many_for_tests};

const EVENTS: usize = 100_000;
const T0: i64 = 1_700_000_000_000;

/// Event `i`: every 10th a refused MQTT login from 198.51.100.x, the rest client updates by two
/// users; one minute apart, oldest first.
fn event(i: usize) -> Seeded {
    let mqtt = i.is_multiple_of(10);
    Seeded {
        actor: if mqtt {
            format!("sensor-{:05}", i % 1000)
        } else if i.is_multiple_of(2) {
            "ann@example.test".into()
        } else {
            "bob@example.test".into()
        },
        action: if mqtt {
            AuditAction::MqttAuthFailed
        } else {
            AuditAction::ClientUpdated
        },
        target: format!("pump-{:06}", i),
        address: if mqtt {
            format!("198.51.100.{}", i % 200)
        } else {
            "192.0.2.1".into()
        },
        at: T0 + i as i64 * 60_000,
    }
}

async fn page(tenant: &crate::support::Tenant, form: &[(&str, &str)]) -> ActivityPage {
    tenant
        .call("activity/list", form)
        .await
        .unwrap_or_else(|e| panic!("activity/list {form:?}: {e:?}"))
}

#[engines]
async fn a_hundred_thousand_events_page_filter_and_export_exactly(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let acme_id = acme.me().await.organization_id;
    insert_many_for_tests(&app.db, &acme_id, EVENTS, event)
        .await
        .unwrap();
    // A Globex event that matches every filter below but the organization.
    let globex_id = globex.me().await.organization_id;
    insert_many_for_tests(&app.db, &globex_id, 1, |_| Seeded {
        target: "pump-099990".into(),
        ..event(99_990)
    })
    .await
    .unwrap();

    // The newest page, then three older ones: 50 each, newest first, no gaps, no repeats.
    let first = page(&acme, &[]).await;
    assert!(first.total > EVENTS as u64, "{}", first.total);
    assert_eq!(first.entries.len(), 50);
    let mut seen: Vec<i64> = first.entries.iter().map(|e| e.id).collect();
    let mut cursor = first.older.expect("an older page");
    for _ in 0..3 {
        let older = page(&acme, &[("before", &cursor.to_string())]).await;
        assert_eq!(older.entries.len(), 50);
        assert_eq!(
            older.entries[0].id,
            seen.last().unwrap() - 1,
            "a gap between pages"
        );
        seen.extend(older.entries.iter().map(|e| e.id));
        cursor = older.older.unwrap();
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1] + 1));
    // The last page: what is left, and no older page after it.
    let oldest: i64 =
        sqlx::query_scalar("SELECT MIN(id) FROM audit_events WHERE organization_id = $1")
            .bind(&acme_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let last = page(&acme, &[("before", &(oldest + 1).to_string())]).await;
    assert_eq!(
        last.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        [oldest]
    );
    assert_eq!(last.older, None);

    // Filters: what, who, target, address, time range; together.
    let mqtt = page(&acme, &[("filter[action]", "mqtt.auth_failed")]).await;
    assert_eq!(mqtt.total, (EVENTS / 10) as u64);
    assert!(
        mqtt.entries
            .iter()
            .all(|e| e.action == AuditAction::MqttAuthFailed)
    );
    let ann = page(&acme, &[("filter[actor]", "ANN@")]).await;
    assert_eq!(ann.total, (EVENTS / 2 - EVENTS / 10) as u64);
    let one = page(&acme, &[("filter[target]", "pump-099990")]).await;
    assert_eq!(one.total, 1);
    assert_eq!(one.entries[0].target, "pump-099990");
    let from = page(&acme, &[("filter[address]", "198.51.100.7")]).await;
    // Matching anywhere: of the addresses used (198.51.100.0, .10, … .190), only .70 holds
    // "198.51.100.7".
    assert_eq!(from.total, (EVENTS / 200) as u64);
    let hour = page(
        &acme,
        &[
            ("filter[from]", &(T0 + 60 * 60_000).to_string()),
            ("filter[to]", &(T0 + 120 * 60_000).to_string()),
        ],
    )
    .await;
    assert_eq!(hour.total, 60);
    assert!(
        hour.entries
            .iter()
            .all(|e| (T0 + 3_600_000..T0 + 7_200_000).contains(&e.at))
    );
    let together = page(
        &acme,
        &[
            ("filter[action]", "mqtt.auth_failed"),
            ("filter[target]", "pump-0999"),
        ],
    )
    .await;
    assert_eq!(together.total, 10);

    // LIKE's wildcards are characters: nothing is named "%" or "pump_0".
    for literal in ["%", "pump_0", "\\"] {
        let none = page(&acme, &[("filter[target]", literal)]).await;
        assert_eq!(none.total, 0, "{literal:?} matched {} events", none.total);
    }

    // The export holds exactly what the filters select, newest first.
    let csv: String = acme
        .call(
            "activity/export",
            &[
                ("filter[action]", "mqtt.auth_failed"),
                ("filter[target]", "pump-0999"),
            ],
        )
        .await
        .unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 11, "{csv}");
    assert!(lines[1].contains("\"pump-099990\""), "{}", lines[1]);
    assert!(lines[10].contains("\"pump-099900\""), "{}", lines[10]);

    // Globex sees its own event only.
    let theirs = page(&globex, &[("filter[target]", "pump-")]).await;
    assert_eq!(theirs.total, 1);
    app.stop().await;
}
