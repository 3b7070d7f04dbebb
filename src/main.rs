//! strata: a Prometheus-compatible federation appliance.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use strata::cli::{Check, Cli, Command};
use strata::{config, logging, web};
use strata_storage::{Db, Options};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for bad usage and unusable inputs, as Prometheus's kingpin uses.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's first line already names the flag and the problem.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("strata: {first} (try --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(Command::Check {
        what: Check::Config { files },
    }) = &cli.command
    {
        let ok = strata::cli::check_config(files, &mut std::io::stdout(), &mut std::io::stderr());
        return if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    logging::init(cli.log_level, cli.log_format);
    let cfg = match config::load(cli.config_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("strata: error loading config: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    for warning in &cfg.warnings {
        tracing::warn!(config = %cfg.source, "{warning}");
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strata: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run(cli, cfg))
}

async fn run(cli: Cli, cfg: config::Config) -> ExitCode {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), config = %cfg.source, "starting strata");
    let state = web::AppState::new();
    let listener = match tokio::net::TcpListener::bind(cli.listen_address).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("strata: cannot listen on {}: {e}", cli.listen_address);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(address = %bound, "listening");
    let app = web::router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    });

    let opts = Options {
        retention_time: (cli.retention_time.0 > 0).then(|| cli.retention_time.as_millis()),
        retention_size: (cli.retention_size > 0).then_some(cli.retention_size),
        ..Options::default()
    };
    let path = cli.storage_path.clone();
    let opened = tokio::task::spawn_blocking(move || Db::open(&path, opts)).await;
    let db = match opened {
        Ok(Ok(db)) => Arc::new(db),
        Ok(Err(e)) => {
            eprintln!("strata: cannot open storage at {}: {e}", cli.storage_path.display());
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("strata: opening storage failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = state.db.set(db.clone());
    tracing::info!(path = %cli.storage_path.display(), "storage ready; server is ready to receive requests");

    let code = match server.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "web server failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "web server task failed");
            ExitCode::FAILURE
        }
    };
    tracing::info!("stopping: closing storage");
    drop(state);
    let closed = tokio::task::spawn_blocking(move || match Arc::try_unwrap(db) {
        Ok(db) => db.close(),
        Err(_) => Ok(()),
    })
    .await;
    match closed {
        Ok(Ok(())) => tracing::info!("storage closed"),
        Ok(Err(e)) => tracing::error!(error = %e, "closing storage"),
        Err(e) => tracing::error!(error = %e, "closing storage"),
    }
    code
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    tracing::info!("received a termination signal");
}
