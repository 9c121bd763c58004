//! The organization's key policy, read once per page load beside the signed-in user: the header's
//! count of keys that expire within 7 days, and the default expiry that the key forms preselect and
//! Settings shows. Created with the page's [`MeResource`](super::protected::MeResource), outside
//! `Protected`, for the reason given there.

use super::protected::{MeResource, use_me_version, when_signed_in};
use crate::api::keys::key_policy;
use crate::model::KeyPolicy;
use leptos::prelude::*;

/// The page's key policy: `None` while signed out, and when it could not be read (the header then
/// shows no count, and the forms send "the organization's default" as such).
#[derive(Clone, Copy)]
pub struct KeyPolicyCtx {
    resource: Resource<Option<KeyPolicy>>,
    version: RwSignal<u32>,
}

impl KeyPolicyCtx {
    pub fn resource(&self) -> Resource<Option<KeyPolicy>> {
        self.resource
    }

    /// What has been read so far, without tracking it.
    pub fn loaded(&self) -> Option<KeyPolicy> {
        self.resource.get_untracked().flatten()
    }

    /// A key or the default changed: read the policy again.
    pub fn refetch(&self) {
        self.version.update(|v| *v = v.wrapping_add(1));
    }
}

/// Creates the page's key policy beside `me`, and provides it to the views below.
pub fn provide_key_policy(me: MeResource) {
    let me_version = use_me_version();
    let version = RwSignal::new(0u32);
    let resource = Resource::new(
        move || (me_version.get(), version.get()),
        move |_| async move {
            // A count the header cannot show is no reason to fail the page.
            when_signed_in(me, key_policy).await.ok().flatten()
        },
    );
    provide_context(KeyPolicyCtx { resource, version });
}

/// The key policy the page provided, if it did.
pub fn use_key_policy() -> Option<KeyPolicyCtx> {
    use_context::<KeyPolicyCtx>()
}
