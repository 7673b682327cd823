//! A webhook receiver on loopback that records every request, for notifier tests.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub idempotency_key: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Clone, Default)]
struct Recorded {
    requests: Arc<Mutex<Vec<WebhookRequest>>>,
}

/// Accepts every POST with 200 and keeps it; stops when dropped with the test's runtime.
pub struct WebhookReceiver {
    pub url: String,
    recorded: Recorded,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind webhook receiver");
        let address = listener.local_addr().expect("address");
        let recorded = Recorded::default();
        let app = Router::new().route("/notifications", post(receive)).with_state(recorded.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("webhook receiver") });
        Self { url: format!("http://{address}/notifications"), recorded }
    }

    pub fn requests(&self) -> Vec<WebhookRequest> {
        self.recorded.requests.lock().expect("lock").clone()
    }
}

async fn receive(State(recorded): State<Recorded>, headers: HeaderMap, body: String) -> StatusCode {
    let request = WebhookRequest {
        idempotency_key: headers.get("idempotency-key").and_then(|value| value.to_str().ok()).map(str::to_owned),
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    };
    recorded.requests.lock().expect("lock").push(request);
    StatusCode::OK
}
