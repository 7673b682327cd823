//! Waiting out a backoff delay without going deaf to Kafka.
//!
//! A consumer that stops polling stops serving rebalance callbacks and statistics, and after
//! `max.poll.interval.ms` (librdkafka's default: 300 s) the group evicts it. So while a transient
//! failure is retried, the processor pauses its partitions and keeps polling. Messages that were
//! already fetched still arrive and are kept, in order, for the next batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

use super::apply::Cancelled;
use rdkafka::TopicPartitionList;

use super::batch::ReceivedEvent;
use super::partition_pauses::PartitionPauses;
use crate::kafka::ObservedContext;

/// The way the retry loops wait between attempts.
#[derive(Clone, Default)]
pub enum Waiter {
    /// Plain sleep, for callers without a consumer.
    #[default]
    Sleep,
    /// Pause the consumer's partitions and keep polling while waiting.
    KeepPolling(Arc<PausingPoller>),
}

impl Waiter {
    /// Waits for `delay`, or returns `Err(Cancelled)` as soon as `cancel` fires.
    pub async fn wait(&self, delay: Duration, cancel: &CancellationToken) -> Result<(), Cancelled> {
        match self {
            Waiter::Sleep => tokio::select! {
                _ = tokio::time::sleep(delay) => Ok(()),
                _ = cancel.cancelled() => Err(Cancelled),
            },
            Waiter::KeepPolling(poller) => poller.wait_polling(delay, cancel).await,
        }
    }
}

/// Polls a paused consumer and keeps what it still delivers for the next batch.
pub struct PausingPoller {
    consumer: Arc<StreamConsumer<ObservedContext>>,
    /// Partitions paused on their own, which must stay paused when a retry's wait ends.
    partition_pauses: Arc<PartitionPauses>,
    held_back: Mutex<Vec<ReceivedEvent>>,
}

impl PausingPoller {
    pub fn new(consumer: Arc<StreamConsumer<ObservedContext>>, partition_pauses: Arc<PartitionPauses>) -> Self {
        Self { consumer, partition_pauses, held_back: Mutex::new(Vec::new()) }
    }

    /// Removes and returns the messages received while waiting, oldest first.
    pub fn take_held_back(&self) -> Vec<ReceivedEvent> {
        std::mem::take(&mut *self.held_back.lock().expect("the lock is never poisoned"))
    }

    async fn wait_polling(&self, delay: Duration, cancel: &CancellationToken) -> Result<(), Cancelled> {
        let paused = self.consumer.assignment().ok();
        if let Some(partitions) = &paused {
            if let Err(error) = self.consumer.pause(partitions) {
                tracing::warn!(%error, "failed to pause partitions during a retry");
            }
        }

        let deadline = tokio::time::Instant::now() + delay;
        let outcome = loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => break Ok(()),
                _ = cancel.cancelled() => break Err(Cancelled),
                received = self.consumer.recv() => match received {
                    Ok(message) => self.held_back.lock().expect("the lock is never poisoned").push(ReceivedEvent::from_message(&message)),
                    Err(error) => tracing::warn!(%error, "Kafka consumer error while waiting to retry"),
                },
            }
        };

        if let Some(partitions) = &paused {
            let mut to_resume = TopicPartitionList::new();
            for element in partitions.elements() {
                if !self.partition_pauses.is_paused(element.topic(), element.partition()) {
                    to_resume.add_partition(element.topic(), element.partition());
                }
            }
            // Partitions revoked meanwhile cannot be resumed; the error for them is expected.
            if let Err(error) = self.consumer.resume(&to_resume) {
                tracing::debug!(%error, "failed to resume some partitions after a retry");
            }
        }
        outcome
    }
}
