//! Refused logins per client and hour (`store::login_failures`) on both engines: tallies of one
//! hour add up in one row whose latest failure is the later one, the 24-hour count takes whole
//! hours, old hours are deleted, a deleted client's rows go with it, and a tally for a client of
//! another organization (or none) is dropped.

use super::fixtures::{add_client, client_ref, fresh_db, id, org};
use crate::support::{Engine, count_rows, engines};
use app::model::{ClientRef, LoginFailure, LoginFailureReason};
use app::store::clients;
use app::store::login_failures::{self, HOUR_MS, Summary, Tally, hour_of};

fn tally(client: &ClientRef, at: i64, failures: u64, reason: LoginFailureReason) -> Tally {
    Tally {
        client: client.clone(),
        hour: hour_of(at),
        failures,
        last: LoginFailure {
            at,
            address: format!("10.0.0.{}", failures % 250),
            reason,
        },
    }
}

/// A moment well inside an hour, `hours` before the current one.
fn hours_ago(hours: i64) -> i64 {
    hour_of(app::store::now_millis()) - hours * HOUR_MS + HOUR_MS / 2
}

#[engines]
async fn tallies_of_one_hour_add_up_in_one_row_with_the_latest_failure(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-1", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-1");
    let at = hours_ago(0);
    login_failures::record(
        &db,
        &[tally(&boiler, at + 10, 7, LoginFailureReason::WrongKey)],
    )
    .await
    .unwrap();
    // An earlier failure written later (another process's window) does not hide the latest.
    login_failures::record(
        &db,
        &[
            tally(&boiler, at, 3, LoginFailureReason::Inactive),
            tally(&boiler, at + 20, 1, LoginFailureReason::LockedOut),
        ],
    )
    .await
    .unwrap();
    assert_eq!(count_rows(&db, "client_login_failures").await, 1);
    let summary = login_failures::summary(&db, &boiler, at - 24 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(summary.failures, 11);
    assert_eq!(
        summary.last,
        Some(LoginFailure {
            at: at + 20,
            address: "10.0.0.1".into(),
            reason: LoginFailureReason::LockedOut
        })
    );
}

#[engines]
async fn the_day_counts_whole_hours_and_the_last_failure_reaches_back_further(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-1", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-1");
    let now = app::store::now_millis();
    login_failures::record(
        &db,
        &[
            tally(&boiler, hours_ago(48), 100, LoginFailureReason::WrongKey),
            tally(&boiler, hours_ago(24), 10, LoginFailureReason::WrongKey),
            tally(&boiler, hours_ago(3), 2, LoginFailureReason::OutsideScope),
        ],
    )
    .await
    .unwrap();
    let day = login_failures::summary(&db, &boiler, now - 24 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(
        day.failures, 12,
        "the hour that began 24 hours ago counts in full, two days ago not"
    );
    assert_eq!(
        day.last.map(|f| f.reason),
        Some(LoginFailureReason::OutsideScope)
    );

    // Old hours go; the latest stays.
    let deleted = login_failures::delete_before(&db, hour_of(now) - 30 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(count_rows(&db, "client_login_failures").await, 2);
}

#[engines]
async fn rows_belong_to_their_client_row(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    add_client(&db, &acme, "boiler-1", "Boiler").await;
    let boiler = client_ref(&acme, "boiler-1");
    let at = hours_ago(0);
    login_failures::record(
        &db,
        &[
            tally(&boiler, at, 4, LoginFailureReason::WrongKey),
            // Globex has no boiler-1, and nobody has ghost-1: dropped, not an error.
            tally(
                &client_ref(&globex, "boiler-1"),
                at,
                9,
                LoginFailureReason::WrongKey,
            ),
            tally(
                &client_ref(&acme, "ghost-1"),
                at,
                9,
                LoginFailureReason::WrongKey,
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(count_rows(&db, "client_login_failures").await, 1);
    assert_eq!(
        login_failures::summary(&db, &client_ref(&globex, "boiler-1"), at - HOUR_MS)
            .await
            .unwrap(),
        Summary::default(),
        "another organization reads nothing of it"
    );

    clients::delete(&db, &acme.ctx, &id("boiler-1"))
        .await
        .unwrap();
    assert_eq!(
        count_rows(&db, "client_login_failures").await,
        0,
        "a deleted client's failures go with it"
    );
    // The Client ID taken up again starts with a clean history.
    add_client(&db, &acme, "boiler-1", "Boiler again").await;
    assert_eq!(
        login_failures::summary(&db, &boiler, at - HOUR_MS)
            .await
            .unwrap(),
        Summary::default()
    );
}
