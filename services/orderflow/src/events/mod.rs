//! Events carried on the Kafka topics, and the one place where they are validated.

mod order_confirmed;
mod order_placed;
mod rejection;
mod validation;

pub use order_confirmed::{confirmation_event_id, OrderConfirmed, ORDER_CONFIRMED_TYPE, ORDER_CONFIRMED_VERSION};
pub use order_placed::{Customer, OrderLine, OrderPlaced, ORDER_PLACED_TYPE, ORDER_PLACED_VERSION};
pub use rejection::{Rejection, RejectionReason};
pub use validation::{decode_order_placed, validate_order, EventId, ValidOrder};
