//! The connection pool, and the start-up check that the database is really there.

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::settings::DatabaseSettings;

/// Builds the pool and opens one connection, so a wrong URL fails at start-up with its cause.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let url = &settings.database_url;
    let manager = Manager::from_config(
        url.config().clone(),
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let pool = Pool::builder(manager)
        .max_size(settings.database_pool_size.into())
        .build()
        .context("failed to build the PostgreSQL connection pool")?;

    let client = pool.get().await.with_context(|| {
        format!("failed to connect to PostgreSQL at {url}; check --database-url (ORDERFLOW_DATABASE_URL) and that the server is running")
    })?;
    client
        .simple_query("SELECT 1")
        .await
        .with_context(|| format!("PostgreSQL at {url} accepted the connection but failed a trivial query"))?;

    Ok(pool)
}
