//! The outbox table: events written with the order, published afterwards by the relay.

use uuid::Uuid;

/// One event waiting in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub event_id: Uuid,
    pub topic: String,
    pub message_key: String,
    pub payload: String,
}

/// Inserts events into the outbox inside the caller's transaction; an event id that is already
/// there is skipped.
pub async fn insert(
    transaction: &tokio_postgres::Transaction<'_>,
    topic: &str,
    events: &[(Uuid, String, String)],
) -> Result<(), tokio_postgres::Error> {
    let event_ids: Vec<Uuid> = events.iter().map(|(id, _, _)| *id).collect();
    let keys: Vec<&str> = events.iter().map(|(_, key, _)| key.as_str()).collect();
    let payloads: Vec<&str> = events.iter().map(|(_, _, payload)| payload.as_str()).collect();
    transaction
        .execute(
            "INSERT INTO outbox (event_id, topic, message_key, payload)
             SELECT e.event_id, $1, e.message_key, e.payload
             FROM unnest($2::uuid[], $3::text[], $4::text[]) AS e(event_id, message_key, payload)
             ORDER BY e.event_id
             ON CONFLICT (event_id) DO NOTHING",
            &[&topic, &event_ids, &keys, &payloads],
        )
        .await?;
    Ok(())
}

/// Locks up to `limit` unpublished entries, oldest first, skipping those another relay holds.
pub async fn claim_pending(transaction: &tokio_postgres::Transaction<'_>, limit: i64) -> Result<Vec<OutboxEntry>, tokio_postgres::Error> {
    let rows = transaction
        .query(
            "SELECT id, event_id, topic, message_key, payload FROM outbox
             WHERE published_at IS NULL
             ORDER BY id
             LIMIT $1
             FOR UPDATE SKIP LOCKED",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| OutboxEntry {
            id: row.get(0),
            event_id: row.get(1),
            topic: row.get(2),
            message_key: row.get(3),
            payload: row.get(4),
        })
        .collect())
}

pub async fn mark_published(transaction: &tokio_postgres::Transaction<'_>, ids: &[i64]) -> Result<(), tokio_postgres::Error> {
    transaction
        .execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1)", &[&ids])
        .await?;
    Ok(())
}

/// Deletes entries published more than `retention_secs` seconds ago and returns how many.
pub async fn prune_published(client: &tokio_postgres::Client, retention_secs: i64) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1::float8)",
            &[&(retention_secs as f64)],
        )
        .await
}

pub async fn count_pending(client: &tokio_postgres::Client) -> Result<i64, tokio_postgres::Error> {
    Ok(client
        .query_one("SELECT count(*) FROM outbox WHERE published_at IS NULL", &[])
        .await?
        .get(0))
}
