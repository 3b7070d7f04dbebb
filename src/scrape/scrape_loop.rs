//! One target's scrape loop: the timer (offset inside the interval, ticks,
//! timestamp alignment), the HTTP request (spec §2.3), the append of the
//! body, the synthetic series (§2.6), and end-of-run staleness (§2.8).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use reqwest::header::{HeaderValue, ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use strata_storage::{stale_nan, Appender, Db, Labels, SeriesRef};
use tokio::sync::watch;

use super::append::{AppendReport, TargetAppender};
use crate::exposition::Format;
use crate::http_client::HttpClient;

/// How the loop should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Keep running.
    Run,
    /// The target went away: write staleness markers for its series.
    Removed,
    /// Shutdown or a restart with new settings: end without markers.
    Quiet,
}

/// What a loop needs to scrape its target.
#[derive(Clone)]
pub struct LoopSettings {
    /// Full scrape URL.
    pub url: String,
    /// Scrape interval.
    pub interval: Duration,
    /// Scrape timeout (≤ interval).
    pub timeout: Duration,
    /// `Accept` header value.
    pub accept: HeaderValue,
    /// `enable_compression`.
    pub compression: bool,
    /// `body_size_limit` in bytes after decompression (0 = none).
    pub body_size_limit: u64,
    /// Parser for responses whose Content-Type names no known format.
    pub fallback: Option<Format>,
    /// Synthetic series' labels: the target labels.
    pub target_labels: Vec<(String, String)>,
    /// Offset of this target's scrapes inside the interval.
    pub offset: Duration,
    /// Set when the pool has more targets than `target_limit`: every scrape fails with it.
    pub forced_error: Option<String>,
}

/// Health of a target as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// Last scrape succeeded.
    Up,
    /// Last scrape failed.
    Down,
}

impl Health {
    /// `"up"`, `"down"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of the latest scrape, shared with the API.
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    /// Health.
    pub health: Health,
    /// Error of the last scrape, empty on success.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long it took.
    pub last_scrape_duration: Duration,
    /// Samples it appended.
    pub last_samples: u64,
}

/// The loop's shared parts: state for the API, the appender (cache and
/// metadata) that a restarted loop takes over.
pub struct LoopShared {
    /// State for the API.
    pub state: Mutex<TargetState>,
    /// The target's appender.
    pub appender: Mutex<TargetAppender>,
}

const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// The five synthetic series of a target.
struct Report {
    labels: Vec<Labels>,
    refs: Option<[SeriesRef; 5]>,
}

impl Report {
    fn new(target_labels: &[(String, String)]) -> Report {
        let labels = REPORT_NAMES
            .iter()
            .map(|name| {
                let pairs = target_labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .filter(|(n, _)| *n != "__name__")
                    .chain([("__name__", *name)]);
                Labels::new(pairs).unwrap_or_default()
            })
            .collect();
        Report { labels, refs: None }
    }

    fn refs(&mut self, app: &mut Appender) -> [SeriesRef; 5] {
        *self.refs.get_or_insert_with(|| {
            let mut out = [SeriesRef(0); 5];
            for (o, l) in out.iter_mut().zip(&self.labels) {
                *o = app.series_ref(l);
            }
            out
        })
    }

    fn append(&mut self, app: &mut Appender, t: i64, values: [f64; 5]) {
        let refs = self.refs(app);
        for (r, v) in refs.into_iter().zip(values) {
            // Refused only if a newer sample exists; nothing to do then.
            let _ = app.append(r, t, v);
        }
    }
}

