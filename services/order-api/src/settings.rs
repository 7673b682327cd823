//! Settings of the order API, from flags and `ORDERFLOW_*` environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use orderflow::settings::{validate_topic_name, DatabaseSettings, KafkaSettings, TelemetrySettings};

/// A point in `POST /orders` where a crash test makes the process abort. The names read as the
/// flag values `after-claim`, `after-publish` and `after-store`.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrashPoint {
    /// After the idempotency key is claimed, before anything is published.
    AfterClaim,
    /// After the broker acknowledged the event, before the response is stored.
    AfterPublish,
    /// After the response is stored, before it is sent.
    AfterStore,
}

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "order-api", version, about = "Accepts orders over HTTP with an Idempotency-Key and publishes them to Kafka.")]
pub struct ApiSettings {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    /// Address the HTTP server listens on; port 0 picks a free port.
    #[arg(long, env = "ORDERFLOW_API_LISTEN_ADDRESS", default_value = "127.0.0.1:8080")]
    pub listen_address: SocketAddr,

    /// Topic that accepted orders are published to.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Partitions to create the topic with when it does not exist yet.
    #[arg(long, env = "ORDERFLOW_TOPIC_PARTITIONS", default_value_t = 6, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub topic_partitions: i32,

    /// How long an idempotency key and its stored response are kept, in seconds (24 hours).
    #[arg(long, env = "ORDERFLOW_IDEMPOTENCY_TTL_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=30 * 86_400))]
    pub idempotency_ttl_secs: u64,

    /// Requests per second each client may make on average.
    #[arg(long, env = "ORDERFLOW_RATE_LIMIT_PER_SECOND", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_per_second: u32,

    /// Requests a client may make at once above the average (the token bucket's size).
    #[arg(long, env = "ORDERFLOW_RATE_LIMIT_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_burst: u32,

    /// Time a request may take before the API responds with 503, in milliseconds.
    #[arg(long, env = "ORDERFLOW_REQUEST_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub request_timeout_ms: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ORDERFLOW_MAX_BODY_BYTES", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1_024..=10_485_760))]
    pub max_body_bytes: u64,

    /// Print the OpenAPI document of the API and exit.
    #[arg(long)]
    pub print_openapi: bool,

    /// Abort the process at this point of POST /orders. Only crash tests set it.
    #[arg(long, value_enum, hide = true)]
    pub crash_at: Option<CrashPoint>,
}

impl ApiSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_secs(self.idempotency_ttl_secs)
    }

    pub fn validate(&self) -> Result<(), String> {
        validate_topic_name("--topic", &self.topic)
    }
}
