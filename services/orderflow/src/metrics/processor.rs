//! Counters and histograms of the order processor.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::database::TransientCause;
use crate::events::RejectionReason;

/// Every metric the processor updates; labels come from small fixed sets only.
#[derive(Clone)]
pub struct ProcessorMetrics {
    pub events_consumed: IntCounter,
    pub events_applied: IntCounter,
    pub duplicates_suppressed: IntCounter,
    pub events_dead_lettered: IntCounterVec,
    pub dead_letter_failures: IntCounter,
    pub dead_letters_suppressed: IntCounter,
    pub events_abandoned: IntCounter,
    pub batch_size: Histogram,
    pub transaction_duration: Histogram,
    pub transaction_retries: IntCounterVec,
    pub batches_split: IntCounter,
    pub offset_commit_failures: IntCounter,
    pub end_to_end_latency: Histogram,
    /// 1 while the processor waits to retry a transient failure, which holds back every
    /// assigned partition; 0 otherwise.
    pub stalled: IntGauge,
    pub paused_partitions: IntGauge,
    pub outbox_published: IntCounter,
    pub outbox_pending: IntGauge,
    pub outbox_relay_failures: IntCounter,
}

impl ProcessorMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            events_consumed: IntCounter::new(
                "orderflow_processor_events_consumed_total",
                "Messages read from the orders topic, duplicates and poison included.",
            )?,
            events_applied: IntCounter::new(
                "orderflow_processor_events_applied_total",
                "Events whose order was stored for the first time.",
            )?,
            duplicates_suppressed: IntCounter::new(
                "orderflow_processor_duplicates_suppressed_total",
                "Valid events skipped because their event id was already processed.",
            )?,
            events_dead_lettered: IntCounterVec::new(
                Opts::new(
                    "orderflow_processor_events_dead_lettered_total",
                    "Events that can never be applied and were written to the dead-letter topic, by reason.",
                ),
                &["reason"],
            )?,
            dead_letters_suppressed: IntCounter::new(
                "orderflow_processor_dead_letters_suppressed_total",
                "Rejected records not written again because an earlier delivery already dead-lettered them.",
            )?,
            dead_letter_failures: IntCounter::new(
                "orderflow_processor_dead_letter_publish_failures_total",
                "Failed writes to the dead-letter topic; each is retried, and its partition waits meanwhile.",
            )?,
            events_abandoned: IntCounter::new(
                "orderflow_processor_events_abandoned_total",
                "Messages dropped unapplied because their partition was revoked; the new owner reads them again.",
            )?,
            batch_size: Histogram::with_opts(
                HistogramOpts::new("orderflow_processor_batch_size", "Messages per applied batch.")
                    .buckets(vec![1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0]),
            )?,
            transaction_duration: Histogram::with_opts(HistogramOpts::new(
                "orderflow_processor_transaction_duration_seconds",
                "Duration of one batch transaction, from BEGIN to COMMIT, successful attempts only.",
            ))?,
            transaction_retries: IntCounterVec::new(
                Opts::new(
                    "orderflow_processor_transaction_retries_total",
                    "Transactions retried after a transient failure, by cause.",
                ),
                &["cause"],
            )?,
            batches_split: IntCounter::new(
                "orderflow_processor_batches_split_total",
                "Batches the database rejected as a whole and that were applied one event at a time.",
            )?,
            offset_commit_failures: IntCounter::new(
                "orderflow_processor_offset_commit_failures_total",
                "Kafka offset commits that failed; the offsets are committed with the next batch.",
            )?,
            end_to_end_latency: Histogram::with_opts(
                HistogramOpts::new(
                    "orderflow_processor_end_to_end_latency_seconds",
                    "From the event's Kafka timestamp to the commit of its offset.",
                )
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]),
            )?,
            stalled: IntGauge::new(
                "orderflow_processor_stalled",
                "1 while processing waits to retry a transient failure (database or dead-letter write), else 0.",
            )?,
            paused_partitions: IntGauge::new(
                "orderflow_processor_paused_partitions",
                "Partitions paused on their own because a dead letter of theirs could not be written.",
            )?,
            outbox_published: IntCounter::new(
                "orderflow_processor_outbox_published_total",
                "Outbox rows published to Kafka and marked published.",
            )?,
            outbox_pending: IntGauge::new(
                "orderflow_processor_outbox_pending",
                "Outbox rows not yet published, sampled after each relay round.",
            )?,
            outbox_relay_failures: IntCounter::new(
                "orderflow_processor_outbox_relay_failures_total",
                "Relay rounds that failed and were retried.",
            )?,
        };

        registry.register(Box::new(metrics.paused_partitions.clone()))?;
        registry.register(Box::new(metrics.outbox_published.clone()))?;
        registry.register(Box::new(metrics.outbox_pending.clone()))?;
        registry.register(Box::new(metrics.outbox_relay_failures.clone()))?;
        registry.register(Box::new(metrics.end_to_end_latency.clone()))?;
        registry.register(Box::new(metrics.stalled.clone()))?;
        registry.register(Box::new(metrics.events_consumed.clone()))?;
        registry.register(Box::new(metrics.events_applied.clone()))?;
        registry.register(Box::new(metrics.duplicates_suppressed.clone()))?;
        registry.register(Box::new(metrics.events_dead_lettered.clone()))?;
        registry.register(Box::new(metrics.dead_letter_failures.clone()))?;
        registry.register(Box::new(metrics.dead_letters_suppressed.clone()))?;
        registry.register(Box::new(metrics.events_abandoned.clone()))?;
        registry.register(Box::new(metrics.batch_size.clone()))?;
        registry.register(Box::new(metrics.transaction_duration.clone()))?;
        registry.register(Box::new(metrics.transaction_retries.clone()))?;
        registry.register(Box::new(metrics.batches_split.clone()))?;
        registry.register(Box::new(metrics.offset_commit_failures.clone()))?;

        // Labelled series exist from the start, so a rate() over them never misses the first event.
        for reason in RejectionReason::ALL {
            metrics.events_dead_lettered.with_label_values(&[reason.as_label()]);
        }
        for cause in TransientCause::ALL {
            metrics.transaction_retries.with_label_values(&[cause.as_label()]);
        }
        Ok(metrics)
    }
}
