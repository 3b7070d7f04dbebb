//! Which series a simulated target exposes: a node_exporter-like host sized to a series budget.
//!
//! A fixed core (Go runtime, process, load, memory, scrape collectors, a request-duration
//! histogram, a GC summary) is followed by repeating hardware — CPUs, network interfaces, disks,
//! filesystems — while it fits, and hardware-monitor temperatures fill the rest, so a layout of
//! `M` series has exactly `M` sample lines (fewer only when `M` is smaller than one unit).
//! Metric names follow node_exporter's but in snake_case throughout (node_exporter's
//! `node_memory_MemTotal_bytes` fails `promtool check metrics`), so the output lints clean.
//!
//! The invariant bytes of every line (`name{labels} `) and every family header are rendered
//! once here and shared by all targets of a run.

use std::collections::BTreeMap;
use std::ops::Range;

use super::gofloat::write_float;

/// How one metric's value evolves from scrape to scrape. Values are kept in integer "ticks"
/// divided by `div` on output, so a counter with two decimals prints exactly two decimals.
#[derive(Debug, Clone)]
pub(crate) enum Model {
    /// Grows by a uniform random whole number of ticks in `[0, 2 × mean]` each scrape.
    Counter { start: f64, mean_inc: f64, div: f64 },
    /// A random walk of at least one tick per scrape, reflected inside `[lo, hi]`.
    Gauge {
        start: f64,
        lo: f64,
        hi: f64,
        step: f64,
        div: f64,
    },
    /// Never changes.
    Constant { value: f64 },
    /// A classic histogram; observations follow a log-logistic law around `median`. Lines: one
    /// per bound, then `+Inf`, `_sum`, `_count`.
    Histogram {
        bounds: &'static [f64],
        median: f64,
        mean_obs: f64,
    },
    /// A summary with quantiles 0, 0.25, 0.5, 0.75, 1 around `median`. Lines: the quantiles,
    /// `_sum`, `_count`.
    Summary { median: f64, mean_obs: f64 },
}

/// The quantiles every simulated summary exposes (as Go's `go_gc_duration_seconds`).
pub(crate) const SUMMARY_QUANTILES: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

impl Model {
    /// Sample lines one metric of this model writes.
    fn lines(&self) -> usize {
        match self {
            Model::Counter { .. } | Model::Gauge { .. } | Model::Constant { .. } => 1,
            Model::Histogram { bounds, .. } => bounds.len() + 3,
            Model::Summary { .. } => SUMMARY_QUANTILES.len() + 2,
        }
    }
}

/// The `# TYPE` of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// One metric (one label set): a counter or gauge line, or all lines of a histogram or summary.
/// Churn replaces whole units, so a histogram never loses a bucket to a new label value.
#[derive(Debug)]
pub(crate) struct Unit {
    pub(crate) model: Model,
    /// Its lines in `Layout::lines`.
    pub(crate) lines: Range<usize>,
}

/// One sample line's invariant bytes.
#[derive(Debug)]
pub(crate) struct Line {
    /// `name{labels} ` or `name ` (with the separating space).
    pub(crate) text: Box<[u8]>,
    /// Bytes before the closing `}` (or before the space when there are no labels): where a
    /// churned label is inserted.
    pub(crate) open: usize,
    /// Whether the line has a label block.
    pub(crate) labelled: bool,
    /// Ticks are divided by this on output.
    pub(crate) div: f64,
}

/// One family: its header and its units.
#[derive(Debug)]
pub(crate) struct Family {
    /// `# HELP …\n# TYPE …\n`.
    pub(crate) header: Box<[u8]>,
    pub(crate) units: Range<usize>,
}

/// The series of one simulated host, pre-rendered; shared read-only by all targets of a run.
#[derive(Debug)]
pub struct Layout {
    pub(crate) families: Vec<Family>,
    pub(crate) units: Vec<Unit>,
    pub(crate) lines: Vec<Line>,
}

