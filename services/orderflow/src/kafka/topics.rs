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

    let existing = partition_count(brokers, topic)?;
    if existing < partitions {
        tracing::warn!(topic, existing, requested = partitions, "topic exists with fewer partitions than requested");
    }
    Ok(existing)
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
