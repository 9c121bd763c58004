//! The Edit modal's two ways to a new key, and what they share: the key (generated, or typed) and
//! when it expires. Regenerate replaces every key at once; Rotate adds the new key beside the
//! current one, which keeps working until the time chosen. Both end in the reveal.

use super::key_badges::retiring;
use super::{ClientsCtx, Dialog, RevealKind};
use crate::api::clients::regenerate_key;
use crate::api::keys::rotate_key;
use crate::components::browser::now_millis;
use crate::components::expiry_field::{ExpiryDraft, ExpiryField};
use crate::components::field::TextField;
use crate::components::key_policy::use_key_policy;
use crate::components::toast::{Toaster, use_toaster};
use crate::error::AppError;
use crate::model::{
    ClientDetails, ClientKey, FieldError, RetireAfter, RevealedKey, SecretInput, time_format,
};
use leptos::prelude::*;

/// The new key as chosen: generated in the browser (the default), or typed.
#[derive(Clone, Copy)]
struct KeyDraft {
    own: RwSignal<bool>,
    typed: RwSignal<String>,
    generated: StoredValue<ClientKey>,
}

impl KeyDraft {
    fn new() -> Self {
        Self {
            own: RwSignal::new(false),
            typed: RwSignal::new(String::new()),
            generated: StoredValue::new(ClientKey::generate()),
        }
    }

    /// The key to send.
    fn key(&self) -> SecretInput {
        SecretInput::new(if self.own.get_untracked() {
            self.typed.get_untracked()
        } else {
            self.generated.with_value(|k| k.expose().to_owned())
        })
    }

    /// A typed key's parser verdict as you type, else the server's about it. Tracked.
    fn error(&self, server_error: RwSignal<Option<AppError>>) -> Option<String> {
        if !self.own.get() {
            return None;
        }
        ClientKey::parse(&self.typed.get())
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                server_error
                    .get()
                    .and_then(|e| e.for_field(FieldError::Key))
            })
    }
}

/// Generate a new key (recommended) or type one.
#[component]
fn KeyChoice(draft: KeyDraft, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    let own = draft.own;
    view! {
        <fieldset class="choice">
            <legend>"New key"</legend>
            <label><input type="radio" name="key-source" data-testid="key-generated" prop:checked=move || !own.get() on:change=move |_| own.set(false)/>
                " Generate a new key (recommended)"</label>
            <label><input type="radio" name="key-source" data-testid="key-own" prop:checked=move || own.get() on:change=move |_| own.set(true)/>
                " Type my own key"</label>
        </fieldset>
        <Show when=move || own.get()>
            <TextField label="Your key" name="key" value=draft.typed error=error monospace=true hint="At least 16 printable characters, no spaces."/>
        </Show>
    }
}

/// What both steps keep while the user chooses: the key, its expiry, the server's verdict.
#[derive(Clone, Copy)]
struct NewKeyForm {
    key: KeyDraft,
    expiry: ExpiryDraft,
    /// The organization's default expiry, as far as the page knows it.
    default_days: Option<Option<u32>>,
    server_error: RwSignal<Option<AppError>>,
    busy: RwSignal<bool>,
    ctx: ClientsCtx,
    toaster: Toaster,
}

impl NewKeyForm {
    fn new() -> Self {
        let default_days = use_key_policy()
            .and_then(|p| p.loaded())
            .map(|p| p.default_days);
        Self {
            key: KeyDraft::new(),
            expiry: ExpiryDraft::preselect(default_days),
            default_days,
            server_error: RwSignal::new(None),
            busy: RwSignal::new(false),
            ctx: expect_context::<ClientsCtx>(),
            toaster: use_toaster(),
        }
    }

    fn key_error(self) -> Signal<Option<String>> {
        Signal::derive(move || self.key.error(self.server_error))
    }

    fn expiry_error(self) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.expiry
                .error(now_millis())
                .map(|e| e.to_string())
                .or_else(|| {
                    self.server_error
                        .get()
                        .and_then(|e| e.for_field(FieldError::KeyExpiry))
                })
        })
    }

    /// The server's refusal when no field shows it.
    fn general_error(self, fields: &'static [FieldError]) -> Signal<Option<String>> {
        Signal::derive(move || match self.server_error.get() {
            Some(AppError::Invalid { field, .. }) if fields.contains(&field) => None,
            None => None,
            Some(e) => Some(e.to_string()),
        })
    }

    /// Sends `request` and reveals its key, or shows why not.
    fn send(
        self,
        request: impl Future<Output = Result<RevealedKey, AppError>> + 'static,
        done: impl FnOnce(&RevealedKey) -> (String, RevealKind) + 'static,
    ) {
        let (ctx, toaster) = (self.ctx, self.toaster);
        self.busy.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            let _ = self.busy.try_set(false);
            match result {
                Ok(revealed) => {
                    let (message, kind) = done(&revealed);
                    toaster.success(message);
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Reveal { revealed, kind });
                }
                Err(e) => {
                    let _ = self.server_error.try_set(Some(e));
                }
            }
        });
    }
}

