//! The offsets that may be committed to Kafka: only those of messages whose batch is committed
//! in PostgreSQL.

use std::collections::BTreeMap;

use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::PartitionKey;

/// Next offsets to commit per partition. A failed commit keeps its entries, so they go out with
/// the next batch's commit instead of being lost for partitions that see no more messages.
#[derive(Debug, Default)]
pub struct OffsetLedger {
    next_offsets: BTreeMap<PartitionKey, i64>,
}

impl OffsetLedger {
    /// Records that every message up to and including `offset` is done.
    pub fn mark_done(&mut self, topic: &str, partition: i32, offset: i64) {
        let next = offset + 1;
        self.next_offsets
            .entry((topic.to_owned(), partition))
            .and_modify(|current| *current = (*current).max(next))
            .or_insert(next);
    }

    /// Drops partitions that are no longer assigned: committing them would fail, and their new
    /// owner reads from the last committed offset and deduplicates.
    pub fn retain_assigned(&mut self, assignment: &TopicPartitionList) {
        self.next_offsets
            .retain(|(topic, partition), _| assignment.find_partition(topic, *partition).is_some());
    }

    pub fn is_empty(&self) -> bool {
        self.next_offsets.is_empty()
    }

    pub fn to_partition_list(&self) -> TopicPartitionList {
        let mut list = TopicPartitionList::new();
        for ((topic, partition), next) in &self.next_offsets {
            list.add_partition_offset(topic, *partition, Offset::Offset(*next))
                .expect("a fresh list accepts any offset");
        }
        list
    }

    pub fn clear(&mut self) {
        self.next_offsets.clear();
    }

    /// Commits the recorded offsets of still-assigned partitions synchronously and clears the
    /// ledger. Returns `Ok(false)` when there was nothing to commit; on error the entries stay
    /// for the next attempt.
    pub fn commit<C: ConsumerContext + 'static>(&mut self, consumer: &StreamConsumer<C>) -> KafkaResult<bool> {
        if self.is_empty() {
            return Ok(false);
        }
        match consumer.assignment() {
            Ok(assignment) => self.retain_assigned(&assignment),
            Err(error) => tracing::warn!(%error, "failed to read the partition assignment before committing"),
        }
        if self.is_empty() {
            return Ok(false);
        }

        let offsets = self.to_partition_list();
        // Storing the offsets first makes librdkafka report the stored lag as well; with
        // enable.auto.offset.store off nothing else stores them.
        if let Err(error) = consumer.store_offsets(&offsets) {
            tracing::debug!(%error, "failed to store offsets before committing them");
        }
        // The commit blocks this thread until the broker responds, so block_in_place lets the
        // runtime move other tasks, such as the metrics server, to another thread meanwhile.
        tokio::task::block_in_place(|| consumer.commit(&offsets, CommitMode::Sync))?;
        self.clear();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_keeps_highest_next_offset() {
        let mut ledger = OffsetLedger::default();
        ledger.mark_done("orders", 0, 7);
        ledger.mark_done("orders", 0, 3);
        ledger.mark_done("orders", 1, 0);
        let list = ledger.to_partition_list();
        assert_eq!(list.find_partition("orders", 0).unwrap().offset(), Offset::Offset(8));
        assert_eq!(list.find_partition("orders", 1).unwrap().offset(), Offset::Offset(1));
    }

    #[test]
    fn ledger_forgets_unassigned_partitions() {
        let mut ledger = OffsetLedger::default();
        ledger.mark_done("orders", 0, 7);
        ledger.mark_done("orders", 1, 9);
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition("orders", 1);
        ledger.retain_assigned(&assignment);
        let list = ledger.to_partition_list();
        assert!(list.find_partition("orders", 0).is_none());
        assert_eq!(list.find_partition("orders", 1).unwrap().offset(), Offset::Offset(10));
    }
}
