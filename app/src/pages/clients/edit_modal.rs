//! The Edit modal: a client's details, status, access (scope and topic rules, with a preview), keys,
//! live sessions and login activity, and the steps to a new key (Regenerate, Rotate).

use super::key_steps::{RegenerateStep, RotateStep};
use super::keys_panel::KeysSection;
use super::login_activity::ClientActivity;
use super::presence::LiveSessions;
use super::preview_box::PreviewBox;
use super::scope_editor::{ScopeEditor, scope_error};
use super::topic_rules_editor::{RulesDraft, TopicRulesEditor};
use super::{ClientsCtx, Dialog};
use crate::api::clients::{get_client, update_client, update_client_access};
use crate::components::browser::now_millis;
use crate::components::copy_button::CopyField;
use crate::components::field::TextField;
use crate::components::modal::Modal;
use crate::components::status_switch::StatusSwitch;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    ClientDetails, ClientId, ClientName, ClientRow, Description, FieldError, KeyInfo, MAX_KEYS,
    ParseError, ScopeMode, TopicRules, time_format,
};
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Details,
    Regenerate,
    Rotate,
}

/// Edit: name, description, status and connection details (never the key), and the way to a new key.
#[component]
pub fn EditClientModal(client_id: ClientId) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let id = client_id.to_string();
    let details = LocalResource::new(move || get_client(id.clone()));
    let step = RwSignal::new(Step::Details);
    let title = Signal::derive(move || match step.get() {
        Step::Details => format!("Edit client {client_id}"),
        Step::Regenerate => format!("Regenerate key for {client_id}"),
        Step::Rotate => format!("Rotate key for {client_id}"),
    });
    let back = Callback::new(move |()| step.set(Step::Details));
    let close = move || ctx.dialog.set(Dialog::Closed);
    view! {
        <Modal title=title on_close=move |_| close() testid="edit-client-modal" wide=true>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(details) => {
                            // The keys as the Keys section last changed them, kept across the steps.
                            let keys = RwSignal::new(details.row.keys.clone());
                            let details = StoredValue::new(details);
                            (move || match step.get() {
                                Step::Details => view! { <DetailsStep details=details.get_value() keys step/> }.into_any(),
                                Step::Regenerate => view! { <RegenerateStep details=details.get_value() on_back=back/> }.into_any(),
                                Step::Rotate => view! { <RotateStep details=details.get_value() on_back=back/> }.into_any(),
                            }).into_any()
                        }
                        Err(e) => view! {
                            <div class="banner error" role="alert" data-testid="modal-error">{e.to_string()}</div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Modal>
    }
}

