use std::time::{Duration, Instant};

use orderflow_tests::{http_get, OutageProxy, TestContext};
use tokio_postgres::config::Host;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_loses_nothing() {
    let context = TestContext::new("db_outage", 3).await;
    let config = context.database_url.config();
    let Some(Host::Tcp(host)) = config.get_hosts().first() else { panic!("the test database is reached over TCP") };
    let upstream = format!("{host}:{}", config.get_ports()[0]).parse().expect("numeric database address");
    let proxy = OutageProxy::start(upstream).await;
    let (_, database) = context.database_url_text.rsplit_once('/').unwrap();
    let through_proxy = format!("postgres://orderflow:orderflow@{}/{database}", proxy.address);

    let summary = context.orderctl().produce(5_000, 71, 0.1, 0.0).await;
    let mut processor = context.spawn_processor(
        "processor",
        &["--database-url", &through_proxy, "--batch-max-size", "20", "--batch-linger-ms", "0"],
    );
    processor.wait_ready().await;
    let started = Instant::now();
    while context.count("orders").await < 500 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress before the outage");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // PostgreSQL is unreachable for the processor for 20 seconds.
    proxy.set_down(true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(processor.metric("orderflow_processor_stalled").await, 1.0);
    let (status, body) = http_get(processor.metrics_port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let stored_during_outage = context.count("orders").await;
    tokio::time::sleep(Duration::from_secs(17)).await;
    assert_eq!(context.count("orders").await, stored_during_outage, "nothing is applied while the database is away");
    proxy.set_down(false);

    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;
    assert_eq!(context.count("orders").await, 5_000);
    assert!(processor.metric("orderflow_processor_transaction_retries_total{cause=\"connection\"}").await > 0.0);
    assert!(context.read_records(&context.dead_letter_topic()).is_empty(), "an outage must never dead-letter");
    assert_eq!(http_get(processor.metrics_port, "/readyz").await.0, 200);
    let (code, report) = context.orderctl().verify().await;
    assert_eq!(code, 0, "verify report: {report}");
    assert_eq!(report["duplicate_deliveries"], summary["duplicates"]);
}
