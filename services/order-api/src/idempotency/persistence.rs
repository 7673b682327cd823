//! The `idempotency_keys` table: claiming a key, storing its response, releasing it.

use std::time::Duration;

use super::key::IdempotencyKey;

/// The outcome of claiming a key for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key: process it, then store or release. The epoch (microseconds
    /// since 1970 when the key was first claimed) stays the same for every retry until the key
    /// expires, so the event id derived from it does too.
    Acquired { epoch_micros: i64 },
    /// A request with the same key and payload completed: replay its response.
    Replay(StoredResponse),
    /// A request with the same key is still being processed.
    InFlight,
    /// The key was used with a different payload.
    Mismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// Claims `key` for a request with `fingerprint`. A new key, an expired one, or an in-flight one
/// whose lease ran out (its request died) with the same payload is taken over. The lease bounds
/// how long a crashed request blocks its retries; taking over keeps the key's epoch, while an
/// expired key starts a new one.
pub async fn claim(
    client: &tokio_postgres::Client,
    client_id: &str,
    key: &IdempotencyKey,
    fingerprint: &[u8],
    lease: Duration,
    ttl: Duration,
) -> Result<Claim, tokio_postgres::Error> {
    let lease_secs = lease.as_secs_f64();
    let ttl_secs = ttl.as_secs_f64();
    let acquired = client
        .query_opt(
            "INSERT INTO idempotency_keys (client_id, idempotency_key, fingerprint, state, lease_until, expires_at)
             VALUES ($1, $2, $3, 'in_flight', now() + make_interval(secs => $4), now() + make_interval(secs => $5))
             ON CONFLICT (client_id, idempotency_key) DO UPDATE
                SET fingerprint = EXCLUDED.fingerprint, state = 'in_flight', lease_until = EXCLUDED.lease_until,
                    expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, location = NULL,
                    created_at = CASE WHEN idempotency_keys.expires_at < now() THEN now() ELSE idempotency_keys.created_at END
                WHERE idempotency_keys.expires_at < now()
                   OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.lease_until < now()
                       AND idempotency_keys.fingerprint = EXCLUDED.fingerprint)
             RETURNING (extract(epoch FROM created_at) * 1000000)::bigint",
            &[&client_id, &key.as_str(), &fingerprint, &lease_secs, &ttl_secs],
        )
        .await?;
    if let Some(row) = acquired {
        return Ok(Claim::Acquired { epoch_micros: row.get(0) });
    }

    let row = client
        .query_one(
            "SELECT fingerprint, state, response_status, response_body, location
             FROM idempotency_keys WHERE client_id = $1 AND idempotency_key = $2",
            &[&client_id, &key.as_str()],
        )
        .await?;
    let stored_fingerprint: Vec<u8> = row.get(0);
    if stored_fingerprint != fingerprint {
        return Ok(Claim::Mismatch);
    }
    let state: String = row.get(1);
    if state == "in_flight" {
        return Ok(Claim::InFlight);
    }
    let status: i32 = row.get(2);
    Ok(Claim::Replay(StoredResponse {
        status: u16::try_from(status).unwrap_or(500),
        body: row.get(3),
        location: row.get(4),
    }))
}

/// Stores the response of a claimed key, so that retries replay it.
pub async fn complete(
    client: &tokio_postgres::Client,
    client_id: &str,
    key: &IdempotencyKey,
    response: &StoredResponse,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE idempotency_keys SET state = 'completed', response_status = $3, response_body = $4, location = $5
             WHERE client_id = $1 AND idempotency_key = $2",
            &[&client_id, &key.as_str(), &i32::from(response.status), &response.body, &response.location],
        )
        .await?;
    Ok(())
}

/// Releases a claimed key whose request failed before anything was stored, so a retry may try
/// again at once.
pub async fn release(client: &tokio_postgres::Client, client_id: &str, key: &IdempotencyKey) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM idempotency_keys WHERE client_id = $1 AND idempotency_key = $2 AND state = 'in_flight'",
            &[&client_id, &key.as_str()],
        )
        .await?;
    Ok(())
}

/// Deletes expired keys and returns how many.
pub async fn purge_expired(client: &tokio_postgres::Client) -> Result<u64, tokio_postgres::Error> {
    client.execute("DELETE FROM idempotency_keys WHERE expires_at < now()", &[]).await
}
