//! `orderctl dlt`: inspect the dead-letter topic and redrive chosen records to their source.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use orderflow::consumer::dead_letter::{
    HEADER_ATTEMPTS, HEADER_EXCEPTION_MESSAGE, HEADER_FAILED_AT, HEADER_ORIGINAL_OFFSET, HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_TIMESTAMP, HEADER_ORIGINAL_TOPIC, HEADER_REASON,
};
use orderflow::kafka;
use orderflow::settings::KafkaSettings;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;

/// Characters of the failure message shown in the table.
const MESSAGE_COLUMN_WIDTH: usize = 60;

#[derive(Debug, clap::Args)]
pub struct DltArgs {
    #[command(subcommand)]
    pub command: DltCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DltCommand {
    /// List dead letters with their reason, origin and age.
    List(ListArgs),
    /// Print one dead letter whole: headers and value.
    Show(ShowArgs),
    /// Publish chosen dead letters to their original topic again (a dry run unless --execute is given).
    Redrive(RedriveArgs),
}

#[derive(Debug, clap::Args)]
pub struct DeadLetterSource {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    /// Dead-letter topic to read.
    #[arg(long, env = "ORDERFLOW_DEAD_LETTER_TOPIC", default_value = "orders.dlt")]
    pub dead_letter_topic: String,
}

/// Filters that choose the dead letters a command applies to; all of them when none is given.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Only this partition of the dead-letter topic.
    #[arg(long)]
    pub partition: Option<i32>,

    /// Only dead-letter offsets from this one on (inclusive).
    #[arg(long)]
    pub from_offset: Option<i64>,

    /// Only dead-letter offsets up to this one (inclusive).
    #[arg(long)]
    pub to_offset: Option<i64>,

    /// Only this rejection reason, such as `invalid_order`.
    #[arg(long)]
    pub reason: Option<String>,

    /// Only dead letters at least this many seconds old.
    #[arg(long, value_name = "SECONDS")]
    pub min_age: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: DeadLetterSource,

    #[command(flatten)]
    pub selection: Selection,

    /// Print JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub source: DeadLetterSource,

    /// Partition of the dead letter.
    #[arg(long)]
    pub partition: i32,

    /// Offset of the dead letter.
    #[arg(long)]
    pub offset: i64,

    /// Print JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub source: DeadLetterSource,

    #[command(flatten)]
    pub selection: Selection,

    /// Maximum records published per second.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,

    /// Publish; without it the command only lists what it would publish.
    #[arg(long)]
    pub execute: bool,
}

/// One dead letter as read from the topic.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub partition: i32,
    pub offset: i64,
    pub original_topic: Option<String>,
    pub original_partition: Option<i32>,
    pub original_offset: Option<i64>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub attempts: Option<u32>,
    pub failed_at: Option<DateTime<Utc>>,
    /// The key and value as text where they are UTF-8, else as `\x..` escapes.
    pub key_text: Option<String>,
    pub value_text: Option<String>,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub key: Option<Vec<u8>>,
    #[serde(skip)]
    pub value: Option<Vec<u8>>,
    #[serde(skip)]
    pub raw_headers: Vec<(String, Option<Vec<u8>>)>,
}

