//! Who may do what in an organization: a member's role, and the one rule that says which
//! capabilities each role has. The server checks it in the use-case layer; the browser asks the
//! same rule to leave out the buttons a member could not use.

use super::text_enum;

text_enum!(
    /// A member's role in one organization, stored in `memberships.role` as its text.
    Role, "role" {
        /// Everything, the members and their roles included.
        Owner = "owner",
        /// Clients, devices and workspaces.
        Admin = "admin",
        /// Reads the clients, devices and activity; changes nothing.
        Viewer = "viewer",
    }
);

/// What an action needs. Reading an organization's clients, devices and activity needs only
/// membership, so it has no capability of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Create, edit, regenerate, (de)activate and delete clients and devices; see a key.
    ManageClients,
    /// Create and rename workspaces.
    ManageWorkspaces,
    /// Invite members, change their roles, remove them.
    ManageMembers,
}

impl Role {
    /// The rule: whether a member with this role may do what `capability` covers.
    pub fn allows(self, capability: Capability) -> bool {
        match (self, capability) {
            (Role::Owner, _) => true,
            (Role::Admin, Capability::ManageClients | Capability::ManageWorkspaces) => true,
            (Role::Admin, Capability::ManageMembers) => false,
            (Role::Viewer, _) => false,
        }
    }

    /// The name the dashboard shows.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Viewer => "Viewer",
        }
    }

    /// What the role may do, in a few words, for the invite form and the members list.
    pub fn summary(self) -> &'static str {
        match self {
            Role::Owner => "everything, including members and roles",
            Role::Admin => "clients, devices and workspaces",
            Role::Viewer => "reads clients, devices and activity",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn roles_round_trip_as_the_stored_texts() {
        assert_round_trips!(Role, ["owner", "admin", "viewer"]);
    }

    #[test]
    fn only_owners_manage_members_and_viewers_change_nothing() {
        use Capability::*;
        for capability in [ManageClients, ManageWorkspaces, ManageMembers] {
            assert!(Role::Owner.allows(capability), "{capability:?}");
            assert!(!Role::Viewer.allows(capability), "{capability:?}");
        }
        assert!(Role::Admin.allows(ManageClients));
        assert!(Role::Admin.allows(ManageWorkspaces));
        assert!(!Role::Admin.allows(ManageMembers));
    }
}
