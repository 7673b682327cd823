//! Bounds the time of every request, and counts requests by route and status class.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use crate::state::AppState;

pub async fn bound_and_count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned());
    let response = match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} ms; retry it with the same Idempotency-Key", state.request_timeout.as_millis()),
        )
        .into_response(),
    };
    if let Some(route) = route.filter(|route| route.starts_with("/orders")) {
        let class = format!("{}xx", response.status().as_u16() / 100);
        state.metrics.requests.with_label_values(&[&route, &class]).inc();
    }
    response
}
