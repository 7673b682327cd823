//! Applying a batch in one PostgreSQL transaction that records the event ids it applies.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use deadpool_postgres::Pool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::backoff::Backoff;
use super::batch::ReceivedEvent;
use super::outcome::EventOutcome;
use super::waiter::Waiter;
use crate::database::{self, orders, outbox, processed_events, FailureClass, TransientCause};
use crate::events::{OrderConfirmed, Rejection, RejectionReason, ValidOrder};
use crate::metrics::ProcessorMetrics;

/// Consecutive transient failures after which a retry is logged as an error, because something
/// needs an operator (a database that stays down), rather than as a warning.
const RETRIES_BEFORE_ERROR: u32 = 5;

/// Returned when shutdown was requested while a transaction was waiting to be retried; nothing of
/// the batch is committed then, in PostgreSQL or in Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error("failed to get a database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("{}", describe_database_error(.0))]
    Database(#[from] tokio_postgres::Error),
}

/// Applies batches of received events, each event id at most once, and retries transient
/// failures without limit.
#[derive(Clone)]
pub struct BatchApplier {
    pool: Pool,
    metrics: ProcessorMetrics,
    waiter: Waiter,
    /// Topic that the outbox relay publishes each new order's `OrderConfirmed` event to.
    events_topic: String,
}

impl BatchApplier {
    pub fn new(pool: Pool, metrics: ProcessorMetrics, waiter: Waiter, events_topic: String) -> Self {
        Self { pool, metrics, waiter, events_topic }
    }

    /// Returns one outcome per event, in the order of `events`.
    ///
    /// The valid events go into one transaction. When PostgreSQL rejects their values as a whole,
    /// each is retried in a transaction of its own, so that one bad event cannot block the others.
    pub async fn apply(&self, events: &[ReceivedEvent], cancel: &CancellationToken) -> Result<Vec<EventOutcome>, Cancelled> {
        let mut outcomes: Vec<Option<EventOutcome>> = vec![None; events.len()];
        let mut first_index_by_id = HashMap::new();
        let mut duplicates_in_batch = Vec::new();
        let mut candidates = Vec::new();
        for (index, event) in events.iter().enumerate() {
            match &event.decoded {
                Err(rejection) => outcomes[index] = Some(EventOutcome::Rejected(rejection.clone())),
                Ok(order) => match first_index_by_id.insert(order.event_id(), index) {
                    None => candidates.push(index),
                    Some(first) => {
                        first_index_by_id.insert(order.event_id(), first);
                        duplicates_in_batch.push((index, first));
                    }
                },
            }
        }
        candidates.sort_by_key(|&index| valid_order(&events[index]).event_id());

        match self.apply_with_retry(events, &candidates, cancel).await? {
            Ok(inserted) => mark_candidates(events, &candidates, &inserted, &mut outcomes),
            Err(error) => {
                self.metrics.batches_split.inc();
                tracing::warn!(events = candidates.len(), %error, "database rejected the batch, applying its events one at a time");
                for &index in &candidates {
                    match self.apply_with_retry(events, &[index], cancel).await? {
                        Ok(inserted) => mark_candidates(events, &[index], &inserted, &mut outcomes),
                        Err(error) => {
                            let rejection = Rejection::new(RejectionReason::RejectedByDatabase, error.to_string());
                            outcomes[index] = Some(EventOutcome::Rejected(rejection));
                        }
                    }
                }
            }
        }

        // A repeat inside the batch shares the fate of its first occurrence, except that it never
        // counts as applied itself.
        for (index, first) in duplicates_in_batch {
            outcomes[index] = Some(match &outcomes[first] {
                Some(EventOutcome::Rejected(rejection)) => EventOutcome::Rejected(rejection.clone()),
                _ => EventOutcome::AlreadyProcessed,
            });
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.expect("every event has an outcome")).collect())
    }

    /// Runs the transaction for `indices` until it commits or fails permanently.
    async fn apply_with_retry(
        &self,
        events: &[ReceivedEvent],
        indices: &[usize],
        cancel: &CancellationToken,
    ) -> Result<Result<HashSet<Uuid>, ApplyError>, Cancelled> {
        if indices.is_empty() {
            return Ok(Ok(HashSet::new()));
        }
        let mut backoff = Backoff::for_database();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let error = match self.try_apply(events, indices).await {
                Ok(inserted) => {
                    self.metrics.transaction_duration.observe(started.elapsed().as_secs_f64());
                    self.metrics.stalled.set(0);
                    return Ok(Ok(inserted));
                }
                Err(error) => error,
            };
            let cause = match failure_class(&error) {
                FailureClass::Permanent => {
                    self.metrics.stalled.set(0);
                    return Ok(Err(error));
                }
                FailureClass::Transient(cause) => cause,
            };
            self.metrics.stalled.set(1);

            let delay = backoff.next_delay();
            let delay_ms = delay.as_millis();
            if attempt > RETRIES_BEFORE_ERROR {
                tracing::error!(attempt, cause = cause.as_label(), %error, delay_ms, "batch transaction keeps failing, retrying");
            } else {
                tracing::warn!(attempt, cause = cause.as_label(), %error, delay_ms, "batch transaction failed, retrying");
            }
            self.metrics.transaction_retries.with_label_values(&[cause.as_label()]).inc();

            self.waiter.wait(delay, cancel).await?;
        }
    }

    /// Records the ids, inserts the orders of the new ones with their outbox events and commits,
    /// in one attempt.
    async fn try_apply(&self, events: &[ReceivedEvent], indices: &[usize]) -> Result<HashSet<Uuid>, ApplyError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;

        let sources: Vec<processed_events::EventSource<'_>> = indices
            .iter()
            .map(|&index| processed_events::EventSource {
                event_id: valid_order(&events[index]).event_id().0,
                topic: &events[index].topic,
                partition: events[index].partition,
                offset: events[index].offset,
            })
            .collect();
        let inserted = processed_events::record_new(&transaction, &sources).await?;

        let mut new_orders: Vec<&ValidOrder> = indices
            .iter()
            .map(|&index| valid_order(&events[index]))
            .filter(|order| inserted.contains(&order.event_id().0))
            .collect();
        new_orders.sort_by_key(|order| order.order_id());
        if !new_orders.is_empty() {
            orders::insert_orders(&transaction, &new_orders).await?;
            orders::insert_order_lines(&transaction, &new_orders).await?;
            outbox::insert(&transaction, &self.events_topic, &confirmations(&new_orders)).await?;
        }

        transaction.commit().await?;
        Ok(inserted)
    }
}

