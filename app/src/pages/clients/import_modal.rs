//! Import: clients from a file, uploaded or pasted, into the current workspace. The person says
//! what the file is (Keygate's export with keys generated or given, a Mosquitto password file or
//! dynamic-security.json, an EMQX user export and how EMQX hashed it), previews it (every
//! problem by line; nothing can be imported while there is one), then imports it all at once.
//! Keys generated for the new clients are offered once as a CSV download, and the modal stays
//! open until the person says they saved them, as the reveal does for one key.

use super::{ClientsCtx, Dialog};
use crate::api::imports::{ImportReport, import_clients};
use crate::components::browser::{chosen_file_text, download_text};
use crate::components::modal::Modal;
use crate::model::{EmqxHashing, HashDigest, ImportFormat, KeySource, SaltPosition};
use leptos::prelude::*;

/// The first choice: what the file is.
const KINDS: [(&str, &str); 5] = [
    (
        "keygate-generated",
        "Keygate export (CSV or JSON): generate a key for each client",
    ),
    (
        "keygate-given",
        "Keygate export (CSV or JSON) with a key column: use those keys",
    ),
    ("mosquitto-password-file", "Mosquitto password_file"),
    ("mosquitto-dynsec", "Mosquitto dynamic-security.json"),
    ("emqx", "EMQX built-in database users (JSON or CSV)"),
];

/// EMQX's `password_hash_algorithm` names, its default first.
const EMQX_ALGORITHMS: [&str; 7] = [
    "sha256", "sha512", "sha", "md5", "pbkdf2", "bcrypt", "plain",
];

/// The format the choices make, or why they make none.
fn format_of(
    kind: &str,
    algorithm: &str,
    salt: &str,
    pbkdf2_digest: &str,
    iterations: &str,
) -> Result<ImportFormat, String> {
    Ok(match kind {
        "keygate-generated" => ImportFormat::Keygate(KeySource::Generated),
        "keygate-given" => ImportFormat::Keygate(KeySource::Given),
        "mosquitto-password-file" => ImportFormat::MosquittoPasswordFile,
        "mosquitto-dynsec" => ImportFormat::MosquittoDynsec,
        _ => ImportFormat::Emqx(match algorithm {
            "plain" => EmqxHashing::Plain,
            "bcrypt" => EmqxHashing::Bcrypt,
            "pbkdf2" => EmqxHashing::Pbkdf2 {
                digest: HashDigest::parse(pbkdf2_digest).map_err(|e| e.to_string())?,
                iterations: iterations
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("Iterations: a whole number above 0, as EMQX was configured.")?,
            },
            digest => EmqxHashing::Digest {
                digest: HashDigest::parse(digest).map_err(|e| e.to_string())?,
                salt: SaltPosition::parse(salt).map_err(|e| e.to_string())?,
            },
        }),
    })
}

