//! The order processor's main loop: batch, apply in PostgreSQL, then commit offsets in Kafka.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus::Registry;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;

use super::apply::{BatchApplier, Cancelled};
use super::batch::{collect_batch, BatchLimits, ReceivedEvent};
use super::dead_letter::DeadLetterPublisher;
use super::offsets::OffsetLedger;
use super::partition_pauses::PartitionPauses;
use super::waiter::{PausingPoller, Waiter};
use super::outcome::{BatchSummary, EventOutcome};
use crate::events::Rejection;
use crate::kafka::{self, ObservedContext, QuietContext};
use crate::metrics::{self, ConsumerMetrics, Health, ProcessorMetrics};
use crate::outbox::OutboxRelay;
use crate::settings::ProcessorSettings;
use crate::{database, shutdown};

/// How often offsets whose commit failed are tried again while no new message arrives.
const PENDING_COMMIT_RETRY: Duration = Duration::from_secs(1);

type OrdersConsumer = StreamConsumer<ObservedContext>;

/// Runs the processor until SIGTERM or SIGINT.
///
/// Guarantee: an offset is committed to Kafka only after the transaction that recorded the
/// events before it has committed in PostgreSQL. A crash at any point therefore re-delivers at
/// most the last batch, whose event ids are either all recorded or none.
pub async fn run(settings: ProcessorSettings) -> anyhow::Result<()> {
    settings.validate().map_err(anyhow::Error::msg)?;
    let shutdown = shutdown::on_signal();

    let pool = database::connect(&settings.database).await?;
    database::migrate(&pool).await?;
    let partitions = kafka::ensure_topic(&settings.kafka.brokers, &settings.topic, settings.topic_partitions).await?;
    let dead_letter_topic = settings.dead_letter_topic();
    let dead_letter_partitions = kafka::ensure_topic(&settings.kafka.brokers, &dead_letter_topic, partitions).await?;
    kafka::ensure_topic(&settings.kafka.brokers, &settings.events_topic, partitions).await?;

    let registry = Registry::new();
    let metrics = ProcessorMetrics::register(&registry).context("failed to register processor metrics")?;
    let consumer_metrics = ConsumerMetrics::register(&registry, &settings.group).context("failed to register consumer metrics")?;
    metrics::register_service_metrics(&registry, "order-processor").context("failed to register service metrics")?;
    metrics::register_pool_metrics(&registry, pool.clone()).context("failed to register pool metrics")?;

    let context = ObservedContext::new(consumer_metrics);
    let health = Health::new(
        pool.clone(),
        context.broker_up(),
        vec![
            (metrics.stalled.clone(), "processing waits while a transient failure is retried"),
            (metrics.paused_partitions.clone(), "partitions are paused until their dead letters can be written"),
        ],
    );
    metrics::serve(settings.metrics_address, registry, health, shutdown.clone()).await?;

    let mut consumer_config =
        kafka::manual_commit_consumer_config(&settings.kafka.brokers, &settings.group, settings.session_timeout_ms);
    consumer_config.set("statistics.interval.ms", settings.statistics_interval_ms.to_string());
    let consumer: Arc<OrdersConsumer> = Arc::new(
        consumer_config
            .create_with_context(context)
            .context("failed to create the Kafka consumer")?,
    );
    consumer
        .subscribe(&[&settings.topic])
        .with_context(|| format!("failed to subscribe to topic {}", settings.topic))?;
    tracing::info!(
        topic = %settings.topic,
        group = %settings.group,
        batch_max_size = settings.batch_max_size,
        batch_linger_ms = settings.batch_linger_ms,
        "order processor started"
    );

    let producer: FutureProducer<QuietContext> = kafka::idempotent_producer_config(&settings.kafka.brokers)
        .create_with_context(QuietContext::default())
        .context("failed to create the Kafka producer for dead letters and the outbox")?;
    let relay = OutboxRelay::new(pool.clone(), producer.clone(), metrics.clone(), settings.relay_settings());
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));

    let pauses = Arc::new(PartitionPauses::default());
    let poller = Arc::new(PausingPoller::new(Arc::clone(&consumer), Arc::clone(&pauses)));
    let waiter = Waiter::KeepPolling(Arc::clone(&poller));
    let stages = Stages {
        poller,
        pauses,
        applier: BatchApplier::new(pool.clone(), metrics.clone(), waiter.clone(), settings.events_topic.clone()),
        dead_letters: DeadLetterPublisher::new(pool, waiter, producer, dead_letter_topic, dead_letter_partitions, settings.group.clone(), metrics.clone()),
        metrics,
    };
    consume_until_shutdown(&consumer, &stages, &settings, &shutdown).await;
    if let Err(error) = relay_task.await {
        tracing::error!(%error, "outbox relay task failed");
    }

    tracing::info!("order processor stopped; leaving the consumer group");
    Ok(())
}

/// The stages that a batch goes through after it is gathered.
struct Stages {
    /// Holds the messages that arrived while a retry waited; they start the next batch.
    poller: Arc<PausingPoller>,
    /// Partitions held back until their dead letters can be written.
    pauses: Arc<PartitionPauses>,
    applier: BatchApplier,
    dead_letters: DeadLetterPublisher,
    metrics: ProcessorMetrics,
}

