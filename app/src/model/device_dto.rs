//! What crosses the wire between the Devices page and its server functions.

use super::{DeviceId, Tag, ViewMode};
use serde::{Deserialize, Serialize};

/// One device as the Devices page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub device_id: DeviceId,
    /// May be empty: a device that appeared by connecting has no name yet.
    pub name: String,
    /// Sorted, without duplicates.
    pub tags: Vec<Tag>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Its last connect through a client in connection form 3.
    pub last_seen_at: Option<i64>,
    /// The Client ID it last connected with (the client may be deleted since).
    pub last_client_id: Option<String>,
}

/// The column the Devices page is sorted by; ties are broken by device id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceSortKey {
    DeviceId,
    Name,
    #[default]
    Created,
    LastSeen,
}

impl DeviceSortKey {
    pub const ALL: [DeviceSortKey; 4] = [
        DeviceSortKey::DeviceId,
        DeviceSortKey::Name,
        DeviceSortKey::Created,
        DeviceSortKey::LastSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceSortKey::DeviceId => "device_id",
            DeviceSortKey::Name => "name",
            DeviceSortKey::Created => "created",
            DeviceSortKey::LastSeen => "last_seen",
        }
    }

    /// An unknown text is the default sort, never an error: it comes from a URL.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            DeviceSortKey::DeviceId => "Device ID",
            DeviceSortKey::Name => "Name",
            DeviceSortKey::Created => "Created",
            DeviceSortKey::LastSeen => "Last seen",
        }
    }

    /// Times read newest first by default, texts A to Z.
    pub fn descending_by_default(self) -> bool {
        matches!(self, DeviceSortKey::Created | DeviceSortKey::LastSeen)
    }
}

/// What the Devices page asks for: a search (device id, name or tag), a sort and a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceQuery {
    pub search: String,
    pub sort: DeviceSortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
}

impl DeviceQuery {
    pub const PER_PAGE: u32 = 25;
    pub const MAX_SEARCH: usize = 64;
}

/// One page of devices plus what the page needs around them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevicePage {
    pub rows: Vec<DeviceRow>,
    /// Devices matching the search.
    pub total: u64,
    /// Devices in the workspace, whatever the search: tells "empty workspace" from "no match".
    pub workspace_total: u64,
    pub page: u32,
    pub per_page: u32,
    pub view: ViewMode,
}

impl DevicePage {
    pub fn page_count(&self) -> u32 {
        (self.total.div_ceil(self.per_page as u64) as u32).max(1)
    }
}

/// What a bulk paste did: the devices it created and the ids the workspace had already.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkCreated {
    pub created: Vec<DeviceId>,
    pub skipped: Vec<DeviceId>,
}
