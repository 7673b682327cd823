//! librdkafka settings shared by every orderflow client.

use rdkafka::ClientConfig;

use crate::settings::Brokers;

/// Settings every client needs: where the brokers are, and a bounded wait for metadata.
pub fn base_config(brokers: &Brokers) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers.as_str())
        // Fail a request to an unreachable broker within a minute instead of librdkafka's default of 5 minutes.
        .set("socket.timeout.ms", "30000");
    config
}

/// Returns settings for a consumer that never commits or stores offsets by itself, so that the
/// caller commits only what the database already contains.
pub fn manual_commit_consumer_config(brokers: &Brokers, group: &str, session_timeout_ms: u32) -> ClientConfig {
    let mut config = base_config(brokers);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // A new group starts at the beginning of the topic, so no event published before the
        // first processor started is skipped.
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", session_timeout_ms.to_string())
        // Moves only the partitions that change owner, so a rebalance does not stop the others.
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Poison is handled by the application; an EOF marker is not a message.
        .set("enable.partition.eof", "false");
    config
}

/// Returns settings for an idempotent producer that waits for all in-sync replicas. A retried
/// send is then never written twice, and an acknowledged one survives a broker failure.
pub fn idempotent_producer_config(brokers: &Brokers) -> ClientConfig {
    let mut config = base_config(brokers);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "lz4");
    config
}
