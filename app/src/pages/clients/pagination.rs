//! Page links under the clients, plain links that also work before hydration.

use super::PageQuery;
use crate::model::ClientPage;
use leptos::prelude::*;

/// Previous / next and a window of page numbers; plain links, so they work without WASM.
#[component]
pub fn Pagination(page: ClientPage, query: Memo<PageQuery>) -> impl IntoView {
    let count = page.page_count();
    if count <= 1 {
        return ().into_any();
    }
    let current = page.page.min(count);
    let link = move |n: u32| {
        PageQuery {
            page: n,
            ..query.get_untracked()
        }
        .href()
    };
    let mut numbers: Vec<u32> = vec![1, count];
    numbers.extend(current.saturating_sub(2).max(1)..=(current + 2).min(count));
    numbers.sort_unstable();
    numbers.dedup();
    let mut items = Vec::new();
    let mut last = 0;
    for n in numbers {
        if n > last + 1 {
            items.push(view! { <span class="gap">"…"</span> }.into_any());
        }
        items.push(if n == current {
            view! { <span class="page current" aria-current="page">{n}</span> }.into_any()
        } else {
            view! { <a class="page" href=link(n)>{n}</a> }.into_any()
        });
        last = n;
    }
    view! {
        <nav class="pagination" aria-label="Pages" data-testid="pagination">
            {(current > 1).then(|| view! { <a class="page" rel="prev" href=link(current - 1) data-testid="prev-page">"‹ Previous"</a> })}
            {items}
            {(current < count).then(|| view! { <a class="page" rel="next" href=link(current + 1) data-testid="next-page">"Next ›"</a> })}
        </nav>
    }
    .into_any()
}
