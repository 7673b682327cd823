use std::collections::{HashMap, HashSet};
use std::time::Duration;

use orderflow_tests::{cases_dir, order_message, sample_order, StoredRecord, TestContext};

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
    let mut notifier = context.spawn_notifier("notifier", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    assert!(processor.is_running(), "processor exited; log: {}", processor.log_path.display());
    assert_eq!(context.count("orders").await, 319);
    let mut dead_lettered = 0.0;
    for reason in ["malformed_json", "unknown_event_type", "unsupported_version", "invalid_order", "rejected_by_database"] {
        dead_lettered += processor.metric(&format!("orderflow_processor_events_dead_lettered_total{{reason=\"{reason}\"}}")).await;
    }
    assert_eq!(dead_lettered, 318.0);
    assert_eq!(processor.metric("orderflow_processor_events_applied_total").await, 319.0);
    for (partition, (committed, high)) in context.committed_and_high(&context.group) {
        assert_eq!(committed, Some(high), "partition {partition} stalled");
    }

    // Every file lands on the dead-letter topic exactly once, unchanged, with its origin.
    let sources: HashMap<(i32, i64), StoredRecord> =
        context.read_records(&context.topic).into_iter().map(|record| ((record.partition, record.offset), record)).collect();
    let dead_letters = context.read_records(&context.dead_letter_topic());
    assert_eq!(dead_letters.len(), 318);
    let mut origins = HashSet::new();
    for letter in &dead_letters {
        assert_eq!(letter.header_text("kafka_dlt-original-topic"), context.topic);
        assert_eq!(letter.header_text("kafka_dlt-original-consumer-group"), context.group);
        let partition = i32::from_be_bytes(letter.headers["kafka_dlt-original-partition"].clone().try_into().expect("4 bytes"));
        let offset = i64::from_be_bytes(letter.headers["kafka_dlt-original-offset"].clone().try_into().expect("8 bytes"));
        assert!(origins.insert((partition, offset)), "{partition}/{offset} dead-lettered twice");
        let source = &sources[&(partition, offset)];
        assert_eq!(letter.value, source.value, "bytes of {partition}/{offset} changed");
        assert_eq!(letter.key, source.key);
        let reason = letter.header_text("orderflow_dlt-reason");
        assert!(["malformed_json", "unknown_event_type", "invalid_order"].contains(&reason.as_str()), "reason {reason}");
        assert!(!letter.header_text("kafka_dlt-exception-message").is_empty());
        assert_eq!(letter.header_text("orderflow_dlt-attempts"), "1");
    }

    // The notifier turns every dead letter into a failure notice, and survives them all.
    context.wait_caught_up_on(&context.dead_letter_topic(), &context.notifier_group(), Duration::from_secs(120)).await;
    assert!(notifier.is_running(), "notifier exited; log: {}", notifier.log_path.display());
    let notices: i64 = context
        .client
        .query_one("SELECT count(*) FROM notifications WHERE kind = 'order_failed'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(notices, 318);
}
