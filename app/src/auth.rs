//! Who is calling: the signed-in user from the tower-sessions session, the organization they are
//! in (and their role there), the workspace they are in, and the request's address. Every server
//! function that touches data starts here; what the caller may do is the use cases' to decide,
//! from [`Caller::actor`].

use crate::error::AppError;
use crate::state::AppState;
use crate::store::memberships::{self, Membership};
use crate::store::sessions::{ADDRESS_KEY, AGENT_KEY, USER_KEY};
use crate::store::{StoreError, operators, users, workspaces};
use crate::use_cases::Actor;
use axum::extract::ConnectInfo;
use leptos::prelude::*;
use std::net::SocketAddr;
use tower_sessions::Session;

const ORGANIZATION_KEY: &str = "organization_id";
const WORKSPACE_KEY: &str = "workspace_id";
/// When the session last counted as active (Unix ms): refreshed by [`touch`] at most once a
/// minute, so an active session's inactivity deadline moves on without a write per request.
const ACTIVE_KEY: &str = "active_at";

/// The signed-in user, their organization, role and current workspace.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: users::User,
    pub membership: Membership,
    pub operator: bool,
    pub workspace: workspaces::Workspace,
    pub address: String,
    pub session: Session,
}

impl Caller {
    pub fn organization_id(&self) -> &str {
        &self.membership.organization_id
    }

    /// The caller as the use cases know them.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user.id.clone(),
            email: self.user.email.clone(),
            organization_id: self.membership.organization_id.clone(),
            role: self.membership.role,
            operator: self.operator,
            address: self.address.clone(),
            token: None,
        }
    }
}

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!("no session layer: {e}");
        AppError::Internal
    })
}

/// The request's source address, for the audit log.
pub async fn address() -> String {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!("session store: {e}");
    AppError::Internal
}

/// The caller, or [`AppError::Unauthorized`] when nobody is signed in.
pub async fn caller() -> Result<Caller, AppError> {
    let state = state()?;
    let session = session().await?;
    let user_id: String = session
        .get(USER_KEY)
        .await
        .map_err(session_error)?
        .ok_or(AppError::Unauthorized)?;
    let user = match users::get(&state.db, &user_id).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => return Err(AppError::Unauthorized),
        Err(e) => return Err(e.into()),
    };
    // Membership is read on every request: a member removed (or demoted) loses the organization
    // (or the power) at their next request, whatever their session holds.
    let chosen: Option<String> = session.get(ORGANIZATION_KEY).await.map_err(session_error)?;
    let membership = match chosen {
        Some(id) => memberships::find(&state.db, &user.id, &id).await?,
        None => None,
    };
    let membership = match membership {
        Some(m) => m,
        // No choice yet, or no longer a member there: the first organization they belong to.
        None => memberships::list_for_user(&state.db, &user.id)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::Unauthorized)?,
    };
    let organization_id = membership.organization_id.clone();
    let chosen: Option<String> = session.get(WORKSPACE_KEY).await.map_err(session_error)?;
    let workspace = match chosen {
        Some(id) => match workspaces::get(&state.db, &organization_id, &id).await {
            Ok(w) => Some(w),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let workspace = match workspace {
        Some(w) => w,
        // No choice yet, or the chosen one is gone: fall back to the oldest workspace.
        None => first_workspace(&state, &organization_id).await?,
    };
    touch(&session, state.settings.session_idle_ms).await?;
    Ok(Caller {
        operator: operators::exists(&state.db, &user.id).await?,
        user,
        membership,
        workspace,
        address: address().await,
        session,
    })
}

/// The organization's oldest workspace, where a session in it starts. Every organization has
/// one: none is a server error.
pub async fn first_workspace(
    state: &AppState,
    organization_id: &str,
) -> Result<workspaces::Workspace, AppError> {
    workspaces::first(&state.db, organization_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                tracing::error!(organization = %organization_id, "an organization without a workspace");
                AppError::Internal
            }
            e => e.into(),
        })
}

/// Gives the session a new id (the old one stops working at once), keeping what it holds.
pub async fn renew_session_id(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)
}

/// Marks the session active when it last was a while ago, which makes tower-sessions save it and
/// so move its inactivity deadline on. Often enough that the deadline is never more than a
/// quarter of the idle period (or a minute) early.
async fn touch(session: &Session, idle_ms: i64) -> Result<(), AppError> {
    let now = crate::store::now_millis();
    let every = (idle_ms / 4).min(60_000);
    let last: Option<i64> = session.get(ACTIVE_KEY).await.map_err(session_error)?;
    if last.is_none_or(|last| now - last >= every) {
        session
            .insert(ACTIVE_KEY, now)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// The request's User-Agent, for the account page's list of sessions.
async fn user_agent() -> String {
    leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .ok()
        .and_then(|headers| {
            headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(300).collect())
        })
        .unwrap_or_default()
}

/// Signs `user_id` in: a new session id (no fixation), then the user, organization and workspace,
/// and what the account page shows of the session.
pub async fn start_session(
    session: &Session,
    user_id: &str,
    organization_id: &str,
    workspace_id: &str,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    let values = [
        (USER_KEY, user_id.to_owned()),
        (ORGANIZATION_KEY, organization_id.to_owned()),
        (WORKSPACE_KEY, workspace_id.to_owned()),
        (ADDRESS_KEY, address().await),
        (AGENT_KEY, user_agent().await),
    ];
    for (key, value) in values {
        session.insert(key, value).await.map_err(session_error)?;
    }
    session
        .insert(ACTIVE_KEY, crate::store::now_millis())
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Makes another organization of the caller's the current one, in its first workspace.
pub async fn switch_organization(
    session: &Session,
    organization_id: &str,
    workspace_id: &str,
) -> Result<(), AppError> {
    session
        .insert(ORGANIZATION_KEY, organization_id)
        .await
        .map_err(session_error)?;
    switch_workspace(session, workspace_id).await
}

pub async fn switch_workspace(session: &Session, workspace_id: &str) -> Result<(), AppError> {
    session
        .insert(WORKSPACE_KEY, workspace_id)
        .await
        .map_err(session_error)
}

pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}
