//! `orderctl produce`: send generated orders straight to Kafka.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use orderflow::kafka;
use orderflow::settings::KafkaSettings;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde::Serialize;

use super::via_api;
use crate::cases;
use crate::generator::{MalformedKind, MessageKind, OrderGenerator};

/// Deliveries awaited at once; librdkafka batches them, this only bounds memory.
const MAX_IN_FLIGHT: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    /// Topic to send to; created with --partitions partitions if it does not exist.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Partitions for a topic that does not exist yet.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: i32,

    /// Number of distinct valid orders.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,

    /// Seed of the generator; the same seed sends the same events.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Repeats of already sent events, as a fraction of --count (0.1 sends 10% extra messages).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub duplicates: f64,

    /// Malformed messages, as a fraction of --count.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub malformed: f64,

    /// Messages per second; unlimited when absent.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Also send the test inputs found in this folder, mixed among the orders: every file of
    /// `json-test-suite/test_parsing` as a message value, and every string of
    /// `naughty-strings/blns.json` as the customer name of a valid order.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<std::path::PathBuf>,

    /// Send the orders through the order API at this base URL (e.g. http://127.0.0.1:8080)
    /// instead of straight to Kafka; duplicates are then client retries.
    #[arg(long, value_name = "URL")]
    pub via_api: Option<String>,

    /// API key for --via-api, from orderctl client create.
    #[arg(long, env = "ORDERFLOW_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// With --via-api: fraction of orders sent again with the same key and body.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub retries: f64,

    /// With --via-api: fraction of orders whose key is sent again with a changed body.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub reused_keys: f64,

    /// Print the summary as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Counts of the messages sent, for the operator and for tests that compute the expected rows.
#[derive(Debug, Default, Serialize)]
pub struct ProduceSummary {
    pub topic: String,
    pub messages: usize,
    pub orders: usize,
    pub duplicates: usize,
    pub malformed: usize,
    pub malformed_by_kind: BTreeMap<MalformedKind, usize>,
    pub json_test_suite_files: usize,
    pub naughty_names: usize,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<via_api::ApiSummary>,
}

