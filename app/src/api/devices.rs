//! The Devices page's server functions: each parses its input, calls `use_cases::devices`, and
//! maps the result. All of them work in the caller's current workspace: a device of another
//! organization answers "not found", whatever the request says.

use crate::error::AppError;
use crate::model::{BulkCreated, DeviceId, DevicePage, DeviceRow};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use crate::model::{DeviceId, FieldError, parse_paste};

    /// An id that is not even well-formed cannot name an existing device.
    pub fn existing_id(raw: &str) -> Result<DeviceId, AppError> {
        DeviceId::parse(raw).map_err(|_| AppError::NotFound("device".into()))
    }

    /// The ids of a paste, or the field error the paste box shows.
    pub fn pasted_ids(text: &str) -> Result<Vec<DeviceId>, AppError> {
        let paste = parse_paste(text);
        match paste.problem() {
            Some(problem) => Err(AppError::invalid(FieldError::DeviceId, problem)),
            None => Ok(paste.ids),
        }
    }

    /// A device that is missing or another organization's is a "device" not found.
    pub fn missing(e: impl Into<crate::use_cases::Failure>) -> AppError {
        AppError::missing("device")(e)
    }
}

/// One page of the current workspace's devices.
#[server(prefix = "/api", endpoint = "devices/list")]
pub async fn list_devices(
    search: String,
    sort: String,
    descending: bool,
    page: u32,
) -> Result<DevicePage, AppError> {
    use crate::model::{DeviceQuery, DeviceSortKey};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let query = DeviceQuery {
        search: search
            .trim()
            .chars()
            .take(DeviceQuery::MAX_SEARCH)
            .collect(),
        sort: DeviceSortKey::parse(&sort),
        descending,
        page: page.max(1),
    };
    let listed = crate::use_cases::devices::list(&state, &caller.workspace, &query).await?;
    Ok(DevicePage {
        rows: listed.rows,
        total: listed.total,
        workspace_total: listed.workspace_total,
        page: query.page,
        per_page: DeviceQuery::PER_PAGE,
        view: caller.user.view_mode,
    })
}

/// A device of the current workspace.
#[server(prefix = "/api", endpoint = "devices/get")]
pub async fn get_device(device_id: String) -> Result<DeviceRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&device_id)?;
    crate::use_cases::devices::get(&state, &caller.workspace, &id)
        .await
        .map_err(ssr::missing)
}

/// Adds a device to the current workspace.
#[server(prefix = "/api", endpoint = "devices/create")]
pub async fn create_device(
    device_id: String,
    name: String,
    tags: String,
) -> Result<DeviceRow, AppError> {
    use crate::model::{DeviceName, parse_tags};
    use crate::use_cases::devices::{self, NewDevice};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let new = NewDevice {
        device_id: DeviceId::parse(&device_id)?,
        name: DeviceName::parse(&name)?,
        tags: parse_tags(&tags)?,
    };
    devices::create(&state, &caller.actor(), &caller.workspace, new)
        .await
        .map_err(ssr::missing)
}

/// Adds every device id of a paste (one per line or comma-separated) to the current workspace
/// at once; the ids it has already are skipped and reported. A paste with a bad line creates
/// nothing.
#[server(prefix = "/api", endpoint = "devices/create_many")]
pub async fn create_devices(ids: String) -> Result<BulkCreated, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let ids = ssr::pasted_ids(&ids)?;
    crate::use_cases::devices::create_many(&state, &caller.actor(), &caller.workspace, &ids)
        .await
        .map_err(ssr::missing)
}

/// Which device ids of a paste the current workspace has already (what a bulk paste will skip);
/// pieces that are not device ids are left out.
#[server(prefix = "/api", endpoint = "devices/existing")]
pub async fn existing_devices(ids: String) -> Result<Vec<DeviceId>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let mut paste = crate::model::parse_paste(&ids);
    paste.ids.truncate(crate::model::MAX_PASTE);
    crate::use_cases::devices::existing(&state, &caller.workspace, &paste.ids)
        .await
        .map_err(Into::into)
}

/// Changes a device's name and tags; a tag removed revokes the restricted clients that lose it.
#[server(prefix = "/api", endpoint = "devices/update")]
pub async fn update_device(
    device_id: String,
    name: String,
    tags: String,
) -> Result<DeviceRow, AppError> {
    use crate::model::{DeviceName, parse_tags};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&device_id)?;
    let name = DeviceName::parse(&name)?;
    let tags = parse_tags(&tags)?;
    crate::use_cases::devices::update(
        &state,
        &caller.actor(),
        &caller.workspace,
        &id,
        &name,
        &tags,
    )
    .await
    .map_err(ssr::missing)
}

/// Deletes a device; the restricted clients that held it lose it.
#[server(prefix = "/api", endpoint = "devices/delete")]
pub async fn delete_device(device_id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&device_id)?;
    crate::use_cases::devices::delete(&state, &caller.actor(), &caller.workspace, &id)
        .await
        .map_err(ssr::missing)
}
