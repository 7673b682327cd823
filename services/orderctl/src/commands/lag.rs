//! `orderctl lag`: how far a consumer group is behind, optionally waiting until it catches up.

use std::time::{Duration, Instant};

use anyhow::bail;
use orderflow::kafka;
use orderflow::settings::KafkaSettings;

/// Interval between two lag readings while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, clap::Args)]
pub struct LagArgs {
    #[command(flatten)]
    pub kafka: KafkaSettings,

    /// Consumer group to inspect.
    #[arg(long, env = "ORDERFLOW_GROUP", default_value = "order-processor")]
    pub group: String,

    /// Topic to inspect.
    #[arg(long, env = "ORDERFLOW_TOPIC", default_value = "orders")]
    pub topic: String,

    /// Wait up to this many seconds until the lag of every partition is 0, then print it.
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
}

pub async fn run(args: LagArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let lag = loop {
        let lag = kafka::group_lag(&args.kafka.brokers, &args.group, &args.topic)?;
        let caught_up = lag.values().all(|lag| *lag == 0);
        match args.wait {
            Some(seconds) if !caught_up => {
                if started.elapsed() >= Duration::from_secs(seconds) {
                    let total: i64 = lag.values().sum();
                    bail!("group {} still lags by {total} messages on {} after {seconds} s: {lag:?}", args.group, args.topic);
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            _ => break lag,
        }
    };

    let total: i64 = lag.values().sum();
    let per_partition: Vec<String> = lag.iter().map(|(partition, lag)| format!("{partition}:{lag}")).collect();
    println!("group {} on {}: lag {total} (partition:lag {})", args.group, args.topic, per_partition.join(" "));
    Ok(())
}
