use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use std::time::Duration;

use orderflow_tests::{http_get, order_message, sample_order, workspace_root, RunningService, TestContext};

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run promtool ({error}); install it with scripts/prometheus install"));
    assert!(
        output.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_accepts_config_and_rules() {
    let config = workspace_root().join("config/prometheus");
    promtool(&["check", "config", config.join("prometheus.yml").to_str().unwrap()]);
    promtool(&["check", "config", config.join("prometheus-compose.yml").to_str().unwrap()]);
    promtool(&["check", "rules", config.join("alerts.yml").to_str().unwrap()]);
    promtool(&["test", "rules", config.join("alerts_test.yml").to_str().unwrap()]);
}

/// Names of the series a service exports, with the `_bucket`, `_sum` and `_count` series of
/// each histogram.
async fn exported_names(service: &RunningService) -> HashSet<String> {
    let (_, body) = http_get(service.metrics_port, "/metrics").await;
    let mut names = HashSet::new();
    for line in body.lines() {
        let Some(declaration) = line.strip_prefix("# TYPE ") else { continue };
        let mut parts = declaration.split(' ');
        let (name, kind) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        names.insert(name.to_owned());
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
    }
    names
}

/// Metric names used in a query text: the words that start with `orderflow_`.
fn queried_names(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("orderflow_"))
        .map(str::to_owned)
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_use_real_metrics() {
    // The lag gauges appear once a group has committed and a statistics report has come in.
    let context = TestContext::new("dashboard", 1).await;
    context.send_raw(&[order_message(&sample_order(1))]).await;
    let statistics = ["--statistics-interval-ms", "200"];
    let mut processor = context.spawn_processor("processor", &statistics);
    let mut notifier = context.spawn_notifier("notifier", &statistics);
    processor.wait_ready().await;
    notifier.wait_ready().await;
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    context.wait_caught_up_on(&context.events_topic(), &context.notifier_group(), Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut exported = exported_names(&processor).await;
    exported.extend(exported_names(&notifier).await);

    let dashboard: serde_json::Value =
        serde_json::from_str(&read(&workspace_root().join("config/grafana/dashboards/orderflow.json"))).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6, "throughput, lag, duplicates, dead letters, latency and notifications");
    for panel in panels {
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let names = queried_names(expr);
            assert!(!names.is_empty(), "panel {} queries no orderflow metric: {expr}", panel["title"]);
            for name in names {
                assert!(exported.contains(&name), "panel {} queries {name}, which no service exports", panel["title"]);
            }
        }
    }

    let rules = read(&workspace_root().join("config/prometheus/alerts.yml"));
    let expressions: Vec<&str> = rules.lines().filter_map(|line| line.trim().strip_prefix("expr:")).collect();
    assert_eq!(expressions.len(), 7);
    for expr in expressions {
        for name in queried_names(expr) {
            assert!(exported.contains(&name), "alert rule queries {name}, which no service exports: {expr}");
        }
    }
}
