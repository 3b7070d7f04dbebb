//! strata-loadgen's simulated targets as a scraper sees them: over real HTTP, checked by
//! Debian's promtool, through gzip, with churn over simulated minutes, and as a process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use strata::loadgen::{start_targets, Clock, Layout, Target, TargetsConfig, TEXT_CONTENT_TYPE};

const PROMTOOL: &str = "/usr/bin/promtool";

fn config(targets: u32, series: u32, churn: f64) -> TargetsConfig {
    TargetsConfig {
        targets,
        series,
        listen: IpAddr::from([127, 0, 0, 1]),
        base_port: 0,
        churn_pct_per_min: churn,
        seed: 7,
    }
}

/// A body taken apart: family types and the samples in order (series text → value).
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<(String, f64)>,
}

impl Exposition {
    fn parse(body: &str) -> Exposition {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE line has a name and a type");
                types.insert(name.to_string(), kind.to_string());
            } else if line.starts_with('#') || line.is_empty() {
                continue;
            } else {
                let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
                let v = match value {
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
                };
                samples.push((series.to_string(), v));
            }
        }
        Exposition { types, samples }
    }

    /// The family type a sample belongs to (`_bucket`/`_sum`/`_count` map to their family).
    fn type_of(&self, series: &str) -> &str {
        let name = metric_name(series);
        if let Some(t) = self.types.get(name) {
            return t;
        }
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(t) = self.types.get(base) {
                    return t;
                }
            }
        }
        panic!("sample {series} has no TYPE")
    }

    fn values(&self) -> HashMap<&str, f64> {
        self.samples.iter().map(|(s, v)| (s.as_str(), *v)).collect()
    }
}

fn metric_name(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// Labels of a series, with escapes decoded.
fn labels(series: &str) -> Vec<(String, String)> {
    let Some(start) = series.find('{') else {
        return Vec::new();
    };
    let block = &series[start + 1..series.len() - 1];
    let mut out = Vec::new();
    let mut chars = block.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "quoted value in {series}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().expect("escape")),
                '"' => break,
                c => value.push(c),
            }
        }
        if chars.peek() == Some(&',') {
            chars.next();
        }
        out.push((name.trim_start_matches(',').to_string(), value));
    }
    out
}

