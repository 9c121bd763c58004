//! The `keygate` binary: parses the flags, runs an operator command or starts the server.

use clap::Parser;
use server::config::{Command, Config};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    return_large_allocations_to_the_os();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime")
        .block_on(run())
}

async fn run() -> std::process::ExitCode {
    let config = Config::parse();
    if let Some(command) = &config.command {
        // A command's answer is its one line on stdout; only trouble is logged, to stderr.
        tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("warn"))
            .with_writer(std::io::stderr)
            .init();
        match command {
            Command::Clients {
                connection,
                command,
            } => return cli_exit(server::cli::clients(connection, command).await),
            Command::Workspaces {
                connection,
                command,
            } => return cli_exit(server::cli::workspaces(connection, command).await),
            Command::ForgetBrokerTarget { .. } => {}
        }
        return match server::commands::run(command, &config).await {
            Ok(said) => {
                println!("{said}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("keygate: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
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

/// A CLI command's exit: its answer is printed already; a failure says why on stderr, with the
/// exit code of its kind.
fn cli_exit(result: Result<(), server::cli::CliError>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keygate: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

/// Every argon2id hash the dashboard computes (a new key, a sign-in) allocates 19 MiB on a
/// blocking thread and frees it. glibc raises its mmap threshold after such a free, so later ones
/// come from the heap of whichever thread runs them and stay resident once freed: before this and
/// the broker's own verifier threads, a few hundred connects left Keygate at 800 MiB. A fixed
/// threshold keeps large blocks in mmap, returned to the OS as soon as they are freed.
fn return_large_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, and runs before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
