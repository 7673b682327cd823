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

/// Binds `address` and serves until `shutdown` is cancelled; returns the bound address, which
/// differs from `address` when its port is 0.
pub async fn serve(address: SocketAddr, registry: Registry, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address} for metrics; pick another --metrics-address"))?;
    let bound = listener.local_addr().context("failed to read the bound metrics address")?;

    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(registry);
    tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "metrics server failed");
        }
    });

    tracing::info!(address = %bound, "serving /metrics and /healthz");
    Ok(bound)
}

async fn render_metrics(State(registry): State<Registry>) -> impl IntoResponse {
    let mut body = Vec::new();
    match TextEncoder::new().encode(&registry.gather(), &mut body) {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to encode metrics: {error}\n")).into_response(),
    }
}
