//! Structured logging with tracing, as text or JSON, filtered by `RUST_LOG`.
//!
//! Level policy: info for lifecycle (start, assignment, stop), warn for what recovers by itself
//! (a retried transaction, a skipped poison message), error for what needs an operator, and
//! debug for per-message events.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Default filter of the services when `RUST_LOG` is not set.
pub const SERVICE_FILTER: &str = "info,rdkafka=warn";

/// Installs the global subscriber, with `default_filter` unless `RUST_LOG` is set. Logs go to
/// stderr so that stdout stays free for reports.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colour codes only on a terminal, so that log files stay plain text for grep and shippers.
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
}
