//! `file_sd_configs`: target groups read from JSON or YAML files.
//!
//! The files named by the config's globs are read when the provider starts,
//! whenever something changes in their directories (inotify through the
//! `notify` crate; edits apply within a fraction of a second), and every
//! `refresh_interval` in case a watch was missed. Group `i` of file `f` has
//! source `f:i` and the label `__meta_filepath="f"`.
//!
//! As in Prometheus, a file that cannot be read or parsed (say, half
//! written) keeps the groups it last had, and the error is logged with the
//! file's name and the line; a file that no longer exists loses its groups.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::{metrics, parse_json_groups, parse_yaml_groups, TargetGroup};
use crate::config::FileSdConfig;

/// The label naming the file a target was read from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// How long the provider waits after a change for more changes before it
/// reads the files: editors and `cp` write in several steps.
const SETTLE: Duration = Duration::from_millis(100);

/// Poll interval when no file watcher can be created.
const POLL_WITHOUT_WATCHER: Duration = Duration::from_secs(1);

/// Why one file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileSdError {
    /// Reading failed.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The content was refused; the message names the line.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the line and column.
        message: String,
    },
}

/// Reads one file of target groups, choosing JSON or YAML by its extension.
/// Sources and `__meta_filepath` are set.
pub fn read_file(path: &Path) -> Result<Vec<TargetGroup>, FileSdError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| FileSdError::Read {
        path: name.clone(),
        source,
    })?;
    let parse_err = |message: String| FileSdError::Parse {
        path: name.clone(),
        message,
    };
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut groups = match ext.as_str() {
        "json" => parse_json_groups(&bytes).map_err(|e| parse_err(e.to_string()))?,
        "yml" | "yaml" => {
            let text = std::str::from_utf8(&bytes).map_err(|e| parse_err(format!("invalid UTF-8: {e}")))?;
            parse_yaml_groups(text).map_err(|e| parse_err(e.to_string()))?
        }
        other => return Err(parse_err(format!("unsupported file extension {other:?}"))),
    };
    for (i, g) in groups.iter_mut().enumerate() {
        g.source = format!("{name}:{i}");
        g.labels.insert(FILEPATH_LABEL.to_string(), name.clone());
    }
    Ok(groups)
}

/// The state of one `file_sd_configs` entry between refreshes.
#[derive(Debug)]
pub struct FileDiscovery {
    patterns: Vec<String>,
    /// The groups of every file seen at the last refresh: its last good
    /// content, or nothing if it was never readable.
    files: BTreeMap<PathBuf, Vec<TargetGroup>>,
    watched: HashSet<PathBuf>,
    unwatchable: HashSet<PathBuf>,
}

impl FileDiscovery {
    /// A provider for the given globs (already joined with the configuration's directory).
    pub fn new(patterns: Vec<String>) -> FileDiscovery {
        FileDiscovery {
            patterns,
            files: BTreeMap::new(),
            watched: HashSet::new(),
            unwatchable: HashSet::new(),
        }
    }

    fn list_files(&self) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        for p in &self.patterns {
            match glob::glob(p) {
                Ok(paths) => out.extend(paths.filter_map(Result::ok).filter(|p| !p.is_dir())),
                Err(e) => tracing::error!(glob = %p, err = %e, "file_sd: error expanding glob"),
            }
        }
        out
    }

    /// Reads every matching file and returns the groups of all of them, in
    /// file-name order. Files that fail keep their previous groups.
    pub fn refresh(&mut self) -> Vec<TargetGroup> {
        metrics::FILE_SCANS.inc();
        let mut files = BTreeMap::new();
        for path in self.list_files() {
            let groups = match read_file(&path) {
                Ok(g) => g,
                Err(e) => {
                    metrics::FILE_READ_ERRORS.inc();
                    tracing::error!(err = %e, "file_sd: error reading file; keeping its previous targets");
                    self.files.remove(&path).unwrap_or_default()
                }
            };
            files.insert(path, groups);
        }
        self.files = files;
        self.files.values().flatten().cloned().collect()
    }

    /// The directories to watch: the directory part of every pattern.
    fn dirs(&self) -> Vec<PathBuf> {
        self.patterns
            .iter()
            .map(|p| match Path::new(p).parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            })
            .collect()
    }

    fn watch_dirs(&mut self, w: &mut notify::RecommendedWatcher) {
        for dir in self.dirs() {
            if self.watched.contains(&dir) {
                continue;
            }
            match w.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.unwatchable.remove(&dir);
                    self.watched.insert(dir);
                }
                Err(e) => {
                    // Retried at every refresh; logged once until it works.
                    if self.unwatchable.insert(dir.clone()) {
                        tracing::error!(path = %dir.display(), err = %e, "file_sd: error adding file watch");
                    }
                }
            }
        }
    }
}

