//! Counters and histograms of the notifier.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct NotifierMetrics {
    pub sent: IntCounterVec,
    pub duplicates_suppressed: IntCounter,
    pub failed: IntCounterVec,
    pub retries: IntCounterVec,
    pub skipped: IntCounterVec,
    pub sink_duration: HistogramVec,
}

impl NotifierMetrics {
    /// Registers the metrics; `sink` is the label of the configured sink.
    pub fn register(registry: &Registry, sink: &str) -> prometheus::Result<Self> {
        let metrics = Self {
            sent: IntCounterVec::new(
                Opts::new("orderflow_notifier_notifications_sent_total", "Notifications delivered, by channel and kind."),
                &["channel", "kind"],
            )?,
            duplicates_suppressed: IntCounter::new(
                "orderflow_notifier_duplicates_suppressed_total",
                "Records whose notification was already sent or failed for good; nothing was sent.",
            )?,
            failed: IntCounterVec::new(
                Opts::new("orderflow_notifier_notifications_failed_total", "Notifications the receiver rejected for good, by sink."),
                &["sink"],
            )?,
            retries: IntCounterVec::new(
                Opts::new("orderflow_notifier_retries_total", "Delivery attempts retried, by sink."),
                &["sink"],
            )?,
            skipped: IntCounterVec::new(
                Opts::new("orderflow_notifier_records_skipped_total", "Records that yield no notification, by reason."),
                &["reason"],
            )?,
            sink_duration: HistogramVec::new(
                HistogramOpts::new("orderflow_notifier_sink_duration_seconds", "Duration of one delivery attempt, by sink."),
                &["sink"],
            )?,
        };
        registry.register(Box::new(metrics.sent.clone()))?;
        registry.register(Box::new(metrics.duplicates_suppressed.clone()))?;
        registry.register(Box::new(metrics.failed.clone()))?;
        registry.register(Box::new(metrics.retries.clone()))?;
        registry.register(Box::new(metrics.skipped.clone()))?;
        registry.register(Box::new(metrics.sink_duration.clone()))?;

        // Labelled series exist from the start, so dashboards and rate() see them before the
        // first notification.
        for (channel, kind) in [("customer", "order_confirmed"), ("customer", "order_failed"), ("operator", "order_failed")] {
            metrics.sent.with_label_values(&[channel, kind]);
        }
        metrics.failed.with_label_values(&[sink]);
        metrics.retries.with_label_values(&[sink]);
        metrics.sink_duration.with_label_values(&[sink]);
        metrics.skipped.with_label_values(&["malformed_event"]);
        Ok(metrics)
    }
}
