use std::time::Duration;

use orderflow_tests::TestContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_replay_changes_nothing() {
    let context = TestContext::new("replay", 6).await;
    let summary = context.orderctl().produce(5_000, 31, 0.1, 0.01).await;
    let messages = summary["messages"].as_u64().unwrap();
    let malformed = summary["malformed"].as_u64().unwrap();

    let first = context.spawn_processor("first", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;
    let checksum_before = context.tables_checksum().await;
    assert!(first.terminate().await.success(), "processor did not exit cleanly on SIGTERM");

    let output = context.orderctl().run(&["replay", "--to-earliest", "--execute"]).await;
    assert!(output.status.success(), "replay failed: {}", String::from_utf8_lossy(&output.stderr));
    for (partition, (committed, _)) in context.committed_and_high(&context.group) {
        assert_eq!(committed, Some(0), "partition {partition} was not reset");
    }

    let second = context.spawn_processor("second", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    assert_eq!(context.tables_checksum().await, checksum_before);
    assert_eq!(second.metric("orderflow_processor_events_applied_total").await, 0.0);
    let suppressed = second.metric("orderflow_processor_duplicates_suppressed_total").await;
    assert_eq!(suppressed as u64, messages - malformed, "every valid message is read again and suppressed");
    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");

    // The replay meets every malformed message again but dead-letters none of them twice.
    assert_eq!(context.read_records(&context.dead_letter_topic()).len() as u64, malformed);
    assert_eq!(second.metric("orderflow_processor_dead_letters_suppressed_total").await as u64, malformed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_refuses_active_group() {
    let context = TestContext::new("replay_active", 2).await;
    context.orderctl().produce(50, 32, 0.0, 0.0).await;
    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    let output = context.orderctl().run(&["replay", "--to-earliest", "--execute"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("active members"), "stderr: {stderr}");

    // A dry run still shows the plan, with the warning.
    let output = context.orderctl().run(&["replay", "--to-earliest"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("warning: consumer group"), "stdout: {stdout}");
    assert!(stdout.contains("dry run"), "stdout: {stdout}");
    for (partition, (committed, high)) in context.committed_and_high(&context.group) {
        assert_eq!(committed, Some(high), "partition {partition} offset moved");
    }
    processor.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_dry_run_commits_nothing() {
    let context = TestContext::new("replay_dry", 2).await;
    context.orderctl().produce(40, 33, 0.0, 0.0).await;
    let processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    processor.terminate().await;
    let before = context.committed_and_high(&context.group);

    let output = context.orderctl().run(&["replay", "--shift-by", "-5"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("dry run"), "stdout: {stdout}");
    assert_eq!(context.committed_and_high(&context.group), before);

    let output = context.orderctl().run(&["replay", "--shift-by", "-5", "--execute"]).await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    for (partition, (committed, high)) in context.committed_and_high(&context.group) {
        assert_eq!(committed, Some((high - 5).max(0)), "partition {partition}");
    }
}