/// Builds the outbox rows (event id, message key, JSON) of the orders' `OrderConfirmed` events.
fn confirmations(new_orders: &[&ValidOrder]) -> Vec<(Uuid, String, String)> {
    let confirmed_at = chrono::Utc::now();
    new_orders
        .iter()
        .map(|order| {
            let confirmation = OrderConfirmed::for_order(order.event(), confirmed_at);
            let payload = serde_json::to_string(&confirmation).expect("an OrderConfirmed event always serializes");
            (confirmation.event_id, order.order_id().to_string(), payload)
        })
        .collect()
}

fn valid_order(event: &ReceivedEvent) -> &ValidOrder {
    event.decoded.as_ref().expect("only valid events are applied")
}

fn mark_candidates(events: &[ReceivedEvent], indices: &[usize], inserted: &HashSet<Uuid>, outcomes: &mut [Option<EventOutcome>]) {
    for &index in indices {
        let applied = inserted.contains(&valid_order(&events[index]).event_id().0);
        outcomes[index] = Some(if applied { EventOutcome::Applied } else { EventOutcome::AlreadyProcessed });
    }
}

fn failure_class(error: &ApplyError) -> FailureClass {
    match error {
        ApplyError::Pool(_) => FailureClass::Transient(TransientCause::Connection),
        ApplyError::Database(error) => database::classify(error),
    }
}

/// Formats a PostgreSQL error with its SQLSTATE, message and detail; the driver's own Display
/// prints only "db error".
fn describe_database_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db_error) => {
            let mut text = format!("{} (SQLSTATE {})", db_error.message(), db_error.code().code());
            if let Some(detail) = db_error.detail() {
                text.push_str(": ");
                text.push_str(detail);
            }
            text
        }
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}
