//! The idempotent consumer: batches from Kafka applied to PostgreSQL exactly once per event id.

mod apply;
mod backoff;
mod batch;
mod offsets;
mod outcome;
mod processor;

pub use apply::{BatchApplier, Cancelled};
pub use backoff::Backoff;
pub use batch::{collect_batch, BatchLimits, ReceivedEvent};
pub use offsets::OffsetLedger;
pub use outcome::{BatchSummary, EventOutcome};
pub use processor::run;
