//! The ledger of applied event ids: a row here means the event's effects are committed.

use std::collections::HashSet;

use uuid::Uuid;

/// The source position of an event, stored with its id for audits.
#[derive(Debug, Clone)]
pub struct EventSource<'a> {
    pub event_id: Uuid,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

/// Inserts the ids that are not yet recorded and returns those it inserted.
///
/// Rows go in ordered by event id, so two transactions holding the same ids take their row locks
/// in the same order and cannot deadlock. An id that another open transaction has just inserted
/// makes this statement wait for that transaction, then skip the id if it committed.
pub async fn record_new(
    transaction: &tokio_postgres::Transaction<'_>,
    sources: &[EventSource<'_>],
) -> Result<HashSet<Uuid>, tokio_postgres::Error> {
    let event_ids: Vec<Uuid> = sources.iter().map(|s| s.event_id).collect();
    let topics: Vec<&str> = sources.iter().map(|s| s.topic).collect();
    let partitions: Vec<i32> = sources.iter().map(|s| s.partition).collect();
    let offsets: Vec<i64> = sources.iter().map(|s| s.offset).collect();

    let rows = transaction
        .query(
            "INSERT INTO processed_events (event_id, topic, \"partition\", \"offset\")
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::int8[])
             ORDER BY 1
             ON CONFLICT (event_id) DO NOTHING
             RETURNING event_id",
            &[&event_ids, &topics, &partitions, &offsets],
        )
        .await?;

    Ok(rows.iter().map(|row| row.get(0)).collect())
}
