//! The Prometheus HTTP API's envelope (spec §7.1) and the scrape-side
//! endpoints: `/api/v1/targets`, `/api/v1/targets/metadata`,
//! `/api/v1/metadata` (spec §7.3).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::AppState;
use crate::config::PromDuration;
use crate::scrape::ScrapeManager;

/// Kinds of API errors and their HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// 400.
    BadData,
    /// 422.
    Execution,
    /// 503.
    Timeout,
    /// 500.
    Internal,
    /// 404.
    NotFound,
    /// 500 (storage not ready, …).
    Unavailable,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::Unavailable => "unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::Internal | ErrorType::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `{"status":"success","data":…}`.
pub fn success(data: Value) -> Response {
    json_response(StatusCode::OK, &json!({"status": "success", "data": data}))
}

/// An API error: `{"status":"error","errorType":…,"error":…}` with the type's status code.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Kind (decides the status code).
    pub kind: ErrorType,
    /// Message.
    pub msg: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            self.kind.status(),
            &json!({"status": "error", "errorType": self.kind.as_str(), "error": self.msg}),
        )
    }
}

/// Shorthand for an [`ApiError`].
pub fn error(kind: ErrorType, msg: impl Into<String>) -> ApiError {
    ApiError { kind, msg: msg.into() }
}

/// RFC 3339 with nanoseconds, trailing zeros trimmed, UTC (Go's RFC3339Nano).
pub fn rfc3339_nano(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut s = crate::logging::rfc3339_seconds(d.as_secs() as i64);
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

fn labels_json(m: &BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

fn prom_duration(d: Duration) -> String {
    PromDuration(d.as_millis() as u64).to_string()
}

fn scrape(st: &AppState) -> Result<&Arc<ScrapeManager>, ApiError> {
    st.scrape
        .get()
        .ok_or_else(|| error(ErrorType::Unavailable, "scrape manager is not running yet"))
}

/// `GET /api/v1/targets?state=active|dropped|any&scrapePool=…`
pub async fn targets(State(st): State<Arc<AppState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mgr = match scrape(&st) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let state = q.get("state").map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    let (want_active, want_dropped) = match state.as_str() {
        "" | "any" => (true, true),
        "active" => (true, false),
        "dropped" => (false, true),
        _ => (true, true),
    };
    let pool = q.get("scrapePool").filter(|p| !p.is_empty());
    let snap = mgr.targets();
    let mut data = Map::new();
    if want_active {
        let active: Vec<Value> = snap
            .active
            .iter()
            .filter(|t| pool.is_none_or(|p| *p == t.pool))
            .map(|t| {
                json!({
                    "discoveredLabels": labels_json(&t.discovered_labels),
                    "labels": labels_json(&t.labels),
                    "scrapePool": t.pool,
                    "scrapeUrl": t.url,
                    "globalUrl": t.url,
                    "lastError": t.state.last_error,
                    "lastScrape": t.state.last_scrape.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), rfc3339_nano),
                    "lastScrapeDuration": t.state.last_scrape_duration.as_secs_f64(),
                    "health": t.state.health.as_str(),
                    "scrapeInterval": prom_duration(t.interval),
                    "scrapeTimeout": prom_duration(t.timeout),
                })
            })
            .collect();
        data.insert("activeTargets".into(), Value::Array(active));
    }
    if want_dropped {
        let dropped: Vec<Value> = snap
            .dropped
            .iter()
            .filter(|t| pool.is_none_or(|p| *p == t.pool))
            .map(|t| json!({"discoveredLabels": labels_json(&t.discovered_labels), "scrapePool": t.pool}))
            .collect();
        data.insert("droppedTargets".into(), Value::Array(dropped));
        let counts: Map<String, Value> = snap
            .dropped_counts
            .iter()
            .filter(|(p, _)| pool.is_none_or(|want| want == *p))
            .map(|(p, n)| (p.clone(), json!(n)))
            .collect();
        data.insert("droppedTargetCounts".into(), Value::Object(counts));
    }
    success(Value::Object(data))
}

fn parse_limit(q: &HashMap<String, String>, name: &str) -> Result<Option<usize>, ApiError> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n as usize)),
            Ok(_) => Ok(None),
            Err(_) => Err(error(
                ErrorType::BadData,
                format!("invalid parameter \"{name}\": cannot parse {s:?} to a valid limit"),
            )),
        },
    }
}

/// `GET /api/v1/targets/metadata?match_target=…&metric=…&limit=…`
pub async fn targets_metadata(State(st): State<Arc<AppState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mgr = match scrape(&st) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let limit = match parse_limit(&q, "limit") {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let matchers = match q.get("match_target").filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(sel) => match crate::selector::parse(sel) {
            Ok(m) => m,
            Err(e) => {
                return error(ErrorType::BadData, format!("invalid parameter \"match_target\": {e}")).into_response()
            }
        },
    };
    let metric = q.get("metric").filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for m in mgr.metadata() {
        if metric.is_some_and(|want| *want != m.metric) {
            continue;
        }
        if !matchers
            .iter()
            .all(|mt| mt.matches(m.target.get(mt.name.as_str()).map_or("", |s| s.as_str())))
        {
            continue;
        }
        let mut v = json!({
            "target": labels_json(&m.target),
            "type": m.metadata.metric_type.as_str(),
            "help": m.metadata.help,
            "unit": m.metadata.unit,
        });
        if metric.is_none() {
            v["metric"] = Value::String(m.metric.clone());
        }
        out.push(v);
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    success(Value::Array(out))
}

/// `GET /api/v1/metadata?metric=…&limit=…&limit_per_metric=…`
pub async fn metadata(State(st): State<Arc<AppState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mgr = match scrape(&st) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let (limit, per_metric) = match (parse_limit(&q, "limit"), parse_limit(&q, "limit_per_metric")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let metric = q.get("metric").filter(|s| !s.is_empty());
    let mut fams: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in mgr.metadata() {
        if metric.is_some_and(|want| *want != m.metric) {
            continue;
        }
        let v = json!({
            "type": m.metadata.metric_type.as_str(),
            "help": m.metadata.help,
            "unit": m.metadata.unit,
        });
        let list = fams.entry(m.metric).or_default();
        if !list.contains(&v) && per_metric.is_none_or(|l| list.len() < l) {
            list.push(v);
        }
    }
    let mut data = Map::new();
    for (k, v) in fams {
        if limit.is_some_and(|l| data.len() >= l) {
            break;
        }
        data.insert(k, Value::Array(v));
    }
    success(Value::Object(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_nano_matches_go() {
        let t = UNIX_EPOCH + Duration::new(1_795_571_245, 547_000_000);
        assert_eq!(rfc3339_nano(t), "2026-11-25T01:47:25.547Z");
        assert_eq!(rfc3339_nano(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(951_782_400, 1); // 2000-02-29
        assert_eq!(rfc3339_nano(t), "2000-02-29T00:00:00.000000001Z");
    }
}
