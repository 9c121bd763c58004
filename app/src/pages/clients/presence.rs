//! Whether a client's devices are online: the "Connected" badge, "last seen", and the live
//! sessions the Edit modal lists. The broker's connection tracker keeps the data current.

use crate::api::clients::revocation_progress;
use crate::model::{
    ClientId, ClientRow, LiveSession, RevocationProgress, RevocationReason, time_format,
};
use leptos::prelude::*;
use std::time::Duration;

/// How often a pending revocation's progress is asked for.
const PROGRESS_POLL: Duration = Duration::from_millis(750);

/// "Connected" while a client has live MQTT sessions, with their number when more than one.
#[component]
pub fn ConnectedBadge(count: u32) -> impl IntoView {
    (count > 0).then(|| {
        let label = if count == 1 {
            "Connected".to_owned()
        } else {
            format!("Connected · {count}")
        };
        let title = if count == 1 {
            "1 live MQTT session".to_owned()
        } else {
            format!("{count} live MQTT sessions")
        };
        view! { <span class="connected" data-testid="connected" title=title>{label}</span> }
    })
}

/// "now" while connected, else the last connect or disconnect, else "never".
pub fn last_seen(row: &ClientRow) -> String {
    if row.live_sessions > 0 {
        "now".into()
    } else {
        row.last_seen_at
            .map(time_format::utc_minutes)
            .unwrap_or_else(|| "never".into())
    }
}

/// The Edit modal's table of live sessions, each with the key it authenticated with.
#[component]
pub fn LiveSessions(sessions: Vec<LiveSession>) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted" data-testid="live-sessions-empty">"No live sessions."</p> }
            .into_any();
    }
    view! {
        <table class="table compact sessions" data-testid="live-sessions">
            <thead><tr><th>"MQTT client identifier"</th><th>"Broker"</th><th>"From"</th><th>"Connected since"</th><th>"Key"</th></tr></thead>
            <tbody>
                {sessions.into_iter().map(|s| view! {
                    <tr>
                        <td><code>{s.mqtt_client_id}</code></td>
                        <td>{s.broker}</td>
                        <td>{if s.source.is_empty() { "—".to_owned() } else { s.source }}</td>
                        <td class="time">{time_format::utc_minutes(s.since)}</td>
                        <td data-testid="session-key">{match s.key_fingerprint {
                            Some(fingerprint) => view! { <code>{fingerprint}</code> }.into_any(),
                            None => "—".into_any(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A revocation on its way to the brokers: "Disconnecting… 1 of 2 brokers", then "Disconnected ·
/// done on 2 of 2 brokers" ("Applying…" and "Applied" for a narrowed scope or changed rules, which
/// close only what is no longer allowed). While it is pending the badge asks the server again every
/// [`PROGRESS_POLL`] (in the browser; the server renders the state it has).
#[component]
pub fn RevocationBadge(client_id: ClientId, progress: Option<RevocationProgress>) -> impl IntoView {
    let state = RwSignal::new(progress);
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        tick.track();
        // Pending revocations are asked about again; one set aside for an operator waits for them.
        if !state.with(|p| {
            p.as_ref()
                .is_some_and(|p| !p.done && p.needs_attention.is_none())
        }) {
            return;
        }
        let id = client_id.to_string();
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    // The row may be gone by now (deleted, or the page re-rendered); a failed poll
                    // is simply retried on the next tick.
                    if let Ok(p) = revocation_progress(id).await {
                        let _ = state.try_set(p);
                    }
                    let _ = tick.try_update(|t| *t = t.wrapping_add(1));
                });
            },
            PROGRESS_POLL,
        );
    });
    move || {
        state.get().map(|p| {
            let brokers = |n: u32| if n == 1 { "broker" } else { "brokers" };
            // A narrowed scope or changed rules closes only what is no longer allowed.
            let (doing, done) = if p.reason.ends_every_session() {
                ("Disconnecting…", "Disconnected")
            } else {
                ("Applying…", "Applied")
            };
            let (class, label) = if p.needs_attention.is_some() {
                (
                    "revocation attention",
                    format!("Needs attention · done on {} of {} {}", p.confirmed, p.brokers, brokers(p.brokers)),
                )
            } else if p.brokers == 0 {
                ("revocation pending", "Waiting for a broker".to_owned())
            } else if p.done {
                (
                    "revocation done",
                    format!("{done} · done on {} of {} {}", p.confirmed, p.brokers, brokers(p.brokers)),
                )
            } else {
                (
                    "revocation pending",
                    format!("{doing} {} of {} {}", p.confirmed, p.brokers, brokers(p.brokers)),
                )
            };
            let what = p.reason.label();
            let title = if let Some(problem) = &p.needs_attention {
                format!("{what} at {}. A broker refused to close its sessions, in a way retrying cannot fix ({problem}); Settings → Brokers can retry it once the broker is fixed.", time_format::utc_minutes(p.created_at))
            } else if p.brokers == 0 {
                format!("{what} at {}. No broker is configured yet; its sessions are closed as soon as one is.", time_format::utc_minutes(p.created_at))
            } else if p.reason == RevocationReason::SessionsDisconnected {
                format!("{what} at {}: every broker closes the client's sessions; devices with the key reconnect.", time_format::utc_minutes(p.created_at))
            } else if p.reason.ends_every_session() {
                format!("{what} at {}: every broker closes the sessions that used the old credential.", time_format::utc_minutes(p.created_at))
            } else {
                format!("{what} at {}: every broker checks the client's sessions again and closes or trims what is no longer allowed.", time_format::utc_minutes(p.created_at))
            };
            view! {
                <span class=class data-testid="revocation" data-done=p.done.to_string() role="status" title=title>{label}</span>
            }
        })
    }
}