#[component]
fn DetailsStep(
    details: ClientDetails,
    keys: RwSignal<Vec<KeyInfo>>,
    step: RwSignal<Step>,
) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let row = details.row.clone();
    let c = details.connection.clone();
    let name = RwSignal::new(row.name.clone());
    let description = RwSignal::new(row.description.clone());
    let scope_mode = RwSignal::new(if row.scope.is_some() {
        ScopeMode::Only
    } else {
        ScopeMode::Any
    });
    let scope_list = RwSignal::new(row.scope.as_ref().map(|s| s.to_text()).unwrap_or_default());
    let rules = RulesDraft::new(&row.topic_rules);
    let namespace = c.namespace.to_string();
    let server_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let submitted = RwSignal::new(false);
    // A server verdict is about what was sent: editing the access clears it.
    Effect::new(move |previous: Option<()>| {
        scope_mode.track();
        scope_list.track();
        rules.rules();
        if previous.is_some() {
            server_error.set(None);
        }
    });
    let scope_invalid = Signal::derive(move || {
        scope_mode.get() == ScopeMode::Only
            && scope_error(ScopeMode::Only, &scope_list.get(), true).is_some()
    });
    let ns = StoredValue::new(namespace.clone());
    let rules_invalid = Signal::derive(move || ns.with_value(|ns| rules.error(ns)).is_some());
    let rules_server_error = Signal::derive(move || {
        server_error
            .get()
            .and_then(|e| e.for_field(FieldError::TopicRule))
    });
    // What is saved now, to tell whether Save must change the access.
    let saved_access = StoredValue::new((row.scope.clone(), row.topic_rules.clone()));
    // What the field says: its own parser's verdict as you type, else the server's.
    let field_error = move |parsed: Option<ParseError>, field| {
        parsed
            .map(|e| e.to_string())
            .or_else(|| server_error.get().and_then(|e| e.for_field(field)))
    };
    let name_error =
        Signal::derive(move || field_error(ClientName::parse(&name.get()).err(), FieldError::Name));
    let description_error = Signal::derive(move || {
        field_error(
            Description::parse(&description.get()).err(),
            FieldError::Description,
        )
    });
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    });
    let id = row.client_id.to_string();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if name_error.get_untracked().is_some()
            || description_error.get_untracked().is_some()
            || scope_invalid.get_untracked()
            || rules_invalid.get_untracked()
        {
            return;
        }
        busy.set(true);
        // Read before spawning: the task first runs after this handler returns.
        let mode = scope_mode.get_untracked();
        let list = scope_list.get_untracked();
        let typed_rules = untrack(|| rules.rules());
        let access_changed = saved_access.with_value(|(scope, saved_rules)| {
            mode.scope(&list).ok().as_ref() != Some(scope)
                || ns
                    .with_value(|ns| TopicRules::parse(ns, typed_rules.clone()).ok())
                    .as_ref()
                    != Some(saved_rules)
        });
        let access_request =
            access_changed.then(|| update_client_access(id.clone(), mode, list, typed_rules));
        let request = update_client(
            id.clone(),
            name.get_untracked(),
            description.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            // The access first: it is what the server may still refuse (a rule it finds invalid).
            if let Some(access_request) = access_request {
                match access_request.await {
                    Ok(row) => {
                        saved_access.set_value((row.scope, row.topic_rules));
                    }
                    Err(e) => {
                        busy.set(false);
                        server_error.set(Some(e));
                        return;
                    }
                }
            }
            let result = request.await;
            busy.set(false);
            match result {
                Ok(row) => {
                    toaster.success(format!("{} saved", row.client_id));
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Closed);
                }
                Err(e) => server_error.set(Some(e)),
            }
        });
    };
    let stored = |s: String| Signal::stored(s);
    // Rotate is for a client with one working key.
    let rotate_refused = Signal::derive(move || {
        let now = now_millis();
        keys.with(|k| k.iter().filter(|k| k.works_at(now)).count() >= MAX_KEYS)
    });
    view! {
        <form id="edit-client-form" on:submit=save novalidate>
            <TextField label="Name" name="name" value=name error=name_error/>
            <TextField label="Description" name="description" value=description error=description_error multiline=true/>
            <div class="field">
                <span class="label">"Status"</span>
                <StatusSwitch row=row.clone() on_changed=move |_r: ClientRow| ctx.refresh()/>
                <p class="hint">"An inactive client cannot connect; deactivating disconnects its live sessions."</p>
            </div>
            <ScopeEditor mode=scope_mode list=scope_list server_error=server_error submitted=submitted/>
            <TopicRulesEditor rules namespace=namespace.clone() server_error=rules_server_error/>
            <PreviewBox client_id=row.client_id.clone() namespace=namespace.clone() mode=scope_mode list=scope_list rules
                draft_invalid=Signal::derive(move || scope_invalid.get() || rules_invalid.get())/>
        </form>
        // Outside the form: the keys' own actions are no part of Save.
        <h3>"Keys"</h3>
        <KeysSection client_id=row.client_id.clone() keys/>
        <h3>"Live sessions"</h3>
        <LiveSessions sessions=details.sessions.clone()/>
        <ClientActivity client_id=row.client_id.clone()/>
        <h3>"Connection details"</h3>
        <div class="reveal-grid">
            <CopyField label="Client ID" value=stored(c.client_id.to_string()) testid="edit-client-id"/>
            <CopyField label="Broker" value=stored(format!("{}:{}", c.broker_host, c.broker_port)) testid="edit-broker"/>
            <CopyField label="Username (namespace)" value=stored(c.username_namespace().to_owned()) testid="edit-username-namespace"/>
            <CopyField label="Username (Client ID @ organization)" value=stored(c.username_with_org()) testid="edit-username-org"/>
            <CopyField label="Organization ID" value=stored(c.organization_id.clone()) testid="edit-org"/>
        </div>
        <p class="hint">"The key is not shown: Keygate keeps only its hash. Lost it? Regenerate it. Created "
            {time_format::utc_minutes(row.created_at)} ", last changed " {time_format::utc_minutes(row.updated_at)} "."</p>
        {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
        <footer class="modal-footer">
            <button type="button" class="danger-outline" data-testid="regenerate" on:click=move |_| step.set(Step::Regenerate)>"Regenerate Key"</button>
            <button type="button" data-testid="rotate" disabled=move || rotate_refused.get()
                aria-describedby=move || rotate_refused.get().then_some("rotate-refused")
                on:click=move |_| step.set(Step::Rotate)>"Rotate key"</button>
            <span class="spacer"></span>
            <button type="button" on:click=move |_| ctx.dialog.set(Dialog::Closed)>"Cancel"</button>
            <button type="submit" form="edit-client-form" class="primary" data-testid="save-client" disabled=move || busy.get()>"Save changes"</button>
        </footer>
        <Show when=move || rotate_refused.get()>
            <p class="hint" id="rotate-refused" data-testid="rotate-refused">
                "Rotate needs one working key: this client has two. Retire the old key first, or wait until it retires."
            </p>
        </Show>
    }
}
