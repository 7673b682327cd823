//! The `notifications` table: one row per (key, channel), the record that makes sending once.

use crate::notification::Notification;

/// The state of a notification in the table before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen: send it.
    New,
    /// Seen before but never recorded as finished, so an earlier send may or may not have
    /// happened: send it again, with the same idempotency key.
    Unfinished,
    /// Already sent or failed for good: send nothing.
    Finished,
}

/// Inserts the notification as pending unless a row exists, and returns what to do.
pub async fn claim(client: &tokio_postgres::Client, notification: &Notification) -> Result<Claim, tokio_postgres::Error> {
    let key = notification.key.to_string();
    let inserted = client
        .execute(
            "INSERT INTO notifications (notification_key, channel, kind, recipient, status)
             VALUES ($1, $2, $3, $4, 'pending')
             ON CONFLICT (notification_key, channel) DO NOTHING",
            &[&key, &notification.channel.as_label(), &notification.kind.as_label(), &notification.recipient],
        )
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let status: String = client
        .query_one(
            "SELECT status FROM notifications WHERE notification_key = $1 AND channel = $2",
            &[&key, &notification.channel.as_label()],
        )
        .await?
        .get(0);
    Ok(if status == "pending" { Claim::Unfinished } else { Claim::Finished })
}

/// Records the end of a notification: `sent`, or `failed` with the permanent error.
pub async fn finish(
    client: &tokio_postgres::Client,
    notification: &Notification,
    attempts: i32,
    error: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let status = if error.is_some() { "failed" } else { "sent" };
    client
        .execute(
            "UPDATE notifications
             SET status = $3, attempts = attempts + $4, last_error = $5, finished_at = now()
             WHERE notification_key = $1 AND channel = $2",
            &[&notification.key.to_string(), &notification.channel.as_label(), &status, &attempts, &error],
        )
        .await?;
    Ok(())
}
