//! The outbox relay: publishes pending outbox rows to Kafka, then marks them published.
//!
//! Delivery is at least once. A crash after the broker acknowledged a row, but before the
//! transaction that marks it commits, publishes that row again. Its event id is unchanged, so
//! the notifier suppresses the repeat. Several relays may run at once: each claims its rows
//! with `FOR UPDATE SKIP LOCKED`, so no row is published by two relays at the same time.

use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use futures::future::try_join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

use crate::consumer::Backoff;
use crate::database::outbox;
use crate::kafka::QuietContext;
use crate::metrics::ProcessorMetrics;

/// How often published rows older than the retention are deleted.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Header carrying the event id, so consumers can deduplicate without parsing the value.
pub const EVENT_ID_HEADER: &str = "event_id";

#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub batch_size: i64,
    pub poll_interval: Duration,
    pub retention: Duration,
    /// Wait between the broker's acknowledgement and the marking transaction; only crash
    /// tests set it, to kill the process in that window.
    pub mark_delay: Duration,
}

pub struct OutboxRelay {
    pool: Pool,
    producer: FutureProducer<QuietContext>,
    metrics: ProcessorMetrics,
    settings: RelaySettings,
}

impl OutboxRelay {
    pub fn new(pool: Pool, producer: FutureProducer<QuietContext>, metrics: ProcessorMetrics, settings: RelaySettings) -> Self {
        Self { pool, producer, metrics, settings }
    }

    /// Relays until `shutdown` is cancelled. A round that fills a whole batch starts the next one
    /// at once; otherwise the relay sleeps for the poll interval.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::for_database();
        let mut last_prune: Option<Instant> = None;
        loop {
            let delay = match self.relay_once().await {
                Ok(published) if published as i64 >= self.settings.batch_size => Duration::ZERO,
                Ok(_) => {
                    backoff.reset();
                    self.settings.poll_interval
                }
                Err(error) => {
                    self.metrics.outbox_relay_failures.inc();
                    let delay = backoff.next_delay();
                    tracing::warn!(error = format!("{error:#}"), delay_ms = delay.as_millis(), "outbox relay failed, retrying");
                    delay
                }
            };
            self.sample_pending().await;
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_INTERVAL) {
                self.prune().await;
                last_prune = Some(Instant::now());
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Publishes one batch of pending rows and returns how many it published.
    async fn relay_once(&self) -> anyhow::Result<usize> {
        let mut client = self.pool.get().await.context("failed to get a database connection")?;
        let transaction = client.transaction().await.context("failed to begin the outbox transaction")?;
        let entries = outbox::claim_pending(&transaction, self.settings.batch_size)
            .await
            .context("failed to claim outbox rows")?;
        if entries.is_empty() {
            return Ok(0);
        }

        let deliveries = entries.iter().map(|entry| {
            let event_id = entry.event_id.to_string();
            let headers = OwnedHeaders::new().insert(Header { key: EVENT_ID_HEADER, value: Some(event_id.as_bytes()) });
            let record = FutureRecord::to(&entry.topic).key(&entry.message_key).payload(&entry.payload).headers(headers);
            async move { self.producer.send(record, Duration::from_secs(30)).await.map_err(|(error, _)| error) }
        });
        try_join_all(deliveries).await.context("failed to publish outbox rows")?;

        if !self.settings.mark_delay.is_zero() {
            tokio::time::sleep(self.settings.mark_delay).await;
        }
        let ids: Vec<i64> = entries.iter().map(|entry| entry.id).collect();
        outbox::mark_published(&transaction, &ids).await.context("failed to mark outbox rows published")?;
        transaction.commit().await.context("failed to commit the outbox transaction")?;

        self.metrics.outbox_published.inc_by(entries.len() as u64);
        tracing::debug!(rows = entries.len(), "published outbox rows");
        Ok(entries.len())
    }

    async fn prune(&self) {
        let retention_secs = i64::try_from(self.settings.retention.as_secs()).unwrap_or(i64::MAX);
        let result = match self.pool.get().await {
            Ok(client) => outbox::prune_published(&client, retention_secs).await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned published outbox rows"),
            Err(error) => tracing::warn!(%error, "failed to prune the outbox"),
        }
    }

    async fn sample_pending(&self) {
        let result = match self.pool.get().await {
            Ok(client) => outbox::count_pending(&client).await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(pending) => self.metrics.outbox_pending.set(pending),
            Err(error) => tracing::debug!(%error, "failed to count pending outbox rows"),
        }
    }
}
