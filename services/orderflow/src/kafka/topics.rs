//! Creating topics with explicit partition counts; the broker's auto-creation stays off.

use std::time::Duration;

use anyhow::{bail, Context};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::client_config::base_config;
use crate::settings::Brokers;

/// Time that start-up waits for the brokers to respond before it reports them unreachable.
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(15);

/// Checks that the brokers respond to a metadata request, with an error that names them.
pub fn check_brokers(brokers: &Brokers) -> anyhow::Result<()> {
    let consumer: BaseConsumer = base_config(brokers)
        .create()
        .context("failed to create a Kafka client")?;
    consumer.fetch_metadata(None, BROKER_TIMEOUT).with_context(|| {
        format!(
            "Kafka brokers at {brokers} did not answer within {} s; check --brokers (ORDERFLOW_BROKERS) and that the broker is running (scripts/kafka up)",
            BROKER_TIMEOUT.as_secs()
        )
    })?;
    Ok(())
}

/// Creates the topic with `partitions` partitions unless it exists, and returns its real
/// partition count. An existing topic keeps its partitions; fewer than asked is logged.
pub async fn ensure_topic(brokers: &Brokers, topic: &str, partitions: i32) -> anyhow::Result<i32> {
    check_brokers(brokers)?;

    let admin: AdminClient<DefaultClientContext> = base_config(brokers)
        .create()
        .context("failed to create a Kafka admin client")?;
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().request_timeout(Some(BROKER_TIMEOUT));
    let results = admin
        .create_topics([&new_topic], &options)
        .await
        .with_context(|| format!("failed to create topic {topic} on {brokers}"))?;
    for result in results {
        match result {
            Ok(name) => tracing::info!(topic = %name, partitions, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => bail!("failed to create topic {name} on {brokers}: {code}"),
        }
    }

    let existing = wait_for_topic(brokers, topic)?;
    if existing < partitions {
        tracing::warn!(topic, existing, requested = partitions, "topic exists with fewer partitions than requested");
    }
    Ok(existing)
}

/// How long a newly created topic may take to appear in the brokers' metadata.
const NEW_TOPIC_TIMEOUT: Duration = Duration::from_secs(15);

/// Returns the partition count of a topic that was just created. The controller accepts the
/// creation before every broker's metadata lists the topic, so the lookup is retried for a while.
fn wait_for_topic(brokers: &Brokers, topic: &str) -> anyhow::Result<i32> {
    let started = std::time::Instant::now();
    loop {
        match partition_count(brokers, topic) {
            Ok(count) if count > 0 => return Ok(count),
            Ok(_) | Err(_) if started.elapsed() < NEW_TOPIC_TIMEOUT => std::thread::sleep(Duration::from_millis(100)),
            Ok(_) => bail!("topic {topic} still has no partitions on {brokers} after {} s", NEW_TOPIC_TIMEOUT.as_secs()),
            Err(error) => return Err(error),
        }
    }
}

/// Number of partitions of an existing topic.
pub fn partition_count(brokers: &Brokers, topic: &str) -> anyhow::Result<i32> {
    let consumer: BaseConsumer = base_config(brokers).create().context("failed to create a Kafka client")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), BROKER_TIMEOUT)
        .with_context(|| format!("failed to read metadata of topic {topic} from {brokers}"))?;
    let Some(topic_metadata) = metadata.topics().first() else {
        bail!("broker {brokers} returned no metadata for topic {topic}");
    };
    if let Some(error) = topic_metadata.error() {
        bail!("topic {topic} is not available on {brokers}: {:?}", RDKafkaErrorCode::from(error));
    }
    Ok(i32::try_from(topic_metadata.partitions().len()).unwrap_or(i32::MAX))
}
