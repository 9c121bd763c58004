//! `rmqtt-alone PORT`: rmqtt 0.24 with the features and listener settings of Keygate's embedded
//! broker (`server/src/broker`), but none of Keygate's hooks: every CONNECT is let in without a
//! look at its credentials, nothing is tracked, no topic rule is checked. `bench/cold-connects.sh`
//! runs it beside Keygate and Mosquitto so that a round shows how much of Keygate's figure is
//! rmqtt's and how much Keygate's own. Listens on 127.0.0.1 only; for benchmarks only.

use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(port) = std::env::args().nth(1).and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: rmqtt-alone PORT (listens on 127.0.0.1:PORT)");
        return ExitCode::from(2);
    };
    // As Keygate does: rmqtt's busy check refuses connects on a loaded machine.
    let scx = ServerContext::new().busy_check_enable(false).build().await;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match Builder::new()
        .name("tcp")
        .laddr(addr)
        .reuseaddr(Some(true))
        .nodelay(true)
        .allow_anonymous(true)
        .bind()
        .and_then(|l| l.tcp())
    {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("rmqtt-alone: cannot listen on {addr}: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match MqttServer::new(scx)
        .listener_by_id(listener, 1)
        .build()
        .run()
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmqtt-alone: {e:#}");
            ExitCode::FAILURE
        }
    }
}
