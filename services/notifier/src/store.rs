//! The `notifications` table: one row per (key, channel), the record that makes sending once.

use std::collections::{HashMap, HashSet};

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

/// Claims every notification of a batch: inserts the new ones as pending and returns, in the
/// order of `notifications`, what to do with each.
pub async fn claim_all(client: &tokio_postgres::Client, notifications: &[&Notification]) -> Result<Vec<Claim>, tokio_postgres::Error> {
    let keys: Vec<String> = notifications.iter().map(|n| n.key.to_string()).collect();
    let channels: Vec<&str> = notifications.iter().map(|n| n.channel.as_label()).collect();
    let kinds: Vec<&str> = notifications.iter().map(|n| n.kind.as_label()).collect();
    let recipients: Vec<&str> = notifications.iter().map(|n| n.recipient.as_str()).collect();
    let inserted: HashSet<(String, String)> = client
        .query(
            "INSERT INTO notifications (notification_key, channel, kind, recipient, status)
             SELECT k, c, t, r, 'pending' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(k, c, t, r)
             ORDER BY k, c
             ON CONFLICT (notification_key, channel) DO NOTHING
             RETURNING notification_key, channel",
            &[&keys, &channels, &kinds, &recipients],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let statuses: HashMap<(String, String), String> = client
        .query(
            "SELECT n.notification_key, n.channel, n.status FROM notifications n
             JOIN unnest($1::text[], $2::text[]) AS u(k, c) ON n.notification_key = u.k AND n.channel = u.c",
            &[&keys, &channels],
        )
        .await?
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();

    Ok(keys
        .into_iter()
        .zip(channels)
        .map(|(key, channel)| {
            let id = (key, channel.to_owned());
            if inserted.contains(&id) {
                Claim::New
            } else if statuses.get(&id).map(String::as_str) == Some("pending") {
                Claim::Unfinished
            } else {
                Claim::Finished
            }
        })
        .collect())
}

/// The result of one sent notification, for [`finish_all`].
pub struct Finished<'a> {
    pub notification: &'a Notification,
    pub attempts: i32,
    /// The permanent error when the receiver rejected it; `None` when it was sent.
    pub error: Option<String>,
}

/// Records the results of a batch in one statement.
pub async fn finish_all(client: &tokio_postgres::Client, results: &[Finished<'_>]) -> Result<(), tokio_postgres::Error> {
    let keys: Vec<String> = results.iter().map(|r| r.notification.key.to_string()).collect();
    let channels: Vec<&str> = results.iter().map(|r| r.notification.channel.as_label()).collect();
    let statuses: Vec<&str> = results.iter().map(|r| if r.error.is_some() { "failed" } else { "sent" }).collect();
    let attempts: Vec<i32> = results.iter().map(|r| r.attempts).collect();
    let errors: Vec<Option<&str>> = results.iter().map(|r| r.error.as_deref()).collect();
    client
        .execute(
            "UPDATE notifications n
             SET status = u.s, attempts = n.attempts + u.a, last_error = u.e, finished_at = now()
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::text[]) AS u(k, c, s, a, e)
             WHERE n.notification_key = u.k AND n.channel = u.c",
            &[&keys, &channels, &statuses, &attempts, &errors],
        )
        .await?;
    Ok(())
}
