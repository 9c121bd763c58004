//! The search box above a list: a plain GET form (`?q=`), so it works before the page is
//! interactive, that searches as you type once it is, replacing the history entry instead of
//! adding one per keystroke.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

/// `action` is the page's path, `initial` the search it was rendered with, `max_len` the longest
/// search its server function takes, and `href_for` the
/// page's URL for a new search text (page 1, the rest of the query kept). `children` go inside the
/// form, for hidden fields that a plain GET must keep (a filter).
#[component]
pub fn SearchBox(
    action: &'static str,
    placeholder: &'static str,
    label: &'static str,
    initial: String,
    max_len: usize,
    href_for: impl Fn(String) -> String + Clone + Send + Sync + 'static,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let navigate = use_navigate();
    let search = RwSignal::new(initial.clone());
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        search.set(text.clone());
        navigate(
            &href_for(text),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <form method="get" action=action class="search" role="search" on:submit=|ev| ev.prevent_default()>
            <input type="search" name="q" placeholder=placeholder aria-label=label
                data-testid="search" maxlength=max_len prop:value=move || search.get() value=initial on:input=on_input/>
            {children.map(|children| children())}
        </form>
    }
}