/// Runs `promtool check metrics` on the body; None when promtool is not installed.
fn promtool_check(body: &str) -> Option<(bool, String)> {
    if !std::path::Path::new(PROMTOOL).exists() {
        println!("notice: {PROMTOOL} is missing; skipping promtool validation");
        return None;
    }
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

fn assert_promtool_accepts(body: &str, what: &str) {
    if let Some((ok, text)) = promtool_check(body) {
        assert!(ok, "promtool check metrics rejected {what}:\n{text}");
    }
}

/// A histogram's identity: its family name and its labels other than `le`.
type HistogramKey = (String, Vec<(String, String)>);

/// Histograms: buckets cumulative in `le` order, `+Inf` equal to `_count`.
fn assert_histograms_are_consistent(e: &Exposition) {
    let mut buckets: BTreeMap<HistogramKey, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts = HashMap::new();
    for (s, v) in &e.samples {
        if e.type_of(s) != "histogram" {
            continue;
        }
        let name = metric_name(s);
        let mut ls = labels(s);
        if let Some(base) = name.strip_suffix("_bucket") {
            let i = ls.iter().position(|(k, _)| k == "le").expect("bucket has le");
            let le = match ls.remove(i).1.as_str() {
                "+Inf" => f64::INFINITY,
                x => x.parse().expect("numeric le"),
            };
            buckets.entry((base.to_string(), ls)).or_default().push((le, *v));
        } else if let Some(base) = name.strip_suffix("_count") {
            counts.insert((base.to_string(), ls), *v);
        }
    }
    assert!(!buckets.is_empty(), "a histogram is exposed");
    for (key, mut bs) in buckets {
        bs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in bs.windows(2) {
            assert!(
                w[0].1 <= w[1].1,
                "{key:?}: bucket le={} has {} > next {}",
                w[0].0,
                w[0].1,
                w[1].1
            );
        }
        let last = bs.last().expect("buckets");
        assert_eq!(last.0, f64::INFINITY, "{key:?} ends with +Inf");
        assert_eq!(Some(&last.1), counts.get(&key), "{key:?}: +Inf bucket vs _count");
    }
}

/// The same client strata scrapes with (TLS on the ring provider, no compression of its own).
fn client() -> reqwest::Client {
    strata::http_client::build_client(&Default::default(), Duration::from_secs(30)).expect("client builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_serve_valid_metrics_whose_values_move_between_scrapes() {
    let clock = Clock::manual();
    let running = start_targets(&config(3, 200, 0.0), clock.clone())
        .await
        .expect("targets start");
    assert_eq!(running.addrs().len(), 3);
    let http = client();
    let mut first_bodies = Vec::new();
    for addr in running.addrs() {
        let url = format!("http://{addr}/metrics");
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let resp = http.get(&url).send().await.expect("scrape");
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], TEXT_CONTENT_TYPE);
            assert!(resp.headers().get("content-encoding").is_none(), "no gzip unless asked");
            bodies.push(resp.text().await.expect("body"));
            clock.advance(Duration::from_secs(10));
        }
        for (i, b) in bodies.iter().enumerate() {
            assert_promtool_accepts(b, &format!("{url} scrape {i}"));
        }
        let (a, b) = (Exposition::parse(&bodies[0]), Exposition::parse(&bodies[1]));
        assert_eq!(a.samples.len(), 200, "series of {url}");
        assert_eq!(b.samples.len(), 200, "series of {url}");
        assert_histograms_are_consistent(&a);
        assert_histograms_are_consistent(&b);
        let before = a.values();
        let (mut gauges, mut moved) = (0, 0);
        for (s, v) in &b.samples {
            let old = *before
                .get(s.as_str())
                .unwrap_or_else(|| panic!("{s} vanished without churn"));
            match b.type_of(s) {
                "counter" | "histogram" => assert!(*v >= old, "{s} went from {old} to {v}"),
                "summary" if s.contains("_count") || s.contains("_sum") => {
                    assert!(*v >= old, "{s} went from {old} to {v}")
                }
                "gauge" => {
                    gauges += 1;
                    if *v != old {
                        moved += 1;
                    }
                }
                _ => {}
            }
        }
        // Some gauges are constants by design (sizes, info metrics); most walk.
        assert!(moved * 2 > gauges, "only {moved} of {gauges} gauges moved");
        assert!(a
            .samples
            .iter()
            .any(|(s, v)| s.starts_with("node_cpu_seconds_total") && v.fract() != 0.0));
        first_bodies.push(bodies.swap_remove(0));
    }
    assert_ne!(first_bodies[0], first_bodies[1], "targets differ from each other");
    assert_ne!(first_bodies[1], first_bodies[2], "targets differ from each other");
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_gzipped_only_when_the_request_accepts_gzip() {
    let running = start_targets(&config(1, 200, 0.0), Clock::manual())
        .await
        .expect("targets start");
    let url = format!("http://{}/metrics", running.addrs()[0]);
    let http = client();
    let resp = http
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.headers()["content-type"], TEXT_CONTENT_TYPE);
    assert_eq!(resp.headers()["vary"], "Accept-Encoding");
    let packed = resp.bytes().await.expect("body");
    let mut body = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut body)
        .expect("valid gzip");
    assert!(
        packed.len() * 3 < body.len(),
        "gzip shrinks {} bytes to {}",
        body.len(),
        packed.len()
    );
    assert_eq!(Exposition::parse(&body).samples.len(), 200);
    assert_promtool_accepts(&body, "the gunzipped body");

    let resp = http
        .get(&url)
        .header("Accept-Encoding", "gzip;q=0, identity")
        .send()
        .await
        .expect("scrape");
    assert!(resp.headers().get("content-encoding").is_none());
    let plain = resp.text().await.expect("body");
    assert!(plain.starts_with("# HELP "), "{}", &plain[..40.min(plain.len())]);
    running.shutdown().await.expect("clean shutdown");
}

/// Share of `after`'s series that `before` did not have.
fn replaced_share(before: &str, after: &str) -> f64 {
    let old: HashSet<String> = Exposition::parse(before).samples.into_iter().map(|(s, _)| s).collect();
    let new = Exposition::parse(after).samples;
    let fresh = new.iter().filter(|(s, _)| !old.contains(s)).count();
    fresh as f64 / new.len() as f64
}

