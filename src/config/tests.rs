//! Table tests of loading: good configurations and their resolved values, and
//! refusals (mostly ported from upstream `config/testdata/*.bad.yml`) with the
//! expected message, path and position.

use super::*;
use crate::relabel::Action;

fn load_named(name: &str, yaml: &str) -> Result<Config, ConfigError> {
    load_str(Source::File(PathBuf::from(name)), yaml)
}

fn ok(yaml: &str) -> Config {
    load_named("/etc/strata/strata.yml", yaml).unwrap_or_else(|e| panic!("{yaml}\n=> {e}"))
}

#[test]
fn embedded_default_loads() {
    let c = load(None).unwrap();
    assert_eq!(c.source, Source::Embedded);
    assert_eq!(c.scrape_configs[0].job_name, "strata");
    assert_eq!(c.global.scrape_interval.to_string(), "15s");
}

#[test]
fn empty_files_get_prometheus_defaults() {
    for yaml in ["", "global:\n", "global: {}\n", "# nothing\n"] {
        let c = ok(yaml);
        let g = &c.global;
        assert_eq!(
            (
                g.scrape_interval.to_string(),
                g.scrape_timeout.to_string(),
                g.evaluation_interval.to_string()
            ),
            ("1m".into(), "10s".into(), "1m".into()),
            "{yaml:?}"
        );
        assert_eq!(g.rule_query_offset, PromDuration(0));
        assert!(c.scrape_configs.is_empty() && c.rule_files.is_empty() && c.remote_write.is_empty());
        assert!(c.warnings.is_empty());
    }
}

