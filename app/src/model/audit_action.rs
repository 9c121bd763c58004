//! What an audit event records: one variant per kind of change or refusal the activity log shows.

use super::text_enum;

text_enum!(
    /// The action of an audit event, stored in `audit_events.action` as its text.
    AuditAction, "audit action" {
        OrganizationCreated = "organization.created",
        UserSignedIn = "user.signed_in",
        /// A wrong password for an existing user (unknown emails belong to no organization).
        UserSignInFailed = "user.sign_in_failed",
        WorkspaceCreated = "workspace.created",
        WorkspaceRenamed = "workspace.renamed",
        ClientCreated = "client.created",
        ClientUpdated = "client.updated",
        ClientActivated = "client.activated",
        ClientDeactivated = "client.deactivated",
        ClientKeyRegenerated = "client.key_regenerated",
        ClientDeleted = "client.deleted",
        /// A client's scope changed: restricted, unrestricted, or other devices and tags.
        ClientScopeChanged = "client.scope_changed",
        ClientRulesChanged = "client.rules_changed",
        ClientKeyRotated = "client.key_rotated",
        ClientKeyRetired = "client.key_retired",
        ClientKeyExpired = "client.key_expired",
        ClientKeyExpiryChanged = "client.key_expiry_changed",
        OrganizationKeyExpiryChanged = "organization.key_expiry_changed",
        /// The back-off's lock-out of a client (and of its addresses) cleared by a member.
        ClientLockoutCleared = "client.lockout_cleared",
        /// Every live session of a client closed by a member; its key and status unchanged.
        ClientSessionsDisconnected = "client.sessions_disconnected",
        DeviceCreated = "device.created",
        DeviceUpdated = "device.updated",
        DeviceDeleted = "device.deleted",
        /// A wrong key for an existing client.
        MqttAuthFailed = "mqtt.auth_failed",
        /// The right key of an inactive client.
        MqttRefusedInactive = "mqtt.refused_inactive",
        /// A Last Will outside the client's namespace.
        MqttRefusedWillTopic = "mqtt.refused_will_topic",
        /// An MQTT client identifier another client holds.
        MqttRefusedIdentifier = "mqtt.refused_identifier",
        /// More sessions than a client may hold on one broker.
        MqttRefusedTooManySessions = "mqtt.refused_too_many_sessions",
        /// A restricted client's key from a device outside its scope, or not in connection form 3.
        MqttRefusedScope = "mqtt.refused_scope",
        MqttRefusedExpiredKey = "mqtt.refused_expired_key",
        /// An invitation link made (the target is the invited email).
        MemberInvited = "member.invited",
        InvitationRevoked = "member.invitation_revoked",
        /// An invitation accepted: a new member (the target), by sign-up or with an account.
        MemberJoined = "member.joined",
        MemberRoleChanged = "member.role_changed",
        MemberRemoved = "member.removed",
        MemberLeft = "member.left",
        UserPasswordChanged = "user.password_changed",
        /// Every dashboard session of the user ended at their request.
        UserSignedOutEverywhere = "user.signed_out_everywhere",
        /// An API token made (the target is its name; the detail its scope).
        ApiTokenCreated = "api_token.created",
        ApiTokenRevoked = "api_token.revoked",
        /// An event endpoint added (the target is its URL; the detail its event types).
        EventEndpointCreated = "event_endpoint.created",
        EventEndpointEnabled = "event_endpoint.enabled",
        EventEndpointDisabled = "event_endpoint.disabled",
        EventEndpointDeleted = "event_endpoint.deleted",
        /// An event queued again for its endpoint (the detail names the event).
        EventResent = "event_endpoint.event_resent",
        SignupOpened = "install.signup_opened",
        SignupClosed = "install.signup_closed",
        OperatorNamed = "install.operator_named",
        OperatorRemoved = "install.operator_removed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn audit_actions_round_trip_as_the_stored_texts() {
        assert_round_trips!(
            AuditAction,
            [
                "organization.created",
                "user.signed_in",
                "user.sign_in_failed",
                "workspace.created",
                "workspace.renamed",
                "client.created",
                "client.updated",
                "client.activated",
                "client.deactivated",
                "client.key_regenerated",
                "client.deleted",
                "client.scope_changed",
                "client.rules_changed",
                "client.key_rotated",
                "client.key_retired",
                "client.key_expired",
                "client.key_expiry_changed",
                "organization.key_expiry_changed",
                "client.lockout_cleared",
                "client.sessions_disconnected",
                "device.created",
                "device.updated",
                "device.deleted",
                "mqtt.auth_failed",
                "mqtt.refused_inactive",
                "mqtt.refused_will_topic",
                "mqtt.refused_identifier",
                "mqtt.refused_too_many_sessions",
                "mqtt.refused_scope",
                "mqtt.refused_expired_key",
                "member.invited",
                "member.invitation_revoked",
                "member.joined",
                "member.role_changed",
                "member.removed",
                "member.left",
                "user.password_changed",
                "user.signed_out_everywhere",
                "api_token.created",
                "api_token.revoked",
                "event_endpoint.created",
                "event_endpoint.enabled",
                "event_endpoint.disabled",
                "event_endpoint.deleted",
                "event_endpoint.event_resent",
                "install.signup_opened",
                "install.signup_closed",
                "install.operator_named",
                "install.operator_removed",
            ]
        );
    }
}
