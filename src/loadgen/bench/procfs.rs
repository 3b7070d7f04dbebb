//! The few /proc figures a scrape benchmark needs: CPU time and resident memory of a process,
//! and the machine's load average. Parsing is separate from reading so it can be tested on
//! fixtures.

use std::path::Path;

/// User plus system CPU time of a process, in clock ticks, from the text of `/proc/PID/stat`.
///
/// The command name (field 2) is in parentheses and may hold spaces and `)`, so fields are
/// counted from the last `)`: utime and stime are fields 14 and 15 of proc(5).
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    // After ")": state is field 3, so utime (14) is the 12th and stime (15) the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// Resident set size in bytes from the text of `/proc/PID/status` (`VmRSS:  1234 kB`).
pub fn parse_status_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let mut parts = line.split_ascii_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") => n.checked_mul(1024),
        _ => None,
    }
}

/// The 1, 5 and 15 minute load averages from the text of `/proc/loadavg`.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_ascii_whitespace().map(|s| s.parse::<f64>().ok());
    Some([f.next()??, f.next()??, f.next()??])
}

/// Clock ticks per second, the unit of the CPU fields of `/proc/PID/stat`.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // Linux has used 100 on every architecture for decades; never divide by zero.
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Processors online, to read a load average against.
pub fn cpus_online() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as u64
}

/// Which process to read: a child by PID, or this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proc {
    /// `/proc/PID`.
    Pid(u32),
    /// `/proc/self`.
    SelfProc,
}

impl Proc {
    fn file(self, name: &str) -> String {
        match self {
            Proc::Pid(p) => format!("/proc/{p}/{name}"),
            Proc::SelfProc => format!("/proc/self/{name}"),
        }
    }

    /// CPU seconds (user + system, all threads) used so far.
    pub fn cpu_seconds(self) -> Result<f64, String> {
        let path = self.file("stat");
        let text = read(&path)?;
        let ticks = parse_stat_cpu_ticks(&text).ok_or_else(|| format!("{path}: no utime/stime fields"))?;
        Ok(ticks as f64 / clock_ticks_per_second() as f64)
    }

    /// Resident set size now, in bytes.
    pub fn rss_bytes(self) -> Result<u64, String> {
        let path = self.file("status");
        let text = read(&path)?;
        parse_status_rss_bytes(&text).ok_or_else(|| format!("{path}: no VmRSS line in kB"))
    }
}

/// The machine's load averages now.
pub fn loadavg() -> Result<[f64; 3], String> {
    let path = "/proc/loadavg";
    let text = read(path)?;
    parse_loadavg(&text).ok_or_else(|| format!("{path}: expected three numbers, got {:?}", text.trim()))
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(Path::new(path)).map_err(|e| format!("cannot read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real line of a tokio program, with a command name holding a space and a parenthesis.
    const STAT: &str = "4242 (strata (x) y) S 1 4242 4242 0 -1 4194560 15110 0 0 0 \
                        731 129 0 0 20 0 9 0 123456 1234567168 38211 18446744073709551615 1 1 0 0 0 0 0 \
                        4096 17987 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn stat_cpu_is_utime_plus_stime_counted_after_the_last_parenthesis() {
        assert_eq!(parse_stat_cpu_ticks(STAT), Some(731 + 129));
        let plain = STAT.replace("(strata (x) y)", "(strata)");
        assert_eq!(parse_stat_cpu_ticks(&plain), Some(860));
    }

    #[test]
    fn stat_without_the_cpu_fields_is_refused() {
        for bad in [
            "",
            "4242 strata S 1",
            "4242 (strata) S 1 2 3",
            "4242 (strata) S 1 4242 4242 0 -1 0 0 0 0 0 x 9",
        ] {
            assert_eq!(parse_stat_cpu_ticks(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn status_rss_is_read_in_kibibytes() {
        let status = "Name:\tstrata\nVmPeak:\t 2000 kB\nVmHWM:\t  160000 kB\nVmRSS:\t  152844 kB\nRssAnon:\t 1 kB\n";
        assert_eq!(parse_status_rss_bytes(status), Some(152_844 * 1024));
        assert_eq!(parse_status_rss_bytes("Name:\tstrata\n"), None);
        assert_eq!(parse_status_rss_bytes("VmRSS:\t 12 MB\n"), None);
        assert_eq!(parse_status_rss_bytes("VmRSS:\t lots kB\n"), None);
    }

    #[test]
    fn loadavg_gives_the_three_averages() {
        assert_eq!(parse_loadavg("0.52 1.07 2.00 3/456 7890\n"), Some([0.52, 1.07, 2.0]));
        assert_eq!(parse_loadavg("0.52 1.07\n"), None);
        assert_eq!(parse_loadavg("a b c 1/2 3"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        assert!(Proc::SelfProc.rss_bytes().unwrap() > 0);
        assert!(Proc::SelfProc.cpu_seconds().unwrap() >= 0.0);
        assert!(Proc::Pid(std::process::id()).rss_bytes().unwrap() > 0);
        assert!(loadavg().unwrap().iter().all(|l| *l >= 0.0));
        assert!(clock_ticks_per_second() > 0);
    }
}
