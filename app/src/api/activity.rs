//! Settings → Activity: the organization's audit log, filtered, a page at a time, and as CSV.
//! Any member reads it.

use crate::error::AppError;
use crate::model::{ActivityFilter, ActivityPage};
use leptos::prelude::*;

/// One page of the events matching `filter`, newest first; `before` is the cursor of an older
/// page (from [`ActivityPage::older`]).
#[server(prefix = "/api", endpoint = "activity/list")]
pub async fn list_activity(
    #[server(default)] filter: ActivityFilter,
    #[server(default)] before: Option<i64>,
) -> Result<ActivityPage, AppError> {
    use crate::store::audit;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let organization = caller.organization_id();
    let per_page = ActivityFilter::PER_PAGE;
    // One more than a page tells whether an older page exists.
    let mut entries = audit::list(&state.db, organization, &filter, before, per_page + 1).await?;
    let older = (entries.len() > per_page as usize).then(|| {
        entries.truncate(per_page as usize);
        entries.last().map(|e| e.id)
    });
    Ok(ActivityPage {
        total: audit::count(&state.db, organization, &filter).await?,
        older: older.flatten(),
        entries,
    })
}

/// The events matching `filter` as CSV, newest first, at most [`ActivityFilter::MAX_EXPORT`].
#[server(prefix = "/api", endpoint = "activity/export")]
pub async fn export_activity(
    #[server(default)] filter: ActivityFilter,
) -> Result<String, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let entries = crate::store::audit::list(
        &state.db,
        caller.organization_id(),
        &filter,
        None,
        ActivityFilter::MAX_EXPORT,
    )
    .await?;
    Ok(crate::model::activity_csv::to_csv(&entries))
}
