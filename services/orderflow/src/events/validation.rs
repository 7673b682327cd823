//! The rules an `OrderPlaced` event must satisfy before it may touch the database.
//!
//! This is the only place where they are enforced; `docs/events.md` lists them for humans.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::order_placed::{Envelope, OrderPlaced, ORDER_PLACED_TYPE, ORDER_PLACED_VERSION};
use super::rejection::{Rejection, RejectionReason};

pub const MAX_CUSTOMER_ID_CHARS: usize = 64;
pub const MAX_EMAIL_CHARS: usize = 254; // RFC 5321 limit on a forward path
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DELIVERY_NOTE_CHARS: usize = 1000;
pub const MAX_SKU_CHARS: usize = 64;
pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i32 = 10_000;
/// One billion major units of a two-decimal currency; keeps every line total far from `i64::MAX`.
pub const MAX_UNIT_PRICE_MINOR: i64 = 100_000_000_000;

/// The idempotency key of an event: the processor applies each event id at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub Uuid);

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An `OrderPlaced` event that passed every rule; only [`decode_order_placed`] creates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder(OrderPlaced);

impl ValidOrder {
    pub fn event_id(&self) -> EventId {
        EventId(self.0.event_id)
    }

    pub fn order_id(&self) -> Uuid {
        self.0.order_id
    }

    pub fn event(&self) -> &OrderPlaced {
        &self.0
    }
}

/// Parses and validates the bytes of a message value as an `OrderPlaced` event.
pub fn decode_order_placed(bytes: &[u8]) -> Result<ValidOrder, Rejection> {
    check_is_object(bytes)?;
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|error| Rejection::new(RejectionReason::MalformedJson, error.to_string()))?;
    check_envelope(&envelope)?;

    let event: OrderPlaced = serde_json::from_slice(bytes)
        .map_err(|error| Rejection::invalid(format!("does not match the OrderPlaced schema: {error}")))?;
    validate_order(&event)?;

    Ok(ValidOrder(event))
}

/// Checks an already deserialized event against every rule.
pub fn validate_order(event: &OrderPlaced) -> Result<(), Rejection> {
    check_text("customer.id", &event.customer.id, 1, MAX_CUSTOMER_ID_CHARS)?;
    check_email(&event.customer.email)?;
    check_text("customer.name", &event.customer.name, 1, MAX_NAME_CHARS)?;
    if event.customer.name.trim().is_empty() {
        return Err(Rejection::invalid("customer.name is blank; send the customer's name"));
    }
    if let Some(note) = &event.delivery_note {
        check_text("delivery_note", note, 0, MAX_DELIVERY_NOTE_CHARS)?;
    }
    check_currency(&event.currency)?;
    check_placed_at(event.placed_at)?;
    let lines_total = check_lines(event)?;
    if lines_total != event.total_minor {
        return Err(Rejection::invalid(format!(
            "total_minor is {} but the lines add up to {lines_total}",
            event.total_minor
        )));
    }
    Ok(())
}

/// Rejects values that are not a JSON object before serde parses them, because serde's derived
/// structs also accept a JSON array of the fields in order.
fn check_is_object(bytes: &[u8]) -> Result<(), Rejection> {
    let first = bytes.iter().find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    match first {
        Some(b'{') => Ok(()),
        Some(_) => Err(Rejection::new(RejectionReason::MalformedJson, "the value is not a JSON object")),
        None => Err(Rejection::new(RejectionReason::MalformedJson, "the value is empty")),
    }
}

