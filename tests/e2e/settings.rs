use std::process::Output;
use std::time::Duration;

use orderflow_tests::TestContext;

async fn processor_output(context: &TestContext, args: &[&str], database_url: &str) -> Output {
    let binary = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("order-processor");
    let run = tokio::process::Command::new(binary)
        .args(args)
        .env("ORDERFLOW_DATABASE_URL", database_url)
        .env("ORDERFLOW_TOPIC", &context.topic)
        .env("ORDERFLOW_METRICS_ADDRESS", "127.0.0.1:0")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(90), run).await.expect("processor did not exit").expect("spawn")
}

fn assert_clear_failure(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exit status {}; stderr: {stderr}", output.status);
    assert!(stderr.contains(expected), "stderr lacks {expected:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[tokio::test]
async fn unreachable_broker_fails_clearly() {
    let context = TestContext::new("bad_broker", 1).await;
    let output = processor_output(&context, &["--brokers", "127.0.0.1:1"], &context.database_url_text).await;
    assert_clear_failure(&output, "127.0.0.1:1");
}

#[tokio::test]
async fn wrong_database_url_fails_clearly() {
    let context = TestContext::new("bad_database", 1).await;
    let (server, _) = context.database_url_text.rsplit_once('/').unwrap();
    let wrong = format!("{server}/no_such_database");
    let output = processor_output(&context, &[], &wrong).await;
    assert_clear_failure(&output, "no_such_database");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let password = context.database_url.config().get_password().map(|p| String::from_utf8_lossy(p).into_owned());
    if let Some(password) = password {
        assert!(!stderr.contains(&format!(":{password}@")), "password leaked: {stderr}");
    }
}

#[tokio::test]
async fn zero_batch_size_is_rejected() {
    let context = TestContext::new("bad_batch", 1).await;
    let output = processor_output(&context, &["--batch-max-size", "0"], &context.database_url_text).await;
    assert_clear_failure(&output, "--batch-max-size");
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn malformed_database_url_is_rejected() {
    let context = TestContext::new("bad_url", 1).await;
    let output = processor_output(&context, &[], "postgres://user@host:notaport/db").await;
    assert_clear_failure(&output, "database URL is invalid");
}
