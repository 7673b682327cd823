//! API clients and their keys. A key is `of.<client id>.<secret>`; only the SHA-256 hash of the
//! secret is stored, and keys are compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of every API key, so that a leaked key is recognisable in logs and scanners.
pub const KEY_PREFIX: &str = "of";

/// A new client's id and its full key, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    pub api_key: String,
}

/// The reason a presented key does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    Malformed,
    Unknown,
    Revoked,
}

/// Creates a client named `name` and returns its key.
pub async fn create(client: &tokio_postgres::Client, name: &str) -> Result<NewClient, tokio_postgres::Error> {
    let mut random = [0u8; 38];
    rand::rng().fill_bytes(&mut random);
    let client_id = format!("c{}", hex(&random[..6]));
    let secret = hex(&random[6..]);
    client
        .execute(
            "INSERT INTO api_clients (client_id, name, key_hash) VALUES ($1, $2, $3)",
            &[&client_id, &name, &hash(&secret)],
        )
        .await?;
    Ok(NewClient { api_key: format!("{KEY_PREFIX}.{client_id}.{secret}"), client_id })
}

/// Revokes a client's key; returns false when no active client has that id.
pub async fn revoke(client: &tokio_postgres::Client, client_id: &str) -> Result<bool, tokio_postgres::Error> {
    let updated = client
        .execute("UPDATE api_clients SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL", &[&client_id])
        .await?;
    Ok(updated == 1)
}

/// Returns the client id that `api_key` belongs to, or why it does not authenticate.
pub async fn authenticate(client: &tokio_postgres::Client, api_key: &str) -> Result<Result<String, KeyRejection>, tokio_postgres::Error> {
    let mut parts = api_key.splitn(3, '.');
    let (Some(KEY_PREFIX), Some(client_id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(Err(KeyRejection::Malformed));
    };
    let row = client
        .query_opt("SELECT key_hash, revoked_at IS NOT NULL FROM api_clients WHERE client_id = $1", &[&client_id])
        .await?;
    let Some(row) = row else { return Ok(Err(KeyRejection::Unknown)) };
    let stored: Vec<u8> = row.get(0);
    let revoked: bool = row.get(1);
    if !bool::from(stored.as_slice().ct_eq(hash(secret).as_slice())) {
        return Ok(Err(KeyRejection::Unknown));
    }
    if revoked {
        return Ok(Err(KeyRejection::Revoked));
    }
    Ok(Ok(client_id.to_owned()))
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
