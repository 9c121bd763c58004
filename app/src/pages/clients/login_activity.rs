//! What a client's devices are doing wrong, in the Edit modal (and, read-only, in the viewers'
//! Logins modal): its last refused login (when, from where, why), how many in the last 24 hours,
//! and whether the back-off locks it out, with the time left and **Clear lock-out**; and
//! **Disconnect all sessions**, with a confirm step and its revocation's progress. Members whose
//! role may not change clients see the data without the buttons.

use super::presence::RevocationBadge;
use super::{ClientsCtx, Dialog};
use crate::api::clients::disconnect_sessions;
use crate::api::login_activity::{clear_lockout, get_login_activity};
use crate::components::modal::Modal;
use crate::components::role_gate::may_manage;
use crate::components::toast::use_toaster;
use crate::model::{
    ClientId, LoginActivity, LoginFailure, RevocationProgress, duration_words, time_format,
};
use leptos::prelude::*;
use std::time::Duration;

/// How often the panel asks for the client's activity again while it is open.
const REFRESH_EVERY_SECS: u64 = 5;

/// The Edit modal's sessions and logins: Disconnect all sessions, then the login activity.
#[component]
pub fn ClientActivity(client_id: ClientId) -> impl IntoView {
    view! {
        {may_manage().then(|| view! { <DisconnectAll client_id=client_id.clone()/> })}
        <LoginActivityPanel client_id/>
    }
}

/// The viewers' way to a client's login activity: they cannot open the Edit modal.
#[component]
pub fn LoginActivityModal(client_id: ClientId) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    view! {
        <Modal title=format!("Logins of {client_id}") on_close=move |_| ctx.dialog.set(Dialog::Closed) testid="login-activity-modal">
            <LoginActivityPanel client_id/>
            <footer class="modal-footer">
                <button type="button" on:click=move |_| ctx.dialog.set(Dialog::Closed)>"Close"</button>
            </footer>
        </Modal>
    }
}

/// "Disconnect all sessions", its confirm step, and the progress of what it queued.
#[component]
fn DisconnectAll(client_id: ClientId) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The revocation it queued, once queued: the badge follows it to every broker.
    let queued = RwSignal::new(None::<RevocationProgress>);
    let id = StoredValue::new(client_id.clone());
    let confirm = move |_| {
        busy.set(true);
        error.set(None);
        let id = id.get_value();
        leptos::task::spawn_local(async move {
            let result = disconnect_sessions(id.to_string()).await;
            let _ = busy.try_set(false);
            match result {
                Ok(row) => {
                    toaster.success(format!(
                        "Disconnecting every session of {}: devices with its key reconnect",
                        row.client_id
                    ));
                    let _ = confirming.try_set(false);
                    let _ = queued.try_set(row.revocation);
                    ctx.refresh();
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <div class="disconnect-all" data-testid="disconnect-all-section">
            <Show when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="danger-outline small" data-testid="disconnect-all"
                        on:click=move |_| confirming.set(true)>"Disconnect all sessions"</button>
                    <span class="hint">"Closes every session on every broker; the key and status stay, so devices that have it reconnect."</span>
                }>
                <div class="banner warning" role="alertdialog" aria-labelledby="disconnect-all-question" data-testid="disconnect-all-confirm">
                    <p id="disconnect-all-question">"Close every live session of " <code>{client_id.to_string()}</code>
                        " on every broker, offline ones too? Its devices are dropped and reconnect with the key they have."</p>
                    <div class="inline-actions">
                        <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        <button type="button" class="danger" data-testid="confirm-disconnect-all"
                            disabled=move || busy.get() on:click=confirm>
                            {move || if busy.get() { "Disconnecting…" } else { "Disconnect all" }}
                        </button>
                    </div>
                </div>
            </Show>
            {move || queued.get().map(|progress| view! {
                <RevocationBadge client_id=id.get_value() progress=Some(progress)/>
            })}
            {move || error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="disconnect-all-error">{e}</div> })}
        </div>
    }
}

