//! The notifier's loop: one notification per record, recorded in PostgreSQL, then the offset.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use orderflow::consumer::{retry_until_ok, Backoff, Cancelled, OffsetLedger, Waiter};
use orderflow::kafka::{self, ObservedContext};
use orderflow::metrics::{self, ConsumerMetrics, Health};
use orderflow::{database, shutdown};
use prometheus::Registry;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use tokio_util::sync::CancellationToken;

use crate::metrics::NotifierMetrics;
use crate::notification::{self, Notification};
use crate::settings::{NotifierSettings, SinkKind};
use crate::sink::{Delivery, LogSink, Sink, WebhookSink};
use crate::store::{self, Claim};

/// Records handled together: one claim statement and one record statement per batch.
const BATCH_MAX_RECORDS: usize = 500;
/// How long a batch waits for more records after its first one.
const BATCH_LINGER: Duration = Duration::from_millis(20);

/// Partitions to create a missing topic with; the processor normally creates both first.
const DEFAULT_PARTITIONS: i32 = 6;

type NotifierConsumer = StreamConsumer<ObservedContext>;

struct Notifier {
    pool: Pool,
    sink: Sink,
    metrics: NotifierMetrics,
    dead_letter_topic: String,
    operator_recipient: String,
    record_delay: Duration,
}

/// Runs the notifier until SIGTERM or SIGINT.
///
/// Guarantee: a record's offset is committed only after its notification is recorded as sent
/// or failed, and a notification is sent again only while no such record exists. A crash
/// between the sends of a batch and their record repeats those sends with the same keys.
pub async fn run(settings: NotifierSettings) -> anyhow::Result<()> {
    settings.validate().map_err(anyhow::Error::msg)?;
    let shutdown = shutdown::on_signal();

    let pool = database::connect(&settings.database).await?;
    database::migrate(&pool).await?;
    for topic in [&settings.events_topic, &settings.dead_letter_topic] {
        kafka::ensure_topic(&settings.kafka.brokers, topic, DEFAULT_PARTITIONS).await?;
    }

    let registry = Registry::new();
    let sink_label = match settings.sink {
        SinkKind::Log => "log",
        SinkKind::Webhook => "webhook",
    };
    let notifier_metrics = NotifierMetrics::register(&registry, sink_label).context("failed to register notifier metrics")?;
    let consumer_metrics = ConsumerMetrics::register(&registry, &settings.group).context("failed to register consumer metrics")?;
    metrics::register_service_metrics(&registry, "notifier").context("failed to register service metrics")?;
    metrics::register_pool_metrics(&registry, pool.clone()).context("failed to register pool metrics")?;
    let stalled = prometheus::IntGauge::new("orderflow_notifier_stalled", "1 while a delivery waits to be retried, else 0.")?;
    registry.register(Box::new(stalled.clone()))?;

    let context = ObservedContext::new(consumer_metrics);
    let health = Health::new(pool.clone(), context.broker_up(), vec![(stalled.clone(), "a delivery waits to be retried")]);
    metrics::serve(settings.metrics_address, registry, health, shutdown.clone()).await?;

    let mut consumer_config = kafka::manual_commit_consumer_config(&settings.kafka.brokers, &settings.group, settings.session_timeout_ms);
    consumer_config.set("statistics.interval.ms", settings.statistics_interval_ms.to_string());
    let consumer: Arc<NotifierConsumer> =
        Arc::new(consumer_config.create_with_context(context).context("failed to create the Kafka consumer")?);
    consumer
        .subscribe(&[&settings.events_topic, &settings.dead_letter_topic])
        .context("failed to subscribe to the events and dead-letter topics")?;

    let sink = match settings.sink {
        SinkKind::Log => Sink::Log(LogSink),
        SinkKind::Webhook => {
            let url = settings.webhook_url.clone().expect("validated: the webhook sink has a URL");
            Sink::Webhook(WebhookSink::new(url, settings.webhook_timeout()).context("failed to build the webhook client")?)
        }
    };
    let notifier = Notifier {
        pool,
        sink,
        metrics: notifier_metrics,
        dead_letter_topic: settings.dead_letter_topic.clone(),
        operator_recipient: settings.operator_recipient.clone(),
        record_delay: Duration::from_millis(settings.record_delay_ms),
    };
    tracing::info!(
        events_topic = %settings.events_topic,
        dead_letter_topic = %settings.dead_letter_topic,
        group = %settings.group,
        sink = notifier.sink.label(),
        "notifier started"
    );

    notifier.consume_until_shutdown(&consumer, &stalled, &shutdown).await;
    tracing::info!("notifier stopped; leaving the consumer group");
    Ok(())
}

