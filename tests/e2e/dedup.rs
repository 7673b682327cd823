use std::time::Duration;

use orderflow_tests::TestContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_stored_once() {
    let context = TestContext::new("dedup", 6).await;
    let summary = context.orderctl().produce(10_000, 11, 0.2, 0.0).await;
    assert_eq!(summary["orders"], 10_000);
    assert_eq!(summary["duplicates"], 2_000);

    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(180)).await;

    assert_eq!(context.count("orders").await, 10_000);
    assert_eq!(context.count("processed_events").await, 10_000);
    for (partition, (committed, high)) in context.committed_and_high(&context.group) {
        assert!(high > 0, "partition {partition} received no message");
        assert_eq!(committed, Some(high), "partition {partition} committed offset");
    }
    assert_eq!(processor.metric("orderflow_processor_events_applied_total").await, 10_000.0);
    assert_eq!(processor.metric("orderflow_processor_duplicates_suppressed_total").await, 2_000.0);
    assert_eq!(processor.metric("orderflow_processor_events_consumed_total").await, 12_000.0);

    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");
    assert_eq!(report["valid_events"], 10_000);
    assert_eq!(report["duplicate_deliveries"], 2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_skipped() {
    let context = TestContext::new("malformed", 3).await;
    let summary = context.orderctl().produce(600, 12, 0.0, 0.05).await;
    assert_eq!(summary["malformed"], 30);

    let mut processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    assert!(processor.is_running(), "processor exited; log: {}", processor.log_path.display());
    assert_eq!(context.count("orders").await, 600);
    // 5 of each of the six kinds: truncated JSON and invalid UTF-8 and a JSON array are
    // malformed, a wrong total and a NUL are invalid, version 99 is unsupported.
    let dead_lettered = |reason: &str| format!("orderflow_processor_events_dead_lettered_total{{reason=\"{reason}\"}}");
    assert_eq!(processor.metric(&dead_lettered("malformed_json")).await, 15.0);
    assert_eq!(processor.metric(&dead_lettered("invalid_order")).await, 10.0);
    assert_eq!(processor.metric(&dead_lettered("unsupported_version")).await, 5.0);
    assert_eq!(context.read_records(&context.dead_letter_topic()).len(), 30);
    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");
    assert_eq!(report["invalid_messages"], 30);
}
