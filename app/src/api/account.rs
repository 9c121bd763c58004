//! Sign-up, sign-in, sign-out and the signed-in user's own settings.

use crate::error::AppError;
use crate::model::{Me, SecretInput, SessionRow, ViewMode};
use leptos::prelude::*;

/// The signed-in user, or `None`: every page asks this first.
#[server(prefix = "/api", endpoint = "account/me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::auth;
    use crate::model::OrganizationChoice;
    use crate::store::{memberships, workspaces};
    let caller = match auth::caller().await {
        Ok(caller) => caller,
        Err(AppError::Unauthorized) => return Ok(None),
        Err(e) => return Err(e),
    };
    let state = auth::state()?;
    let organizations = memberships::list_for_user(&state.db, &caller.user.id)
        .await?
        .into_iter()
        .map(|m| OrganizationChoice {
            id: m.organization_id,
            name: m.organization_name,
            role: m.role,
        })
        .collect();
    Ok(Some(Me {
        email: caller.user.email.clone(),
        organization_id: caller.membership.organization_id.clone(),
        organization_name: caller.membership.organization_name.clone(),
        role: caller.membership.role,
        organizations,
        operator: caller.operator,
        workspaces: workspaces::list(&state.db, caller.organization_id()).await?,
        current_workspace_id: caller.workspace.id.clone(),
        view: caller.user.view_mode,
    }))
}

/// Whether the sign-up form is offered: always on an empty install, else per `--open-signup`.
#[server(prefix = "/api", endpoint = "account/signup_open")]
pub async fn signup_open() -> Result<bool, AppError> {
    let state = crate::auth::state()?;
    Ok(crate::store::install::signup_open(&state.db, state.settings.open_signup).await?)
}

/// Creates a user, their organization and its default workspace, and signs them in. The first
/// sign-up of an install claims it (and operates it); whether a later one may is decided in the
/// same transaction that creates it, so two sign-ups cannot both claim an empty install.
#[server(prefix = "/api", endpoint = "account/sign_up")]
pub async fn sign_up(
    email: String,
    password: SecretInput,
    organization: String,
) -> Result<(), AppError> {
    use crate::model::{Email, OrgName, Password};
    use crate::store::{organizations, users};
    use crate::{auth, secrets};
    let state = auth::state()?;
    if !signup_open().await? {
        return Err(AppError::Forbidden(
            "Sign-up is closed on this Keygate. Ask an administrator for an account.".into(),
        ));
    }
    let email = Email::parse(&email)?;
    let password = Password::parse_new(password.expose())?;
    let organization = OrgName::parse(&organization)?;
    // Checked first so a taken email costs no hashing; the unique index still decides races.
    if users::exists_by_email(&state.db, &email).await? {
        return Err(crate::store::StoreError::EmailTaken.into());
    }
    let hash = secrets::hash_password(&state.passwords, &password).await?;
    let address = auth::address().await;
    let account = organizations::create_with_owner(
        &state.db,
        &organization,
        &email,
        hash.as_str(),
        &address,
        state.settings.open_signup,
    )
    .await?;
    auth::start_session(
        &auth::session().await?,
        &account.user_id,
        &account.organization_id,
        &account.workspace_id,
    )
    .await?;
    tracing::info!(organization = %account.organization_id, "organization signed up");
    leptos_axum::redirect("/clients");
    Ok(())
}

/// Signs in with email and password. Repeated failures lock the email and the address out for a
/// growing window; an unknown email costs the same time as a wrong password.
///
/// `next` is where to go afterwards: only an invitation's page (`/invite/…`); anything else is the
/// Clients page, so the parameter cannot send anyone to another site.
#[server(prefix = "/api", endpoint = "account/sign_in")]
pub async fn sign_in(
    email: String,
    password: SecretInput,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::model::{Email, FieldError, Password};
    use crate::store::{audit, memberships, users};
    use crate::{auth, secrets};
    let state = auth::state()?;
    let email = Email::parse(&email)?;
    let address = auth::address().await;
    // Both keys reserve their attempt before the verification runs: a parallel burst for one
    // email (or from one address) gets no more verifications than the back-off allows.
    let permits = [
        format!("email:{}", email.as_str()),
        format!("address:{address}"),
    ]
    .iter()
    .map(|key| state.sign_in_throttle.begin(key))
    .collect::<Result<Vec<_>, _>>()
    .map_err(AppError::TooManyAttempts)?;
    let user = users::find_by_email(&state.db, &email).await?;
    let password = Password::from_sign_in(password.expose().to_owned());
    let ok = secrets::verify_password(
        &state.passwords,
        &password,
        user.as_ref().map(|u| u.password_hash.as_str()),
    )
    .await?;
    let audit_context = |user: &users::User| audit::AuditContext {
        organization_id: user.organization_id.clone(),
        actor: user.email.clone(),
        address: address.clone(),
    };
    let user = match user {
        Some(user) if ok => user,
        known => {
            permits.into_iter().for_each(|permit| {
                permit.failed();
            });
            tracing::warn!(%address, "failed sign-in");
            // Audited where there is an organization to show it to; the throttle above bounds how
            // many such rows a password-guessing run can write.
            if let Some(user) = known {
                audit::create(
                    &state.db,
                    &audit_context(&user),
                    None,
                    crate::model::AuditAction::UserSignInFailed,
                    &user.email,
                    "",
                )
                .await?;
            }
            return Err(AppError::invalid(
                FieldError::Password,
                "Wrong email or password.",
            ));
        }
    };
    permits.into_iter().for_each(|permit| permit.succeeded());
    let Some(membership) = memberships::list_for_user(&state.db, &user.id)
        .await?
        .into_iter()
        .next()
    else {
        return Err(AppError::Forbidden(
            "This account is no longer a member of any organization. Ask an owner to invite you again.".into(),
        ));
    };
    let workspace = auth::first_workspace(&state, &membership.organization_id).await?;
    auth::start_session(
        &auth::session().await?,
        &user.id,
        &membership.organization_id,
        &workspace.id,
    )
    .await?;
    audit::create(
        &state.db,
        &audit::AuditContext {
            organization_id: membership.organization_id.clone(),
            actor: user.email.clone(),
            address: address.clone(),
        },
        None,
        crate::model::AuditAction::UserSignedIn,
        &user.email,
        "",
    )
    .await?;
    leptos_axum::redirect(after_sign_in(&next));
    Ok(())
}

