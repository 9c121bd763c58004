//! Importing clients with the hashes their devices already have, from a file's text: a preview
//! of every entry and problem, then the import itself, all or nothing
//! (`use_cases::imports`).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What an import of a file found, or did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Every entry, where it is in the file and the Client ID it becomes.
    pub entries: Vec<ImportLine>,
    /// Every problem, where it is and what is wrong; with any, nothing is imported.
    pub errors: Vec<ImportLine>,
    /// How many clients were created: 0 for a preview or a file with problems.
    pub created: usize,
}

/// Something at a place in the file: `line 3` or `client 2` (of a JSON file's `clients`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLine {
    pub position: String,
    pub text: String,
}

/// Reads `text` as a file of `format` (`mosquitto-password-file` or `mosquitto-dynsec`) and,
/// when `commit`, creates its clients in the current workspace with their hashes; otherwise
/// only previews it. Problems in the file are the report's errors, not a failed request.
#[server(prefix = "/api", endpoint = "clients/import_hashes")]
pub async fn import_hashes(
    format: String,
    text: String,
    commit: bool,
) -> Result<ImportReport, AppError> {
    use crate::import::ImportFormat;
    use crate::use_cases::imports::{self, ImportFailure};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let format = match format.as_str() {
        "mosquitto-password-file" => ImportFormat::MosquittoPasswordFile,
        "mosquitto-dynsec" => ImportFormat::MosquittoDynsec,
        _ => return Err(AppError::BadRequest("unknown import format".into())),
    };
    let actor = caller.actor();
    let outcome = if commit {
        imports::import(&state, &actor, &caller.workspace, format, &text)
            .await
            .map(|created| ImportReport {
                created,
                ..ImportReport::default()
            })
    } else {
        imports::preview(&state, &actor, format, &text)
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
