//! Importing Keygate's own files over HTTP, as the Clients page's Import calls it: an export
//! read back (CSV and JSON) with a key generated for each client, handed back once and working at
//! once on the broker, or with the keys the file gives; every bad row named by its line and
//! nothing created; a Client ID in use refused; a viewer refused with nothing changed; and no way
//! into another organization's workspace.

use crate::broker::Setup;
use crate::broker::device::{Device, Login, Version};
use crate::support::{Engine, TestApp, counts, engines, invited, unique_suffix};
use app::api::imports::ImportReport;
use app::error::AppError;
use app::model::{ClientDetails, Role};

async fn import(
    tenant: &crate::support::Tenant,
    format: &str,
    text: &str,
    commit: bool,
) -> ImportReport {
    tenant
        .call(
            "clients/import",
            &[
                ("format", format),
                ("text", text),
                ("commit", if commit { "true" } else { "false" }),
            ],
        )
        .await
        .expect("clients/import answers")
}

/// Connects as a device in connection form 3 (username = Client ID) with `key`.
async fn connects(setup: &Setup, client_id: &str, key: &str) -> bool {
    let login = Login::new(&format!("dev-{}", unique_suffix()), client_id, key);
    match Device::connect(Version::V5, &setup.tcp(), &login).await {
        Ok(device) => {
            device.disconnect().await;
            true
        }
        Err(_) => false,
    }
}

async fn details(
    tenant: &crate::support::Tenant,
    client_id: &str,
) -> Result<ClientDetails, AppError> {
    tenant
        .call("clients/get", &[("client_id", client_id)])
        .await
}

#[engines]
async fn an_export_imported_with_generated_keys_comes_back_with_a_key_each_shown_once(
    engine: Engine,
) {
    let setup = Setup::new(engine).await;
    let acme = &setup.tenant;
    let boiler = acme.new_client("Boiler, basement").await;
    let id = boiler.connection.client_id.to_string();
    let _: app::model::ClientRow = acme
        .call(
            "clients/update_access",
            &[
                ("client_id", &id),
                ("scope_mode", "only"),
                ("scope", "sensor-1,site=berlin"),
            ],
        )
        .await
        .unwrap();
    let _: app::model::ClientRow = acme
        .call(
            "clients/set_active",
            &[("client_id", &id), ("active", "false")],
        )
        .await
        .unwrap();
    let before = details(acme, &id).await.unwrap().row;

    for format in ["Csv", "Json"] {
        let exported: String = acme
            .call("clients/export", &[("format", format)])
            .await
            .unwrap();
        // The workspace's first client stays; the boiler is deleted and comes back from the file.
        let _: () = acme
            .call("clients/delete", &[("client_id", &id)])
            .await
            .unwrap();
        let kept = setup.client.connection.client_id.to_string();
        let only_boiler = drop_client(&exported, format, &kept);
        let preview = import(acme, "keygate-generated", &only_boiler, false).await;
        assert_eq!(preview.errors, vec![], "{format}");
        assert_eq!(preview.entries.len(), 1);
        assert!(preview.keys.is_empty(), "a preview generates nothing");
        assert!(
            details(acme, &id).await.is_err(),
            "a preview creates nothing"
        );

        let audit_before = counts(&setup.app.db).await.audit_events;
        let report = import(acme, "keygate-generated", &only_boiler, true).await;
        assert_eq!(
            (report.created, report.errors.clone()),
            (1, vec![]),
            "{format}"
        );
        assert_eq!(report.keys.len(), 1);
        assert_eq!(report.keys[0].client_id, id);
        assert!(report.keys_csv().starts_with("client_id,key\r\n"));
        assert!(report.keys_csv().contains(report.keys[0].key.expose()));
        assert_eq!(
            counts(&setup.app.db).await.audit_events,
            audit_before + 1,
            "audited"
        );

        let after = details(acme, &id).await.unwrap().row;
        assert_eq!(after.name, before.name, "{format}");
        assert_eq!(after.description, before.description);
        assert_eq!(after.active, before.active);
        assert_eq!(after.scope, before.scope);
        assert!(
            !connects(&setup, &id, report.keys[0].key.expose()).await,
            "the client came back inactive"
        );
        let _: app::model::ClientRow = acme
            .call(
                "clients/set_active",
                &[("client_id", &id), ("active", "true")],
            )
            .await
            .unwrap();
        // The restricted client connects as a device of its scope with the key it was given.
        let login = Login::new("sensor-1", &id, report.keys[0].key.expose());
        Device::connect(Version::V5, &setup.tcp(), &login)
            .await
            .expect("the generated key connects at once")
            .disconnect()
            .await;
        let _: app::model::ClientRow = acme
            .call(
                "clients/set_active",
                &[("client_id", &id), ("active", "false")],
            )
            .await
            .unwrap();
    }
    setup.app.stop().await;
}

/// The export without `client_id`'s row.
fn drop_client(exported: &str, format: &str, client_id: &str) -> String {
    if format == "Json" {
        let mut clients: Vec<serde_json::Value> = serde_json::from_str(exported).unwrap();
        clients.retain(|c| c["client_id"] != client_id);
        serde_json::to_string(&clients).unwrap()
    } else {
        exported
            .split_inclusive("\r\n")
            .filter(|line| !line.starts_with(&format!("\"{client_id}\"")))
            .collect()
    }
}

