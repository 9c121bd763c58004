//! Importing clients from a file's text into the current workspace: a preview of every entry and
//! problem, then the import itself, all or nothing (`use_cases::imports`).

use crate::error::AppError;
use crate::model::{ClientKey, ImportFormat};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What an import of a file found, or did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// Every entry, where it is in the file and the Client ID it becomes.
    pub entries: Vec<ImportLine>,
    /// Every problem, where it is and what is wrong; with any, nothing is imported.
    pub errors: Vec<ImportLine>,
    /// How many clients were created: 0 for a preview or a file with problems.
    pub created: usize,
    /// The keys generated for the clients created, in the file's order: the only time they are
    /// sent anywhere. Empty when the file brought its own keys or hashes.
    pub keys: Vec<GeneratedKey>,
}

/// Something at a place in the file: `line 3` or `client 2` (of a JSON file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLine {
    pub position: String,
    pub text: String,
}

/// A client an import created and the key generated for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GeneratedKey {
    pub client_id: String,
    pub key: ClientKey,
}

impl ImportReport {
    /// The generated keys as the CSV the page offers for download: `client_id,key`.
    pub fn keys_csv(&self) -> String {
        crate::model::csv::to_csv(
            &["client_id", "key"],
            self.keys
                .iter()
                .map(|k| [k.client_id.clone(), k.key.expose().to_owned()]),
        )
    }
}

/// Reads `text` as a file of `format` (`keygate-generated`, `keygate-given`,
/// `mosquitto-password-file`, `mosquitto-dynsec`, `emqx:sha256:suffix`, …) and, when `commit`,
/// creates its clients in the current workspace; otherwise only previews it. Problems in the
/// file are the report's errors, not a failed request.
#[server(prefix = "/api", endpoint = "clients/import")]
pub async fn import_clients(
    format: ImportFormat,
    text: String,
    commit: bool,
) -> Result<ImportReport, AppError> {
    use crate::use_cases::imports::{self, ImportFailure};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let actor = caller.actor();
    let outcome = if commit {
        imports::import(&state, &actor, &caller.workspace, format, &text)
            .await
            .map(|imported| ImportReport {
                created: imported.created,
                keys: imported
                    .keys
                    .into_iter()
                    .map(|k| GeneratedKey {
                        client_id: k.client_id.to_string(),
                        key: k.key,
                    })
                    .collect(),
                ..ImportReport::default()
            })
    } else {
        imports::preview(&state, &actor, &caller.workspace, format, &text)
            .await
            .map(|entries| ImportReport {
                entries: entries
                    .into_iter()
                    .map(|e| ImportLine {
                        position: e.position.to_string(),
                        text: e.client_id.to_string(),
                    })
                    .collect(),
                ..ImportReport::default()
            })
    };
    match outcome {
        Ok(report) => Ok(report),
        Err(ImportFailure::Invalid(errors)) => Ok(ImportReport {
            errors: errors
                .into_iter()
                .map(|e| ImportLine {
                    position: e.position.to_string(),
                    text: e.problem.to_string(),
                })
                .collect(),
            ..ImportReport::default()
        }),
        Err(ImportFailure::Client(e)) => Err(e.into()),
    }
}
