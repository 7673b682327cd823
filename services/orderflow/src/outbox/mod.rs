//! The transactional outbox: `OrderConfirmed` events leave PostgreSQL for Kafka.

mod relay;

pub use relay::{OutboxRelay, RelaySettings, EVENT_ID_HEADER};
