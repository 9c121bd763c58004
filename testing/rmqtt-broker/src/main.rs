//! `rmqtt-test-broker` exists only for Keygate's tests: a real external rmqtt 0.24 broker, built
//! from rmqtt's own crates at the version Keygate pins, configured as docs/external-brokers.md
//! tells an operator to. Devices connect to it with real MQTT clients; it asks Keygate's webhooks
//! about every CONNECT, SUBSCRIBE and PUBLISH (rmqtt-auth-http) and reports connects and
//! disconnects (rmqtt-web-hook); Keygate's revocation worker closes sessions on it through its
//! admin API (rmqtt-http-api).
//!
//! It listens on loopback only, prints one JSON line with its addresses when it is ready, and
//! exits when its stdin reaches EOF (so a test that dies never leaves it running) or on SIGTERM
//! or SIGINT. `rmqtt-test-broker --help` lists the flags.

mod flags;
mod plugins;
mod stderr_log;

use flags::{Flags, Refusal};
use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{SignalKind, signal};

/// Where the broker ended up listening.
struct Ready {
    mqtt: SocketAddr,
    api: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::parse(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(Refusal::Help) => {
            println!("{}", flags::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(Refusal::Invalid(why)) => {
            eprintln!("rmqtt-test-broker: {why}\n\n{}", flags::USAGE);
            return ExitCode::from(2);
        }
    };
    stderr_log::init(flags.log);
    let ready = match start(&flags).await {
        Ok(ready) => ready,
        Err(why) => {
            eprintln!("rmqtt-test-broker: {why}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(
        stdout,
        r#"{{"mqtt":"{}","api":"http://{}"}}"#,
        ready.mqtt, ready.api
    )
    .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(e) = printed {
        eprintln!("rmqtt-test-broker: cannot write the ready line: {e}");
        return ExitCode::FAILURE;
    }
    let why = until_told_to_stop().await;
    log::info!("stopping: {why}");
    // Not a graceful shutdown: the runtime would wait for rmqtt's tasks, and a test broker has
    // nothing to save.
    std::process::exit(0)
}

/// Starts the plugins and the MQTT listener.
async fn start(flags: &Flags) -> Result<Ready, String> {
    let api = match flags.api {
        Some(api) => api,
        None => free_loopback_port()?,
    };
    let scx = ServerContext::new()
        // rmqtt refuses connects while the machine's load is high; a test machine often is.
        .busy_check_enable(false)
        .plugins_config_map_add(plugins::AUTH_HTTP, plugins::auth_http(flags))
        .plugins_config_map_add(
            plugins::HTTP_API,
            plugins::http_api(api, flags.api_token.as_deref()),
        )
        .plugins_config_map_add(plugins::WEB_HOOK, plugins::web_hook(flags))
        .build()
        .await;
    // `true`: started at once (init + start); `false`: may be stopped through the admin API.
    rmqtt_auth_http::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start {}: {e:#}", plugins::AUTH_HTTP))?;
    rmqtt_http_api::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start {} on {api}: {e:#}", plugins::HTTP_API))?;
    rmqtt_web_hook::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start {}: {e:#}", plugins::WEB_HOOK))?;

    let listener = Builder::new()
        .name("tcp")
        .laddr(flags.mqtt)
        .reuseaddr(Some(true))
        .nodelay(true)
        // Every CONNECT goes through rmqtt-auth-http; rmqtt's default lets anonymous in.
        .allow_anonymous(false)
        .bind()
        .and_then(|l| l.tcp())
        .map_err(|e| format!("cannot listen for MQTT on {}: {e:#}", flags.mqtt))?;
    let mqtt = listener
        .local_addr()
        .map_err(|e| format!("cannot read the MQTT listener's address: {e:#}"))?;
    // An explicit id: rmqtt keys per-listener settings by it, and warns when it has to derive
    // one from a port that was chosen at random.
    let server = MqttServer::new(scx).listener_by_id(listener, 1).build();
    tokio::spawn(async move {
        if let Err(e) = server.run().await {
            eprintln!("rmqtt-test-broker: the MQTT server stopped: {e:#}");
            std::process::exit(1);
        }
    });
    Ok(Ready { mqtt, api })
}

/// A port nothing listens on at the moment, on 127.0.0.1 (rmqtt-http-api binds the address it is
/// configured with and cannot report the port of `:0`).
fn free_loopback_port() -> Result<SocketAddr, String> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot find a free port for the admin API: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("cannot find a free port for the admin API: {e}"))
}

/// Waits for EOF on stdin, SIGTERM or SIGINT; which one came.
async fn until_told_to_stop() -> &'static str {
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        stdin_closed.await;
        return "stdin closed";
    };
    tokio::select! {
        () = stdin_closed => "stdin closed",
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
