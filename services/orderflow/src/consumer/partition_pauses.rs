//! Partitions held back because a dead letter of theirs could not be written, while the others
//! go on.
//!
//! A failed dead-letter write pauses only its partition in Kafka and rewinds it to the rejected
//! record, so that nothing after that record is committed. After a backoff the partition is
//! resumed, the record is read again and its dead letter tried again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

use super::backoff::Backoff;
use crate::kafka::PartitionKey;

/// Time a rewind of a partition may take.
const SEEK_TIMEOUT: Duration = Duration::from_secs(10);

struct PauseEntry {
    backoff: Backoff,
    resume_at: Option<Instant>,
}

#[derive(Default)]
pub struct PartitionPauses {
    entries: Mutex<HashMap<PartitionKey, PauseEntry>>,
}

impl PartitionPauses {
    /// Pauses the partition and rewinds it to `offset`, to be resumed after its next backoff.
    pub fn pause_at<C: ConsumerContext + 'static>(&self, consumer: &StreamConsumer<C>, topic: &str, partition: i32, offset: i64) {
        let delay = {
            let mut entries = self.entries.lock().expect("the lock is never poisoned");
            let entry = entries
                .entry((topic.to_owned(), partition))
                .or_insert_with(|| PauseEntry { backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(30)), resume_at: None });
            let delay = entry.backoff.next_delay();
            entry.resume_at = Some(Instant::now() + delay);
            delay
        };
        let list = single(topic, partition);
        if let Err(error) = consumer.pause(&list) {
            tracing::warn!(topic, partition, %error, "failed to pause a partition");
        }
        let seek = tokio::task::block_in_place(|| consumer.seek(topic, partition, Offset::Offset(offset), SEEK_TIMEOUT));
        if let Err(error) = seek {
            tracing::error!(topic, partition, offset, %error, "failed to rewind a paused partition");
        }
        tracing::warn!(topic, partition, offset, delay_ms = delay.as_millis(), "paused a partition until its dead letter can be written");
    }

    /// Resumes the paused partitions whose backoff has passed.
    pub fn resume_due<C: ConsumerContext + 'static>(&self, consumer: &StreamConsumer<C>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("the lock is never poisoned");
        for ((topic, partition), entry) in entries.iter_mut() {
            if entry.resume_at.is_some_and(|at| at <= now) {
                entry.resume_at = None;
                if let Err(error) = consumer.resume(&single(topic, *partition)) {
                    tracing::warn!(topic, partition, %error, "failed to resume a partition");
                }
                tracing::info!(topic, partition, "resumed a partition to retry its dead letter");
            }
        }
    }

    /// Forgets the partition's failures once its dead letters were written.
    pub fn clear(&self, topic: &str, partition: i32) {
        self.entries.lock().expect("the lock is never poisoned").remove(&(topic.to_owned(), partition));
    }

    pub fn is_paused(&self, topic: &str, partition: i32) -> bool {
        let entries = self.entries.lock().expect("the lock is never poisoned");
        entries.get(&(topic.to_owned(), partition)).is_some_and(|entry| entry.resume_at.is_some())
    }

    pub fn paused_count(&self) -> usize {
        self.entries.lock().expect("the lock is never poisoned").values().filter(|entry| entry.resume_at.is_some()).count()
    }

    /// Time until the next paused partition is due, if any is paused.
    pub fn next_resume_in(&self) -> Option<Duration> {
        let entries = self.entries.lock().expect("the lock is never poisoned");
        entries.values().filter_map(|entry| entry.resume_at).min().map(|at| at.saturating_duration_since(Instant::now()))
    }
}

fn single(topic: &str, partition: i32) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    list.add_partition(topic, partition);
    list
}