impl Notifier {
    async fn consume_until_shutdown(&self, consumer: &NotifierConsumer, stalled: &prometheus::IntGauge, shutdown: &CancellationToken) {
        let mut ledger = OffsetLedger::default();
        loop {
            let batch = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                batch = receive_batch(consumer) => batch,
            };
            if !batch.is_empty() {
                if self.handle_batch(&batch, stalled, shutdown).await.is_err() {
                    break;
                }
                for message in &batch {
                    ledger.mark_done(message.topic(), message.partition(), message.offset());
                }
            }
            commit(consumer, &mut ledger);
        }
        // Every record in the ledger is fully handled, so its offset may be committed on the way out.
        commit(consumer, &mut ledger);
    }

    /// Sends the batch's notifications that were not sent before, and records the results.
    async fn handle_batch(&self, batch: &[OwnedMessage], stalled: &prometheus::IntGauge, cancel: &CancellationToken) -> Result<(), Cancelled> {
        let mut notifications = Vec::with_capacity(batch.len());
        let mut seen = HashSet::new();
        for message in batch {
            let Some(notification) = self.notification_of(message) else { continue };
            // A repeat inside the batch is the same notification; it is suppressed here.
            if seen.insert((notification.key, notification.channel.as_label())) {
                notifications.push(notification);
            } else {
                self.metrics.duplicates_suppressed.inc();
            }
        }
        if notifications.is_empty() {
            return Ok(());
        }

        let claimed: Vec<&Notification> = notifications.iter().collect();
        let claims = retry_until_ok("claiming notifications", Backoff::for_database(), &Waiter::Sleep, cancel, || async {
            let client = self.pool.get().await.map_err(|error| error.to_string())?;
            store::claim_all(&client, &claimed).await.map_err(|error| error.to_string())
        })
        .await?;

        let mut results = Vec::new();
        for (notification, claim) in notifications.iter().zip(claims) {
            if claim == Claim::Finished {
                self.metrics.duplicates_suppressed.inc();
                tracing::debug!(notification_key = %notification.key, channel = notification.channel.as_label(), "already notified, sending nothing");
                continue;
            }
            let (attempts, error) = self.deliver_with_retry(notification, stalled, cancel).await?;
            results.push(store::Finished { notification, attempts, error });
        }
        if results.is_empty() {
            return Ok(());
        }

        if !self.record_delay.is_zero() {
            tokio::time::sleep(self.record_delay).await;
        }
        retry_until_ok("recording notifications", Backoff::for_database(), &Waiter::Sleep, cancel, || async {
            let client = self.pool.get().await.map_err(|error| error.to_string())?;
            store::finish_all(&client, &results).await.map_err(|error| error.to_string())
        })
        .await?;

        for result in &results {
            let notification = result.notification;
            match &result.error {
                None => self.metrics.sent.with_label_values(&[notification.channel.as_label(), notification.kind.as_label()]).inc(),
                Some(error) => {
                    self.metrics.failed.with_label_values(&[self.sink.label()]).inc();
                    tracing::warn!(notification_key = %notification.key, %error, "notification rejected by the receiver; recorded as failed");
                }
            }
        }
        Ok(())
    }

    /// Derives the record's notification, or counts and logs why there is none.
    fn notification_of(&self, message: &OwnedMessage) -> Option<Notification> {
        if message.topic() == self.dead_letter_topic {
            return Some(notification::from_dead_letter(message, &self.operator_recipient));
        }
        match notification::from_order_event(message) {
            Ok(notification) => Some(notification),
            Err(unusable) => {
                self.metrics.skipped.with_label_values(&[unusable.as_label()]).inc();
                tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(), error = %unusable, "skipping a record that yields no notification");
                None
            }
        }
    }

    /// Delivers until the receiver accepts or rejects for good; returns the attempt count and
    /// the rejection, if any.
    async fn deliver_with_retry(
        &self,
        notification: &Notification,
        stalled: &prometheus::IntGauge,
        cancel: &CancellationToken,
    ) -> Result<(i32, Option<String>), Cancelled> {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
        let mut attempts = 0;
        loop {
            attempts += 1;
            let started = Instant::now();
            let delivery = self.sink.deliver(notification).await;
            self.metrics.sink_duration.with_label_values(&[self.sink.label()]).observe(started.elapsed().as_secs_f64());
            match delivery {
                Delivery::Delivered => {
                    stalled.set(0);
                    return Ok((attempts, None));
                }
                Delivery::Rejected(error) => {
                    stalled.set(0);
                    return Ok((attempts, Some(error)));
                }
                Delivery::RetryLater(error) => {
                    stalled.set(1);
                    self.metrics.retries.with_label_values(&[self.sink.label()]).inc();
                    let delay = backoff.next_delay();
                    tracing::warn!(notification_key = %notification.key, attempts, %error, delay_ms = delay.as_millis(), "delivery failed, retrying");
                    // NOTE: the consumer is not polled while a delivery waits, so an outage longer
                    // than max.poll.interval.ms (300 s) moves this notifier's partitions to another.
                    Waiter::Sleep.wait(delay, cancel).await?;
                }
            }
        }
    }
}

/// Waits for a first record, then takes more until the batch is full or the linger ends.
async fn receive_batch(consumer: &NotifierConsumer) -> Vec<OwnedMessage> {
    let mut batch = Vec::new();
    while batch.len() < BATCH_MAX_RECORDS {
        let received = if batch.is_empty() {
            consumer.recv().await
        } else {
            match tokio::time::timeout(BATCH_LINGER, consumer.recv()).await {
                Ok(received) => received,
                Err(_) => break,
            }
        };
        match received {
            Ok(message) => batch.push(message.detach()),
            Err(error) => {
                tracing::warn!(%error, "Kafka consumer error, polling again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    batch
}

fn commit(consumer: &NotifierConsumer, ledger: &mut OffsetLedger) {
    if let Err(error) = ledger.commit(consumer) {
        tracing::warn!(%error, "failed to commit offsets to Kafka; retrying later");
    }
}
