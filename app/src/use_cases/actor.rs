//! Who acts, and whether they may: every use case that changes something asks its [`Actor`]
//! first, so the dashboard's server functions and any other front door get the same answer from
//! the one rule ([`Role::allows`]).

use crate::model::{Capability, Role, TokenScope};
use crate::store::StoreError;
use crate::store::audit::AuditContext;

/// A signed-in member acting in one of their organizations.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub organization_id: String,
    pub role: Role,
    /// Whether they operate the install.
    pub operator: bool,
    /// The request's source address, for the audit log.
    pub address: String,
    /// Set when an API token acts rather than a signed-in member: what its scope leaves out is
    /// refused whatever `role` says, and a later front door keeps it to its workspace.
    pub token: Option<TokenLimit>,
}

/// What an API token acting as an [`Actor`] is limited to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenLimit {
    pub token_id: String,
    pub scope: TokenScope,
    /// The one workspace the token may reach; `None` for all of its organization's.
    pub workspace_id: Option<String>,
}

impl TokenLimit {
    /// Whether the token's scope covers `capability`: a read token covers none, a manage token
    /// covers clients only (never workspaces or members).
    pub fn allows(&self, capability: Capability) -> bool {
        self.scope == TokenScope::ManageClients && capability == Capability::ManageClients
    }

    /// Whether the token may reach `workspace_id`.
    pub fn reaches(&self, workspace_id: &str) -> bool {
        self.workspace_id
            .as_deref()
            .is_none_or(|own| own == workspace_id)
    }
}

/// A use case the actor's role (or their not operating the install) does not allow. Nothing was
/// read or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("a {role} may not do this (it needs {needed:?})")]
    Role { role: Role, needed: Capability },
    #[error("only an operator of this Keygate may do this")]
    NotOperator,
    #[error("a {scope} API token may not do this (it needs {needed:?})")]
    TokenScope {
        scope: TokenScope,
        needed: Capability,
    },
}

impl Actor {
    /// Who acts, as the audit log records it: for what changes nothing a role guards (their own
    /// account, leaving an organization).
    pub fn audit(&self) -> AuditContext {
        AuditContext {
            organization_id: self.organization_id.clone(),
            actor: self.email.clone(),
            address: self.address.clone(),
        }
    }

    /// The audit context to change what `capability` covers with, if the actor's role allows it.
    pub fn require(&self, capability: Capability) -> Result<AuditContext, Denied> {
        if let Some(token) = &self.token
            && !token.allows(capability)
        {
            return Err(Denied::TokenScope {
                scope: token.scope,
                needed: capability,
            });
        }
        if self.role.allows(capability) {
            Ok(self.audit())
        } else {
            Err(Denied::Role {
                role: self.role,
                needed: capability,
            })
        }
    }

    /// Whether the actor may reach `workspace_id` (a workspace of their organization): a token
    /// limited to one workspace reaches only it; members and unlimited tokens reach every one.
    pub fn reaches(&self, workspace_id: &str) -> bool {
        self.token
            .as_ref()
            .is_none_or(|token| token.reaches(workspace_id))
    }

    /// The one workspace the actor is limited to, if any.
    pub fn workspace_limit(&self) -> Option<&str> {
        self.token.as_ref().and_then(|t| t.workspace_id.as_deref())
    }

    /// The audit context to change what `capability` covers with, for a signed-in member whose
    /// role allows it; an API token acting never qualifies. For what outlives the session that
    /// makes it and reaches beyond clients: API tokens, event endpoints.
    pub fn require_member(&self, capability: Capability) -> Result<AuditContext, Denied> {
        if let Some(token) = &self.token {
            return Err(Denied::TokenScope {
                scope: token.scope,
                needed: capability,
            });
        }
        self.require(capability)
    }

    /// The audit context for an install-wide change, if the actor operates the install.
    pub fn require_operator(&self) -> Result<AuditContext, Denied> {
        if self.operator && self.token.is_none() {
            Ok(self.audit())
        } else {
            Err(Denied::NotOperator)
        }
    }
}

/// Why a use case outside clients failed: the actor may not, or what the store said.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
}
