//! Sign-up, sign-in, sign-out and the signed-in user's own settings.

use crate::error::AppError;
use crate::model::{Me, SecretInput, ViewMode};
use leptos::prelude::*;

/// The signed-in user, or `None`: every page asks this first.
#[server(prefix = "/api", endpoint = "account/me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::auth;
    use crate::store::{organizations, workspaces};
    let caller = match auth::caller().await {
        Ok(caller) => caller,
        Err(AppError::Unauthorized) => return Ok(None),
        Err(e) => return Err(e),
    };
    let state = auth::state()?;
    let organization = organizations::get(&state.db, caller.organization_id()).await?;
    Ok(Some(Me {
        email: caller.user.email.clone(),
        organization_id: organization.id,
        organization_name: organization.name,
        workspaces: workspaces::list(&state.db, caller.organization_id()).await?,
        current_workspace_id: caller.workspace.id.clone(),
        view: caller.user.view_mode,
    }))
}

/// Whether the sign-up form is offered: always on an empty install, else per `--open-signup`.
#[server(prefix = "/api", endpoint = "account/signup_open")]
pub async fn signup_open() -> Result<bool, AppError> {
    use crate::store::organizations;
    let state = crate::auth::state()?;
    Ok(state.settings.open_signup || organizations::count(&state.db).await? == 0)
}

/// Creates a user, their organization and its default workspace, and signs them in.
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
    let account =
        organizations::create_with_owner(&state.db, &organization, &email, hash.as_str(), &address)
            .await?;
    auth::start_session(
        &auth::session().await?,
        &account.user_id,
        &account.workspace_id,
    )
    .await?;
    tracing::info!(organization = %account.organization_id, "organization signed up");
    leptos_axum::redirect("/clients");
    Ok(())
}

/// Signs in with email and password. Repeated failures lock the email and the address out for a
/// growing window; an unknown email costs the same time as a wrong password.
#[server(prefix = "/api", endpoint = "account/sign_in")]
pub async fn sign_in(email: String, password: SecretInput) -> Result<(), AppError> {
    use crate::model::{Email, FieldError, Password};
    use crate::store::{audit, users, workspaces};
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
            permits.into_iter().for_each(|permit| permit.failed());
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
    let workspace = workspaces::list(&state.db, &user.organization_id)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::Internal)?;
    auth::start_session(&auth::session().await?, &user.id, &workspace.id).await?;
    audit::create(
        &state.db,
        &audit_context(&user),
        None,
        crate::model::AuditAction::UserSignedIn,
        &user.email,
        "",
    )
    .await?;
    leptos_axum::redirect("/clients");
    Ok(())
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
