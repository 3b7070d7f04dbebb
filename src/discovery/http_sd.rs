//! `http_sd_configs`: target groups fetched from a URL every
//! `refresh_interval`, in the same JSON format as file discovery.
//!
//! As in Prometheus: the response must be `200` with `Content-Type:
//! application/json` (optionally `; charset=utf-8`); group `i` has source
//! `<url>:<i>` and the label `__meta_url`; a failed refresh is logged and
//! counted, and the groups of the last good one stay.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{metrics, parse_json_groups, TargetGroup};
use crate::config::HttpSdConfig;
use crate::http_client::{authorize, build_client, ClientError};

/// The label naming the URL a target was fetched from.
pub const URL_LABEL: &str = "__meta_url";

static JSON_CONTENT_TYPE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"^(?i:application/json(;\s*charset=("utf-8"|utf-8))?)$"#).expect("static regex")
});

/// Why one refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpSdError {
    /// The client could not be built or the request not be authorised.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The request failed (connection, timeout, body).
    #[error("{0}")]
    Request(#[from] reqwest::Error),
    /// The server did not answer 200.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The body is not declared as JSON.
    #[error("unsupported content type {0:?}")]
    ContentType(String),
    /// The body is not a valid list of target groups.
    #[error("{0}")]
    Format(#[from] super::group::GroupFormatError),
}

/// `refresh_interval` as Go's `strconv.FormatFloat(seconds, 'f', -1, 64)` prints it.
fn interval_seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        (ms as f64 / 1000.0).to_string()
    }
}

/// One `http_sd_configs` entry with its client.
#[derive(Debug)]
pub struct HttpDiscovery {
    cfg: HttpSdConfig,
    client: Option<reqwest::Client>,
}

impl HttpDiscovery {
    /// A provider for `cfg`; the client is built at the first refresh.
    pub fn new(cfg: HttpSdConfig) -> HttpDiscovery {
        HttpDiscovery { cfg, client: None }
    }

    fn client(&mut self) -> Result<reqwest::Client, ClientError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        // Prometheus gives the whole request the refresh interval as its timeout.
        let c = build_client(&self.cfg.http_client, self.cfg.refresh_interval.to_std())?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// Fetches the URL once and returns its groups, sources and `__meta_url` set.
    pub async fn refresh(&mut self) -> Result<Vec<TargetGroup>, HttpSdError> {
        let client = self.client()?;
        let req = client
            .get(&self.cfg.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                "X-Prometheus-Refresh-Interval-Seconds",
                interval_seconds(self.cfg.refresh_interval.0),
            );
        let resp = authorize(req, &self.cfg.http_client)?.send().await?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(HttpSdError::Status(resp.status().to_string()));
        }
        let ct = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !JSON_CONTENT_TYPE.is_match(ct.trim()) {
            return Err(HttpSdError::ContentType(ct));
        }
        let body = resp.bytes().await?;
        let mut groups = parse_json_groups(&body)?;
        for (i, g) in groups.iter_mut().enumerate() {
            g.source = format!("{}:{i}", self.cfg.url);
            g.labels.insert(URL_LABEL.to_string(), self.cfg.url.clone());
        }
        Ok(groups)
    }
}

/// Runs the provider until `tx` is closed: refreshes at once, then every
/// `refresh_interval`, sending the groups whenever they change.
pub async fn run(cfg: HttpSdConfig, tx: mpsc::Sender<Vec<TargetGroup>>) {
    let interval = Duration::from_millis(cfg.refresh_interval.0.max(1));
    let url = cfg.url.clone();
    let mut sd = HttpDiscovery::new(cfg);
    let mut last_sent: Option<Vec<TargetGroup>> = None;
    loop {
        let refreshed = tokio::select! {
            _ = tx.closed() => return,
            r = sd.refresh() => r,
        };
        match refreshed {
            Ok(groups) => {
                if last_sent.as_ref() != Some(&groups) {
                    if tx.send(groups.clone()).await.is_err() {
                        return;
                    }
                    last_sent = Some(groups);
                }
            }
            Err(e) => {
                metrics::HTTP_FAILURES.inc();
                tracing::error!(url = %url, err = %e, "http_sd: unable to refresh targets; keeping the previous ones");
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_accepted_as_upstream() {
        for (ct, ok) in [
            ("application/json", true),
            ("Application/JSON", true),
            ("application/json; charset=utf-8", true),
            ("application/json;charset=\"utf-8\"", true),
            ("application/json; charset=latin1", false),
            ("text/plain", false),
            ("", false),
        ] {
            assert_eq!(JSON_CONTENT_TYPE.is_match(ct), ok, "{ct:?}");
        }
    }

    #[test]
    fn refresh_interval_header_as_go_prints_it() {
        assert_eq!(interval_seconds(60_000), "60");
        assert_eq!(interval_seconds(1_500), "1.5");
        assert_eq!(interval_seconds(250), "0.25");
    }
}