pub async fn run(args: ProduceArgs) -> anyhow::Result<()> {
    orderflow::settings::validate_topic_name("--topic", &args.topic).map_err(anyhow::Error::msg)?;
    if let Some(url) = &args.via_api {
        return produce_via_api(&args, url).await;
    }
    kafka::ensure_topic(&args.kafka.brokers, &args.topic, args.partitions).await?;

    let duplicates = (args.count as f64 * args.duplicates).round() as usize;
    let malformed = (args.count as f64 * args.malformed).round() as usize;
    let mut plan = OrderGenerator::new(args.seed, args.count, duplicates, malformed).plan();
    if let Some(dir) = &args.cases {
        plan = cases::interleave(plan, cases::load(dir, args.seed)?, args.seed);
    }

    let producer: FutureProducer = kafka::idempotent_producer_config(&args.kafka.brokers)
        .create()
        .context("failed to create the Kafka producer")?;
    let progress = progress_bar(plan.len() as u64);
    let started = Instant::now();
    let mut summary = ProduceSummary { topic: args.topic.clone(), ..ProduceSummary::default() };
    let mut deliveries = FuturesUnordered::new();
    let mut failures = 0usize;

    for (index, message) in plan.iter().enumerate() {
        if let Some(rate) = args.rate {
            let due = started + Duration::from_secs_f64(index as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        while deliveries.len() >= MAX_IN_FLIGHT {
            failures += settle_one(&mut deliveries, &progress).await;
        }
        let delivery = loop {
            let record = FutureRecord::to(&args.topic).key(&message.key).payload(&message.value);
            match producer.send_result(record) {
                Ok(delivery) => break delivery,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    failures += settle_one(&mut deliveries, &progress).await;
                }
                Err((error, _)) => bail!("failed to enqueue a message for {}: {error}", args.topic),
            }
        };
        deliveries.push(delivery);
        count_message(&mut summary, message.kind);
    }
    while !deliveries.is_empty() {
        failures += settle_one(&mut deliveries, &progress).await;
    }
    producer.flush(Duration::from_secs(30)).context("failed to flush the producer")?;
    progress.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();

    if failures > 0 {
        bail!("{failures} of {} messages were not acknowledged by the broker; see the warnings above", summary.messages);
    }
    print_summary(&summary, args.json)
}

async fn produce_via_api(args: &ProduceArgs, url: &str) -> anyhow::Result<()> {
    let Some(api_key) = args.api_key.clone() else {
        bail!("--via-api needs --api-key (ORDERFLOW_API_KEY); create one with orderctl client create --name NAME");
    };
    if args.cases.is_some() || args.duplicates > 0.0 {
        bail!("--via-api sends client retries (--retries) instead of --duplicates, and no --cases; drop those flags");
    }
    let malformed = (args.count as f64 * args.malformed).round() as usize;
    let plan = OrderGenerator::new(args.seed, args.count, 0, malformed).plan();
    let target = via_api::ApiTarget { url: url.to_owned(), api_key, retries: args.retries, reused_keys: args.reused_keys };
    let started = Instant::now();
    let api = via_api::send(&target, &plan, args.seed).await?;

    let mut summary = ProduceSummary { topic: args.topic.clone(), ..ProduceSummary::default() };
    for message in &plan {
        count_message(&mut summary, message.kind);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    if args.json {
        summary.api = Some(api);
        println!("{}", serde_json::to_string(&summary)?);
        return Ok(());
    }
    println!("sent {} orders and {} malformed bodies through {url} in {:.1} s", summary.orders, summary.malformed, summary.seconds);
    for (what, count) in via_api::describe(&api) {
        println!("  {what}: {count}");
    }
    if api.errors_5xx_or_transport > 0 {
        bail!("{} requests got a 5xx or no response; see the warnings above", api.errors_5xx_or_transport);
    }
    Ok(())
}

/// Waits for one delivery report and returns 1 if the broker did not acknowledge the message.
async fn settle_one(deliveries: &mut FuturesUnordered<rdkafka::producer::DeliveryFuture>, progress: &ProgressBar) -> usize {
    let Some(result) = deliveries.next().await else { return 0 };
    progress.inc(1);
    match result {
        Ok(Ok(_)) => 0,
        Ok(Err((error, _))) => {
            tracing::warn!(%error, "message not acknowledged");
            1
        }
        Err(_) => {
            tracing::warn!("producer dropped a delivery report");
            1
        }
    }
}

fn count_message(summary: &mut ProduceSummary, kind: MessageKind) {
    summary.messages += 1;
    match kind {
        MessageKind::Order => summary.orders += 1,
        MessageKind::Duplicate => summary.duplicates += 1,
        MessageKind::Malformed(kind) => {
            summary.malformed += 1;
            *summary.malformed_by_kind.entry(kind).or_default() += 1;
        }
        MessageKind::JsonTestSuiteFile => summary.json_test_suite_files += 1,
        MessageKind::NaughtyName => summary.naughty_names += 1,
    }
}

fn print_summary(summary: &ProduceSummary, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(summary)?);
        return Ok(());
    }
    println!(
        "sent {} messages to {} in {:.1} s: {} orders, {} duplicates, {} malformed",
        summary.messages, summary.topic, summary.seconds, summary.orders, summary.duplicates, summary.malformed
    );
    if summary.json_test_suite_files + summary.naughty_names > 0 {
        println!(
            "  test inputs: {} JSONTestSuite files, {} orders with a naughty customer name",
            summary.json_test_suite_files, summary.naughty_names
        );
    }
    for (kind, count) in &summary.malformed_by_kind {
        println!("  malformed {}: {count}", serde_json::to_value(kind)?.as_str().unwrap_or("?"));
    }
    Ok(())
}

fn progress_bar(total: u64) -> ProgressBar {
    // indicatif draws on stderr and hides itself when stderr is not a terminal.
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} messages, {per_sec}, eta {eta}")
        .expect("the template is valid");
    bar.set_style(style);
    bar
}

fn parse_fraction(value: &str) -> Result<f64, String> {
    let fraction: f64 = value.parse().map_err(|_| format!("{value:?} is not a number; use a fraction such as 0.1"))?;
    if !(0.0..=10.0).contains(&fraction) {
        return Err(format!("{fraction} is outside 0 to 10; use a fraction of --count such as 0.1"));
    }
    Ok(fraction)
}

fn parse_rate(value: &str) -> Result<f64, String> {
    let rate: f64 = value.parse().map_err(|_| format!("{value:?} is not a number of messages per second"))?;
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(format!("{value} must be a positive number of messages per second"));
    }
    Ok(rate)
}
