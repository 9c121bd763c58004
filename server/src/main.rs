use clap::Parser;
use server::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    // rmqtt reports every refused CONNECT at info level; Keygate logs its own, clearer line for
    // each, so the broker's are kept to warnings unless the filter names rmqtt itself.
    let filter = format!("rmqtt=warn,rmqtt_net=warn,{}", config.log);
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match server::start(config).await {
        Ok(running) => {
            running.wait().await;
            tracing::info!("Keygate stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("keygate: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
