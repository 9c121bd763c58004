//! A client's keys, compactly: each key's fingerprint, when it was made, when it expires or retires,
//! when and from where it was last used, and its live sessions. The cards show the list; the Edit
//! modal's Keys section shows it with what can be done to each key: "Retire now" for the old key
//! of a rotation, "Change expiry" for a key that is not retiring.

use super::ClientsCtx;
use crate::api::keys::{retire_key, set_key_expiry};
use crate::components::browser::now_millis;
use crate::components::expiry_field::{ExpiryDraft, ExpiryField};
use crate::components::key_policy::use_key_policy;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    ClientId, ClientRow, EXPIRING_WITHIN_MS, FieldError, KeyInfo, KeyState, in_words, time_format,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Which of the client's keys this is, when it has two: the older one and its successor.
fn role(index: usize, count: usize) -> Option<&'static str> {
    match (count, index) {
        (2, 0) => Some("old key"),
        (2, _) => Some("new key"),
        _ => None,
    }
}

/// When a key stops working, in words, and whether that warns (expired, or expiring within 7
/// days): "Never expires", "Expires 2026-12-09 10:00 UTC · in 7 days", "Retires 2026-12-03 10:00
/// UTC · in 23 hours", "Expired 2026-12-01 10:00 UTC".
fn key_end(key: &KeyInfo, now: i64) -> (String, bool) {
    match key.state(now) {
        KeyState::Active => ("Never expires".to_owned(), false),
        KeyState::Expires(end) => (
            format!(
                "Expires {} · in {}",
                time_format::utc_minutes(end),
                in_words(end - now)
            ),
            end - now <= EXPIRING_WITHIN_MS,
        ),
        KeyState::Retires(end) => (
            format!(
                "Retires {} · in {}",
                time_format::utc_minutes(end),
                in_words(end - now)
            ),
            false,
        ),
        KeyState::Expired => {
            let when = key
                .ends_at
                .map(time_format::utc_minutes)
                .unwrap_or_default();
            (format!("Expired {when}").trim_end().to_owned(), true)
        }
    }
}

/// The state's name, for styles and tests.
fn state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Active => "active",
        KeyState::Expires(_) => "expires",
        KeyState::Retires(_) => "retiring",
        KeyState::Expired => "expired",
    }
}

/// "Last used 2026-12-02 10:05 UTC from 10.0.0.2", or "Never used".
fn last_use(key: &KeyInfo) -> String {
    match (key.last_used_at, key.last_address.as_deref()) {
        (None, _) => "Never used".to_owned(),
        (Some(at), Some(address)) if !address.is_empty() => {
            format!("Last used {} from {address}", time_format::utc_minutes(at))
        }
        (Some(at), _) => format!("Last used {}", time_format::utc_minutes(at)),
    }
}

/// "No live sessions", "1 live session", "3 live sessions".
fn live_sessions(count: u32) -> String {
    match count {
        0 => "No live sessions".to_owned(),
        1 => "1 live session".to_owned(),
        n => format!("{n} live sessions"),
    }
}

