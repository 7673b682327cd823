//! `POST /orders` and `GET /orders/{order_id}`.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use orderflow::events::{validate_order, Customer, OrderLine, OrderPlaced, ORDER_PLACED_TYPE, ORDER_PLACED_VERSION};
use rdkafka::producer::FutureRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::idempotency::persistence::{self, Claim, StoredResponse};
use crate::idempotency::{fingerprint, IdempotencyKey, HEADER};
use crate::middleware::auth::ClientId;
use crate::problem::Problem;
use crate::settings::CrashPoint;
use crate::state::AppState;

/// Header that marks a response replayed for a repeated Idempotency-Key.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// Time the broker may take to acknowledge an event before the request fails with 503.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Namespaces of the name-based UUIDs that make event and order ids follow from (client, key).
const EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_772d_6170_6965_0001);
const ORDER_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_772d_6170_696f_0001);

/// An order as a client sends it; the API adds the ids and the time.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub customer: CustomerRequest,
    pub lines: Vec<LineRequest>,
    /// ISO 4217 alphabetic code, such as `EUR`.
    pub currency: String,
    /// Sum of `quantity * unit_price_minor` over the lines, in minor units.
    pub total_minor: i64,
    #[serde(default)]
    pub delivery_note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerRequest {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
}

/// The response to an accepted order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedOrder {
    pub order_id: Uuid,
    pub event_id: Uuid,
    /// Always `accepted`: the event is on Kafka, the order is stored shortly after.
    pub status: String,
}

/// An order as `GET /orders/{order_id}` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub order_id: Uuid,
    /// `accepted` until the processor has stored the order, then `stored`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredOrder>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredOrder {
    pub customer_id: String,
    pub customer_email: String,
    pub customer_name: String,
    pub delivery_note: Option<String>,
    pub currency: String,
    pub total_minor: i64,
    pub placed_at: DateTime<Utc>,
    pub lines: Vec<LineRequest>,
}

