//! Serving simulated targets over HTTP: one listener per target, all on one runtime.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::gzip::{accepts_gzip, GzipEncoder};
use super::layout::Layout;
use super::target::Target;
use super::LoadgenError;

/// The Content-Type of every body: Prometheus text 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `strata-loadgen targets` serves.
#[derive(Debug, Clone)]
pub struct TargetsConfig {
    /// Number of targets, each on its own port.
    pub targets: u32,
    /// Sample lines per target.
    pub series: u32,
    /// Address every target listens on.
    pub listen: IpAddr,
    /// Target `i` listens on `base_port + i`; 0 gives every target an ephemeral port.
    pub base_port: u16,
    /// Percentage of each target's series replaced per minute (0: no churn).
    pub churn_pct_per_min: f64,
    /// Fixes every value of the run.
    pub seed: u64,
}

impl TargetsConfig {
    /// Checks the numbers before anything binds.
    pub fn validate(&self) -> Result<(), LoadgenError> {
        if self.targets == 0 {
            return Err(LoadgenError::Config("--targets must be at least 1".into()));
        }
        if self.series == 0 {
            return Err(LoadgenError::Config("--series must be at least 1".into()));
        }
        if !self.churn_pct_per_min.is_finite() || self.churn_pct_per_min < 0.0 {
            return Err(LoadgenError::Config(format!(
                "--churn must be a percentage per minute of 0 or more, got {}",
                self.churn_pct_per_min
            )));
        }
        if self.base_port != 0 && u32::from(self.base_port) + self.targets - 1 > u32::from(u16::MAX) {
            return Err(LoadgenError::Config(format!(
                "--base-port {} with --targets {} needs ports past 65535",
                self.base_port, self.targets
            )));
        }
        Ok(())
    }
}

/// Targets being served. Dropping it also stops them.
#[derive(Debug)]
pub struct RunningTargets {
    addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl RunningTargets {
    /// Where each target listens, in target order.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops accepting, lets requests in flight finish, and waits for every listener to close.
    pub async fn shutdown(self) -> Result<(), LoadgenError> {
        let _ = self.stop.send(true);
        let mut first_err = None;
        for s in self.servers {
            let r = match s.await {
                Ok(r) => r.map_err(LoadgenError::Serve),
                Err(e) => Err(LoadgenError::Serve(std::io::Error::other(e))),
            };
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

struct Served {
    target: Mutex<Target>,
    clock: Clock,
}

/// Binds every target's port and starts serving `GET /metrics` on the current runtime.
pub async fn start_targets(cfg: &TargetsConfig, clock: Clock) -> Result<RunningTargets, LoadgenError> {
    cfg.validate()?;
    let layout = Arc::new(Layout::node_like(cfg.series as usize));
    let (stop, stopped) = watch::channel(false);
    let mut listeners = Vec::with_capacity(cfg.targets as usize);
    let mut addrs = Vec::with_capacity(cfg.targets as usize);
    for i in 0..cfg.targets {
        let port = if cfg.base_port == 0 {
            0
        } else {
            // validate() keeps this within u16.
            (u32::from(cfg.base_port) + i) as u16
        };
        let addr = SocketAddr::new(cfg.listen, port);
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| LoadgenError::Bind {
                target: i,
                addr,
                source,
            })?;
        let bound = l.local_addr().map_err(|source| LoadgenError::Bind {
            target: i,
            addr,
            source,
        })?;
        listeners.push(l);
        addrs.push(bound);
    }
    let mut servers = Vec::with_capacity(listeners.len());
    for (i, l) in listeners.into_iter().enumerate() {
        let served = Arc::new(Served {
            target: Mutex::new(Target::new(layout.clone(), cfg.seed, i as u32, cfg.churn_pct_per_min)),
            clock: clock.clone(),
        });
        let app = Router::new().route("/metrics", get(metrics)).with_state(served);
        let mut stopped = stopped.clone();
        servers.push(tokio::spawn(async move {
            axum::serve(l, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        }));
    }
    Ok(RunningTargets { addrs, stop, servers })
}

thread_local! {
    /// Render and gzip buffers of this worker thread: reused by every target it serves, so a
    /// scrape allocates only its response body.
    static BUFFERS: RefCell<(Vec<u8>, Vec<u8>, GzipEncoder)> = RefCell::new((Vec::new(), Vec::new(), GzipEncoder::new()));
}

async fn metrics(State(served): State<Arc<Served>>, headers: HeaderMap) -> Response {
    let gzip = accepts_gzip(headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
    let body = BUFFERS.with(|b| {
        let (plain, packed, encoder) = &mut *b.borrow_mut();
        plain.clear();
        served.target.lock().scrape(served.clock.elapsed(), plain);
        if !gzip {
            return Ok(Bytes::copy_from_slice(plain));
        }
        encoder.encode(plain, packed).map(|()| Bytes::copy_from_slice(packed))
    });
    let body = match body {
        Ok(b) => b,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("gzip failed: {e}\n")).into_response(),
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_CONTENT_TYPE));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(targets: u32, base_port: u16) -> TargetsConfig {
        TargetsConfig {
            targets,
            series: 10,
            listen: IpAddr::from([127, 0, 0, 1]),
            base_port,
            churn_pct_per_min: 0.0,
            seed: 1,
        }
    }

    #[test]
    fn port_ranges_past_65535_and_empty_runs_are_refused() {
        assert!(cfg(1, 65535).validate().is_ok());
        let e = cfg(2, 65535).validate().unwrap_err().to_string();
        assert!(e.contains("65535"), "{e}");
        assert!(cfg(0, 0).validate().is_err());
        let mut c = cfg(1, 0);
        c.churn_pct_per_min = -1.0;
        assert!(c.validate().is_err());
        c.churn_pct_per_min = f64::NAN;
        assert!(c.validate().is_err());
    }
}
