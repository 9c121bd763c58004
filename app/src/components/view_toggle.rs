//! The List / Cards switch above a list. The choice is saved for the user (one choice for every
//! page that lays out rows both ways).

use crate::api::account::set_view;
use crate::model::ViewMode;
use leptos::prelude::*;

/// Two buttons that set `view_mode` and save it.
#[component]
pub fn ViewToggle(view_mode: RwSignal<ViewMode>) -> impl IntoView {
    let choose = move |mode: ViewMode| {
        view_mode.set(mode);
        leptos::task::spawn_local(async move {
            let _ = set_view(mode).await;
        });
    };
    view! {
        <div class="view-toggle" role="group" aria-label="Layout">
            <button type="button" data-testid="view-list" aria-pressed=move || (view_mode.get() == ViewMode::List).to_string()
                class:active=move || view_mode.get() == ViewMode::List on:click=move |_| choose(ViewMode::List)>"☰ List"</button>
            <button type="button" data-testid="view-cards" aria-pressed=move || (view_mode.get() == ViewMode::Cards).to_string()
                class:active=move || view_mode.get() == ViewMode::Cards on:click=move |_| choose(ViewMode::Cards)>"▦ Cards"</button>
        </div>
    }
}