pub async fn run(args: DltArgs) -> anyhow::Result<()> {
    match args.command {
        DltCommand::List(args) => list(args),
        DltCommand::Show(args) => show(args),
        DltCommand::Redrive(args) => redrive(args).await,
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let letters = read_selected(&args.source, &args.selection)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&letters)?);
        return Ok(());
    }
    println!("{:<14} {:<36} {:<22} {:>10}  MESSAGE", "DLT-POSITION", "ORIGIN", "REASON", "AGE");
    for letter in &letters {
        println!(
            "{:<14} {:<36} {:<22} {:>10}  {}",
            format!("{}/{}", letter.partition, letter.offset),
            origin(letter),
            letter.reason.as_deref().unwrap_or("-"),
            age(letter),
            truncate(letter.message.as_deref().unwrap_or("-"), MESSAGE_COLUMN_WIDTH)
        );
    }
    println!("{} dead letters", letters.len());
    Ok(())
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let selection = Selection {
        partition: Some(args.partition),
        from_offset: Some(args.offset),
        to_offset: Some(args.offset),
        reason: None,
        min_age: None,
    };
    let letters = read_selected(&args.source, &selection)?;
    let Some(letter) = letters.first() else {
        bail!("no dead letter at {}/{} of {}", args.partition, args.offset, args.source.dead_letter_topic);
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(letter)?);
        return Ok(());
    }
    println!("position:  {}/{} of {}", letter.partition, letter.offset, args.source.dead_letter_topic);
    println!("origin:    {}", origin(letter));
    println!("reason:    {}", letter.reason.as_deref().unwrap_or("-"));
    println!("message:   {}", letter.message.as_deref().unwrap_or("-"));
    println!("age:       {}", age(letter));
    println!("key:       {}", letter.key_text.as_deref().unwrap_or("(none)"));
    println!("headers:");
    for (name, value) in &letter.headers {
        println!("  {name}: {value}");
    }
    println!("value:\n{}", letter.value_text.as_deref().unwrap_or("(none)"));
    Ok(())
}

