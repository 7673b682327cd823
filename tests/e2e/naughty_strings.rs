use std::collections::HashMap;
use std::time::Duration;

use orderflow::events::{confirmation_event_id, validate_order};
use orderflow_tests::{cases_dir, order_message, sample_order, TestContext, WebhookReceiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naughty_names_stored_or_dead_lettered() {
    let path = cases_dir().join("naughty-strings/blns.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let names: Vec<String> = serde_json::from_str(&text).expect("blns.json is a JSON array of strings");
    assert_eq!(names.len(), 515, "the naughty strings list changed");

    let context = TestContext::new("naughty", 3).await;
    let mut accepted = HashMap::new();
    let mut rejected = 0;
    let mut messages = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let mut order = sample_order(index as u128 + 1);
        order.customer.name = name.clone();
        if validate_order(&order).is_ok() {
            accepted.insert(order.order_id, (order.event_id, name.clone()));
        } else {
            rejected += 1;
        }
        messages.push(order_message(&order));
    }
    assert!(rejected > 0, "some names break the rules (control characters, blanks, over 200 characters)");
    assert!(rejected < 20, "{rejected} names rejected; expected only the few that break the rules");
    context.send_raw(&messages).await;

    let receiver = WebhookReceiver::start().await;
    let _processor = context.spawn_processor("processor", &[]);
    let _notifier = context.spawn_notifier("notifier", &["--sink", "webhook", "--webhook-url", &receiver.url]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;
    context.wait_caught_up_on(&context.events_topic(), &context.notifier_group(), Duration::from_secs(120)).await;
    context.wait_caught_up_on(&context.dead_letter_topic(), &context.notifier_group(), Duration::from_secs(120)).await;

    // Stored byte for byte.
    let rows = context.client.query("SELECT order_id, customer_name FROM orders", &[]).await.unwrap();
    assert_eq!(rows.len(), accepted.len());
    for row in &rows {
        let order_id: uuid::Uuid = row.get(0);
        let stored: String = row.get(1);
        assert_eq!(stored.as_bytes(), accepted[&order_id].1.as_bytes(), "order {order_id}");
    }

    // Dead-lettered with a reason where the rules forbid the name.
    let letters = context.read_records(&context.dead_letter_topic());
    assert_eq!(letters.len(), rejected);
    for letter in &letters {
        assert_eq!(letter.header_text("orderflow_dlt-reason"), "invalid_order");
        assert!(letter.header_text("kafka_dlt-exception-message").contains("customer.name"));
    }

    // Notified byte for byte: the confirmation carries the name exactly as stored.
    let names_by_key: HashMap<String, &String> =
        accepted.values().map(|(event_id, name)| (confirmation_event_id(*event_id).to_string(), name)).collect();
    let confirmations: Vec<_> = receiver.requests().into_iter().filter(|r| r.body["kind"] == "order_confirmed").collect();
    assert_eq!(confirmations.len(), accepted.len());
    for request in confirmations {
        let key = request.idempotency_key.expect("Idempotency-Key header");
        let sent = request.body["details"]["customer_name"].as_str().expect("customer_name");
        assert_eq!(sent.as_bytes(), names_by_key[&key].as_bytes(), "notification {key}");
    }
}
