use std::time::{Duration, Instant};

use orderflow_tests::{http_get, order_message, sample_order, TestContext};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_match_known_workload() {
    let context = TestContext::new("counters", 3).await;
    // 890 orders, round(890 * 0.11236) = 100 duplicates, round(890 * 0.011236) = 10 malformed.
    let summary = context.orderctl().produce(890, 51, 0.11236, 0.011236).await;
    assert_eq!(summary["messages"], 1_000);
    assert_eq!(summary["duplicates"], 100);
    assert_eq!(summary["malformed"], 10);

    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    assert_eq!(processor.metric("orderflow_processor_events_consumed_total").await, 1_000.0);
    assert_eq!(processor.metric("orderflow_processor_events_applied_total").await, 890.0);
    assert_eq!(processor.metric("orderflow_processor_duplicates_suppressed_total").await, 100.0);
    let (_, body) = http_get(processor.metrics_port, "/metrics").await;
    let dead_lettered: f64 = body
        .lines()
        .filter(|line| line.starts_with("orderflow_processor_events_dead_lettered_total{"))
        .map(|line| line.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert_eq!(dead_lettered, 10.0);
    assert_eq!(processor.metric("orderflow_processor_end_to_end_latency_seconds_count").await, 1_000.0);
    assert_eq!(processor.metric("orderflow_build_info{service=\"order-processor\",version=\"0.1.0\"}").await, 1.0);
    assert!(processor.metric("process_resident_memory_bytes").await > 0.0);
    assert!(body.contains("orderflow_database_pool_connections{state=\"idle\"}"), "pool gauges missing");
    assert_eq!(processor.metric("orderflow_consumer_assigned_partitions").await, 3.0);
    assert_eq!(processor.metric("orderflow_processor_stalled").await, 0.0);
    assert_eq!(http_get(processor.metrics_port, "/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_gauge_matches_true_lag() {
    let context = TestContext::new("lag_gauge", 1).await;
    let warm_up: Vec<_> = (1..=5).map(|n| order_message(&sample_order(n))).collect();
    context.send_raw(&warm_up).await;
    let processor = context.spawn_processor("processor", &["--batch-max-size", "1", "--statistics-interval-ms", "500"]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    // A missing dead-letter topic stalls the partition at the poison message, which leaves a
    // backlog that stays put.
    let admin: AdminClient<DefaultClientContext> = orderflow::kafka::base_config(&context.brokers).create().unwrap();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(30)));
    admin.delete_topics(&[&context.dead_letter_topic()], &options).await.unwrap()[0].as_ref().unwrap();
    let mut backlog = vec![(b"poison".to_vec(), b"{".to_vec())];
    backlog.extend((6..=25).map(|n| order_message(&sample_order(n))));
    context.send_raw(&backlog).await;

    let series = format!(
        "orderflow_consumergroup_lag{{consumergroup=\"{}\",partition=\"0\",topic=\"{}\"}}",
        context.group, context.topic
    );
    let started = Instant::now();
    loop {
        let (committed, high) = context.committed_and_high(&context.group)[&0];
        let true_lag = high - committed.expect("offsets were committed before the stall");
        let gauge = processor.metric(&series).await;
        if true_lag == 21 && gauge == true_lag as f64 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "gauge {gauge}, true lag {true_lag}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let stored_series = series.replace("orderflow_consumergroup_lag{", "orderflow_consumergroup_lag_stored{");
    let started = Instant::now();
    while processor.metric(&stored_series).await != 21.0 {
        assert!(started.elapsed() < Duration::from_secs(30), "stored lag {}", processor.metric(&stored_series).await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(processor.metric("orderflow_processor_paused_partitions").await, 1.0);
    let (status, body) = http_get(processor.metrics_port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("paused"), "{body}");
}
