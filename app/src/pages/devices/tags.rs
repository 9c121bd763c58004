//! A device's tags as chips, and the tags field that shows what it will save as you type.

use crate::components::field::TextField;
use crate::model::{Tag, parse_tags};
use leptos::prelude::*;

/// `key=value` chips; "No tags" for none.
#[component]
pub fn TagChips(tags: Vec<Tag>) -> impl IntoView {
    if tags.is_empty() {
        return view! { <span class="muted no-tags">"No tags"</span> }.into_any();
    }
    view! {
        <ul class="chips" aria-label="Tag list">
            {tags.into_iter().map(|tag| view! { <li class="chip" data-testid="tag">{tag.to_string()}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The tags input (`env=prod, zone=a`), its error underneath and, while it parses, the chips it
/// will save (sorted, each once).
#[component]
pub fn TagsField(value: RwSignal<String>, error: Signal<Option<String>>) -> impl IntoView {
    let preview = move || parse_tags(&value.get()).ok().filter(|t| !t.is_empty());
    view! {
        <TextField label="Tags" name="tags" value error
            hint="Comma-separated key=value pairs, e.g. env=prod, zone=a. A restricted client can select devices by tag."/>
        <div class="tag-preview" data-testid="tag-preview">
            {move || preview().map(|tags| view! { <TagChips tags/> })}
        </div>
    }
}
