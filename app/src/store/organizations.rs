//! Organizations: the tenant boundary. Every other object belongs to exactly one.

use super::{
    Db, StoreError, StoreResult, audit, install, memberships, new_id, now_millis, users, workspaces,
};
use crate::model::{AuditAction, Email, Namespace, OrgName, Role};
use sqlx::{AnyConnection, Row};

/// An organization as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
}

/// The rows sign-up creates.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub organization_id: String,
    pub user_id: String,
    pub workspace_id: String,
}

/// Creates an organization, its owner and its default workspace (namespace derived from the
/// organization's name, with a suffix when taken) in one transaction. The first sign-up claims
/// the install and becomes its operator; any later one needs sign-up to be open (the dashboard's
/// choice, else `signup_default`), checked in the same transaction: [`StoreError::SignupClosed`].
pub async fn create_with_owner(
    db: &Db,
    name: &OrgName,
    email: &Email,
    password_hash: &str,
    address: &str,
    signup_default: bool,
) -> StoreResult<NewAccount> {
    let base = Namespace::derive(name.as_str());
    let mut attempt = 1;
    loop {
        // The free namespace is looked up before the transaction, so a concurrent sign-up of the
        // same name can take it first: then look again. The sign-up form has no namespace field
        // to show "taken" at, and the user never chose one.
        let namespace = workspaces::free_namespace(db, &base).await?;
        let attempt_result = try_create_with_owner(
            db,
            name,
            email,
            password_hash,
            address,
            &namespace,
            signup_default,
        )
        .await;
        match attempt_result {
            Err(StoreError::NamespaceTaken) if attempt < workspaces::NAMESPACE_ATTEMPTS => {
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// One attempt of [`create_with_owner`], under `namespace`.
async fn try_create_with_owner(
    db: &Db,
    name: &OrgName,
    email: &Email,
    password_hash: &str,
    address: &str,
    namespace: &Namespace,
    signup_default: bool,
) -> StoreResult<NewAccount> {
    let organization_id = new_id();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&organization_id)
        .bind(name.as_str())
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    let user_id = users::insert_in(&mut tx, &organization_id, email, password_hash).await?;
    if !install::claim_in(&mut tx, &user_id).await?
        && !install::signup_choice_in(&mut tx)
            .await?
            .unwrap_or(signup_default)
    {
        return Err(StoreError::SignupClosed);
    }
    memberships::insert_in(&mut tx, &organization_id, &user_id, Role::Owner).await?;
    let workspace_id =
        workspaces::insert_in(&mut tx, &organization_id, "Default", namespace).await?;
    let ctx = audit::AuditContext {
        organization_id: organization_id.clone(),
        actor: email.as_str().to_owned(),
        address: address.to_owned(),
    };
    audit::insert_in(
        &mut tx,
        &ctx,
        Some(&workspace_id),
        AuditAction::OrganizationCreated,
        name.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(NewAccount {
        organization_id,
        user_id,
        workspace_id,
    })
}

/// An organization by id.
pub async fn get(db: &Db, id: &str) -> StoreResult<Organization> {
    let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Organization {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
    })
}

/// How many days a new key of the organization works for by default; `None`: never expires.
pub async fn get_default_key_days(db: &Db, id: &str) -> StoreResult<Option<u32>> {
    let days: Option<i64> =
        sqlx::query_scalar("SELECT default_key_days FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
    Ok(days.map(|d| d.clamp(0, i64::from(u32::MAX)) as u32))
}

/// Sets how many days a new key of `ctx.organization_id` works for by default (`None`: never).
pub async fn update_default_key_days(
    db: &Db,
    ctx: &audit::AuditContext,
    days: Option<u32>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query("UPDATE organizations SET default_key_days = $2 WHERE id = $1")
        .bind(&ctx.organization_id)
        .bind(days.map(i64::from))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let detail = days.map_or_else(|| "never".to_owned(), |d| format!("{d} days"));
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::OrganizationKeyExpiryChanged,
        &ctx.organization_id,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How many organizations exist: sign-up is always open on an empty install.
pub async fn count(db: &Db) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(db.pool())
        .await?;
    Ok(n as u64)
}

/// Takes the organization's row lock inside `conn`'s transaction, so that changes that must see
/// each other (two demotions of owners, two workspaces against the limit) run one after the
/// other. A missing organization is [`StoreError::NotFound`].
pub(super) async fn lock_in(conn: &mut AnyConnection, organization_id: &str) -> StoreResult<()> {
    let locked = sqlx::query("UPDATE organizations SET name = name WHERE id = $1")
        .bind(organization_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
