//! Members of an organization: invite someone by a one-time link, revoke an invitation, change a
//! member's role, remove a member, leave. Accepting an invitation is here too; it is the one
//! use case whose caller is not a member yet.

use crate::model::{AuditAction, Capability, Email, InvitationView, IssuedInvitation, Role, Team};
use crate::secrets::{self, InviteToken};
use crate::state::AppState;
use crate::store::{StoreError, invitations, memberships, now_millis, users};
use crate::use_cases::{Actor, Failure};

/// How long an invitation link works.
pub const INVITATION_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The members and invitations of the actor's organization. Any member may see who else is in
/// it; only owners see the invitations.
pub async fn team(state: &AppState, actor: &Actor) -> Result<Team, Failure> {
    let members = memberships::list(&state.db, &actor.organization_id).await?;
    let invitations = if actor.role.allows(Capability::ManageMembers) {
        invitations::list(&state.db, &actor.organization_id).await?
    } else {
        Vec::new()
    };
    Ok(Team {
        members,
        invitations,
        you: actor.user_id.clone(),
        now: now_millis(),
    })
}

/// Invites `email` into the actor's organization as `role`: a one-time link, valid for
/// [`INVITATION_LIFETIME_MS`], returned once.
#[tracing::instrument(skip_all, fields(role = %role))]
pub async fn invite(
    state: &AppState,
    actor: &Actor,
    email: &Email,
    role: Role,
) -> Result<IssuedInvitation, Failure> {
    let by = actor.require(Capability::ManageMembers)?;
    let token = InviteToken::generate();
    let invitation = invitations::create(
        &state.db,
        &by,
        email,
        role,
        &secrets::token_hash(&token),
        now_millis() + INVITATION_LIFETIME_MS,
    )
    .await?;
    Ok(IssuedInvitation {
        invitation,
        path: format!("/invite/{}", token.expose()),
    })
}

/// Revokes a pending invitation of the actor's organization.
pub async fn revoke_invitation(state: &AppState, actor: &Actor, id: &str) -> Result<(), Failure> {
    let by = actor.require(Capability::ManageMembers)?;
    Ok(invitations::revoke(&state.db, &by, id).await?)
}

/// Gives a member another role; the last owner keeps theirs.
pub async fn change_role(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    role: Role,
) -> Result<(), Failure> {
    let by = actor.require(Capability::ManageMembers)?;
    Ok(memberships::update_role(&state.db, &by, user_id, role).await?)
}

/// Removes a member (not the last owner). Their sessions lose the organization at their next
/// request: every request reads the membership.
pub async fn remove(state: &AppState, actor: &Actor, user_id: &str) -> Result<(), Failure> {
    let by = actor.require(Capability::ManageMembers)?;
    if user_id == actor.user_id {
        return leave(state, actor).await;
    }
    Ok(memberships::delete(&state.db, &by, user_id, AuditAction::MemberRemoved).await?)
}

/// The actor leaves the organization (not as its last owner, nor their only one).
pub async fn leave(state: &AppState, actor: &Actor) -> Result<(), Failure> {
    Ok(memberships::delete(
        &state.db,
        &actor.audit(),
        &actor.user_id,
        AuditAction::MemberLeft,
    )
    .await?)
}

/// What an invitation link's page shows; an unknown token is [`StoreError::NotFound`].
pub async fn view_invitation(
    state: &AppState,
    token: &InviteToken,
    signed_in_as: Option<String>,
) -> Result<InvitationView, StoreError> {
    let invitation = invitations::find_by_token(&state.db, &secrets::token_hash(token))
        .await?
        .ok_or(StoreError::NotFound)?;
    let account_exists =
        users::exists_by_email(&state.db, &Email::parse(&invitation.email)?).await?;
    Ok(InvitationView {
        state: invitation.state(now_millis()),
        organization_name: invitation.organization_name,
        email: invitation.email,
        role: invitation.role,
        invited_by: invitation.invited_by,
        expires_at: invitation.expires_at,
        account_exists,
        signed_in_as,
    })
}
