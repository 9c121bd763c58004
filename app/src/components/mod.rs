//! Building blocks shared by the pages.

pub mod browser;
pub mod copy_button;
pub mod expiry_field;
pub mod field;
pub mod header;
pub mod key_policy;
pub mod modal;
pub mod pagination;
pub mod protected;
pub mod role_gate;
pub mod search_box;
pub mod status_switch;
pub mod toast;
pub mod view_toggle;
