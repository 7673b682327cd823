//! The OpenAPI document, generated from the handlers and types so that it cannot drift.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{health, orders};
use crate::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "orderflow order API", description = "Accepts orders with an Idempotency-Key and publishes them to Kafka."),
    paths(orders::post_order, orders::get_order, health::healthz, health::readyz),
    components(schemas(
        orders::OrderRequest,
        orders::CustomerRequest,
        orders::LineRequest,
        orders::AcceptedOrder,
        orders::OrderView,
        orders::StoredOrder,
        Problem
    )),
    modifiers(&BearerKey)
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An API key of the form of.<client id>.<secret>, from orderctl client create"))
            .build();
        components.add_security_scheme("api_key", SecurityScheme::Http(scheme));
    }
}

/// Returns the document as pretty JSON, as kept in `docs/openapi.json`.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

pub async fn serve_document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
