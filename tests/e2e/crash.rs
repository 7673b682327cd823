use std::time::{Duration, Instant};

use orderflow_tests::TestContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing() {
    let context = TestContext::new("crash", 6).await;
    context.orderctl().produce(20_000, 21, 0.1, 0.0).await;

    // Small batches without linger make the first run slow enough to be killed mid-stream.
    let mut first = context.spawn_processor("first", &["--batch-max-size", "10", "--batch-linger-ms", "0"]);
    first.wait_ready().await;
    let started = Instant::now();
    loop {
        let stored = context.count("orders").await;
        if stored >= 2_000 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "only {stored} orders after 120 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().await;
    let stored_at_kill = context.count("orders").await;
    assert!(stored_at_kill < 20_000, "the processor finished before it was killed");

    let _second = context.spawn_processor("second", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(180)).await;

    assert_eq!(context.count("orders").await, 20_000);
    assert_eq!(context.count("processed_events").await, 20_000);
    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");
}
