//! The strata binary as an operator starts it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A strata process, killed when dropped (even when the test fails).
struct Strata {
    child: Child,
    addr: String,
}

impl Drop for Strata {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_strata"))
}

/// Starts strata on a free port of 127.0.0.1 and waits for its "listening" line.
fn start(args: &[&str]) -> Strata {
    let mut child = strata()
        .args(["--web.listen-address=127.0.0.1:0", "--log.format=logfmt"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strata starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("address=") {
                let a = line[i + 8..].split(' ').next().unwrap_or("").to_string();
                let _ = tx.send(a);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("strata logs its listen address");
    Strata { child, addr }
}

/// A minimal HTTP/1.1 GET: (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf[9..12].parse().unwrap();
    let body = buf.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default();
    (status, body)
}

fn wait_ready(s: &Strata) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&s.addr, "/-/ready").0 != 200 {
        assert!(Instant::now() < deadline, "strata not ready within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serves_health_readiness_and_its_own_metrics_on_the_default_config() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&[&format!("--storage.tsdb.path={}", dir.path().display())]);
    let (code, body) = get(&s.addr, "/-/healthy");
    assert_eq!(code, 200);
    assert!(body.contains("Healthy"), "{body}");
    wait_ready(&s);
    let (code, body) = get(&s.addr, "/metrics");
    assert_eq!(code, 200);
    for family in [
        "process_resident_memory_bytes",
        "strata_build_info",
        "strata_jemalloc_allocated_bytes",
        "strata_tsdb_head_series",
        "strata_tsdb_wal_bytes",
        "strata_tsdb_block_store_bytes",
        "strata_tsdb_index_series",
    ] {
        assert!(
            body.contains(&format!("\n{family}")),
            "/metrics lacks {family}:\n{body}"
        );
    }
    assert!(body.contains("strata_ready 1"), "{body}");
    assert!(dir.path().join("FORMAT").exists());
    assert!(dir.path().join("wal").is_dir() && dir.path().join("blocks").is_dir());
}

#[test]
fn sigterm_stops_strata_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(&[&format!("--storage.tsdb.path={}", dir.path().display())]);
    wait_ready(&s);
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "strata did not stop within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs strata to completion and returns (exit code, stderr).
fn run(args: &[&str]) -> (i32, String) {
    let out = strata().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_flag_is_one_clear_line_and_exit_code_2() {
    let (code, err) = run(&["--storage.tsdb.pth=/tmp/x"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--storage.tsdb.pth"), "{err}");
}

#[test]
fn a_bad_flag_value_is_one_clear_line_and_exit_code_2() {
    let (code, err) = run(&["--storage.tsdb.retention.time=1.5h"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("1.5h"), "{err}");
}

#[test]
fn an_unusable_data_dir_is_one_clear_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let (code, err) = run(&[
        "--web.listen-address=127.0.0.1:0",
        "--log.level=error",
        &format!("--storage.tsdb.path={}", file.display()),
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("a-file"), "{err}");
}

#[test]
fn a_data_dir_from_a_newer_strata_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("FORMAT"), "strata-tsdb 7\n").unwrap();
    let (code, err) = run(&[
        "--web.listen-address=127.0.0.1:0",
        "--log.level=error",
        &format!("--storage.tsdb.path={}", dir.path().display()),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("format version 7") && err.contains("up to version 1"),
        "{err}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let out = strata()
        .args([
            "--web.listen-address=127.0.0.1:0",
            "--log.format=json",
            "--storage.tsdb.path=/proc/none",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap();
    assert!(first.starts_with('{') && first.contains("\"level\":\"INFO\""), "{err}");
}

#[test]
fn a_broken_config_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("strata.yml");
    std::fs::write(&cfg, "global: [\n").unwrap();
    let (code, err) = run(&[&format!("--config.file={}", cfg.display())]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("strata.yml"), "{err}");
}