impl Layout {
    /// A node_exporter-like host with `series` sample lines (at least one).
    pub fn node_like(series: usize) -> Layout {
        let mut b = Builder {
            budget: series.max(1),
            used: 0,
            families: BTreeMap::new(),
        };
        for unit in core_units() {
            if !b.commit(vec![unit]) {
                break;
            }
        }
        let mut counts = [0usize; 4];
        'grow: loop {
            // Per round: two CPUs, one interface, one disk, one filesystem.
            for kind in [0, 0, 1, 2, 3] {
                let n = counts[kind];
                let group = match kind {
                    0 => cpu_units(n),
                    1 => interface_units(n),
                    2 => disk_units(n),
                    _ => filesystem_units(n),
                };
                if !b.commit(group) {
                    break 'grow;
                }
                counts[kind] += 1;
            }
        }
        let mut sensor = 0;
        while b.used < b.budget {
            b.commit(vec![gauge(
                "node_hwmon_temp_celsius",
                "Hardware monitor for temperature (input)",
                &[
                    ("chip", "platform_coretemp_0".into()),
                    ("sensor", format!("temp{}", sensor + 1)),
                ],
                45.0,
                30.0,
                90.0,
                0.5,
                10.0,
            )]);
            sensor += 1;
        }
        b.finish()
    }

    /// Sample lines per scrape.
    pub fn series(&self) -> usize {
        self.lines.len()
    }

    /// Metrics (label sets; a histogram or summary counts once): the units churn replaces.
    pub fn metrics(&self) -> usize {
        self.units.len()
    }
}

