//! Publishing rejected records to the dead-letter topic, unchanged and with headers that state
//! why and where from.
//!
//! Header names and encodings follow Spring for Apache Kafka's `DeadLetterPublishingRecoverer`
//! (spring-kafka 2.7 and later), so tools written for it can read our dead letters.
//! `kafka_dlt-original-partition` is a 4-byte big-endian integer, `kafka_dlt-original-offset`
//! and `kafka_dlt-original-timestamp` are 8-byte big-endian integers, and the others UTF-8 text.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Timestamp;
use tokio_util::sync::CancellationToken;

use deadpool_postgres::Pool;

use super::apply::Cancelled;
use super::backoff::{retry_until_ok, Backoff};
use crate::database::dead_letters::{self, Position};
use super::batch::ReceivedEvent;
use super::waiter::Waiter;
use crate::events::Rejection;
use crate::kafka::{PartitionKey, QuietContext};
use crate::metrics::ProcessorMetrics;

pub const HEADER_ORIGINAL_TOPIC: &str = "kafka_dlt-original-topic";
pub const HEADER_ORIGINAL_PARTITION: &str = "kafka_dlt-original-partition";
pub const HEADER_ORIGINAL_OFFSET: &str = "kafka_dlt-original-offset";
pub const HEADER_ORIGINAL_TIMESTAMP: &str = "kafka_dlt-original-timestamp";
pub const HEADER_ORIGINAL_TIMESTAMP_TYPE: &str = "kafka_dlt-original-timestamp-type";
pub const HEADER_ORIGINAL_CONSUMER_GROUP: &str = "kafka_dlt-original-consumer-group";
pub const HEADER_EXCEPTION_FQCN: &str = "kafka_dlt-exception-fqcn";
pub const HEADER_EXCEPTION_MESSAGE: &str = "kafka_dlt-exception-message";
/// orderflow's own: the rejection reason label, such as `malformed_json`.
pub const HEADER_REASON: &str = "orderflow_dlt-reason";
/// orderflow's own: how often this record was dead-lettered, as decimal text; a redriven record
/// that fails again carries the previous count plus one.
pub const HEADER_ATTEMPTS: &str = "orderflow_dlt-attempts";
/// orderflow's own: when the record was dead-lettered, RFC 3339 in UTC.
pub const HEADER_FAILED_AT: &str = "orderflow_dlt-failed-at";

/// Headers that this module writes; copies of them in the original record are replaced.
const DEAD_LETTER_HEADERS: [&str; 11] = [
    HEADER_ORIGINAL_TOPIC,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_OFFSET,
    HEADER_ORIGINAL_TIMESTAMP,
    HEADER_ORIGINAL_TIMESTAMP_TYPE,
    HEADER_ORIGINAL_CONSUMER_GROUP,
    HEADER_EXCEPTION_FQCN,
    HEADER_EXCEPTION_MESSAGE,
    HEADER_REASON,
    HEADER_ATTEMPTS,
    HEADER_FAILED_AT,
];

/// How long one publish may wait for the broker's acknowledgement before it is retried.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends rejected records to the dead-letter topic with the idempotent producer, once per
/// source position unless the process crashes between the write and its record in PostgreSQL.
#[derive(Clone)]
pub struct DeadLetterPublisher {
    pool: Pool,
    waiter: Waiter,
    producer: FutureProducer<QuietContext>,
    topic: String,
    partitions: i32,
    group: String,
    metrics: ProcessorMetrics,
}

impl DeadLetterPublisher {
    pub fn new(
        pool: Pool,
        waiter: Waiter,
        producer: FutureProducer<QuietContext>,
        topic: String,
        partitions: i32,
        group: String,
        metrics: ProcessorMetrics,
    ) -> Self {
        Self { pool, waiter, producer, topic, partitions: partitions.max(1), group, metrics }
    }

