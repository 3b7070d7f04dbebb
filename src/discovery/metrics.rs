//! Counters of discovery work, named after Prometheus's `prometheus_sd_*`
//! series, for strata's own `/metrics`. They are process-wide, as upstream's are.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// `prometheus_sd_file_read_errors_total`: file_sd files that could not be read or parsed.
pub static FILE_READ_ERRORS: Counter = Counter::new();
/// `prometheus_sd_file_scan_duration_seconds_count`: file_sd refreshes.
pub static FILE_SCANS: Counter = Counter::new();
/// `prometheus_sd_http_failures_total`: failed http_sd refreshes.
pub static HTTP_FAILURES: Counter = Counter::new();
/// `prometheus_sd_dns_lookups_total`: DNS-SD lookups.
pub static DNS_LOOKUPS: Counter = Counter::new();
/// `prometheus_sd_dns_lookup_failures_total`: failed DNS-SD lookups.
pub static DNS_LOOKUP_FAILURES: Counter = Counter::new();
/// `prometheus_sd_updates_total`: target-set updates published by discovery managers.
pub static UPDATES: Counter = Counter::new();
