use std::collections::HashSet;
use std::time::Duration;

use orderflow_tests::{cases_dir, RunningService, TestContext};
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn order_body(n: u32) -> Value {
    json!({
        "customer": {"id": format!("cus_{n}"), "email": format!("c{n}@example.com"), "name": format!("Customer {n}")},
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price_minor": 150}],
        "currency": "EUR",
        "total_minor": 300
    })
}

struct Api {
    http: reqwest::Client,
    base: String,
    service: RunningService,
}

impl Api {
    async fn start(context: &TestContext, label: &str, extra_args: &[&str]) -> Self {
        let mut service = context.spawn_api(label, extra_args);
        service.wait_ready().await;
        Self { http: reqwest::Client::new(), base: format!("http://127.0.0.1:{}", service.metrics_port), service }
    }

    async fn post(&self, api_key: &str, key: Option<&str>, body: &str) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/orders", self.base))
            .header(AUTHORIZATION, format!("Bearer {api_key}"))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("request")
    }

    async fn get(&self, api_key: &str, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).header(AUTHORIZATION, format!("Bearer {api_key}")).send().await.expect("request")
    }
}

/// Asserts a problem+json response with `status` that names `field`.
async fn assert_problem(response: reqwest::Response, status: StatusCode, field: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("problem JSON");
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(problem["field"], field, "{problem}");
    problem
}