fn check_envelope(envelope: &Envelope) -> Result<(), Rejection> {
    match envelope.event_type.as_deref() {
        Some(ORDER_PLACED_TYPE) => {}
        Some(other) => {
            return Err(Rejection::new(
                RejectionReason::UnknownEventType,
                format!("type is {other:?}, expected {ORDER_PLACED_TYPE:?}"),
            ))
        }
        None => {
            return Err(Rejection::new(
                RejectionReason::UnknownEventType,
                format!("missing field `type`, expected {ORDER_PLACED_TYPE:?}"),
            ))
        }
    }
    match &envelope.version {
        Some(serde_json::Value::Number(number)) if number.as_u64() == Some(ORDER_PLACED_VERSION.into()) => Ok(()),
        Some(other) => Err(Rejection::new(
            RejectionReason::UnsupportedVersion,
            format!("version is {other}, this build understands version {ORDER_PLACED_VERSION}"),
        )),
        None => Err(Rejection::new(
            RejectionReason::UnsupportedVersion,
            format!("missing field `version`, expected {ORDER_PLACED_VERSION}"),
        )),
    }
}

/// Checks every line and returns the sum of the line totals.
fn check_lines(event: &OrderPlaced) -> Result<i64, Rejection> {
    if event.lines.is_empty() || event.lines.len() > MAX_LINES {
        return Err(Rejection::invalid(format!(
            "lines has {} entries, expected 1 to {MAX_LINES}",
            event.lines.len()
        )));
    }
    let mut total: i64 = 0;
    for (index, line) in event.lines.iter().enumerate() {
        check_text(&format!("lines[{index}].sku"), &line.sku, 1, MAX_SKU_CHARS)?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(Rejection::invalid(format!(
                "lines[{index}].quantity is {}, expected 1 to {MAX_QUANTITY}",
                line.quantity
            )));
        }
        if !(0..=MAX_UNIT_PRICE_MINOR).contains(&line.unit_price_minor) {
            return Err(Rejection::invalid(format!(
                "lines[{index}].unit_price_minor is {}, expected 0 to {MAX_UNIT_PRICE_MINOR}",
                line.unit_price_minor
            )));
        }
        // The bounds keep the sum below 100 * 10^4 * 10^11 = 10^17, far from i64::MAX.
        total += i64::from(line.quantity) * line.unit_price_minor;
    }
    Ok(total)
}

