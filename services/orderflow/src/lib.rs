//! orderflow: orders from Kafka into PostgreSQL, effectively once.
//!
//! Every hop may deliver a message twice. The processor still applies each `OrderPlaced` event
//! at most once, because the transaction that stores an order also inserts the event's id into
//! `processed_events`, and an id that is already there makes the event a no-op. Kafka offsets
//! are committed only after that transaction, so no event is lost: a crash re-delivers events
//! whose ids are either fully recorded or not at all.
//!
//! Layout:
//! - [`events`]: the `OrderPlaced` schema and the one function that validates it.
//! - [`settings`]: typed, validated flags and `ORDERFLOW_*` environment variables.
//! - [`database`]: the pool, migrations under an advisory lock, error classes, SQL statements.
//! - [`kafka`]: librdkafka settings, topic creation, the rebalance-logging context.
//! - [`consumer`]: the idempotent consumer (batching, the apply transaction, offset ledger) and
//!   the processor loop built on it.
//! - [`metrics`]: Prometheus metrics and their HTTP endpoint.
//! - [`telemetry`] and [`shutdown`]: logging set-up and signal handling.

pub mod consumer;
pub mod database;
pub mod events;
pub mod kafka;
pub mod metrics;
pub mod outbox;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
