//! What the sign-in and sign-up forms share: a labelled input with its server-side error.

use crate::error::AppError;
use crate::model::FieldError;
use leptos::prelude::*;

/// The message for `field` from the last result of a form's server action.
pub fn field_error(
    result: Signal<Option<Result<(), AppError>>>,
    field: FieldError,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        result
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

/// A message for errors that belong to no field (closed sign-up, lock-out, server trouble).
pub fn form_error(result: Signal<Option<Result<(), AppError>>>) -> Signal<Option<String>> {
    Signal::derive(move || match result.get() {
        Some(Err(AppError::Invalid { .. })) | Some(Ok(())) | None => None,
        Some(Err(e)) => Some(e.to_string()),
    })
}

#[component]
pub fn AuthInput(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into)] input_type: String,
    #[prop(into)] autocomplete: String,
    error: Signal<Option<String>>,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("error-{name}");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=input_type autocomplete=autocomplete required autofocus=autofocus
                aria-invalid=move || error.get().is_some().to_string() aria-describedby=error_id.clone()/>
            <p class="field-error" id=error_id.clone() data-testid=error_id role="alert">{move || error.get().unwrap_or_default()}</p>
        </div>
    }
}
