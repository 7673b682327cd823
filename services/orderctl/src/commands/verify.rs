//! `orderctl verify`: prove that PostgreSQL contains exactly one effect per valid event of a topic.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use orderflow::events::decode_order_placed;
use orderflow::kafka::read_topic;
use rdkafka::message::Message;
use orderflow::settings::{DatabaseSettings, KafkaSettings};
use serde::Serialize;
use tokio_postgres::NoTls;
use uuid::Uuid;


/// Ids listed per kind of violation in the text report; the JSON report lists all.
const IDS_SHOWN: usize = 10;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    #[command(flatten)]
    pub database: DatabaseSettings,

    /// Topic of OrderPlaced events.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Consumer group of the processors; it must have committed up to the end of every partition.
    #[arg(long, env = "ORDERFLOW_GROUP", default_value = "order-processor")]
    pub group: String,

    /// Print the report as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Counts and violations found; the run fails when `violations` is not empty.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    pub topic: String,
    pub group: String,
    pub messages: u64,
    pub valid_events: usize,
    pub duplicate_deliveries: u64,
    pub invalid_messages: u64,
    pub processed_events_rows: usize,
    pub orders_rows: usize,
    pub lag_by_partition: BTreeMap<i32, i64>,
    pub violations: BTreeMap<&'static str, Vec<String>>,
}

impl VerifyReport {
    fn violation(&mut self, kind: &'static str, id: impl ToString) {
        self.violations.entry(kind).or_default().push(id.to_string());
    }
}

/// The order that the database must contain for one valid event of the topic.
struct ExpectedOrder {
    order_id: Uuid,
    customer_name: String,
    currency: String,
    total_minor: i64,
}

/// Returns true when no invariant is violated.
pub async fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let mut report = VerifyReport { topic: args.topic.clone(), group: args.group.clone(), ..VerifyReport::default() };

    let expected = read_expected_orders(&args, &mut report)?;
    let lag_by_partition = orderflow::kafka::group_lag(&args.kafka.brokers, &args.group, &args.topic)?;
    for (partition, lag) in &lag_by_partition {
        if *lag > 0 {
            report.violation("group_not_caught_up", format!("partition {partition} lags by {lag}"));
        }
    }
    report.lag_by_partition = lag_by_partition;

    let url = &args.database.database_url;
    let (client, connection) = url
        .config()
        .connect(NoTls)
        .await
        .with_context(|| format!("failed to connect to PostgreSQL at {url}"))?;
    tokio::spawn(connection);
    check_database(&client, &args.topic, &expected, &mut report).await?;

    print_report(&report, args.json)?;
    Ok(report.violations.is_empty())
}

/// Reads the topic and keeps the first delivery of every valid event.
fn read_expected_orders(args: &VerifyArgs, report: &mut VerifyReport) -> anyhow::Result<HashMap<Uuid, ExpectedOrder>> {
    let mut expected = HashMap::new();
    read_topic(&args.kafka.brokers, &args.topic, |message| {
        report.messages += 1;
        let Ok(order) = decode_order_placed(message.payload().unwrap_or_default()) else {
            report.invalid_messages += 1;
            return;
        };
        let event = order.event();
        if expected.contains_key(&event.event_id) {
            report.duplicate_deliveries += 1;
            return;
        }
        expected.insert(
            event.event_id,
            ExpectedOrder {
                order_id: event.order_id,
                customer_name: event.customer.name.clone(),
                currency: event.currency.clone(),
                total_minor: event.total_minor,
            },
        );
    })?;
    report.valid_events = expected.len();
    Ok(expected)
}

async fn check_database(
    client: &tokio_postgres::Client,
    topic: &str,
    expected: &HashMap<Uuid, ExpectedOrder>,
    report: &mut VerifyReport,
) -> anyhow::Result<()> {
    let processed: HashSet<Uuid> = client
        .query("SELECT event_id FROM processed_events WHERE topic = $1", &[&topic])
        .await
        .context("failed to read processed_events")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    report.processed_events_rows = processed.len();

    let order_rows = client
        .query(
            "SELECT o.event_id, o.order_id, o.customer_name, o.currency::text, o.total_minor
             FROM orders o JOIN processed_events p USING (event_id)
             WHERE p.topic = $1",
            &[&topic],
        )
        .await
        .context("failed to read orders")?;
    report.orders_rows = order_rows.len();
    let orders_by_event: HashMap<Uuid, &tokio_postgres::Row> = order_rows.iter().map(|row| (row.get(0), row)).collect();

    for (event_id, order) in expected {
        if !processed.contains(event_id) {
            report.violation("event_not_processed", event_id);
        }
        let Some(row) = orders_by_event.get(event_id) else {
            report.violation("event_without_order", event_id);
            continue;
        };
        let stored_matches = row.get::<_, Uuid>(1) == order.order_id
            && row.get::<_, &str>(2) == order.customer_name
            && row.get::<_, &str>(3) == order.currency
            && row.get::<_, i64>(4) == order.total_minor;
        if !stored_matches {
            report.violation("order_differs_from_event", event_id);
        }
    }
    for event_id in processed.iter().filter(|id| !expected.contains_key(id)) {
        report.violation("processed_event_not_in_topic", event_id);
    }

    let orphans = client
        .query(
            "SELECT o.order_id FROM orders o LEFT JOIN processed_events p USING (event_id) WHERE p.event_id IS NULL",
            &[],
        )
        .await
        .context("failed to look for orders without an event")?;
    for row in orphans {
        report.violation("order_without_event", row.get::<_, Uuid>(0));
    }

    let wrong_totals = client
        .query(
            "SELECT o.order_id FROM orders o
             LEFT JOIN (SELECT order_id, sum(quantity::bigint * unit_price_minor) AS total
                        FROM order_lines GROUP BY order_id) l USING (order_id)
             WHERE l.total IS DISTINCT FROM o.total_minor",
            &[],
        )
        .await
        .context("failed to compare order totals with their lines")?;
    for row in wrong_totals {
        report.violation("order_total_mismatch", row.get::<_, Uuid>(0));
    }
    Ok(())
}

fn print_report(report: &VerifyReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!("topic {} read: {} messages", report.topic, report.messages);
    println!("  valid events (distinct ids): {}", report.valid_events);
    println!("  duplicate deliveries:        {}", report.duplicate_deliveries);
    println!("  invalid messages:            {}", report.invalid_messages);
    println!("database:");
    println!("  processed_events rows:       {}", report.processed_events_rows);
    println!("  orders rows:                 {}", report.orders_rows);
    let total_lag: i64 = report.lag_by_partition.values().sum();
    println!("group {} lag: {total_lag}", report.group);
    if report.violations.is_empty() {
        println!("violations: 0");
        return Ok(());
    }
    let count: usize = report.violations.values().map(Vec::len).sum();
    println!("violations: {count}");
    for (kind, ids) in &report.violations {
        let shown: Vec<&str> = ids.iter().take(IDS_SHOWN).map(String::as_str).collect();
        let more = ids.len().saturating_sub(IDS_SHOWN);
        let suffix = if more > 0 { format!(" and {more} more") } else { String::new() };
        println!("  {kind} ({}): {}{suffix}", ids.len(), shown.join(", "));
    }
    Ok(())
}
