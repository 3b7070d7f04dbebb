//! Helpers shared by the integration tests: processes that are always
//! stopped, free ports, and small HTTP requests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process stopped (SIGTERM, then SIGKILL) when dropped, even when the test fails.
pub struct Proc {
    pub child: Child,
    pub addr: String,
    pub name: &'static str,
}

impl Proc {
    /// Sends SIGTERM and waits up to `grace` for the exit; then SIGKILL.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop(Duration::from_secs(10));
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether a program is installed (peers come from Debian packages).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts strata on a free port with these extra flags and waits for readiness.
pub fn strata(data: &Path, args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["--web.listen-address=127.0.0.1:0", "--log.format=logfmt"])
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strata starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if std::env::var_os("STRATA_TEST_LOG").is_some() {
                eprintln!("strata: {line}");
            }
            if !sent {
                if let Some(i) = line.find("address=") {
                    let a = line[i + 8..].split(' ').next().unwrap_or("").to_string();
                    let _ = tx.send(a);
                    sent = true;
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("strata logs its listen address");
    let p = Proc {
        child,
        addr,
        name: "strata",
    };
    wait_until(Duration::from_secs(60), "strata ready", || {
        get(&p.addr, "/-/ready").0 == 200
    });
    p
}

/// Starts a peer program listening on `addr`; waits until `ready_path` answers 200.
pub fn peer(name: &'static str, program: &str, args: &[String], addr: String, ready_path: &str) -> Proc {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    let p = Proc { child, addr, name };
    wait_until(Duration::from_secs(60), &format!("{name} ready"), || {
        try_get(&p.addr, ready_path).is_some_and(|(c, _)| c == 200)
    });
    p
}

/// Polls `f` every 50 ms until it is true; panics after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A minimal HTTP/1.1 request: (status, body), or None if the connection failed.
pub fn try_request(addr: &str, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf).to_string();
    let status = buf.get(9..12)?.parse().ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn try_get(addr: &str, path: &str) -> Option<(u16, String)> {
    try_request(addr, "GET", path)
}

pub fn get(addr: &str, path: &str) -> (u16, String) {
    try_get(addr, path).unwrap_or((0, String::new()))
}

/// GET and parse JSON; panics unless 200.
pub fn get_json(addr: &str, path: &str) -> serde_json::Value {
    let (code, body) = get(addr, path);
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}
