//! The command line of `orderctl`.

use clap::{Parser, Subcommand};
use orderflow::settings::TelemetrySettings;

use crate::commands::{client::ClientArgs, dlt::DltArgs, lag::LagArgs, watch::WatchArgs, produce::ProduceArgs, replay::ReplayArgs, verify::VerifyArgs};

#[derive(Debug, Parser)]
#[command(name = "orderctl", version, about = "Operate an orderflow pipeline: produce orders, verify the database, replay topics, inspect and redrive dead letters, watch the metrics, manage API keys.")]
pub struct Cli {
    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    #[command(subcommand)]
    pub command: Command,
}

// The argument structs are parsed once at start-up, so their size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send generated orders, with optional duplicates and malformed messages, straight to Kafka.
    Produce(ProduceArgs),
    /// Check that PostgreSQL contains exactly one order per valid event of the topic; exits 1 on any violation.
    Verify(VerifyArgs),
    /// Reset a consumer group's offsets on a topic (a dry run unless --execute is given).
    Replay(ReplayArgs),
    /// Print a consumer group's lag per partition; with --wait, wait until it reaches 0.
    Lag(LagArgs),
    /// Inspect the dead-letter topic and redrive records to their original topic.
    Dlt(DltArgs),
    /// Show live throughput, lag, duplicates, dead letters and latency from the services' /metrics.
    Watch(WatchArgs),
    /// Create or revoke API clients of the order API.
    Client(ClientArgs),
}
