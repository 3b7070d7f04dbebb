//! The strata under test and its files: a work directory that is removed, and a child process
//! that is stopped, whenever the benchmark ends — finished, failed, interrupted or panicking.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long strata gets to shut down cleanly after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// A fresh directory under the system's temporary directory, removed on drop unless kept.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    /// Creates `$TMPDIR/strata-scrape-bench-<pid>-<nanos>`; it must not exist yet.
    pub fn create(keep: bool) -> Result<WorkDir, String> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("strata-scrape-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| format!("cannot create work directory {}: {e}", path.display()))?;
        Ok(WorkDir { path, keep })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory outlives the run.
    pub fn kept(&self) -> bool {
        self.keep
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("strata-loadgen: cannot remove {}: {e}", self.path.display());
        }
    }
}

/// A strata started by this run, stopped by PID (SIGTERM, then SIGKILL after [`STOP_GRACE`])
/// when dropped. Its log goes to a file so that nothing has to drain a pipe.
#[derive(Debug)]
pub struct StrataProcess {
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl StrataProcess {
    /// Starts `bin` with `args`, stdout and stderr appended to `log`.
    ///
    /// The child gets its own process group, so a Ctrl-C in the terminal reaches only the load
    /// generator, which then stops strata in order; and it is sent SIGTERM by the kernel if the
    /// load generator dies without cleaning up. That parent-death signal follows the thread
    /// that spawns, so call this from a thread that lives as long as the run (the runtime's
    /// `block_on` thread or a worker, never a blocking-pool thread).
    pub fn spawn(bin: &Path, args: &[String], log: &Path) -> Result<StrataProcess, String> {
        let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot open {} twice: {e}", log.display()))?;
        let parent = std::process::id() as libc::pid_t;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: the closure runs between fork and exec and calls only prctl and getppid,
        // both async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the load generator exited while starting strata"));
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(StrataProcess {
            child,
            log: log.to_path_buf(),
            exited: None,
        })
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the child has exited (it is reaped then).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exited = Some(st);
            }
        }
        self.exited
    }

    /// The last `n` lines strata logged, for error messages.
    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log, n)
    }

    /// Sends SIGTERM and waits up to `grace` for the exit, then SIGKILLs. Returns the exit
    /// status and whether SIGKILL was needed.
    pub fn stop(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        if let Some(st) = self.exit_status() {
            return (Some(st), false);
        }
        // SAFETY: kill(2) on the PID of our own child, which has not been reaped (checked
        // just above), so the PID cannot have been reused.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(st) = self.exit_status() {
                return (Some(st), false);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.exited = self.child.wait().ok();
        (self.exited, true)
    }
}

impl Drop for StrataProcess {
    fn drop(&mut self) {
        if self.exit_status().is_none() {
            let (_, killed) = self.stop(STOP_GRACE);
            if killed {
                eprintln!(
                    "strata-loadgen: strata (pid {}) did not stop within {STOP_GRACE:?} of SIGTERM; killed",
                    self.child.id()
                );
            }
        }
    }
}

/// The last `n` lines of a file, reading at most its last 64 KiB.
fn tail(path: &Path, n: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Total bytes of the regular files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => total += dir_bytes(&e.path()),
            Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
            _ => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_dir_is_removed_unless_kept() {
        let d = WorkDir::create(false).unwrap();
        let p = d.path().to_path_buf();
        std::fs::write(p.join("f"), b"x").unwrap();
        assert!(p.is_dir());
        drop(d);
        assert!(!p.exists());
        let k = WorkDir::create(true).unwrap();
        let p = k.path().to_path_buf();
        drop(k);
        assert!(p.is_dir());
        std::fs::remove_dir_all(p).unwrap();
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed_and_one_that_obeys_stops() {
        let d = WorkDir::create(false).unwrap();
        let log = d.path().join("log");
        let args = ["-c".to_string(), "trap '' TERM; echo started; sleep 5".to_string()];
        let mut p = StrataProcess::spawn(Path::new("/bin/sh"), &args, &log).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(p.exit_status(), None);
        let (st, killed) = p.stop(Duration::from_millis(300));
        assert!(killed);
        assert!(st.is_some_and(|s| !s.success()));
        assert_eq!(p.log_tail(5), "started");

        let args = ["-c".to_string(), "sleep 5".to_string()];
        let mut p = StrataProcess::spawn(Path::new("/bin/sh"), &args, &log).unwrap();
        let (st, killed) = p.stop(Duration::from_secs(10));
        assert!(!killed);
        assert!(st.is_some());
    }

    #[test]
    fn dropping_the_guard_stops_the_process() {
        let d = WorkDir::create(false).unwrap();
        let args = ["-c".to_string(), "sleep 5".to_string()];
        let p = StrataProcess::spawn(Path::new("/bin/sh"), &args, &d.path().join("log")).unwrap();
        let pid = p.pid();
        drop(p);
        // Reaped by the guard: no /proc entry (a zombie would still have one).
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn tail_gives_the_last_lines_and_dir_bytes_sums_files() {
        let d = WorkDir::create(false).unwrap();
        let f = d.path().join("log");
        std::fs::write(&f, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&f, 2), "b\nc");
        assert_eq!(tail(&f, 10), "a\nb\nc");
        assert_eq!(tail(&d.path().join("missing"), 2), "");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/x"), [0u8; 100]).unwrap();
        assert_eq!(dir_bytes(d.path()), 106);
    }
}
