//! Applies the SQL files of `migrations/` at start-up.

use anyhow::Context;
use deadpool_postgres::Pool;

mod embedded {
    // The path is relative to this crate's Cargo.toml: the workspace's top-level `migrations/`.
    refinery::embed_migrations!("../../migrations");
}

/// Key of the session advisory lock that serializes migrations. Processors that start together
/// wait for each other here instead of racing to create the same tables.
const MIGRATION_LOCK_KEY: i64 = 0x6f72_6465_7266_6c77; // "orderflw" in ASCII

/// Runs every pending migration while holding the advisory lock.
pub async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await.context("failed to get a connection for migrations")?;

    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .context("failed to take the migration advisory lock")?;

    let report = embedded::migrations::runner().run_async(&mut **client).await;

    // The lock is per session, and the pooled session lives on, so release it on every path.
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .context("failed to release the migration advisory lock")?;

    let report = report.context("failed to apply database migrations")?;
    for migration in report.applied_migrations() {
        tracing::info!(version = migration.version(), name = migration.name(), "applied migration");
    }
    Ok(())
}
