//! Operator commands (`keygate COMMAND`): one change to the database, a sentence saying what it
//! did, and an exit. They need no running server, and refuse what a running one would undo.

use crate::config::{Command, Config};
use app::store::{Db, StoreError, broker_targets};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("cannot open the database: {0}")]
    Database(StoreError),
    #[error("there is no database at {0}; pass the one Keygate runs with as --database-url")]
    NoDatabase(String),
    #[error("there is no broker target named {name:?}; {}", known_targets(.known))]
    UnknownTarget { name: String, known: Vec<String> },
    #[error(
        "broker target {name:?} is delivered to by the running node {holder:?}; take it out of \
         that process's configuration (or stop that node) first, or it comes straight back"
    )]
    TargetServed { name: String, holder: String },
    #[error("the database refused the change: {0}")]
    Store(StoreError),
}

fn known_targets(known: &[String]) -> String {
    if known.is_empty() {
        "none is registered".to_owned()
    } else {
        format!("the registered ones are: {}", known.join(", "))
    }
}

/// Runs `command` and says what it did.
pub async fn run(command: &Command, config: &Config) -> Result<String, CommandError> {
    // An operator command on a mistyped path must not leave a fresh, empty database behind.
    if let Some(path) = app::store::sqlite_file(&config.database_url)
        && !std::path::Path::new(path).exists()
    {
        return Err(CommandError::NoDatabase(path.to_owned()));
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(CommandError::Database)?;
    let said = match command {
        Command::ForgetBrokerTarget { name } => forget_broker_target(&db, name).await,
        Command::Clients { .. } | Command::Workspaces { .. } => {
            unreachable!("`main` runs the API commands with `crate::cli`, without a database")
        }
    };
    db.pool().close().await;
    said
}

async fn forget_broker_target(db: &Db, name: &str) -> Result<String, CommandError> {
    match broker_targets::forget(db, name).await {
        Ok(forgotten) if forgotten.dropped == 0 => Ok(format!(
            "Forgot broker target {name:?}; no revocation was waiting for it."
        )),
        Ok(forgotten) => Ok(format!(
            "Forgot broker target {name:?}: {} revocation(s) it had not confirmed will not reach it; \
             {} of them waited for it alone and are now done.",
            forgotten.dropped, forgotten.completed
        )),
        Err(StoreError::NotFound) => Err(CommandError::UnknownTarget {
            name: name.to_owned(),
            known: broker_targets::list(db)
                .await
                .map_err(CommandError::Store)?
                .into_iter()
                .map(|t| t.name)
                .collect(),
        }),
        Err(StoreError::TargetServed { holder }) => Err(CommandError::TargetServed {
            name: name.to_owned(),
            holder,
        }),
        Err(other) => Err(CommandError::Store(other)),
    }
}
