use std::time::Duration;

use orderflow_tests::{order_message, sample_order, TestContext};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_after_fix_applies_once() {
    let context = TestContext::new("redrive", 1).await;
    let first = sample_order(1);
    let mut conflicting = sample_order(2);
    conflicting.order_id = first.order_id;
    let poison = (b"poison".to_vec(), b"not json at all".to_vec());
    context.send_raw(&[order_message(&first), order_message(&conflicting), poison]).await;

    let processor = context.spawn_processor("first", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    assert_eq!(context.count("orders").await, 1);
    let letters = context.read_records(&context.dead_letter_topic());
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].header_text("orderflow_dlt-reason"), "rejected_by_database");
    assert_eq!(letters[1].header_text("orderflow_dlt-reason"), "malformed_json");

    // The operator removes the order that took the id, then redrives the database rejects.
    context
        .client
        .batch_execute(&format!(
            "DELETE FROM order_lines WHERE order_id = '{id}'; DELETE FROM orders WHERE order_id = '{id}';",
            id = first.order_id
        ))
        .await
        .unwrap();
    let dlt = context.dead_letter_topic();
    let redrive = ["dlt", "redrive", "--dead-letter-topic", &dlt, "--reason", "rejected_by_database", "--execute"];
    let output = context.orderctl().run(&redrive).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    let stored_event: uuid::Uuid = context.client.query_one("SELECT event_id FROM orders", &[]).await.unwrap().get(0);
    assert_eq!(stored_event, conflicting.event_id);
    let checksum = context.tables_checksum().await;

    // A second redrive republishes the same event id, which the processor suppresses.
    let output = context.orderctl().run(&redrive).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    assert_eq!(context.tables_checksum().await, checksum);
    assert_eq!(processor.metric("orderflow_processor_duplicates_suppressed_total").await, 1.0);

    // A record that still fails returns to the dead-letter topic with its attempt count raised.
    let redrive_poison = ["dlt", "redrive", "--dead-letter-topic", &dlt, "--reason", "malformed_json", "--execute"];
    let output = context.orderctl().run(&redrive_poison).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    let letters = context.read_records(&dlt);
    assert_eq!(letters.len(), 3);
    assert_eq!(letters[2].value.as_deref(), Some(&b"not json at all"[..]));
    assert_eq!(letters[2].header_text("orderflow_dlt-attempts"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_dry_run_publishes_nothing() {
    let context = TestContext::new("redrive_dry", 1).await;
    context.send_raw(&[(b"k".to_vec(), b"[1,2]".to_vec())]).await;
    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    let dlt = context.dead_letter_topic();
    let output = context.orderctl().run(&["dlt", "redrive", "--dead-letter-topic", &dlt]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("dry run: 1 dead letters selected"), "{stdout}");
    assert_eq!(context.committed_and_high(&context.group)[&0], (Some(1), 1), "nothing was published to the source");

    let output = context.orderctl().run(&["dlt", "list", "--dead-letter-topic", &dlt, "--json"]).await;
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON list");
    assert_eq!(listed[0]["reason"], "malformed_json");
    assert_eq!(listed[0]["original_topic"], context.topic.as_str());
    assert_eq!(listed[0]["value_text"], "[1,2]");
    processor.terminate().await;
}
