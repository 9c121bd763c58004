//! Page links under the clients, plain links that also work before hydration.

use super::PageQuery;
use crate::components::pagination::PageLinks;
use crate::model::ClientPage;
use leptos::prelude::*;

/// Previous / next and a window of page numbers, for the clients' query.
#[component]
pub fn Pagination(page: ClientPage, query: Memo<PageQuery>) -> impl IntoView {
    let href = move |n: u32| {
        PageQuery {
            page: n,
            ..query.get_untracked()
        }
        .href()
    };
    view! { <PageLinks current=page.page count=page.page_count() href/> }
}
