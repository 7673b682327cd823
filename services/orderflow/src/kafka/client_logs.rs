//! librdkafka's errors and logs, passed to tracing with repeats limited: while a broker is down
//! librdkafka reports the same error several times a second from every client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::ClientContext;

/// Shortest time between two log lines of the same kind.
const REPEAT_INTERVAL: Duration = Duration::from_secs(10);

/// Remembers when each kind of message was last logged and how many were dropped since.
#[derive(Default)]
pub struct LogLimiter {
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl LogLimiter {
    /// Returns how many repeats were dropped before this one when it should be logged, or
    /// `None` when it should be dropped.
    fn admit(&self, kind: String) -> Option<u64> {
        let mut last = self.last.lock().expect("the lock is never poisoned");
        let now = Instant::now();
        match last.get_mut(&kind) {
            Some((at, dropped)) if now.duration_since(*at) < REPEAT_INTERVAL => {
                *dropped += 1;
                None
            }
            Some((at, dropped)) => {
                let repeats = *dropped;
                *at = now;
                *dropped = 0;
                Some(repeats)
            }
            None => {
                last.insert(kind, (now, 0));
                Some(0)
            }
        }
    }

    pub fn error(&self, error: &KafkaError, reason: &str) {
        let code = error.rdkafka_error_code().map_or_else(|| error.to_string(), |code| format!("{code:?}"));
        if let Some(dropped) = self.admit(format!("error:{code}")) {
            tracing::error!(target: "rdkafka", %error, reason, dropped_repeats = dropped, "Kafka client error");
        }
    }

    pub fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let admitted = match level {
            RDKafkaLogLevel::Debug | RDKafkaLogLevel::Info | RDKafkaLogLevel::Notice => Some(0),
            _ => self.admit(format!("log:{facility}")),
        };
        let Some(dropped) = admitted else { return };
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(target: "rdkafka", facility, message, dropped_repeats = dropped, "librdkafka")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "rdkafka", facility, message, dropped_repeats = dropped, "librdkafka"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(target: "rdkafka", facility, message, "librdkafka"),
            RDKafkaLogLevel::Debug => tracing::debug!(target: "rdkafka", facility, message, "librdkafka"),
        }
    }
}

/// A context for producers and admin clients that only limits repeated logs.
#[derive(Default)]
pub struct QuietContext {
    limiter: LogLimiter,
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.limiter.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.limiter.error(&error, reason);
    }
}
