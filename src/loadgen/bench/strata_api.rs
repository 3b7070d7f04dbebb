//! Reading what a running strata says about itself: figures from its `/metrics` text and the
//! health of its targets from `/api/v1/targets`.

/// The counter of samples appended to the head (src/web/metrics.rs): the ingest figure.
pub const SAMPLES_APPENDED: &str = "strata_tsdb_head_samples_appended_total";
/// The gauge of series in the head: the active series.
pub const HEAD_SERIES: &str = "strata_tsdb_head_series";

/// The value of metric `name` in a Prometheus text body: the sum over all its series (one
/// series for strata's own unlabelled figures). `None` when no sample of that name is present
/// or a value does not parse.
pub fn metric_value(body: &str, name: &str) -> Option<f64> {
    let mut sum = None;
    for line in body.lines() {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // The name must end here: `foo_total` is not a sample of `foo`.
        let value_part = if let Some(labels) = rest.strip_prefix('{') {
            match labels.rfind('}') {
                Some(end) => &labels[end + 1..],
                None => return None,
            }
        } else if rest.starts_with([' ', '\t']) {
            rest
        } else {
            continue;
        };
        // An optional timestamp may follow the value.
        let v: f64 = value_part.split_ascii_whitespace().next()?.parse().ok()?;
        sum = Some(sum.unwrap_or(0.0) + v);
    }
    sum
}

/// How the active targets of a strata are doing, from a `/api/v1/targets` JSON answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetsHealth {
    /// Active targets listed.
    pub total: usize,
    /// Of those, the ones whose last scrape succeeded.
    pub up: usize,
    /// One failing target and its last error, to name in a message.
    pub first_problem: Option<String>,
}

/// Reads the active targets' health from a `/api/v1/targets` answer.
pub fn targets_health(body: &str) -> Result<TargetsHealth, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("/api/v1/targets: not JSON: {e}"))?;
    if v.get("status").and_then(|s| s.as_str()) != Some("success") {
        return Err(format!(
            "/api/v1/targets: status is not success: {}",
            truncate(body, 200)
        ));
    }
    let active = v
        .pointer("/data/activeTargets")
        .and_then(|a| a.as_array())
        .ok_or("/api/v1/targets: no data.activeTargets array")?;
    let mut h = TargetsHealth {
        total: active.len(),
        ..TargetsHealth::default()
    };
    for t in active {
        let health = t.get("health").and_then(|s| s.as_str()).unwrap_or("");
        if health == "up" {
            h.up += 1;
        } else if h.first_problem.is_none() {
            let url = t.get("scrapeUrl").and_then(|s| s.as_str()).unwrap_or("?");
            let err = t.get("lastError").and_then(|s| s.as_str()).unwrap_or("");
            h.first_problem = Some(if err.is_empty() {
                format!("{url} is {health}")
            } else {
                format!("{url} is {health}: {err}")
            });
        }
    }
    Ok(h)
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "\
# HELP strata_tsdb_head_series Series in the head.
# TYPE strata_tsdb_head_series gauge
strata_tsdb_head_series 5025
# HELP strata_tsdb_head_samples_appended_total Samples appended to the head.
# TYPE strata_tsdb_head_samples_appended_total counter
strata_tsdb_head_samples_appended_total 1.234567e+06
strata_tsdb_head_samples_appended_total_extra 99
http_requests_total{code=\"200\",path=\"/a}b\"} 3
http_requests_total{code=\"500\"} 4 1700000000000
";

    #[test]
    fn metric_values_are_found_by_exact_name() {
        assert_eq!(metric_value(METRICS, HEAD_SERIES), Some(5025.0));
        assert_eq!(metric_value(METRICS, SAMPLES_APPENDED), Some(1_234_567.0));
        assert_eq!(metric_value(METRICS, "strata_tsdb_head"), None);
        assert_eq!(metric_value(METRICS, "missing"), None);
    }

    #[test]
    fn labelled_series_are_summed_and_timestamps_ignored() {
        assert_eq!(metric_value(METRICS, "http_requests_total"), Some(7.0));
    }

    #[test]
    fn unparsable_values_give_none() {
        assert_eq!(metric_value("x abc\n", "x"), None);
        assert_eq!(metric_value("x{a=\"1\" 3\n", "x"), None);
        assert_eq!(metric_value("x\n", "x"), None);
    }

    #[test]
    fn the_metric_names_exist_in_stratas_own_metrics() {
        let src = include_str!("../../web/metrics.rs");
        for name in [SAMPLES_APPENDED, HEAD_SERIES] {
            assert!(
                src.contains(&format!("\"{name}\"")),
                "{name} is not in src/web/metrics.rs"
            );
        }
    }

    #[test]
    fn targets_health_counts_up_targets_and_names_a_failing_one() {
        let body = r#"{"status":"success","data":{"activeTargets":[
            {"scrapeUrl":"http://127.0.0.1:1/metrics","health":"up","lastError":""},
            {"scrapeUrl":"http://127.0.0.1:2/metrics","health":"down","lastError":"connection refused"},
            {"scrapeUrl":"http://127.0.0.1:3/metrics","health":"unknown","lastError":""}
        ],"droppedTargets":[]}}"#;
        let h = targets_health(body).unwrap();
        assert_eq!((h.total, h.up), (3, 1));
        assert_eq!(
            h.first_problem.as_deref(),
            Some("http://127.0.0.1:2/metrics is down: connection refused")
        );
        let none = targets_health(r#"{"status":"success","data":{"activeTargets":[]}}"#).unwrap();
        assert_eq!(none, TargetsHealth::default());
    }

    #[test]
    fn bad_targets_answers_are_errors() {
        assert!(targets_health("nope").is_err());
        assert!(targets_health(r#"{"status":"error","error":"x"}"#).is_err());
        assert!(targets_health(r#"{"status":"success","data":{}}"#).is_err());
    }
}
