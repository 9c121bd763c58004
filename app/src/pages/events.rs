//! `/settings/events`: where the organization's credential events go. Owners and admins add an
//! endpoint (its URL and the events it receives) and see its signing secret once, turn endpoints
//! off and on, delete them, and resend a delivery; viewers read the endpoints and deliveries.
//! The page refreshes itself every few seconds, so a delivery's progress shows as it happens.

use crate::api::events::{
    create_event_endpoint, delete_event_endpoint, list_event_deliveries, list_event_endpoints,
    resend_event, set_event_endpoint_enabled,
};
use crate::components::copy_button::CopyField;
use crate::components::field::TextField;
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    Capability, DeliveryState, EndpointUrl, EventDeliveryRow, EventEndpointRow, EventType,
    EventTypes, FieldError, time_format,
};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// How often the endpoints and the open deliveries are read again.
const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn EventsPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let tick = RwSignal::new(0u32);
    let endpoints = Resource::new(
        move || (version.get(), tick.get()),
        move |_| when_signed_in(me, list_event_endpoints),
    );
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    // Held above the list a creation refetches, so the secret stays shown while it renders anew.
    let issued = RwSignal::new(None::<(String, String)>);
    let selected = RwSignal::new(None::<String>);
    view! {
        <Title text="Events · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| {
            let manage = me.can(Capability::ManageClients);
            view! {
                <h1>"Settings"</h1>
                <SettingsNav me=me.clone()/>
                {manage.then(|| view! { <CreateForm issued/> })}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match endpoints.await {
                            Ok(Some(rows)) => view! { <EndpointList rows manage selected/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                        }
                    })}
                </Transition>
                {move || selected.get().map(|id| view! { <Deliveries id manage tick/> })}
            }.into_any()
        })/>
    }
}

#[component]
fn CreateForm(issued: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let version = use_me_version();
    let url = RwSignal::new(String::new());
    let chosen = RwSignal::new(EventType::ALL.to_vec());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let url_error = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.for_field(FieldError::EndpointUrl))
    });
    let types_text = move || {
        chosen
            .get_untracked()
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checked =
            EndpointUrl::parse(&url.get_untracked()).and_then(|_| EventTypes::parse(&types_text()));
        if let Err(e) = checked {
            error.set(Some(e.into()));
            return;
        }
        let request = create_event_endpoint(url.get_untracked(), types_text());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(made) => {
                    issued.set(Some((made.row.url, made.secret)));
                    url.set(String::new());
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="panel">
            <h2>"New endpoint"</h2>
            <p class="hint">
                "Keygate POSTs each event as JSON, signed per "
                <a href="https://www.standardwebhooks.com/" rel="noreferrer">"Standard Webhooks"</a>
                " (" <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", " <code>"webhook-signature"</code>
                "), in order, retrying until your endpoint answers 2xx. Use an " <code>"https://"</code>
                " URL; plain " <code>"http://"</code> " is accepted only to a loopback address ("
                <code>"127.0.0.1"</code> ", " <code>"[::1]"</code> "), for development and tests."
            </p>
            <form class="inline-form" on:submit=on_submit data-testid="new-event-endpoint">
                <TextField label="URL" name="endpoint_url" value=url error=url_error
                    hint="https://hooks.example.com/keygate"/>
                <fieldset class="field" data-testid="event-types">
                    <legend>"Events"</legend>
                    {EventType::ALL.iter().map(|&event| view! {
                        <label class="checkbox" title=event.label()>
                            <input type="checkbox" name="event_types" value=event.as_str()
                                prop:checked=move || chosen.get().contains(&event)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|e| *e != event);
                                        if on { c.push(event) }
                                    });
                                }/>
                            <code>{event.as_str()}</code>
                        </label>
                    }).collect_view()}
                    {move || error.get().and_then(|e| e.for_field(FieldError::EventTypes)).map(|m| view! {
                        <p class="field-error" data-testid="error-event_types" role="alert">{m}</p>
                    })}
                </fieldset>
                <button type="submit" class="primary" disabled=move || busy.get()>"Add endpoint"</button>
                {move || error.get()
                    .filter(|e| e.for_field(FieldError::EndpointUrl).is_none() && e.for_field(FieldError::EventTypes).is_none())
                    .map(|e| view! { <div class="banner error" role="alert">{e.to_string()}</div> })}
            </form>
            {move || issued.get().map(|(url, secret)| view! {
                <div class="banner success" data-testid="event-secret-revealed">
                    <p>"The signing secret of " <strong>{url}</strong> " is shown only now: give it to your receiver to verify each event's signature. Keygate cannot show it again."</p>
                    <CopyField label="Signing secret" value=Signal::stored(secret) testid="event-secret" secret=true/>
                </div>
            })}
        </section>
    }
}

