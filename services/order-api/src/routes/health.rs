//! `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, TextEncoder};
use rdkafka::producer::Producer;

use crate::state::AppState;

/// Time the broker check of `/readyz` may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Returns 200 while the process runs.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The process runs", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Checks that PostgreSQL and Kafka are reachable.
#[utoipa::path(
    get,
    path = "/readyz",
    responses((status = 200, description = "Ready", body = String), (status = 503, description = "Not ready, with the reason", body = String))
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match check(&state).await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()).into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")).into_response(),
    }
}

async fn check(state: &AppState) -> Result<(), String> {
    orderflow::metrics::ping_database(&state.pool).await?;

    let producer = state.producer.clone();
    let topic = state.topic.clone();
    tokio::task::spawn_blocking(move || producer.client().fetch_metadata(Some(&topic), CHECK_TIMEOUT))
        .await
        .map_err(|error| format!("broker check failed: {error}"))?
        .map_err(|error| format!("Kafka unreachable: {error}"))?;
    Ok(())
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut body = Vec::new();
    match TextEncoder::new().encode(&state.registry.gather(), &mut body) {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to encode metrics: {error}\n")).into_response(),
    }
}
