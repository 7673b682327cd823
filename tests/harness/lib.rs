//! Helpers for the end-to-end tests: a fresh topic, consumer group and database per test, the
//! real binaries started as child processes, and reads of committed offsets and rows.
//!
//! The tests need the broker and PostgreSQL that `scripts/kafka up` and `scripts/postgres up`
//! start; `ORDERFLOW_TEST_BROKERS` and `ORDERFLOW_TEST_DATABASE_URL` point them elsewhere.

mod processes;
mod proxy;
mod webhook;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use orderflow::settings::{Brokers, DatabaseUrl, DEFAULT_BROKERS, DEFAULT_DATABASE_URL};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_postgres::NoTls;

pub use processes::{http_get, scrape_metric, Orderctl, RunningService};
pub use proxy::OutageProxy;
pub use webhook::{WebhookReceiver, WebhookRequest};

/// Everything one test owns: names are unique, so tests can run in parallel.
pub struct TestContext {
    pub name: String,
    pub brokers: Brokers,
    pub topic: String,
    pub group: String,
    pub database_url: DatabaseUrl,
    /// The same URL with its password, for child processes.
    pub database_url_text: String,
    pub client: tokio_postgres::Client,
}

impl TestContext {
    /// Creates a database and a topic with `partitions` partitions named after `test`.
    pub async fn new(test: &str, partitions: i32) -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("t_{test}_{}", &suffix[..8]);
        let brokers: Brokers = env_or("ORDERFLOW_TEST_BROKERS", DEFAULT_BROKERS).parse().expect("valid test brokers");
        let admin_url_text = env_or("ORDERFLOW_TEST_DATABASE_URL", DEFAULT_DATABASE_URL);
        let admin_url: DatabaseUrl = admin_url_text.parse().expect("valid test database URL");
        let (server, _) = admin_url_text.rsplit_once('/').expect("the test database URL ends in /DATABASE");
        let database_url_text = format!("{server}/{name}");

        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error:?}"));
        let database_url = admin_url.with_database(&name);
        let client = connect(&database_url).await;

        let topic = format!("orders-{name}");
        orderflow::kafka::ensure_topic(&brokers, &topic, partitions)
            .await
            .unwrap_or_else(|error| panic!("failed to create topic {topic}: {error:#}"));

        Self { group: format!("processor-{name}"), name, brokers, topic, database_url, database_url_text, client }
    }


    /// Starts an order processor on this test's topic, group and database.
    pub fn spawn_processor(&self, label: &str, extra_args: &[&str]) -> RunningService {
        let group = self.group.clone();
        self.spawn_processor_in_group(label, &group, extra_args)
    }

    pub fn spawn_processor_in_group(&self, label: &str, group: &str, extra_args: &[&str]) -> RunningService {
        RunningService::spawn_processor(self, label, group, extra_args)
    }

    /// Starts a notifier on this test's events and dead-letter topics, in group `notifier-NAME`.
    pub fn spawn_notifier(&self, label: &str, extra_args: &[&str]) -> RunningService {
        RunningService::spawn_notifier(self, label, extra_args)
    }

    /// Starts the order API; its base URL is `http://127.0.0.1:{metrics_port}`.
    pub fn spawn_api(&self, label: &str, extra_args: &[&str]) -> RunningService {
        RunningService::spawn_api(self, label, extra_args)
    }

    /// Creates an API client in this test's database and returns its key.
    pub async fn create_api_client(&self, name: &str) -> String {
        let output = self.orderctl().run(&["client", "create", "--name", name, "--quiet"]).await;
        processes::assert_success(&output, "orderctl client create");
        String::from_utf8(output.stdout).expect("UTF-8 key").trim().to_owned()
    }

    pub fn notifier_group(&self) -> String {
        format!("notifier-{}", self.name)
    }

    /// Waits until `group` has committed up to the end of every partition of `topic`.
    pub async fn wait_caught_up_on(&self, topic: &str, group: &str, timeout: Duration) {
        let started = Instant::now();
        loop {
            let lag = orderflow::kafka::group_lag(&self.brokers, group, topic).expect("lag");
            if lag.values().all(|lag| *lag == 0) {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "group {group} still lags on {topic} after {timeout:?}: {lag:?}; the services' logs are in {}",
                workspace_root().join("target/test-logs").display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn orderctl(&self) -> Orderctl<'_> {
        Orderctl { context: self }
    }

    /// Sends raw key and value bytes and waits for the broker's acknowledgement of each.
    pub async fn send_raw(&self, messages: &[(Vec<u8>, Vec<u8>)]) {
        let producer: FutureProducer = orderflow::kafka::idempotent_producer_config(&self.brokers)
            .create()
            .expect("producer");
        for (key, value) in messages {
            producer
                .send(FutureRecord::to(&self.topic).key(key).payload(value), Duration::from_secs(30))
                .await
                .unwrap_or_else(|(error, _)| panic!("failed to send to {}: {error}", self.topic));
        }
    }

    /// Sends raw key and value bytes to one partition of the test's topic.
    pub async fn send_to_partition(&self, partition: i32, messages: &[(Vec<u8>, Vec<u8>)]) {
        let producer: FutureProducer = orderflow::kafka::idempotent_producer_config(&self.brokers).create().expect("producer");
        for (key, value) in messages {
            producer
                .send(FutureRecord::to(&self.topic).partition(partition).key(key).payload(value), Duration::from_secs(30))
                .await
                .unwrap_or_else(|(error, _)| panic!("failed to send to {}/{partition}: {error}", self.topic));
        }
    }

    /// Waits until `group` has committed up to the high watermark of every partition of the
    /// test's topic.
    pub async fn wait_caught_up(&self, group: &str, timeout: Duration) {
        self.wait_caught_up_on(&self.topic.clone(), group, timeout).await;
    }

    pub fn lag(&self, group: &str) -> BTreeMap<i32, i64> {
        orderflow::kafka::group_lag(&self.brokers, group, &self.topic).expect("lag")
    }

    /// Committed offsets of `group` next to the high watermarks, per partition.
    pub fn committed_and_high(&self, group: &str) -> BTreeMap<i32, (Option<i64>, i64)> {
        let marks = orderflow::kafka::watermarks(&self.brokers, &self.topic).expect("watermarks");
        let committed = orderflow::kafka::committed_offsets(&self.brokers, group, &self.topic).expect("committed offsets");
        marks
            .iter()
            .map(|(partition, mark)| (*partition, (committed.get(partition).copied().flatten(), mark.high)))
            .collect()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count")
            .get(0)
    }

    /// Returns an md5 over every row of the processor's tables in key order. Equal checksums mean
    /// the tables are byte for byte the same, timestamps included.
    pub async fn tables_checksum(&self) -> String {
        let row = self
            .client
            .query_one(
                "SELECT md5(
                    coalesce((SELECT string_agg(p::text, '|' ORDER BY event_id) FROM processed_events p), '') || '#' ||
                    coalesce((SELECT string_agg(o::text, '|' ORDER BY order_id) FROM orders o), '') || '#' ||
                    coalesce((SELECT string_agg(l::text, '|' ORDER BY order_id, line_number) FROM order_lines l), '') || '#' ||
                    coalesce((SELECT string_agg(d::text, '|' ORDER BY topic, \"partition\", \"offset\") FROM dead_letters d), ''))",
                &[],
            )
            .await
            .expect("checksum");
        row.get(0)
    }
}

/// One record read back from a topic, with its headers by name.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: BTreeMap<String, Vec<u8>>,
}

impl StoredRecord {
    /// Returns a header as text, panicking with the record's position when it is missing.
    pub fn header_text(&self, name: &str) -> String {
        let bytes = self.headers.get(name).unwrap_or_else(|| panic!("record {}/{} has no header {name}", self.partition, self.offset));
        String::from_utf8(bytes.clone()).expect("UTF-8 header")
    }
}

impl TestContext {
    /// This test's topic of OrderConfirmed events, which the processor's outbox relay fills.
    pub fn events_topic(&self) -> String {
        format!("{}.events", self.topic)
    }

    pub fn dead_letter_topic(&self) -> String {
        format!("{}.dlt", self.topic)
    }

    /// Reads every record of `topic` up to its current end.
    pub fn read_records(&self, topic: &str) -> Vec<StoredRecord> {
        use rdkafka::message::{Headers, Message};
        let mut records = Vec::new();
        orderflow::kafka::read_topic(&self.brokers, topic, |message| {
            let headers = message
                .headers()
                .map(|headers| {
                    headers.iter().map(|header| (header.key.to_owned(), header.value.unwrap_or_default().to_vec())).collect()
                })
                .unwrap_or_default();
            records.push(StoredRecord {
                partition: message.partition(),
                offset: message.offset(),
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().map(<[u8]>::to_vec),
                headers,
            });
        })
        .unwrap_or_else(|error| panic!("failed to read {topic}: {error:#}"));
        records
    }
}

/// Directory of the test inputs written by others (JSONTestSuite, naughty strings).
pub fn cases_dir() -> PathBuf {
    match std::env::var_os("ORDERFLOW_CASES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/cases"),
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn connect(url: &DatabaseUrl) -> tokio_postgres::Client {
    let (client, connection) = url
        .config()
        .connect(NoTls)
        .await
        .unwrap_or_else(|error| panic!("failed to connect to {url}: {error}; is PostgreSQL up (scripts/postgres up)?"));
    tokio::spawn(connection);
    client
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Builds a valid order with ids derived from `n`, for tests that build messages by hand.
pub fn sample_order(n: u128) -> orderflow::events::OrderPlaced {
    use orderflow::events::{Customer, OrderLine, OrderPlaced, ORDER_PLACED_TYPE, ORDER_PLACED_VERSION};
    OrderPlaced {
        event_type: ORDER_PLACED_TYPE.to_owned(),
        version: ORDER_PLACED_VERSION,
        event_id: uuid::Uuid::from_u128(n),
        order_id: uuid::Uuid::from_u128(n | (1 << 100)),
        customer: Customer { id: format!("cus_{n}"), email: format!("c{n}@example.com"), name: format!("Customer {n}") },
        lines: vec![OrderLine { sku: "SKU-1".to_owned(), quantity: 2, unit_price_minor: 150 }],
        currency: "EUR".to_owned(),
        total_minor: 300,
        placed_at: "2026-12-04T10:00:00Z".parse().expect("valid time"),
        delivery_note: None,
    }
}

/// Key and value of `order` as the producer sends them.
pub fn order_message(order: &orderflow::events::OrderPlaced) -> (Vec<u8>, Vec<u8>) {
    (order.order_id.to_string().into_bytes(), serde_json::to_vec(order).expect("serializes"))
}
