//! The `OrderConfirmed` event, version 1, that the outbox publishes to `order-events` once an
//! order is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::order_placed::{Customer, OrderPlaced};

pub const ORDER_CONFIRMED_TYPE: &str = "OrderConfirmed";
pub const ORDER_CONFIRMED_VERSION: u32 = 1;

/// Namespace of the name-based (version 5) UUIDs that derive an `OrderConfirmed` event id from
/// its `OrderPlaced` event id. Any fixed UUID works as long as it never changes; this one spells
/// "orderflow-conf" in ASCII.
const CONFIRMATION_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_772d_636f_6e66_0001);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderConfirmed {
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    /// Derived from `placed_event_id`, so a re-published confirmation has the same id.
    pub event_id: Uuid,
    pub placed_event_id: Uuid,
    pub order_id: Uuid,
    pub customer: Customer,
    pub currency: String,
    pub total_minor: i64,
    pub confirmed_at: DateTime<Utc>,
}

impl OrderConfirmed {
    /// Builds the confirmation of a placed order. Its event id depends only on the placed event's id.
    pub fn for_order(placed: &OrderPlaced, confirmed_at: DateTime<Utc>) -> Self {
        Self {
            event_type: ORDER_CONFIRMED_TYPE.to_owned(),
            version: ORDER_CONFIRMED_VERSION,
            event_id: confirmation_event_id(placed.event_id),
            placed_event_id: placed.event_id,
            order_id: placed.order_id,
            customer: placed.customer.clone(),
            currency: placed.currency.clone(),
            total_minor: placed.total_minor,
            confirmed_at,
        }
    }
}

/// Derives the confirmation's event id from the placed event's id.
pub fn confirmation_event_id(placed_event_id: Uuid) -> Uuid {
    Uuid::new_v5(&CONFIRMATION_NAMESPACE, placed_event_id.as_bytes())
}
