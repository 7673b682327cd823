//! Deterministic test orders: the same seed always gives the same events, duplicates and
//! malformed messages in the same order.

use std::collections::VecDeque;

use chrono::{Duration, TimeZone, Utc};
use orderflow::events::{Customer, OrderLine, OrderPlaced, ORDER_PLACED_TYPE, ORDER_PLACED_VERSION};
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

const FIRST_NAMES: [&str; 8] = ["Ann", "Björn", "Chidi", "Dana", "Émile", "Fatima", "Gao", "Hiroshi"];
const LAST_NAMES: [&str; 8] = ["Lee", "Ødegaard", "Okafor", "Levi", "Durand", "Haddad", "Wei", "Tanaka"];
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "JPY"];

/// A duplicate repeats one of the last this many events, so some repeats fall into the same
/// batch as their original and others into a later one.
const DUPLICATE_WINDOW: usize = 500;

/// The kinds of malformed message, sent in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    TruncatedJson,
    InvalidUtf8,
    NotAnObject,
    WrongTotal,
    NulInName,
    UnknownVersion,
}

impl MalformedKind {
    const ALL: [MalformedKind; 6] = [
        MalformedKind::TruncatedJson,
        MalformedKind::InvalidUtf8,
        MalformedKind::NotAnObject,
        MalformedKind::WrongTotal,
        MalformedKind::NulInName,
        MalformedKind::UnknownVersion,
    ];
}

/// One message to send: key and value bytes, and what it is.
#[derive(Debug, Clone)]
pub struct PlannedMessage {
    pub key: String,
    pub value: Vec<u8>,
    pub kind: MessageKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Order,
    Duplicate,
    Malformed(MalformedKind),
    /// A file of JSONTestSuite's parsing corpus, sent as it is.
    JsonTestSuiteFile,
    /// A valid order whose customer name is a string of the Big List of Naughty Strings.
    NaughtyName,
}

/// Produces `orders` distinct valid orders, plus exactly `duplicates` repeats and `malformed`
/// poison messages spread among them at seeded random positions.
pub struct OrderGenerator {
    rng: ChaCha8Rng,
    orders: usize,
    duplicates_after: Vec<u32>,
    malformed_after: Vec<u32>,
}

impl OrderGenerator {
    pub fn new(seed: u64, orders: usize, duplicates: usize, malformed: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut duplicates_after = vec![0u32; orders];
        let mut malformed_after = vec![0u32; orders];
        if orders > 0 {
            for _ in 0..duplicates {
                duplicates_after[rng.random_range(0..orders)] += 1;
            }
            for _ in 0..malformed {
                malformed_after[rng.random_range(0..orders)] += 1;
            }
        }
        Self { rng, orders, duplicates_after, malformed_after }
    }

    /// Returns every message in sending order.
    pub fn plan(mut self) -> Vec<PlannedMessage> {
        let mut messages = Vec::new();
        let mut recent_orders: VecDeque<PlannedMessage> = VecDeque::with_capacity(DUPLICATE_WINDOW);
        let mut malformed_sent = 0usize;
        for index in 0..self.orders {
            let order = self.order(index);
            let message = PlannedMessage {
                key: order.order_id.to_string(),
                value: serde_json::to_vec(&order).expect("an order always serializes"),
                kind: MessageKind::Order,
            };
            messages.push(message.clone());
            if recent_orders.len() == DUPLICATE_WINDOW {
                recent_orders.pop_front();
            }
            recent_orders.push_back(message);

            for _ in 0..self.duplicates_after[index] {
                let original = &recent_orders[self.rng.random_range(0..recent_orders.len())];
                messages.push(PlannedMessage { kind: MessageKind::Duplicate, ..original.clone() });
            }
            for _ in 0..self.malformed_after[index] {
                let kind = MalformedKind::ALL[malformed_sent % MalformedKind::ALL.len()];
                malformed_sent += 1;
                messages.push(self.malformed(kind, index));
            }
        }
        messages
    }

    /// Returns a valid order for the edge cases of `cases`, whose customer name the caller replaces.
    pub fn order_for_case(&mut self, index: usize) -> OrderPlaced {
        self.order(index)
    }

