//! The dialog every modal of the dashboard is drawn in: focus, Esc, backdrop.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A modal dialog. Focus moves into it when it opens and comes back to where it was when it
/// closes; Esc and a click on the backdrop close it unless `dismissable` is false (the key reveal
/// until the user confirms they saved the key).
#[component]
pub fn Modal(
    #[prop(into)] title: Signal<String>,
    #[prop(into)] on_close: Callback<()>,
    #[prop(into, optional)] dismissable: Option<Signal<bool>>,
    #[prop(into, optional)] testid: String,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let dismissable = dismissable.unwrap_or(Signal::stored(true));
    let dialog = NodeRef::<leptos::html::Div>::new();

    // Remember what had focus, move focus into the dialog, and give it back on close.
    let previous: StoredValue<Option<web_sys::HtmlElement>, LocalStorage> = StoredValue::new_local(
        document()
            .active_element()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
    );
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get() {
            let first = dialog
                .query_selector(
                    "[autofocus], input:not([disabled]), textarea, select, button:not([disabled])",
                )
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            match first {
                Some(el) => {
                    let _ = el.focus();
                }
                None => {
                    let _ = dialog.focus();
                }
            }
        }
    });
    on_cleanup(move || {
        if let Some(Some(el)) = previous.try_get_value() {
            let _ = el.focus();
        }
    });

    let keydown = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && dismissable.get_untracked() {
            ev.prevent_default();
            on_close.run(());
        }
    });
    on_cleanup(move || keydown.remove());

    let title_id = "modal-title";
    view! {
        <div class="backdrop" on:click=move |_| if dismissable.get_untracked() { on_close.run(()) }>
            <div class="modal" class:wide=wide node_ref=dialog role="dialog" aria-modal="true"
                aria-labelledby=title_id tabindex="-1" data-testid=testid
                on:click=|ev| ev.stop_propagation()>
                <header class="modal-header">
                    <h2 id=title_id>{move || title.get()}</h2>
                    <button type="button" class="icon close" aria-label="Close"
                        disabled=move || !dismissable.get()
                        on:click=move |_| on_close.run(())>"×"</button>
                </header>
                {children()}
            </div>
        </div>
    }
}
