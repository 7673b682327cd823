//! Turning consumed records into notifications, each with a stable key.
//!
//! The key is the event id for an `OrderConfirmed` event. A dead letter has no event id of its
//! own, so its key is a name-based UUID of its source position (topic, partition, offset). A
//! dead letter written twice for the same source record therefore has one key.

use orderflow::consumer::dead_letter::{
    HEADER_EXCEPTION_MESSAGE, HEADER_ORIGINAL_OFFSET, HEADER_ORIGINAL_PARTITION, HEADER_ORIGINAL_TOPIC, HEADER_REASON,
};
use orderflow::events::{OrderConfirmed, ORDER_CONFIRMED_TYPE};
use rdkafka::message::{Headers, Message};
use serde::Serialize;
use uuid::Uuid;

/// Namespace of the keys of failure notices; it spells "orderflow-dead" in ASCII.
const DEAD_LETTER_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_772d_6465_6164_0001);

/// Maximum length of a customer email that a failure notice is sent to, as in the order schema.
const MAX_EMAIL_CHARS: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Customer,
    Operator,
}

impl Channel {
    pub fn as_label(self) -> &'static str {
        match self {
            Channel::Customer => "customer",
            Channel::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OrderConfirmed,
    OrderFailed,
}

impl Kind {
    pub fn as_label(self) -> &'static str {
        match self {
            Kind::OrderConfirmed => "order_confirmed",
            Kind::OrderFailed => "order_failed",
        }
    }
}

/// One notification to send once per (key, channel).
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// Sent as the `Idempotency-Key` of the webhook.
    pub key: Uuid,
    pub channel: Channel,
    pub kind: Kind,
    pub recipient: String,
    pub details: serde_json::Value,
}

/// The reason a record yields no notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("not an OrderConfirmed event: {0}")]
    MalformedEvent(String),
}

impl Unusable {
    pub fn as_label(&self) -> &'static str {
        match self {
            Unusable::MalformedEvent(_) => "malformed_event",
        }
    }
}

/// Builds the confirmation for a record of the events topic.
pub fn from_order_event(message: &impl Message) -> Result<Notification, Unusable> {
    let bytes = message.payload().ok_or_else(|| Unusable::MalformedEvent("message has no value".to_owned()))?;
    let event: OrderConfirmed = serde_json::from_slice(bytes).map_err(|error| Unusable::MalformedEvent(error.to_string()))?;
    if event.event_type != ORDER_CONFIRMED_TYPE {
        return Err(Unusable::MalformedEvent(format!("type is {:?}", event.event_type)));
    }
    Ok(Notification {
        key: event.event_id,
        channel: Channel::Customer,
        kind: Kind::OrderConfirmed,
        recipient: event.customer.email.clone(),
        details: serde_json::json!({
            "order_id": event.order_id,
            "customer_name": event.customer.name,
            "currency": event.currency,
            "total_minor": event.total_minor,
        }),
    })
}

/// Builds the failure notice for any record of the dead-letter topic, whatever its bytes: to the
/// customer when the original value names a usable email, else to the operator.
pub fn from_dead_letter(message: &impl Message, operator_recipient: &str) -> Notification {
    let header = |name: &str| -> Option<Vec<u8>> {
        let headers = message.headers()?;
        headers.iter().filter(|h| h.key == name).last().and_then(|h| h.value.map(<[u8]>::to_vec))
    };
    let text = |name: &str| header(name).and_then(|bytes| String::from_utf8(bytes).ok());
    let original_topic = text(HEADER_ORIGINAL_TOPIC);
    let original_partition = header(HEADER_ORIGINAL_PARTITION).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(i32::from_be_bytes);
    let original_offset = header(HEADER_ORIGINAL_OFFSET).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(i64::from_be_bytes);

    // Without its origin headers the record is identified by its own position instead.
    let position = match (&original_topic, original_partition, original_offset) {
        (Some(topic), Some(partition), Some(offset)) => format!("{topic}/{partition}/{offset}"),
        _ => format!("dead-letter:{}/{}/{}", message.topic(), message.partition(), message.offset()),
    };
    let key = Uuid::new_v5(&DEAD_LETTER_NAMESPACE, position.as_bytes());

    let (channel, recipient) = match message.payload().and_then(customer_email) {
        Some(email) => (Channel::Customer, email),
        None => (Channel::Operator, operator_recipient.to_owned()),
    };
    Notification {
        key,
        channel,
        kind: Kind::OrderFailed,
        recipient,
        details: serde_json::json!({
            "origin": position,
            "reason": text(HEADER_REASON),
            "message": text(HEADER_EXCEPTION_MESSAGE),
        }),
    }
}

/// Finds `customer.email` in a JSON value when it looks like a deliverable address.
fn customer_email(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let email = value.get("customer")?.get("email")?.as_str()?;
    let usable = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && email.rsplit_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    usable.then(|| email.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_found_in_valid_json() {
        let value = br#"{"customer":{"email":"ann@example.com"},"total_minor":"x"}"#;
        assert_eq!(customer_email(value).as_deref(), Some("ann@example.com"));
    }

    #[test]
    fn email_rejected_when_unusable() {
        for value in [&br#"{"customer":{"email":"no-at-sign"}}"#[..], br#"{"customer":{"email":"a b@c"}}"#, b"\xff{", b"[]", b""] {
            assert_eq!(customer_email(value), None, "{value:?}");
        }
    }
}