/// Regenerate: the new key replaces the client's keys at once.
#[component]
pub fn RegenerateStep(details: ClientDetails, on_back: Callback<()>) -> impl IntoView {
    let form = NewKeyForm::new();
    let key_error = form.key_error();
    let expiry_error = form.expiry_error();
    let general_error = form.general_error(&[FieldError::Key, FieldError::KeyExpiry]);
    let id = details.row.client_id.to_string();
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if key_error.get_untracked().is_some() || expiry_error.get_untracked().is_some() {
            return;
        }
        let request = regenerate_key(id.clone(), form.key.key(), form.expiry.text_untracked());
        form.send(request, |revealed| {
            (
                format!(
                    "New key for {}: the old key no longer works",
                    revealed.row.client_id
                ),
                RevealKind::Regenerated,
            )
        });
    };
    let busy = form.busy;
    view! {
        <form on:submit=confirm novalidate>
            <div class="banner warning" role="note">
                "The current key stops working as soon as you confirm. Devices using it are disconnected and cannot reconnect until they have the new key. To move devices over without downtime, rotate the key instead."
            </div>
            <KeyChoice draft=form.key error=key_error/>
            <ExpiryField draft=form.expiry label="New key expires" name="expiry" default_days=form.default_days dates=true error=expiry_error/>
            {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| on_back.run(())>"Back"</button>
                <span class="spacer"></span>
                <button type="submit" class="danger" data-testid="confirm-regenerate" disabled=move || busy.get()>
                    {move || if busy.get() { "Regenerating…" } else { "Regenerate key" }}
                </button>
            </footer>
        </form>
    }
}

/// The select's value for "until a date": the time itself is in the field beside it.
const UNTIL_A_TIME: &str = "at";

/// Rotate: the new key works at once, and the current one until the time chosen.
#[component]
pub fn RotateStep(details: ClientDetails, on_back: Callback<()>) -> impl IntoView {
    let form = NewKeyForm::new();
    let retire_choice = RwSignal::new("24h".to_owned());
    let retire_at = RwSignal::new(String::new());
    let retire_text = move || {
        let choice = retire_choice.get();
        if choice == UNTIL_A_TIME {
            retire_at.get()
        } else {
            choice
        }
    };
    let key_error = form.key_error();
    let expiry_error = form.expiry_error();
    let retire_error = Signal::derive(move || {
        RetireAfter::parse(&retire_text(), now_millis())
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                form.server_error
                    .get()
                    .and_then(|e| e.for_field(FieldError::RetireAt))
            })
    });
    let general_error =
        form.general_error(&[FieldError::Key, FieldError::KeyExpiry, FieldError::RetireAt]);
    // A server verdict is about what was sent: choosing again clears it.
    Effect::new(move |previous: Option<()>| {
        retire_text();
        form.expiry.text();
        if previous.is_some() {
            form.server_error.set(None);
        }
    });
    let id = details.row.client_id.to_string();
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if key_error.get_untracked().is_some()
            || expiry_error.get_untracked().is_some()
            || retire_error.get_untracked().is_some()
        {
            return;
        }
        let request = rotate_key(
            id.clone(),
            form.key.key(),
            untrack(retire_text),
            form.expiry.text_untracked(),
        );
        form.send(request, |revealed| {
            let until = retiring(&revealed.row.keys, now_millis()).map(|(_, end)| end);
            let message = match until {
                Some(end) => format!(
                    "New key for {}: the old key works until {}",
                    revealed.row.client_id,
                    time_format::utc_minutes(end)
                ),
                None => format!("New key for {}", revealed.row.client_id),
            };
            (message, RevealKind::Rotated { old_until: until })
        });
    };
    let busy = form.busy;
    // The earliest time the field offers: a minute from now, in the UTC the dashboard shows.
    let min = time_format::datetime_local(now_millis() + 60_000);
    let choice = move |value: &'static str, label: &'static str| {
        view! {
            <label><input type="radio" name="retire" value=value data-testid=format!("retire-{value}")
                prop:checked=move || retire_choice.get() == value
                on:change=move |_| retire_choice.set(value.to_owned())/>
                " " {label}</label>
        }
    };
    view! {
        <form on:submit=confirm novalidate>
            <div class="banner" role="note">
                "The new key works as soon as you confirm, and the current key keeps working until the time you choose: move your devices to the new key before then. At that time the current key stops working and its sessions are closed."
            </div>
            <KeyChoice draft=form.key error=key_error/>
            <fieldset class="choice" class:invalid=move || retire_error.get().is_some()>
                <legend>"Keep the current key working"</legend>
                {RetireAfter::CHOICES.into_iter().map(|(value, label)| choice(value, label)).collect_view()}
                {choice(UNTIL_A_TIME, "Until a date and time (UTC)")}
                <Show when=move || retire_choice.get() == UNTIL_A_TIME>
                    <div class="field">
                        <label for="field-retire-at">"Retire the current key at (UTC)"</label>
                        <input type="datetime-local" id="field-retire-at" name="retire_at" data-testid="retire-at-time" min=min.clone()
                            aria-describedby="error-retire"
                            prop:value=move || retire_at.get()
                            on:input=move |ev| retire_at.set(event_target_value(&ev))/>
                    </div>
                </Show>
                <p class="field-error" id="error-retire" data-testid="error-retire" role="alert">
                    {move || retire_error.get().unwrap_or_default()}
                </p>
            </fieldset>
            <ExpiryField draft=form.expiry label="New key expires" name="expiry" default_days=form.default_days dates=true error=expiry_error/>
            {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| on_back.run(())>"Back"</button>
                <span class="spacer"></span>
                <button type="submit" class="primary" data-testid="confirm-rotate" disabled=move || busy.get()>
                    {move || if busy.get() { "Rotating…" } else { "Rotate key" }}
                </button>
            </footer>
        </form>
    }
}
