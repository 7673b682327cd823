//! Builds the router and runs the server until SIGTERM or SIGINT.

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use orderflow::kafka::QuietContext;
use orderflow::{database, kafka, metrics, shutdown};
use prometheus::Registry;
use rdkafka::producer::FutureProducer;

use crate::idempotency::persistence;
use crate::metrics::ApiMetrics;
use crate::middleware::{auth, rate_limit, timeout};
use crate::routes::{health, openapi, orders};
use crate::settings::ApiSettings;
use crate::state::AppState;

/// How often expired idempotency keys are deleted.
const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

pub async fn run(settings: ApiSettings) -> anyhow::Result<()> {
    settings.validate().map_err(anyhow::Error::msg)?;
    let shutdown = shutdown::on_signal();

    let pool = database::connect(&settings.database).await?;
    database::migrate(&pool).await?;
    kafka::ensure_topic(&settings.kafka.brokers, &settings.topic, settings.topic_partitions).await?;
    let producer: FutureProducer<QuietContext> = kafka::idempotent_producer_config(&settings.kafka.brokers)
        .create_with_context(QuietContext::default())
        .context("failed to create the Kafka producer")?;

    let registry = Registry::new();
    let api_metrics = ApiMetrics::register(&registry).context("failed to register API metrics")?;
    metrics::register_service_metrics(&registry, "order-api").context("failed to register service metrics")?;
    metrics::register_pool_metrics(&registry, pool.clone()).context("failed to register pool metrics")?;
    let state = AppState::new(&settings, pool.clone(), producer, api_metrics, registry);
    tokio::spawn(purge_expired_keys(pool));

    let app = router(state, settings.max_body_bytes);
    let listener = tokio::net::TcpListener::bind(settings.listen_address)
        .await
        .with_context(|| format!("failed to listen on {}; pick another --listen-address", settings.listen_address))?;
    let address = listener.local_addr().context("failed to read the bound address")?;
    tracing::info!(%address, topic = %settings.topic, "order API listening");

    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("the HTTP server failed")?;
    tracing::info!("order API stopped");
    Ok(())
}

/// Routes under `/orders` pass timeout, authentication and rate limiting, in that order.
pub fn router(state: AppState, max_body_bytes: u64) -> Router {
    let body_limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
    let orders = Router::new()
        .route("/orders", post(orders::post_order))
        .route("/orders/{order_id}", get(orders::get_order))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(body_limit));
    Router::new()
        .merge(orders)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::serve_document))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout::bound_and_count))
        .with_state(state)
}

async fn purge_expired_keys(pool: deadpool_postgres::Pool) {
    let mut interval = tokio::time::interval(PURGE_INTERVAL);
    loop {
        interval.tick().await;
        let result = match pool.get().await {
            Ok(client) => persistence::purge_expired(&client).await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(error) => tracing::warn!(%error, "failed to purge expired idempotency keys"),
        }
    }
}
