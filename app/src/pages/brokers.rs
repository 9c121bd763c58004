//! `/settings/brokers`. For the install's operators: every broker revocations are delivered to,
//! with its health, its queue, and its last success and error; whether the webhooks for external
//! brokers are on; and the install's sign-up and operators. For everyone else: their own
//! organization's revocations, counted, with nothing about the brokers themselves.

use crate::api::brokers::{RetrySetAside, get_broker_status, get_organization_revocations};
use crate::api::install::{get_install_settings, name_operator, remove_operator, set_signup_open};
use crate::components::field::TextField;
use crate::components::protected::{Protected, me_resource, use_me_version};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    BrokerStatus, BrokerTarget, FieldError, InstallSettings, Me, OrganizationRevocations,
    time_format,
};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// The page refreshes itself this often while open.
const REFRESH: Duration = Duration::from_secs(3);

/// What the page shows, by who is looking.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum View {
    Operator(BrokerStatus, InstallSettings),
    Member(OrganizationRevocations),
}

async fn load(me: Me) -> Result<View, AppError> {
    if me.operator {
        Ok(View::Operator(
            get_broker_status().await?,
            get_install_settings().await?,
        ))
    } else {
        Ok(View::Member(get_organization_revocations().await?))
    }
}

#[component]
pub fn BrokersPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let tick = RwSignal::new(0u32);
    let status = Resource::new(
        move || (version.get(), tick.get()),
        move |_| async move {
            match me.await {
                Ok(Some(me)) => load(me).await.map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        },
    );
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <Title text="Brokers · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! {
            <h1>"Settings"</h1>
            <SettingsNav me/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(Some(View::Operator(status, install))) => view! {
                            <Brokers status tick/>
                            <Install settings=install/>
                        }.into_any(),
                        Ok(Some(View::Member(revocations))) => view! { <Revocations revocations/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        }.into_any())/>
    }
}

/// A member's view: their organization's revocations on their way, counted.
#[component]
fn Revocations(revocations: OrganizationRevocations) -> impl IntoView {
    let r = revocations;
    let waiting = if r.waiting == 0 {
        "Every revocation of this organization has reached every broker.".to_owned()
    } else {
        format!(
            "{} broker deliver{} waiting{}.",
            r.waiting,
            if r.waiting == 1 { "y is" } else { "ies are" },
            r.oldest_waiting_at
                .map(|at| format!(", the oldest made {}", time_format::ago(r.now, at)))
                .unwrap_or_default()
        )
    };
    view! {
        <section class="panel" data-testid="organization-revocations">
            <h2>"Revocations"</h2>
            <p class="hint">{match r.brokers {
                0 => "No broker is configured yet: revocations wait until one is.".to_owned(),
                1 => "Regenerating a key, deactivating or deleting a client closes its sessions on the broker this Keygate delivers to.".to_owned(),
                n => format!("Regenerating a key, deactivating or deleting a client closes its sessions on each of the {n} brokers this Keygate delivers to."),
            }}</p>
            <p data-testid="revocations-waiting">{waiting}</p>
            {(r.set_aside > 0).then(|| view! {
                <div class="banner warning">{if r.set_aside == 1 {
                    "One delivery was refused by a broker. The operators of this Keygate see why and can retry it.".to_owned()
                } else {
                    format!("{} deliveries were refused by a broker. The operators of this Keygate see why and can retry them.", r.set_aside)
                }}</div>
            })}
            <p class="hint">"The brokers themselves are shown to the operators of this Keygate only."</p>
        </section>
    }
}

/// The operators' controls: sign-up, and who else operates the install.
#[component]
fn Install(settings: InstallSettings) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let open = settings.signup_open;
    let toggle = move |_| {
        leptos::task::spawn_local(async move {
            match set_signup_open(!open).await {
                Ok(()) => toaster.success(if open {
                    "Sign-up closed"
                } else {
                    "Sign-up opened"
                }),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    let email = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let email_error = Signal::derive(move || {
        error.get().map(|e| {
            e.for_field(FieldError::Email)
                .unwrap_or_else(|| e.to_string())
        })
    });
    let on_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = name_operator(email.get_untracked());
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    toaster.success("Operator named");
                    email.set(String::new());
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="panel" data-testid="install">
            <h2>"This Keygate"</h2>
            <p>
                {if open { "Sign-up is open: anyone who reaches this Keygate can create an organization." } else { "Sign-up is closed: new people join by invitation." }}
                " "
                <button type="button" class="small" data-testid="toggle-signup" on:click=toggle>
                    {if open { "Close sign-up" } else { "Open sign-up" }}
                </button>
            </p>
            <h3>"Operators"</h3>
            <p class="hint">"Operators see this page in full and open or close sign-up. Everyone else sees only their own organization's revocations."</p>
            <ul data-testid="operators">
                {settings.operators.into_iter().map(|o| {
                    let email = o.email.clone();
                    let shown = o.email.clone();
                    let remove = move |_| {
                        let request = remove_operator(email.clone());
                        leptos::task::spawn_local(async move {
                            match request.await {
                                Ok(()) => toaster.success("Operator removed"),
                                Err(e) => toaster.error(e.to_string()),
                            }
                            version.update(|v| *v += 1);
                        });
                    };
                    view! {
                        <li data-operator=o.email>
                            {shown}
                            <span class="muted">{format!(" · named by {} · {}", o.named_by, time_format::utc_minutes(o.since))}</span>
                            " "
                            <button type="button" class="small" data-testid="remove-operator" on:click=remove>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=on_name>
                <TextField label="Name another operator (an existing account's email)" name="operator_email" value=email error=email_error input_type="email"/>
                <button type="submit" class="primary">"Name operator"</button>
            </form>
        </section>
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