/// The loop of one target.
pub struct ScrapeLoop {
    /// Settings.
    pub settings: LoopSettings,
    /// Shared parts.
    pub shared: Arc<LoopShared>,
    /// HTTP client of the pool.
    pub client: HttpClient,
    /// Storage.
    pub db: Arc<Db>,
    /// Stop signal.
    pub stop: watch::Receiver<Stop>,
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Delay from `now` until the next instant whose offset inside the interval
/// is `offset` (spec §2.5).
pub fn initial_delay(now: SystemTime, interval: Duration, offset: Duration) -> Duration {
    let iv = interval.as_nanos().max(1);
    let now_ns = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let base = now_ns - now_ns % iv;
    let mut next = base + offset.as_nanos() % iv;
    if next < now_ns {
        next += iv;
    }
    Duration::from_nanos((next - now_ns) as u64)
}

/// Body and format of a successful HTTP exchange, or why it failed.
async fn fetch(client: &HttpClient, s: &LoopSettings, raw: &mut Vec<u8>, buf: &mut Vec<u8>) -> Result<Format, String> {
    let timeout_secs = s.timeout.as_secs_f64();
    let req = client
        .get(&s.url)?
        .header(ACCEPT, s.accept.clone())
        .header(
            ACCEPT_ENCODING,
            HeaderValue::from_static(if s.compression { "gzip" } else { "identity" }),
        )
        .header("X-Prometheus-Scrape-Timeout-Seconds", format_seconds(timeout_secs))
        .timeout(s.timeout);
    let mut resp = req.send().await.map_err(|e| describe(&e))?;
    if resp.status() != reqwest::StatusCode::OK {
        return Err(format!("server returned HTTP status {}", resp.status()));
    }
    let ct = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let format = match Format::from_content_type(&ct).or(s.fallback) {
        Some(f) => f,
        None if ct.is_empty() => {
            return Err("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".to_string())
        }
        None => {
            return Err(format!(
                "received unsupported Content-Type {ct:?} and no fallback_scrape_protocol specified for target"
            ))
        }
    };
    let gzip = resp
        .headers()
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let limit = s.body_size_limit;
    buf.clear();
    if gzip {
        raw.clear();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            raw.extend_from_slice(&chunk);
            if limit > 0 && raw.len() as u64 >= limit {
                return Err("body size limit exceeded".to_string());
            }
        }
        gunzip(raw, buf, limit)?;
    } else {
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            buf.extend_from_slice(&chunk);
            if limit > 0 && buf.len() as u64 >= limit {
                return Err("body size limit exceeded".to_string());
            }
        }
    }
    Ok(format)
}

/// Decompresses a gzip body (all members) into `out`, failing once it
/// reaches `limit` bytes (0 = none). Writes straight into `out`'s spare
/// capacity: no intermediate buffer, no zero-filling.
pub fn gunzip(input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<(), String> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new_gzip(15);
    let mut rest = input;
    out.reserve(input.len().saturating_mul(4).max(4096));
    loop {
        let (before_in, before_out) = (d.total_in(), out.len());
        let st = d
            .decompress_vec(rest, out, FlushDecompress::None)
            .map_err(|e| format!("decompressing the gzip body: {e}"))?;
        let used = (d.total_in() - before_in) as usize;
        rest = &rest[used..];
        if limit > 0 && out.len() as u64 >= limit {
            return Err("body size limit exceeded".to_string());
        }
        match st {
            Status::StreamEnd => {
                // Another gzip member may follow (concatenated streams).
                if rest.iter().all(|&b| b == 0) {
                    return Ok(());
                }
                d = Decompress::new_gzip(15);
            }
            _ if out.len() == out.capacity() => out.reserve(out.capacity().max(4096)),
            _ if used == 0 && out.len() == before_out => {
                return Err("decompressing the gzip body: unexpected end of data".to_string())
            }
            _ => {}
        }
    }
}

/// A reqwest error with its causes, as one line.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "context deadline exceeded (scrape timeout)".to_string();
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// Seconds as Go's `strconv.FormatFloat(f, 'f', -1, 64)`: `10`, `1.5`.
pub fn format_seconds(s: f64) -> String {
    let mut out = format!("{s}");
    if out.ends_with(".0") {
        out.truncate(out.len() - 2);
    }
    out
}

/// Bodies bigger than this are parsed on a blocking-capable thread.
const BLOCKING_BODY: usize = 1 << 20;

