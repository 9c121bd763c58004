//! The CLI's output for people: aligned columns, times to the minute, one client per row.

use crate::rest::schema::{
    Client, ClientDetails, ClientList, ImportResult, SessionList, WorkspaceList,
};

/// Rows under a header, each column as wide as its widest cell.
fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `2026-12-02T11:03:21.123Z` as `2026-12-02 11:03`.
fn minute(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(start) => start.replacen('T', " ", 1),
        None => rfc3339.to_owned(),
    }
}

fn status(client: &Client) -> &'static str {
    if client.active { "active" } else { "inactive" }
}

pub fn clients(list: &ClientList) -> String {
    let rows: Vec<Vec<String>> = list
        .data
        .iter()
        .map(|c| {
            vec![
                c.client_id.clone(),
                c.name.clone(),
                status(c).to_owned(),
                c.live_sessions.to_string(),
                c.last_seen_at.as_deref().map(minute).unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = render(
        &["CLIENT ID", "NAME", "STATUS", "SESSIONS", "LAST SEEN (UTC)"],
        &rows,
    );
    let shown = list.data.len() as u64;
    if shown < list.total {
        out.push_str(&format!("{shown} of {} clients\n", list.total));
    } else {
        out.push_str(&format!("{shown} clients\n"));
    }
    out
}

pub fn client(client: &Client) -> String {
    let mut rows = vec![
        vec!["Client ID".to_owned(), client.client_id.clone()],
        vec!["Name".to_owned(), client.name.clone()],
        vec!["Description".to_owned(), client.description.clone()],
        vec!["Status".to_owned(), status(client).to_owned()],
        vec!["Workspace".to_owned(), client.workspace_id.clone()],
        vec![
            "Devices".to_owned(),
            client
                .scope
                .as_ref()
                .map(|s| s.join(", "))
                .unwrap_or_else(|| "any in the workspace".to_owned()),
        ],
        vec!["Created (UTC)".to_owned(), minute(&client.created_at)],
        vec![
            "Last seen (UTC)".to_owned(),
            client
                .last_seen_at
                .as_deref()
                .map(minute)
                .unwrap_or_else(|| "never".to_owned()),
        ],
        vec!["Live sessions".to_owned(), client.live_sessions.to_string()],
    ];
    for key in &client.keys {
        let ends = match (&key.ends_at, key.retiring) {
            (None, _) => "never expires".to_owned(),
            (Some(at), true) => format!("retires {}", minute(at)),
            (Some(at), false) => format!("expires {}", minute(at)),
        };
        rows.push(vec![
            "Key".to_owned(),
            format!(
                "{} (created {}, {ends})",
                key.fingerprint,
                minute(&key.created_at)
            ),
        ]);
    }
    let mut out = String::new();
    for row in &rows {
        out.push_str(format!("{:<16} {}", row[0], row[1]).trim_end());
        out.push('\n');
    }
    out
}

pub fn client_details(details: &ClientDetails) -> String {
    let c = &details.connection;
    let mut out = client(&details.client);
    out.push_str(&format!(
        "{:<16} {}:{}\n{:<16} {}\n",
        "MQTT broker", c.mqtt_host, c.mqtt_port, "Namespace", c.namespace
    ));
    out
}

pub fn sessions(list: &SessionList) -> String {
    let rows: Vec<Vec<String>> = list
        .data
        .iter()
        .map(|s| {
            vec![
                s.broker.clone(),
                s.mqtt_client_id.clone(),
                s.source.clone(),
                minute(&s.since),
                s.key_fingerprint.clone().unwrap_or_default(),
            ]
        })
        .collect();
    render(
        &["BROKER", "MQTT CLIENT ID", "SOURCE", "SINCE (UTC)", "KEY"],
        &rows,
    )
}

pub fn workspaces(list: &WorkspaceList) -> String {
    let rows: Vec<Vec<String>> = list
        .data
        .iter()
        .map(|w| {
            vec![
                w.id.clone(),
                w.name.clone(),
                w.namespace.clone(),
                w.client_count.to_string(),
            ]
        })
        .collect();
    render(&["ID", "NAME", "NAMESPACE", "CLIENTS"], &rows)
}

/// A dry run's clients, or what an import created with the keys generated for them, as CSV
/// (`client_id,key`) under a line that says they are shown once.
pub fn import(result: &ImportResult) -> String {
    if result.dry_run {
        let rows: Vec<Vec<String>> = result
            .clients
            .iter()
            .map(|c| vec![c.position.clone(), c.client_id.clone()])
            .collect();
        let mut out = render(&["WHERE", "CLIENT ID"], &rows);
        out.push_str(&format!(
            "The file is fine: importing it creates {} clients.\n",
            result.clients.len()
        ));
        return out;
    }
    let mut out = format!("Imported {} clients.\n", result.created);
    if !result.keys.is_empty() {
        out.push_str("Their keys (shown once; Keygate keeps only their hashes):\n");
        out.push_str(&app::model::csv::to_csv(
            &["client_id", "key"],
            result
                .keys
                .iter()
                .map(|k| [k.client_id.clone(), k.key.clone()]),
        ));
    }
    out
}
