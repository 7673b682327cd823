//! The record of source positions already written to the dead-letter topic.

use std::collections::HashSet;

/// A source record's position: topic, partition and offset.
pub type Position = (String, i32, i64);

/// Returns which of `positions` are already recorded as dead-lettered.
pub async fn find_recorded(client: &tokio_postgres::Client, positions: &[Position]) -> Result<HashSet<Position>, tokio_postgres::Error> {
    let topics: Vec<&str> = positions.iter().map(|p| p.0.as_str()).collect();
    let partitions: Vec<i32> = positions.iter().map(|p| p.1).collect();
    let offsets: Vec<i64> = positions.iter().map(|p| p.2).collect();
    let rows = client
        .query(
            "SELECT d.topic, d.\"partition\", d.\"offset\"
             FROM dead_letters d
             JOIN unnest($1::text[], $2::int4[], $3::int8[]) AS p(topic, \"partition\", \"offset\")
               ON d.topic = p.topic AND d.\"partition\" = p.\"partition\" AND d.\"offset\" = p.\"offset\"",
            &[&topics, &partitions, &offsets],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect())
}

/// Records one acknowledged dead letter; recording it twice is harmless.
pub async fn record(client: &tokio_postgres::Client, position: &Position, reason: &str, detail: &str) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO dead_letters (topic, \"partition\", \"offset\", reason, detail)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&position.0, &position.1, &position.2, &reason, &detail],
        )
        .await?;
    Ok(())
}
