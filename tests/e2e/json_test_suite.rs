use std::time::Duration;

use orderflow_tests::{cases_dir, order_message, sample_order, TestContext};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_test_suite_files_never_stall() {
    let dir = cases_dir().join("json-test-suite/test_parsing");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 318, "the JSONTestSuite corpus changed");

    let context = TestContext::new("json_suite", 6).await;
    let mut messages = vec![order_message(&sample_order(0))];
    for (index, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).expect("case file");
        messages.push((format!("poison-{index}").into_bytes(), bytes));
        messages.push(order_message(&sample_order(index as u128 + 1)));
    }
    context.send_raw(&messages).await;

    let mut processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    assert!(processor.is_running(), "processor exited; log: {}", processor.log_path.display());
    assert_eq!(context.count("orders").await, 319);
    let mut rejected = 0.0;
    for reason in ["malformed_json", "unknown_event_type", "unsupported_version", "invalid_order", "rejected_by_database"] {
        rejected += processor.metric(&format!("orderflow_processor_events_rejected_total{{reason=\"{reason}\"}}")).await;
    }
    assert_eq!(rejected, 318.0);
    assert_eq!(processor.metric("orderflow_processor_events_applied_total").await, 319.0);
    for (partition, (committed, high)) in context.committed_and_high(&context.group) {
        assert_eq!(committed, Some(high), "partition {partition} stalled");
    }
}