#[component]
fn EndpointList(
    rows: Vec<EventEndpointRow>,
    manage: bool,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Endpoints"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No endpoints yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table compact" data-testid="event-endpoints">
                        <thead><tr><th>"URL"</th><th>"Events"</th><th>"Status"</th><th>"Last delivery"</th><th></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|endpoint| {
                                let id = endpoint.id.clone();
                                let last = endpoint.last_delivery.as_ref().map_or_else(
                                    || "none yet".to_owned(),
                                    |d| format!("{} · {}", d.event_type, delivery_status(d)),
                                );
                                let events = endpoint.event_types.iter().map(|e| view! { <code class="chip">{e.as_str()}</code> }).collect_view();
                                let showing = {
                                    let id = id.clone();
                                    move || selected.get().as_deref() == Some(id.as_str())
                                };
                                let toggle = {
                                    let id = id.clone();
                                    move |_| selected.update(|s| {
                                        *s = if s.as_deref() == Some(id.as_str()) { None } else { Some(id.clone()) };
                                    })
                                };
                                view! {
                                    <tr data-event-endpoint=endpoint.url.clone()>
                                        <td><code>{endpoint.url.clone()}</code></td>
                                        <td>{events}</td>
                                        <td data-testid="endpoint-status">{if endpoint.enabled { "Enabled" } else { "Disabled" }}</td>
                                        <td data-testid="endpoint-last-delivery">{last}</td>
                                        <td class="actions">
                                            <button type="button" class="small" data-testid="show-deliveries" on:click=toggle>
                                                {move || if showing() { "Hide deliveries" } else { "Deliveries" }}
                                            </button>
                                            {manage.then(|| view! {
                                                <EnableButton id=id.clone() enabled=endpoint.enabled/>
                                                <DeleteButton id=id.clone() url=endpoint.url.clone() selected/>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// A delivery's outcome in words: "Delivered (200)", "Failing (500)", "Pending".
fn delivery_status(d: &EventDeliveryRow) -> String {
    match d.response_status {
        Some(status) => format!("{} ({status})", d.state().label()),
        None => d.state().label().to_owned(),
    }
}

#[component]
fn EnableButton(id: String, enabled: bool) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let id = StoredValue::new(id);
    let flip = move |_| {
        leptos::task::spawn_local(async move {
            match set_event_endpoint_enabled(id.get_value(), !enabled).await {
                Ok(_) => toaster.success(if enabled {
                    "Endpoint disabled"
                } else {
                    "Endpoint enabled"
                }),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <button type="button" class="small" data-testid="toggle-endpoint" on:click=flip>
            {if enabled { "Disable" } else { "Enable" }}
        </button>
    }
}

/// Delete, then a confirmation in place: the endpoint's waiting deliveries go with it.
#[component]
fn DeleteButton(id: String, url: String, selected: RwSignal<Option<String>>) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(id);
    let delete = move |_| {
        leptos::task::spawn_local(async move {
            match delete_event_endpoint(id.get_value()).await {
                Ok(()) => {
                    toaster.success("Endpoint deleted");
                    if selected.get_untracked() == Some(id.get_value()) {
                        selected.set(None);
                    }
                }
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        {move || if confirming.get() {
            view! {
                <span class="confirm">
                    {format!("Delete {url}? Events waiting for it are dropped. ")}
                    <button type="button" class="small danger" data-testid="confirm-delete-endpoint" on:click=delete>"Delete"</button>
                    <button type="button" class="small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </span>
            }.into_any()
        } else {
            view! { <button type="button" class="small" data-testid="delete-endpoint" on:click=move |_| confirming.set(true)>"Delete…"</button> }.into_any()
        }}
    }
}

/// One endpoint's newest deliveries, read again with the page.
#[component]
fn Deliveries(id: String, manage: bool, tick: RwSignal<u32>) -> impl IntoView {
    let version = use_me_version();
    let id = StoredValue::new(id);
    let deliveries = Resource::new(
        move || (version.get(), tick.get()),
        move |_| list_event_deliveries(id.get_value()),
    );
    view! {
        <section class="panel" data-testid="event-deliveries">
            <h2>"Deliveries"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No deliveries yet: change a client to send one."</p> }.into_any(),
                        Ok(rows) => view! { <DeliveryTable rows manage/> }.into_any(),
                        Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeliveryTable(rows: Vec<EventDeliveryRow>, manage: bool) -> impl IntoView {
    view! {
        <table class="table compact">
            <thead><tr><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Response"</th><th>"Queued"</th><th>"Next attempt"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|d| {
                    let next = match (d.state(), d.next_attempt_at) {
                        (DeliveryState::Delivered, _) | (_, None) => "—".to_owned(),
                        (_, Some(at)) => time_format::utc_seconds(at),
                    };
                    let response = d.response_status.map_or_else(|| "—".to_owned(), |s| s.to_string());
                    view! {
                        <tr data-delivery=d.id.to_string() data-event-type=d.event_type.as_str()>
                            <td><code>{d.event_type.as_str()}</code></td>
                            <td data-testid="delivery-state" title=d.last_error.clone().unwrap_or_default()>{d.state().label()}</td>
                            <td>{d.attempts}</td>
                            <td>{response}</td>
                            <td>{time_format::utc_seconds(d.created_at)}</td>
                            <td>{next}</td>
                            <td class="actions">{manage.then(|| view! { <ResendButton id=d.id/> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ResendButton(id: i64) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let resend = move |_| {
        leptos::task::spawn_local(async move {
            match resend_event(id).await {
                Ok(_) => toaster.success("Event queued again"),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! { <button type="button" class="small" data-testid="resend-delivery" on:click=resend>"Resend"</button> }
}
