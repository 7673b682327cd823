use std::time::{Duration, Instant};

use orderflow_tests::{http_get, order_message, sample_order, TestContext};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_character_is_dead_lettered() {
    let context = TestContext::new("nul_name", 1).await;
    let mut order = sample_order(7);
    order.customer.name = "Ann\u{0}Lee".to_owned();
    let (key, value) = order_message(&order);
    let text = String::from_utf8(value.clone()).unwrap();
    assert!(text.contains("Ann\\u0000Lee"), "the JSON must carry the escape: {text}");
    context.send_raw(&[(key, value.clone()), order_message(&sample_order(8))]).await;

    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    assert_eq!(context.count("orders").await, 1);
    let letters = context.read_records(&context.dead_letter_topic());
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].value.as_deref(), Some(value.as_slice()));
    assert_eq!(letters[0].header_text("orderflow_dlt-reason"), "invalid_order");
    assert!(letters[0].header_text("kafka_dlt-exception-message").contains("U+0000"));
    let retries = processor.metric("orderflow_processor_transaction_retries_total{cause=\"other\"}").await;
    assert_eq!(retries, 0.0, "a NUL must never cause a retry loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_dead_letter_topic_pauses_partition() {
    let context = TestContext::new("dlt_unwritable", 2).await;
    let mut processor = context.spawn_processor("processor", &[]);
    processor.wait_ready().await;

    // Without the topic (and with auto-creation off) every dead-letter write fails.
    let admin: AdminClient<DefaultClientContext> = orderflow::kafka::base_config(&context.brokers).create().unwrap();
    let dead_letter_topic = context.dead_letter_topic();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(30)));
    admin.delete_topics(&[&dead_letter_topic], &options).await.unwrap()[0].as_ref().unwrap();

    let poison = (b"poison".to_vec(), b"{not json".to_vec());
    context.send_to_partition(0, &[poison.clone(), order_message(&sample_order(1))]).await;
    let others: Vec<_> = (2..=11).map(|n| order_message(&sample_order(n))).collect();
    context.send_to_partition(1, &others).await;

    // Partition 1 goes on while partition 0 waits at its poison message.
    let started = Instant::now();
    loop {
        let offsets = context.committed_and_high(&context.group);
        let failures = processor.metric("orderflow_processor_dead_letter_publish_failures_total").await;
        if offsets[&1] == (Some(10), 10) && failures >= 2.0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "offsets {offsets:?}, failed writes {failures}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (committed, high) = context.committed_and_high(&context.group)[&0];
    assert_eq!(high, 2);
    assert!(committed.unwrap_or(0) == 0, "the poison's offset was committed without its dead letter: {committed:?}");
    assert_eq!(processor.metric("orderflow_processor_paused_partitions").await, 1.0);
    let (status, body) = http_get(processor.metrics_port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("paused"), "{body}");
    assert_eq!(http_get(processor.metrics_port, "/healthz").await.0, 200);
    assert!(processor.is_running());

    let topic = NewTopic::new(&dead_letter_topic, 2, TopicReplication::Fixed(1));
    admin.create_topics([&topic], &options).await.unwrap()[0].as_ref().unwrap();
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    let letters = context.read_records(&dead_letter_topic);
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].value.as_deref(), Some(poison.1.as_slice()));
    assert_eq!(context.count("orders").await, 11);
    assert_eq!(processor.metric("orderflow_processor_paused_partitions").await, 0.0);
}