    /// Publishes each record once and waits for the broker's acknowledgement. Returns, per
    /// partition, the offset of the first record whose write failed. That partition's later
    /// records are not tried, so none of its offsets from there on may be committed.
    pub async fn publish_all(
        &self,
        letters: &[(&ReceivedEvent, &Rejection)],
        cancel: &CancellationToken,
    ) -> Result<HashMap<PartitionKey, i64>, Cancelled> {
        let mut failed: HashMap<PartitionKey, i64> = HashMap::new();
        if letters.is_empty() {
            return Ok(failed);
        }
        let positions: Vec<Position> = letters.iter().map(|(event, _)| position(event)).collect();
        let recorded = retry_until_ok("reading the dead-letter records", Backoff::for_database(), &self.waiter, cancel, || async {
            let client = self.pool.get().await.map_err(|error| error.to_string())?;
            dead_letters::find_recorded(&client, &positions).await.map_err(|error| error.to_string())
        })
        .await?;

        for ((event, rejection), position) in letters.iter().zip(&positions) {
            let partition_key = (event.topic.clone(), event.partition);
            if failed.contains_key(&partition_key) {
                continue;
            }
            if recorded.contains(position) {
                self.metrics.dead_letters_suppressed.inc();
                tracing::debug!(topic = %event.topic, partition = event.partition, offset = event.offset, "already dead-lettered, skipping");
                continue;
            }
            if let Err(error) = self.publish(event, rejection).await {
                self.metrics.dead_letter_failures.inc();
                tracing::error!(
                    dead_letter_topic = %self.topic,
                    topic = %event.topic,
                    partition = event.partition,
                    offset = event.offset,
                    %error,
                    "failed to write a dead letter; its partition waits and retries"
                );
                failed.insert(partition_key, event.offset);
                continue;
            }
            self.metrics.events_dead_lettered.with_label_values(&[rejection.reason.as_label()]).inc();
            tracing::warn!(
                topic = %event.topic,
                partition = event.partition,
                offset = event.offset,
                reason = rejection.reason.as_label(),
                detail = %rejection.detail,
                dead_letter_topic = %self.topic,
                "dead-lettered an event that can never be applied"
            );

            let detail = escape_control_characters(&rejection.detail);
            retry_until_ok("recording a dead letter", Backoff::for_database(), &self.waiter, cancel, || async {
                let client = self.pool.get().await.map_err(|error| error.to_string())?;
                dead_letters::record(&client, position, rejection.reason.as_label(), &detail).await.map_err(|error| error.to_string())
            })
            .await?;
        }
        Ok(failed)
    }

    async fn publish(&self, event: &ReceivedEvent, rejection: &Rejection) -> Result<(), rdkafka::error::KafkaError> {
        let original = &event.original;
        let headers = dead_letter_headers(event, rejection, &self.group);
        // Spring's default: the same partition number as the source, so the order of one
        // source partition's dead letters is kept.
        let partition = event.partition % self.partitions;
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).partition(partition).headers(headers);
        if let Some(key) = &original.key {
            record = record.key(key.as_slice());
        }
        if let Some(value) = &original.value {
            record = record.payload(value.as_slice());
        }
        self.producer.send(record, PUBLISH_TIMEOUT).await.map(|_| ()).map_err(|(error, _)| error)
    }
}

fn position(event: &ReceivedEvent) -> Position {
    (event.topic.clone(), event.partition, event.offset)
}

/// Replaces control characters, which PostgreSQL `text` may reject (NUL), with `\u{...}` escapes.
fn escape_control_characters(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

/// Builds the original headers, minus earlier dead-letter headers, plus the new ones.
fn dead_letter_headers(event: &ReceivedEvent, rejection: &Rejection, group: &str) -> OwnedHeaders {
    let original = &event.original;
    let previous_attempts = original
        .headers
        .iter()
        .rev()
        .find(|(key, _)| key == HEADER_ATTEMPTS)
        .and_then(|(_, value)| value.as_deref())
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<u32>().ok())
        .unwrap_or(0);

    let mut headers = OwnedHeaders::new_with_capacity(original.headers.len() + DEAD_LETTER_HEADERS.len());
    for (key, value) in &original.headers {
        if !DEAD_LETTER_HEADERS.contains(&key.as_str()) {
            headers = headers.insert(Header { key, value: value.as_deref() });
        }
    }

    let (timestamp, timestamp_type) = match original.timestamp {
        Timestamp::CreateTime(millis) => (millis, "CreateTime"),
        Timestamp::LogAppendTime(millis) => (millis, "LogAppendTime"),
        Timestamp::NotAvailable => (-1, "NoTimestampType"),
    };
    let exception_class = format!("orderflow.{}", rejection.reason.as_label());
    let attempts = (previous_attempts + 1).to_string();
    let failed_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let fields: [(&str, Vec<u8>); 11] = [
        (HEADER_ORIGINAL_TOPIC, event.topic.as_bytes().to_vec()),
        (HEADER_ORIGINAL_PARTITION, event.partition.to_be_bytes().to_vec()),
        (HEADER_ORIGINAL_OFFSET, event.offset.to_be_bytes().to_vec()),
        (HEADER_ORIGINAL_TIMESTAMP, timestamp.to_be_bytes().to_vec()),
        (HEADER_ORIGINAL_TIMESTAMP_TYPE, timestamp_type.as_bytes().to_vec()),
        (HEADER_ORIGINAL_CONSUMER_GROUP, group.as_bytes().to_vec()),
        (HEADER_EXCEPTION_FQCN, exception_class.into_bytes()),
        (HEADER_EXCEPTION_MESSAGE, rejection.detail.as_bytes().to_vec()),
        (HEADER_REASON, rejection.reason.as_label().as_bytes().to_vec()),
        (HEADER_ATTEMPTS, attempts.into_bytes()),
        (HEADER_FAILED_AT, failed_at.into_bytes()),
    ];
    for (key, value) in &fields {
        headers = headers.insert(Header { key, value: Some(value.as_slice()) });
    }
    headers
}
