//! Gathering messages into batches, decoding each one as it arrives.

use std::time::Duration;

use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::Timestamp;
use rdkafka::consumer::ConsumerContext;
use tokio::time::Instant;

use crate::events::{decode_order_placed, Rejection, RejectionReason, ValidOrder};

/// Pause after a consumer error before polling again, so a broker outage does not spin.
const CONSUMER_ERROR_PAUSE: Duration = Duration::from_millis(500);

/// One message and what its value decoded to.
#[derive(Debug)]
pub struct ReceivedEvent {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub decoded: Result<ValidOrder, Rejection>,
    /// The record as it arrived, kept so that a rejected event is dead-lettered unchanged.
    pub original: OriginalRecord,
}

/// Key, value, headers and timestamp of a consumed record, byte for byte.
#[derive(Debug, Clone)]
pub struct OriginalRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub timestamp: Timestamp,
}

impl ReceivedEvent {
    pub fn from_message(message: &BorrowedMessage<'_>) -> Self {
        let decoded = match message.payload() {
            Some(bytes) => decode_order_placed(bytes),
            None => Err(Rejection::new(RejectionReason::MalformedJson, "message has no value")),
        };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| (header.key.to_owned(), header.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            decoded,
            original: OriginalRecord {
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().map(<[u8]>::to_vec),
                headers,
                timestamp: message.timestamp(),
            },
        }
    }
}

/// Limits that end the gathering of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_size: usize,
    /// How long to wait for more messages after the first one.
    pub linger: Duration,
    /// Return an empty batch when no first message arrives in this time; `None` waits forever.
    pub idle_timeout: Option<Duration>,
}

/// Waits for a first message, then gathers more until `max_size` or the linger time is reached.
///
/// Cancel-safe: dropping the future loses no message that was not returned, because the
/// offsets of unreturned messages are never committed and Kafka delivers them again.
pub async fn collect_batch<C: ConsumerContext + 'static>(consumer: &StreamConsumer<C>, limits: BatchLimits) -> Vec<ReceivedEvent> {
    let mut batch = Vec::with_capacity(limits.max_size.min(1024));

    let first = match limits.idle_timeout {
        Some(timeout) => match tokio::time::timeout(timeout, receive(consumer)).await {
            Ok(event) => event,
            Err(_) => return batch,
        },
        None => receive(consumer).await,
    };
    batch.push(first);

    let deadline = Instant::now() + limits.linger;
    while batch.len() < limits.max_size {
        match tokio::time::timeout_at(deadline, receive(consumer)).await {
            Ok(event) => batch.push(event),
            Err(_) => break,
        }
    }
    batch
}

/// Receives the next message, logging and outlasting consumer errors such as a lost broker.
async fn receive<C: ConsumerContext + 'static>(consumer: &StreamConsumer<C>) -> ReceivedEvent {
    loop {
        match consumer.recv().await {
            Ok(message) => {
                let event = ReceivedEvent::from_message(&message);
                tracing::debug!(topic = %event.topic, partition = event.partition, offset = event.offset, "received message");
                return event;
            }
            Err(error) => {
                tracing::warn!(%error, "Kafka consumer error, polling again");
                tokio::time::sleep(CONSUMER_ERROR_PAUSE).await;
            }
        }
    }
}
