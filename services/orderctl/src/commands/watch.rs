//! `orderctl watch`: a live view of the services' `/metrics`, refreshed every interval.
//!
//! On a terminal it redraws one screen. Elsewhere (a pipe, a log file) it prints one plain line
//! per refresh, so it also works over SSH and in scripts.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::metrics_text::{bucket_delta, quantile, Scrape};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Metrics endpoint of the order processor.
    #[arg(long, default_value = "http://127.0.0.1:9464/metrics")]
    pub processor: String,

    /// Metrics endpoint of the notifier.
    #[arg(long, default_value = "http://127.0.0.1:9465/metrics")]
    pub notifier: String,

    /// Refresh interval in milliseconds.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub interval_ms: u64,

    /// Stop after this many refreshes; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 0)]
    pub iterations: u64,

    /// Print plain lines even on a terminal.
    #[arg(long)]
    pub plain: bool,
}

/// One service's scrape, with the previous one for rates; each with the time it was taken.
struct Observed {
    url: String,
    current: Option<(Scrape, Instant)>,
    previous: Option<(Scrape, Instant)>,
    error: Option<String>,
}

impl Observed {
    fn new(url: String) -> Self {
        Self { url, current: None, previous: None, error: None }
    }

    async fn refresh(&mut self, client: &reqwest::Client) {
        let response = async { client.get(&self.url).send().await?.error_for_status()?.text().await }.await;
        match response {
            Ok(text) => {
                self.previous = self.current.take();
                self.current = Some((Scrape::parse(&text), Instant::now()));
                self.error = None;
            }
            Err(error) => {
                self.previous = None;
                self.current = None;
                self.error = Some(error.to_string());
            }
        }
    }

    /// Increase per second of a counter since the previous scrape.
    fn rate(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        let (current, current_at) = self.current.as_ref()?;
        let (previous, previous_at) = self.previous.as_ref()?;
        let seconds = current_at.duration_since(*previous_at).as_secs_f64().max(1e-3);
        Some(((current.sum(name, filter) - previous.sum(name, filter)) / seconds).max(0.0))
    }

    fn scrape(&self) -> Option<&Scrape> {
        self.current.as_ref().map(|(scrape, _)| scrape)
    }

    fn total(&self, name: &str) -> f64 {
        self.scrape().map_or(0.0, |scrape| scrape.sum(name, &[]))
    }

    /// p50 and p99 of a histogram over the last interval, or over the whole run when nothing
    /// was observed in the interval.
    fn latency(&self, name: &str) -> (Option<f64>, Option<f64>) {
        let Some(current) = self.scrape() else { return (None, None) };
        let mut buckets = current.buckets(name);
        if let Some((previous, _)) = &self.previous {
            let delta = bucket_delta(&previous.buckets(name), &buckets);
            if delta.last().is_some_and(|(_, count)| *count > 0.0) {
                buckets = delta;
            }
        }
        (quantile(0.5, &buckets), quantile(0.99, &buckets))
    }
}

pub async fn run(args: WatchArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(args.interval_ms.min(2_000)))
        .build()
        .context("failed to build the HTTP client")?;
    let mut processor = Observed::new(args.processor.clone());
    let mut notifier = Observed::new(args.notifier.clone());
    let screen = std::io::stdout().is_terminal() && !args.plain;
    let mut interval = tokio::time::interval(Duration::from_millis(args.interval_ms));

    let mut iteration = 0u64;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        processor.refresh(&client).await;
        notifier.refresh(&client).await;
        if screen {
            // Home the cursor and clear the screen, then draw the frame.
            print!("\x1b[H\x1b[2J{}", frame(&processor, &notifier, args.interval_ms));
        } else {
            println!("{}", line(&processor, &notifier));
        }
        iteration += 1;
        if args.iterations > 0 && iteration >= args.iterations {
            break;
        }
    }
    Ok(())
}

fn per_second(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |rate| format!("{rate:.0}/s"))
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{:.3} s", value))
}

/// `reason count, ...` of the dead letters, or `none`.
fn dead_letters(processor: &Observed) -> String {
    let Some(scrape) = processor.scrape() else { return "-".to_owned() };
    let parts: Vec<String> = scrape
        .matching("orderflow_processor_events_dead_lettered_total", &[])
        .filter(|sample| sample.value > 0.0)
        .map(|sample| format!("{} {}", sample.labels.get("reason").map_or("?", String::as_str), sample.value))
        .collect();
    if parts.is_empty() { "none".to_owned() } else { parts.join(", ") }
}