fn published(context: &TestContext) -> usize {
    context.read_records(&context.topic).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_is_400() {
    let context = TestContext::new("api_no_key", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    let response = api.post(&key, None, &order_body(1).to_string()).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "Idempotency-Key").await;
    assert_eq!(published(&context), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_key_is_400() {
    let context = TestContext::new("api_bad_key", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    for bad in ["x".repeat(256), "tab\there".to_owned()] {
        let response = api.post(&key, Some(&bad), &order_body(1).to_string()).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "Idempotency-Key").await;
    }
    assert_eq!(published(&context), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_same_payload_replays() {
    let context = TestContext::new("api_replay", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    let body = order_body(1).to_string();

    let first = api.post(&key, Some("k-1"), &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first_body = first.text().await.unwrap();

    // The same JSON with other spacing and key order is the same payload.
    let reordered = json!({"total_minor": 300, "currency": "EUR", "lines": order_body(1)["lines"], "customer": order_body(1)["customer"]});
    let second = api.post(&key, Some("k-1"), &reordered.to_string()).await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.headers()["Idempotent-Replayed"], "true");
    assert_eq!(second.headers()["location"].to_str().unwrap(), location);
    assert_eq!(second.text().await.unwrap(), first_body);
    assert_eq!(published(&context), 1, "a replay publishes nothing");
    assert_eq!(api.service.metric("orderflow_api_idempotent_replays_total").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_other_payload_is_422() {
    let context = TestContext::new("api_mismatch", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    assert_eq!(api.post(&key, Some("k-1"), &order_body(1).to_string()).await.status(), StatusCode::ACCEPTED);
    let response = api.post(&key, Some("k-1"), &order_body(2).to_string()).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key").await;
    assert_eq!(published(&context), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_body_is_not_stored() {
    let context = TestContext::new("api_invalid", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    let mut wrong = order_body(1);
    wrong["total_minor"] = json!(299);
    let problem = assert_problem(api.post(&key, Some("k-1"), &wrong.to_string()).await, StatusCode::BAD_REQUEST, "total_minor").await;
    assert!(problem["detail"].as_str().unwrap().contains("299"), "{problem}");

    // The corrected request may reuse the key.
    assert_eq!(api.post(&key, Some("k-1"), &order_body(1).to_string()).await.status(), StatusCode::ACCEPTED);
    assert_eq!(published(&context), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_limits_answer_problems() {
    let context = TestContext::new("api_gateway", 1).await;
    let api = Api::start(&context, "api", &["--max-body-bytes", "2048", "--rate-limit-per-second", "1", "--rate-limit-burst", "2"]).await;
    let key = context.create_api_client("shop").await;

    let response = api
        .http
        .post(format!("{}/orders", api.base))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .header(CONTENT_TYPE, "text/plain")
        .header("Idempotency-Key", "k-1")
        .body(order_body(1).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type").await;

    let large = json!({"customer": {"id": "c", "email": "a@b", "name": "x".repeat(4000)}}).to_string();
    let response = api.post(&key, Some("k-2"), &large).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");

    // The burst of 2 is spent by now; the next request is limited.
    let response = api.post(&key, Some("k-3"), &order_body(3).to_string()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(api.service.metric("orderflow_api_rate_limited_total").await, 1.0);
    assert_eq!(published(&context), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_enforced() {
    let context = TestContext::new("api_auth", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let alice = context.create_api_client("alice").await;
    let bob = context.create_api_client("bob").await;
    let body = order_body(1).to_string();

    let response = api.http.post(format!("{}/orders", api.base)).header(CONTENT_TYPE, "application/json").body(body.clone()).send().await.unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "Authorization").await;
    // The same key with its last hex digit changed.
    let last = if alice.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &alice[..alice.len() - 1]);
    assert_ne!(wrong, alice);
    assert_problem(api.post(&wrong, Some("k"), &body).await, StatusCode::UNAUTHORIZED, "Authorization").await;

    // The same key from two clients is two requests.
    let from_alice = api.post(&alice, Some("k"), &body).await;
    assert_eq!(from_alice.status(), StatusCode::ACCEPTED);
    let location = from_alice.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(api.post(&bob, Some("k"), &body).await.status(), StatusCode::ACCEPTED);
    assert_eq!(published(&context), 2);

    // Bob cannot read Alice's order.
    assert_eq!(api.get(&alice, &location).await.status(), StatusCode::OK);
    assert_problem(api.get(&bob, &location).await, StatusCode::NOT_FOUND, "order_id").await;

    let client_id = alice.split('.').nth(1).unwrap();
    let output = context.orderctl().run(&["client", "revoke", client_id]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let problem = assert_problem(api.post(&alice, Some("k2"), &body).await, StatusCode::UNAUTHORIZED, "Authorization").await;
    assert!(problem["detail"].as_str().unwrap().contains("revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_readable_once_stored() {
    let context = TestContext::new("api_get", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let key = context.create_api_client("shop").await;
    let response = api.post(&key, Some("k-1"), &order_body(7).to_string()).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = api.get(&key, &location).await.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");

    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    let stored: Value = api.get(&key, &location).await.json().await.unwrap();
    assert_eq!(stored["status"], "stored");
    assert_eq!(stored["stored"]["customer_name"], "Customer 7");
    assert_eq!(stored["stored"]["lines"][0]["quantity"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_same_key_places_one_order() {
    let context = TestContext::new("api_concurrent", 3).await;
    let api = Api::start(&context, "api", &["--rate-limit-burst", "1000"]).await;
    let key = context.create_api_client("shop").await;
    let body = order_body(1).to_string();

    let requests = (0..100).map(|_| api.post(&key, Some("same"), &body));
    let responses = futures::future::join_all(requests).await;
    let mut firsts = 0;
    let mut bodies = HashSet::new();
    for response in responses {
        match response.status() {
            StatusCode::ACCEPTED => {
                if response.headers().get("Idempotent-Replayed").is_none() {
                    firsts += 1;
                }
                bodies.insert(response.text().await.unwrap());
            }
            StatusCode::CONFLICT => {}
            other => panic!("unexpected status {other}: {}", response.text().await.unwrap_or_default()),
        }
    }
    assert_eq!(firsts, 1, "exactly one request placed the order");
    assert_eq!(bodies.len(), 1, "every 202 carries the same body");

    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    assert_eq!(context.count("orders").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_at_each_step_places_one_order() {
    let context = TestContext::new("api_crash", 1).await;
    let key = context.create_api_client("shop").await;
    for (index, point) in ["after-claim", "after-publish", "after-store"].into_iter().enumerate() {
        let body = order_body(index as u32).to_string();
        let idempotency_key = format!("crash-{point}");
        let crashing = Api::start(&context, &format!("crash-{point}"), &["--crash-at", point, "--request-timeout-ms", "500"]).await;
        let failed = crashing
            .http
            .post(format!("{}/orders", crashing.base))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", &idempotency_key)
            .body(body.clone())
            .send()
            .await;
        assert!(failed.is_err(), "{point}: the API aborted, so the request got no answer");

        // The client retries against a restarted API once the dead request's lease ran out.
        let api = Api::start(&context, &format!("after-{point}"), &["--request-timeout-ms", "500"]).await;
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let retried = api.post(&key, Some(&idempotency_key), &body).await;
        assert_eq!(retried.status(), StatusCode::ACCEPTED, "{point}");
    }

    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    assert_eq!(context.count("orders").await, 3, "one order per key, whatever step crashed");
    assert!(published(&context) >= 4, "the crash after publishing made the retry publish again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_key_starts_over() {
    let context = TestContext::new("api_expiry", 1).await;
    let api = Api::start(&context, "api", &["--idempotency-ttl-secs", "1"]).await;
    let key = context.create_api_client("shop").await;
    assert_eq!(api.post(&key, Some("k"), &order_body(1).to_string()).await.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // After expiry the key is new again: another payload is a new order, not a 422.
    let second = api.post(&key, Some("k"), &order_body(2).to_string()).await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert!(second.headers().get("Idempotent-Replayed").is_none());

    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(60)).await;
    assert_eq!(context.count("orders").await, 2);
}

/// Returns a valid body with bytes flipped, dropped, inserted or cut off until it is no longer JSON.
fn broken_json(rng: &mut rand_chacha::ChaCha8Rng, valid: &[u8]) -> Vec<u8> {
    let mut body = valid.to_vec();
    loop {
        let position = rng.random_range(0..body.len().max(1));
        match rng.random_range(0..4) {
            0 if !body.is_empty() => body[position] = rng.random(),
            1 if body.len() > 1 => {
                body.remove(position);
            }
            2 => body.insert(position, rng.random()),
            _ => body.truncate(position.max(1)),
        }
        if serde_json::from_slice::<Value>(&body).is_err() {
            return body;
        }
    }
}

/// Valid JSON that breaks the order schema or one of its rules.
fn schema_violation(rng: &mut rand_chacha::ChaCha8Rng) -> Vec<u8> {
    let mut body = order_body(rng.random_range(0..1000));
    match rng.random_range(0..9) {
        0 => {
            body.as_object_mut().unwrap().remove(["customer", "lines", "currency", "total_minor"][rng.random_range(0..4)]);
        }
        1 => body["lines"][0]["quantity"] = json!("two"),
        2 => body["coupon"] = json!("FREE"),
        3 => body["lines"][0]["quantity"] = json!(0),
        4 => body["lines"][0]["unit_price_minor"] = json!(-rng.random_range(1..1000)),
        5 => body["total_minor"] = json!(rng.random_range(0..299)),
        6 => body["currency"] = json!("XXZ"),
        7 => body["customer"]["name"] = json!(format!("a{}b", char::from(rng.random_range(0..32u8)))),
        _ => return format!("{}{}", "[".repeat(rng.random_range(1..100_000)), "]").into_bytes(),
    }
    body.to_string().into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_malformed_requests_get_4xx() {
    let context = TestContext::new("api_fuzz", 1).await;
    let api = Api::start(&context, "api", &["--rate-limit-per-second", "100000", "--rate-limit-burst", "100000"]).await;
    let key = context.create_api_client("shop").await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let valid = order_body(1).to_string().into_bytes();


    for round in 0..10_000u32 {
        let body = if round % 3 == 0 { schema_violation(&mut rng) } else { broken_json(&mut rng, &valid) };
        let mut request = api.http.post(format!("{}/orders", api.base)).header(AUTHORIZATION, format!("Bearer {key}"));
        match rng.random_range(0..6) {
            0 => {}
            1 => request = request.header(CONTENT_TYPE, "application/xml"),
            _ => request = request.header(CONTENT_TYPE, "application/json"),
        }
        match rng.random_range(0..6) {
            0 => {}
            1 => request = request.header("Idempotency-Key", if round % 2 == 0 { "bad\tkey".to_owned() } else { "k".repeat(300) }),
            _ => request = request.header("Idempotency-Key", format!("fuzz-{round}")),
        }
        let response = request.body(body.clone()).send().await.expect("the API answers");
        let status = response.status();
        assert!(status.is_client_error(), "round {round}: {status} for {:?}", String::from_utf8_lossy(&body));
    }
    assert_eq!(published(&context), 0, "nothing malformed is published");
    assert!(api.service.metric("orderflow_api_requests_total{route=\"/orders\",status_class=\"5xx\"}").await == 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naughty_names_round_trip() {
    let text = std::fs::read_to_string(cases_dir().join("naughty-strings/blns.json")).expect("blns.json");
    let names: Vec<String> = serde_json::from_str(&text).expect("a JSON array of strings");
    let context = TestContext::new("api_naughty", 3).await;
    let api = Api::start(&context, "api", &["--rate-limit-burst", "10000"]).await;
    let key = context.create_api_client("shop").await;

    let mut accepted = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let mut body = order_body(index as u32);
        body["customer"]["name"] = json!(name);
        let response = api.post(&key, Some(&format!("naughty-{index}")), &body.to_string()).await;
        match response.status() {
            StatusCode::ACCEPTED => accepted.push((response.headers()["location"].to_str().unwrap().to_owned(), name)),
            StatusCode::BAD_REQUEST => {
                let problem: Value = response.json().await.unwrap();
                assert_eq!(problem["field"], "customer.name", "name {name:?}: {problem}");
            }
            other => panic!("name {name:?}: unexpected {other}"),
        }
    }
    assert!(accepted.len() > 490, "only {} names accepted", accepted.len());

    let _processor = context.spawn_processor("processor", &[]);
    context.wait_caught_up(&context.group, Duration::from_secs(120)).await;
    for (location, name) in accepted {
        let order: Value = api.get(&key, &location).await.json().await.unwrap();
        assert_eq!(order["stored"]["customer_name"].as_str().unwrap().as_bytes(), name.as_bytes(), "{location}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_current() {
    let kept = std::fs::read_to_string(orderflow_tests::workspace_root().join("docs/openapi.json")).expect("docs/openapi.json");
    let context = TestContext::new("api_openapi", 1).await;
    let api = Api::start(&context, "api", &[]).await;
    let served = api.http.get(format!("{}/openapi.json", api.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(served.trim(), kept.trim(), "regenerate docs/openapi.json with: order-api --print-openapi > docs/openapi.json");

    let document: Value = serde_json::from_str(&served).unwrap();
    for path in ["/orders", "/orders/{order_id}", "/healthz", "/readyz"] {
        assert!(document["paths"].get(path).is_some(), "{path} is missing from the document");
    }
    assert!(document["paths"]["/orders"]["post"]["responses"].get("409").is_some());
}
