//! Export over HTTP, as the Clients page's Export buttons call it: every client of the current
//! workspace and nothing else (not another workspace's, not another organization's), in CSV and
//! JSON, never a key nor a hash, a hostile name defused for spreadsheets; viewers may export.

use crate::support::{Engine, TestApp, engines, invited};
use app::model::client_export::ExportedClient;
use app::model::{ClientKey, RevealedKey, Role};

#[engines]
async fn an_export_holds_the_workspaces_clients_and_never_a_key_or_hash(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let theirs = globex.new_client("Theirs").await;
    let boiler = acme.new_client("Boiler").await;
    let hostile = acme.new_client("=HYPERLINK(\"http://x\")").await;
    let rotated: RevealedKey = acme
        .call(
            "clients/rotate_key",
            &[
                ("client_id", boiler.connection.client_id.as_str()),
                ("key", ClientKey::generate().expose()),
                ("retire", "24h"),
            ],
        )
        .await
        .unwrap();

    let json: String = acme
        .call("clients/export", &[("format", "Json")])
        .await
        .unwrap();
    let exported: Vec<ExportedClient> = serde_json::from_str(&json).unwrap();
    let mut ids: Vec<&str> = exported.iter().map(|c| c.client_id.as_str()).collect();
    ids.sort();
    let mut expected = vec![
        boiler.connection.client_id.as_str(),
        hostile.connection.client_id.as_str(),
    ];
    expected.sort();
    assert_eq!(ids, expected, "this workspace's clients, no one else's");
    let boiler_out = exported
        .iter()
        .find(|c| c.client_id == boiler.connection.client_id.as_str())
        .unwrap();
    assert_eq!(
        boiler_out.keys.len(),
        2,
        "both keys of the rotation, by fingerprint"
    );
    assert_eq!(
        boiler_out.keys[1].fingerprint,
        rotated.row.keys[1].fingerprint
    );

    let csv: String = acme
        .call("clients/export", &[("format", "Csv")])
        .await
        .unwrap();
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        3,
        "{csv}"
    );
    assert!(
        csv.contains("\"'=HYPERLINK("),
        "a formula is defused: {csv}"
    );

    let hashes = app::store::client_keys::list_hashes(&app.db, &boiler.connection.client_id)
        .await
        .unwrap();
    for file in [&json, &csv] {
        for secret in [
            boiler.key.expose(),
            rotated.key.expose(),
            hostile.key.expose(),
            &hashes[0],
            &hashes[1],
        ] {
            assert!(!file.contains(secret), "an export holds a key or a hash");
        }
        assert!(!file.contains(theirs.connection.client_id.as_str()));
    }

    // A viewer may export what they may read.
    let viewer = invited(&acme, Role::Viewer).await;
    let theirs_json: String = viewer
        .call("clients/export", &[("format", "Json")])
        .await
        .unwrap();
    assert_eq!(theirs_json, json);
    // A hand-made request with another format is a clear 400, not an empty file.
    let answer = acme.post("clients/export", &[("format", "Xml")]).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    app.stop().await;
}
