//! strata: a Prometheus-compatible federation appliance.

use std::process::ExitCode;
use std::sync::Arc;

use strata::cli::{Check, Cli, Command};
use strata::discovery::{DiscoveryManager, DEFAULT_DEBOUNCE};
use strata::scrape::ScrapeManager;
use strata::{config, logging, web};
use strata_storage::{Db, Options};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use strata::cli::EXIT_USAGE;

fn main() -> ExitCode {
    let cli: Cli = match strata::cli::parse_args("strata") {
        Ok(c) => c,
        Err(code) => return code,
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
    let state = web::AppState::new(cli.enable_lifecycle);
    let (quit_tx, quit_rx) = tokio::sync::mpsc::channel::<()>(1);
    let _ = state.quit.set(quit_tx);
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
            .with_graceful_shutdown(shutdown_signal(quit_rx))
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

    // Scraping: discovery feeds target groups to the scrape pools.
    let seed = ScrapeManager::seed_for(
        &hostname(),
        &cfg.global
            .external_labels()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let scrape = Arc::new(ScrapeManager::new(db.clone(), seed));
    let _ = state.scrape.set(scrape.clone());
    scrape.apply_config(&cfg);
    let mut discovery = DiscoveryManager::new(DEFAULT_DEBOUNCE);
    discovery.apply_config(&cfg).await;
    let mut sets = discovery.subscribe();
    let sync = {
        let scrape = scrape.clone();
        tokio::spawn(async move {
            while sets.changed().await.is_ok() {
                let current = sets.borrow_and_update().clone();
                scrape.sync(&current);
            }
        })
    };
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel::<web::ReloadRequest>(4);
    let _ = state.reload.set(reload_tx.clone());
    let reloader = tokio::spawn(reload_loop(
        cli.config_file.clone(),
        reload_rx,
        scrape.clone(),
        discovery,
    ));
    let hup = tokio::spawn(sighup(reload_tx));

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
    tracing::info!("stopping: scrape loops");
    hup.abort();
    sync.abort();
    // Dropping the state closes the reload channel; the reloader then stops discovery.
    drop(state);
    if let Ok(discovery) = reloader.await {
        discovery.stop().await;
    }
    scrape.shutdown().await;
    drop(scrape);
    tracing::info!("stopping: closing storage");
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

/// Re-reads the configuration on request; an invalid file is refused and the
/// running configuration stays. Returns the discovery manager once the
/// request channel closes (shutdown).
async fn reload_loop(
    path: Option<std::path::PathBuf>,
    mut rx: tokio::sync::mpsc::Receiver<web::ReloadRequest>,
    scrape: Arc<ScrapeManager>,
    mut discovery: DiscoveryManager,
) -> DiscoveryManager {
    while let Some(done) = rx.recv().await {
        let result = match config::load(path.as_deref()) {
            Ok(cfg) => {
                for w in &cfg.warnings {
                    tracing::warn!(warning = %w, "configuration");
                }
                scrape.apply_config(&cfg);
                discovery.apply_config(&cfg).await;
                tracing::info!(config = %cfg.source, "completed loading of configuration file");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "error reloading config; keeping the running configuration");
                Err(e.to_string())
            }
        };
        let _ = done.send(result);
    }
    discovery
}

/// Turns each SIGHUP into a reload request.
async fn sighup(tx: tokio::sync::mpsc::Sender<web::ReloadRequest>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        let (done, _answer) = tokio::sync::oneshot::channel();
        if tx.send(done).await.is_err() {
            return;
        }
    }
}

/// The host name, for the scrape offset seed.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Resolves on SIGINT, SIGTERM or `/-/quit`.
async fn shutdown_signal(mut quit: tokio::sync::mpsc::Receiver<()>) {
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
        _ = quit.recv() => {}
    }
    tracing::info!("received a termination signal");
}
