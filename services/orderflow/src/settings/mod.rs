//! Typed settings shared by the binaries, read from flags and `ORDERFLOW_*` environment variables.

mod database;
mod kafka;
mod processor;
mod telemetry;

pub use database::{DatabaseSettings, DatabaseUrl, DEFAULT_DATABASE_URL};
pub use kafka::{Brokers, KafkaSettings, DEFAULT_BROKERS};
pub use processor::ProcessorSettings;
pub use telemetry::{LogFormat, TelemetrySettings};

/// Checks a topic name against Kafka's rules: 1 to 249 characters of `[a-zA-Z0-9._-]`.
pub fn validate_topic_name(flag: &str, name: &str) -> Result<(), String> {
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 249 || !valid_chars || name == "." || name == ".." {
        return Err(format!(
            "{flag} {name:?} is not a valid Kafka topic name; use 1 to 249 characters of a-z, A-Z, 0-9, '.', '_' and '-'"
        ));
    }
    Ok(())
}
