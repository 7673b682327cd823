//! Outcomes of the messages of a batch.

use crate::events::Rejection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// The event's order was stored in this batch's transaction.
    Applied,
    /// The event id was already recorded, by an earlier batch, another processor or an earlier
    /// message of the same batch; nothing was written.
    AlreadyProcessed,
    /// The event can never be applied; its offset is committed past it.
    Rejected(Rejection),
}

/// Counts of one batch's outcomes, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchSummary {
    pub applied: usize,
    pub already_processed: usize,
    pub rejected: usize,
}

impl BatchSummary {
    pub fn of(outcomes: &[EventOutcome]) -> Self {
        let mut summary = Self::default();
        for outcome in outcomes {
            match outcome {
                EventOutcome::Applied => summary.applied += 1,
                EventOutcome::AlreadyProcessed => summary.already_processed += 1,
                EventOutcome::Rejected(_) => summary.rejected += 1,
            }
        }
        summary
    }
}