/// A metric waiting to be placed in its family.
struct Pending {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: Vec<(&'static str, String)>,
    model: Model,
}

#[derive(Default)]
struct FamilyBuild {
    help: &'static str,
    kind: Option<Kind>,
    metrics: Vec<(Vec<(&'static str, String)>, Model)>,
}

struct Builder {
    budget: usize,
    used: usize,
    families: BTreeMap<&'static str, FamilyBuild>,
}

impl Builder {
    /// Adds a whole group (one piece of hardware) if all of it fits the budget.
    fn commit(&mut self, group: Vec<Pending>) -> bool {
        let cost: usize = group.iter().map(|p| p.model.lines()).sum();
        if self.used + cost > self.budget {
            return false;
        }
        self.used += cost;
        for p in group {
            let f = self.families.entry(p.name).or_default();
            f.help = p.help;
            f.kind = Some(p.kind);
            f.metrics.push((p.labels, p.model));
        }
        true
    }

    /// Renders every invariant byte; families in name order, as client_golang writes them.
    fn finish(self) -> Layout {
        let mut families = Vec::with_capacity(self.families.len());
        let mut units = Vec::with_capacity(self.used);
        let mut lines = Vec::with_capacity(self.used);
        for (name, f) in self.families {
            let kind = f.kind.unwrap_or(Kind::Gauge);
            let header = format!(
                "# HELP {name} {}\n# TYPE {name} {}\n",
                escape_help(f.help),
                kind.as_str()
            );
            let first_unit = units.len();
            for (mut labels, model) in f.metrics {
                labels.sort_by(|a, b| a.0.cmp(b.0));
                let first_line = lines.len();
                match &model {
                    Model::Counter { div, .. } | Model::Gauge { div, .. } => {
                        lines.push(line(name, "", &labels, None, *div));
                    }
                    Model::Constant { .. } => lines.push(line(name, "", &labels, None, 1.0)),
                    Model::Histogram { bounds, .. } => {
                        for &b in bounds.iter().chain(std::iter::once(&f64::INFINITY)) {
                            lines.push(line(name, "_bucket", &labels, Some(("le", b)), 1.0));
                        }
                        lines.push(line(name, "_sum", &labels, None, 1.0));
                        lines.push(line(name, "_count", &labels, None, 1.0));
                    }
                    Model::Summary { .. } => {
                        for q in SUMMARY_QUANTILES {
                            lines.push(line(name, "", &labels, Some(("quantile", q)), 1.0));
                        }
                        lines.push(line(name, "_sum", &labels, None, 1.0));
                        lines.push(line(name, "_count", &labels, None, 1.0));
                    }
                }
                units.push(Unit {
                    model,
                    lines: first_line..lines.len(),
                });
            }
            families.push(Family {
                header: header.into_bytes().into_boxed_slice(),
                units: first_unit..units.len(),
            });
        }
        Layout { families, units, lines }
    }
}

/// Renders `name{labels[,extra]} `.
fn line(name: &str, suffix: &str, labels: &[(&str, String)], extra: Option<(&str, f64)>, div: f64) -> Line {
    let mut text = Vec::with_capacity(name.len() + suffix.len() + 64);
    text.extend_from_slice(name.as_bytes());
    text.extend_from_slice(suffix.as_bytes());
    let labelled = !labels.is_empty() || extra.is_some();
    if labelled {
        text.push(b'{');
        let mut first = true;
        for (k, v) in labels {
            if !first {
                text.push(b',');
            }
            first = false;
            text.extend_from_slice(k.as_bytes());
            text.extend_from_slice(b"=\"");
            escape_label_value(&mut text, v);
            text.push(b'"');
        }
        if let Some((k, v)) = extra {
            if !first {
                text.push(b',');
            }
            text.extend_from_slice(k.as_bytes());
            text.extend_from_slice(b"=\"");
            write_float(&mut text, v);
            text.push(b'"');
        }
        text.push(b'}');
    }
    let open = if labelled { text.len() - 1 } else { text.len() };
    text.push(b' ');
    Line {
        text: text.into_boxed_slice(),
        open,
        labelled,
        div,
    }
}

/// Label values escape `\`, newline and `"` (spec §1.8).
fn escape_label_value(out: &mut Vec<u8>, v: &str) {
    for &c in v.as_bytes() {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' => out.extend_from_slice(b"\\\""),
            _ => out.push(c),
        }
    }
}

/// HELP text escapes only `\` and newline (spec §1.8).
fn escape_help(h: &str) -> String {
    h.replace('\\', "\\\\").replace('\n', "\\n")
}

fn counter(
    name: &'static str,
    help: &'static str,
    labels: &[(&'static str, String)],
    start: f64,
    mean_inc: f64,
    div: f64,
) -> Pending {
    Pending {
        name,
        help,
        kind: Kind::Counter,
        labels: labels.to_vec(),
        model: Model::Counter { start, mean_inc, div },
    }
}

#[allow(clippy::too_many_arguments)]
fn gauge(
    name: &'static str,
    help: &'static str,
    labels: &[(&'static str, String)],
    start: f64,
    lo: f64,
    hi: f64,
    step: f64,
    div: f64,
) -> Pending {
    // Bounds and step are given in output units; the model keeps ticks.
    Pending {
        name,
        help,
        kind: Kind::Gauge,
        labels: labels.to_vec(),
        model: Model::Gauge {
            start: (start * div).round(),
            lo: (lo * div).round(),
            hi: (hi * div).round(),
            step: (step * div).round().max(1.0),
            div,
        },
    }
}

fn constant(name: &'static str, help: &'static str, labels: &[(&'static str, String)], value: f64) -> Pending {
    Pending {
        name,
        help,
        kind: Kind::Gauge,
        labels: labels.to_vec(),
        model: Model::Constant { value },
    }
}

const LATENCY_BOUNDS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const DISK_BOUNDS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5];
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The host's fixed series, in the order they are dropped last-first when the budget is small.
fn core_units() -> Vec<Pending> {
    let none: &[(&'static str, String)] = &[];
    let mut v = vec![
        counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", &[("cpu", "0".into()), ("mode", "idle".into())], 1.2e8, 800.0, 100.0),
        gauge("node_load1", "1m load average.", none, 0.8, 0.0, 16.0, 0.05, 100.0),
        gauge("node_load5", "5m load average.", none, 0.7, 0.0, 16.0, 0.03, 100.0),
        gauge("node_load15", "15m load average.", none, 0.6, 0.0, 16.0, 0.01, 100.0),
        Pending {
            name: "http_request_duration_seconds",
            help: "A histogram of latencies for requests to the exporter.",
            kind: Kind::Histogram,
            labels: vec![("handler", "/metrics".into()), ("method", "get".into())],
            model: Model::Histogram { bounds: LATENCY_BOUNDS, median: 0.04, mean_obs: 1.0 },
        },
        Pending {
            name: "go_gc_duration_seconds",
            help: "A summary of the pause duration of garbage collection cycles.",
            kind: Kind::Summary,
            labels: vec![],
            model: Model::Summary { median: 0.00004, mean_obs: 3.0 },
        },
        gauge("go_goroutines", "Number of goroutines that currently exist.", none, 8.0, 6.0, 40.0, 2.0, 1.0),
        gauge("go_threads", "Number of OS threads created.", none, 7.0, 5.0, 16.0, 1.0, 1.0),
        constant("go_info", "Information about the Go environment.", &[("version", "go1.21.6".into())], 1.0),
        gauge("go_memstats_alloc_bytes", "Number of bytes allocated and still in use.", none, 3.2e6, 1e6, 2e7, 65536.0, 1.0),
        counter("go_memstats_alloc_bytes_total", "Total number of bytes allocated, even if freed.", none, 4.1e10, 3.0e6, 1.0),
        gauge("go_memstats_heap_objects", "Number of allocated objects.", none, 21000.0, 5000.0, 90000.0, 300.0, 1.0),
        counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", none, 251_234.0, 4.0, 100.0),
        gauge("process_open_fds", "Number of open file descriptors.", none, 9.0, 7.0, 30.0, 1.0, 1.0),
        constant("process_max_fds", "Maximum number of open file descriptors.", none, 1_048_576.0),
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.", none, 2.3e7, 1.5e7, 6e7, 131_072.0, 1.0),
        constant("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", none, 1_712_345_678.91),
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", none, 7.3e8, 7e8, 8e8, 1_048_576.0, 1.0),
        constant("node_boot_time_seconds", "Node boot time, in unixtime.", none, 1_712_340_000.0),
        // A gauge that only grows: the wall clock.
        Pending {
            kind: Kind::Gauge,
            ..counter("node_time_seconds", "System time in seconds since epoch (1970).", none, 171_300_000_000.0, 1000.0, 100.0)
        },
        counter("node_context_switches_total", "Total number of context switches.", none, 9.8e9, 40_000.0, 1.0),
        counter("node_intr_total", "Total number of interrupts serviced.", none, 5.1e9, 20_000.0, 1.0),
        counter("node_forks_total", "Total number of forks.", none, 3.4e6, 12.0, 1.0),
        gauge("node_procs_running", "Number of processes in runnable state.", none, 2.0, 1.0, 32.0, 1.0, 1.0),
        gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", none, 0.0, 0.0, 8.0, 1.0, 1.0),
        gauge("node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking.", none, 1800.0, 200.0, 60000.0, 40.0, 1.0),
        gauge("node_filefd_allocated", "File descriptor statistics: allocated.", none, 3200.0, 1000.0, 20000.0, 20.0, 1.0),
        constant("node_filefd_maximum", "File descriptor statistics: maximum.", none, 9.223_372_036_854_776e18),
        constant(
            "node_uname_info",
            "Labeled system information as provided by the uname system call.",
            &[
                ("domainname", "(none)".into()),
                ("machine", "x86_64".into()),
                ("nodename", "loadgen-host".into()),
                ("release", "6.1.0-18-amd64".into()),
                ("sysname", "Linux".into()),
                ("version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)".into()),
            ],
            1.0,
        ),
        constant(
            "node_exporter_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, and goversion from which node_exporter was built.",
            &[("branch", "debian/sid".into()), ("goversion", "go1.21.6".into()), ("version", "1.5.0".into())],
            1.0,
        ),
    ];
    for (mem, start) in [
        ("node_memory_mem_total_bytes", 64.0 * GIB),
        ("node_memory_swap_total_bytes", 8.0 * GIB),
    ] {
        v.push(constant(mem, "Memory information field.", none, start));
    }
    for (mem, start) in [
        ("node_memory_mem_free_bytes", 12.0 * GIB),
        ("node_memory_mem_available_bytes", 40.0 * GIB),
        ("node_memory_buffers_bytes", 1.5 * GIB),
        ("node_memory_cached_bytes", 24.0 * GIB),
        ("node_memory_swap_free_bytes", 7.5 * GIB),
        ("node_memory_active_bytes", 30.0 * GIB),
        ("node_memory_inactive_bytes", 14.0 * GIB),
        ("node_memory_dirty_bytes", 0.01 * GIB),
        ("node_memory_slab_bytes", 2.0 * GIB),
    ] {
        v.push(gauge(
            mem,
            "Memory information field.",
            none,
            start,
            start * 0.5,
            start * 1.5,
            4096.0 * 64.0,
            1.0,
        ));
    }
    for code in ["200", "500", "503"] {
        let mean = if code == "200" { 1.0 } else { 0.0 };
        v.push(counter(
            "promhttp_metric_handler_requests_total",
            "Total number of scrapes by HTTP status code.",
            &[("code", code.into())],
            120_000.0 * mean,
            mean,
            1.0,
        ));
    }
    for c in [
        "cpu",
        "diskstats",
        "filesystem",
        "loadavg",
        "meminfo",
        "netdev",
        "stat",
        "time",
        "uname",
        "vmstat",
    ] {
        v.push(gauge(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            &[("collector", c.into())],
            0.002,
            0.0001,
            0.05,
            0.0001,
            1e6,
        ));
        v.push(constant(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
            &[("collector", c.into())],
            1.0,
        ));
    }
    v
}

/// CPU `n`: its modes (the first CPU's idle mode is in the core), guest time and frequency.
fn cpu_units(n: usize) -> Vec<Pending> {
    let cpu = n.to_string();
    let mut v = Vec::new();
    for (mode, mean) in [
        ("idle", 800.0),
        ("iowait", 10.0),
        ("irq", 0.4),
        ("nice", 1.0),
        ("softirq", 5.0),
        ("steal", 0.0),
        ("system", 50.0),
        ("user", 120.0),
    ] {
        if n == 0 && mode == "idle" {
            continue;
        }
        v.push(counter(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            &[("cpu", cpu.clone()), ("mode", mode.into())],
            mean * 150_000.0,
            mean,
            100.0,
        ));
    }
    for mode in ["nice", "user"] {
        v.push(counter(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
            &[("cpu", cpu.clone()), ("mode", mode.into())],
            0.0,
            0.0,
            100.0,
        ));
    }
    v.push(gauge(
        "node_cpu_scaling_frequency_hertz",
        "Current scaled CPU thread frequency in hertz.",
        &[("cpu", cpu)],
        2.4e9,
        8e8,
        3.6e9,
        5e7,
        1.0,
    ));
    v
}

/// Network interface `n`: counters in both directions, link facts and the info metric.
fn interface_units(n: usize) -> Vec<Pending> {
    let device = if n == 0 {
        "lo".to_string()
    } else {
        format!("eth{}", n - 1)
    };
    let dev = || vec![("device", device.clone())];
    let mut v = Vec::new();
    for (dir, bytes) in [("receive", 4.0e6), ("transmit", 2.5e6)] {
        let (b, p, e, d, m) = match dir {
            "receive" => (
                "node_network_receive_bytes_total",
                "node_network_receive_packets_total",
                "node_network_receive_errs_total",
                "node_network_receive_drop_total",
                Some("node_network_receive_multicast_total"),
            ),
            _ => (
                "node_network_transmit_bytes_total",
                "node_network_transmit_packets_total",
                "node_network_transmit_errs_total",
                "node_network_transmit_drop_total",
                None,
            ),
        };
        v.push(counter(b, "Network device statistic.", &dev(), bytes * 2e5, bytes, 1.0));
        v.push(counter(
            p,
            "Network device statistic.",
            &dev(),
            bytes * 200.0,
            bytes / 1000.0,
            1.0,
        ));
        v.push(counter(e, "Network device statistic.", &dev(), 3.0, 0.01, 1.0));
        v.push(counter(d, "Network device statistic.", &dev(), 120.0, 0.2, 1.0));
        if let Some(m) = m {
            v.push(counter(m, "Network device statistic.", &dev(), 9000.0, 0.5, 1.0));
        }
    }
    v.push(constant(
        "node_network_up",
        "Value is 1 if operstate is 'up', 0 otherwise.",
        &dev(),
        1.0,
    ));
    v.push(constant(
        "node_network_mtu_bytes",
        "Network device property: mtu_bytes",
        &dev(),
        1500.0,
    ));
    v.push(constant(
        "node_network_speed_bytes",
        "Network device property: speed_bytes",
        &dev(),
        1.25e9,
    ));
    v.push(constant(
        "node_network_carrier",
        "Network device property: carrier",
        &dev(),
        1.0,
    ));
    v.push(constant(
        "node_network_info",
        "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
        &[
            (
                "address",
                format!(
                    "52:54:00:{:02x}:{:02x}:{:02x}",
                    (n >> 16) & 0xff,
                    (n >> 8) & 0xff,
                    n & 0xff
                ),
            ),
            ("broadcast", "ff:ff:ff:ff:ff:ff".into()),
            ("device", device.clone()),
            ("duplex", "full".into()),
            ("operstate", "up".into()),
        ],
        1.0,
    ));
    v
}

/// Disk `n`: diskstats counters, the in-flight gauge and an I/O latency histogram.
fn disk_units(n: usize) -> Vec<Pending> {
    let device = if n < 26 {
        format!("sd{}", (b'a' + n as u8) as char)
    } else {
        format!("nvme{}n1", n - 26)
    };
    let dev = || vec![("device", device.clone())];
    let help = "The total number of disk operations or seconds, from /proc/diskstats.";
    let mut v = vec![
        counter("node_disk_reads_completed_total", help, &dev(), 4.2e7, 120.0, 1.0),
        counter("node_disk_reads_merged_total", help, &dev(), 1.1e6, 8.0, 1.0),
        counter("node_disk_read_bytes_total", help, &dev(), 9.8e11, 2.0e6, 1.0),
        counter("node_disk_read_time_seconds_total", help, &dev(), 2.1e6, 30.0, 100.0),
        counter("node_disk_writes_completed_total", help, &dev(), 8.4e7, 300.0, 1.0),
        counter("node_disk_writes_merged_total", help, &dev(), 3.3e7, 90.0, 1.0),
        counter("node_disk_written_bytes_total", help, &dev(), 2.2e12, 5.0e6, 1.0),
        counter("node_disk_write_time_seconds_total", help, &dev(), 6.4e6, 70.0, 100.0),
        counter("node_disk_io_time_seconds_total", help, &dev(), 5.5e6, 60.0, 100.0),
        counter(
            "node_disk_io_time_weighted_seconds_total",
            help,
            &dev(),
            9.9e6,
            110.0,
            100.0,
        ),
        counter("node_disk_discards_completed_total", help, &dev(), 1000.0, 0.3, 1.0),
        counter("node_disk_flush_requests_total", help, &dev(), 2.0e5, 2.0, 1.0),
        gauge(
            "node_disk_io_now",
            "The number of I/Os currently in progress.",
            &dev(),
            1.0,
            0.0,
            64.0,
            1.0,
            1.0,
        ),
    ];
    v.push(Pending {
        name: "node_disk_io_latency_seconds",
        help: "Latency of completed disk I/O requests.",
        kind: Kind::Histogram,
        labels: dev(),
        model: Model::Histogram {
            bounds: DISK_BOUNDS,
            median: 0.002,
            mean_obs: 400.0,
        },
    });
    v
}

/// Filesystem `n`: sizes, inode counts and state of one mountpoint.
fn filesystem_units(n: usize) -> Vec<Pending> {
    let (device, mountpoint, fstype) = match n {
        0 => ("/dev/sda1".to_string(), "/".to_string(), "ext4"),
        1 => ("tmpfs".to_string(), "/run".to_string(), "tmpfs"),
        _ => (format!("/dev/sdb{}", n - 1), format!("/srv/data{}", n - 2), "xfs"),
    };
    let labels = vec![
        ("device", device),
        ("fstype", fstype.to_string()),
        ("mountpoint", mountpoint),
    ];
    let size = 500.0 * GIB;
    vec![
        gauge(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            &labels,
            size * 0.4,
            size * 0.1,
            size * 0.9,
            4096.0 * 256.0,
            1.0,
        ),
        gauge(
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            &labels,
            size * 0.45,
            size * 0.1,
            size * 0.95,
            4096.0 * 256.0,
            1.0,
        ),
        constant("node_filesystem_size_bytes", "Filesystem size in bytes.", &labels, size),
        constant(
            "node_filesystem_files",
            "Filesystem total file nodes.",
            &labels,
            32_768_000.0,
        ),
        gauge(
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
            &labels,
            3.0e7,
            1.0e7,
            3.2e7,
            50.0,
            1.0,
        ),
        constant("node_filesystem_readonly", "Filesystem read-only status.", &labels, 0.0),
        constant(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
            &labels,
            0.0,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_exactly_the_requested_series() {
        for m in [1, 7, 50, 200, 1000, 4321] {
            let l = Layout::node_like(m);
            assert_eq!(l.series(), m, "layout of {m}");
            let in_units: usize = l.units.iter().map(|u| u.lines.len()).sum();
            assert_eq!(in_units, m);
        }
    }

    #[test]
    fn large_layouts_have_hardware_of_every_kind() {
        let l = Layout::node_like(1000);
        let text: String = l
            .lines
            .iter()
            .map(|x| String::from_utf8_lossy(&x.text).into_owned())
            .collect();
        for needle in [
            "node_cpu_seconds_total{cpu=\"3\",mode=\"user\"} ",
            "node_disk_io_latency_seconds_bucket{device=\"sda\",le=\"+Inf\"} ",
            "node_disk_io_latency_seconds_bucket{device=\"sda\",le=\"0.0001\"} ",
            "node_filesystem_avail_bytes{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} ",
            "node_network_receive_bytes_total{device=\"eth0\"} ",
            "go_gc_duration_seconds{quantile=\"0.25\"} ",
            "go_gc_duration_seconds_count ",
            "node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} ",
        ] {
            assert!(text.contains(needle), "missing {needle}");
        }
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut out = Vec::new();
        escape_label_value(&mut out, "a\\b\"c\nd");
        assert_eq!(out, b"a\\\\b\\\"c\\nd");
        assert_eq!(escape_help("x\\y\nz\""), "x\\\\y\\nz\"");
    }

    #[test]
    fn open_points_at_the_closing_brace_or_the_space() {
        let l = line("m", "", &[("a", "b".into())], None, 1.0);
        assert_eq!(&l.text[..], b"m{a=\"b\"} ");
        assert_eq!(l.text[l.open], b'}');
        let l = line("m", "_sum", &[], None, 1.0);
        assert_eq!(&l.text[..], b"m_sum ");
        assert_eq!(l.text[l.open], b' ');
        assert!(!l.labelled);
    }
}
