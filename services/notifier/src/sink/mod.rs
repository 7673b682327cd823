//! Notification sinks: a log line, or an HTTP POST to a webhook.

mod log;
mod webhook;

pub use self::log::LogSink;
pub use webhook::WebhookSink;

use crate::notification::Notification;

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver has the notification.
    Delivered,
    /// The receiver rejected it for good (a 4xx other than 409 and 429); do not retry.
    Rejected(String),
    /// Worth another attempt: a timeout, a lost connection, a 429 or a 5xx.
    RetryLater(String),
}

pub enum Sink {
    Log(LogSink),
    Webhook(WebhookSink),
}

impl Sink {
    pub fn label(&self) -> &'static str {
        match self {
            Sink::Log(_) => "log",
            Sink::Webhook(_) => "webhook",
        }
    }

    pub async fn deliver(&self, notification: &Notification) -> Delivery {
        match self {
            Sink::Log(sink) => sink.deliver(notification),
            Sink::Webhook(sink) => sink.deliver(notification).await,
        }
    }
}
