//! The HTTP endpoint that serves `/metrics` in Prometheus text format and `/healthz`.

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio_util::sync::CancellationToken;

use super::health::Health;

/// State of the HTTP handlers.
#[derive(Clone)]
struct Endpoints {
    registry: Registry,
    health: Health,
}

/// Binds `address` and serves `/metrics`, `/healthz` (the process runs) and `/readyz` (it can
/// work now) until `shutdown` is cancelled. Returns the bound address, which differs from
/// `address` when its port is 0.
pub async fn serve(address: SocketAddr, registry: Registry, health: Health, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address} for metrics; pick another --metrics-address"))?;
    let bound = listener.local_addr().context("failed to read the bound metrics address")?;

    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readiness))
        .with_state(Endpoints { registry, health });
    tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "metrics server failed");
        }
    });

    tracing::info!(address = %bound, "serving /metrics, /healthz and /readyz");
    Ok(bound)
}

async fn readiness(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    match endpoints.health.check().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")),
    }
}

async fn render_metrics(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    let mut body = Vec::new();
    match TextEncoder::new().encode(&endpoints.registry.gather(), &mut body) {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to encode metrics: {error}\n")).into_response(),
    }
}
