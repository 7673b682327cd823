//! PostgreSQL access: the pool, migrations, error classes and one function per SQL statement.

pub mod api_clients;
pub mod dead_letters;
mod errors;
mod migrations;
pub mod outbox;
pub mod orders;
mod pool;
pub mod processed_events;

pub use errors::{classify, FailureClass, TransientCause};
pub use migrations::migrate;
pub use pool::connect;
