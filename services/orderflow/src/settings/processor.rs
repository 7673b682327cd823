//! Settings of the order processor, validated by clap before anything starts.

use std::net::SocketAddr;
use std::time::Duration;

use super::{DatabaseSettings, KafkaSettings, TelemetrySettings};

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "order-processor", version, about = "Applies OrderPlaced events from Kafka to PostgreSQL exactly once.")]
pub struct ProcessorSettings {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    /// Topic of OrderPlaced events.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Partitions to create the topic with when it does not exist yet.
    #[arg(long, env = "ORDERFLOW_TOPIC_PARTITIONS", default_value_t = 6, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub topic_partitions: i32,

    /// Topic that receives events that can never be applied; default: the topic name plus `.dlt`.
    #[arg(long, env = "ORDERFLOW_DEAD_LETTER_TOPIC")]
    pub dead_letter_topic: Option<String>,

    /// Topic that the outbox relay publishes OrderConfirmed events to.
    #[arg(long, env = "ORDERFLOW_EVENTS_TOPIC", default_value = "order-events")]
    pub events_topic: String,

    /// Outbox rows the relay publishes per transaction.
    #[arg(long, env = "ORDERFLOW_OUTBOX_BATCH_SIZE", default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub outbox_batch_size: i64,

    /// Pause of the relay after a round that found fewer rows than a batch, in milliseconds.
    #[arg(long, env = "ORDERFLOW_OUTBOX_POLL_INTERVAL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub outbox_poll_interval_ms: u64,

    /// How long published outbox rows are kept before they are deleted, in seconds (7 days).
    #[arg(long, env = "ORDERFLOW_OUTBOX_RETENTION_SECS", default_value_t = 604_800)]
    pub outbox_retention_secs: u64,

    /// Wait between the broker's acknowledgement of outbox rows and marking them, in
    /// milliseconds. Only crash tests set it.
    #[arg(long, env = "ORDERFLOW_OUTBOX_MARK_DELAY_MS", default_value_t = 0, hide = true)]
    pub outbox_mark_delay_ms: u64,

    /// Consumer group; every processor of one deployment uses the same group.
    #[arg(long, env = "ORDERFLOW_GROUP", default_value = "order-processor")]
    pub group: String,

    /// Maximum number of messages applied in one database transaction; 1 applies each alone.
    #[arg(long, env = "ORDERFLOW_BATCH_MAX_SIZE", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_max_size: u32,

    /// How long a batch waits for more messages after its first one, in milliseconds.
    #[arg(long, env = "ORDERFLOW_BATCH_LINGER_MS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub batch_linger_ms: u64,

    /// Kafka consumer session timeout in milliseconds: how soon a crashed processor's partitions
    /// move to the others. Kafka's default of 45 s is long for a pipeline that should recover fast.
    #[arg(long, env = "ORDERFLOW_SESSION_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(6_000..=300_000))]
    pub session_timeout_ms: u32,

    /// Interval of librdkafka's statistics, which feed the consumer lag gauges, in milliseconds;
    /// 0 turns them off.
    #[arg(long, env = "ORDERFLOW_STATISTICS_INTERVAL_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(0..=3_600_000))]
    pub statistics_interval_ms: u32,

    /// Address of the HTTP server for `/metrics`, `/healthz` and `/readyz`; port 0 picks a free port.
    #[arg(long, env = "ORDERFLOW_METRICS_ADDRESS", default_value = "127.0.0.1:9464")]
    pub metrics_address: SocketAddr,
}

impl ProcessorSettings {
    pub fn batch_linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }

    pub fn relay_settings(&self) -> crate::outbox::RelaySettings {
        crate::outbox::RelaySettings {
            batch_size: self.outbox_batch_size,
            poll_interval: Duration::from_millis(self.outbox_poll_interval_ms),
            retention: Duration::from_secs(self.outbox_retention_secs),
            mark_delay: Duration::from_millis(self.outbox_mark_delay_ms),
        }
    }

    pub fn dead_letter_topic(&self) -> String {
        self.dead_letter_topic.clone().unwrap_or_else(|| format!("{}.dlt", self.topic))
    }

    /// Cross-field rules that clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        super::validate_topic_name("--topic", &self.topic)?;
        super::validate_topic_name("--dead-letter-topic", &self.dead_letter_topic())?;
        super::validate_topic_name("--events-topic", &self.events_topic)?;
        if self.events_topic == self.topic || self.events_topic == self.dead_letter_topic() {
            return Err(format!(
                "--events-topic {:?} must differ from --topic {:?} and --dead-letter-topic {:?}",
                self.events_topic,
                self.topic,
                self.dead_letter_topic()
            ));
        }
        if self.dead_letter_topic() == self.topic {
            return Err(format!(
                "--dead-letter-topic {:?} is the same as --topic; dead letters would be consumed again, so pick another name",
                self.topic
            ));
        }
        if self.group.trim().is_empty() {
            return Err("--group is empty; name the consumer group, e.g. order-processor".to_owned());
        }
        Ok(())
    }
}
