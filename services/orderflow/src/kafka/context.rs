//! A consumer context that logs rebalances, so an operator sees which partitions moved.

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;
use rdkafka::TopicPartitionList;

/// A topic and partition, the unit of ordering and of offset commits.
pub type PartitionKey = (String, i32);

/// Logs each rebalance at info level with the partitions involved.
#[derive(Debug, Default, Clone)]
pub struct RebalanceContext;

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = %describe(partitions), "partitions revoked");
            }
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = %describe(partitions), "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
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
