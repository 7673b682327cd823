//! Metrics of the order API.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct ApiMetrics {
    pub requests: IntCounterVec,
    pub replays: IntCounter,
    pub in_flight_conflicts: IntCounter,
    pub payload_mismatches: IntCounter,
    pub rate_limited: IntCounter,
    pub publish_duration: Histogram,
}

impl ApiMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            requests: IntCounterVec::new(
                Opts::new("orderflow_api_requests_total", "HTTP requests by route and status class (2xx, 4xx, 5xx)."),
                &["route", "status_class"],
            )?,
            replays: IntCounter::new("orderflow_api_idempotent_replays_total", "Responses replayed for a repeated Idempotency-Key.")?,
            in_flight_conflicts: IntCounter::new(
                "orderflow_api_in_flight_conflicts_total",
                "409 answers: the same Idempotency-Key was still being processed.",
            )?,
            payload_mismatches: IntCounter::new(
                "orderflow_api_payload_mismatches_total",
                "422 answers: an Idempotency-Key reused with a different payload.",
            )?,
            rate_limited: IntCounter::new("orderflow_api_rate_limited_total", "Requests answered 429 by the per-client rate limit.")?,
            publish_duration: Histogram::with_opts(HistogramOpts::new(
                "orderflow_api_publish_duration_seconds",
                "Time from sending an OrderPlaced event until the broker acknowledged it.",
            ))?,
        };
        registry.register(Box::new(metrics.requests.clone()))?;
        registry.register(Box::new(metrics.replays.clone()))?;
        registry.register(Box::new(metrics.in_flight_conflicts.clone()))?;
        registry.register(Box::new(metrics.payload_mismatches.clone()))?;
        registry.register(Box::new(metrics.rate_limited.clone()))?;
        registry.register(Box::new(metrics.publish_duration.clone()))?;
        for route in ["/orders", "/orders/{order_id}"] {
            for class in ["2xx", "4xx", "5xx"] {
                metrics.requests.with_label_values(&[route, class]);
            }
        }
        Ok(metrics)
    }
}
