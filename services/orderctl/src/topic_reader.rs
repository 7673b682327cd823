//! Reading a whole topic from its low to its high watermarks, outside any consumer group.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use orderflow::kafka::{self, Watermarks};
use orderflow::settings::Brokers;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// Longest time without any new message before the read is reported as stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls `visit(partition, offset, value)` for every message below the high watermarks taken at
/// the start, and returns those watermarks.
pub fn read_topic(
    brokers: &Brokers,
    topic: &str,
    mut visit: impl FnMut(i32, i64, Option<&[u8]>),
) -> anyhow::Result<BTreeMap<i32, Watermarks>> {
    let marks = kafka::watermarks(brokers, topic)?;
    let mut config = kafka::base_config(brokers);
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
        visit(message.partition(), message.offset(), message.payload());
        if message.offset() == high - 1 {
            remaining -= 1;
        }
    }
    Ok(marks)
}
