//! Log settings of the services.

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TelemetrySettings {
    /// Log output format. The level is set with RUST_LOG (default `info,rdkafka=warn` for the
    /// services, `warn` for orderctl).
    #[arg(long, env = "ORDERFLOW_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}
