//! Kafka clients: shared librdkafka settings, topic creation, group offsets and the
//! rebalance-logging context.

mod client_config;
mod client_logs;
mod context;
mod group_offsets;
mod topic_reader;
mod topics;

pub use client_config::{base_config, idempotent_producer_config, manual_commit_consumer_config};
pub use client_logs::QuietContext;
pub use context::{ObservedContext, PartitionKey};
pub use group_offsets::{commit_group_offsets, committed_offsets, group_lag, group_members, watermarks, Watermarks};
pub use topic_reader::read_topic;
pub use topics::{check_brokers, ensure_topic, partition_count, BROKER_TIMEOUT};
