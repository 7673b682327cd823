//! The default sink: one structured log line per notification.

use super::Delivery;
use crate::notification::Notification;

pub struct LogSink;

impl LogSink {
    pub fn deliver(&self, notification: &Notification) -> Delivery {
        tracing::info!(
            target: "notification",
            notification_key = %notification.key,
            channel = notification.channel.as_label(),
            kind = notification.kind.as_label(),
            recipient = %notification.recipient,
            details = %notification.details,
            "notification sent"
        );
        Delivery::Delivered
    }
}
