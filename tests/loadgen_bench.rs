//! `strata-loadgen scrape-bench` run for real, small and short, against the strata binary that
//! cargo built: it reports plausible figures, and it leaves no process or directory behind,
//! whether it finishes or is interrupted.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Proc;

/// Upper bound of one benchmark run here: start, targets up, 3 s warm-up, 5 s window, stop.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// Starts strata-loadgen with `args`; stdout is collected, stderr lines are forwarded.
fn loadgen(args: &[&str]) -> (Proc, mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata-loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strata-loadgen starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let _ = tx.send(line);
        }
    });
    let p = Proc {
        child,
        addr: String::new(),
        name: "strata-loadgen",
    };
    (p, rx, out)
}

/// Waits for the exit within `limit`; on timeout the guard stops the process and the test fails.
fn wait_exit(p: &mut Proc, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = p.child.try_wait().expect("try_wait") {
            return st;
        }
        assert!(
            Instant::now() < deadline,
            "strata-loadgen still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The strata PID and work directory from the "started strata (pid P) on A; work directory D" line.
fn started_line(line: &str) -> Option<(u32, String)> {
    let rest = line.split("started strata (pid ").nth(1)?;
    let (pid, rest) = rest.split_once(')')?;
    let dir = rest.split("; work directory ").nth(1)?;
    Some((pid.parse().ok()?, dir.to_string()))
}

fn is_running_strata(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.windows(6).any(|w| w == b"strata"))
}

#[test]
fn a_short_benchmark_reports_plausible_figures_and_cleans_up() {
    let (mut p, _lines, out) = loadgen(&[
        "scrape-bench",
        "--targets",
        "5",
        "--series",
        "100",
        "--interval",
        "1s",
        "--warmup",
        "3s",
        "--duration",
        "5s",
        "--json",
        "--strata-bin",
        env!("CARGO_BIN_EXE_strata"),
    ]);
    let status = wait_exit(&mut p, RUN_LIMIT);
    let stdout = out.join().expect("stdout reader");
    assert!(status.success(), "exit {status}; stdout: {stdout}");
    assert_eq!(stdout.trim_end().lines().count(), 1, "one JSON object: {stdout}");
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} is not a number in {r}"));

    assert_eq!(r["targets"], 5);
    assert_eq!(r["series_per_target"], 100);
    assert_eq!(
        (r["targets_up"].as_u64(), r["scrapes_failed"].as_u64()),
        (Some(5), Some(0))
    );
    assert!(f("duration_seconds") >= 5.0, "{r}");
    // Each scrape appends 100 scraped + 5 synthetic samples; 5 targets once a second.
    let expected = 5.0 * 105.0;
    let ingest = f("ingest_samples_per_second");
    assert!(
        ingest > expected * 0.25 && ingest < expected * 2.0,
        "ingest {ingest}/s, expected about {expected}/s"
    );
    assert_eq!(f("offered_samples_per_second"), 500.0);
    assert!(f("samples_appended") > 0.0);
    // 5 × 100 scraped series, plus each target's synthetic `up` and `scrape_*` series.
    let series = f("active_series");
    assert!((500.0..=550.0).contains(&series), "active series {series}");
    assert!(f("strata_cpu_seconds") > 0.0, "{r}");
    assert!(f("cpu_seconds_per_million_samples") > 0.0, "{r}");
    assert!(
        f("rss_mean_bytes") > 0.0 && f("rss_max_bytes") >= f("rss_mean_bytes"),
        "{r}"
    );
    assert!(
        f("rss_samples") >= 3.0,
        "an RSS sample every 2 s over 5 s, plus the first: {r}"
    );
    let per_series = f("rss_bytes_per_active_series");
    assert!((per_series - f("rss_max_bytes") / series).abs() < 1e-6, "{r}");
    assert!(f("loadgen_cpu_seconds") >= 0.0);
    assert_eq!(r["load_average_start"].as_array().map(Vec::len), Some(3));
    assert!(f("data_dir_bytes") > 0.0);

    // Nothing left behind: strata stopped, its directory removed.
    let pid = r["strata_pid"].as_u64().expect("strata_pid") as u32;
    assert!(!is_running_strata(pid), "strata {pid} still running");
    let dir = r["work_dir"].as_str().expect("work_dir");
    assert_eq!(r["work_dir_kept"], false);
    assert!(!Path::new(dir).exists(), "{dir} was not removed");
}

#[test]
fn sigint_during_warmup_stops_strata_and_removes_the_work_directory() {
    let (mut p, lines, _out) = loadgen(&[
        "scrape-bench",
        "--targets",
        "2",
        "--series",
        "10",
        "--interval",
        "1s",
        "--warmup",
        "10m",
        "--duration",
        "5s",
        "--strata-bin",
        env!("CARGO_BIN_EXE_strata"),
    ]);
    let deadline = Instant::now() + RUN_LIMIT;
    let mut started = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("progress lines until the warm-up");
        if let Some(s) = started_line(&line) {
            started = Some(s);
        }
        if line.contains("warming up") {
            break;
        }
    }
    let (pid, dir) = started.expect("a 'started strata' line before the warm-up");
    assert!(is_running_strata(pid));
    assert!(Path::new(&dir).join("strata.yml").is_file());

    // SAFETY: kill(2) on the PID of our own unreaped child.
    unsafe { libc::kill(p.child.id() as i32, libc::SIGINT) };
    let status = wait_exit(&mut p, Duration::from_secs(60));
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(!is_running_strata(pid), "strata {pid} still running");
    assert!(!Path::new(&dir).exists(), "{dir} was not removed");
}

#[test]
fn bad_flags_and_a_missing_strata_give_one_line_and_exit_code_2() {
    for args in [
        vec!["scrape-bench", "--targets", "0", "--series", "10"],
        vec!["scrape-bench", "--targets", "1"],
        vec!["scrape-bench", "--targets", "1", "--series", "1", "--interval", "0s"],
        vec!["scrape-bench", "--targets", "1", "--series", "1", "--duration", "5"],
        vec![
            "scrape-bench",
            "--targets",
            "1",
            "--series",
            "1",
            "--strata-bin",
            "/nonexistent/strata",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_strata-loadgen"))
            .args(&args)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("strata-loadgen: "), "{args:?}: {err}");
    }
}
