//! Who is calling: the signed-in user from the tower-sessions session, the workspace they are in,
//! and the request's address. Every server function that touches data starts here.

use crate::error::AppError;
use crate::state::AppState;
use crate::store::audit::AuditContext;
use crate::store::{StoreError, users, workspaces};
use axum::extract::ConnectInfo;
use leptos::prelude::*;
use std::net::SocketAddr;
use tower_sessions::Session;

const USER_KEY: &str = "user_id";
const WORKSPACE_KEY: &str = "workspace_id";

/// The signed-in user, their organization and current workspace.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: users::User,
    pub workspace: workspaces::Workspace,
    pub address: String,
    pub session: Session,
}

impl Caller {
    pub fn organization_id(&self) -> &str {
        &self.user.organization_id
    }

    pub fn audit(&self) -> AuditContext {
        AuditContext {
            organization_id: self.user.organization_id.clone(),
            actor: self.user.email.clone(),
            address: self.address.clone(),
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
    let chosen: Option<String> = session.get(WORKSPACE_KEY).await.map_err(session_error)?;
    let workspace = match chosen {
        Some(id) => match workspaces::get(&state.db, &user.organization_id, &id).await {
            Ok(w) => Some(w),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let workspace = match workspace {
        Some(w) => w,
        // No choice yet, or the chosen one is gone: fall back to the oldest workspace.
        None => {
            let first = workspaces::list(&state.db, &user.organization_id)
                .await?
                .into_iter()
                .next()
                .ok_or(AppError::Internal)?;
            workspaces::get(&state.db, &user.organization_id, &first.id).await?
        }
    };
    Ok(Caller {
        user,
        workspace,
        address: address().await,
        session,
    })
}

/// Signs `user_id` in: a new session id (no fixation), then the user and workspace.
pub async fn start_session(
    session: &Session,
    user_id: &str,
    workspace_id: &str,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_KEY, user_id)
        .await
        .map_err(session_error)?;
    session
        .insert(WORKSPACE_KEY, workspace_id)
        .await
        .map_err(session_error)?;
    Ok(())
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
