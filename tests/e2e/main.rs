//! End-to-end tests of the order pipeline against a real Kafka broker and PostgreSQL.
//!
//! Each test owns its topic, consumer group and database, and asserts both the rows stored and
//! the offsets committed.

mod api;
mod concurrency;
mod crash;
mod dead_letter;
mod dedup;
mod json_test_suite;
mod metrics;
mod monitoring;
mod naughty_strings;
mod notifications;
mod outage;
mod redrive;
mod replay;
mod settings;
