//! Reading watermarks and a consumer group's committed offsets, and setting them: what lag
//! reports, replays and tests are built on. All calls block for at most `BROKER_TIMEOUT`.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::client_config::base_config;
use super::topics::{partition_count, BROKER_TIMEOUT};
use crate::settings::Brokers;

/// The first and one-past-the-last offset of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    pub low: i64,
    pub high: i64,
}

/// Watermarks of every partition of `topic`, by partition number.
pub fn watermarks(brokers: &Brokers, topic: &str) -> anyhow::Result<BTreeMap<i32, Watermarks>> {
    let consumer: BaseConsumer = base_config(brokers).create().context("failed to create a Kafka client")?;
    let mut result = BTreeMap::new();
    for partition in 0..partition_count(brokers, topic)? {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, BROKER_TIMEOUT)
            .with_context(|| format!("failed to read the watermarks of {topic}/{partition}"))?;
        result.insert(partition, Watermarks { low, high });
    }
    Ok(result)
}

/// Committed offsets of `group` on every partition of `topic`; `None` where it never committed.
pub fn committed_offsets(brokers: &Brokers, group: &str, topic: &str) -> anyhow::Result<BTreeMap<i32, Option<i64>>> {
    let consumer = group_client(brokers, group)?;
    let mut request = TopicPartitionList::new();
    for partition in 0..partition_count(brokers, topic)? {
        request.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(request, BROKER_TIMEOUT)
        .with_context(|| format!("failed to read the committed offsets of group {group} on {topic}"))?;
    Ok(committed
        .elements()
        .iter()
        .map(|element| {
            let offset = match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            };
            (element.partition(), offset)
        })
        .collect())
}

/// Messages not yet committed by `group`, per partition: high watermark minus committed offset,
/// or minus the low watermark where nothing is committed.
pub fn group_lag(brokers: &Brokers, group: &str, topic: &str) -> anyhow::Result<BTreeMap<i32, i64>> {
    let marks = watermarks(brokers, topic)?;
    let committed = committed_offsets(brokers, group, topic)?;
    Ok(marks
        .iter()
        .map(|(partition, marks)| {
            let position = committed.get(partition).copied().flatten().unwrap_or(marks.low);
            (*partition, (marks.high - position).max(0))
        })
        .collect())
}

/// Members of `group` as `client_id@host`; empty when the group has none or does not exist.
pub fn group_members(brokers: &Brokers, group: &str) -> anyhow::Result<Vec<String>> {
    let consumer: BaseConsumer = base_config(brokers).create().context("failed to create a Kafka client")?;
    let groups = consumer
        .fetch_group_list(Some(group), BROKER_TIMEOUT)
        .with_context(|| format!("failed to describe consumer group {group}"))?;
    Ok(groups
        .groups()
        .iter()
        .flat_map(|info| info.members())
        .map(|member| format!("{}@{}", member.client_id(), member.client_host()))
        .collect())
}

/// Commits `offsets` (partition to next offset) for `group` without joining it. Kafka accepts
/// this only while the group has no active members.
pub fn commit_group_offsets(brokers: &Brokers, group: &str, topic: &str, offsets: &BTreeMap<i32, i64>) -> anyhow::Result<()> {
    if offsets.is_empty() {
        bail!("no offsets to commit for group {group} on {topic}");
    }
    let consumer = group_client(brokers, group)?;
    let mut list = TopicPartitionList::new();
    for (partition, offset) in offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .with_context(|| format!("invalid offset {offset} for {topic}/{partition}"))?;
    }
    consumer
        .commit(&list, CommitMode::Sync)
        .with_context(|| format!("failed to commit offsets for group {group} on {topic}"))?;
    Ok(())
}

fn group_client(brokers: &Brokers, group: &str) -> anyhow::Result<BaseConsumer> {
    let mut config = base_config(brokers);
    config.set("group.id", group).set("enable.auto.commit", "false");
    config.create().context("failed to create a Kafka client")
}
