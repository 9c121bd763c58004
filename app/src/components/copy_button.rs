//! Copy buttons: alone, and beside a read-only value the user pastes elsewhere (keys, ids).

use super::browser::copy_to_clipboard;
use leptos::prelude::*;
use std::time::Duration;

/// A "Copy" button that says "Copied" for a moment after copying `value`.
#[component]
pub fn CopyButton(
    #[prop(into)] value: Signal<String>,
    /// What is copied, for screen readers ("Copy key").
    #[prop(into)]
    label: String,
    #[prop(into, optional)] testid: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        if copy_to_clipboard(&value.get_untracked()) {
            copied.set(true);
            set_timeout(move || copied.set(false), Duration::from_millis(1500));
        }
    };
    view! {
        <button type="button" class="copy" class:copied=copied aria-label=label data-testid=testid on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// A labelled, read-only value with a copy button: used for connection details.
#[component]
pub fn CopyField(
    #[prop(into)] label: String,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] testid: String,
    #[prop(optional)] secret: bool,
) -> impl IntoView {
    let copy_label = format!("Copy {}", label.to_lowercase());
    view! {
        <div class="copy-field" class:secret=secret>
            <span class="copy-label">{label}</span>
            <code data-testid=testid.clone()>{move || value.get()}</code>
            <CopyButton value=value label=copy_label testid=format!("copy-{testid}")/>
        </div>
    }
}
