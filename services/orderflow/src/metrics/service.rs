//! Metrics every service exports: build info, process CPU and memory, and the database pool.

use std::time::Duration;

use deadpool_postgres::Pool;
use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};

/// How often the pool gauges are refreshed.
const POOL_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// Registers `orderflow_build_info{service, version}` and the standard `process_*` metrics
/// (CPU seconds, resident memory, open file descriptors) of this process.
pub fn register_service_metrics(registry: &Registry, service: &str) -> prometheus::Result<()> {
    let build_info = IntGaugeVec::new(
        Opts::new("orderflow_build_info", "Always 1; the labels name the running build."),
        &["service", "version"],
    )?;
    build_info.with_label_values(&[service, env!("CARGO_PKG_VERSION")]).set(1);
    registry.register(Box::new(build_info))?;
    registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
    Ok(())
}

/// Registers gauges of the pool's connections and samples them until the runtime stops.
pub fn register_pool_metrics(registry: &Registry, pool: Pool) -> prometheus::Result<()> {
    let connections = IntGaugeVec::new(
        Opts::new("orderflow_database_pool_connections", "Pooled PostgreSQL connections by state: in_use or idle."),
        &["state"],
    )?;
    let waiting = IntGauge::new(
        "orderflow_database_pool_waiting",
        "Tasks waiting for a pooled PostgreSQL connection.",
    )?;
    registry.register(Box::new(connections.clone()))?;
    registry.register(Box::new(waiting.clone()))?;

    tokio::spawn(async move {
        let mut interval = tokio::time::interval(POOL_SAMPLE_INTERVAL);
        loop {
            interval.tick().await;
            let status = pool.status();
            let idle = status.available;
            let in_use = status.size.saturating_sub(idle);
            connections.with_label_values(&["in_use"]).set(i64::try_from(in_use).unwrap_or(i64::MAX));
            connections.with_label_values(&["idle"]).set(i64::try_from(idle).unwrap_or(i64::MAX));
            waiting.set(i64::try_from(status.waiting).unwrap_or(i64::MAX));
        }
    });
    Ok(())
}
