//! Kafka consumer metrics: lag from librdkafka's statistics, rebalances and assignment size.
//!
//! The lag gauges carry the labels of kafka_exporter's `kafka_consumergroup_lag`
//! (`consumergroup`, `topic`, `partition`), so its dashboards and alerts carry over.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use rdkafka::statistics::Statistics;

#[derive(Clone)]
pub struct ConsumerMetrics {
    group: String,
    pub lag: IntGaugeVec,
    pub lag_stored: IntGaugeVec,
    pub rebalances: IntCounterVec,
    pub assigned_partitions: IntGauge,
}

impl ConsumerMetrics {
    pub fn register(registry: &Registry, group: &str) -> prometheus::Result<Self> {
        let labels = ["consumergroup", "topic", "partition"];
        let metrics = Self {
            group: group.to_owned(),
            lag: IntGaugeVec::new(
                Opts::new(
                    "orderflow_consumergroup_lag",
                    "High watermark minus committed offset, per partition, from librdkafka statistics.",
                ),
                &labels,
            )?,
            lag_stored: IntGaugeVec::new(
                Opts::new(
                    "orderflow_consumergroup_lag_stored",
                    "High watermark minus stored (next to commit) offset, per partition, from librdkafka statistics.",
                ),
                &labels,
            )?,
            rebalances: IntCounterVec::new(
                Opts::new("orderflow_consumer_rebalances_total", "Rebalance callbacks by kind: assign or revoke."),
                &["kind"],
            )?,
            assigned_partitions: IntGauge::new(
                "orderflow_consumer_assigned_partitions",
                "Partitions currently assigned to this consumer.",
            )?,
        };
        registry.register(Box::new(metrics.lag.clone()))?;
        registry.register(Box::new(metrics.lag_stored.clone()))?;
        registry.register(Box::new(metrics.rebalances.clone()))?;
        registry.register(Box::new(metrics.assigned_partitions.clone()))?;
        for kind in ["assign", "revoke"] {
            metrics.rebalances.with_label_values(&[kind]);
        }
        Ok(metrics)
    }

    /// Copies the per-partition lag out of one statistics report. librdkafka lists its internal
    /// partition -1 (unassigned messages) and reports -1 where an offset is not known yet. Both
    /// are skipped, so a gauge only ever shows a real lag.
    pub fn record_statistics(&self, statistics: &Statistics) {
        for (topic_name, topic) in &statistics.topics {
            for partition in topic.partitions.values() {
                if partition.partition < 0 {
                    continue;
                }
                let partition_label = partition.partition.to_string();
                let labels = [self.group.as_str(), topic_name.as_str(), partition_label.as_str()];
                if partition.consumer_lag >= 0 {
                    self.lag.with_label_values(&labels).set(partition.consumer_lag);
                }
                if partition.consumer_lag_stored >= 0 {
                    self.lag_stored.with_label_values(&labels).set(partition.consumer_lag_stored);
                }
            }
        }
    }

    /// Drops the lag series of a partition that moved to another consumer, whose numbers would
    /// otherwise stay frozen here.
    pub fn forget_partition(&self, topic: &str, partition: i32) {
        let partition_label = partition.to_string();
        let labels = [self.group.as_str(), topic, partition_label.as_str()];
        let _ = self.lag.remove_label_values(&labels);
        let _ = self.lag_stored.remove_label_values(&labels);
    }
}
