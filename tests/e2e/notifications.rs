use std::collections::HashSet;
use std::time::{Duration, Instant};

use orderflow::events::confirmation_event_id;
use orderflow_tests::{order_message, sample_order, TestContext, WebhookReceiver};

async fn count_where(context: &TestContext, sql: &str) -> i64 {
    context.client.query_one(sql, &[]).await.expect(sql).get(0)
}

async fn wait_for(what: &str, timeout: Duration, mut condition: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < timeout, "{what} did not happen within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_sent_once() {
    let context = TestContext::new("confirmations", 3).await;
    let orders: Vec<_> = (1..=100).map(sample_order).collect();
    let mut messages: Vec<_> = orders.iter().map(order_message).collect();
    messages.extend(orders.iter().take(20).map(order_message));
    context.send_raw(&messages).await;

    let receiver = WebhookReceiver::start().await;
    let _processor = context.spawn_processor("processor", &[]);
    let notifier = context.spawn_notifier("notifier", &["--sink", "webhook", "--webhook-url", &receiver.url]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    wait_for("100 sent notifications", Duration::from_secs(60), async || {
        count_where(&context, "SELECT count(*) FROM notifications WHERE status = 'sent'").await == 100
    })
    .await;
    context.wait_caught_up_on(&context.events_topic(), &context.notifier_group(), Duration::from_secs(60)).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 100);
    let keys: HashSet<String> = requests.iter().map(|r| r.idempotency_key.clone().expect("Idempotency-Key header")).collect();
    let expected: HashSet<String> = orders.iter().map(|o| confirmation_event_id(o.event_id).to_string()).collect();
    assert_eq!(keys, expected);
    assert_eq!(requests[0].body["kind"], "order_confirmed");
    assert_eq!(notifier.metric("orderflow_notifier_notifications_sent_total{channel=\"customer\",kind=\"order_confirmed\"}").await, 100.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_crash_republishes_once() {
    let context = TestContext::new("outbox_crash", 2).await;
    let messages: Vec<_> = (1..=50).map(|n| order_message(&sample_order(n))).collect();
    context.send_raw(&messages).await;

    // The first processor publishes the outbox rows, then dies before it marks them.
    let first = context.spawn_processor("first", &["--outbox-mark-delay-ms", "30000"]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    wait_for("50 published confirmations", Duration::from_secs(60), async || {
        context.read_records(&context.events_topic()).len() == 50
    })
    .await;
    first.kill().await;
    assert_eq!(count_where(&context, "SELECT count(*) FROM outbox WHERE published_at IS NULL").await, 50);

    let _second = context.spawn_processor("second", &[]);
    wait_for("the outbox drained", Duration::from_secs(60), async || {
        count_where(&context, "SELECT count(*) FROM outbox WHERE published_at IS NULL").await == 0
    })
    .await;
    assert_eq!(context.read_records(&context.events_topic()).len(), 100, "every row was published twice");

    let receiver = WebhookReceiver::start().await;
    let notifier = context.spawn_notifier("notifier", &["--sink", "webhook", "--webhook-url", &receiver.url]);
    context.wait_caught_up_on(&context.events_topic(), &context.notifier_group(), Duration::from_secs(60)).await;

    assert_eq!(count_where(&context, "SELECT count(*) FROM notifications WHERE status = 'sent'").await, 50);
    assert_eq!(receiver.requests().len(), 50);
    assert_eq!(notifier.metric("orderflow_notifier_duplicates_suppressed_total").await, 50.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_crash_repeats_same_key() {
    let context = TestContext::new("notifier_crash", 1).await;
    let messages: Vec<_> = (1..=20).map(|n| order_message(&sample_order(n))).collect();
    context.send_raw(&messages).await;
    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    // The first notifier sends a batch, then dies before it records the sends.
    let receiver = WebhookReceiver::start().await;
    let webhook = ["--sink", "webhook", "--webhook-url", receiver.url.as_str()];
    let mut slow_args = webhook.to_vec();
    slow_args.extend(["--record-delay-ms", "30000"]);
    let first = context.spawn_notifier("first", &slow_args);
    wait_for("a first webhook request", Duration::from_secs(60), async || !receiver.requests().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill().await;
    let sent_before_crash = receiver.requests();
    assert!(!sent_before_crash.is_empty());

    let _second = context.spawn_notifier("second", &webhook);
    context.wait_caught_up_on(&context.events_topic(), &context.notifier_group(), Duration::from_secs(60)).await;

    assert_eq!(count_where(&context, "SELECT count(*) FROM notifications").await, 20);
    assert_eq!(count_where(&context, "SELECT count(*) FROM notifications WHERE status = 'sent'").await, 20);
    let requests = receiver.requests();
    assert_eq!(requests.len(), sent_before_crash.len() + 20, "every send whose record was lost is repeated once");
    let keys: HashSet<Option<String>> = requests.iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 20, "the repeats carry the same Idempotency-Key");
    for request in &sent_before_crash {
        assert!(keys.contains(&request.idempotency_key));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_become_notices() {
    let context = TestContext::new("failure_notices", 1).await;
    let mut wrong_total = sample_order(1);
    wrong_total.total_minor += 1;
    context.send_raw(&[order_message(&wrong_total), (b"x".to_vec(), b"\xff\xfe garbage".to_vec())]).await;
    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    // Records on the dead-letter topic that the processor never wrote: any bytes, no headers.
    let producer: rdkafka::producer::FutureProducer = orderflow::kafka::idempotent_producer_config(&context.brokers).create().unwrap();
    let dead_letter_topic = context.dead_letter_topic();
    for value in [&b""[..], b"\x00\x01", b"{\"customer\":{\"email\":\"x@y\"}}"] {
        let record = rdkafka::producer::FutureRecord::<[u8], [u8]>::to(&dead_letter_topic).payload(value);
        producer.send(record, Duration::from_secs(30)).await.unwrap();
    }

    let receiver = WebhookReceiver::start().await;
    let mut notifier = context.spawn_notifier("notifier", &["--sink", "webhook", "--webhook-url", &receiver.url]);
    context.wait_caught_up_on(&context.dead_letter_topic(), &context.notifier_group(), Duration::from_secs(60)).await;

    assert!(notifier.is_running(), "notifier exited; log: {}", notifier.log_path.display());
    assert_eq!(count_where(&context, "SELECT count(*) FROM notifications WHERE kind = 'order_failed'").await, 5);
    let to_customer = count_where(&context, "SELECT count(*) FROM notifications WHERE kind = 'order_failed' AND channel = 'customer'").await;
    assert_eq!(to_customer, 2, "the wrong-total order and the record naming x@y");
    let customer_notice: String = context
        .client
        .query_one("SELECT recipient FROM notifications WHERE kind = 'order_failed' AND channel = 'customer' AND recipient <> 'x@y'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(customer_notice, wrong_total.customer.email);
    assert_eq!(receiver.requests().len(), 5, "one request per dead letter");
}
