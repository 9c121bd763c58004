//! Settings → Members: who is in the organization, invitations, roles; and an invitation link's
//! own page, where someone not yet a member accepts.

use crate::error::AppError;
use crate::model::{InvitationView, IssuedInvitation, Role, SecretInput, Team};
use leptos::prelude::*;

/// The organization's members, and its invitations for owners.
#[server(prefix = "/api", endpoint = "members/team")]
pub async fn get_team() -> Result<Team, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::members::team(&state, &caller.actor()).await?)
}

/// Invites `email` as `role`: the one-time link is in the answer, and only there.
#[server(prefix = "/api", endpoint = "members/invite")]
pub async fn invite(email: String, role: Role) -> Result<IssuedInvitation, AppError> {
    use crate::model::Email;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let email = Email::parse(&email)?;
    Ok(crate::use_cases::members::invite(&state, &caller.actor(), &email, role).await?)
}

#[server(prefix = "/api", endpoint = "members/revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::members::revoke_invitation(&state, &caller.actor(), &id)
        .await
        .map_err(AppError::missing("pending invitation"))
}

#[server(prefix = "/api", endpoint = "members/change_role")]
pub async fn change_role(user_id: String, role: Role) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::members::change_role(&state, &caller.actor(), &user_id, role)
        .await
        .map_err(AppError::missing("member"))
}

#[server(prefix = "/api", endpoint = "members/remove")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::members::remove(&state, &caller.actor(), &user_id)
        .await
        .map_err(AppError::missing("member"))
}

/// The caller leaves the current organization and continues in their next one.
#[server(prefix = "/api", endpoint = "members/leave")]
pub async fn leave() -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::members::leave(&state, &caller.actor()).await?;
    leptos_axum::redirect("/clients");
    Ok(())
}

/// What an invitation link's page shows. A link that is not one of ours is "not found".
#[server(prefix = "/api", endpoint = "members/invitation")]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    use crate::secrets::InviteToken;
    let state = crate::auth::state()?;
    let token =
        InviteToken::parse(&token).ok_or_else(|| AppError::NotFound("invitation".into()))?;
    let signed_in_as = match crate::auth::caller().await {
        Ok(caller) => Some(caller.user.email),
        Err(_) => None,
    };
    crate::use_cases::members::view_invitation(&state, &token, signed_in_as)
        .await
        .map_err(AppError::missing("invitation"))
}

/// Accepts an invitation. Signed in as the invited email: joins with that account. Nobody signed
/// in and no account for the email: signs up with `password` and joins. Either way the session
/// continues in the organization joined.
#[server(prefix = "/api", endpoint = "members/accept")]
pub async fn accept_invitation(
    token: String,
    #[server(default)] password: SecretInput,
) -> Result<(), AppError> {
    use crate::model::Password;
    use crate::secrets::{self, InviteToken};
    use crate::store::invitations;
    use crate::{auth, secrets::token_hash};
    let state = auth::state()?;
    let token =
        InviteToken::parse(&token).ok_or_else(|| AppError::NotFound("invitation".into()))?;
    let hash = token_hash(&token);
    let address = auth::address().await;
    let (user_id, organization_id) = match auth::caller().await {
        Ok(caller) => {
            let invitation =
                invitations::accept_as(&state.db, &hash, &caller.user, &address).await?;
            (caller.user.id, invitation.organization_id)
        }
        Err(AppError::Unauthorized) => {
            let password = Password::parse_new(password.expose())?;
            let password_hash = secrets::hash_password(&state.passwords, &password).await?;
            let (user_id, invitation) = invitations::accept_with_new_user(
                &state.db,
                &hash,
                password_hash.as_str(),
                &address,
            )
            .await?;
            (user_id, invitation.organization_id)
        }
        Err(e) => return Err(e),
    };
    let workspace = auth::first_workspace(&state, &organization_id).await?;
    let session = auth::session().await?;
    auth::start_session(&session, &user_id, &organization_id, &workspace.id).await?;
    tracing::info!(organization = %organization_id, "an invitation was accepted");
    leptos_axum::redirect("/clients");
    Ok(())
}