/// Rejects strings outside `min..=max` characters or with a control character (Unicode
/// category Cc, which includes NUL: PostgreSQL `text` cannot store NUL at all).
fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Rejection> {
    let length = value.chars().count();
    if length < min || length > max {
        return Err(Rejection::invalid(format!(
            "{field} has {length} characters, expected {min} to {max}"
        )));
    }
    if let Some((position, control)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(Rejection::invalid(format!(
            "{field} contains the control character U+{:04X} at character {position}; remove it",
            u32::from(control)
        )));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), Rejection> {
    check_text("customer.email", email, 3, MAX_EMAIL_CHARS)?;
    let well_formed = match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !well_formed {
        return Err(Rejection::invalid(format!(
            "customer.email {email:?} is not an address of the form local@domain"
        )));
    }
    Ok(())
}

fn check_currency(code: &str) -> Result<(), Rejection> {
    if iso_currency::Currency::from_code(code).is_none() {
        return Err(Rejection::invalid(format!(
            "currency {code:?} is not an ISO 4217 alphabetic code such as \"EUR\""
        )));
    }
    Ok(())
}

/// Fixed bounds rather than "not in the future", so that a replay judges an event the same way
/// as its first delivery.
fn check_placed_at(placed_at: DateTime<Utc>) -> Result<(), Rejection> {
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    let latest = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    if placed_at < earliest || placed_at >= latest {
        return Err(Rejection::invalid(format!(
            "placed_at is {}, expected a time in the years 2000 to 2099",
            placed_at.to_rfc3339()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::order_placed::{Customer, OrderLine};

    fn sample() -> OrderPlaced {
        OrderPlaced {
            event_type: ORDER_PLACED_TYPE.to_owned(),
            version: ORDER_PLACED_VERSION,
            event_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(2),
            customer: Customer {
                id: "cus_1".to_owned(),
                email: "ann@example.com".to_owned(),
                name: "Ann Lee".to_owned(),
            },
            lines: vec![
                OrderLine { sku: "SKU-1".to_owned(), quantity: 2, unit_price_minor: 250 },
                OrderLine { sku: "SKU-2".to_owned(), quantity: 1, unit_price_minor: 1000 },
            ],
            currency: "EUR".to_owned(),
            total_minor: 1500,
            placed_at: Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap(),
            delivery_note: None,
        }
    }

    fn decode(event: &OrderPlaced) -> Result<ValidOrder, Rejection> {
        decode_order_placed(&serde_json::to_vec(event).unwrap())
    }

    #[test]
    fn valid_order_decodes() {
        let event = sample();
        let decoded = decode(&event).unwrap();
        assert_eq!(decoded.event(), &event);
    }

    #[test]
    fn wrong_total_is_invalid() {
        let mut event = sample();
        event.total_minor = 1499;
        let rejection = decode(&event).unwrap_err();
        assert_eq!(rejection.reason, RejectionReason::InvalidOrder);
        assert!(rejection.detail.contains("1499"), "{}", rejection.detail);
    }

    #[test]
    fn nul_in_name_is_invalid() {
        let bytes = serde_json::to_string(&sample())
            .unwrap()
            .replace("Ann Lee", "Ann\\u0000Lee");
        let rejection = decode_order_placed(bytes.as_bytes()).unwrap_err();
        assert_eq!(rejection.reason, RejectionReason::InvalidOrder);
        assert!(rejection.detail.contains("U+0000"), "{}", rejection.detail);
    }

    #[test]
    fn zero_quantity_is_invalid() {
        let mut event = sample();
        event.lines[0].quantity = 0;
        event.total_minor = 1000;
        assert_eq!(decode(&event).unwrap_err().reason, RejectionReason::InvalidOrder);
    }

    #[test]
    fn unknown_currency_is_invalid() {
        let mut event = sample();
        event.currency = "XYZ".to_owned();
        assert!(decode(&event).unwrap_err().detail.contains("XYZ"));
    }

    #[test]
    fn other_version_is_unsupported() {
        let mut event = sample();
        event.version = 2;
        assert_eq!(decode(&event).unwrap_err().reason, RejectionReason::UnsupportedVersion);
    }

    #[test]
    fn other_type_is_unknown() {
        let mut event = sample();
        event.event_type = "OrderCancelled".to_owned();
        assert_eq!(decode(&event).unwrap_err().reason, RejectionReason::UnknownEventType);
    }

    #[test]
    fn garbage_is_malformed() {
        let array_of_fields = br#"["OrderPlaced", 1]"#;
        for bytes in [&b"{"[..], b"[]", b"\xff\xfe", b"", b"null", b"  \n", array_of_fields] {
            let rejection = decode_order_placed(bytes).unwrap_err();
            assert_eq!(rejection.reason, RejectionReason::MalformedJson, "{bytes:?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let depth = 100_000;
        let value = format!("{{\"type\":\"OrderPlaced\",\"version\":1,\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let rejection = decode_order_placed(value.as_bytes()).unwrap_err();
        assert_eq!(rejection.reason, RejectionReason::InvalidOrder, "{}", rejection.detail);

        let top_level = "[".repeat(depth);
        let rejection = decode_order_placed(top_level.as_bytes()).unwrap_err();
        assert_eq!(rejection.reason, RejectionReason::MalformedJson, "{}", rejection.detail);
    }

    #[test]
    fn unknown_field_is_invalid() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["coupon"] = serde_json::json!("FREE");
        let rejection = decode_order_placed(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert_eq!(rejection.reason, RejectionReason::InvalidOrder);
        assert!(rejection.detail.contains("coupon"), "{}", rejection.detail);
    }

    #[test]
    fn price_above_bound_is_invalid() {
        let mut event = sample();
        event.lines[1].unit_price_minor = MAX_UNIT_PRICE_MINOR + 1;
        event.total_minor = 500 + MAX_UNIT_PRICE_MINOR + 1;
        assert!(decode(&event).unwrap_err().detail.contains("unit_price_minor"));
    }
}
