//! The load generator behind `strata-loadgen`: simulated node_exporter-like targets for
//! benchmarking a host before strata is rolled out on it.
//!
//! `strata-loadgen targets --targets N --series M` serves N targets on ports
//! `base-port..base-port+N-1`, each answering `GET /metrics` with about M series in Prometheus
//! text 0.0.4 (gzip when the request accepts it). Every scrape advances the values one step —
//! counters grow, gauges walk, histograms and a summary gain observations — deterministically
//! for a seed and a scrape count. With `--churn P`, P % of each target's series per minute are
//! replaced by series with a new `pod` label value, spread evenly over the minute.
//!
//! `strata-loadgen scrape-bench` starts such targets and a strata that scrapes them, and
//! measures what the strata costs ([`bench`]).
//!
//! The invariant bytes of each line are rendered once ([`Layout`]); a scrape writes only the
//! values, formatted as Prometheus's Go writer does ([`write_float`]).
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use strata::loadgen::{Layout, Target};
//!
//! let mut target = Target::new(Arc::new(Layout::node_like(200)), 1, 0, 0.0);
//! let mut body = Vec::new();
//! target.scrape(Duration::ZERO, &mut body);
//! assert!(body.starts_with(b"# HELP "));
//! ```

pub mod bench;
pub mod cli;
mod clock;
mod gofloat;
mod gzip;
mod layout;
mod rng;
mod server;
mod target;

pub use clock::Clock;
pub use gofloat::write_float;
pub use gzip::{accepts_gzip, GzipEncoder};
pub use layout::Layout;
pub use server::{start_targets, RunningTargets, TargetsConfig, TEXT_CONTENT_TYPE};
pub use target::{Target, CHURN_LABEL};

/// What can stop the load generator.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// A flag value that cannot work.
    #[error("{0}")]
    Config(String),
    /// A target's port could not be bound.
    #[error("target {target}: cannot listen on {addr}: {source}")]
    Bind {
        /// Index of the target.
        target: u32,
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A listener failed while serving.
    #[error("serving targets: {0}")]
    Serve(std::io::Error),
}