/// Lag per partition of every group the services report, as `group topic/partition=lag`.
fn lags(observed: &Observed) -> Vec<String> {
    let Some(scrape) = observed.scrape() else { return Vec::new() };
    let mut entries: Vec<(String, String, i64, f64)> = scrape
        .matching("orderflow_consumergroup_lag", &[])
        .map(|sample| {
            let label = |key: &str| sample.labels.get(key).cloned().unwrap_or_default();
            (label("consumergroup"), label("topic"), label("partition").parse().unwrap_or(-1), sample.value)
        })
        .collect();
    entries.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    entries
        .into_iter()
        .map(|(group, topic, partition, lag)| format!("{group} {topic}/{partition}={lag}"))
        .collect()
}

fn status(observed: &Observed) -> String {
    match &observed.error {
        Some(error) => format!("DOWN ({error})"),
        None if observed.current.is_some() => "up".to_owned(),
        None => "waiting".to_owned(),
    }
}

fn frame(processor: &Observed, notifier: &Observed, interval_ms: u64) -> String {
    let mut out = String::new();
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
    let _ = writeln!(out, "orderflow watch  {now}  (every {:.1} s, Ctrl-C to quit)\n", interval_ms as f64 / 1000.0);

    let paused_partitions = processor.total("orderflow_processor_paused_partitions");
    let paused = if processor.total("orderflow_processor_stalled") > 0.0 {
        "ALL PARTITIONS PAUSED (retrying a transient failure)".to_owned()
    } else if paused_partitions > 0.0 {
        format!("{paused_partitions} PARTITIONS PAUSED (dead letters cannot be written)")
    } else {
        "no partitions paused".to_owned()
    };
    let _ = writeln!(out, "processor  {}  {}  [{paused}]", processor.url, status(processor));
    let _ = writeln!(
        out,
        "  consumed {}   applied {}   duplicates suppressed {} (total {})",
        per_second(processor.rate("orderflow_processor_events_consumed_total", &[])),
        per_second(processor.rate("orderflow_processor_events_applied_total", &[])),
        per_second(processor.rate("orderflow_processor_duplicates_suppressed_total", &[])),
        processor.total("orderflow_processor_duplicates_suppressed_total"),
    );
    let _ = writeln!(out, "  dead letters by reason: {}", dead_letters(processor));
    let (p50, p99) = processor.latency("orderflow_processor_end_to_end_latency_seconds");
    let (_, transaction_p99) = processor.latency("orderflow_processor_transaction_duration_seconds");
    let _ = writeln!(out, "  end-to-end latency p50 {}  p99 {}   transaction p99 {}", seconds(p50), seconds(p99), seconds(transaction_p99));
    let _ = writeln!(out, "  outbox pending {}   published {}\n", processor.total("orderflow_processor_outbox_pending"), per_second(processor.rate("orderflow_processor_outbox_published_total", &[])));

    let _ = writeln!(out, "notifier   {}  {}", notifier.url, status(notifier));
    let _ = writeln!(
        out,
        "  sent {} (total {})   duplicates suppressed {}   failed {}   retries {}\n",
        per_second(notifier.rate("orderflow_notifier_notifications_sent_total", &[])),
        notifier.total("orderflow_notifier_notifications_sent_total"),
        notifier.total("orderflow_notifier_duplicates_suppressed_total"),
        notifier.total("orderflow_notifier_notifications_failed_total"),
        notifier.total("orderflow_notifier_retries_total"),
    );

    let _ = writeln!(out, "lag per partition (group topic/partition=lag)");
    for entry in lags(processor).into_iter().chain(lags(notifier)) {
        let _ = writeln!(out, "  {entry}");
    }
    out
}

fn line(processor: &Observed, notifier: &Observed) -> String {
    // An unreachable service shows "-", never a 0 that reads as healthy.
    let total_lag = |observed: &Observed| match observed.scrape() {
        Some(scrape) => scrape.sum("orderflow_consumergroup_lag", &[]).to_string(),
        None => "-".to_owned(),
    };
    let stalled = match processor.scrape() {
        Some(scrape) => format!(
            "{}/{}",
            scrape.sum("orderflow_processor_stalled", &[]),
            scrape.sum("orderflow_processor_paused_partitions", &[])
        ),
        None => "-".to_owned(),
    };
    let (p50, p99) = processor.latency("orderflow_processor_end_to_end_latency_seconds");
    format!(
        "{} processor={} consumed={} applied={} suppressed={} dead_letters=[{}] lag={} p50={} p99={} stalled/paused={} notifier={} sent={} lag={}",
        chrono::Local::now().format("%H:%M:%S"),
        status(processor),
        per_second(processor.rate("orderflow_processor_events_consumed_total", &[])),
        per_second(processor.rate("orderflow_processor_events_applied_total", &[])),
        per_second(processor.rate("orderflow_processor_duplicates_suppressed_total", &[])),
        dead_letters(processor),
        total_lag(processor),
        seconds(p50),
        seconds(p99),
        stalled,
        status(notifier),
        per_second(notifier.rate("orderflow_notifier_notifications_sent_total", &[])),
        total_lag(notifier),
    )
}
