//! Reading a whole topic from its low to its high watermarks, outside any consumer group.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::client_config::base_config;
use super::group_offsets::{watermarks, Watermarks};
use crate::settings::Brokers;

/// Maximum time without a new message before the read is reported as stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls `visit` for every message below the high watermarks taken at the start, and returns
/// those watermarks. Blocks the calling thread.
pub fn read_topic(
    brokers: &Brokers,
    topic: &str,
    mut visit: impl FnMut(&BorrowedMessage<'_>),
) -> anyhow::Result<BTreeMap<i32, Watermarks>> {
    let marks = watermarks(brokers, topic)?;
    let mut config = base_config(brokers);
    // No group: nothing is committed, and `assign` needs no group coordinator.
    config.set("enable.auto.commit", "false").set("group.id", "orderctl-reader");
    let consumer: BaseConsumer = config.create().context("failed to create a Kafka consumer")?;

    let mut assignment = TopicPartitionList::new();
    let mut remaining = 0usize;
    for (partition, mark) in &marks {
        if mark.high > mark.low {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(mark.low))
                .context("failed to build the partition assignment")?;
            remaining += 1;
        }
    }
    if remaining == 0 {
        return Ok(marks);
    }
    consumer.assign(&assignment).with_context(|| format!("failed to assign the partitions of {topic}"))?;

    let mut last_progress = Instant::now();
    while remaining > 0 {
        let Some(result) = consumer.poll(Duration::from_millis(500)) else {
            if last_progress.elapsed() > STALL_TIMEOUT {
                bail!("reading {topic} made no progress for {} s with {remaining} partitions unfinished", STALL_TIMEOUT.as_secs());
            }
            continue;
        };
        let message = result.with_context(|| format!("failed to read from {topic}"))?;
        last_progress = Instant::now();
        let high = marks[&message.partition()].high;
        if message.offset() >= high {
            continue;
        }
        visit(&message);
        if message.offset() == high - 1 {
            remaining -= 1;
        }
    }
    Ok(marks)
}
