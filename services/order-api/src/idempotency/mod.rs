//! Idempotency-Key handling as the IETF httpapi draft "The Idempotency-Key HTTP Header Field"
//! describes: keys scoped per client, payloads compared by fingerprint, responses replayed.

mod fingerprint;
mod key;
pub mod persistence;

pub use fingerprint::fingerprint;
pub use key::{IdempotencyKey, HEADER};
