//! MQTT usernames: one global name space for workspace namespaces and Client IDs. A device's bare
//! username is a namespace (connection form 1) or a Client ID (form 3), so a name may belong to
//! one of them only, or a workspace could be named after another organization's client and catch
//! its devices. Each client and workspace reserves its name in the transaction that creates it;
//! the primary key makes two reservations of one name impossible, on both engines and however
//! the requests race.

use super::{Db, StoreResult, is_unique_violation};
use crate::model::text_enum;
use sqlx::{AnyConnection, Row};

text_enum!(
    /// What a username names, stored in `mqtt_usernames.kind` as its text.
    UsernameKind, "username kind" {
        /// A workspace's namespace (connection form 1).
        Namespace = "namespace",
        /// A client's Client ID (form 3).
        Client = "client",
    }
);

/// Reserves `name` for a new client or workspace, inside its creating transaction. `Ok(false)`
/// when the name is taken (by either kind); the caller says which "taken" that is.
pub(super) async fn reserve_in(
    conn: &mut AnyConnection,
    name: &str,
    kind: UsernameKind,
) -> StoreResult<bool> {
    match sqlx::query("INSERT INTO mqtt_usernames (name, kind) VALUES ($1, $2)")
        .bind(name)
        .bind(kind.as_str())
        .execute(conn)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Gives `name` back, inside the transaction that deletes its client.
pub(super) async fn release_in(
    conn: &mut AnyConnection,
    name: &str,
    kind: UsernameKind,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM mqtt_usernames WHERE name = $1 AND kind = $2")
        .bind(name)
        .bind(kind.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// What `name` names, if anything. Exact: a device's username is compared as it arrived.
pub async fn find(db: &Db, name: &str) -> StoreResult<Option<UsernameKind>> {
    let row = sqlx::query("SELECT kind FROM mqtt_usernames WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok(UsernameKind::parse(&r.try_get::<String, _>("kind")?)?))
        .transpose()
}

/// Whether anyone holds `name`, as a namespace or as a Client ID.
pub async fn exists(db: &Db, name: &str) -> StoreResult<bool> {
    Ok(find(db, name).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn username_kinds_round_trip_as_the_stored_texts() {
        assert_round_trips!(UsernameKind, ["namespace", "client"]);
    }
}
