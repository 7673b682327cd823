//! API-key authentication: `Authorization: Bearer of.<client id>.<secret>`.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use orderflow::database::api_clients::{self, KeyRejection};

use crate::problem::Problem;
use crate::state::AppState;

/// The authenticated client, placed in the request's extensions.
#[derive(Debug, Clone)]
pub struct ClientId(pub String);

pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return unauthorized("the Authorization header is missing; send Authorization: Bearer <API key>");
    };
    let Some(api_key) = value.to_str().ok().and_then(|text| text.strip_prefix("Bearer ")) else {
        return unauthorized("the Authorization header is not of the form Bearer <API key>");
    };

    let client = match state.pool.get().await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "failed to get a database connection to check an API key");
            return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; retry later").into_response();
        }
    };
    let outcome = api_clients::authenticate(&client, api_key.trim()).await;
    // The connection goes back to the pool before the handler runs, which needs one of its own:
    // holding both would let concurrent requests exhaust the pool and wait on each other.
    drop(client);
    match outcome {
        Ok(Ok(client_id)) => {
            request.extensions_mut().insert(ClientId(client_id));
            next.run(request).await
        }
        Ok(Err(KeyRejection::Revoked)) => unauthorized("the API key was revoked; ask for a new one"),
        Ok(Err(_)) => unauthorized("the API key is not valid"),
        Err(error) => {
            tracing::error!(%error, "failed to check an API key");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; retry later").into_response()
        }
    }
}

fn unauthorized(detail: &str) -> Response {
    let mut response = Problem::new(StatusCode::UNAUTHORIZED, detail).with_field("Authorization").into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}
