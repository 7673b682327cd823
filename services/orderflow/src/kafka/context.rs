//! The consumer context: logs and counts rebalances, and turns librdkafka's statistics into
//! lag gauges and the broker state that readiness reports.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;
use rdkafka::TopicPartitionList;

use super::client_logs::LogLimiter;
use crate::metrics::ConsumerMetrics;

/// A topic and partition, the unit of ordering and of offset commits.
pub type PartitionKey = (String, i32);

#[derive(Clone)]
pub struct ObservedContext {
    metrics: ConsumerMetrics,
    broker_up: Arc<AtomicBool>,
    logs: Arc<LogLimiter>,
}

impl ObservedContext {
    pub fn new(metrics: ConsumerMetrics) -> Self {
        // Assumed up until the first statistics report shows otherwise.
        Self { metrics, broker_up: Arc::new(AtomicBool::new(true)), logs: Arc::new(LogLimiter::default()) }
    }

    /// True while librdkafka reports at least one broker connection in state `UP`.
    pub fn broker_up(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.broker_up)
    }
}

impl ClientContext for ObservedContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.logs.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.logs.error(&error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        self.metrics.record_statistics(&statistics);
        let any_up = statistics.brokers.values().any(|broker| broker.nodeid >= 0 && broker.state == "UP");
        self.broker_up.store(any_up, Ordering::Relaxed);
    }
}

impl ConsumerContext for ObservedContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                self.metrics.rebalances.with_label_values(&["revoke"]).inc();
                for element in partitions.elements() {
                    self.metrics.forget_partition(element.topic(), element.partition());
                }
                tracing::info!(partitions = %describe(partitions), "partitions revoked");
            }
            Rebalance::Assign(partitions) => {
                self.metrics.rebalances.with_label_values(&["assign"]).inc();
                tracing::info!(partitions = %describe(partitions), "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, _rebalance: &Rebalance<'_>) {
        if let Ok(assignment) = consumer.assignment() {
            self.metrics.assigned_partitions.set(i64::try_from(assignment.count()).unwrap_or(i64::MAX));
        }
    }
}

fn describe(partitions: &TopicPartitionList) -> String {
    let names: Vec<String> = partitions
        .elements()
        .iter()
        .map(|element| format!("{}/{}", element.topic(), element.partition()))
        .collect();
    names.join(",")
}