/// The client's refused logins and lock-out, asked for again every few seconds while shown.
#[component]
fn LoginActivityPanel(client_id: ClientId) -> impl IntoView {
    let id = StoredValue::new(client_id);
    let activity = RwSignal::new(None::<Result<LoginActivity, String>>);
    // Seconds since `activity` was fetched: the lock's time left counts down between fetches.
    let elapsed = RwSignal::new(0u64);
    let fetching = RwSignal::new(false);
    let fetch = move || {
        if fetching.get_untracked() {
            return;
        }
        fetching.set(true);
        let id = id.get_value().to_string();
        leptos::task::spawn_local(async move {
            let result = get_login_activity(id).await.map_err(|e| e.to_string());
            // The modal may have closed meanwhile: its signals are gone, and so is the answer.
            let _ = activity.try_set(Some(result));
            let _ = elapsed.try_set(0);
            let _ = fetching.try_set(false);
        });
    };
    Effect::new(move |_| fetch());
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let Some(seconds) = elapsed.try_update(|e| {
                    *e += 1;
                    *e
                }) else {
                    return;
                };
                // A lock that ran out on screen is asked about at once: it may have grown since.
                let ran_out = activity.with_untracked(|a| {
                    matches!(a, Some(Ok(a)) if a.lockout.as_ref().is_some_and(|l| l.secs_left() <= seconds))
                });
                if ran_out || seconds >= REFRESH_EVERY_SECS {
                    fetch();
                }
            },
            Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let manage = may_manage();
    let toaster = use_toaster();
    let clear = move |_| {
        let id = id.get_value().to_string();
        fetching.set(true);
        leptos::task::spawn_local(async move {
            let result = clear_lockout(id.clone()).await;
            match &result {
                Ok(_) => toaster.success(format!(
                    "Lock-out of {id} cleared: a device with the right key gets in now"
                )),
                Err(e) => toaster.error(e.to_string()),
            }
            if let Ok(cleared) = result {
                let _ = activity.try_set(Some(Ok(cleared)));
                let _ = elapsed.try_set(0);
            }
            let _ = fetching.try_set(false);
        });
    };
    view! {
        <section class="login-activity" data-testid="login-activity" aria-labelledby="login-activity-title">
            <h3 id="login-activity-title">"Logins"</h3>
            {move || match activity.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e}</div> }.into_any(),
                Some(Ok(a)) => {
                    let left = a.lockout.as_ref().map(|l| l.secs_left().saturating_sub(elapsed.get()));
                    let locked = left.is_some_and(|s| s > 0);
                    view! {
                        <dl class="facts">
                            <dt>"Last successful login"</dt>
                            <dd data-testid="last-success">{last_success(a.last_success.as_ref())}</dd>
                            <dt>"Last failed login"</dt>
                            <dd data-testid="last-failure">{last_failure(a.last_failure.as_ref())}</dd>
                            <dt>"Failed logins, last 24 h"</dt>
                            <dd data-testid="failures-24h">{a.failures_24h.to_string()}</dd>
                            <dt>"Lock-out"</dt>
                            <dd data-testid="lockout" class:locked=locked>
                                {lockout_words(&a, left.unwrap_or(0))}
                            </dd>
                        </dl>
                        {(locked && manage).then(|| view! {
                            <div class="inline-actions">
                                <button type="button" class="small" data-testid="clear-lockout"
                                    disabled=move || fetching.get() on:click=clear>"Clear lock-out"</button>
                                <span class="hint">"A device with the right key gets in at once; wrong keys count from zero again."</span>
                            </div>
                        })}
                    }.into_any()
                }
            }}
            <p class="hint">"Wrong keys lock a client out for a while: new devices are refused, even with the right key, until the lock runs out. Refused logins are kept 30 days."</p>
        </section>
    }
}

/// "2026-11-23 14:05 UTC from 10.1.2.3", or that there was none.
fn last_success(success: Option<&(i64, String)>) -> String {
    match success {
        None => "None yet".to_owned(),
        Some((at, address)) if address.is_empty() => time_format::utc_minutes(*at),
        Some((at, address)) => format!("{} from {address}", time_format::utc_minutes(*at)),
    }
}

/// "2026-11-23 14:05 UTC · wrong key · from 10.1.2.3", or that there was none.
fn last_failure(failure: Option<&LoginFailure>) -> String {
    match failure {
        None => "None in the last 30 days".to_owned(),
        Some(f) => {
            let from = if f.address.is_empty() {
                String::new()
            } else {
                format!(" · from {}", f.address)
            };
            format!(
                "{} · {}{from}",
                time_format::utc_minutes(f.at),
                f.reason.words()
            )
        }
    }
}

/// "Locked out · 1 min 58 s left", with who is kept out; "Not locked out".
fn lockout_words(activity: &LoginActivity, secs_left: u64) -> String {
    let Some(lockout) = activity.lockout.as_ref().filter(|_| secs_left > 0) else {
        return "Not locked out".to_owned();
    };
    let who = match (lockout.client_secs.is_some(), lockout.addresses) {
        (true, _) => "new devices are refused".to_owned(),
        (false, 1) => "from 1 address".to_owned(),
        (false, n) => format!("from {n} addresses"),
    };
    format!("Locked out · {} left · {who}", duration_words(secs_left))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lockout, LoginFailureReason};

    #[test]
    fn the_last_failure_reads_when_why_and_from_where() {
        assert_eq!(last_failure(None), "None in the last 30 days");
        let failure = LoginFailure {
            at: 0,
            address: "10.1.2.3".into(),
            reason: LoginFailureReason::WrongKey,
        };
        assert_eq!(
            last_failure(Some(&failure)),
            "1970-01-01 00:00 UTC · wrong key · from 10.1.2.3"
        );
        let nowhere = LoginFailure {
            address: String::new(),
            ..failure
        };
        assert_eq!(
            last_failure(Some(&nowhere)),
            "1970-01-01 00:00 UTC · wrong key"
        );
    }

    #[test]
    fn the_lockout_says_how_long_and_whom_it_keeps_out() {
        let mut activity = LoginActivity {
            last_success: None,
            last_failure: None,
            failures_24h: 3,
            lockout: Some(Lockout {
                client_secs: Some(118),
                addresses: 1,
                address_secs: 118,
            }),
        };
        assert_eq!(
            lockout_words(&activity, 118),
            "Locked out · 1 min 58 s left · new devices are refused"
        );
        assert_eq!(lockout_words(&activity, 0), "Not locked out");
        activity.lockout = Some(Lockout {
            client_secs: None,
            addresses: 2,
            address_secs: 30,
        });
        assert_eq!(
            lockout_words(&activity, 30),
            "Locked out · 30 s left · from 2 addresses"
        );
        activity.lockout = None;
        assert_eq!(lockout_words(&activity, 30), "Not locked out");
    }
}