    /// A valid order whose ids come from the seeded generator.
    fn order(&mut self, index: usize) -> OrderPlaced {
        let event_id = self.uuid();
        let order_id = self.uuid();
        let first = FIRST_NAMES.choose(&mut self.rng).expect("non-empty");
        let last = LAST_NAMES.choose(&mut self.rng).expect("non-empty");
        let line_count = self.rng.random_range(1..=4);
        let lines: Vec<OrderLine> = (0..line_count)
            .map(|_| OrderLine {
                sku: format!("SKU-{:05}", self.rng.random_range(0..20_000)),
                quantity: self.rng.random_range(1..=5),
                unit_price_minor: self.rng.random_range(99..=99_999),
            })
            .collect();
        let total_minor = lines.iter().map(|line| i64::from(line.quantity) * line.unit_price_minor).sum();
        let customer_number = self.rng.random_range(0..100_000);
        let placed_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(index as i64);
        OrderPlaced {
            event_type: ORDER_PLACED_TYPE.to_owned(),
            version: ORDER_PLACED_VERSION,
            event_id,
            order_id,
            customer: Customer {
                id: format!("cus_{customer_number}"),
                email: format!("customer{customer_number}@example.com"),
                name: format!("{first} {last}"),
            },
            lines,
            currency: CURRENCIES.choose(&mut self.rng).expect("non-empty").to_string(),
            total_minor,
            placed_at,
            delivery_note: None,
        }
    }

    fn malformed(&mut self, kind: MalformedKind, index: usize) -> PlannedMessage {
        let mut order = self.order(index);
        let key = order.order_id.to_string();
        let value = match kind {
            MalformedKind::TruncatedJson => {
                let mut bytes = serde_json::to_vec(&order).expect("serializes");
                bytes.truncate(bytes.len() / 2);
                bytes
            }
            MalformedKind::InvalidUtf8 => {
                let mut bytes = serde_json::to_vec(&order).expect("serializes");
                bytes[10] = 0xff;
                bytes
            }
            MalformedKind::NotAnObject => b"[\"OrderPlaced\", 1]".to_vec(),
            MalformedKind::WrongTotal => {
                order.total_minor += 1;
                serde_json::to_vec(&order).expect("serializes")
            }
            MalformedKind::NulInName => {
                order.customer.name = "Ann\u{0}Lee".to_owned();
                serde_json::to_vec(&order).expect("serializes")
            }
            MalformedKind::UnknownVersion => {
                order.version = 99;
                serde_json::to_vec(&order).expect("serializes")
            }
        };
        PlannedMessage { key, value, kind: MessageKind::Malformed(kind) }
    }

    fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderflow::events::decode_order_placed;

    #[test]
    fn plan_has_exact_counts() {
        let messages = OrderGenerator::new(7, 1000, 100, 12).plan();
        let count = |kind: fn(&MessageKind) -> bool| messages.iter().filter(|m| kind(&m.kind)).count();
        assert_eq!(count(|k| *k == MessageKind::Order), 1000);
        assert_eq!(count(|k| *k == MessageKind::Duplicate), 100);
        assert_eq!(count(|k| matches!(k, MessageKind::Malformed(_))), 12);
    }

    #[test]
    fn same_seed_same_plan() {
        let first = OrderGenerator::new(42, 50, 5, 5).plan();
        let second = OrderGenerator::new(42, 50, 5, 5).plan();
        let values = |plan: &[PlannedMessage]| plan.iter().map(|m| m.value.clone()).collect::<Vec<_>>();
        assert_eq!(values(&first), values(&second));
    }

    #[test]
    fn orders_are_valid_and_malformed_are_not() {
        for message in OrderGenerator::new(3, 200, 20, 30).plan() {
            let decoded = decode_order_placed(&message.value);
            match message.kind {
                MessageKind::Malformed(kind) => assert!(decoded.is_err(), "{kind:?} decoded"),
                _ => assert!(decoded.is_ok(), "{:?}", decoded.unwrap_err()),
            }
        }
    }
}