/// The keys, oldest first, at `now`. `actions`, when given, renders what can be done to a key
/// under it (the Edit modal's).
#[component]
pub fn KeyList(
    keys: Vec<KeyInfo>,
    now: i64,
    #[prop(optional, into)] actions: Option<Callback<KeyInfo, AnyView>>,
) -> impl IntoView {
    let count = keys.len();
    view! {
        <ul class="keys" data-testid="keys" aria-label="Keys">
            {keys.into_iter().enumerate().map(|(index, key)| {
                let state = key.state(now);
                let (end, warn) = key_end(&key, now);
                let title = format!("Fingerprint of this key: {}", key.fingerprint);
                let role = role(index, count).map(|r| view! { <span class="key-role">{r}</span> });
                let actions = actions.map(|a| a.run(key.clone()));
                view! {
                    <li class="key" data-testid="key" data-fingerprint=key.fingerprint.clone() data-state=state_name(state)>
                        <div class="key-head">
                            <code class="fingerprint" title=title>{key.fingerprint.clone()}</code>
                            {role}
                        </div>
                        <p class="key-end" class:warn=warn data-testid="key-end">{end}</p>
                        <p class="key-fact">"Created " {time_format::utc_minutes(key.created_at)}</p>
                        <p class="key-fact" data-testid="key-use">{last_use(&key)}
                            " · " <span data-testid="key-sessions">{live_sessions(key.live_sessions)}</span></p>
                        {actions}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The Edit modal's Keys section: the list with each key's actions. A change updates `keys` and
/// the page.
#[component]
pub fn KeysSection(client_id: ClientId, keys: RwSignal<Vec<KeyInfo>>) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let client_id = StoredValue::new(client_id);
    let on_changed = Callback::new(move |row: ClientRow| {
        keys.set(row.keys);
        ctx.refresh();
    });
    move || {
        let now = now_millis();
        let list = keys.get();
        let working = list.iter().filter(|k| k.works_at(now)).count();
        let actions = Callback::new(move |key: KeyInfo| {
            let client_id = client_id.get_value();
            match key.state(now) {
                // The server refuses to retire the only working key; a rotation's old key has a
                // successor, and "Retire now" is for it.
                KeyState::Retires(_) if working > 1 => {
                    view! { <RetireNow client_id key on_changed/> }.into_any()
                }
                KeyState::Active | KeyState::Expires(_) => {
                    view! { <ChangeExpiry client_id key on_changed/> }.into_any()
                }
                _ => ().into_any(),
            }
        });
        view! { <KeyList keys=list now actions/> }
    }
}

/// Keeps the keyboard's place around an inline form that `open` shows in place of `trigger`: focus
/// moves to the form's first `selector` when it opens, and back to the trigger when it closes.
fn follow_focus(
    open: RwSignal<bool>,
    trigger: NodeRef<leptos::html::Button>,
    form: NodeRef<leptos::html::Div>,
    selector: &'static str,
) {
    // Effects run after the view has changed, so the element to focus is in the page by then.
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if was_open.is_some_and(|was| was != is_open) {
            let target = if is_open {
                form.get_untracked()
                    .and_then(|f| f.query_selector(selector).ok().flatten())
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            } else {
                trigger.get_untracked().map(Into::into)
            };
            if let Some(target) = target {
                let _ = target.focus();
            }
        }
        is_open
    });
}

/// "Retire now", with a confirmation in place: the key stops working at once and its sessions
/// close; the other key's stay.
#[component]
fn RetireNow(client_id: ClientId, key: KeyInfo, on_changed: Callback<ClientRow>) -> impl IntoView {
    let toaster = use_toaster();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let trigger = NodeRef::new();
    let form = NodeRef::new();
    // Cancel first: the destructive button is one deliberate move away.
    follow_focus(confirming, trigger, form, "[data-testid=cancel-retire]");
    let fingerprint = key.fingerprint.clone();
    let question = format!("Retire key {fingerprint} now?");
    let retire = move |_| {
        busy.set(true);
        let request = retire_key(client_id.to_string(), key.id.clone());
        let fingerprint = fingerprint.clone();
        leptos::task::spawn_local(async move {
            let result = request.await;
            let _ = busy.try_set(false);
            match result {
                Ok(row) => {
                    toaster.success(format!(
                        "Key {fingerprint} of {} retired: its sessions are being closed",
                        row.client_id
                    ));
                    on_changed.run(row);
                }
                Err(e) => toaster.error(e.to_string()),
            }
        });
    };
    view! {
        <div class="key-actions">
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="small danger-outline" data-testid="retire-now" node_ref=trigger
                    on:click=move |_| confirming.set(true)>"Retire now"</button>
            }>
                <div class="key-confirm" role="group" aria-label=question.clone() data-testid="retire-confirm" node_ref=form>
                    <p><strong>{question.clone()}</strong>
                        " It stops working at once, and devices still connected with it are disconnected. The new key keeps working."</p>
                    <button type="button" class="small danger-solid" data-testid="confirm-retire"
                        disabled=move || busy.get() on:click=retire.clone()>
                        {move || if busy.get() { "Retiring…" } else { "Retire key" }}
                    </button>
                    <button type="button" class="small" data-testid="cancel-retire"
                        on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
        </div>
    }
}

/// "Change expiry": never, 30/90/365 days or a date, preselecting the organization's default.
#[component]
fn ChangeExpiry(
    client_id: ClientId,
    key: KeyInfo,
    on_changed: Callback<ClientRow>,
) -> impl IntoView {
    let toaster = use_toaster();
    let open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let trigger = NodeRef::new();
    let form = NodeRef::new();
    follow_focus(open, trigger, form, "select");
    let server_error = RwSignal::new(None::<AppError>);
    let default_days = use_key_policy()
        .and_then(|p| p.loaded())
        .map(|p| p.default_days);
    // "The default" is no answer here: a key's own expiry is always explicit.
    let draft = ExpiryDraft::preselect(Some(default_days.flatten()));
    Effect::new(move |previous: Option<()>| {
        draft.text();
        if previous.is_some() {
            server_error.set(None);
        }
    });
    let error = Signal::derive(move || {
        draft
            .error(now_millis())
            .map(|e| e.to_string())
            .or_else(|| {
                server_error
                    .get()
                    .and_then(|e| e.for_field(FieldError::KeyExpiry))
            })
    });
    let other_error = move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    };
    let key_id = StoredValue::new(key.id.clone());
    let fingerprint = StoredValue::new(key.fingerprint.clone());
    let save = move |()| {
        if error.get_untracked().is_some() {
            return;
        }
        busy.set(true);
        let request = set_key_expiry(client_id.to_string(), key_id.get_value(), draft.text());
        leptos::task::spawn_local(async move {
            let result = request.await;
            let _ = busy.try_set(false);
            match result {
                Ok(row) => {
                    let fingerprint = fingerprint.get_value();
                    let end = row
                        .keys
                        .iter()
                        .find(|k| k.fingerprint == fingerprint)
                        .and_then(|k| k.ends_at);
                    toaster.success(match end {
                        Some(end) => format!(
                            "Key {fingerprint} expires {}",
                            time_format::utc_minutes(end)
                        ),
                        None => format!("Key {fingerprint} never expires"),
                    });
                    on_changed.run(row);
                }
                Err(e) => {
                    let _ = server_error.try_set(Some(e));
                }
            }
        });
    };
    // Enter in the date field saves, as in a form (the keys are outside the Edit form).
    let on_keydown = {
        let save = save.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let in_field = ev
                .target()
                .is_some_and(|t| t.dyn_into::<web_sys::HtmlInputElement>().is_ok());
            if ev.key() == "Enter" && in_field {
                ev.prevent_default();
                save(());
            }
        }
    };
    view! {
        <div class="key-actions">
            <Show when=move || open.get() fallback=move || view! {
                <button type="button" class="small" data-testid="change-expiry" node_ref=trigger
                    on:click=move |_| open.set(true)>"Change expiry"</button>
            }>
                <div class="key-expiry-form" role="group" aria-label="Change expiry" on:keydown=on_keydown.clone() node_ref=form>
                    <ExpiryField draft label="Expires" name="key-expiry" default_days=Some(default_days.flatten()) dates=true error/>
                    {move || other_error().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
                    <button type="button" class="small primary" data-testid="save-expiry"
                        disabled=move || busy.get() on:click={ let save = save.clone(); move |_| save(()) }>"Save expiry"</button>
                    <button type="button" class="small" data-testid="cancel-expiry"
                        on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DAY_MS, HOUR_MS};

    const NOW: i64 = 1_800_000_000_000;

    fn key(ends_at: Option<i64>, retiring: bool) -> KeyInfo {
        KeyInfo {
            id: "k".into(),
            fingerprint: "1a2b3c4d".into(),
            created_at: 0,
            ends_at,
            retiring,
            last_used_at: None,
            last_address: None,
            live_sessions: 0,
        }
    }

    #[test]
    fn each_end_reads_as_what_happens_then() {
        assert_eq!(
            key_end(&key(None, false), NOW),
            ("Never expires".into(), false)
        );
        let (text, warn) = key_end(&key(Some(NOW + 2 * DAY_MS), false), NOW);
        assert_eq!(text, "Expires 2027-01-17 08:00 UTC · in 2 days");
        assert!(warn);
        assert!(!key_end(&key(Some(NOW + 8 * DAY_MS), false), NOW).1);
        let (text, warn) = key_end(&key(Some(NOW + 3 * HOUR_MS), true), NOW);
        assert_eq!(text, "Retires 2027-01-15 11:00 UTC · in 3 hours");
        assert!(!warn);
        assert_eq!(
            key_end(&key(Some(NOW), false), NOW),
            ("Expired 2027-01-15 08:00 UTC".into(), true)
        );
    }

    #[test]
    fn last_use_names_the_address_when_known() {
        let mut k = key(None, false);
        assert_eq!(last_use(&k), "Never used");
        k.last_used_at = Some(NOW);
        assert_eq!(last_use(&k), "Last used 2027-01-15 08:00 UTC");
        k.last_address = Some("10.0.0.7".into());
        assert_eq!(last_use(&k), "Last used 2027-01-15 08:00 UTC from 10.0.0.7");
        assert_eq!(live_sessions(1), "1 live session");
        assert_eq!(live_sessions(2), "2 live sessions");
    }

    #[test]
    fn two_keys_are_the_old_and_the_new() {
        assert_eq!(role(0, 1), None);
        assert_eq!(role(0, 2), Some("old key"));
        assert_eq!(role(1, 2), Some("new key"));
    }
}
