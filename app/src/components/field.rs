//! Form fields that show their parser's verdict under the input, as the user types.

use leptos::prelude::*;

/// A labelled text input bound to `value`, with its validation message underneath.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    /// The form field name; also names the error element (`error-NAME`) for tests.
    #[prop(into)]
    name: String,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] monospace: bool,
    #[prop(into, optional)] input_type: Option<String>,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(optional)] node_ref: Option<NodeRef<leptos::html::Input>>,
    /// Extra content after the input (a "Generate" button).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("error-{name}");
    let input = if multiline {
        view! {
            <textarea id=id.clone() name=name.clone() rows="3"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))>
                {value.get_untracked()}
            </textarea>
        }
        .into_any()
    } else {
        let node_ref = node_ref.unwrap_or_default();
        view! {
            <input id=id.clone() name=name.clone() node_ref=node_ref
                type=input_type.unwrap_or_else(|| "text".into())
                class:mono=monospace
                autocomplete=autocomplete.unwrap_or_else(|| "off".into())
                spellcheck="false"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        }
        .into_any()
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <div class="field-row">{input}{children.map(|c| c())}</div>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <p class="field-error" id=error_id.clone() data-testid=error_id role="alert">
                {move || error.get().unwrap_or_default()}
            </p>
        </div>
    }
}
