//! `keygate clients …` and `keygate workspaces …`: the REST API from a shell, for people (tables)
//! and scripts (`--json`, the API's own bodies, and exit codes that say what went wrong; see
//! [`CliError::exit_code`]). They talk to a running Keygate (`--url`, `--token`), never to its
//! database, so they work from any machine the API is reachable from.

mod api;
mod table;

pub use api::CliError;

use crate::rest::schema::{
    Client, ClientDetails, ClientList, ImportResult, IssuedClient, SessionList, WorkspaceList,
};
use api::Api;
use clap::{Args, Subcommand};
use reqwest::Method;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

/// Where the API is and who calls it; every API command takes these.
#[derive(Clone, Debug, Args)]
pub struct Connection {
    /// The Keygate to talk to: its dashboard's address.
    #[arg(
        long,
        env = "KEYGATE_URL",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    pub url: String,
    /// An API token (Settings → API tokens). Prefer the environment variable: a flag's value is
    /// visible to other users of the machine.
    #[arg(long, env = "KEYGATE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<SecretString>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `keygate clients …`.
#[derive(Clone, Debug, Subcommand)]
pub enum ClientsCommand {
    /// List a workspace's clients (every page, unless --limit).
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// Only clients whose Client ID or name contains this.
        #[arg(long)]
        search: Option<String>,
        /// client_id, name, created_at or last_seen_at.
        #[arg(long, default_value = "client_id")]
        sort: String,
        /// Sort in descending order.
        #[arg(long)]
        desc: bool,
        /// At most this many clients.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show a client, with where its devices connect.
    Get { client_id: String },
    /// Create a client; a generated key is printed this once.
    Create {
        client_id: String,
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// A name for people (default: the Client ID).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Read the key from standard input instead of generating one.
        #[arg(long)]
        key_stdin: bool,
        /// Limit it to these devices (comma-separated device ids and tag:NAME entries).
        #[arg(long)]
        scope: Option<String>,
        /// When its key expires: never, a number of days, or a date (YYYY-MM-DD).
        #[arg(long)]
        expiry: Option<String>,
        /// Makes a retry of this command create nothing new (see the API's Idempotency-Key).
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Change a client's name, description or scope.
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Limit it to these devices (comma-separated device ids and tag:NAME entries).
        #[arg(long, conflicts_with = "any_device")]
        scope: Option<String>,
        /// Let any device of its workspace use it.
        #[arg(long)]
        any_device: bool,
    },
    /// Let a client's devices connect again.
    Activate { client_id: String },
    /// Stop a client's devices from connecting, and disconnect its sessions.
    Deactivate { client_id: String },
    /// Replace a client's keys with a new one; the old ones stop working at once.
    Regenerate {
        client_id: String,
        /// Read the key from standard input instead of generating one.
        #[arg(long)]
        key_stdin: bool,
        #[arg(long)]
        expiry: Option<String>,
    },
    /// Give a client a second key that works at once; the current one works until --retire.
    Rotate {
        client_id: String,
        /// When the current key stops working: 1h, 24h, 7d, or a date (YYYY-MM-DD).
        #[arg(long)]
        retire: String,
        /// Read the new key from standard input instead of generating one.
        #[arg(long)]
        key_stdin: bool,
        #[arg(long)]
        expiry: Option<String>,
    },
    /// Close every session of a client on every broker (its key stays).
    Disconnect { client_id: String },
    /// Delete a client; its key stops working at once.
    Delete { client_id: String },
    /// List the sessions connected with a client now.
    Sessions { client_id: String },
    /// Import a file of clients, all or nothing; keys generated for them are printed once, as CSV.
    Import {
        /// The file, or `-` for standard input.
        file: String,
        /// keygate-generated, keygate-given, mosquitto-password-file, mosquitto-dynsec, or
        /// emqx:HASHING (emqx:sha256:suffix, emqx:bcrypt, emqx:pbkdf2:sha256:4096, emqx:plain, …).
        #[arg(long)]
        format: String,
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// Only check the file and list what it would create.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a workspace's clients (never keys) as CSV or JSON to standard output.
    Export {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

/// `keygate workspaces …`.
#[derive(Clone, Debug, Subcommand)]
pub enum WorkspacesCommand {
    /// List the workspaces the token reaches.
    List,
}

/// Which workspace a command is about.
#[derive(Clone, Debug, Args)]
pub struct WorkspaceArg {
    /// The workspace's id (`keygate workspaces list`); may be left out when the token reaches
    /// only one.
    #[arg(long, env = "KEYGATE_WORKSPACE")]
    pub workspace: Option<String>,
}

/// Runs `command` and prints its answer on standard output.
pub async fn clients(connection: &Connection, command: &ClientsCommand) -> Result<(), CliError> {
    let api = api(connection)?;
    let json = connection.json;
    match command {
        ClientsCommand::List {
            workspace,
            search,
            sort,
            desc,
            limit,
        } => {
            let workspace = workspace_id(&api, workspace).await?;
            let clients = list(&api, &workspace, search.as_deref(), sort, *desc, *limit).await?;
            if json {
                print_json(&clients);
            } else {
                print!("{}", table::clients(&clients));
            }
        }
        ClientsCommand::Get { client_id } => {
            let details: ClientDetails = api.get(&client_path(client_id, ""), &[]).await?;
            if json {
                print_json(&details);
            } else {
                print!("{}", table::client_details(&details));
            }
        }
        ClientsCommand::Create {
            client_id,
            workspace,
            name,
            description,
            key_stdin,
            scope,
            expiry,
            idempotency_key,
        } => {
            let workspace = workspace_id(&api, workspace).await?;
            let key = if *key_stdin { Some(read_key()?) } else { None };
            let body = json!({
                "client_id": client_id,
                "name": name,
                "description": description,
                "key": key,
                "scope": scope.as_deref().map(scope_entries),
                "expiry": expiry,
            });
            let headers: Vec<(&str, String)> = idempotency_key
                .iter()
                .map(|k| ("Idempotency-Key", k.clone()))
                .collect();
            let issued: IssuedClient = api
                .send_json(
                    Method::POST,
                    &format!("workspaces/{}/clients", segment(&workspace)),
                    Some(&body),
                    &headers,
                )
                .await?;
            print_issued(&issued, json, "Created");
        }
        ClientsCommand::Update {
            client_id,
            name,
            description,
            scope,
            any_device,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            if let Some(description) = description {
                body.insert("description".into(), json!(description));
            }
            if let Some(scope) = scope {
                body.insert("scope".into(), json!(scope_entries(scope)));
            } else if *any_device {
                body.insert("scope".into(), serde_json::Value::Null);
            }
            if body.is_empty() {
                return Err(CliError::Usage(
                    "nothing to change: give --name, --description, --scope or --any-device".into(),
                ));
            }
            let client: Client = api
                .send_json(Method::PATCH, &client_path(client_id, ""), Some(&body), &[])
                .await?;
            print_client(&client, json, "Updated");
        }
        ClientsCommand::Activate { client_id } => {
            let client = client_action(&api, client_id, "activate").await?;
            print_client(&client, json, "Activated");
        }
        ClientsCommand::Deactivate { client_id } => {
            let client = client_action(&api, client_id, "deactivate").await?;
            print_client(
                &client,
                json,
                "Deactivated (its sessions are being disconnected on every broker)",
            );
        }
        ClientsCommand::Regenerate {
            client_id,
            key_stdin,
            expiry,
        } => {
            let key = if *key_stdin { Some(read_key()?) } else { None };
            let body = json!({ "key": key, "expiry": expiry });
            let issued: IssuedClient = api
                .send_json(
                    Method::POST,
                    &client_path(client_id, "/regenerate-key"),
                    Some(&body),
                    &[],
                )
                .await?;
            print_issued(&issued, json, "Regenerated the key of");
        }
        ClientsCommand::Rotate {
            client_id,
            retire,
            key_stdin,
            expiry,
        } => {
            let key = if *key_stdin { Some(read_key()?) } else { None };
            let body = json!({ "key": key, "expiry": expiry, "retire": retire });
            let issued: IssuedClient = api
                .send_json(
                    Method::POST,
                    &client_path(client_id, "/rotate-key"),
                    Some(&body),
                    &[],
                )
                .await?;
            print_issued(&issued, json, "Rotated the key of");
        }
        ClientsCommand::Disconnect { client_id } => {
            let client = client_action(&api, client_id, "disconnect").await?;
            print_client(
                &client,
                json,
                "Disconnecting every session of (its key stays)",
            );
        }
        ClientsCommand::Delete { client_id } => {
            api.send_empty(Method::DELETE, &client_path(client_id, ""))
                .await?;
            if json {
                print_json(&json!({ "deleted": client_id }));
            } else {
                println!("Deleted {client_id}; its key no longer works.");
            }
        }
        ClientsCommand::Sessions { client_id } => {
            let sessions: SessionList = api.get(&client_path(client_id, "/sessions"), &[]).await?;
            if json {
                print_json(&sessions);
            } else {
                print!("{}", table::sessions(&sessions));
            }
        }
        ClientsCommand::Import {
            file,
            format,
            workspace,
            dry_run,
        } => {
            let content = read_file(file)?;
            let workspace = workspace_id(&api, workspace).await?;
            let body = json!({ "format": format, "content": content, "dry_run": dry_run });
            let result: ImportResult = api
                .send_json(
                    Method::POST,
                    &format!("workspaces/{}/clients/import", segment(&workspace)),
                    Some(&body),
                    &[],
                )
                .await?;
            if json {
                print_json(&result);
            } else {
                print!("{}", table::import(&result));
            }
        }
        ClientsCommand::Export { workspace, format } => {
            let workspace = workspace_id(&api, workspace).await?;
            let file = api
                .get_text(
                    &format!("workspaces/{}/clients/export", segment(&workspace)),
                    &[("format", format.clone())],
                )
                .await?;
            print!("{file}");
        }
    }
    Ok(())
}

/// Runs `command` and prints its answer on standard output.
pub async fn workspaces(
    connection: &Connection,
    command: &WorkspacesCommand,
) -> Result<(), CliError> {
    let api = api(connection)?;
    match command {
        WorkspacesCommand::List => {
            let list: WorkspaceList = api.get("workspaces", &[]).await?;
            if connection.json {
                print_json(&list);
            } else {
                print!("{}", table::workspaces(&list));
            }
        }
    }
    Ok(())
}

fn api(connection: &Connection) -> Result<Api, CliError> {
    let token = connection.token.clone().ok_or_else(|| {
        CliError::Usage(
            "no API token: set KEYGATE_TOKEN (or pass --token); make one in Settings → API tokens"
                .into(),
        )
    })?;
    Api::new(&connection.url, token)
}

/// The workspace named, or the token's only one.
async fn workspace_id(api: &Api, arg: &WorkspaceArg) -> Result<String, CliError> {
    if let Some(id) = &arg.workspace {
        return Ok(id.clone());
    }
    let list: WorkspaceList = api.get("workspaces", &[]).await?;
    match list.data.as_slice() {
        [only] => Ok(only.id.clone()),
        several => Err(CliError::Usage(format!(
            "the token reaches {} workspaces: choose one with --workspace ({})",
            several.len(),
            several
                .iter()
                .map(|w| format!("{} = {}", w.id, w.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Every page of a workspace's clients, up to `limit`.
async fn list(
    api: &Api,
    workspace: &str,
    search: Option<&str>,
    sort: &str,
    desc: bool,
    limit: Option<u32>,
) -> Result<ClientList, CliError> {
    let path = format!("workspaces/{}/clients", segment(workspace));
    let mut all = ClientList {
        data: Vec::new(),
        next_cursor: None,
        total: 0,
    };
    let mut cursor: Option<String> = None;
    loop {
        let wanted = limit.map(|l| l.saturating_sub(all.data.len() as u32));
        let page_size = wanted.unwrap_or(200).clamp(1, 200);
        let mut query = vec![("limit", page_size.to_string())];
        match &cursor {
            Some(cursor) => query.push(("cursor", cursor.clone())),
            None => {
                query.push(("sort", sort.to_owned()));
                query.push(("order", if desc { "desc" } else { "asc" }.to_owned()));
                if let Some(search) = search {
                    query.push(("search", search.to_owned()));
                }
            }
        }
        let page: ClientList = api.get(&path, &query).await?;
        all.total = page.total;
        all.data.extend(page.data);
        cursor = page.next_cursor;
        let full = limit.is_some_and(|l| all.data.len() as u32 >= l);
        if cursor.is_none() || full {
            all.next_cursor = cursor;
            return Ok(all);
        }
    }
}

/// POSTs `action` (`activate`, `deactivate`, `disconnect`) for a client, without a body.
async fn client_action(api: &Api, client_id: &str, action: &str) -> Result<Client, CliError> {
    api.send_json::<(), _>(
        Method::POST,
        &client_path(client_id, &format!("/{action}")),
        None,
        &[],
    )
    .await
}

/// A path segment, percent-encoded: a Client ID may hold characters a URL path gives meaning to.
fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn client_path(client_id: &str, rest: &str) -> String {
    format!("clients/{}{rest}", segment(client_id))
}

fn scope_entries(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A file's text, or standard input's for `-`.
fn read_file(path: &str) -> Result<String, CliError> {
    use std::io::Read;
    let mut text = String::new();
    let read = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))?;
    Ok(text)
}

/// A key from standard input: its first line, so `echo KEY |` and a file both work.
fn read_key() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read the key from standard input: {e}")))?;
    let key = line.trim_end_matches(['\r', '\n']).to_owned();
    if key.is_empty() {
        return Err(CliError::Usage(
            "--key-stdin: standard input holds no key".into(),
        ));
    }
    Ok(key)
}

fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("API bodies serialize")
    );
}

fn print_client(client: &Client, json: bool, done: &str) {
    if json {
        print_json(client);
    } else {
        println!("{done} {}.", client.client_id);
        print!("{}", table::client(client));
    }
}

fn print_issued(issued: &IssuedClient, json: bool, done: &str) {
    if json {
        print_json(issued);
        return;
    }
    println!("{done} {}.", issued.client.client_id);
    print!("{}", table::client(&issued.client));
    if let Some(key) = &issued.key {
        println!();
        println!("Key (shown once; Keygate keeps only its hash):");
        println!("{key}");
    }
}
