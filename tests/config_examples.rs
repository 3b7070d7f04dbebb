//! The shipped configurations (config/strata.yml, config/examples/*) load,
//! mean what their comments say, and pass `strata check config`.

use std::path::{Path, PathBuf};
use std::process::Command;

use strata::config::{self, Config, Source};
use strata::labels::LabelsBuilder;
use strata::relabel;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("config/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn load(name: &str) -> Config {
    let p = repo().join("config/examples").join(name);
    config::load(Some(&p)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_configuration_loads() {
    let files = examples();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "datacenter.yml",
        "global.yml",
        "master.yml",
        "shard-0.yml",
        "shard-3.yml",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "config/examples lacks {want}: {names:?}"
        );
    }
    for f in files.iter().chain([&repo().join("config/strata.yml")]) {
        let c = config::load(Some(f)).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.warnings.is_empty(), "{}: {:?}", f.display(), c.warnings);
        c.rule_file_paths().unwrap_or_else(|e| panic!("{e}"));
    }
    let embedded = config::load(None).unwrap();
    assert_eq!(embedded.source, Source::Embedded);
    assert_eq!(
        embedded.text,
        std::fs::read_to_string(repo().join("config/strata.yml")).unwrap()
    );
}

#[test]
fn datacenter_labels_its_series_and_records_node_aggregates() {
    let c = load("datacenter.yml");
    assert_eq!(
        c.global.external_labels().collect::<Vec<_>>(),
        [("datacenter", "eu-west-1")]
    );
    let rules = c.rule_file_paths().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        std::fs::canonicalize(&rules[0]).unwrap(),
        std::fs::canonicalize(repo().join("config/rules/node.rules.yml")).unwrap()
    );
    assert!(c.scrape_configs.iter().any(|j| j.job_name == "node"));
    assert_eq!(c.alerting.alertmanagers.len(), 1);
}

fn assert_federates(c: &Config, matcher: &str) {
    let job = &c.scrape_configs[0];
    assert!(job.honor_labels);
    assert_eq!(job.metrics_path, "/federate");
    assert_eq!(job.params["match[]"], [matcher]);
    assert!(job.scrape_timeout <= job.scrape_interval);
}

#[test]
fn global_and_master_federate_aggregates() {
    let global = load("global.yml");
    assert_federates(&global, r#"{__name__=~"^job:.*"}"#);
    assert!(global.scrape_configs[0].static_configs[0].targets.len() >= 2);
    assert_federates(&load("master.yml"), r#"{__name__=~"^slave:.*"}"#);
}

#[test]
fn the_four_shards_split_the_targets_exactly() {
    let mut owner: Vec<Option<usize>> = Vec::new();
    let mut all_targets: Vec<String> = Vec::new();
    for shard in 0..4 {
        let c = load(&format!("shard-{shard}.yml"));
        assert_eq!(
            c.global.external_labels().collect::<Vec<_>>(),
            [("shard", &*shard.to_string())]
        );
        let job = &c.scrape_configs[0];
        let targets = &job.static_configs[0].targets;
        if shard == 0 {
            all_targets = targets.clone();
            owner = vec![None; targets.len()];
        }
        assert_eq!(targets, &all_targets, "every shard lists the same targets");
        for (i, t) in targets.iter().enumerate() {
            let mut lb = LabelsBuilder::from_pairs([("__address__", t.as_str()), ("job", "node")]);
            if relabel::process(&job.relabel_configs, &mut lb) {
                assert_eq!(owner[i], None, "{t} kept by two shards");
                assert_eq!(lb.get("__tmp_hash"), shard.to_string());
                assert_eq!(relabel::hashmod(t, 4), shard as u64);
                owner[i] = Some(shard);
            }
        }
    }
    assert!(
        owner.iter().all(Option::is_some),
        "some target is kept by no shard: {owner:?}"
    );
}

fn strata_check(files: &[&Path]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["check", "config"])
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn strata_check_config_accepts_the_examples() {
    let files = examples();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, out, err) = strata_check(&paths);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    for f in &files {
        assert!(
            out.contains(&format!(
                " SUCCESS: {} is valid prometheus config file syntax",
                f.display()
            )),
            "{out}"
        );
    }
    assert!(out.contains("  SUCCESS: 1 rule files found"), "{out}");
}

#[test]
fn strata_check_config_fails_on_a_bad_file_and_names_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "scrape_configs:\n  - job_name: node\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
    )
    .unwrap();
    let good = repo().join("config/strata.yml");
    let (code, out, err) = strata_check(&[&good, &bad]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("Checking {}", bad.display())), "{out}");
    assert!(
        err.contains(&format!(
            "  FAILED: {}:4:9: scrape_configs[0].relabel_configs[0]: relabel configuration for hashmod requires non-zero modulus",
            bad.display()
        )),
        "{err}"
    );
    let (code, _, err) = strata_check(&[&dir.path().join("missing.yml")]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.yml"), "{err}");
}