fn scrape_at(t: &mut Target, secs: u64) -> String {
    let mut out = Vec::new();
    t.scrape(Duration::from_secs(secs), &mut out);
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn churn_replaces_the_configured_share_of_series_per_minute_smoothly() {
    let layout = Arc::new(Layout::node_like(1000));
    for (pct, index) in [(20.0, 0), (20.0, 1), (50.0, 2)] {
        let mut t = Target::new(layout.clone(), 7, index, pct);
        let start = scrape_at(&mut t, 0);
        let mut prev = start.clone();
        let mut last = String::new();
        for step in 1..=6 {
            last = scrape_at(&mut t, step * 10);
            let share = replaced_share(&prev, &last);
            let per_step = pct / 100.0 / 6.0;
            assert!(
                share > per_step * 0.3 && share < per_step * 2.0 + 0.015,
                "{pct}%/min, target {index}, seconds {}..{}: replaced {share:.4}, expected about {per_step:.4}",
                (step - 1) * 10,
                step * 10
            );
            prev = last.clone();
        }
        let minute = replaced_share(&start, &last);
        let want = pct / 100.0;
        assert!(
            (minute - want).abs() < 0.04,
            "{pct}%/min, target {index}: replaced {minute:.4} of series in a minute"
        );
        assert_promtool_accepts(&last, "a churned body");
    }
}

#[test]
fn without_churn_the_series_never_change() {
    let mut t = Target::new(Arc::new(Layout::node_like(500)), 7, 0, 0.0);
    let a = scrape_at(&mut t, 0);
    let b = scrape_at(&mut t, 3600);
    assert_eq!(replaced_share(&a, &b), 0.0);
    assert!(!a.contains("pod="), "no churn label without churn");
}

#[test]
fn replaced_series_start_over_as_new_series_would() {
    let mut t = Target::new(Arc::new(Layout::node_like(1000)), 7, 0, 100.0);
    let a = Exposition::parse(&scrape_at(&mut t, 0));
    let b = Exposition::parse(&scrape_at(&mut t, 30));
    let big_before = a
        .samples
        .iter()
        .filter(|(s, v)| s.starts_with("node_disk_written_bytes_total") && *v > 1e9);
    assert!(big_before.count() > 0, "established counters are large");
    let old: HashSet<&str> = a.samples.iter().map(|(s, _)| s.as_str()).collect();
    let reborn: Vec<f64> = b
        .samples
        .iter()
        .filter(|(s, _)| s.starts_with("node_disk_written_bytes_total") && !old.contains(s.as_str()))
        .map(|(_, v)| *v)
        .collect();
    assert!(!reborn.is_empty(), "some disks churned in half a minute at 100%/min");
    for v in reborn {
        assert!(v < 1e8, "a replaced counter restarts small, got {v}");
    }
    assert_histograms_are_consistent(&b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_follows_the_injected_clock_over_http() {
    let clock = Clock::manual();
    let running = start_targets(&config(1, 400, 30.0), clock.clone())
        .await
        .expect("targets start");
    let url = format!("http://{}/metrics", running.addrs()[0]);
    let http = client();
    let a = http.get(&url).send().await.expect("scrape").text().await.expect("body");
    let same = http.get(&url).send().await.expect("scrape").text().await.expect("body");
    assert_eq!(replaced_share(&a, &same), 0.0, "no time passed, no churn");
    clock.advance(Duration::from_secs(60));
    let b = http.get(&url).send().await.expect("scrape").text().await.expect("body");
    let share = replaced_share(&a, &b);
    assert!(
        (share - 0.30).abs() < 0.06,
        "replaced {share:.3} in a simulated minute at 30%/min"
    );
    running.shutdown().await.expect("clean shutdown");
}

#[test]
fn the_binary_prints_its_ports_serves_and_stops_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata-loadgen"))
        .args([
            "targets",
            "--targets",
            "2",
            "--series",
            "50",
            "--base-port",
            "0",
            "--listen",
            "127.0.0.1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strata-loadgen starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut addrs = Vec::new();
    for i in 0..2 {
        let line = lines.next().expect("a line per target").expect("utf-8");
        let addr = line
            .strip_prefix(&format!("target {i} listening on "))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .to_string();
        addrs.push(addr);
    }
    for addr in &addrs {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("response");
        assert!(
            resp.starts_with("HTTP/1.1 200"),
            "{}",
            resp.lines().next().unwrap_or("")
        );
        let body = resp.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        assert_eq!(Exposition::parse(body).samples.len(), 50);
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("exits");
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[test]
fn bad_flags_give_one_line_and_exit_code_2() {
    for args in [
        vec!["targets", "--targets", "0", "--series", "10"],
        vec!["targets", "--targets", "1"],
        vec!["targets", "--targets", "1", "--series", "10", "--churn", "-1"],
        vec!["targets", "--targets", "3", "--series", "10", "--base-port", "65534"],
        vec!["nonsense"],
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
