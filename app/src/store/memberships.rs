//! Memberships: which users belong to which organization, and with which role. Everything a
//! signed-in user may see or change is decided from their membership of the organization they
//! are in; an organization always keeps at least one owner.

use super::{Db, StoreError, StoreResult, audit, now_millis, organizations};
use crate::model::{AuditAction, MemberRow, Role};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// A user's membership of one organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub organization_id: String,
    pub organization_name: String,
    pub role: Role,
}

fn membership_from_row(row: &AnyRow) -> StoreResult<Membership> {
    Ok(Membership {
        organization_id: row.try_get("organization_id")?,
        organization_name: row.try_get("name")?,
        role: Role::parse(&row.try_get::<String, _>("role")?)?,
    })
}

/// Makes `user_id` a member inside the caller's transaction (sign-up's, an invitation's); one who
/// is a member already is [`StoreError::AlreadyMember`].
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now_millis())
    .execute(conn)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::AlreadyMember
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// `user_id`'s membership of `organization_id`, if they have one.
pub async fn find(
    db: &Db,
    user_id: &str,
    organization_id: &str,
) -> StoreResult<Option<Membership>> {
    let row = sqlx::query(
        "SELECT m.organization_id, o.name, m.role FROM memberships m
         JOIN organizations o ON o.id = m.organization_id
         WHERE m.user_id = $1 AND m.organization_id = $2",
    )
    .bind(user_id)
    .bind(organization_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(membership_from_row).transpose()
}

/// Every organization `user_id` belongs to, the one they joined first first.
pub async fn list_for_user(db: &Db, user_id: &str) -> StoreResult<Vec<Membership>> {
    let rows = sqlx::query(
        "SELECT m.organization_id, o.name, m.role FROM memberships m
         JOIN organizations o ON o.id = m.organization_id
         WHERE m.user_id = $1 ORDER BY m.created_at, m.organization_id",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(membership_from_row).collect()
}

/// The members of an organization: owners first, then by email.
pub async fn list(db: &Db, organization_id: &str) -> StoreResult<Vec<MemberRow>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m
         JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.email",
    )
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                user_id: r.try_get("id")?,
                email: r.try_get("email")?,
                role: Role::parse(&r.try_get::<String, _>("role")?)?,
                joined_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The member's role and email, inside the caller's transaction.
async fn member_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<(Role, String)> {
    let row = sqlx::query(
        "SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND m.user_id = $2",
    )
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((
        Role::parse(&row.try_get::<String, _>("role")?)?,
        row.try_get("email")?,
    ))
}

async fn owners_in(conn: &mut AnyConnection, organization_id: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'",
    )
    .bind(organization_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Gives a member of `ctx`'s organization another role. Demoting the last owner is
/// [`StoreError::LastOwner`], and nothing changes.
pub async fn update_role(
    db: &Db,
    ctx: &audit::AuditContext,
    user_id: &str,
    role: Role,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    organizations::lock_in(&mut tx, &ctx.organization_id).await?;
    let (was, email) = member_in(&mut tx, &ctx.organization_id, user_id).await?;
    if was == role {
        return Ok(());
    }
    if was == Role::Owner && owners_in(&mut tx, &ctx.organization_id).await? <= 1 {
        return Err(StoreError::LastOwner);
    }
    sqlx::query("UPDATE memberships SET role = $1 WHERE organization_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(&ctx.organization_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::MemberRoleChanged,
        &email,
        &format!("{} → {}", was.label(), role.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends `user_id`'s membership of `ctx`'s organization: removed by an owner, or leaving
/// (`action` says which). The last owner cannot go: [`StoreError::LastOwner`]. Nor can a user
/// leave their only organization, which would leave them an account with nothing to sign in to:
/// [`StoreError::OnlyOrganization`].
pub async fn delete(
    db: &Db,
    ctx: &audit::AuditContext,
    user_id: &str,
    action: AuditAction,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    organizations::lock_in(&mut tx, &ctx.organization_id).await?;
    let (role, email) = member_in(&mut tx, &ctx.organization_id, user_id).await?;
    if role == Role::Owner && owners_in(&mut tx, &ctx.organization_id).await? <= 1 {
        return Err(StoreError::LastOwner);
    }
    let elsewhere: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND organization_id <> $2",
    )
    .bind(user_id)
    .bind(&ctx.organization_id)
    .fetch_one(&mut *tx)
    .await?;
    if elsewhere == 0 && action == AuditAction::MemberLeft {
        return Err(StoreError::OnlyOrganization);
    }
    sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
        .bind(&ctx.organization_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    audit::insert_in(&mut tx, ctx, None, action, &email, role.label()).await?;
    tx.commit().await?;
    Ok(())
}
