//! The `OrderPlaced` event, version 1, as it travels on the `orders` topic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The value of the `type` field of every `OrderPlaced` event.
pub const ORDER_PLACED_TYPE: &str = "OrderPlaced";

/// The only event version this build understands.
pub const ORDER_PLACED_VERSION: u32 = 1;

/// An `OrderPlaced` event exactly as serialized on the wire.
///
/// Deserializing only checks the shape; [`super::decode_order_placed`] applies the business rules.
/// Unknown fields are rejected so that a misspelt field cannot silently drop data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub customer: Customer,
    pub lines: Vec<OrderLine>,
    /// ISO 4217 alphabetic code, such as `EUR`.
    pub currency: String,
    /// Sum of `quantity * unit_price_minor` over all lines, in minor units of `currency`.
    pub total_minor: i64,
    pub placed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: i32,
    /// Price of one unit in minor units of the order's currency (cents for EUR).
    pub unit_price_minor: i64,
}

/// The envelope fields read before the body, so that an event of another type or version is
/// reported as such instead of as a shape error.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub version: Option<serde_json::Value>,
}
