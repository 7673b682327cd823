//! Settings of the notifier, from flags and `ORDERFLOW_*` environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use orderflow::settings::{validate_topic_name, DatabaseSettings, KafkaSettings, TelemetrySettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SinkKind {
    /// One structured log line per notification.
    Log,
    /// An HTTP POST per notification, with an `Idempotency-Key` header.
    Webhook,
}

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "notifier", version, about = "Sends one notification per order event and per dead letter.")]
pub struct NotifierSettings {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    /// Topic of OrderConfirmed events, filled by the processor's outbox relay.
    #[arg(long, env = "ORDERFLOW_EVENTS_TOPIC", default_value = "order-events")]
    pub events_topic: String,

    /// Dead-letter topic of the order processor.
    #[arg(long, env = "ORDERFLOW_DEAD_LETTER_TOPIC", default_value = "orders.dlt")]
    pub dead_letter_topic: String,

    /// Consumer group of the notifiers.
    #[arg(long, env = "ORDERFLOW_NOTIFIER_GROUP", default_value = "notifier")]
    pub group: String,

    /// Destination of the notifications.
    #[arg(long, env = "ORDERFLOW_NOTIFIER_SINK", value_enum, default_value_t = SinkKind::Log)]
    pub sink: SinkKind,

    /// URL that the webhook sink posts to (http only).
    #[arg(long, env = "ORDERFLOW_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Time one webhook request may take, in milliseconds; a timeout is retried.
    #[arg(long, env = "ORDERFLOW_WEBHOOK_TIMEOUT_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub webhook_timeout_ms: u64,

    /// Recipient of failure notices that name no valid customer email.
    #[arg(long, env = "ORDERFLOW_OPERATOR_RECIPIENT", default_value = "operations@localhost")]
    pub operator_recipient: String,

    /// Kafka consumer session timeout in milliseconds.
    #[arg(long, env = "ORDERFLOW_SESSION_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(6_000..=300_000))]
    pub session_timeout_ms: u32,

    /// Interval of librdkafka's statistics, which feed the lag gauges, in milliseconds; 0 turns them off.
    #[arg(long, env = "ORDERFLOW_STATISTICS_INTERVAL_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(0..=3_600_000))]
    pub statistics_interval_ms: u32,

    /// Address of the HTTP server for `/metrics`, `/healthz` and `/readyz`; port 0 picks a free port.
    #[arg(long, env = "ORDERFLOW_NOTIFIER_METRICS_ADDRESS", default_value = "127.0.0.1:9465")]
    pub metrics_address: SocketAddr,

    /// Wait between a successful send and recording it, in milliseconds. Only crash tests set it.
    #[arg(long, env = "ORDERFLOW_NOTIFIER_RECORD_DELAY_MS", default_value_t = 0, hide = true)]
    pub record_delay_ms: u64,
}

impl NotifierSettings {
    pub fn webhook_timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }

    /// Cross-field rules that clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        validate_topic_name("--events-topic", &self.events_topic)?;
        validate_topic_name("--dead-letter-topic", &self.dead_letter_topic)?;
        match (self.sink, &self.webhook_url) {
            (SinkKind::Webhook, None) => {
                Err("--sink webhook needs --webhook-url (ORDERFLOW_WEBHOOK_URL), e.g. http://127.0.0.1:8080/notifications".to_owned())
            }
            (SinkKind::Webhook, Some(url)) if !url.starts_with("http://") => Err(format!(
                "--webhook-url {url:?} is not an http:// URL; this build has no TLS client, so put an https endpoint behind a local TLS proxy"
            )),
            (SinkKind::Log, Some(url)) => Err(format!("--webhook-url {url:?} is set but --sink is log; add --sink webhook or drop the URL")),
            _ => Ok(()),
        }
    }
}