/// Publishes each selected dead letter to its original topic with its original key, value and
/// headers, so the processor's deduplication applies by event id. The dead-letter headers are
/// dropped, except the attempt count, which the processor increments if the record fails again.
async fn redrive(args: RedriveArgs) -> anyhow::Result<()> {
    let letters = read_selected(&args.source, &args.selection)?;
    for letter in &letters {
        if letter.original_topic.is_none() {
            bail!(
                "dead letter {}/{} has no {HEADER_ORIGINAL_TOPIC} header, so its original topic is unknown; narrow the selection to skip it",
                letter.partition,
                letter.offset
            );
        }
    }
    if !args.execute {
        for letter in &letters {
            println!("would redrive {}/{} to {}", letter.partition, letter.offset, origin(letter));
        }
        println!("dry run: {} dead letters selected; add --execute to publish them", letters.len());
        return Ok(());
    }

    let producer: FutureProducer = kafka::idempotent_producer_config(&args.source.kafka.brokers)
        .create()
        .context("failed to create the Kafka producer")?;
    let started = Instant::now();
    for (index, letter) in letters.iter().enumerate() {
        let due = started + Duration::from_secs_f64(index as f64 / f64::from(args.rate));
        tokio::time::sleep_until(due.into()).await;

        let topic = letter.original_topic.as_deref().expect("checked above");
        let mut headers = OwnedHeaders::new();
        for (name, value) in &letter.raw_headers {
            let is_dead_letter_header = name.starts_with("kafka_dlt-") || name.starts_with("orderflow_dlt-");
            if !is_dead_letter_header || name == HEADER_ATTEMPTS {
                headers = headers.insert(Header { key: name, value: value.as_deref() });
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = &letter.key {
            record = record.key(key.as_slice());
        }
        if let Some(value) = &letter.value {
            record = record.payload(value.as_slice());
        }
        producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(error, _)| anyhow::anyhow!("failed to redrive {}/{} to {topic}: {error}", letter.partition, letter.offset))?;
        println!("redrove {}/{} to {topic}", letter.partition, letter.offset);
    }
    println!("redrove {} dead letters", letters.len());
    Ok(())
}

/// Reads the dead-letter topic and keeps the records the selection matches.
fn read_selected(source: &DeadLetterSource, selection: &Selection) -> anyhow::Result<Vec<DeadLetter>> {
    let now = Utc::now();
    let mut letters = Vec::new();
    kafka::read_topic(&source.kafka.brokers, &source.dead_letter_topic, |message| {
        let letter = DeadLetter::from_message(message);
        if selection.matches(&letter, now) {
            letters.push(letter);
        }
    })?;
    Ok(letters)
}

impl Selection {
    fn matches(&self, letter: &DeadLetter, now: DateTime<Utc>) -> bool {
        let partition_ok = self.partition.is_none_or(|partition| partition == letter.partition);
        let from_ok = self.from_offset.is_none_or(|from| letter.offset >= from);
        let to_ok = self.to_offset.is_none_or(|to| letter.offset <= to);
        let reason_ok = self.reason.as_deref().is_none_or(|reason| letter.reason.as_deref() == Some(reason));
        let age_ok = self.min_age.is_none_or(|seconds| {
            letter.failed_at.is_some_and(|failed_at| (now - failed_at).num_seconds() >= i64::try_from(seconds).unwrap_or(i64::MAX))
        });
        partition_ok && from_ok && to_ok && reason_ok && age_ok
    }
}

impl DeadLetter {
    /// Decodes the headers that orderflow writes; any of them may be missing or garbage, since
    /// anything can be written to a topic.
    fn from_message(message: &rdkafka::message::BorrowedMessage<'_>) -> Self {
        let raw_headers: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|headers| headers.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect())
            .unwrap_or_default();
        let header = |name: &str| -> Option<&[u8]> {
            raw_headers.iter().rev().find(|(key, _)| key == name).and_then(|(_, value)| value.as_deref())
        };
        let text = |name: &str| header(name).and_then(|bytes| std::str::from_utf8(bytes).ok()).map(str::to_owned);

        let mut headers_shown = BTreeMap::new();
        for (name, value) in &raw_headers {
            let shown = match (name.as_str(), value.as_deref()) {
                (HEADER_ORIGINAL_PARTITION, Some(bytes)) => match <[u8; 4]>::try_from(bytes) {
                    Ok(number) => i32::from_be_bytes(number).to_string(),
                    Err(_) => escape(bytes),
                },
                (HEADER_ORIGINAL_OFFSET | HEADER_ORIGINAL_TIMESTAMP, Some(bytes)) => match <[u8; 8]>::try_from(bytes) {
                    Ok(number) => i64::from_be_bytes(number).to_string(),
                    Err(_) => escape(bytes),
                },
                (_, Some(bytes)) => escape(bytes),
                (_, None) => "(null)".to_owned(),
            };
            headers_shown.insert(name.clone(), shown);
        }

        Self {
            partition: message.partition(),
            offset: message.offset(),
            original_topic: text(HEADER_ORIGINAL_TOPIC),
            original_partition: header(HEADER_ORIGINAL_PARTITION).and_then(|b| b.try_into().ok()).map(i32::from_be_bytes),
            original_offset: header(HEADER_ORIGINAL_OFFSET).and_then(|b| b.try_into().ok()).map(i64::from_be_bytes),
            reason: text(HEADER_REASON),
            message: text(HEADER_EXCEPTION_MESSAGE),
            attempts: text(HEADER_ATTEMPTS).and_then(|t| t.parse().ok()),
            failed_at: text(HEADER_FAILED_AT).and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)),
            key_text: message.key().map(escape),
            value_text: message.payload().map(escape),
            headers: headers_shown.into_iter().collect(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            raw_headers,
        }
    }
}

/// Shows bytes as text where they are UTF-8 without control characters, else with escapes.
fn escape(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(char::is_control) => text.to_owned(),
        _ => bytes.escape_ascii().to_string(),
    }
}

fn origin(letter: &DeadLetter) -> String {
    match (&letter.original_topic, letter.original_partition, letter.original_offset) {
        (Some(topic), Some(partition), Some(offset)) => format!("{topic}/{partition}/{offset}"),
        (Some(topic), _, _) => topic.clone(),
        _ => "unknown".to_owned(),
    }
}

fn age(letter: &DeadLetter) -> String {
    let Some(failed_at) = letter.failed_at else { return "-".to_owned() };
    let seconds = (Utc::now() - failed_at).num_seconds().max(0);
    match seconds {
        0..=119 => format!("{seconds}s"),
        120..=7199 => format!("{}m", seconds / 60),
        7200..=172_799 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut shortened: String = text.chars().take(width - 1).collect();
    shortened.push('…');
    shortened
}
