//! Whether a client's devices are online: the "Connected" badge, "last seen", and the live
//! sessions the Edit modal lists. The broker's connection tracker keeps the data current.

use crate::model::{ClientRow, LiveSession, time_format};
use leptos::prelude::*;

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

/// The Edit modal's table of live sessions.
#[component]
pub fn LiveSessions(sessions: Vec<LiveSession>) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted" data-testid="live-sessions-empty">"No live sessions."</p> }
            .into_any();
    }
    view! {
        <table class="table compact" data-testid="live-sessions">
            <thead><tr><th>"MQTT client identifier"</th><th>"From"</th><th>"Connected since"</th></tr></thead>
            <tbody>
                {sessions.into_iter().map(|s| view! {
                    <tr>
                        <td><code>{s.mqtt_client_id}</code></td>
                        <td>{s.source}</td>
                        <td class="time">{time_format::utc_minutes(s.since)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
