//! The webhook sink: an HTTP POST of a JSON body with an `Idempotency-Key` header.
//!
//! Delivery is at least once: a crash between the receiver's response and the notifier's record
//! of it repeats the request. The repeat carries the same `Idempotency-Key`, so a receiver that
//! honours the key receives each notification once, and one that ignores it may receive a repeat.

use std::time::Duration;

use reqwest::StatusCode;

use super::Delivery;
use crate::notification::Notification;

pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
}

impl WebhookSink {
    pub fn new(url: String, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { client, url })
    }

    pub async fn deliver(&self, notification: &Notification) -> Delivery {
        let response = self
            .client
            .post(&self.url)
            .header("Idempotency-Key", notification.key.to_string())
            .json(notification)
            .send()
            .await;
        let status = match response {
            Ok(response) => response.status(),
            Err(error) => return Delivery::RetryLater(format!("request to {} failed: {error}", self.url)),
        };
        // 409 means that the receiver already has this key, so the notification arrived earlier.
        if status.is_success() || status == StatusCode::CONFLICT {
            Delivery::Delivered
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Delivery::RetryLater(format!("{} answered {status}", self.url))
        } else {
            Delivery::Rejected(format!("{} answered {status}", self.url))
        }
    }
}
