//! The idempotent consumer: batches from Kafka applied to PostgreSQL once per event id.

mod apply;
mod backoff;
mod batch;
pub mod dead_letter;
mod offsets;
mod outcome;
mod partition_pauses;
mod processor;
mod waiter;

pub use apply::{BatchApplier, Cancelled};
pub use backoff::{retry_until_ok, Backoff};
pub use batch::{collect_batch, BatchLimits, OriginalRecord, ReceivedEvent};
pub use offsets::OffsetLedger;
pub use outcome::{BatchSummary, EventOutcome};
pub use partition_pauses::PartitionPauses;
pub use processor::run;
pub use waiter::{PausingPoller, Waiter};
