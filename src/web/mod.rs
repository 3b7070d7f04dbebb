//! The HTTP face: health, readiness and strata's own metrics. Handlers only
//! wire requests to the rest of the server.

pub mod api;
mod metrics;

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use strata_storage::Db;
use tokio::sync::{mpsc, oneshot};

use crate::scrape::ScrapeManager;

/// A request to reload the configuration; the answer is the error, if any.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// What the handlers share.
pub struct AppState {
    /// The database, set once it is open; until then `/-/ready` says 503.
    pub db: OnceLock<Arc<Db>>,
    /// Process start, Unix seconds.
    pub start_time: f64,
    /// The scrape pools, once running.
    pub scrape: OnceLock<Arc<ScrapeManager>>,
    /// Where reload requests go (the server's reload loop).
    pub reload: OnceLock<mpsc::Sender<ReloadRequest>>,
    /// Where `/-/quit` goes.
    pub quit: OnceLock<mpsc::Sender<()>>,
    /// `--web.enable-lifecycle`.
    pub lifecycle: bool,
}

impl AppState {
    /// State of a server whose storage is still opening.
    pub fn new(lifecycle: bool) -> Arc<AppState> {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Arc::new(AppState {
            db: OnceLock::new(),
            start_time,
            scrape: OnceLock::new(),
            reload: OnceLock::new(),
            quit: OnceLock::new(),
            lifecycle,
        })
    }
}

/// All routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics_handler))
        .route("/-/reload", post(reload).put(reload).get(lifecycle_get))
        .route("/-/quit", post(quit).put(quit).get(lifecycle_get))
        .route("/api/v1/targets", get(api::targets))
        .route("/api/v1/targets/metadata", get(api::targets_metadata))
        .route("/api/v1/metadata", get(api::metadata))
        .with_state(state)
}

async fn healthy() -> &'static str {
    "Strata Server is Healthy.\n"
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.db.get().is_some() {
        (StatusCode::OK, "Strata Server is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

async fn metrics_handler(State(st): State<Arc<AppState>>) -> Response {
    let body = metrics::render(&st);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn lifecycle_get() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, "Only POST or PUT requests allowed").into_response()
}

fn lifecycle_disabled() -> Response {
    (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response()
}

async fn reload(State(st): State<Arc<AppState>>) -> Response {
    if !st.lifecycle {
        return lifecycle_disabled();
    }
    let Some(tx) = st.reload.get() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response();
    };
    let (done, answer) = oneshot::channel();
    if tx.send(done).await.is_err() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to reload config: server is stopping",
        )
            .into_response();
    }
    match answer.await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to reload config: server is stopping",
        )
            .into_response(),
    }
}

async fn quit(State(st): State<Arc<AppState>>) -> Response {
    if !st.lifecycle {
        return lifecycle_disabled();
    }
    if let Some(tx) = st.quit.get() {
        let _ = tx.try_send(());
    }
    (StatusCode::OK, "Requesting termination... Goodbye!").into_response()
}
