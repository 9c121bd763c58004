//! The imports use case (`app::use_cases::imports`) on both engines, as any front door calls it:
//! a workspace of another organization, or one an API token does not reach, is "not found" for
//! the preview and the import alike, and a viewer is refused; none of them creates anything.

use super::fixtures::{fresh_db, org};
use super::use_cases::{state, workspace};
use crate::support::{Engine, counts, engines};
use app::model::{ImportFormat, KeySource, Role, TokenScope};
use app::store::StoreError;
use app::use_cases::clients::ClientError;
use app::use_cases::imports::{self, ImportFailure};
use app::use_cases::{Actor, TokenLimit};

const FILE: &str = "client_id,name\nimported-1,Imported\n";
const FORMAT: ImportFormat = ImportFormat::Keygate(KeySource::Generated);

#[track_caller]
fn expect(result: Result<impl std::fmt::Debug, ImportFailure>, denied: bool) {
    let ok = match &result {
        Err(ImportFailure::Client(ClientError::Store(StoreError::NotFound))) => !denied,
        Err(ImportFailure::Client(ClientError::Denied(_))) => denied,
        _ => false,
    };
    assert!(
        ok,
        "expected {}, got {result:?}",
        if denied { "Denied" } else { "NotFound" }
    );
}

#[engines]
async fn another_organizations_workspace_is_not_found_and_a_viewer_is_refused(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let state = state(&db);
    let acme = org(&db, "Acme").await;
    let globex = org(&db, "Globex").await;
    let acme_workspace = workspace(&db, &acme).await;
    let before = counts(&db).await;

    expect(
        imports::preview(&state, &globex.owner, &acme_workspace, FORMAT, FILE).await,
        false,
    );
    expect(
        imports::import(&state, &globex.owner, &acme_workspace, FORMAT, FILE).await,
        false,
    );

    let viewer = Actor {
        role: Role::Viewer,
        ..acme.owner.clone()
    };
    expect(
        imports::import(&state, &viewer, &acme_workspace, FORMAT, FILE).await,
        true,
    );

    let elsewhere = Actor {
        token: Some(TokenLimit {
            token_id: "t1".into(),
            scope: TokenScope::ManageClients,
            workspace_id: Some("another-workspace".into()),
        }),
        ..acme.owner.clone()
    };
    expect(
        imports::import(&state, &elsewhere, &acme_workspace, FORMAT, FILE).await,
        false,
    );
    assert_eq!(counts(&db).await, before, "nothing was created");

    let done = imports::import(&state, &acme.owner, &acme_workspace, FORMAT, FILE)
        .await
        .unwrap();
    assert_eq!((done.created, done.keys.len()), (1, 1));
    assert_eq!(done.keys[0].client_id.as_str(), "imported-1");
    assert_eq!(counts(&db).await.clients, before.clients + 1);
}
