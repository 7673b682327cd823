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

#[tokio::test]
async fn wrong_password_is_never_logged() {
    let context = TestContext::new("secret_wrong", 1).await;
    let (server, database) = context.database_url_text.rsplit_once('/').unwrap();
    let (scheme_user, host) = server.rsplit_once('@').unwrap();
    let (scheme_and_user, _) = scheme_user.rsplit_once(':').unwrap();
    let wrong = format!("{scheme_and_user}:s3cret-P4ss@{host}/{database}");
    let output = processor_output(&context, &["--log-format", "json"], &wrong).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(!stderr.contains("s3cret-P4ss"), "password leaked: {stderr}");
    assert!(stderr.contains(":***@"), "the URL is shown redacted: {stderr}");
    for line in stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_hide_password() {
    let context = TestContext::new("secret_json", 1).await;
    context.send_raw(&[orderflow_tests::order_message(&orderflow_tests::sample_order(1))]).await;
    let processor = context.spawn_processor("processor", &["--log-format", "json"]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;

    let log = processor.log();
    assert!(log.lines().count() > 3, "too few log lines: {log}");
    for line in log.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(event.get("level").is_some(), "{line}");
    }
    let password = context.database_url.config().get_password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap();
    assert!(!log.contains(&format!(":{password}@")), "password leaked into the log");
    assert!(log.contains("\"event_id\""), "per-event debug lines carry the event id");
}
