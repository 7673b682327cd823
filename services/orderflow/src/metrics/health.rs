//! Readiness: whether this process can do its work right now.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use prometheus::IntGauge;

/// Maximum time the database check of `/readyz` may take.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The inputs of `/readyz`: a database ping, the broker connection state that librdkafka's
/// statistics report, and gauges that are above 0 while work is held back, each with the reason
/// to report.
#[derive(Clone)]
pub struct Health {
    pool: Pool,
    broker_up: Arc<AtomicBool>,
    holding: Vec<(IntGauge, &'static str)>,
}

impl Health {
    pub fn new(pool: Pool, broker_up: Arc<AtomicBool>, holding: Vec<(IntGauge, &'static str)>) -> Self {
        Self { pool, broker_up, holding }
    }

    /// Returns why the process is not ready, or `Ok` when it is.
    pub async fn check(&self) -> Result<(), String> {
        if let Some((_, reason)) = self.holding.iter().find(|(gauge, _)| gauge.get() > 0) {
            return Err((*reason).to_owned());
        }
        if !self.broker_up.load(Ordering::Relaxed) {
            return Err("no connection to a Kafka broker is up".to_owned());
        }
        ping_database(&self.pool).await
    }
}

/// Checks that PostgreSQL answers a trivial query within 2 s, and returns why not otherwise.
pub async fn ping_database(pool: &Pool) -> Result<(), String> {
    let ping = async {
        let client = pool.get().await.map_err(|error| format!("database unreachable: {error}"))?;
        client.simple_query("SELECT 1").await.map_err(|error| format!("database query failed: {error}"))?;
        Ok(())
    };
    tokio::time::timeout(DATABASE_CHECK_TIMEOUT, ping)
        .await
        .unwrap_or_else(|_| Err(format!("database did not respond within {} s", DATABASE_CHECK_TIMEOUT.as_secs())))
}
