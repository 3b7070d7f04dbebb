//! strata-loadgen: simulated targets, and a scrape benchmark of a strata host.

use std::io::Write;
use std::process::ExitCode;

use strata::loadgen::bench::{run_scrape_bench, BenchError};
use strata::loadgen::cli::{Command, LoadgenCli, ScrapeBenchArgs};
use strata::loadgen::{start_targets, Clock, LoadgenError};

use strata::cli::EXIT_USAGE;
/// Exit code after SIGINT or SIGTERM stopped a benchmark, as shells report 128 + SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli: LoadgenCli = match strata::cli::parse_args("strata-loadgen") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strata-loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Targets(args) => rt.block_on(targets(args.config())),
        Command::ScrapeBench(args) => rt.block_on(scrape_bench(args)),
    }
}

async fn scrape_bench(args: ScrapeBenchArgs) -> ExitCode {
    raise_fd_limit();
    let cfg = args.config();
    let progress = |line: &str| eprintln!("strata-loadgen: {line}");
    // On a signal the benchmark's future is dropped: its guards stop strata and remove the
    // work directory before this returns.
    let result = tokio::select! {
        r = run_scrape_bench(&cfg, &progress) => r,
        _ = shutdown_signal() => {
            eprintln!("strata-loadgen: interrupted; stopping strata");
            return ExitCode::from(EXIT_INTERRUPTED);
        }
    };
    let report = match result {
        Ok(r) => r,
        Err(e @ BenchError::Usage(_)) => {
            eprintln!("strata-loadgen: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("strata-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let text = if args.json {
            report.to_json() + "\n"
        } else {
            report.to_text()
        };
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    if report.samples_appended == 0 {
        eprintln!("strata-loadgen: strata appended no samples during the measurement");
        return ExitCode::FAILURE;
    }
    if report.scrapes_failed > 0 {
        eprintln!(
            "strata-loadgen: warning: {} of {} targets were not up at the end",
            report.scrapes_failed, report.setup.targets
        );
    }
    ExitCode::SUCCESS
}

async fn targets(cfg: strata::loadgen::TargetsConfig) -> ExitCode {
    raise_fd_limit();
    let running = match start_targets(&cfg, Clock::system()).await {
        Ok(r) => r,
        Err(e @ (LoadgenError::Config(_) | LoadgenError::Bind { .. })) => {
            eprintln!("strata-loadgen: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("strata-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        for (i, a) in running.addrs().iter().enumerate() {
            let _ = writeln!(out, "target {i} listening on {a}");
        }
        let _ = out.flush();
    }
    shutdown_signal().await;
    eprintln!("strata-loadgen: stopping");
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Each target holds a listening socket and its scrapers' connections: a thousand targets pass
/// the usual soft limit of 1024 descriptors, so raise it to the hard limit (as Go programs do).
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
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
}
