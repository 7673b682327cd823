use std::time::Duration;

use orderflow::consumer::{BatchApplier, EventOutcome, OriginalRecord, ReceivedEvent, Waiter};
use orderflow::events::decode_order_placed;
use orderflow::metrics::ProcessorMetrics;
use orderflow::settings::DatabaseSettings;
use orderflow_tests::{order_message, sample_order, TestContext};
use rdkafka::Timestamp;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_event_twice_in_one_batch() {
    let context = TestContext::new("twice_in_batch", 1).await;
    let repeated = order_message(&sample_order(1));
    let other = order_message(&sample_order(2));
    context.send_raw(&[repeated.clone(), repeated, other]).await;

    // One partition and a long linger put all three messages into one batch.
    let processor = context.spawn_processor("processor", &["--batch-linger-ms", "2000"]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    assert_eq!(context.count("orders").await, 2);
    assert_eq!(processor.metric("orderflow_processor_duplicates_suppressed_total").await, 1.0);
    assert_eq!(processor.metric("orderflow_processor_batch_size_count").await, 1.0, "expected one batch");
    assert_eq!(context.committed_and_high(&context.group)[&0], (Some(3), 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_race_on_same_events() {
    let context = TestContext::new("race", 6).await;
    let summary = context.orderctl().produce(5_000, 41, 0.2, 0.0).await;
    let messages = summary["messages"].as_f64().unwrap();

    // Two groups each read every message, so every event is offered to both processors at once.
    let group_a = format!("{}-a", context.group);
    let group_b = format!("{}-b", context.group);
    let a = context.spawn_processor_in_group("a", &group_a, &["--batch-max-size", "50"]);
    let b = context.spawn_processor_in_group("b", &group_b, &["--batch-max-size", "50"]);
    context.wait_caught_up(&group_a, Duration::from_secs(180)).await;
    context.wait_caught_up(&group_b, Duration::from_secs(180)).await;

    assert_eq!(context.count("orders").await, 5_000);
    let applied = a.metric("orderflow_processor_events_applied_total").await + b.metric("orderflow_processor_events_applied_total").await;
    let suppressed = a.metric("orderflow_processor_duplicates_suppressed_total").await
        + b.metric("orderflow_processor_duplicates_suppressed_total").await;
    assert_eq!(applied, 5_000.0);
    assert_eq!(applied + suppressed, 2.0 * messages);
    let retries = a.metric("orderflow_processor_transaction_retries_total{cause=\"deadlock\"}").await
        + b.metric("orderflow_processor_transaction_retries_total{cause=\"deadlock\"}").await;
    assert_eq!(retries, 0.0, "ordered inserts must not deadlock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opposite_order_batches_apply_once() {
    let context = TestContext::new("opposite_order", 1).await;
    let settings = DatabaseSettings { database_url: context.database_url.clone(), database_pool_size: 4 };
    let pool = orderflow::database::connect(&settings).await.expect("pool");
    orderflow::database::migrate(&pool).await.expect("migrations");
    let metrics = ProcessorMetrics::register(&prometheus::Registry::new()).expect("metrics");
    let applier = BatchApplier::new(pool, metrics.clone(), Waiter::Sleep, "order-events".to_owned());
    let cancel = CancellationToken::new();

    const ROUNDS: u128 = 20;
    const EVENTS: u128 = 200;
    for round in 0..ROUNDS {
        let forward: Vec<ReceivedEvent> = (0..EVENTS).map(|i| received(round * 1_000 + i, i as i64)).collect();
        let backward: Vec<ReceivedEvent> = (0..EVENTS).rev().map(|i| received(round * 1_000 + i, i as i64)).collect();
        let (first, second) = tokio::join!(applier.apply(&forward, &cancel), applier.apply(&backward, &cancel));
        let (first, second) = (first.expect("not cancelled"), second.expect("not cancelled"));

        let applied = first.iter().chain(&second).filter(|outcome| **outcome == EventOutcome::Applied).count();
        assert_eq!(applied, EVENTS as usize, "round {round}: each event applied by exactly one batch");
        assert!(first.iter().chain(&second).all(|outcome| !matches!(outcome, EventOutcome::Rejected(_))));
    }
    assert_eq!(context.count("orders").await, (ROUNDS * EVENTS) as i64);
    assert_eq!(metrics.transaction_retries.with_label_values(&["deadlock"]).get(), 0);
}

fn received(n: u128, offset: i64) -> ReceivedEvent {
    let (_, value) = order_message(&sample_order(n + 1));
    let original = OriginalRecord { key: None, value: Some(value.clone()), headers: Vec::new(), timestamp: Timestamp::NotAvailable };
    ReceivedEvent { topic: "orders".to_owned(), partition: 0, offset, decoded: decode_order_placed(&value), original }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processors_start_together() {
    // Four processors migrate one new database and create the same two new topics at once.
    let context = TestContext::new("start_together", 4).await;
    let mut processors: Vec<_> = (0..4).map(|n| context.spawn_processor(&format!("p{n}"), &[])).collect();
    for processor in &mut processors {
        processor.wait_ready().await;
    }
    context.orderctl().produce(2_000, 61, 0.1, 0.0).await;
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;

    for processor in &mut processors {
        assert!(processor.is_running(), "a processor exited; log: {}", processor.log_path.display());
    }
    assert_eq!(context.count("orders").await, 2_000);
    let applied: i64 = context.client.query_one("SELECT count(*) FROM refinery_schema_history", &[]).await.unwrap().get(0);
    let files = std::fs::read_dir(orderflow_tests::workspace_root().join("migrations"))
        .expect("migrations folder")
        .filter(|entry| entry.as_ref().is_ok_and(|entry| entry.file_name().to_string_lossy().ends_with(".sql")))
        .count();
    assert_eq!(applied, files as i64, "each migration applied once");
}
