//! Per-client token bucket. It runs after authentication and before the idempotency layer, as
//! Stripe's API does, so that retries of one key count against the client's budget too.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};

use super::auth::ClientId;
use crate::problem::Problem;
use crate::state::AppState;

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client_id = request.extensions().get::<ClientId>().map(|client| client.0.clone()).unwrap_or_default();
    match state.limiter.check_key(&client_id) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            state.metrics.rate_limited.inc();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::new(StatusCode::TOO_MANY_REQUESTS, format!("rate limit of client {client_id} exceeded; retry in {seconds} s"))
                .with_retry_after(seconds.max(1))
                .into_response()
        }
    }
}
