//! `orderctl produce --via-api`: send the generated orders through the order API, as a client
//! that retries some requests and reuses some keys with a changed body.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::stream::{FuturesUnordered, StreamExt};
use orderflow::events::{decode_order_placed, OrderPlaced};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde::Serialize;

use crate::generator::PlannedMessage;

/// Requests in flight at once; each order's retry waits for its first request.
const CONCURRENCY: usize = 32;

/// Counts of the API's responses, by kind.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ApiSummary {
    pub requests: usize,
    pub accepted: usize,
    pub replayed: usize,
    pub conflicts_409: usize,
    pub mismatches_422: usize,
    pub other_4xx: usize,
    pub errors_5xx_or_transport: usize,
}

pub struct ApiTarget {
    pub url: String,
    pub api_key: String,
    /// Fraction of orders sent a second time with the same key and body.
    pub retries: f64,
    /// Fraction of orders whose key is sent again with a changed body.
    pub reused_keys: f64,
}

pub async fn send(target: &ApiTarget, plan: &[PlannedMessage], seed: u64) -> anyhow::Result<ApiSummary> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().context("failed to build the HTTP client")?;
    let endpoint = format!("{}/orders", target.url.trim_end_matches('/'));
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6170_6921);
    let started = Instant::now();

    let mut summary = ApiSummary::default();
    let mut pending = FuturesUnordered::new();
    for (index, message) in plan.iter().enumerate() {
        let key = format!("{seed}-{index}");
        let retry = rng.random_bool(target.retries.clamp(0.0, 1.0));
        let reuse = rng.random_bool(target.reused_keys.clamp(0.0, 1.0));
        let (body, changed) = request_bodies(&message.value);
        let (http, endpoint, api_key) = (&http, &endpoint, &target.api_key);
        pending.push(async move {
            let mut statuses = vec![post(http, endpoint, api_key, &key, &body).await];
            if retry {
                statuses.push(post(http, endpoint, api_key, &key, &body).await);
            }
            if let (true, Some(changed)) = (reuse, changed) {
                statuses.push(post(http, endpoint, api_key, &key, &changed).await);
            }
            statuses
        });
        if pending.len() >= CONCURRENCY {
            count(&mut summary, pending.next().await.unwrap_or_default());
        }
    }
    while let Some(statuses) = pending.next().await {
        count(&mut summary, statuses);
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "sent orders through the API");
    Ok(summary)
}

/// Builds the API body of a planned message, and a changed copy for key reuse. A message that is not a
/// valid order is sent as it is, without a changed copy.
fn request_bodies(value: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let Ok(order) = decode_order_placed(value) else { return (value.to_vec(), None) };
    let body = api_body(order.event());
    let mut changed = order.event().clone();
    changed.lines[0].quantity += 1;
    changed.total_minor += changed.lines[0].unit_price_minor;
    (body, Some(api_body(&changed)))
}

fn api_body(event: &OrderPlaced) -> Vec<u8> {
    let mut body = serde_json::json!({
        "customer": event.customer,
        "lines": event.lines,
        "currency": event.currency,
        "total_minor": event.total_minor,
    });
    if let Some(note) = &event.delivery_note {
        body["delivery_note"] = serde_json::json!(note);
    }
    body.to_string().into_bytes()
}

/// One request's outcome: the status, and whether the response was a replay.
type Answer = Option<(StatusCode, bool)>;

async fn post(http: &reqwest::Client, endpoint: &str, api_key: &str, key: &str, body: &[u8]) -> Answer {
    let response = http
        .post(endpoint)
        .bearer_auth(api_key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(body.to_vec())
        .send()
        .await;
    match response {
        Ok(response) => Some((response.status(), response.headers().contains_key("Idempotent-Replayed"))),
        Err(error) => {
            tracing::warn!(%error, key, "request to the order API failed");
            None
        }
    }
}

fn count(summary: &mut ApiSummary, answers: Vec<Answer>) {
    for answer in answers {
        summary.requests += 1;
        match answer {
            Some((StatusCode::ACCEPTED, true)) => summary.replayed += 1,
            Some((StatusCode::ACCEPTED, false)) => summary.accepted += 1,
            Some((StatusCode::CONFLICT, _)) => summary.conflicts_409 += 1,
            Some((StatusCode::UNPROCESSABLE_ENTITY, _)) => summary.mismatches_422 += 1,
            Some((status, _)) if status.is_client_error() => summary.other_4xx += 1,
            _ => summary.errors_5xx_or_transport += 1,
        }
    }
}

/// Text lines of the summary, in a fixed order.
pub fn describe(summary: &ApiSummary) -> Vec<(&'static str, usize)> {
    Vec::from([
        ("requests", summary.requests),
        ("202 accepted", summary.accepted),
        ("202 replayed", summary.replayed),
        ("409 in flight", summary.conflicts_409),
        ("422 key reused with another body", summary.mismatches_422),
        ("other 4xx", summary.other_4xx),
        ("5xx or no response", summary.errors_5xx_or_transport),
    ])
}
