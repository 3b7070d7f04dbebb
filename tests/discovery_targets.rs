//! Target construction (spec §2.2), with the cases of upstream's
//! `TestPopulateLabels`, `TestTargetURL` and `TestTargetsFromGroup` in their
//! 3.x form (no default port), plus our own.

use strata::config::{load_str, ScrapeConfig, Source};
use strata::discovery::targets::{build_target, build_targets, scrape_url, HISTOGRAM_OPTION_LABELS};
use strata::discovery::{LabelSet, TargetGroup};
use strata::labels::LabelsBuilder;

/// A job from YAML lines under `- job_name: job`.
fn job(extra: &str) -> ScrapeConfig {
    let text = format!("scrape_configs:\n  - job_name: job\n{extra}");
    let mut cfg = load_str(Source::Embedded, &text).unwrap_or_else(|e| panic!("{text}\n{e}"));
    cfg.scrape_configs.remove(0)
}

/// The usual job of the upstream cases: https, /metrics, 1s/1s.
fn https_job(extra: &str) -> ScrapeConfig {
    job(&format!(
        "    scheme: https\n    metrics_path: /metrics\n    scrape_interval: 1s\n    scrape_timeout: 1s\n{extra}"
    ))
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// `pairs` plus the histogram option labels every 3.x target carries.
fn with_hist(pairs: &[(&str, &str)]) -> LabelSet {
    let mut l = ls(pairs);
    for (n, v) in HISTOGRAM_OPTION_LABELS {
        l.insert(n.to_string(), v.to_string());
    }
    l
}

struct Case {
    name: &'static str,
    input: LabelSet,
    cfg: ScrapeConfig,
    /// Final labels, or empty when an error is expected.
    res: LabelSet,
    /// Discovered labels (checked on success only, as upstream does).
    orig: LabelSet,
    err: &'static str,
}

#[test]
fn populate_labels_cases_from_upstream() {
    let relabel_custom_to_address =
        "    relabel_configs:\n      - {source_labels: [custom], regex: '(.*)', replacement: '${1}', target_label: __address__}\n";
    let cases = vec![
        Case {
            name: "regular population of scrape config options",
            input: ls(&[("__address__", "1.2.3.4:1000"), ("custom", "value")]),
            cfg: https_job(""),
            res: with_hist(&[
                ("__address__", "1.2.3.4:1000"),
                ("instance", "1.2.3.4:1000"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
                ("custom", "value"),
            ]),
            orig: with_hist(&[
                ("__address__", "1.2.3.4:1000"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("custom", "value"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            err: "",
        },
        Case {
            name: "pre-defined labels win over the job's; no port is added",
            input: ls(&[
                ("__address__", "1.2.3.4"),
                ("__scheme__", "http"),
                ("__metrics_path__", "/custom"),
                ("job", "custom-job"),
                ("__scrape_interval__", "2s"),
                ("__scrape_timeout__", "2s"),
            ]),
            cfg: https_job(""),
            res: with_hist(&[
                ("__address__", "1.2.3.4"),
                ("instance", "1.2.3.4"),
                ("__scheme__", "http"),
                ("__metrics_path__", "/custom"),
                ("job", "custom-job"),
                ("__scrape_interval__", "2s"),
                ("__scrape_timeout__", "2s"),
            ]),
            orig: with_hist(&[
                ("__address__", "1.2.3.4"),
                ("__scheme__", "http"),
                ("__metrics_path__", "/custom"),
                ("job", "custom-job"),
                ("__scrape_interval__", "2s"),
                ("__scrape_timeout__", "2s"),
            ]),
            err: "",
        },
        Case {
            name: "instance label provided; IPv6 address kept as is",
            input: ls(&[("__address__", "[::1]"), ("instance", "custom-instance")]),
            cfg: https_job(""),
            res: with_hist(&[
                ("__address__", "[::1]"),
                ("instance", "custom-instance"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            orig: with_hist(&[
                ("__address__", "[::1]"),
                ("instance", "custom-instance"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            err: "",
        },
        Case {
            name: "address label missing",
            input: ls(&[("custom", "value")]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "no address",
        },
        Case {
            name: "address label missing, but added in relabelling",
            input: ls(&[("custom", "host:1234")]),
            cfg: https_job(relabel_custom_to_address),
            res: with_hist(&[
                ("__address__", "host:1234"),
                ("instance", "host:1234"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
                ("custom", "host:1234"),
            ]),
            orig: with_hist(&[
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
                ("custom", "host:1234"),
            ]),
            err: "",
        },
        Case {
            name: "invalid duration in interval label",
            input: ls(&[("__address__", "1.2.3.4:1000"), ("__scrape_interval__", "2notseconds")]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "error parsing scrape interval: unknown unit \"notseconds\" in duration \"2notseconds\"",
        },
        Case {
            name: "invalid duration in timeout label",
            input: ls(&[("__address__", "1.2.3.4:1000"), ("__scrape_timeout__", "2notseconds")]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "error parsing scrape timeout: unknown unit \"notseconds\" in duration \"2notseconds\"",
        },
        Case {
            name: "zero interval",
            input: ls(&[("__address__", "1.2.3.4:1000"), ("__scrape_interval__", "0s")]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "scrape interval cannot be 0",
        },
        Case {
            name: "zero timeout",
            input: ls(&[("__address__", "1.2.3.4:1000"), ("__scrape_timeout__", "0s")]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "scrape timeout cannot be 0",
        },
        Case {
            name: "timeout greater than interval",
            input: ls(&[
                ("__address__", "1.2.3.4:1000"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "2s"),
            ]),
            cfg: https_job(""),
            res: LabelSet::new(),
            orig: LabelSet::new(),
            err: "scrape timeout cannot be greater than scrape interval (\"2s\" > \"1s\")",
        },
        Case {
            name: "don't attach default port",
            input: ls(&[("__address__", "1.2.3.4")]),
            cfg: https_job(""),
            res: with_hist(&[
                ("__address__", "1.2.3.4"),
                ("instance", "1.2.3.4"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            orig: with_hist(&[
                ("__address__", "1.2.3.4"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            err: "",
        },
        Case {
            name: "explicit default port (http) is kept",
            input: ls(&[("__address__", "1.2.3.4:80")]),
            cfg: job("    scheme: http\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"),
            res: with_hist(&[
                ("__address__", "1.2.3.4:80"),
                ("instance", "1.2.3.4:80"),
                ("__scheme__", "http"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            orig: with_hist(&[
                ("__address__", "1.2.3.4:80"),
                ("__scheme__", "http"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            err: "",
        },
        Case {
            name: "explicit default port (https) is kept",
            input: ls(&[("__address__", "1.2.3.4:443")]),
            cfg: https_job(""),
            res: with_hist(&[
                ("__address__", "1.2.3.4:443"),
                ("instance", "1.2.3.4:443"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            orig: with_hist(&[
                ("__address__", "1.2.3.4:443"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/metrics"),
                ("job", "job"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "1s"),
            ]),
            err: "",
        },
    ];
    let mut lb = LabelsBuilder::new();
    for c in cases {
        match build_target(&mut lb, &c.cfg, &c.input, &LabelSet::new()) {
            Ok(t) => {
                assert!(
                    c.err.is_empty(),
                    "{}: want error {:?}, got target {:?}",
                    c.name,
                    c.err,
                    t.labels
                );
                assert_eq!(t.labels, c.res, "{}: final labels", c.name);
                assert_eq!(t.discovered_labels, c.orig, "{}: discovered labels", c.name);
            }
            Err(d) => {
                assert_eq!(d.reason.as_deref(), Some(c.err), "{}", c.name);
                assert!(c.res.is_empty(), "{}: unexpected failure", c.name);
            }
        }
    }
}

/// Upstream `TestTargetURL`: `__param_` labels replace the first value of a
/// parameter or add it; keys come out sorted.
#[test]
fn url_params_are_overridden_by_param_labels() {
    let cfg = job("    params:\n      abc: [foo, bar, baz]\n      xyz: [hoo]\n");
    let labels = ls(&[
        ("__address__", "example.com:1234"),
        ("__scheme__", "https"),
        ("__metrics_path__", "/metricz"),
        ("__param_abc", "overwrite"),
        ("__param_cde", "huu"),
    ]);
    assert_eq!(
        scrape_url(&labels, &cfg.params),
        "https://example.com:1234/metricz?abc=overwrite&abc=bar&abc=baz&cde=huu&xyz=hoo"
    );
}

#[test]
fn scrape_url_escapes_as_go_does() {
    let none = Default::default();
    for (addr, path, params, want) in [
        (
            "127.0.0.1:19100",
            "/metrics",
            vec![("foo", "bar")],
            "http://127.0.0.1:19100/metrics?foo=bar",
        ),
        (
            "[::1]:9090",
            "/federate",
            vec![("match[]", "{__name__=~\"job:.*\"}")],
            "http://[::1]:9090/federate?match%5B%5D=%7B__name__%3D~%22job%3A.%2A%22%7D",
        ),
        ("h:1", "/a b/ü", vec![("q", "x y")], "http://h:1/a%20b/%C3%BC?q=x+y"),
        ("h:1", "metrics", vec![], "http://h:1/metrics"),
        ("h:1", "", vec![], "http://h:1"),
    ] {
        let mut l = ls(&[
            ("__address__", addr),
            ("__scheme__", "http"),
            ("__metrics_path__", path),
        ]);
        for (k, v) in params {
            l.insert(format!("__param_{k}"), v.to_string());
        }
        assert_eq!(scrape_url(&l, &none), want);
    }
}

/// Upstream `TestTargetsFromGroup`.
#[test]
fn a_target_without_address_fails_and_the_others_are_built() {
    let cfg = job("    scrape_interval: 1m\n    scrape_timeout: 10s\n");
    let g = TargetGroup {
        source: String::new(),
        targets: vec![LabelSet::new(), ls(&[("__address__", "localhost:9090")])],
        labels: LabelSet::new(),
    };
    let (active, dropped) = build_targets(&cfg, &[g], cfg.name_validation_scheme());
    assert_eq!(active.len(), 1);
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0].failure_message().as_deref(),
        Some("instance 0 in group : no address")
    );
    assert_eq!(active[0].url, "http://localhost:9090/metrics");
    assert_eq!(active[0].interval.to_string(), "1m");
    assert_eq!(active[0].timeout.to_string(), "10s");
}

/// Upstream `TestTargetsFromGroupWithLabelKeepDrop`: labelkeep/labeldrop
/// also act on `__` labels, so losing `__address__` fails the target.
#[test]
fn labelkeep_and_labeldrop_can_remove_the_address() {
    for rules in [
        "    relabel_configs:\n      - {regex: foo, action: labelkeep}\n",
        "    relabel_configs:\n      - {regex: __address__, action: labeldrop}\n",
    ] {
        let cfg = job(rules);
        let groups = [TargetGroup::from_addresses("", ["localhost:9090"], LabelSet::new())];
        let (active, dropped) = build_targets(&cfg, &groups, cfg.name_validation_scheme());
        assert!(active.is_empty(), "{rules}");
        assert_eq!(dropped[0].reason.as_deref(), Some("no address"), "{rules}");
    }
}

#[test]
fn group_labels_fill_in_meta_labels_go_and_samples_see_no_internal_labels() {
    let cfg = job(concat!(
        "    params: {module: [icmp]}\n",
        "    relabel_configs:\n",
        "      - {source_labels: [__meta_dc], target_label: dc}\n",
        "      - {source_labels: [__address__], target_label: __param_target}\n",
        "      - {target_label: __address__, replacement: 'prober:9115'}\n",
    ));
    let g = TargetGroup {
        source: "f.yml:0".into(),
        targets: vec![ls(&[("__address__", "10.0.0.1"), ("rack", "own")])],
        labels: ls(&[("rack", "group"), ("zone", "z1"), ("__meta_dc", "fra1")]),
    };
    let (active, _) = build_targets(&cfg, &[g], cfg.name_validation_scheme());
    let t = &active[0];
    assert_eq!(t.discovered_labels["rack"], "own", "the target's own label wins");
    assert_eq!(t.discovered_labels["__param_module"], "icmp");
    assert_eq!(t.discovered_labels["__meta_dc"], "fra1");
    assert!(!t.labels.contains_key("__meta_dc"));
    assert_eq!(t.labels["dc"], "fra1");
    assert_eq!(t.labels["instance"], "prober:9115");
    assert_eq!(t.url, "http://prober:9115/metrics?module=icmp&target=10.0.0.1");
    let sample_labels: Vec<(&str, &str)> = t.target_labels.iter().collect();
    assert_eq!(
        sample_labels,
        [
            ("dc", "fra1"),
            ("instance", "prober:9115"),
            ("job", "job"),
            ("rack", "own"),
            ("zone", "z1")
        ]
    );
}

#[test]
fn relabeling_may_change_interval_timeout_and_scheme_per_target() {
    let cfg = job(concat!(
        "    scrape_interval: 30s\n",
        "    relabel_configs:\n",
        "      - {source_labels: [slow], regex: 'yes', target_label: __scrape_interval__, replacement: 1m30s}\n",
        "      - {source_labels: [slow], regex: 'yes', target_label: __scheme__, replacement: https}\n",
        "      - {source_labels: [gone], regex: 'yes', target_label: __scrape_interval__, replacement: ''}\n",
    ));
    let g = TargetGroup {
        source: "0".into(),
        targets: vec![
            ls(&[("__address__", "a:1"), ("slow", "yes")]),
            ls(&[("__address__", "b:1")]),
            ls(&[("__address__", "c:1"), ("gone", "yes")]),
        ],
        labels: LabelSet::new(),
    };
    let (active, dropped) = build_targets(&cfg, &[g], cfg.name_validation_scheme());
    assert_eq!(active[0].interval.to_string(), "1m30s");
    assert_eq!(active[0].url, "https://a:1/metrics");
    assert_eq!(active[1].interval.to_string(), "30s");
    assert_eq!(active[1].timeout.to_string(), "10s");
    assert_eq!(
        dropped[0].reason.as_deref(),
        Some("error parsing scrape interval: empty duration string")
    );
}

#[test]
fn urls_in_addresses_are_refused() {
    let cfg = job("");
    let g = TargetGroup::from_addresses("0", ["http://host:80/metrics"], LabelSet::new());
    let (_, dropped) = build_targets(&cfg, &[g], cfg.name_validation_scheme());
    assert_eq!(
        dropped[0].reason.as_deref(),
        Some("\"http://host:80/metrics\" is not a valid hostname")
    );
}

#[test]
fn dropped_targets_keep_their_discovered_labels_up_to_the_limit() {
    let addrs: Vec<String> = (0..5).map(|i| format!("h{i}:1")).collect();
    let rules = "    relabel_configs:\n      - {source_labels: [__address__], regex: 'h[0-3]:1', action: drop}\n";
    for (limit, want) in [("", 4), ("    keep_dropped_targets: 2\n", 2)] {
        let cfg = job(&format!("{limit}{rules}"));
        let g = TargetGroup::from_addresses("g", &addrs, LabelSet::new());
        let (active, dropped) = build_targets(&cfg, &[g], cfg.name_validation_scheme());
        assert_eq!(active.len(), 1);
        assert_eq!(dropped.len(), want, "limit {limit:?}");
        assert_eq!(dropped[0].reason, None);
        assert_eq!(dropped[0].discovered_labels["__address__"], "h0:1");
        assert_eq!(dropped[1].discovered_labels["job"], "job");
        assert_eq!((dropped[1].source.as_str(), dropped[1].index), ("g", 1));
    }
}