#[test]
fn jobs_inherit_from_global() {
    let c = ok(r#"
global:
  scrape_interval: 15s
  scrape_timeout: 12s
  sample_limit: 1500
  target_limit: 30
  label_limit: 31
  label_name_length_limit: 200
  label_value_length_limit: 201
  body_size_limit: 15MB
  keep_dropped_targets: 7
scrape_configs:
  - job_name: inherits
  - job_name: short
    scrape_interval: 5s
  - job_name: own
    scrape_interval: 50s
    scrape_timeout: 5s
    sample_limit: 1000
    body_size_limit: 10MB
    scrape_protocols: [PrometheusText0.0.4]
    metrics_path: /my_path
    scheme: https
    honor_labels: true
    honor_timestamps: false
    enable_compression: false
    fallback_scrape_protocol: PrometheusText0.0.4
    params:
      module: [http_2xx]
"#);
    let [inherits, short, own] = &c.scrape_configs[..] else {
        panic!("three jobs")
    };
    assert_eq!(inherits.scrape_interval.to_string(), "15s");
    assert_eq!(inherits.scrape_timeout.to_string(), "12s");
    assert_eq!(
        (inherits.sample_limit, inherits.target_limit, inherits.label_limit),
        (1500, 30, 31)
    );
    assert_eq!(
        (inherits.label_name_length_limit, inherits.label_value_length_limit),
        (200, 201)
    );
    assert_eq!(
        (inherits.body_size_limit, inherits.keep_dropped_targets),
        (ByteSize(15 << 20), 7)
    );
    assert_eq!(inherits.protocols(), ScrapeProtocol::DEFAULT);
    assert_eq!(inherits.metrics_path, "/metrics");
    assert_eq!(inherits.scheme, Scheme::Http);
    assert!(!inherits.honor_labels && inherits.honor_timestamps && inherits.enable_compression);
    assert!(!inherits.track_timestamps_staleness);
    assert!(inherits.http_client.follow_redirects && inherits.http_client.enable_http2);
    assert_eq!(inherits.fallback_scrape_protocol, FallbackProtocol(None));
    // An inferred timeout never exceeds the job's interval.
    assert_eq!(
        (short.scrape_interval.to_string(), short.scrape_timeout.to_string()),
        ("5s".into(), "5s".into())
    );
    assert_eq!(
        (own.scrape_interval.to_string(), own.scrape_timeout.to_string()),
        ("50s".into(), "5s".into())
    );
    assert_eq!((own.sample_limit, own.body_size_limit), (1000, ByteSize(10 << 20)));
    assert_eq!(own.protocols(), [ScrapeProtocol::PrometheusText0_0_4]);
    assert_eq!((own.metrics_path.as_str(), own.scheme.as_str()), ("/my_path", "https"));
    assert!(own.honor_labels && !own.honor_timestamps && !own.enable_compression);
    assert_eq!(
        own.fallback_scrape_protocol,
        FallbackProtocol(Some(ScrapeProtocol::PrometheusText0_0_4))
    );
    assert_eq!(own.params["module"], ["http_2xx"]);
}

#[test]
fn relative_file_names_are_joined_with_the_config_directory() {
    let c = ok(r#"
rule_files: [first.rules, "my/*.rules", ../rules/node.rules.yml, /abs/x.yml]
scrape_configs:
  - job_name: files
    bearer_token_file: secrets/token
    tls_config: {ca_file: ca.pem, cert_file: /pki/c.pem, key_file: k.pem}
    file_sd_configs:
      - files: [foo/*.slow.json, single/file.yml]
        refresh_interval: 10m
      - files: [bar/*.yaml]
  - job_name: basic
    basic_auth: {username: admin_name, password_file: pw}
"#);
    assert_eq!(
        c.rule_files,
        [
            "/etc/strata/first.rules",
            "/etc/strata/my/*.rules",
            "/etc/rules/node.rules.yml",
            "/abs/x.yml"
        ]
    );
    let files = &c.scrape_configs[0];
    let auth = files.http_client.authorization.as_ref().unwrap();
    assert_eq!(
        (auth.kind.as_str(), auth.credentials_file.as_str()),
        ("Bearer", "/etc/strata/secrets/token")
    );
    let tls = &files.http_client.tls_config;
    assert_eq!(
        (tls.ca_file.as_str(), tls.cert_file.as_str(), tls.key_file.as_str()),
        ("/etc/strata/ca.pem", "/pki/c.pem", "/etc/strata/k.pem")
    );
    assert_eq!(
        files.file_sd_configs[0].files,
        ["/etc/strata/foo/*.slow.json", "/etc/strata/single/file.yml"]
    );
    assert_eq!(files.file_sd_configs[0].refresh_interval.to_string(), "10m");
    assert_eq!(files.file_sd_configs[1].refresh_interval.to_string(), "5m");
    let basic = c.scrape_configs[1].http_client.basic_auth.as_ref().unwrap();
    assert_eq!(
        (basic.username.as_str(), basic.password_file.as_str()),
        ("admin_name", "/etc/strata/pw")
    );
}

#[test]
fn discovery_alerting_and_remote_write_sections() {
    let c = ok(r#"
global:
  external_labels: {monitor: codelab, foo: bar, empty: ""}
scrape_configs:
  - job_name: service-x
    static_configs:
      - targets: [localhost:9090, localhost:9191]
        labels: {my: label, your: label}
    dns_sd_configs:
      - refresh_interval: 15s
        names: [first.dns.address.domain.com, second.dns.address.domain.com]
      - names: [first.dns.address.domain.com]
      - names: [a.example.org]
        type: A
        port: 9100
    http_sd_configs:
      - url: http://example.com/prometheus
        refresh_interval: 60s
    relabel_configs:
      - source_labels: [job]
        regex: (.*)some-[regex]
        action: drop
      - source_labels: [__address__]
        modulus: 8
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: 1
        action: keep
      - action: labelmap
        regex: 1
      - action: labeldrop
        regex: d
      - action: labelkeep
        regex: k
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: expensive_metric.*
        action: drop
alerting:
  alert_relabel_configs:
    - {source_labels: [dc], target_label: dc, regex: (.+)\d+, replacement: $1}
  alertmanagers:
    - scheme: https
      path_prefix: /am
      static_configs:
        - targets: [1.2.3.4:9093, 1.2.3.5:9093]
    - file_sd_configs: [{files: [am/*.json]}]
remote_write:
  - url: http://remote1/push
    name: drop_expensive
    write_relabel_configs:
      - source_labels: [__name__]
        regex: expensive.*
        action: drop
  - url: http://remote2/push
    name: rw_tls
    headers: {name: value}
    queue_config: {max_shards: 10}
"#);
    assert_eq!(
        c.global.external_labels().collect::<Vec<_>>(),
        [("foo", "bar"), ("monitor", "codelab")]
    );
    let job = &c.scrape_configs[0];
    assert_eq!(job.static_configs[0].targets, ["localhost:9090", "localhost:9191"]);
    assert_eq!(job.static_configs[0].labels.0["your"], "label");
    let dns = &job.dns_sd_configs;
    assert_eq!(
        (dns[0].refresh_interval.to_string(), dns[1].refresh_interval.to_string()),
        ("15s".into(), "30s".into())
    );
    assert_eq!((dns[2].record_type, dns[2].port), (DnsRecordType::A, 9100));
    assert_eq!(job.http_sd_configs[0].refresh_interval.to_string(), "1m");
    let actions: Vec<Action> = job.relabel_configs.iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        [
            Action::Drop,
            Action::HashMod,
            Action::Keep,
            Action::LabelMap,
            Action::LabelDrop,
            Action::LabelKeep
        ]
    );
    assert_eq!(job.relabel_configs[1].modulus, 8);
    assert_eq!(job.metric_relabel_configs[0].regex.as_str(), "expensive_metric.*");
    let sd = job.service_discovery();
    assert_eq!(
        (
            sd.static_configs.len(),
            sd.dns_sd_configs.len(),
            sd.http_sd_configs.len()
        ),
        (1, 3, 1)
    );

    let am = &c.alerting.alertmanagers;
    assert_eq!((am[0].scheme, am[0].path_prefix.as_str()), (Scheme::Https, "/am"));
    assert_eq!(
        (am[0].timeout.to_string(), am[0].api_version),
        ("10s".into(), AlertmanagerApiVersion::V2)
    );
    assert_eq!(am[1].file_sd_configs[0].files, ["/etc/strata/am/*.json"]);
    assert_eq!(c.alerting.alert_relabel_configs[0].replacement, "$1");

    let rw = &c.remote_write;
    assert_eq!(
        (rw[0].remote_timeout.to_string(), rw[0].queue_config.clone()),
        ("30s".into(), QueueConfig::default())
    );
    assert!(!rw[0].http_client.enable_http2 && rw[0].http_client.follow_redirects);
    assert_eq!(
        (rw[1].queue_config.max_shards, rw[1].queue_config.capacity),
        (10, 10_000)
    );
    assert_eq!(rw[1].headers.0["name"], "value");
    assert_eq!(rw[0].write_relabel_configs.0[0].action, Action::Drop);
}

#[test]
fn environment_variables_are_not_expanded_and_ignored_fields_warn() {
    let c = ok("global:\n  query_log_file: q.log\n  external_labels: {dc: $HOME, x: '${USER}'}\n");
    assert_eq!(
        c.global.external_labels().collect::<Vec<_>>(),
        [("dc", "$HOME"), ("x", "${USER}")]
    );
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("query_log_file"), "{:?}", c.warnings);
}

/// Where a refusal must point: YAML path, line, column.
type At<'a> = Option<(&'a str, usize, usize)>;

/// Refusals: (YAML, expected message part, expected `path` and `line:column` when given).
#[test]
fn bad_configs_are_refused_with_path_and_position() {
    let cases: &[(&str, &str, At)] = &[
        // jobname.bad.yml
        ("scrape_configs:\n  - job_name: ''\n", "job_name is empty", Some(("scrape_configs[0].job_name", 2, 15))),
        ("scrape_configs:\n  - scrape_interval: 5s\n", "job_name is empty", Some(("scrape_configs[0].job_name", 2, 5))),
        // jobname_dup.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n  - job_name: service-x\n  - job_name: prometheus\n",
            r#"found multiple scrape configs with job name "prometheus""#,
            Some(("scrape_configs[2].job_name", 4, 15)),
        ),
        // scrape_interval.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    scrape_interval: 5s\n    scrape_timeout:  6s\n",
            r#"scrape timeout greater than scrape interval for scrape config with job name "prometheus""#,
            Some(("scrape_configs[0].scrape_timeout", 4, 22)),
        ),
        (
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
            "global scrape timeout greater than scrape interval",
            Some(("global.scrape_timeout", 3, 19)),
        ),
        // labelname.bad.yml
        (
            "global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    not$allowed: value\n",
            r#""not$allowed" is not a valid label name"#,
            Some(("global.external_labels.not$allowed", 4, 18)),
        ),
        ("global:\n  external_labels:\n    '': value\n", r#""" is not a valid label name"#, None),
        ("global:\n  external_labels: {a: 1, a: 2}\n", "duplicate key \"a\"", None),
        // regex.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    relabel_configs:\n      - source_labels: [a]\n        regex: abc(def\n        target_label: x\n",
            "error parsing regexp",
            Some(("scrape_configs[0].relabel_configs[0].regex", 5, 16)),
        ),
        // modulus_missing.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    relabel_configs:\n      - {regex: abcdef, action: drop}\n      - source_labels: [__address__]\n        target_label: __tmp_hash\n        action: hashmod\n",
            "relabel configuration for hashmod requires non-zero modulus",
            Some(("scrape_configs[0].relabel_configs[1]", 5, 9)),
        ),
        // labelkeep*.bad.yml, labeldrop*.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    relabel_configs:\n      - source_labels: [abcdef]\n        action: labelkeep\n",
            "labelkeep action requires only 'regex', and no other fields",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: prometheus\n    metric_relabel_configs:\n      - replacement: yolo-{1}\n        action: labeldrop\n",
            "labeldrop action requires only 'regex', and no other fields",
            Some(("scrape_configs[0].metric_relabel_configs[0]", 4, 9)),
        ),
        // dropequal.bad.yml, keepequal1.bad.yml, lowercase*.bad.yml, uppercase*.bad.yml
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - source_labels: [a]\n        action: dropequal\n",
            "relabel configuration for dropequal action requires 'target_label' value",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - {source_labels: [a], target_label: b, regex: x, action: keepequal}\n",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - {source_labels: [a], action: lowercase}\n",
            "relabel configuration for lowercase action requires 'target_label' value",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - {source_labels: [a], target_label: b, replacement: c, action: uppercase}\n",
            "'replacement' can not be set for uppercase action",
            None,
        ),
        // target_label_missing.bad.yml, target_label_hashmod_missing.bad.yml
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - regex: abcdef\n        action: replace\n",
            "relabel configuration for replace action requires 'target_label' value",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - {source_labels: [__address__], modulus: 8, action: hashmod}\n",
            "relabel configuration for hashmod action requires 'target_label' value",
            None,
        ),
        // empty_scrape_config_action.bad.yml
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - source_labels: [a]\n        action:\n",
            "relabel action cannot be empty",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    relabel_configs:\n      - {action: hashmood}\n",
            r#"unknown relabel action "hashmood""#,
            Some(("scrape_configs[0].relabel_configs[0].action", 4, 18)),
        ),
        // rules.bad.yml, scrape_config_files_glob.bad.yml
        ("rule_files:\n  - 'my_rule'\n  - 'a/*/b.rules'\n", r#"invalid rule file path "a/*/b.rules""#, Some(("rule_files[1]", 3, 5))),
        (
            "scrape_config_files:\n  - scrape_configs/*/*\n",
            r#"invalid scrape config file path "scrape_configs/*/*""#,
            None,
        ),
        // unknown_attr.bad.yml, unknown_global_attr.bad.yml, section_key_dup.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    consult_sd_configs:\n      - server: localhost:1234\n",
            "unknown field `consult_sd_configs`",
            Some(("scrape_configs[0].consult_sd_configs", 3, 5)),
        ),
        ("global:\n  nonexistent_field: test\n", "unknown field `nonexistent_field`", Some(("global.nonexistent_field", 2, 3))),
        ("scrape_configs:\n  - job_name: a\nscrape_configs:\n  - job_name: b\n", "duplicate field `scrape_configs`", None),
        ("remote_read:\n  - url: http://x\n", "unknown field `remote_read`", None),
        // bearertoken.bad.yml, bearertoken_basicauth.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    bearer_token: 1234\n    bearer_token_file: somefile\n",
            "at most one of bearer_token & bearer_token_file must be configured",
            Some(("scrape_configs[0].bearer_token", 3, 19)),
        ),
        (
            "scrape_configs:\n  - job_name: prometheus\n    bearer_token: 1234\n    basic_auth:\n      username: user\n      password: password\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    authorization: {type: Basic, credentials: x}\n",
            r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
            None,
        ),
        (
            "scrape_configs:\n  - job_name: p\n    tls_config: {cert_file: c.pem}\n",
            "exactly one of key or key_file must be configured when a client certificate is configured",
            Some(("scrape_configs[0].tls_config", 3, 17)),
        ),
        // url_in_targetgroup.bad.yml
        (
            "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['http://bad']\n",
            r#""http://bad" is not a valid hostname"#,
            Some(("scrape_configs[0].static_configs[0].targets[0]", 4, 19)),
        ),
        // empty_*.bad.yml
        ("scrape_configs:\n  -\n", "empty or null scrape config section", None),
        ("remote_write:\n  -\n", "empty or null remote write config section", None),
        ("scrape_configs:\n  - job_name: p\n    relabel_configs:\n      -\n", "empty or null target relabeling rule", None),
        ("scrape_configs:\n  - job_name: p\n    metric_relabel_configs:\n      -\n", "empty or null metric relabeling rule", None),
        ("alerting:\n  alert_relabel_configs:\n    -\n", "empty or null alert relabeling rule", None),
        ("alerting:\n  alertmanagers:\n    - relabel_configs:\n        -\n", "empty or null Alertmanager target relabeling rule", None),
        ("remote_write:\n  - url: http://x/\n    write_relabel_configs:\n      -\n", "empty or null relabeling rule in remote write config", None),
        ("scrape_configs:\n  - job_name: p\n    static_configs:\n      -\n", "empty or null section in static_configs", None),
        // remote_write_*.bad.yml
        (
            "remote_write:\n  - url: localhost:9201/write\n    headers:\n      \"x-prometheus-remote-write-version\": \"42\"\n",
            "URL scheme must be 'http' or 'https'",
            None,
        ),
        (
            "remote_write:\n  - url: http://localhost:9201/write\n    headers:\n      \"x-prometheus-remote-write-version\": \"42\"\n",
            "x-prometheus-remote-write-version is a reserved header. It must not be changed",
            Some(("remote_write[0].headers.x-prometheus-remote-write-version", 4, 44)),
        ),
        (
            "remote_write:\n  - url: http://localhost/\n    headers: {Authorization: Bearer x}\n",
            "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter",
            None,
        ),
        ("remote_write:\n  - name: queue1\n", "url for remote_write is empty", Some(("remote_write[0]", 2, 5))),
        (
            "remote_write:\n  - url: http://localhost:9210\n    name: queue1\n  - url: http://localhost:9210\n    name: queue1\n",
            r#"found multiple remote write configs with job name "queue1""#,
            Some(("remote_write[1].name", 5, 11)),
        ),
        // scrape_body_size_limit.bad.yml
        ("scrape_configs:\n  - job_name: p\n    body_size_limit: 100\n", "not a valid size \"100\"", Some(("scrape_configs[0].body_size_limit", 3, 22))),
        // http_url_*.bad.yml, http_token_file.bad.yml
        ("scrape_configs:\n  - job_name: p\n    http_sd_configs:\n      - url: invalid\n", "URL scheme must be 'http' or 'https'", Some(("scrape_configs[0].http_sd_configs[0].url", 4, 14))),
        ("scrape_configs:\n  - job_name: p\n    http_sd_configs:\n      - url: http://\n", "host is missing in URL", None),
        ("scrape_configs:\n  - job_name: p\n    http_sd_configs:\n      - url: ftp://example.com\n", "URL scheme must be 'http' or 'https'", None),
        (
            "scrape_configs:\n  - job_name: p\n    http_sd_configs:\n      - url: http://foo.bar/x\n        bearer_token: x\n        bearer_token_file: y\n",
            "at most one of bearer_token & bearer_token_file must be configured",
            Some(("scrape_configs[0].http_sd_configs[0].bearer_token", 5, 23)),
        ),
        // scrape_config_files_scrape_protocols*.bad.yml, fallback_scrape_protocol*.bad.yml
        (
            "scrape_configs:\n  - job_name: node\n    scrape_protocols: [\"prometheusproto\"]\n",
            "unknown scrape protocol prometheusproto, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]",
            Some(("scrape_configs[0].scrape_protocols[0]", 3, 24)),
        ),
        (
            "scrape_configs:\n  - job_name: node\n    scrape_protocols: [\"OpenMetricsText1.0.0\", \"PrometheusProto\", \"OpenMetricsText1.0.0\"]\n",
            r#"duplicated protocol in scrape_protocols, got [OpenMetricsText1.0.0 PrometheusProto OpenMetricsText1.0.0] for scrape config with job name "node""#,
            None,
        ),
        ("scrape_configs:\n  - job_name: node\n    scrape_protocols: []\n", "scrape_protocols cannot be empty for scrape config with job name \"node\"", None),
        ("global:\n  scrape_protocols: []\n", "scrape_protocols cannot be empty for global config", None),
        (
            "scrape_configs:\n  - job_name: node\n    fallback_scrape_protocol: \"prometheusproto\"\n",
            "invalid fallback_scrape_protocol: unknown scrape protocol prometheusproto",
            None,
        ),
        // Durations, sizes and enumerations.
        ("global:\n  scrape_interval: 1.5m\n", r#"not a valid duration string: "1.5m""#, Some(("global.scrape_interval", 2, 20))),
        ("global:\n  evaluation_interval: 15\n", r#"not a valid duration string: "15""#, None),
        ("scrape_configs:\n  - job_name: p\n    scheme: ftp\n", r#"unknown scheme "ftp""#, None),
        ("alerting:\n  alertmanagers:\n    - api_version: v1\n", "expected Alertmanager api version to be one of [v2] but got v1", None),
        ("scrape_configs:\n  - job_name: p\n    dns_sd_configs: [{names: [x], type: A}]\n", "a port is required in DNS-SD configs", None),
        ("scrape_configs:\n  - job_name: p\n    file_sd_configs: [{files: [x.txt]}]\n", r#"path name "x.txt" is not valid for file discovery"#, None),
        ("scrape_configs:\n  - job_name: p\n    sample_limit: -1\n", "invalid type: integer `-1`", Some(("scrape_configs[0].sample_limit", 3, 19))),
        // Not YAML, or not the right shape.
        ("global:\n  scrape_interval: 'unterminated\n", "while scanning a quoted scalar", None),
        ("global: [\n", "invalid type: sequence, expected struct GlobalConfig", Some(("global", 1, 9))),
        ("- a\n", "invalid type: sequence", None),
        ("global: {}\n---\nglobal: {}\n", "more than one document", None),
    ];
    for (yaml, want, at) in cases {
        let err = match load_named("strata.yml", yaml) {
            Ok(_) => panic!("accepted:\n{yaml}"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(text.starts_with("strata.yml"), "{text}");
        assert!(text.contains(want), "{yaml}\nwant {want:?}\ngot  {text}");
        let ConfigError::Invalid { path, position, .. } = &err else {
            panic!("{err:?}")
        };
        // yaml_serde reports a second document without a position.
        if !want.contains("more than one document") {
            assert!(position.is_some(), "{yaml}: no position in {text}");
        }
        if let Some((want_path, line, column)) = at {
            assert_eq!(
                (path.as_str(), *position),
                (*want_path, Some((*line, *column))),
                "{yaml}\n{text}"
            );
        }
    }
}

#[test]
fn a_refusal_reads_file_line_column_path_message() {
    let yaml = "global:\n  scrape_interval: 15s\n\nscrape_configs:\n  - job_name: a\n  - job_name: node\n    scrape_interval: 10s\n    scrape_timeout: 20s\n";
    let e = load_named("strata.yml", yaml).unwrap_err().to_string();
    assert_eq!(
        e,
        r#"strata.yml:8:21: scrape_configs[1].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name "node""#
    );
    let e = load_named("strata.yml", "global:\n  scrape_intervall: 15s\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("strata.yml:2:3: global.scrape_intervall: unknown field `scrape_intervall`"),
        "{e}"
    );
}

#[test]
fn scrape_config_files_are_merged_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(
        d.join("jobs/a.yml"),
        "scrape_configs:\n  - job_name: blackbox\n    file_sd_configs: [{files: [targets/*.json]}]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("jobs/b.yml"),
        "scrape_configs:\n  - job_name: other\n    scrape_interval: 5s\n",
    )
    .unwrap();
    let main = d.join("strata.yml");
    std::fs::write(
        &main,
        "global:\n  scrape_interval: 20s\nscrape_config_files: [jobs/*.yml]\nscrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let c = load(Some(&main)).unwrap();
    let names: Vec<&str> = c.scrape_configs.iter().map(|s| s.job_name.as_str()).collect();
    assert_eq!(names, ["main", "blackbox", "other"]);
    assert_eq!(c.scrape_configs[1].scrape_interval.to_string(), "20s");
    assert_eq!(c.scrape_configs[2].scrape_timeout.to_string(), "5s");
    let targets = &c.scrape_configs[1].file_sd_configs[0].files[0];
    assert_eq!(targets, &d.join("jobs/targets/*.json").display().to_string());

    // A job name already used in the main file.
    std::fs::write(d.join("jobs/c.yml"), "scrape_configs:\n  - job_name: main\n").unwrap();
    let e = load(Some(&main)).unwrap_err().to_string();
    assert!(e.contains("jobs/c.yml:2:15: scrape_configs[0].job_name"), "{e}");
    assert!(
        e.contains(r#"found multiple scrape configs with job name "main", first found in main config file"#),
        "{e}"
    );
    // A job name used in another included file names that file.
    std::fs::write(d.join("jobs/c.yml"), "scrape_configs:\n  - job_name: other\n").unwrap();
    let e = load(Some(&main)).unwrap_err().to_string();
    assert!(e.contains("first found in \"") && e.contains("jobs/b.yml\""), "{e}");
    // Errors inside an included file point into that file.
    std::fs::write(d.join("jobs/c.yml"), "scrape_configs:\n  - job_name: c\n    bogus: 1\n").unwrap();
    let e = load(Some(&main)).unwrap_err().to_string();
    assert!(
        e.contains("jobs/c.yml:3:5: scrape_configs[0].bogus: unknown field `bogus`"),
        "{e}"
    );
}

#[test]
fn rule_file_globs_are_expanded_for_checks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("rules")).unwrap();
    std::fs::write(d.join("rules/a.yml"), "groups: []\n").unwrap();
    std::fs::write(d.join("rules/b.yml"), "groups: []\n").unwrap();
    let main = d.join("strata.yml");
    std::fs::write(&main, "rule_files: ['rules/*.yml', 'none/*.yml']\n").unwrap();
    let c = load(Some(&main)).unwrap();
    assert_eq!(
        c.rule_file_paths().unwrap(),
        [d.join("rules/a.yml"), d.join("rules/b.yml")]
    );
    std::fs::write(&main, "rule_files: ['rules/a.yml', 'missing.yml']\n").unwrap();
    let e = load(Some(&main)).unwrap().rule_file_paths().unwrap_err().to_string();
    assert!(
        e.contains("strata.yml:1:29: rule_files[1]: ")
            && e.contains("missing.yml\" does not point to an existing file"),
        "{e}"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let e = load(Some(Path::new("/nonexistent/strata.yml")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/strata.yml"), "{e}");
}

#[test]
fn join_dir_cleans_like_go() {
    for (dir, name, want) in [
        ("/etc/strata", "a.yml", "/etc/strata/a.yml"),
        ("/etc/strata", "../rules/x.yml", "/etc/rules/x.yml"),
        (
            "config/examples",
            "../rules/node.rules.yml",
            "config/rules/node.rules.yml",
        ),
        (".", "a/./b.yml", "a/b.yml"),
        (".", "../a.yml", "../a.yml"),
        ("/", "../a", "/a"),
        ("/etc", "/abs", "/abs"),
        ("/etc", "", ""),
    ] {
        assert_eq!(join_dir(Path::new(dir), name), want, "{dir} + {name}");
    }
}