/// "Import" on the Clients page.
#[component]
pub fn ImportClientsModal() -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let kind = RwSignal::new(KINDS[0].0.to_owned());
    let algorithm = RwSignal::new(EMQX_ALGORITHMS[0].to_owned());
    let salt = RwSignal::new(SaltPosition::Suffix.as_str().to_owned());
    let pbkdf2_digest = RwSignal::new(HashDigest::Sha256.as_str().to_owned());
    let iterations = RwSignal::new(EmqxHashing::DEFAULT_PBKDF2_ITERATIONS.to_string());
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    // The preview of the file and format as they were when it was asked for; any change drops it.
    let preview = RwSignal::new(None::<ImportReport>);
    // What the import did; holds the generated keys for as long as the modal is open.
    let done = RwSignal::new(None::<ImportReport>);
    let saved = RwSignal::new(false);
    let format = Memo::new(move |_| {
        format_of(
            &kind.get(),
            &algorithm.get(),
            &salt.get(),
            &pbkdf2_digest.get(),
            &iterations.get(),
        )
    });
    Effect::new(move |_| {
        format.track();
        text.track();
        preview.set(None);
        failure.set(None);
    });

    let file_input = NodeRef::<leptos::html::Input>::new();
    let read_file = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match chosen_file_text(&input).await {
                Some(contents) => {
                    let _ = text.try_set(contents);
                }
                None => {
                    let _ = failure.try_set(Some("The file could not be read as text.".into()));
                }
            }
        });
    };

    let run = move |commit: bool| {
        let Ok(format) = format.get_untracked() else {
            return;
        };
        busy.set(true);
        failure.set(None);
        let request = import_clients(format, text.get_untracked(), commit);
        leptos::task::spawn_local(async move {
            let answer = request.await;
            let _ = busy.try_set(false);
            match answer {
                Ok(report) if commit && report.errors.is_empty() => {
                    ctx.refresh();
                    let _ = done.try_set(Some(report));
                }
                Ok(report) => {
                    let _ = preview.try_set(Some(report));
                }
                Err(e) => {
                    let _ = failure.try_set(Some(e.to_string()));
                }
            }
        });
    };

    let has_keys = move || done.with(|d| d.as_ref().is_some_and(|r| !r.keys.is_empty()));
    let close = move || {
        if !has_keys() || saved.get_untracked() {
            ctx.dialog.set(Dialog::Closed);
        }
    };
    let download = move |_| {
        done.with_untracked(|d| {
            if let Some(report) = d {
                download_text("keygate-imported-keys.csv", &report.keys_csv());
            }
        });
    };
    let plural = |n: usize| if n == 1 { "client" } else { "clients" };

    let choose = move || {
        view! {
            <div class="field">
                <label for="import-kind">"What is this file?"</label>
                <select id="import-kind" data-testid="import-format" prop:value=move || kind.get()
                    on:change=move |ev| kind.set(event_target_value(&ev))>
                    {KINDS.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </div>
            {move || (kind.get() == "emqx").then(|| view! {
                <div class="field-row" data-testid="import-emqx">
                    <div class="field">
                        <label for="import-algorithm">"Password hash (EMQX's password_hash_algorithm)"</label>
                        <select id="import-algorithm" data-testid="import-emqx-algorithm" prop:value=move || algorithm.get()
                            on:change=move |ev| algorithm.set(event_target_value(&ev))>
                            {EMQX_ALGORITHMS.into_iter().map(|a| view! { <option value=a>{a}</option> }).collect_view()}
                        </select>
                    </div>
                    {move || matches!(algorithm.get().as_str(), "sha256" | "sha512" | "sha" | "md5").then(|| view! {
                        <div class="field">
                            <label for="import-salt">"Salt position"</label>
                            <select id="import-salt" data-testid="import-emqx-salt" prop:value=move || salt.get()
                                on:change=move |ev| salt.set(event_target_value(&ev))>
                                {SaltPosition::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </div>
                    })}
                    {move || (algorithm.get() == "pbkdf2").then(|| view! {
                        <div class="field">
                            <label for="import-mac">"Function (mac_fun)"</label>
                            <select id="import-mac" data-testid="import-emqx-mac" prop:value=move || pbkdf2_digest.get()
                                on:change=move |ev| pbkdf2_digest.set(event_target_value(&ev))>
                                {HashDigest::ALL.iter().map(|d| view! { <option value=d.as_str()>{d.as_str()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="import-iterations">"Iterations"</label>
                            <input id="import-iterations" type="number" min="1" data-testid="import-emqx-iterations"
                                prop:value=move || iterations.get() on:input=move |ev| iterations.set(event_target_value(&ev))/>
                        </div>
                    })}
                </div>
            })}
            <div class="field">
                <label for="import-file">"File"</label>
                <input id="import-file" type="file" data-testid="import-file" accept=".csv,.json,.txt,text/*"
                    node_ref=file_input on:change=read_file/>
            </div>
            <div class="field">
                <label for="import-text">"Its contents (or paste them here)"</label>
                <textarea id="import-text" rows="10" class="mono" spellcheck="false" data-testid="import-text"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <p class="hint">"Nothing is created until you import, and nothing at all while any line has a problem. Devices keep the passwords of Mosquitto and EMQX files: Keygate checks their hashes as those brokers do and replaces each with its own at the device's first login."</p>
            </div>
            {move || format.get().err().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            {move || preview.get().map(|report| {
                if report.errors.is_empty() {
                    let n = report.entries.len();
                    view! {
                        <div class="banner" data-testid="import-ready">
                            {format!("{n} {} ready to import: ", plural(n))}
                            <code>{report.entries.iter().take(20).map(|e| e.text.clone()).collect::<Vec<_>>().join(", ")}</code>
                            {(n > 20).then(|| format!(" and {} more", n - 20))}
                        </div>
                    }.into_any()
                } else {
                    let n = report.errors.len();
                    view! {
                        <div class="banner error" role="alert" data-testid="import-errors">
                            <p>{format!("{n} problem{} in the file: fix {}, then preview again. Nothing was imported.",
                                if n == 1 { "" } else { "s" }, if n == 1 { "it" } else { "them" })}</p>
                            <ul>
                                {report.errors.into_iter().map(|e| view! {
                                    <li data-testid="import-error"><strong>{e.position}</strong>": "{e.text}</li>
                                }).collect_view()}
                            </ul>
                        </div>
                    }.into_any()
                }
            })}
            {move || failure.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button type="button" data-testid="import-preview" on:click=move |_| run(false)
                    disabled=move || busy.get() || text.with(|t| t.trim().is_empty()) || format.with(|f| f.is_err())>"Preview"</button>
                {move || preview.with(|p| p.as_ref().filter(|r| r.errors.is_empty()).map(|r| r.entries.len())).map(|n| view! {
                    <button type="button" class="primary" data-testid="import-commit" disabled=move || busy.get()
                        on:click=move |_| run(true)>{move || if busy.get() { "Importing…".to_owned() } else { format!("Import {n} {}", plural(n)) }}</button>
                })}
            </footer>
        }
    };

    let result = move |report: ImportReport| {
        let n = report.created;
        let keys = report.keys.len();
        view! {
            <div class="banner success" data-testid="import-done">{format!("Imported {n} {}.", plural(n))}</div>
            {(keys > 0).then(|| view! {
                <div class="banner warning" role="note" data-testid="import-keys">
                    <strong>"Save these keys now."</strong>
                    {format!(" A key was generated for each of the {keys} {}. Keygate keeps only their hashes: this is the only time they are shown, and closing this window discards them.", plural(keys))}
                </div>
            })}
            <footer class="modal-footer">
                {(keys > 0).then(|| view! {
                    <button type="button" data-testid="import-download-keys" on:click=download>"⬇ Download keys (CSV)"</button>
                    <label class="confirm">
                        <input type="checkbox" data-testid="import-saved" prop:checked=move || saved.get()
                            on:change=move |ev| saved.set(event_target_checked(&ev))/>
                        "I have saved these keys"
                    </label>
                })}
                <button type="button" class="primary" data-testid="import-close" disabled=move || has_keys() && !saved.get()
                    on:click=move |_| close()>"Done"</button>
            </footer>
        }
    };

    view! {
        <Modal title="Import clients" on_close=move |_| close() testid="import-modal" wide=true
            dismissable=Signal::derive(move || !has_keys() || saved.get())>
            {move || match done.get() {
                Some(report) => result(report).into_any(),
                None => choose().into_any(),
            }}
        </Modal>
    }
}