/// Whether a file-system event may change what the files hold. Our own reads
/// cause open/close events, which must not trigger another read.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// Runs the provider until `tx` is closed, sending the full list of groups
/// whenever it changes (and once at the start).
pub async fn run(cfg: FileSdConfig, tx: mpsc::Sender<Vec<TargetGroup>>) {
    let mut sd = FileDiscovery::new(cfg.files);
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<()>();
    let handler = move |res: notify::Result<notify::Event>| match res {
        Ok(ev) if is_change(&ev.kind) => {
            let _ = ev_tx.send(());
        }
        Ok(_) => {}
        Err(e) => tracing::error!(err = %e, "file_sd: error watching files"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!(err = %e, "file_sd: cannot watch files; polling them every second");
            None
        }
    };
    let mut last_sent: Option<Vec<TargetGroup>> = None;
    loop {
        if let Some(w) = watcher.as_mut() {
            sd.watch_dirs(w);
        }
        let groups = sd.refresh();
        if last_sent.as_ref() != Some(&groups) {
            if tx.send(groups.clone()).await.is_err() {
                return;
            }
            last_sent = Some(groups);
        }
        let wait = match watcher {
            Some(_) => cfg.refresh_interval.to_std(),
            None => POLL_WITHOUT_WATCHER,
        };
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(wait) => {}
            ev = ev_rx.recv(), if watcher.is_some() => {
                if ev.is_none() {
                    watcher = None;
                    continue;
                }
                // Let a burst of writes finish, then read once.
                while let Ok(Some(())) = tokio::time::timeout(SETTLE, ev_rx.recv()).await {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_yaml_files_with_sources_and_filepath() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("a.json");
        std::fs::write(
            &j,
            r#"[{"targets": ["h1:1"]}, {"targets": ["h2:2"], "labels": {"x": "y"}}]"#,
        )
        .unwrap();
        let y = dir.path().join("b.YML");
        std::fs::write(&y, "- targets: [h3:3]\n").unwrap();
        let g = read_file(&j).unwrap();
        let jn = j.display().to_string();
        assert_eq!(g[1].source, format!("{jn}:1"));
        assert_eq!(g[1].labels[FILEPATH_LABEL], jn);
        assert_eq!(g[1].labels["x"], "y");
        assert_eq!(read_file(&y).unwrap()[0].targets[0]["__address__"], "h3:3");
    }

    #[test]
    fn broken_files_keep_their_last_groups_and_deleted_files_lose_them() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = dir.path().join("*.yml").display().to_string();
        let mut sd = FileDiscovery::new(vec![pattern]);
        let a = dir.path().join("a.yml");
        let b = dir.path().join("b.yml");
        std::fs::write(&a, "- targets: [a:1]\n").unwrap();
        std::fs::write(&b, "- targets: [b:1]\n").unwrap();
        assert_eq!(sd.refresh().len(), 2);
        std::fs::write(&a, "- targets: [a:1\n").unwrap();
        let g = sd.refresh();
        assert_eq!(g.len(), 2, "a broken file keeps its groups: {g:?}");
        assert_eq!(g[0].targets[0]["__address__"], "a:1");
        std::fs::remove_file(&b).unwrap();
        let g = sd.refresh();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].source, format!("{}:0", a.display()));
    }

    #[test]
    fn read_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(&p, "[{\"targets\": [\"a\"]},\n {\"targets\": [}]").unwrap();
        let e = read_file(&p).unwrap_err().to_string();
        assert!(e.starts_with(&p.display().to_string()) && e.contains("line 2"), "{e}");
        let e = read_file(&dir.path().join("missing.json")).unwrap_err().to_string();
        assert!(e.contains("missing.json"), "{e}");
    }

    #[test]
    fn own_reads_are_not_changes() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(is_change(&EventKind::Remove(notify::event::RemoveKind::File)));
        assert!(!is_change(&EventKind::Modify(ModifyKind::Metadata(
            notify::event::MetadataKind::Permissions
        ))));
    }
}