/// Where a sign-in continues: an invitation's page when asked for, else the Clients page.
#[cfg(feature = "ssr")]
fn after_sign_in(next: &str) -> &str {
    let token = next.strip_prefix("/invite/").unwrap_or("");
    if !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        next
    } else {
        "/clients"
    }
}

#[server(prefix = "/api", endpoint = "account/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = crate::auth::session().await?;
    crate::auth::end_session(&session).await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Remembers the Clients page layout for the signed-in user.
#[server(prefix = "/api", endpoint = "account/set_view")]
pub async fn set_view(view: ViewMode) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::store::users::update_view_mode(&state.db, &caller.user.id, view).await?;
    Ok(())
}

/// Switches to another organization the caller belongs to, in its first workspace.
#[server(prefix = "/api", endpoint = "account/switch_organization")]
pub async fn switch_organization(id: String) -> Result<(), AppError> {
    use crate::store::memberships;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let membership = memberships::find(&state.db, &caller.user.id, &id)
        .await?
        .ok_or_else(|| AppError::NotFound("organization".into()))?;
    let workspace = crate::auth::first_workspace(&state, &membership.organization_id).await?;
    crate::auth::switch_organization(&caller.session, &membership.organization_id, &workspace.id)
        .await
}

/// Changes the caller's password. The current one is required (and throttled like a sign-in);
/// every other session of the user ends, and this one gets a new id.
#[server(prefix = "/api", endpoint = "account/change_password")]
pub async fn change_password(
    current: SecretInput,
    new_password: SecretInput,
) -> Result<(), AppError> {
    use crate::model::{FieldError, Password};
    use crate::store::{sessions, users};
    use crate::{auth, secrets};
    let caller = auth::caller().await?;
    let state = auth::state()?;
    let new_password = Password::parse_new(new_password.expose())?;
    let permit = state
        .sign_in_throttle
        .begin(&format!("email:{}", caller.user.email))
        .map_err(AppError::TooManyAttempts)?;
    let current = Password::from_sign_in(current.expose().to_owned());
    let ok = secrets::verify_password(
        &state.passwords,
        &current,
        Some(caller.user.password_hash.as_str()),
    )
    .await?;
    if !ok {
        permit.failed();
        return Err(AppError::invalid(
            FieldError::CurrentPassword,
            "This is not your current password.",
        ));
    }
    permit.succeeded();
    let hash = secrets::hash_password(&state.passwords, &new_password).await?;
    let actor = caller.actor();
    users::update_password(&state.db, &actor.audit(), &caller.user.id, hash.as_str()).await?;
    auth::renew_session_id(&caller.session).await?;
    // The old id is gone and the new one is stored only when the response is written: every
    // session of the user in the table now is another one.
    let ended = sessions::delete_for_user(&state.db, &caller.user.id, None).await?;
    tracing::info!(ended, "a password change ended the user's other sessions");
    Ok(())
}

/// Ends every dashboard session of the caller, this one included.
#[server(prefix = "/api", endpoint = "account/sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::model::AuditAction;
    use crate::store::{audit, sessions};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let ended = sessions::delete_for_user(&state.db, &caller.user.id, None).await?;
    crate::auth::end_session(&caller.session).await?;
    audit::create(
        &state.db,
        &caller.actor().audit(),
        None,
        AuditAction::UserSignedOutEverywhere,
        &caller.user.email,
        &format!("{ended} session(s)"),
    )
    .await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// The caller's live dashboard sessions, the most recently active first.
#[server(prefix = "/api", endpoint = "account/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionRow>, AppError> {
    use crate::store::sessions;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let current = caller.session.id().map(|id| id.to_string());
    Ok(sessions::list_for_user(&state.db, &caller.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            handle: session_handle(&s.id),
            current: current.as_deref() == Some(s.id.as_str()),
            address: s.address,
            device: crate::model::device_label(&s.agent),
            last_active_at: s.last_active_at,
        })
        .collect())
}

/// Ends one of the caller's other sessions, named by its handle from [`list_sessions`].
#[server(prefix = "/api", endpoint = "account/end_session")]
pub async fn end_other_session(handle: String) -> Result<(), AppError> {
    use crate::store::sessions;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let entry = sessions::list_for_user(&state.db, &caller.user.id)
        .await?
        .into_iter()
        .find(|s| session_handle(&s.id) == handle)
        .ok_or_else(|| AppError::NotFound("session".into()))?;
    sessions::delete(&state.db, &caller.user.id, &entry.id).await?;
    Ok(())
}

/// What names a session to its user: a digest of its id, which cannot be turned back into the
/// cookie.
#[cfg(feature = "ssr")]
fn session_handle(id: &str) -> String {
    crate::secrets::fast_hash(id.as_bytes())
        .chars()
        .rev()
        .take(16)
        .collect()
}
