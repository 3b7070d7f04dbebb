//! Prometheus's own `promtool check config` (Debian's, 2.42 in CI) accepts the
//! shipped configurations, and agrees with strata on a set of good and bad ones.
//! Skips, saying so, when promtool is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `Some(promtool)` when it runs here.
fn promtool() -> Option<&'static str> {
    let ok = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("NOTICE: promtool is not installed; skipping the comparison with Prometheus");
    }
    ok.then_some("promtool")
}

fn promtool_check(tool: &str, file: &Path) -> (bool, String) {
    let out = Command::new(tool).args(["check", "config"]).arg(file).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn promtool_accepts_every_shipped_configuration() {
    let Some(tool) = promtool() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("config/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(repo().join("config/strata.yml"));
    for f in &files {
        let (ok, out) = promtool_check(tool, f);
        assert!(ok, "promtool refused {}:\n{out}", f.display());
    }
}

#[test]
fn promtool_and_strata_agree_on_good_and_bad_configurations() {
    let Some(tool) = promtool() else { return };
    let cases: &[(&str, bool)] = &[
        ("global:\n  scrape_interval: 15s\n", true),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n", false),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", false),
        ("scrape_configs:\n  - job_name: a\n    bogus_field: 1\n", false),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {source_labels: [x], action: hashmod, target_label: y}\n", false),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {source_labels: [x], action: hashmod, modulus: 3, target_label: y}\n", true),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {regex: '(', action: drop}\n", false),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: labeldrop, regex: x, target_label: y}\n", false),
        ("scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['http://x:1']}]\n", false),
        ("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n", false),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 1.5m\n", false),
        ("scrape_configs:\n  - job_name: a\n    body_size_limit: 10MB\n    sample_limit: 100\n", true),
        ("scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [x.example], type: A}]\n", false),
        ("scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [_x._tcp.example]}]\n", true),
        ("scrape_configs:\n  - job_name: a\n    http_sd_configs: [{url: 'ftp://x/'}]\n", false),
        ("rule_files: ['a/*/b.yml']\n", false),
        ("alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['am:9093']}]\n      timeout: 5s\n", true),
        ("remote_write:\n  - url: http://x/\n    headers: {User-Agent: y}\n", false),
        ("remote_write:\n  - url: http://x/\n    queue_config: {max_shards: 5}\n", true),
        ("global:\n  external_labels: {dc: eu-1}\n", true),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (yaml, want_ok)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("case{i}.yml"));
        std::fs::write(&f, yaml).unwrap();
        let (prom_ok, prom_out) = promtool_check(tool, &f);
        assert_eq!(prom_ok, *want_ok, "promtool on\n{yaml}\n{prom_out}");
        let ours = strata::config::load(Some(&f));
        assert_eq!(ours.is_ok(), *want_ok, "strata on\n{yaml}\n{:?}", ours.err());
    }
}
