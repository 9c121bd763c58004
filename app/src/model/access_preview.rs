//! The Edit modal's preview box: "may device D publish to topic T?". The server answers it with
//! the one access rule ([`super::access::decide`]) and the client's devices in scope; this is the
//! answer and the sentence the box shows.

use super::access::{Access, Because, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why the preview answered as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreviewReason {
    /// A restricted client's device outside its scope: it cannot even connect.
    DeviceNotInScope,
    /// A publish names one topic; `+` and `#` belong to subscriptions.
    WildcardPublish,
    /// What [`super::access::decide`] said.
    Decided(Because),
}

/// The preview box's answer about one device, topic and action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPreview {
    pub device: String,
    pub allowed: bool,
    pub reason: PreviewReason,
}

impl AccessPreview {
    /// A device a restricted client does not serve.
    pub fn not_in_scope(device: &str) -> Self {
        Self {
            device: device.to_owned(),
            allowed: false,
            reason: PreviewReason::DeviceNotInScope,
        }
    }

    /// What [`super::access::decide`] answered for `device` doing `access` on `topic`.
    pub fn decided(device: &str, access: Access, topic: &str, verdict: Verdict) -> Self {
        let reason = match verdict.because {
            Because::OutsideNamespace
                if access == Access::Publish && topic.contains(['+', '#']) =>
            {
                PreviewReason::WildcardPublish
            }
            because => PreviewReason::Decided(because),
        };
        Self {
            device: device.to_owned(),
            allowed: verdict.allowed,
            reason,
        }
    }
}

/// The sentence the preview box shows.
impl fmt::Display for AccessPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "Allowed" } else { "Denied" };
        match self.reason {
            PreviewReason::DeviceNotInScope => write!(
                f,
                "Denied: device {} is not in this client's scope — it could not even connect.",
                self.device
            ),
            PreviewReason::WildcardPublish => write!(
                f,
                "Denied: a publish names one topic; '+' and '#' are for subscriptions."
            ),
            PreviewReason::Decided(Because::OutsideNamespace) => {
                write!(f, "Denied: outside the namespace.")
            }
            PreviewReason::Decided(Because::OutsideScope) => write!(
                f,
                "Denied: outside the scope — a restricted client reaches only NAMESPACE/devices/DEVICE_ID/… of its devices."
            ),
            PreviewReason::Decided(Because::Rule(index)) => {
                write!(f, "{verdict} by rule {}.", index + 1)
            }
            PreviewReason::Decided(Because::NoRule) => write!(
                f,
                "{verdict}: no rule matches (default inside the namespace)."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(access: Access, topic: &str, allowed: bool, because: Because) -> String {
        AccessPreview::decided("d-1", access, topic, Verdict { allowed, because }).to_string()
    }

    #[test]
    fn each_answer_reads_as_a_sentence() {
        assert_eq!(
            say(Access::Publish, "acme/x", true, Because::NoRule),
            "Allowed: no rule matches (default inside the namespace)."
        );
        assert_eq!(
            say(Access::Subscribe, "acme/x", false, Because::Rule(1)),
            "Denied by rule 2."
        );
        assert_eq!(
            say(Access::Publish, "acme/x", true, Because::Rule(0)),
            "Allowed by rule 1."
        );
        assert_eq!(
            say(Access::Publish, "other/x", false, Because::OutsideNamespace),
            "Denied: outside the namespace."
        );
        assert!(
            say(Access::Publish, "acme/#", false, Because::OutsideNamespace)
                .contains("'+' and '#' are for subscriptions")
        );
        assert_eq!(
            AccessPreview::not_in_scope("d-9").to_string(),
            "Denied: device d-9 is not in this client's scope — it could not even connect."
        );
    }
}