async fn consume_until_shutdown(consumer: &OrdersConsumer, stages: &Stages, settings: &ProcessorSettings, shutdown: &CancellationToken) {
    let metrics = &stages.metrics;
    let mut ledger = OffsetLedger::default();
    loop {
        stages.pauses.resume_due(consumer);
        let commit_retry = (!ledger.is_empty()).then_some(PENDING_COMMIT_RETRY);
        let limits = BatchLimits {
            max_size: settings.batch_max_size as usize,
            linger: settings.batch_linger(),
            idle_timeout: [commit_retry, stages.pauses.next_resume_in()].into_iter().flatten().min(),
        };
        let mut batch = stages.poller.take_held_back();
        if batch.is_empty() {
            batch = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                batch = collect_batch(consumer, limits) => batch,
            };
        }
        let batch = drop_revoked(consumer, batch, metrics);
        // A paused partition was rewound; these messages come again once it resumes.
        let batch: Vec<ReceivedEvent> = batch.into_iter().filter(|event| !stages.pauses.is_paused(&event.topic, event.partition)).collect();

        if !batch.is_empty() {
            let outcomes = match stages.applier.apply(&batch, shutdown).await {
                Ok(outcomes) => outcomes,
                Err(Cancelled) => {
                    tracing::info!(events = batch.len(), "shutdown during retries; the batch is abandoned and will be read again");
                    return;
                }
            };
            record_outcomes(&batch, &outcomes, metrics);

            // The dead letters must be acknowledged before any offset of the batch is committed,
            // so that a crash can never skip a rejected record without its dead letter.
            let letters: Vec<(&ReceivedEvent, &Rejection)> = batch
                .iter()
                .zip(&outcomes)
                .filter_map(|(event, outcome)| match outcome {
                    EventOutcome::Rejected(rejection) => Some((event, rejection)),
                    _ => None,
                })
                .collect();
            let Ok(failed) = stages.dead_letters.publish_all(&letters, shutdown).await else {
                tracing::info!(events = batch.len(), "shutdown while a dead letter was retried; the batch's offsets stay uncommitted");
                return;
            };
            for event in &batch {
                let held_back = failed.get(&(event.topic.clone(), event.partition)).is_some_and(|first_failed| event.offset >= *first_failed);
                if !held_back {
                    ledger.mark_done(&event.topic, event.partition, event.offset);
                }
            }
            for ((topic, partition), offset) in &failed {
                stages.pauses.pause_at(consumer, topic, *partition, *offset);
            }
            for (event, _) in &letters {
                if !failed.contains_key(&(event.topic.clone(), event.partition)) {
                    stages.pauses.clear(&event.topic, event.partition);
                }
            }
            metrics.paused_partitions.set(i64::try_from(stages.pauses.paused_count()).unwrap_or(i64::MAX));
        }
        if commit_offsets(consumer, &mut ledger, metrics) {
            observe_latency(&batch, metrics);
        }
    }
}

/// Removes messages of partitions revoked while the batch was gathered. Nothing of them is in
/// the database yet, and their new owner reads them again from the last committed offset.
fn drop_revoked(consumer: &OrdersConsumer, batch: Vec<ReceivedEvent>, metrics: &ProcessorMetrics) -> Vec<ReceivedEvent> {
    if batch.is_empty() {
        return batch;
    }
    let assignment = match consumer.assignment() {
        Ok(assignment) => assignment,
        Err(error) => {
            tracing::warn!(%error, "failed to read the partition assignment; keeping the whole batch");
            return batch;
        }
    };
    let before = batch.len();
    let kept: Vec<ReceivedEvent> = batch
        .into_iter()
        .filter(|event| assignment.find_partition(&event.topic, event.partition).is_some())
        .collect();
    let abandoned = before - kept.len();
    if abandoned > 0 {
        metrics.events_abandoned.inc_by(abandoned as u64);
        tracing::info!(abandoned, "dropped messages of revoked partitions before applying them");
    }
    kept
}

fn record_outcomes(batch: &[ReceivedEvent], outcomes: &[EventOutcome], metrics: &ProcessorMetrics) {
    metrics.events_consumed.inc_by(batch.len() as u64);
    metrics.batch_size.observe(batch.len() as f64);
    for (event, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            EventOutcome::Applied => metrics.events_applied.inc(),
            EventOutcome::AlreadyProcessed => metrics.duplicates_suppressed.inc(),
            // Counted and logged once its dead letter is acknowledged.
            EventOutcome::Rejected(_) => {}
        }
        if let Ok(order) = &event.decoded {
            tracing::debug!(event_id = %order.event_id(), order_id = %order.order_id(), topic = %event.topic, partition = event.partition, offset = event.offset, ?outcome, "event done");
        }
    }
    let summary = BatchSummary::of(outcomes);
    tracing::debug!(applied = summary.applied, already_processed = summary.already_processed, rejected = summary.rejected, "batch committed");
}

/// Records, for each message of a committed batch, the time from its Kafka timestamp until now.
fn observe_latency(batch: &[ReceivedEvent], metrics: &ProcessorMetrics) {
    let now_ms = chrono::Utc::now().timestamp_millis();
    for event in batch {
        if let Some(timestamp_ms) = event.original.timestamp.to_millis() {
            let seconds = (now_ms - timestamp_ms).max(0) as f64 / 1000.0;
            metrics.end_to_end_latency.observe(seconds);
        }
    }
}

/// Commits the ledger's offsets and returns whether it did; on failure they stay in the ledger
/// for the next attempt. A lost commit only means re-delivery, which the event id ledger absorbs.
fn commit_offsets(consumer: &OrdersConsumer, ledger: &mut OffsetLedger, metrics: &ProcessorMetrics) -> bool {
    match ledger.commit(consumer) {
        Ok(committed) => committed,
        Err(error) => {
            metrics.offset_commit_failures.inc();
            tracing::warn!(%error, "failed to commit offsets to Kafka; retrying with the next batch");
            false
        }
    }
}
