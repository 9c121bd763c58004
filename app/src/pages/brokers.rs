//! `/settings/brokers`: every broker revocations are delivered to, with its health, its queue,
//! and its last success and error; and whether the webhooks for external brokers are on.

use crate::api::brokers::{RetrySetAside, get_broker_status};
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::model::{BrokerStatus, BrokerTarget, time_format};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// The page refreshes itself this often while open.
const REFRESH: Duration = Duration::from_secs(3);

#[component]
pub fn BrokersPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let tick = RwSignal::new(0u32);
    let status = Resource::new(
        move || (version.get(), tick.get()),
        move |_| when_signed_in(me, get_broker_status),
    );
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <Title text="Brokers · Settings · Keygate"/>
        <Protected me children=Box::new(move |_me| view! {
            <h1>"Settings"</h1>
            <SettingsNav/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(Some(status)) => view! { <Brokers status tick/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        }.into_any())/>
    }
}

#[component]
fn Brokers(status: BrokerStatus, tick: RwSignal<u32>) -> impl IntoView {
    let now = status.now;
    let targets = status.targets;
    view! {
        <section class="panel">
            <h2>"Brokers"</h2>
            <p class="hint">"Regenerating a key, deactivating or deleting a client closes its sessions on each of these brokers. A broker that is down gets every revocation, in order, when it is back."</p>
            {if targets.is_empty() {
                view! {
                    <div class="banner warning" data-testid="no-brokers">
                        "No broker is configured. Revocations wait until one is: start Keygate with its embedded broker, or add an external one with "
                        <code>"--broker-target"</code>"."
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table compact brokers" data-testid="brokers">
                            <thead><tr>
                                <th>"Broker"</th><th>"Health"</th><th>"Queue"</th><th>"Last success"</th><th>"Last error"</th>
                            </tr></thead>
                            <tbody>
                                {targets.into_iter().map(|t| view! { <TargetRow target=t now on_retry=tick/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <Webhooks on=status.webhooks/>
    }
}

#[component]
fn TargetRow(target: BrokerTarget, now: i64, on_retry: RwSignal<u32>) -> impl IntoView {
    let (class, health, detail) = health(&target, now);
    let kind = target.kind.label();
    let queue = if target.queue_depth == 0 {
        "empty".to_owned()
    } else {
        format!("{} waiting", target.queue_depth)
    };
    let oldest = target
        .oldest_pending_at
        .map(|at| format!("oldest {}", time_format::ago(now, at)));
    let last_success = target
        .last_success_at
        .map(|at| time_format::ago(now, at))
        .unwrap_or_else(|| "never".into());
    let attention = (target.needs_attention > 0).then(|| {
        let retry = ServerAction::<RetrySetAside>::new();
        let name = target.name.clone();
        Effect::new(move |_| {
            if retry.value().get().is_some() {
                on_retry.update(|t| *t += 1);
            }
        });
        let count = target.needs_attention;
        let error = target.attention_error.clone().unwrap_or_default();
        view! {
            <div class="attention" data-testid="needs-attention">
                <strong>{format!("{count} need{} attention", if count == 1 { "s" } else { "" })}</strong>
                <div class="error-text detail">{error}</div>
                <button class="small" data-testid="retry-set-aside"
                    disabled=move || retry.pending().get()
                    on:click=move |_| { retry.dispatch(RetrySetAside { target: name.clone() }); }>
                    "Retry"
                </button>
            </div>
        }
    });
    let last_error = target.last_error.clone().map(|error| {
        let when = target
            .last_error_at
            .map(|at| time_format::ago(now, at))
            .unwrap_or_default();
        view! { <span class="error-text">{error}</span><div class="muted detail">{when}</div> }
    });
    view! {
        <tr data-target=target.name.clone()>
            <td>
                <strong>{target.name.clone()}</strong>
                <div class="muted detail">{kind}" · "<code>{target.endpoint.clone()}</code></div>
            </td>
            <td>
                <span class=format!("health {class}") data-testid="health">{health}</span>
                {detail.map(|d| view! { <div class="muted detail">{d}</div> })}
            </td>
            <td data-testid="queue">{queue}{oldest.map(|o| view! { <div class="muted detail">{o}</div> })}{attention}</td>
            <td data-testid="last-success">{last_success}</td>
            <td data-testid="last-error">{last_error.map(IntoAny::into_any).unwrap_or_else(|| view! { <span class="muted">"none"</span> }.into_any())}</td>
        </tr>
    }
}

/// The one word the Health column leads with, its style, and a line of detail.
fn health(t: &BrokerTarget, now: i64) -> (&'static str, String, Option<String>) {
    if t.served_by.is_none() {
        return (
            "unserved",
            "Not served".into(),
            Some(format!(
                "No running Keygate process delivers to this broker; its revocations wait. \
                 Gone for good? Run: keygate forget-broker-target {}",
                t.name
            )),
        );
    }
    let served = t
        .served_by
        .clone()
        .map(|node| format!("delivered by node {node}"));
    if t.failures > 0 {
        let retry = t
            .next_attempt_at
            .map(|at| format!("next attempt {}", time_format::until(now, at)));
        let attempts = if t.failures == 1 {
            "attempt"
        } else {
            "attempts"
        };
        return (
            "failing",
            format!("Failing · {} {attempts}", t.failures),
            retry.or(served),
        );
    }
    if t.queue_depth > 0 {
        return ("busy", "Delivering".into(), served);
    }
    if t.needs_attention > 0 {
        return (
            "attention",
            "Needs attention".into(),
            Some(
                "It refused a revocation in a way retrying cannot fix; the others went on.".into(),
            ),
        );
    }
    ("healthy", "Healthy".into(), served)
}

#[component]
fn Webhooks(on: bool) -> impl IntoView {
    view! {
        <section class="panel" data-testid="webhooks">
            <h2>"Webhooks for external brokers"</h2>
            {if on {
                view! {
                    <p><span class="health healthy">"On"</span>" An external broker can authenticate devices with Keygate's keys and keep them in their namespaces. Every call must carry the webhook secret."</p>
                    <table class="table compact">
                        <thead><tr><th>"Broker"</th><th>"Endpoint"</th></tr></thead>
                        <tbody>
                            <tr><td>"EMQX 5 / rmqtt authentication"</td><td><code>"POST /webhooks/emqx/authn"</code></td></tr>
                            <tr><td>"EMQX 5 / rmqtt authorization"</td><td><code>"POST /webhooks/emqx/authz"</code></td></tr>
                            <tr><td>"VerneMQ (auth_on_register, auth_on_subscribe, auth_on_publish, on_register, on_client_offline, on_client_gone)"</td><td><code>"POST /webhooks/vernemq"</code></td></tr>
                            <tr><td>"rmqtt web-hook / EMQX webhook rules: session events"</td><td><code>"POST /webhooks/events"</code></td></tr>
                        </tbody>
                    </table>
                    <p class="hint">"With more than one external broker, each says which it is: add "<code>"?broker=NAME"</code>" (its name above) to every webhook URL. Session events keep the Clients page's Connected badge true for devices on external brokers."</p>
                }.into_any()
            } else {
                view! {
                    <p><span class="health unserved">"Off"</span>" Start Keygate with " <code>"--webhook-secret"</code> " to let an external broker (EMQX, rmqtt, VerneMQ) authenticate devices with Keygate's keys."</p>
                }.into_any()
            }}
        </section>
    }
}
