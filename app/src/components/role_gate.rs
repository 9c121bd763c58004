//! Whether the signed-in member may change what a page shows (a viewer may not): pages provide it
//! once from [`Me`], and every view that would open a modal to change something asks it, to leave
//! the button out. The server refuses such changes regardless; this only spares viewers buttons
//! that would fail.

use crate::model::{Capability, Me};
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct MayManage(bool);

/// Provides, for the views below, whether `me` may do what `capability` covers.
pub fn provide_may_manage(me: &Me, capability: Capability) -> bool {
    let may = me.can(capability);
    provide_context(MayManage(may));
    may
}

/// What the page above provided; `false` when it provided nothing.
pub fn may_manage() -> bool {
    use_context::<MayManage>().is_some_and(|m| m.0)
}