/// Accepts an order and publishes its `OrderPlaced` event.
#[utoipa::path(
    post,
    path = "/orders",
    request_body(content = OrderRequest, content_type = "application/json"),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters, unique per order and client")),
    responses(
        (status = 202, description = "Accepted and published; Location names the order", body = AcceptedOrder),
        (status = 400, description = "Invalid body or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, wrong or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same key is still being processed; retry later", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key was used with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Kafka or PostgreSQL unavailable; retry with the same key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn post_order(
    State(state): State<AppState>,
    Extension(ClientId(client_id)): Extension<ClientId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match place_order(&state, &client_id, &headers, body).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

async fn place_order(state: &AppState, client_id: &str, headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Response, Problem> {
    check_content_type(headers)?;
    let body = body.map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
    let key = idempotency_key(headers)?;
    let (value, request) = parse_order(&body)?;
    // Validated before the key is claimed, so that a corrected request may reuse the key.
    order_event(request.clone(), client_id, &key, 0)?;

    let client = state.pool.get().await.map_err(|error| unavailable("database", &error))?;
    let claim = persistence::claim(&client, client_id, &key, &fingerprint(&value), state.idempotency_lease, state.idempotency_ttl)
        .await
        .map_err(|error| unavailable("database", &error))?;
    let epoch_micros = match claim {
        Claim::Acquired { epoch_micros } => epoch_micros,
        Claim::Replay(stored) => {
            state.metrics.replays.inc();
            return Ok(replay(&stored));
        }
        Claim::InFlight => {
            state.metrics.in_flight_conflicts.inc();
            let problem = Problem::new(StatusCode::CONFLICT, format!("a request with {HEADER} {key} is still being processed; retry it shortly"));
            return Err(problem.with_field(HEADER).with_retry_after(1));
        }
        Claim::Mismatch => {
            state.metrics.payload_mismatches.inc();
            let problem = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{HEADER} {key} was already used with a different body; use a new key for a new order"),
            );
            return Err(problem.with_field(HEADER));
        }
    };
    let event = order_event(request, client_id, &key, epoch_micros)?;
    state.crash_if(CrashPoint::AfterClaim);

    if let Err(problem) = publish(state, &event).await {
        if let Err(error) = persistence::release(&client, client_id, &key).await {
            tracing::warn!(%error, "failed to release an idempotency key; its retries wait for the lease");
        }
        return Err(problem);
    }
    state.crash_if(CrashPoint::AfterPublish);

    let response = accepted_response(&event);
    record_acceptance(&client, client_id, &key, &event, &response).await;
    state.crash_if(CrashPoint::AfterStore);
    Ok(replay_headers(&response, false))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Content-Type is {content_type:?}; send the order as application/json"),
    )
    .with_field("Content-Type"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, Problem> {
    let Some(value) = headers.get(HEADER) else {
        return Err(Problem::new(StatusCode::BAD_REQUEST, format!("the {HEADER} header is missing; send a unique key per order, such as a UUID"))
            .with_field(HEADER));
    };
    IdempotencyKey::parse(value.as_bytes()).map_err(|detail| Problem::new(StatusCode::BAD_REQUEST, detail).with_field(HEADER))
}

/// Parses the body as JSON and as an order.
fn parse_order(body: &[u8]) -> Result<(serde_json::Value, OrderRequest), Problem> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| Problem::new(StatusCode::BAD_REQUEST, format!("the body is not valid JSON: {error}")))?;
    let request: OrderRequest = serde_json::from_value(value.clone())
        .map_err(|error| Problem::new(StatusCode::BAD_REQUEST, format!("the body is not a valid order: {error}")))?;
    Ok((value, request))
}

/// Builds and validates the event. Its ids follow from (client, key, key epoch), so every retry
/// of a request publishes the same event id and the processor applies it once.
fn order_event(request: OrderRequest, client_id: &str, key: &IdempotencyKey, epoch_micros: i64) -> Result<OrderPlaced, Problem> {
    let event_id = Uuid::new_v5(&EVENT_NAMESPACE, format!("{client_id}\n{key}\n{epoch_micros}").as_bytes());
    let event = OrderPlaced {
        event_type: ORDER_PLACED_TYPE.to_owned(),
        version: ORDER_PLACED_VERSION,
        event_id,
        order_id: Uuid::new_v5(&ORDER_NAMESPACE, event_id.as_bytes()),
        customer: Customer { id: request.customer.id, email: request.customer.email, name: request.customer.name },
        lines: request
            .lines
            .into_iter()
            .map(|line| OrderLine { sku: line.sku, quantity: line.quantity, unit_price_minor: line.unit_price_minor })
            .collect(),
        currency: request.currency,
        total_minor: request.total_minor,
        placed_at: Utc::now(),
        delivery_note: request.delivery_note,
    };
    validate_order(&event).map_err(|rejection| {
        let field = rejection.detail.split_whitespace().next().unwrap_or("").to_owned();
        Problem::new(StatusCode::BAD_REQUEST, rejection.detail).with_field(field)
    })?;
    Ok(event)
}

async fn publish(state: &AppState, event: &OrderPlaced) -> Result<(), Problem> {
    let key = event.order_id.to_string();
    let payload = serde_json::to_vec(event).expect("an order always serializes");
    let record = FutureRecord::to(&state.topic).key(&key).payload(&payload);
    let started = Instant::now();
    let result = state.producer.send(record, PUBLISH_TIMEOUT).await;
    state.metrics.publish_duration.observe(started.elapsed().as_secs_f64());
    result.map(|_| ()).map_err(|(error, _)| {
        tracing::error!(%error, event_id = %event.event_id, "failed to publish an order");
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Kafka did not acknowledge the order; retry with the same Idempotency-Key")
    })
}

fn accepted_response(event: &OrderPlaced) -> StoredResponse {
    let body = AcceptedOrder { order_id: event.order_id, event_id: event.event_id, status: "accepted".to_owned() };
    StoredResponse {
        status: StatusCode::ACCEPTED.as_u16(),
        body: serde_json::to_string(&body).expect("a response always serializes"),
        location: Some(format!("/orders/{}", event.order_id)),
    }
}

/// Records who placed the order and stores the response for replays. A failure here is only
/// logged: the event is published, and a retry after the lease republishes the same event id.
async fn record_acceptance(client: &tokio_postgres::Client, client_id: &str, key: &IdempotencyKey, event: &OrderPlaced, response: &StoredResponse) {
    let owner = client
        .execute(
            "INSERT INTO api_orders (order_id, client_id) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING",
            &[&event.order_id, &client_id],
        )
        .await;
    if let Err(error) = owner {
        tracing::error!(%error, order_id = %event.order_id, "failed to record the order's client");
    }
    if let Err(error) = persistence::complete(client, client_id, key, response).await {
        tracing::error!(%error, order_id = %event.order_id, "failed to store the response of an idempotency key");
    }
}

fn replay(stored: &StoredResponse) -> Response {
    replay_headers(stored, true)
}

/// Builds the response from its stored form, so that a replay is byte for byte the first one.
fn replay_headers(stored: &StoredResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, stored.body.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(location) = stored.location.as_deref().and_then(|location| HeaderValue::from_str(location).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

fn unavailable(what: &str, error: &dyn std::fmt::Display) -> Problem {
    tracing::error!(%error, "{what} unavailable");
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, format!("the {what} is unavailable; retry with the same Idempotency-Key"))
}

/// Returns an order of the authenticated client.
#[utoipa::path(
    get,
    path = "/orders/{order_id}",
    params(("order_id" = Uuid, Path, description = "The order id from the Location of the 202 response")),
    responses(
        (status = 200, description = "The order: accepted, or stored by the processor", body = OrderView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, wrong or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get_order(State(state): State<AppState>, Extension(ClientId(client_id)): Extension<ClientId>, Path(order_id): Path<String>) -> Response {
    match read_order(&state, &client_id, &order_id).await {
        Ok(view) => (StatusCode::OK, axum::Json(view)).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn read_order(state: &AppState, client_id: &str, order_id: &str) -> Result<OrderView, Problem> {
    let order_id: Uuid = order_id
        .parse()
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, format!("order id {order_id:?} is not a UUID")).with_field("order_id"))?;
    let client = state.pool.get().await.map_err(|error| unavailable("database", &error))?;
    let owner = client
        .query_opt("SELECT client_id FROM api_orders WHERE order_id = $1", &[&order_id])
        .await
        .map_err(|error| unavailable("database", &error))?;
    // Another client's order is reported as missing, so ids cannot be probed.
    if owner.map(|row| row.get::<_, String>(0)).as_deref() != Some(client_id) {
        return Err(Problem::new(StatusCode::NOT_FOUND, format!("no order {order_id} for this client")).with_field("order_id"));
    }

    let row = client
        .query_opt(
            "SELECT customer_id, customer_email, customer_name, delivery_note, currency::text, total_minor, placed_at
             FROM orders WHERE order_id = $1",
            &[&order_id],
        )
        .await
        .map_err(|error| unavailable("database", &error))?;
    let Some(row) = row else {
        return Ok(OrderView { order_id, status: "accepted".to_owned(), stored: None });
    };
    let lines = client
        .query("SELECT sku, quantity, unit_price_minor FROM order_lines WHERE order_id = $1 ORDER BY line_number", &[&order_id])
        .await
        .map_err(|error| unavailable("database", &error))?
        .iter()
        .map(|line| LineRequest { sku: line.get(0), quantity: line.get(1), unit_price_minor: line.get(2) })
        .collect();
    let stored = StoredOrder {
        customer_id: row.get(0),
        customer_email: row.get(1),
        customer_name: row.get(2),
        delivery_note: row.get(3),
        currency: row.get(4),
        total_minor: row.get(5),
        placed_at: row.get(6),
        lines,
    };
    Ok(OrderView { order_id, status: "stored".to_owned(), stored: Some(stored) })
}
