//! The HTTP face: health, readiness and strata's own metrics. Handlers only
//! wire requests to the rest of the server.

mod metrics;

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use strata_storage::Db;

/// What the handlers share.
pub struct AppState {
    /// The database, set once it is open; until then `/-/ready` says 503.
    pub db: OnceLock<Arc<Db>>,
    /// Process start, Unix seconds.
    pub start_time: f64,
}

impl AppState {
    /// State of a server whose storage is still opening.
    pub fn new() -> Arc<AppState> {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Arc::new(AppState {
            db: OnceLock::new(),
            start_time,
        })
    }
}

/// All routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics_handler))
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
