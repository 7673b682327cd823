//! The binaries under test, run as child processes with their logs kept under
//! `target/test-logs/`.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::TestContext;

/// Directory of the built binaries: `target/<profile>`, next to the test's `deps/`.
fn binary(name: &str) -> PathBuf {
    let dir = match std::env::var_os("ORDERFLOW_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().expect("test executable path");
            exe.parent().and_then(|deps| deps.parent()).expect("target directory").to_path_buf()
        }
    };
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing; build the workspace first (cargo build --workspace)", path.display());
    path
}

fn log_file(name: &str) -> (File, PathBuf) {
    let dir = crate::workspace_root().join("target/test-logs");
    std::fs::create_dir_all(&dir).expect("log directory");
    let path = dir.join(format!("{name}.log"));
    (File::create(&path).expect("log file"), path)
}

/// Returns a free loopback port. Another process may take it before it is used, which is
/// unlikely enough for tests.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// A service binary (order processor or notifier) running as a child process.
pub struct RunningService {
    child: Child,
    pub metrics_port: u16,
    pub log_path: PathBuf,
}

impl RunningService {
    pub(crate) fn spawn_processor(context: &TestContext, label: &str, group: &str, extra_args: &[&str]) -> Self {
        let mut args = vec!["--topic", &context.topic, "--group", group];
        let events_topic = context.events_topic();
        args.extend(["--events-topic", &events_topic]);
        args.extend(extra_args);
        Self::spawn("order-processor", "--metrics-address", context, label, &args)
    }

    pub(crate) fn spawn_notifier(context: &TestContext, label: &str, extra_args: &[&str]) -> Self {
        let (events_topic, dead_letter_topic) = (context.events_topic(), context.dead_letter_topic());
        let group = format!("notifier-{}", context.name);
        let mut args = vec!["--events-topic", &events_topic, "--dead-letter-topic", &dead_letter_topic, "--group", &group];
        args.extend(extra_args);
        Self::spawn("notifier", "--metrics-address", context, label, &args)
    }

    /// Starts the order API on the test's topic; its HTTP port is `metrics_port`.
    pub(crate) fn spawn_api(context: &TestContext, label: &str, extra_args: &[&str]) -> Self {
        let mut args = vec!["--topic", &context.topic];
        args.extend(extra_args);
        Self::spawn("order-api", "--listen-address", context, label, &args)
    }

    fn spawn(binary_name: &str, port_flag: &str, context: &TestContext, label: &str, args: &[&str]) -> Self {
        let metrics_port = free_port();
        let (log, log_path) = log_file(&format!("{}-{label}", context.name));
        let child = Command::new(binary(binary_name))
            .args(["--brokers", context.brokers.as_str()])
            .args([port_flag, &format!("127.0.0.1:{metrics_port}")])
            .args(args)
            .env("ORDERFLOW_DATABASE_URL", context.database_url_text.clone())
            .env("RUST_LOG", "info,orderflow=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("failed to start {binary_name}: {error}"));
        Self { child, metrics_port, log_path }
    }

    /// Waits until the metrics endpoint accepts connections, which happens after the migrations
    /// ran and the topic exists.
    pub async fn wait_ready(&mut self) {
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).await.is_err() {
            assert!(self.is_running(), "service exited during start-up; log: {}", self.log_path.display());
            assert!(started.elapsed() < Duration::from_secs(60), "service not ready after 60 s; log: {}", self.log_path.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGKILL and reaps the process: a crash with no chance to clean up.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().expect("running child has a pid");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill -TERM");
        assert!(status.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("service did not stop within 60 s of SIGTERM")
            .expect("wait")
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Returns the value of one unlabelled metric, or of the labelled series `name{labels}`.
    pub async fn metric(&self, series: &str) -> f64 {
        scrape_metric(self.metrics_port, series).await
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// Sends `GET path` over plain HTTP/1.0 to a loopback port and returns the status code and body.
pub async fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response");
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("HTTP status line");
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// Reads `/metrics` and returns the value of `series`, or 0 when absent.
pub async fn scrape_metric(port: u16, series: &str) -> f64 {
    let (_, body) = http_get(port, "/metrics").await;
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().expect("numeric metric"))
        })
        .unwrap_or(0.0)
}

/// Runs `orderctl` subcommands against a test's topic, group and database.
pub struct Orderctl<'a> {
    pub(crate) context: &'a TestContext,
}

impl Orderctl<'_> {
    /// Runs `orderctl ARGS` with the test's brokers and database in the environment.
    pub async fn run(&self, args: &[&str]) -> Output {
        Command::new(binary("orderctl"))
            .args(args)
            .env("ORDERFLOW_BROKERS", self.context.brokers.as_str())
            .env("ORDERFLOW_DATABASE_URL", self.context.database_url_text.clone())
            .env("ORDERFLOW_TOPIC", &self.context.topic)
            .env("ORDERFLOW_GROUP", &self.context.group)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("failed to run orderctl")
    }

    /// Runs `orderctl produce ... --json` and returns its summary.
    pub async fn produce(&self, count: usize, seed: u64, duplicates: f64, malformed: f64) -> serde_json::Value {
        let output = self
            .run(&[
                "produce",
                "--count",
                &count.to_string(),
                "--seed",
                &seed.to_string(),
                "--duplicates",
                &duplicates.to_string(),
                "--malformed",
                &malformed.to_string(),
                "--json",
            ])
            .await;
        assert_success(&output, "orderctl produce");
        serde_json::from_slice(&output.stdout).expect("produce prints a JSON summary")
    }

    /// Runs `orderctl verify --json` and returns its exit code and report.
    pub async fn verify(&self) -> (i32, serde_json::Value) {
        let output = self.run(&["verify", "--json"]).await;
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!("verify printed no JSON report; stderr: {}", String::from_utf8_lossy(&output.stderr))
        });
        (output.status.code().unwrap_or(-1), report)
    }
}

pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