impl ScrapeLoop {
    /// Runs until stopped. Quiet stops end at once; `Removed` waits until the
    /// next scrape would have been, plus an interval and 10%, then marks every
    /// series of the target stale at the missed scrape's time.
    pub async fn run(mut self) {
        let s = self.settings.clone();
        let mut report = Report::new(&s.target_labels);
        let mut buf: Vec<u8> = Vec::new();
        let mut raw: Vec<u8> = Vec::new();
        let start = tokio::time::Instant::now() + initial_delay(SystemTime::now(), s.interval, s.offset);
        let mut ticker = tokio::time::interval_at(start, s.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_t: Option<i64> = None;
        let stop = loop {
            tokio::select! {
                _ = ticker.tick() => {}
                r = self.stop.changed() => {
                    let v = if r.is_err() { Stop::Quiet } else { *self.stop.borrow() };
                    if v != Stop::Run { break v; }
                    continue;
                }
            }
            let started = Instant::now();
            let wall = SystemTime::now();
            let t = align(unix_ms(wall), last_t, s.interval);
            last_t = Some(t);
            let fetched = match &s.forced_error {
                Some(e) => Err(e.clone()),
                None => fetch(&self.client, &s, &mut raw, &mut buf).await,
            };
            let (rep, err) = match fetched {
                Ok(format) => {
                    let multi = tokio::runtime::Handle::current().runtime_flavor()
                        == tokio::runtime::RuntimeFlavor::MultiThread;
                    let rep = if buf.len() > BLOCKING_BODY && multi {
                        tokio::task::block_in_place(|| self.append_body(format, &buf, t, &mut report, started))
                    } else {
                        self.append_body(format, &buf, t, &mut report, started)
                    };
                    let e = rep.error.clone();
                    (rep, e)
                }
                Err(e) => {
                    let rep = self.append_failure(t, &mut report, started);
                    (rep, Some(e))
                }
            };
            // Keep the buffers for the next scrape unless one outsized body grew them.
            if buf.capacity() > 4 * buf.len().max(1 << 16) {
                buf = Vec::new();
            }
            if raw.capacity() > 4 * raw.len().max(1 << 16) {
                raw = Vec::new();
            }
            let mut st = self.shared.state.lock();
            st.health = if err.is_none() { Health::Up } else { Health::Down };
            st.last_error = err.unwrap_or_default();
            st.last_scrape = Some(wall);
            st.last_scrape_duration = started.elapsed();
            st.last_samples = rep.appended;
        };
        if stop == Stop::Removed {
            self.end_of_run(&mut report, last_t, s.interval).await;
        }
    }

    /// Appends a body and the report in one commit; on an append error,
    /// rolls back and writes markers and the failed report instead.
    fn append_body(&self, format: Format, body: &[u8], t: i64, report: &mut Report, started: Instant) -> AppendReport {
        let now = unix_ms(SystemTime::now());
        let mut ta = self.shared.appender.lock();
        let mut app = self.db.appender();
        let rep = ta.append(&mut app, format, body, t, now);
        if rep.error.is_some() {
            app.rollback();
            let mut app = self.db.appender();
            ta.append_failed(&mut app, t);
            report.append(&mut app, t, report_values(false, started, &rep));
            commit(app);
        } else {
            report.append(&mut app, t, report_values(true, started, &rep));
            commit(app);
        }
        rep
    }

    fn append_failure(&self, t: i64, report: &mut Report, started: Instant) -> AppendReport {
        let mut ta = self.shared.appender.lock();
        let mut app = self.db.appender();
        let stale_markers = ta.append_failed(&mut app, t);
        let rep = AppendReport {
            stale_markers,
            ..AppendReport::default()
        };
        report.append(&mut app, t, report_values(false, started, &rep));
        commit(app);
        rep
    }

    async fn end_of_run(&mut self, report: &mut Report, last_t: Option<i64>, interval: Duration) {
        let Some(last) = last_t else { return };
        let iv = interval.as_millis() as i64;
        // The first missed scrape, then one more interval and 10%.
        let stale_t = last + iv;
        let wait_until = stale_t + iv + iv / 10;
        let now = unix_ms(SystemTime::now());
        if wait_until > now {
            tokio::time::sleep(Duration::from_millis((wait_until - now) as u64)).await;
        }
        let ta = self.shared.appender.lock();
        let mut app = self.db.appender();
        for r in ta.live_series() {
            let _ = app.append(r, stale_t, stale_nan());
        }
        let refs = report.refs(&mut app);
        for r in refs {
            let _ = app.append(r, stale_t, stale_nan());
        }
        commit(app);
    }
}

fn commit(app: Appender) {
    if let Err(e) = app.commit() {
        tracing::error!(error = %e, "committing scraped samples");
    }
}

fn report_values(up: bool, started: Instant, r: &AppendReport) -> [f64; 5] {
    [
        if up { 1.0 } else { 0.0 },
        started.elapsed().as_secs_f64(),
        r.scraped as f64,
        r.post_relabel as f64,
        r.series_added as f64,
    ]
}

/// Snaps `t` to the previous append time plus the interval when within the
/// tolerance (`min(interval/100, 2 ms)`), so timestamps stay exact multiples
/// and compress to one bit (spec §2.5).
pub fn align(t: i64, last: Option<i64>, interval: Duration) -> i64 {
    let Some(last) = last else { return t };
    let iv = interval.as_millis() as i64;
    let tolerance = (iv / 100).min(2);
    let ideal = last + iv;
    if (t - ideal).abs() <= tolerance {
        ideal
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_snap_to_the_grid_within_two_milliseconds() {
        let iv = Duration::from_secs(15);
        assert_eq!(align(1_000, None, iv), 1_000);
        assert_eq!(align(16_002, Some(1_000), iv), 16_000);
        assert_eq!(align(15_998, Some(1_000), iv), 16_000);
        assert_eq!(align(16_003, Some(1_000), iv), 16_003);
        // A 100 ms interval tolerates 1 ms.
        assert_eq!(align(1_102, Some(1_000), Duration::from_millis(100)), 1_102);
        assert_eq!(align(1_101, Some(1_000), Duration::from_millis(100)), 1_100);
    }

    #[test]
    fn the_first_scrape_lands_on_the_targets_offset() {
        let iv = Duration::from_secs(10);
        let now = UNIX_EPOCH + Duration::from_millis(1_000_003_500);
        let d = initial_delay(now, iv, Duration::from_millis(7_000));
        assert_eq!(d, Duration::from_millis(3_500));
        let d = initial_delay(now, iv, Duration::from_millis(1_000));
        assert_eq!(d, Duration::from_millis(7_500));
        assert_eq!(initial_delay(now, iv, Duration::from_millis(3_500)), Duration::ZERO);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_bodies_inflate_whole_and_respect_the_limit() {
        let body: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("m{{i=\"{i}\"}} {i}\n").into_bytes())
            .collect();
        let z = gzip(&body);
        let mut out = Vec::new();
        gunzip(&z, &mut out, 0).unwrap();
        assert_eq!(out, body);
        // Two members, as some servers send.
        let mut two = gzip(b"a 1\n");
        two.extend(gzip(b"b 2\n"));
        out.clear();
        gunzip(&two, &mut out, 0).unwrap();
        assert_eq!(out, b"a 1\nb 2\n");
        out.clear();
        assert_eq!(gunzip(&z, &mut out, 1000).unwrap_err(), "body size limit exceeded");
        out.clear();
        assert!(gunzip(&z[..z.len() / 2], &mut out, 0).is_err());
        out.clear();
        assert!(gunzip(b"not gzip", &mut out, 0).is_err());
    }

    #[test]
    fn timeout_header_is_the_shortest_decimal() {
        assert_eq!(format_seconds(10.0), "10");
        assert_eq!(format_seconds(1.5), "1.5");
        assert_eq!(format_seconds(0.25), "0.25");
    }
}