#[engines]
async fn a_file_with_keys_gives_each_client_its_key(engine: Engine) {
    let setup = Setup::new(engine).await;
    let suffix = unique_suffix();
    let (one, two) = (format!("given-one-{suffix}"), format!("given-two-{suffix}"));
    let generated = app::model::ClientKey::generate();
    let text = format!(
        "client_id,name,description,key\n{one},One,typed key,my-own-typed-key-0123\n{two},Two,,{}\n",
        generated.expose()
    );
    let report = import(&setup.tenant, "keygate-given", &text, true).await;
    assert_eq!((report.created, report.errors), (2, vec![]));
    assert!(report.keys.is_empty(), "the file's keys are not sent back");
    assert!(connects(&setup, &one, "my-own-typed-key-0123").await);
    assert!(!connects(&setup, &one, "my-own-typed-key-0124").await);
    assert!(connects(&setup, &two, generated.expose()).await);
    let stored = app::store::client_keys::list_hashes(
        &setup.app.db,
        &app::model::ClientId::parse(&one).unwrap(),
    )
    .await
    .unwrap();
    assert!(
        stored[0].starts_with("$argon2id$"),
        "a typed key is argon2id"
    );
    setup.app.stop().await;
}

#[engines]
async fn bad_rows_are_named_by_line_and_nothing_is_created(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let taken = acme
        .new_client("Taken")
        .await
        .connection
        .client_id
        .to_string();
    let suffix = unique_suffix();
    let good = format!("good-{suffix}");
    let before = counts(&app.db).await;
    let text = format!(
        "client_id,name,active,scope,key\n\
         {good},Good,true,,\n\
         bad id,Bad,true,,\n\
         good2-{suffix},Good,perhaps,,\n\
         scope-{suffix},Scoped,true,\"a b\",\n\
         keyed-{suffix},Keyed,true,,kgk_not-a-real-key\n\
         {good},Again,true,,\n"
    );
    let report = import(&acme, "keygate-generated", &text, true).await;
    let lines: Vec<&str> = report.errors.iter().map(|e| e.position.as_str()).collect();
    assert_eq!(
        lines,
        ["line 3", "line 4", "line 5", "line 6", "line 7"],
        "{:?}",
        report.errors
    );
    assert!(
        report.errors[4].text.contains("also at line 2"),
        "{:?}",
        report.errors
    );
    assert_eq!((report.created, report.keys.len()), (0, 0));
    assert_eq!(counts(&app.db).await, before, "nothing created");

    // A Client ID in use (here, another client's) refuses the whole file.
    let text = format!("client_id,name\n{good},Good\n{taken},Copy\n");
    let report = import(&acme, "keygate-generated", &text, true).await;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].position, "line 3");
    assert!(
        report.errors[0].text.contains("taken"),
        "{:?}",
        report.errors
    );
    assert_eq!(counts(&app.db).await, before, "nothing created");

    // A topic rule outside the workspace's namespace is a problem of its row.
    let rules = r#"[{"permission":"allow","action":"publish","filter":"elsewhere/#"}]"#;
    let json = format!(r#"[{{"client_id": "{good}", "topic_rules": {rules}}}]"#);
    let report = import(&acme, "keygate-generated", &json, false).await;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].position, "client 1");
    assert_eq!(counts(&app.db).await, before, "nothing created");
    app.stop().await;
}

#[engines]
async fn a_viewer_is_refused_and_nothing_changes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let viewer = invited(&owner, Role::Viewer).await;
    let before = counts(&app.db).await;
    let text = format!("client_id,name\nviewer-made-{},Made\n", unique_suffix());
    for commit in ["false", "true"] {
        let answer = viewer
            .post(
                "clients/import",
                &[
                    ("format", "keygate-generated"),
                    ("text", &text),
                    ("commit", commit),
                ],
            )
            .await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert!(matches!(
            answer.decode::<ImportReport>(),
            Err(AppError::Forbidden(_))
        ));
    }
    assert_eq!(counts(&app.db).await, before, "nothing changed");
    app.stop().await;
}

#[engines]
async fn another_organizations_workspace_cannot_be_imported_into(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| config.open_signup = true).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let acme_workspace = acme.me().await.current_workspace_id;
    let refused: Result<(), AppError> = globex
        .call("workspaces/switch", &[("id", &acme_workspace)])
        .await;
    assert!(
        refused.is_err(),
        "another organization's workspace is not found"
    );
    let id = format!("globex-made-{}", unique_suffix());
    let report = import(
        &globex,
        "keygate-generated",
        &format!("client_id\n{id}\n"),
        true,
    )
    .await;
    assert_eq!(report.created, 1);
    let theirs = details(&globex, &id)
        .await
        .expect("in Globex's own workspace");
    assert_eq!(theirs.row.client_id.as_str(), id);
    assert!(details(&acme, &id).await.is_err(), "not in Acme's");
    app.stop().await;
}
