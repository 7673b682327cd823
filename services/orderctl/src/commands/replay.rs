//! `orderctl replay`: reset a consumer group's offsets on a topic so its events are read again.
//!
//! The options mirror `kafka-consumer-groups.sh --reset-offsets`; as there, the default is a dry
//! run that only prints the plan, and `--execute` applies it.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDateTime, Utc};
use orderflow::kafka::{self, Watermarks, BROKER_TIMEOUT};
use orderflow::settings::KafkaSettings;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("target").required(true).multiple(false))]
#[command(group = clap::ArgGroup::new("mode").multiple(false))]
pub struct ReplayArgs {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    /// Consumer group whose offsets are reset.
    #[arg(long, env = "ORDERFLOW_GROUP", default_value = "order-processor")]
    pub group: String,

    /// Topic whose partitions are reset.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Reset to the first retained offset of each partition: a full replay.
    #[arg(long, group = "target")]
    pub to_earliest: bool,

    /// Reset to the end of each partition: skip everything not yet read.
    #[arg(long, group = "target")]
    pub to_latest: bool,

    /// Reset to the first message at or after this time (RFC 3339, or YYYY-MM-DDTHH:MM:SS in UTC).
    #[arg(long, group = "target", value_parser = parse_datetime)]
    pub to_datetime: Option<DateTime<Utc>>,

    /// Reset every partition to this offset, clamped to the partition's watermarks.
    #[arg(long, group = "target")]
    pub to_offset: Option<i64>,

    /// Move each committed offset by this many messages (negative to go back), clamped.
    #[arg(long, group = "target", allow_hyphen_values = true)]
    pub shift_by: Option<i64>,

    /// Only print the new offsets (the default).
    #[arg(long, group = "mode")]
    pub dry_run: bool,

    /// Commit the new offsets.
    #[arg(long, group = "mode")]
    pub execute: bool,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let brokers = &args.kafka.brokers;
    let members = kafka::group_members(brokers, &args.group)?;
    if !members.is_empty() {
        let message = format!(
            "consumer group {} has active members ({}); stop its consumers before resetting offsets, because their next commit would overwrite the reset",
            args.group,
            members.join(", ")
        );
        if args.execute {
            bail!(message);
        }
        println!("warning: {message}");
    }

    let marks = kafka::watermarks(brokers, &args.topic)?;
    let current = kafka::committed_offsets(brokers, &args.group, &args.topic)?;
    let planned = plan_offsets(&args, &marks, &current)?;

    println!("{:<24} {:>9} {:>15} {:>15}", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
    for (partition, new_offset) in &planned {
        let current_text = current
            .get(partition)
            .copied()
            .flatten()
            .map_or_else(|| "-".to_owned(), |offset| offset.to_string());
        println!("{:<24} {:>9} {:>15} {:>15}", args.topic, partition, current_text, new_offset);
    }

    if !args.execute {
        println!("dry run: nothing changed; add --execute to commit these offsets for group {}", args.group);
        return Ok(());
    }
    kafka::commit_group_offsets(brokers, &args.group, &args.topic, &planned)?;
    println!("committed new offsets for group {} on {}", args.group, args.topic);
    Ok(())
}

/// Computes the new offset of every partition, within its watermarks.
fn plan_offsets(
    args: &ReplayArgs,
    marks: &BTreeMap<i32, Watermarks>,
    current: &BTreeMap<i32, Option<i64>>,
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let by_time = match args.to_datetime {
        Some(time) => Some(offsets_for_time(args, time, marks)?),
        None => None,
    };
    let mut planned = BTreeMap::new();
    for (partition, mark) in marks {
        let target = if args.to_earliest {
            mark.low
        } else if args.to_latest {
            mark.high
        } else if let Some(offsets) = &by_time {
            offsets[partition]
        } else if let Some(offset) = args.to_offset {
            offset
        } else if let Some(shift) = args.shift_by {
            let position = current.get(partition).copied().flatten().unwrap_or(mark.low);
            position.saturating_add(shift)
        } else {
            bail!("no reset target given; use one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by");
        };
        planned.insert(*partition, target.clamp(mark.low, mark.high));
    }
    Ok(planned)
}

/// Looks up, per partition, the first offset whose timestamp is at or after `time`; partitions
/// with no such message get their high watermark.
fn offsets_for_time(args: &ReplayArgs, time: DateTime<Utc>, marks: &BTreeMap<i32, Watermarks>) -> anyhow::Result<BTreeMap<i32, i64>> {
    let consumer: BaseConsumer = kafka::base_config(&args.kafka.brokers)
        .create()
        .context("failed to create a Kafka client")?;
    let mut request = TopicPartitionList::new();
    for partition in marks.keys() {
        request
            .add_partition_offset(&args.topic, *partition, Offset::Offset(time.timestamp_millis()))
            .context("failed to build the offset lookup")?;
    }
    let found = consumer
        .offsets_for_times(request, BROKER_TIMEOUT)
        .with_context(|| format!("failed to look up offsets of {} at {time}", args.topic))?;
    Ok(found
        .elements()
        .iter()
        .map(|element| {
            let offset = match element.offset() {
                Offset::Offset(offset) => offset,
                _ => marks[&element.partition()].high,
            };
            (element.partition(), offset)
        })
        .collect())
}

fn parse_datetime(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|_| format!("{value:?} is not a time; use RFC 3339 (2026-12-04T10:00:00Z) or YYYY-MM-DDTHH:MM:SS in UTC"))
}
