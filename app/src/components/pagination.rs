//! Page links under a list: previous / next and a window of page numbers around the current one,
//! plain links so they work before the page is interactive. Shared by the Clients and Devices
//! pages; each says how a page number becomes its URL.

use leptos::prelude::*;

/// The page numbers to show for page `current` of `count`: the first, the last, and two on each
/// side of the current one; a gap (`None`) where numbers are left out.
pub fn window(current: u32, count: u32) -> Vec<Option<u32>> {
    let mut numbers: Vec<u32> = vec![1, count];
    numbers.extend(current.saturating_sub(2).max(1)..=(current.saturating_add(2)).min(count));
    numbers.sort_unstable();
    numbers.dedup();
    let mut items = Vec::new();
    let mut last = 0;
    for n in numbers {
        if n > last + 1 {
            items.push(None);
        }
        items.push(Some(n));
        last = n;
    }
    items
}

/// Links to the pages of a list of `count` pages, `current` among them; `href` makes page N's
/// URL. Nothing when everything fits on one page.
#[component]
pub fn PageLinks<F>(current: u32, count: u32, href: F) -> impl IntoView
where
    F: Fn(u32) -> String + 'static,
{
    if count <= 1 {
        return ().into_any();
    }
    let current = current.clamp(1, count);
    let items = window(current, count)
        .into_iter()
        .map(|item| match item {
            None => view! { <span class="gap">"…"</span> }.into_any(),
            Some(n) if n == current => {
                view! { <span class="page current" aria-current="page">{n}</span> }.into_any()
            }
            Some(n) => view! { <a class="page" href=href(n)>{n}</a> }.into_any(),
        })
        .collect_view();
    view! {
        <nav class="pagination" aria-label="Pages" data-testid="pagination">
            {(current > 1).then(|| view! { <a class="page" rel="prev" href=href(current - 1) data-testid="prev-page">"‹ Previous"</a> })}
            {items}
            {(current < count).then(|| view! { <a class="page" rel="next" href=href(current + 1) data-testid="next-page">"Next ›"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn the_window_keeps_the_ends_and_two_pages_around_the_current_one() {
        assert_eq!(window(1, 1), [Some(1)]);
        assert_eq!(window(1, 3), [Some(1), Some(2), Some(3)]);
        assert_eq!(
            window(200, 400),
            [
                Some(1),
                None,
                Some(198),
                Some(199),
                Some(200),
                Some(201),
                Some(202),
                None,
                Some(400)
            ]
        );
        assert_eq!(
            window(400, 400),
            [Some(1), None, Some(398), Some(399), Some(400)]
        );
    }
}
