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
    let rejected = processor.metric("orderflow_processor_events_rejected_total{reason=\"malformed_json\"}").await
        + processor.metric("orderflow_processor_events_rejected_total{reason=\"invalid_order\"}").await
        + processor.metric("orderflow_processor_events_rejected_total{reason=\"unsupported_version\"}").await;
    assert_eq!(rejected, 30.0);
    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");
    assert_eq!(report["invalid_messages"], 30);
}
